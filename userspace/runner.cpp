// SPDX-License-Identifier: GPL-2.0
#include "runner.h"

#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <latch>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "counters.h"
#include "cpu.h"
#include "device.h"

namespace pcpool {
namespace {

// Every workload uses channel 0 of its own session.
constexpr uint32_t kChan = 0;

struct Shared {
  const RunSpec& spec;
  const RunnerConfig& cfg;
  Progress* progress;
  std::atomic<bool> abort{false};
};

void NoteCpu(ThreadResult* t, uint32_t start_cpu, uint32_t end_cpu) {
  if (t->kernel_cpu < 0) {
    t->kernel_cpu = static_cast<int>(start_cpu);
  }
  if (static_cast<int>(start_cpu) != t->cpu || static_cast<int>(end_cpu) != t->cpu) {
    t->migrated = true;
  }
}

void AddProgress(Progress* p, uint64_t n) {
  if (p != nullptr) {
    p->done.fetch_add(n, std::memory_order_relaxed);
  }
}

void RunWorker(const Session& dev, uint64_t share, Shared* sh, ThreadResult* t) {
  const RunSpec& spec = sh->spec;
  const uint32_t workload = spec.workload == Workload::kBulk ? PCPOOL_WL_BULK : PCPOOL_WL_REPEAT;
  uint64_t chunk = std::min<uint64_t>(std::max<uint64_t>(sh->cfg.chunk_ops, 1), PCPOOL_MAX_RUN_OPS);
  // Whole batches per call, so chunking adds no partial batch.
  if (spec.batch > 0) {
    chunk = std::max<uint64_t>(spec.batch, chunk / spec.batch * spec.batch);
  }
  uint64_t left = share;
  while (left > 0) {
    const uint64_t n = std::min(left, chunk);
    const Result<pcpool_run> res = dev.Run(spec.backend, workload, spec.order, n, spec.batch);
    // Out fields hold what was done even when the call failed part way.
    t->ns += res.value.ns;
    t->ops += res.value.done;
    AddProgress(sh->progress, res.value.done);
    if (res.value.done > 0) {
      t->calls++;
      NoteCpu(t, res.value.cpu, res.value.cpu_end);
    }
    if (!res.ok()) {
      t->error = "PCPOOL_IOC_RUN: " + res.ErrorString();
      return;
    }
    if (res.value.done != n) {
      t->error = "PCPOOL_IOC_RUN did " + std::to_string(res.value.done) + " of " +
                 std::to_string(n) + " ops";
      return;
    }
    left -= n;
  }
}

void RunProducer(const Session& dev, uint64_t share, Shared* sh, ThreadResult* t) {
  const RunSpec& spec = sh->spec;
  uint64_t left = share;
  while (left > 0) {
    if (sh->abort.load(std::memory_order_relaxed)) {
      t->error = "stopped: consumer failed";
      return;
    }
    const uint64_t n = std::min<uint64_t>(left, spec.batch);
    const Result<pcpool_chan> res = dev.ChanAlloc(kChan, spec.backend, spec.order, n);
    const pcpool_chan& c = res.value;
    // A call that moved nothing only polled a full channel: not counted.
    if (c.done > 0) {
      t->ns += c.ns;
      t->ops += c.done;
      t->calls++;
      NoteCpu(t, c.cpu, c.cpu);
      left -= std::min<uint64_t>(left, c.done);
    }
    if (!res.ok()) {
      t->error = "PCPOOL_CHAN_ALLOC: " + res.ErrorString();
      sh->abort.store(true);
      return;
    }
    if (c.done < n) {
      sched_yield();  // channel full: let the consumer catch up
    }
  }
}

void RunConsumer(const Session& dev, uint64_t share, Shared* sh, ThreadResult* t) {
  const RunSpec& spec = sh->spec;
  uint64_t left = share;
  while (left > 0) {
    const uint64_t n = std::min<uint64_t>(left, spec.batch);
    const Result<pcpool_chan> res = dev.ChanFree(kChan, n);
    const pcpool_chan& c = res.value;
    if (c.done > 0) {
      t->ns += c.ns;
      t->ops += c.done;
      t->calls++;
      NoteCpu(t, c.cpu, c.cpu);
      AddProgress(sh->progress, c.done);
      left -= std::min<uint64_t>(left, c.done);
    }
    if (!res.ok()) {
      t->error = "PCPOOL_CHAN_FREE: " + res.ErrorString();
      sh->abort.store(true);
      return;
    }
    if (c.done < n) {
      // Empty. If the producer gave up, what it pushed has been drained.
      if (c.done == 0 && sh->abort.load()) {
        t->error = "stopped: producer failed";
        return;
      }
      sched_yield();
    }
  }
}

// Roles, units and shares of ops for each thread of @spec.
void AssignRoles(const RunSpec& spec, std::vector<ThreadResult>* threads,
                 std::vector<uint64_t>* shares) {
  const size_t n = spec.cpus.size();
  const bool cross = spec.workload == Workload::kCross;
  const size_t units = cross ? n / 2 : n;
  *shares = SplitOps(spec.ops, units);
  threads->resize(n);
  for (size_t i = 0; i < n; i++) {
    ThreadResult& t = (*threads)[i];
    t.thread = static_cast<int>(i);
    t.cpu = spec.cpus[i];
    if (!cross) {
      t.role = Role::kWorker;
      t.unit = static_cast<int>(i);
    } else if (i < 2 * units) {
      t.role = i % 2 == 0 ? Role::kProducer : Role::kConsumer;
      t.unit = static_cast<int>(i / 2);
    } else {
      t.role = Role::kIdle;
      t.unit = -1;
    }
  }
}

Result<std::unique_ptr<Session>> OpenSession(const RunnerConfig& cfg) {
  if (cfg.open_session) {
    return cfg.open_session();
  }
  Result<Device> dev = Device::Open(cfg.device);
  if (!dev.ok()) {
    return {dev.err, nullptr};
  }
  return {0, std::make_unique<Device>(std::move(dev.value))};
}

}  // namespace

RunResult ExecuteRun(const RunSpec& spec, const RunnerConfig& cfg, Progress* progress) {
  RunResult r;
  r.spec = spec;
  std::vector<uint64_t> shares;
  AssignRoles(spec, &r.threads, &shares);

  // One session per unit: sessions do not share a handle table or cap, and
  // a cross pair needs one session for its channel.
  std::vector<std::unique_ptr<Session>> sessions;
  for (size_t u = 0; u < shares.size(); u++) {
    Result<std::unique_ptr<Session>> dev = OpenSession(cfg);
    if (!dev.ok()) {
      r.error = "open " + cfg.device + ": " + dev.ErrorString();
      return r;
    }
    sessions.push_back(std::move(dev.value));
  }

  const std::string backend = BackendName(spec.backend);
  const std::optional<Counters> before = ReadBackendCounters(cfg.debugfs, backend);

  Shared sh{spec, cfg, progress};
  std::vector<std::thread> workers;
  const size_t active = r.active_threads();
  std::latch start(static_cast<std::ptrdiff_t>(active + 1));
  for (ThreadResult& t : r.threads) {
    if (t.role == Role::kIdle) {
      continue;
    }
    workers.emplace_back([&sh, &start, &t, &sessions, &shares] {
      const int pin_err = PinThread(t.cpu);
      start.arrive_and_wait();
      if (pin_err != 0) {
        t.error = "cannot pin to CPU " + std::to_string(t.cpu);
        sh.abort.store(true);
        return;
      }
      const Session& dev = *sessions[t.unit];
      const uint64_t share = shares[t.unit];
      switch (t.role) {
        case Role::kWorker:
          RunWorker(dev, share, &sh, &t);
          break;
        case Role::kProducer:
          RunProducer(dev, share, &sh, &t);
          break;
        case Role::kConsumer:
          RunConsumer(dev, share, &sh, &t);
          break;
        case Role::kIdle:
          break;
      }
    });
  }
  start.arrive_and_wait();
  const auto t0 = std::chrono::steady_clock::now();
  for (std::thread& w : workers) {
    w.join();
  }
  r.wall_ns = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0)
          .count());

  const std::optional<Counters> after = ReadBackendCounters(cfg.debugfs, backend);
  if (before && after) {
    r.counters = CounterDelta(*before, *after);
  }
  sessions.clear();  // close: the module frees whatever is left
  if (const std::optional<Counters> out = ReadOutstanding(cfg.debugfs)) {
    if (const auto it = out->find(backend); it != out->end()) {
      r.outstanding_pages_after = it->second;
    }
  }

  r.stats = ComputeStats(SumUnits(r.threads));
  // The first error that is a cause, not a "stopped: partner failed".
  const ThreadResult* failed = nullptr;
  for (const ThreadResult& t : r.threads) {
    if (!t.error.empty() && (failed == nullptr || failed->error.starts_with("stopped:"))) {
      failed = &t;
    }
  }
  if (failed != nullptr) {
    r.error = "thread " + std::to_string(failed->thread) + " (CPU " + std::to_string(failed->cpu) +
              "): " + failed->error;
  }
  if (r.ok() && r.stats.ops != spec.ops) {
    r.error =
        "completed " + std::to_string(r.stats.ops) + " of " + std::to_string(spec.ops) + " ops";
  }
  return r;
}

}  // namespace pcpool
