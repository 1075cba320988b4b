// SPDX-License-Identifier: GPL-2.0
// Replay of a page-allocation trace (trace.h) through a backend: one pinned
// thread per traced CPU, each issuing its CPU's events in order with
// PCPOOL_IOC_ALLOC and PCPOOL_IOC_FREE of one block, all in one session so
// a block allocated by one thread can be freed by another. A free waits
// until its allocation, on whichever thread, has happened.
#ifndef PCPOOL_USERSPACE_REPLAY_H_
#define PCPOOL_USERSPACE_REPLAY_H_

#include <atomic>
#include <barrier>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "device.h"
#include "stats.h"
#include "trace.h"

namespace pcpool {

// The traced CPUs that have events, in ascending order: thread i replays
// the events of traced CPU cpus[i].
std::vector<uint32_t> TracedCpus(const Trace& t);
// Where each of those threads is pinned: traced CPU c on guest[c % size],
// so a trace from more CPUs than the guest has folds onto it.
std::vector<int> FoldCpus(const Trace& t, std::span<const int> guest);

struct ReplayState {
  // @on_streams_done runs once, on one of the threads, when every thread
  // has replayed its events and before the blocks still live are freed:
  // the end-of-trace state, live set held.
  ReplayState(const Trace& trace, const Session& dev, uint32_t backend,
              std::function<void()> on_streams_done);

  struct Completion {
    const std::function<void()>* fn;
    void operator()() const noexcept;
  };

  const Trace& trace;
  const Session& dev;
  uint32_t backend;
  std::vector<std::vector<uint32_t>> streams;  // per thread: its event indexes
  // Per event: an allocation's handle once it was allocated, else 0.
  std::vector<std::atomic<uint64_t>> handles;
  std::atomic<bool> abort{false};
  std::function<void()> streams_done;
  std::barrier<Completion> phase;
};

// Thread @self's share: its CPU's events, in order, then (after every
// thread got there) frees of the blocks it allocated that the trace never
// freed. Ops are the trace events done; the final frees count as frees,
// not ops, and are not timed. @done, if set, counts ops.
void ReplayWorker(size_t self, ReplayState* st, ThreadResult* t, std::atomic<uint64_t>* done);
// Replay's threads and ops for @spec, whose cpus are the guest CPUs to
// fold onto (PlanRuns's): one thread per traced CPU, ops = events.
void PinReplay(const Trace& t, RunSpec* spec);

// A thread that cannot run (pinning failed) leaves both phases.
void ReplayLeave(ReplayState* st);

}  // namespace pcpool

#endif  // PCPOOL_USERSPACE_REPLAY_H_
