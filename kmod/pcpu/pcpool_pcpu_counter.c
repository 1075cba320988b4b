// SPDX-License-Identifier: GPL-2.0
/*
 * pcpool dual-mode per-CPU counter, on top of the per-CPU cache.
 *
 * Creating a per-CPU counter the usual way allocates per-CPU memory and
 * zeroes it on every possible CPU, and reading it sums every possible CPU,
 * even for a task that only ever ran on one.  This one is a single atomic
 * word until a second CPU updates it; only then does it take per-CPU
 * storage, from a CONSTRUCTED cache whose objects' parts sum to zero, so
 * the upgrade costs one allocation from a magazine and no per-CPU writes.
 * See pcpool_pcpu.h for the exactness argument.
 */
#include "pcpool_pcpu.h"

void pcpool_pcpu_counter_init(struct pcpool_pcpu_counter *ctr,
			      struct pcpool_pcpu_cache *cache)
{
	atomic_long_set(&ctr->single, 0);
	ctr->owner = PCPOOL_PCPU_NO_OWNER;
	ctr->pcpu = NULL;
	ctr->cache = cache;
}

/* Give @ctr per-CPU storage.  False if none could be had. */
static bool pcpu_counter_upgrade(struct pcpool_pcpu_counter *ctr)
{
	void __percpu *obj;

	if (pcpool_pcpu_alloc(ctr->cache, &obj))
		return false;
	/* Another CPU may have won; ours is untouched, still constructed. */
	if (cmpxchg(&ctr->pcpu, NULL, (s64 __percpu *)obj))
		pcpool_pcpu_free(ctr->cache, obj);
	return true;
}

void pcpool_pcpu_counter_add(struct pcpool_pcpu_counter *ctr, s64 delta)
{
	/* pairs with the cmpxchg() that published the storage */
	s64 __percpu *p = smp_load_acquire(&ctr->pcpu);
	int cpu, owner;

	if (likely(p)) {
		this_cpu_add(*p, delta);
		return;
	}
	cpu = raw_smp_processor_id();
	owner = READ_ONCE(ctr->owner);
	if (owner == PCPOOL_PCPU_NO_OWNER) {
		owner = cmpxchg(&ctr->owner, PCPOOL_PCPU_NO_OWNER, cpu);
		if (owner == PCPOOL_PCPU_NO_OWNER)
			owner = cpu;
	}
	if (owner == cpu || !pcpu_counter_upgrade(ctr)) {
		atomic_long_add(delta, &ctr->single);
		return;
	}
	/* ours or the winner's, published by cmpxchg() */
	p = smp_load_acquire(&ctr->pcpu);
	this_cpu_add(*p, delta);
}

s64 pcpool_pcpu_counter_sum(struct pcpool_pcpu_counter *ctr)
{
	/* pairs with the cmpxchg() that published the storage */
	s64 __percpu *p = smp_load_acquire(&ctr->pcpu);
	s64 sum = atomic_long_read(&ctr->single);
	int cpu;

	if (p)
		for_each_possible_cpu(cpu)
			sum += READ_ONCE(*per_cpu_ptr(p, cpu));
	return sum;
}

s64 pcpool_pcpu_counter_destroy(struct pcpool_pcpu_counter *ctr)
{
	s64 __percpu *p = ctr->pcpu;
	s64 sum = pcpool_pcpu_counter_sum(ctr);

	if (p) {
		/* one write puts the parts back to summing to zero */
		this_cpu_sub(*p, sum - atomic_long_read(&ctr->single));
		pcpool_pcpu_free(ctr->cache, p);
	}
	pcpool_pcpu_counter_init(ctr, ctr->cache);
	return sum;
}
