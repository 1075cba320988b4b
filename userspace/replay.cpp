// SPDX-License-Identifier: GPL-2.0
#include "replay.h"

#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace pcpool {
namespace {

using Clock = std::chrono::steady_clock;

std::vector<std::vector<uint32_t>> Streams(const Trace& t) {
  const std::vector<uint32_t> cpus = TracedCpus(t);
  std::vector<size_t> thread_of(t.nr_cpus, 0);
  for (size_t i = 0; i < cpus.size(); i++) {
    thread_of[cpus[i]] = i;
  }
  std::vector<std::vector<uint32_t>> s(cpus.size());
  for (size_t i = 0; i < t.events.size(); i++) {
    s[thread_of[t.events[i].cpu]].push_back(static_cast<uint32_t>(i));
  }
  return s;
}

void NoteCpu(ThreadResult* t, uint32_t cpu) {
  if (t->kernel_cpu < 0) {
    t->kernel_cpu = static_cast<int>(cpu);
  }
  if (static_cast<int>(cpu) != t->cpu) {
    t->migrated = true;
  }
}

void Stop(ReplayState* st, ThreadResult* t, std::string why) {
  if (t->error.empty()) {
    t->error = std::move(why);
  }
  st->abort.store(true);
}

}  // namespace

std::vector<uint32_t> TracedCpus(const Trace& t) {
  std::vector<bool> seen(t.nr_cpus, false);
  for (const TraceEvent& e : t.events) {
    seen[e.cpu] = true;
  }
  std::vector<uint32_t> cpus;
  for (uint32_t c = 0; c < t.nr_cpus; c++) {
    if (seen[c]) {
      cpus.push_back(c);
    }
  }
  return cpus;
}

std::vector<int> FoldCpus(const Trace& t, std::span<const int> guest) {
  std::vector<int> pins;
  if (guest.empty()) {
    return pins;
  }
  for (const uint32_t c : TracedCpus(t)) {
    pins.push_back(guest[c % guest.size()]);
  }
  return pins;
}

void PinReplay(const Trace& t, RunSpec* spec) {
  spec->cpus = FoldCpus(t, spec->cpus);
  spec->ops = t.events.size();
}

void ReplayState::Completion::operator()() const noexcept {
  if (fn != nullptr && *fn) {
    (*fn)();
  }
}

ReplayState::ReplayState(const Trace& tr, const Session& d, uint32_t b,
                         std::function<void()> on_streams_done)
    : trace(tr),
      dev(d),
      backend(b),
      streams(Streams(tr)),
      handles(tr.events.size()),
      streams_done(std::move(on_streams_done)),
      phase(static_cast<std::ptrdiff_t>(streams.size()), Completion{&streams_done}) {}

void ReplayWorker(size_t self, ReplayState* st, ThreadResult* t, std::atomic<uint64_t>* done) {
  const Trace& tr = st->trace;
  const Clock::time_point t0 = Clock::now();
  for (const uint32_t idx : st->streams[self]) {
    if (st->abort.load(std::memory_order_relaxed)) {
      Stop(st, t, "stopped: another thread failed");
      break;
    }
    const TraceEvent& e = tr.events[idx];
    if (!e.free) {
      uint64_t h = 0;
      const Result<pcpool_alloc> res = st->dev.Alloc(st->backend, e.order, std::span(&h, 1));
      if (!res.ok()) {
        Stop(st, t,
             "PCPOOL_IOC_ALLOC of event " + std::to_string(idx) + " (order " +
                 std::to_string(e.order) + "): " + res.ErrorString());
        break;
      }
      t->ns += res.value.ns;
      t->alloc_ns += res.value.ns;
      t->allocs++;
      NoteCpu(t, res.value.cpu);
      // Release: a thread that sees the handle sees the block allocated.
      st->handles[idx].store(h, std::memory_order_release);
    } else {
      // Causality: the allocation, maybe on another thread, comes first.
      std::atomic<uint64_t>& slot = st->handles[tr.peer[idx]];
      uint64_t h = slot.load(std::memory_order_acquire);
      if (h == 0) {
        t->waits++;
      }
      while (h == 0 && !st->abort.load(std::memory_order_relaxed)) {
        sched_yield();
        h = slot.load(std::memory_order_acquire);
      }
      if (h == 0) {
        Stop(st, t, "stopped: another thread failed");
        break;
      }
      const Result<pcpool_free> res = st->dev.Free(std::span<const uint64_t>(&h, 1), {});
      if (!res.ok() || res.value.freed != 1) {
        Stop(st, t, "PCPOOL_IOC_FREE of event " + std::to_string(idx) + ": " + res.ErrorString());
        break;
      }
      slot.store(0, std::memory_order_relaxed);
      t->ns += res.value.ns;
      t->free_ns += res.value.ns;
      t->frees++;
      NoteCpu(t, res.value.cpu);
    }
    t->ops++;
    t->calls++;
    if (done != nullptr) {
      done->fetch_add(1, std::memory_order_relaxed);
    }
  }
  t->user_ns += static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count());
  st->phase.arrive_and_wait();
  // Every stream is done: free what this thread allocated and the trace
  // left live, untimed (the session's close would free it too, but the
  // counters should balance).
  for (const uint32_t idx : st->streams[self]) {
    const uint64_t h = st->handles[idx].load(std::memory_order_relaxed);
    if (tr.events[idx].free || h == 0) {
      continue;
    }
    const Result<pcpool_free> res = st->dev.Free(std::span<const uint64_t>(&h, 1), {});
    if (!res.ok()) {
      Stop(st, t, "PCPOOL_IOC_FREE of a block live at the end: " + res.ErrorString());
      break;
    }
    st->handles[idx].store(0, std::memory_order_relaxed);
    t->frees++;
  }
}

void ReplayLeave(ReplayState* st) {
  st->abort.store(true);
  st->phase.arrive_and_drop();
}

}  // namespace pcpool
