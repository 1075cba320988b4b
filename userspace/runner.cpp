// SPDX-License-Identifier: GPL-2.0
#include "runner.h"

#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <functional>
#include <latch>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "counters.h"
#include "cpu.h"
#include "device.h"
#include "replay.h"

namespace pcpool {
namespace {

using Clock = std::chrono::steady_clock;

uint64_t NsSince(Clock::time_point t0) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count());
}

struct Shared {
  const RunSpec& spec;
  const RunnerConfig& cfg;
  Progress* progress;
  std::vector<std::unique_ptr<Session>> sessions;
  std::atomic<bool> abort{false};
  // Fragmentation: RUN_FRAG asked of busy/churn, one report per thread;
  // snapshot() where a userspace workload holds its whole live set.
  bool run_frag = false;
  bool mt_mix = false;  // PCPOOL_RUN_MT_MIX on every call
  std::vector<std::optional<pcpool_frag>> thread_frag{};
  std::function<void(const std::string& point)> snapshot{};
};

// Pages out of the zone's free lists (allocated or per-CPU cached).
uint64_t ZoneOut(const pcpool_frag& f) {
  return (f.zone.blocks_held << f.block_order) - f.zone.free_pages;
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

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

bool LatencyApplies(Workload w) {
  // The per-CPU workloads time whole "processes", not single operations.
  return Info(w).kind == WorkloadKind::kRun && w != Workload::kLifecycle && w != Workload::kSizes &&
         w != Workload::kCounter;
}

// Channel and handle workloads time whole commands: with --latency each
// command's mean per block is a sample (RecordBatch).
bool BatchLatency(const RunSpec& spec) {
  const WorkloadKind k = Info(spec.workload).kind;
  return spec.latency && (k == WorkloadKind::kChannel || k == WorkloadKind::kHandles);
}

void RecordCall(const RunSpec& spec, LatencyHistogram OpLatency::*side, ThreadResult* t,
                uint64_t ns, uint64_t done) {
  if (BatchLatency(spec)) {
    (t->latency.*side).RecordBatch(ns, done);
    t->latency.per_call = true;
  }
}

bool Seeded(Workload w) {
  return w == Workload::kBusy || w == Workload::kChurn || w == Workload::kRandomSize ||
         w == Workload::kLongBusy;
}

// RUN's @batch for the workload.
uint32_t KernelBatch(const RunSpec& spec) {
  switch (spec.workload) {
    case Workload::kRepeat:
    case Workload::kRandomSize:
    case Workload::kFixSize:
    case Workload::kFullFit:
    case Workload::kFixAlign:
      return 0;
    case Workload::kBusy:
    case Workload::kChurn:
    case Workload::kLongBusy:
      return spec.live;
    default:
      return spec.batch;
  }
}

// In-kernel workloads: RUN calls of up to chunk_ops operations.
void RunWorker(const Session& dev, uint64_t share, Shared* sh, ThreadResult* t) {
  const RunSpec& spec = sh->spec;
  const uint32_t batch = KernelBatch(spec);
  uint64_t chunk = std::min<uint64_t>(std::max<uint64_t>(sh->cfg.chunk_ops, 1), PCPOOL_MAX_RUN_OPS);
  // Whole batches per call, so chunking adds no partial bulk batch; the
  // live-set workloads refill their set per call, so let them run longer.
  if (spec.workload == Workload::kBulk && batch > 0) {
    chunk = std::max<uint64_t>(batch, chunk / batch * batch);
  } else if (spec.live > 0) {
    chunk =
        std::min<uint64_t>(std::max<uint64_t>(chunk, uint64_t{16} * spec.live), PCPOOL_MAX_RUN_OPS);
  }
  const bool latency = spec.latency && LatencyApplies(spec.workload);
  pcpool_hist hist{};
  pcpool_frag frag{};
  uint64_t left = share;
  for (uint64_t call = 0; left > 0; call++) {
    const uint64_t n = std::min(left, chunk);
    pcpool_run arg{};
    arg.backend = spec.backend;
    arg.workload = static_cast<uint32_t>(Info(spec.workload).kernel_id);
    arg.order = spec.order;
    arg.ops = n;
    arg.batch = batch;
    if (Seeded(spec.workload)) {
      arg.seed = ThreadSeed(spec.seed, static_cast<size_t>(t->thread), call);
    } else if (spec.workload == Workload::kCounter || spec.workload == Workload::kSizes ||
               spec.workload == Workload::kLifecycle) {
      arg.seed = spec.share;  // the counter's cross share, the mix, the shape
    }
    if (sh->mt_mix) {
      arg.flags |= PCPOOL_RUN_MT_MIX;
    }
    hist.shift = spec.sample_shift;
    if (sh->run_frag && left == n) {
      // The last call: its final drain is where this thread's set is held.
      frag.size = sizeof(frag);
      frag.backend = spec.backend;
      frag.flags = PCPOOL_FRAG_DRAIN;
      arg.flags |= PCPOOL_RUN_FRAG;
      arg.frag = reinterpret_cast<uintptr_t>(&frag);
    }
    const Result<pcpool_run> res = dev.Run(arg, latency ? &hist : nullptr);
    if (res.ok() && arg.frag != 0) {
      sh->thread_frag[static_cast<size_t>(t->thread)] = frag;
    }
    const pcpool_run& r = res.value;
    // Out fields hold what was done even when the call failed part way.
    t->ns += r.ns;
    t->ops += r.done;
    t->allocs += r.done;
    t->frees += r.done;
    t->alloc_ns += r.alloc_ns;
    t->free_ns += r.free_ns;
    t->backoffs += r.backoffs;
    if (latency) {
      t->latency.Add(hist);
    }
    AddProgress(sh->progress, r.done);
    if (r.done > 0) {
      t->calls++;
      NoteCpu(t, r.cpu, r.cpu_end);
    }
    if (!res.ok()) {
      t->error = "PCPOOL_IOC_RUN: " + res.ErrorString();
      return;
    }
    if (r.done != n) {
      t->error =
          "PCPOOL_IOC_RUN did " + std::to_string(r.done) + " of " + std::to_string(n) + " ops";
      return;
    }
    left -= n;
  }
}

// Channel workloads.

struct ChannelState {
  const ChannelPlan& plan;
  std::vector<std::atomic<bool>> producer_done;  // per thread index
  explicit ChannelState(const ChannelPlan& p) : plan(p), producer_done(p.threads.size()) {}
};

void RunProducer(const ChannelThread& me, size_t self, Shared* sh, ChannelState* cs,
                 ThreadResult* t) {
  const RunSpec& spec = sh->spec;
  std::vector<uint64_t> left;
  for (const size_t s : me.slots) {
    left.push_back(cs->plan.slots[s].quota);
  }
  uint64_t remaining = me.quota;
  while (remaining > 0) {
    if (sh->abort.load(std::memory_order_relaxed)) {
      t->error = "stopped: a consumer failed";
      break;
    }
    bool progressed = false;
    for (size_t i = 0; i < me.slots.size() && remaining > 0; i++) {
      if (left[i] == 0) {
        continue;
      }
      const ChannelSlot& slot = cs->plan.slots[me.slots[i]];
      const uint64_t n = std::min<uint64_t>(left[i], spec.batch);
      const Result<pcpool_chan> res =
          sh->sessions[slot.session]->ChanAlloc(slot.chan, spec.backend, spec.order, n);
      const pcpool_chan& c = res.value;
      // A call that moved nothing only polled a full channel: not counted.
      if (c.done > 0) {
        t->ns += c.ns;
        t->alloc_ns += c.ns;
        t->allocs += c.done;
        t->calls++;
        RecordCall(spec, &OpLatency::alloc, t, c.ns, c.done);
        NoteCpu(t, c.cpu, c.cpu);
        left[i] -= std::min<uint64_t>(left[i], c.done);
        remaining -= std::min<uint64_t>(remaining, c.done);
        progressed = true;
      }
      if (!res.ok()) {
        t->error = "PCPOOL_CHAN_ALLOC: " + res.ErrorString();
        sh->abort.store(true);
        cs->producer_done[self].store(true);
        return;
      }
    }
    if (!progressed) {
      sched_yield();  // every channel full: let the consumers catch up
    }
  }
  cs->producer_done[self].store(true);
}

void RunConsumer(const ChannelThread& me, Shared* sh, ChannelState* cs, ThreadResult* t) {
  const RunSpec& spec = sh->spec;
  const bool purger = me.role == Role::kPurger;
  const uint64_t per_call = purger ? spec.purge_batch : spec.batch;
  std::vector<uint64_t> left;
  for (const size_t s : me.slots) {
    left.push_back(cs->plan.slots[s].quota);
  }
  uint64_t remaining = me.quota;
  while (remaining > 0) {
    bool progressed = false;
    bool starved = false;  // a call found fewer blocks than it asked for
    bool orphaned = true;  // every unfinished channel's producer gave up
    for (size_t i = 0; i < me.slots.size() && remaining > 0; i++) {
      if (left[i] == 0) {
        continue;
      }
      const ChannelSlot& slot = cs->plan.slots[me.slots[i]];
      const bool producer_done = cs->producer_done[slot.producer].load();
      const uint64_t n = std::min<uint64_t>(left[i], per_call);
      const Result<pcpool_chan> res = sh->sessions[slot.session]->ChanFree(slot.chan, n);
      const pcpool_chan& c = res.value;
      if (c.done > 0) {
        t->ns += c.ns;
        t->free_ns += c.ns;
        t->frees += c.done;
        t->calls++;
        RecordCall(spec, &OpLatency::free, t, c.ns, c.done);
        NoteCpu(t, c.cpu, c.cpu);
        AddProgress(sh->progress, c.done);
        left[i] -= std::min<uint64_t>(left[i], c.done);
        remaining -= std::min<uint64_t>(remaining, c.done);
        progressed = true;
      }
      if (!res.ok()) {
        t->error = "PCPOOL_CHAN_FREE: " + res.ErrorString();
        sh->abort.store(true);
        return;
      }
      if (c.done < n) {
        starved = true;
      }
      // Read before the call: an empty channel whose producer had already
      // stopped stays empty.
      if (!(producer_done && c.done < n) && left[i] > 0) {
        orphaned = false;
      }
    }
    if (remaining > 0 && orphaned && sh->abort.load()) {
      t->error = "stopped: a producer failed";
      return;
    }
    // Purgers wait for large batches; consumers only when nothing moved.
    if (!progressed || (purger && starved)) {
      sched_yield();
    }
  }
}

// Handle workloads.

struct HandleState {
  const HandlePlan& plan;
  std::vector<std::vector<uint64_t>> handles;  // per session
  std::vector<std::mutex> locks;               // per session
  std::latch phase;                            // all allocations done
  std::latch measured;                         // ... and fragmentation read
  explicit HandleState(const HandlePlan& p, std::ptrdiff_t threads)
      : plan(p), handles(p.sessions), locks(p.sessions), phase(threads), measured(threads) {}
};

void RunHandles(const HandleThread& me, Shared* sh, HandleState* hs, ThreadResult* t) {
  const RunSpec& spec = sh->spec;
  Clock::time_point t0 = Clock::now();
  std::vector<uint64_t> buf;
  for (const HandleChunk& chunk : me.allocs) {
    if (sh->abort.load(std::memory_order_relaxed)) {
      break;
    }
    buf.assign(chunk.count, 0);
    const Result<pcpool_alloc> res =
        sh->sessions[chunk.session]->Alloc(spec.backend, spec.order, buf);
    if (!res.ok()) {
      // All or nothing: this call kept nothing.
      t->error = "PCPOOL_IOC_ALLOC: " + res.ErrorString();
      sh->abort.store(true);
      break;
    }
    t->ns += res.value.ns;
    t->alloc_ns += res.value.ns;
    t->allocs += chunk.count;
    t->calls++;
    RecordCall(spec, &OpLatency::alloc, t, res.value.ns, chunk.count);
    NoteCpu(t, res.value.cpu, res.value.cpu);
    const std::lock_guard<std::mutex> guard(hs->locks[chunk.session]);
    std::vector<uint64_t>& h = hs->handles[chunk.session];
    h.insert(h.end(), buf.begin(), buf.end());
  }
  t->user_ns += NsSince(t0);
  hs->phase.arrive_and_wait();
  if (t->thread == 0 && sh->snapshot) {
    sh->snapshot("all allocated, none freed");
  }
  hs->measured.arrive_and_wait();
  if (me.frees_session < 0) {
    return;
  }
  // Nobody allocates any more: the session's list is this thread's now.
  std::vector<uint64_t>& h = hs->handles[static_cast<size_t>(me.frees_session)];
  const bool exit = spec.workload == Workload::kExit;
  if (!exit) {
    std::mt19937_64 rng(ThreadSeed(spec.seed, static_cast<size_t>(t->thread), 0));
    std::shuffle(h.begin(), h.end(), rng);
  }
  // exit frees in the largest batches the module takes.
  const uint64_t per_call = exit ? sh->cfg.max_batch : std::max<uint32_t>(spec.batch, 1);
  const Session& dev = *sh->sessions[static_cast<size_t>(me.frees_session)];
  t0 = Clock::now();
  for (size_t off = 0; off < h.size();) {
    const size_t n = std::min<uint64_t>(per_call, h.size() - off);
    const Result<pcpool_free> res = dev.Free(std::span<const uint64_t>(h.data() + off, n), {});
    t->ns += res.value.ns;
    t->free_ns += res.value.ns;
    t->frees += res.value.freed;
    AddProgress(sh->progress, res.value.freed);
    if (res.value.freed > 0) {
      t->calls++;
      RecordCall(spec, &OpLatency::free, t, res.value.ns, res.value.freed);
      NoteCpu(t, res.value.cpu, res.value.cpu);
    }
    if (!res.ok()) {
      if (t->error.empty()) {
        t->error = "PCPOOL_IOC_FREE: " + res.ErrorString();
      }
      break;
    }
    off += n;
  }
  t->user_ns += NsSince(t0);
  h.clear();
}

// Overhead: the same command through each path.
void RunOverhead(const Session& dev, uint64_t share, Shared* sh, ThreadResult* t) {
  const RunSpec& spec = sh->spec;
  pcpool_run one{};
  one.backend = spec.backend;
  one.workload = PCPOOL_WL_REPEAT;
  one.order = spec.order;
  const Clock::time_point t0 = Clock::now();
  if (spec.loop) {
    for (uint64_t left = share; left > 0;) {
      pcpool_run arg = one;
      arg.ops = std::min<uint64_t>(left, std::max<uint64_t>(sh->cfg.chunk_ops, 1));
      const Result<pcpool_run> res = dev.Run(arg, nullptr);
      t->ns += res.value.ns;
      t->ops += res.value.done;
      t->calls++;
      NoteCpu(t, res.value.cpu, res.value.cpu_end);
      AddProgress(sh->progress, res.value.done);
      if (!res.ok()) {
        t->error = "PCPOOL_IOC_RUN: " + res.ErrorString();
        break;
      }
      left -= arg.ops;
    }
  } else {
    one.ops = 1;
    const size_t depth =
        spec.submit == Submit::kUring ? std::max<uint32_t>(spec.uring_depth, 1) : 1;
    std::vector<pcpool_run> args(depth);
    std::vector<int> res(depth);
    for (uint64_t left = share; left > 0;) {
      const size_t n = std::min<uint64_t>(left, depth);
      std::fill_n(args.begin(), n, one);
      const int err =
          dev.RunBatch(std::span<pcpool_run>(args.data(), n), std::span<int>(res.data(), n));
      if (err != 0) {
        t->error = "submission: " + ErrnoString(err);
        break;
      }
      for (size_t i = 0; i < n; i++) {
        t->ns += args[i].ns;
        t->ops += args[i].done;
        if (res[i] != 0 && t->error.empty()) {
          t->error = "PCPOOL_IOC_RUN: " + ErrnoString(res[i]);
        }
      }
      t->calls += n;
      NoteCpu(t, args[0].cpu, args[n - 1].cpu_end);
      AddProgress(sh->progress, n);
      if (!t->error.empty()) {
        break;
      }
      left -= n;
    }
  }
  t->user_ns = NsSince(t0);
  t->allocs = t->frees = t->ops;
}

Result<std::unique_ptr<Session>> OpenSession(const RunnerConfig& cfg, Submit submit) {
  if (cfg.open_session) {
    return cfg.open_session(submit);
  }
  Result<Device> dev = Device::Open(cfg.device, submit);
  if (!dev.ok()) {
    return {dev.err, nullptr};
  }
  return {0, std::make_unique<Device>(std::move(dev.value))};
}

}  // namespace

uint64_t ThreadSeed(uint64_t seed, size_t thread, uint64_t call) {
  // splitmix64 of the three, so nearby inputs give unrelated seeds.
  uint64_t z = seed + 0x9e3779b97f4a7c15ULL * (thread + 1) + 0xbf58476d1ce4e5b9ULL * call;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

RunResult ExecuteRun(const RunSpec& spec, const RunnerConfig& cfg, Progress* progress) {
  RunResult r;
  r.spec = spec;
  const WorkloadKind kind = Info(spec.workload).kind;
  // Overhead's loop reference goes through ioctl: it is one call.
  const Submit submit = spec.loop ? Submit::kIoctl : spec.submit;

  // Lay out threads and sessions.
  ChannelPlan cplan;
  HandlePlan hplan;
  std::vector<uint64_t> shares;
  size_t nsessions = 0;
  switch (kind) {
    case WorkloadKind::kRun:
    case WorkloadKind::kOverhead:
      shares = SplitOps(spec.ops, spec.cpus.size());
      nsessions = spec.cpus.size();
      r.threads.resize(spec.cpus.size());
      for (size_t i = 0; i < spec.cpus.size(); i++) {
        r.threads[i].cpu = spec.cpus[i];
        r.threads[i].role = Role::kWorker;
      }
      break;
    case WorkloadKind::kChannel:
      cplan = PlanChannels(spec.workload, spec.cpus, spec.ops, spec.freers, cfg.nr_channels);
      nsessions = cplan.sessions;
      r.threads.resize(cplan.threads.size());
      for (size_t i = 0; i < cplan.threads.size(); i++) {
        r.threads[i].cpu = cplan.threads[i].cpu;
        r.threads[i].role = cplan.threads[i].role;
        r.threads[i].group = cplan.threads[i].group;
      }
      break;
    case WorkloadKind::kReplay:
      if (!cfg.trace || cfg.trace->events.empty() ||
          spec.cpus.size() != TracedCpus(*cfg.trace).size()) {
        r.error = "replay: no trace, an empty one, or threads not one per traced CPU";
        return r;
      }
      nsessions = 1;  // a block allocated on one thread is freed on another
      r.threads.resize(spec.cpus.size());
      for (size_t i = 0; i < spec.cpus.size(); i++) {
        r.threads[i].cpu = spec.cpus[i];
        r.threads[i].role = Role::kWorker;
      }
      break;
    case WorkloadKind::kHandles:
      hplan = PlanHandles(spec.workload, spec.cpus, spec.ops, spec.freers, spec.batch, spec.seed);
      nsessions = hplan.sessions;
      r.threads.resize(hplan.threads.size());
      for (size_t i = 0; i < hplan.threads.size(); i++) {
        r.threads[i].cpu = hplan.threads[i].cpu;
        r.threads[i].role = hplan.threads[i].role;
      }
      break;
  }
  for (size_t i = 0; i < r.threads.size(); i++) {
    r.threads[i].thread = static_cast<int>(i);
  }

  Shared sh{spec, cfg, progress, {}};
  for (size_t u = 0; u < nsessions; u++) {
    Result<std::unique_ptr<Session>> dev = OpenSession(cfg, submit);
    if (!dev.ok()) {
      r.error = "open " + cfg.device + ": " + dev.ErrorString();
      return r;
    }
    sh.sessions.push_back(std::move(dev.value));
  }

  const std::string backend = BackendName(spec.backend);
  // Fragmentation: replay always; the live-set workloads with --frag.
  const bool live_set = spec.workload == Workload::kBusy || spec.workload == Workload::kChurn ||
                        spec.workload == Workload::kExit || spec.workload == Workload::kRand;
  const bool want_frag = kind == WorkloadKind::kReplay || (cfg.frag && live_set);
  const bool zone_frag = want_frag && sh.sessions[0]->Frag(spec.backend, 0).ok();
  const bool buddyinfo = want_frag && spec.backend == PCPOOL_BACKEND_KERNEL;
  if (buddyinfo) {
    r.buddyinfo.emplace_back("before", ReadText(cfg.buddyinfo));
  }
  if (zone_frag || buddyinfo) {
    sh.snapshot = [&](const std::string& point) {
      r.frag_point = point;
      if (zone_frag) {
        const Result<pcpool_frag> f = sh.sessions[0]->Frag(spec.backend, PCPOOL_FRAG_DRAIN);
        if (f.ok()) {
          r.frag = f.value;
        }
      }
      if (buddyinfo) {
        r.buddyinfo.emplace_back("at " + point, ReadText(cfg.buddyinfo));
      }
    };
  }
  sh.run_frag = zone_frag && kind == WorkloadKind::kRun;
  // the kernel takes it for page workloads on page backends only
  sh.mt_mix = cfg.mt_mix && kind == WorkloadKind::kRun && Info(spec.workload).pages &&
              !Info(spec.workload).vmalloc_only &&
              DefaultBackendClass(spec.backend) == BackendClass::kPages;
  sh.thread_frag.resize(r.threads.size());
  const std::optional<ParsedCounters> before = ReadBackendCounters(cfg.debugfs, backend);

  ChannelState cstate(cplan);
  HandleState hstate(hplan, static_cast<std::ptrdiff_t>(hplan.threads.size()));
  std::optional<ReplayState> rstate;
  if (kind == WorkloadKind::kReplay) {
    const std::string name = BackendName(spec.backend);
    rstate.emplace(*cfg.trace, *sh.sessions[0], spec.backend, [&r, &cfg, &sh, name] {
      if (const std::optional<ParsedCounters> c = ReadBackendCounters(cfg.debugfs, name)) {
        r.at_trace_end = c->values;
      }
      if (sh.snapshot) {
        sh.snapshot("trace end, live set held");
      }
    });
  }
  std::vector<std::thread> workers;
  const size_t active = r.active_threads();
  std::latch start(static_cast<std::ptrdiff_t>(active + 1));
  for (size_t i = 0; i < r.threads.size(); i++) {
    ThreadResult& t = r.threads[i];
    if (t.role == Role::kIdle) {
      continue;
    }
    workers.emplace_back([&, i] {
      ThreadResult& me = r.threads[i];
      const int pin_err = PinThread(me.cpu);
      start.arrive_and_wait();
      if (pin_err != 0) {
        me.error = "cannot pin to CPU " + std::to_string(me.cpu);
        sh.abort.store(true);
        if (kind == WorkloadKind::kHandles) {
          hstate.phase.arrive_and_wait();
          hstate.measured.arrive_and_wait();
        }
        if (kind == WorkloadKind::kChannel) {
          cstate.producer_done[i].store(true);
        }
        if (kind == WorkloadKind::kReplay) {
          ReplayLeave(&*rstate);
        }
        return;
      }
      const Clock::time_point t0 = Clock::now();
      switch (kind) {
        case WorkloadKind::kRun:
          RunWorker(*sh.sessions[i], shares[i], &sh, &me);
          me.user_ns = NsSince(t0);
          break;
        case WorkloadKind::kOverhead:
          RunOverhead(*sh.sessions[i], shares[i], &sh, &me);
          break;
        case WorkloadKind::kChannel:
          if (me.role == Role::kProducer) {
            RunProducer(cplan.threads[i], i, &sh, &cstate, &me);
          } else {
            RunConsumer(cplan.threads[i], &sh, &cstate, &me);
          }
          me.user_ns = NsSince(t0);
          break;
        case WorkloadKind::kHandles:
          RunHandles(hplan.threads[i], &sh, &hstate, &me);
          break;
        case WorkloadKind::kReplay:
          ReplayWorker(i, &*rstate, &me, progress != nullptr ? &progress->done : nullptr);
          break;
      }
    });
  }
  start.arrive_and_wait();
  const Clock::time_point t0 = Clock::now();
  for (std::thread& w : workers) {
    w.join();
  }
  r.wall_ns = NsSince(t0);
  // busy/churn: each thread's report before its drain; the fullest one.
  for (const std::optional<pcpool_frag>& f : sh.thread_frag) {
    if (f && (!r.frag || ZoneOut(*f) > ZoneOut(*r.frag))) {
      r.frag = f;
      r.frag_point = "before the final drain, live set held (fullest of the threads)";
    }
  }
  if (buddyinfo) {
    r.buddyinfo.emplace_back("after", ReadText(cfg.buddyinfo));
  }

  const std::optional<ParsedCounters> after = ReadBackendCounters(cfg.debugfs, backend);
  if (before && after) {
    // Levels are reported as they were before and after, not as deltas.
    r.gauges = GaugeChange(before->values, after->values, after->gauges);
    std::set<std::string> levels;
    for (const auto& [key, v] : r.gauges) {
      levels.insert(key);
    }
    r.counters = CounterDelta(before->values, after->values, levels);
  }
  sh.sessions.clear();  // close: the module frees whatever is left
  if (const std::optional<Counters> out = ReadOutstanding(cfg.debugfs)) {
    if (const auto it = out->find(backend); it != out->end()) {
      r.outstanding_pages_after = it->second;
    }
  }

  r.stats = ComputeStats(spec, r.threads);
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
  r.accounting = AccountingProblems(r);
  if (cfg.check && r.ok() && !r.accounting.empty()) {
    r.error = "accounting: " + r.accounting.front();
  }
  return r;
}

}  // namespace pcpool
