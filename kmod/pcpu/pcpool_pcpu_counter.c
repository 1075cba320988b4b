// SPDX-License-Identifier: GPL-2.0
/*
 * pcpool dual-mode per-CPU counter, on top of the per-CPU cache.
 *
 * Creating a per-CPU counter the usual way (percpu_counter_init())
 * allocates per-CPU memory, zeroes it on every possible CPU and puts the
 * counter on a global list for hotplug, and reading it sums every online
 * CPU, even for a task that only ever ran on one.  This one is a single
 * word that its first CPU adds to unlocked until a second CPU updates it;
 * only then does it take per-CPU storage from a cache, and it initializes
 * and reads only the parts of CPUs that updated it.  See pcpool_pcpu.h for the exactness
 * argument.
 */
#include "pcpool_pcpu.h"

int pcpool_pcpu_counter_init(struct pcpool_pcpu_counter *ctr,
			     struct pcpool_pcpu_cache *cache)
{
	unsigned int gshift = 0;

	if (!cache || cache->shift != PCPOOL_PCPU_MIN_SHIFT ||
	    cache->mode == PCPOOL_PCPU_CONSTRUCTED)
		return -EINVAL;
	/* one bit per CPU while a word has room, else per group */
	while (((cache->nr_cpus - 1) >> gshift) >= BITS_PER_LONG)
		gshift++;
	local64_set(&ctr->local, 0);
	atomic_long_set(&ctr->single, 0);
	ctr->owner = PCPOOL_PCPU_NO_OWNER;
	ctr->gshift = gshift;
	ctr->claimed = 0;
	ctr->touched = 0;
	ctr->pcpu = NULL;
	ctr->cache = cache;
	return 0;
}

/* Give @ctr per-CPU storage, without sleeping.  False if none. */
static bool pcpu_counter_upgrade(struct pcpool_pcpu_counter *ctr)
{
	void __percpu *obj;

	if (pcpool_pcpu_alloc_nowait(ctr->cache, &obj))
		return false;
	/* Another CPU may have won; ours was never written. */
	if (cmpxchg(&ctr->pcpu, NULL, (s64 __percpu *)obj))
		pcpool_pcpu_free(ctr->cache, obj);
	return true;
}

/* The CPUs of group @g that exist: [*first, return). */
static unsigned int pcpu_counter_group(struct pcpool_pcpu_counter *ctr,
				       unsigned int g, unsigned int *first)
{
	*first = g << ctr->gshift;
	return min(*first + (1U << ctr->gshift), ctr->cache->nr_cpus);
}

/*
 * First update in @cpu's group: zero the group's parts, then publish the
 * bit.  Interrupts off so that nothing else on this CPU can find the group
 * claimed and wait for us; a CPU of the same group that loses the claim
 * waits for the winner's few stores.
 */
static void pcpu_counter_touch(struct pcpool_pcpu_counter *ctr,
			       s64 __percpu *p, unsigned int cpu)
{
	unsigned int g = cpu >> ctr->gshift, c, first, end;
	unsigned long flags;

	local_irq_save(flags);
	if (!test_and_set_bit(g, &ctr->claimed)) {
		end = pcpu_counter_group(ctr, g, &first);
		for (c = first; c < end; c++)
			if (pcpool_pcpu_cpu_possible(c))
				WRITE_ONCE(*per_cpu_ptr(p, c), 0);
		/* the zeroes before the bit: pairs with the readers' acquire */
		smp_mb__before_atomic();
		set_bit(g, &ctr->touched);
	} else {
		while (!test_bit_acquire(g, &ctr->touched))
			cpu_relax();
	}
	local_irq_restore(flags);
}

void pcpool_pcpu_counter_add(struct pcpool_pcpu_counter *ctr, s64 delta)
{
	/* pairs with the cmpxchg() that published the storage */
	s64 __percpu *p = smp_load_acquire(&ctr->pcpu);
	int cpu, owner;

	if (likely(p)) {
upgraded:
		cpu = pcpool_pcpu_get_cpu();
		if (unlikely(!test_bit_acquire(cpu >> ctr->gshift,
					       &ctr->touched)))
			pcpu_counter_touch(ctr, p, cpu);
		this_cpu_add(*p, delta);
		pcpool_pcpu_put_cpu(cpu);
		return;
	}
	/* pinned: only the owner's CPU may add to @local unlocked */
	cpu = pcpool_pcpu_get_cpu();
	owner = READ_ONCE(ctr->owner);
	if (owner == PCPOOL_PCPU_NO_OWNER) {
		owner = cmpxchg(&ctr->owner, PCPOOL_PCPU_NO_OWNER, cpu);
		if (owner == PCPOOL_PCPU_NO_OWNER)
			owner = cpu;
	}
	if (owner == cpu) {
		local64_add(delta, &ctr->local);
		pcpool_pcpu_put_cpu(cpu);
		return;
	}
	pcpool_pcpu_put_cpu(cpu);
	if (!pcpu_counter_upgrade(ctr)) {
		atomic_long_add(delta, &ctr->single);
		return;
	}
	/* ours or the winner's, published by cmpxchg() */
	p = smp_load_acquire(&ctr->pcpu);
	goto upgraded;
}

s64 pcpool_pcpu_counter_sum(struct pcpool_pcpu_counter *ctr)
{
	/* pairs with the cmpxchg() that published the storage */
	s64 __percpu *p = smp_load_acquire(&ctr->pcpu);
	s64 sum = local64_read(&ctr->local) + atomic_long_read(&ctr->single);
	unsigned int g, c, first, end;
	unsigned long touched;

	if (!p)
		return sum;
	/* pairs with the barrier before set_bit(): the zeroes are seen */
	touched = smp_load_acquire(&ctr->touched);
	/* the set bits only: a task that ran on two CPUs reads two parts */
	for_each_set_bit(g, &touched, BITS_PER_LONG) {
		end = pcpu_counter_group(ctr, g, &first);
		for (c = first; c < end; c++)
			if (pcpool_pcpu_cpu_possible(c))
				sum += READ_ONCE(*per_cpu_ptr(p, c));
	}
	return sum;
}

unsigned int pcpool_pcpu_counter_nr_touched(struct pcpool_pcpu_counter *ctr)
{
	unsigned long touched = READ_ONCE(ctr->touched);
	unsigned int g, c, first, end, n = 0;

	for_each_set_bit(g, &touched, BITS_PER_LONG) {
		end = pcpu_counter_group(ctr, g, &first);
		for (c = first; c < end; c++)
			n += pcpool_pcpu_cpu_possible(c);
	}
	return n;
}

s64 pcpool_pcpu_counter_destroy(struct pcpool_pcpu_counter *ctr)
{
	s64 __percpu *p = ctr->pcpu;
	s64 sum = pcpool_pcpu_counter_sum(ctr);

	/* no per-CPU write: the next user zeroes the parts it touches */
	if (p)
		pcpool_pcpu_free(ctr->cache, p);
	pcpool_pcpu_counter_init(ctr, ctr->cache);
	return sum;
}
