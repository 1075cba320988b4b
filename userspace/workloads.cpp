// SPDX-License-Identifier: GPL-2.0
#include "workloads.h"

#include <linux/pcpool.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace pcpool {
namespace {

constexpr std::array<WorkloadInfo, kNumWorkloads> kWorkloads = {{
    {Workload::kRepeat, "repeat", WorkloadKind::kRun, PCPOOL_WL_REPEAT, true, true, false, 1,
     "allocate one block, free it"},
    {Workload::kBulk, "bulk", WorkloadKind::kRun, PCPOOL_WL_BULK, true, true, false, 1,
     "allocate a batch, free it; halves timed apart"},
    {Workload::kBusy, "busy", WorkloadKind::kRun, PCPOOL_WL_BUSY, true, true, false, 1,
     "large live set, free and reallocate random members"},
    {Workload::kChurn, "churn", WorkloadKind::kRun, PCPOOL_WL_CHURN, true, true, false, 1,
     "seeded bursts around a set-point, ENOMEM back-off"},
    {Workload::kCross, "cross", WorkloadKind::kChannel, -1, true, true, false, 2,
     "1:1 pairs, one allocates, the other frees"},
    {Workload::kFanin, "fanin", WorkloadKind::kChannel, -1, true, true, false, 2,
     "N:1, many allocate, one frees"},
    {Workload::kFanout, "fanout", WorkloadKind::kChannel, -1, true, true, false, 2,
     "1:N, one allocates, many free"},
    {Workload::kPurger, "purger", WorkloadKind::kChannel, -1, true, true, false, 1,
     "all allocate, a few purgers free in large batches"},
    {Workload::kExit, "exit", WorkloadKind::kHandles, -1, true, true, false, 1,
     "all allocate, then 1 or K CPUs free everything at once"},
    {Workload::kRand, "rand", WorkloadKind::kHandles, -1, true, true, false, 1,
     "all allocate, blocks freed shuffled from random CPUs"},
    {Workload::kRandomSize, "random-size", WorkloadKind::kRun, PCPOOL_WL_VM_RANDOM, true, false,
     true, 1, "test_vmalloc random_size_alloc_test (vmalloc and vmap only)"},
    {Workload::kLongBusy, "long-busy", WorkloadKind::kRun, PCPOOL_WL_VM_LONG_BUSY, true, false,
     true, 1, "test_vmalloc long_busy_list_alloc_test (vmalloc and vmap only)"},
    {Workload::kLifecycle, "lifecycle", WorkloadKind::kRun, PCPOOL_WL_PCPU_LIFECYCLE, false, true,
     false, 1, "per-CPU counters of a fork-like process (per-CPU only)"},
    {Workload::kSizes, "sizes", WorkloadKind::kRun, PCPOOL_WL_PCPU_SIZES, false, true, false, 1,
     "test_vmalloc pcpu_alloc_test sizes (per-CPU only)"},
    {Workload::kOverhead, "overhead", WorkloadKind::kOverhead, -1, true, true, false, 1,
     "cost per command: ioctl, io_uring, in-kernel loop"},
    {Workload::kFixSize, "fix-size", WorkloadKind::kRun, PCPOOL_WL_VM_FIX_SIZE, true, false, true,
     1, "test_vmalloc fix_size_alloc_test (vmalloc and vmap only)"},
    {Workload::kFullFit, "full-fit", WorkloadKind::kRun, PCPOOL_WL_VM_FULL_FIT, true, false, true,
     1, "test_vmalloc full_fit_alloc_test (vmalloc and vmap only)"},
    {Workload::kFixAlign, "fix-align", WorkloadKind::kRun, PCPOOL_WL_VM_FIX_ALIGN, true, false,
     true, 1, "test_vmalloc fix_align_alloc_test (vmalloc and vmap only)"},
    {Workload::kCounter, "counter", WorkloadKind::kRun, PCPOOL_WL_PCPU_COUNTER, false, true, false,
     1, "per-CPU counter: create, --batch updates, exact sum, destroy (per-CPU only)"},
    {Workload::kReplay, "replay", WorkloadKind::kReplay, -1, true, false, false, 1,
     "a captured page-allocation trace (--trace), one thread per traced CPU"},
}};

constexpr std::array<std::string_view, 7> kRoleNames = {
    "worker", "producer", "consumer", "purger", "allocator", "freer", "idle"};

}  // namespace

std::span<const WorkloadInfo> AllWorkloads() { return kWorkloads; }

const WorkloadInfo& Info(Workload w) { return kWorkloads.at(static_cast<size_t>(w)); }

std::string_view WorkloadName(Workload w) { return Info(w).name; }

std::optional<Workload> WorkloadFromName(std::string_view name) {
  for (const WorkloadInfo& i : kWorkloads) {
    if (i.name == name) {
      return i.id;
    }
  }
  return std::nullopt;
}

std::optional<std::vector<Workload>> WorkloadsFromMask(uint64_t mask, std::string* error) {
  std::vector<Workload> out;
  if (mask == 0) {
    *error = "the mask selects no workload";
    return std::nullopt;
  }
  if ((mask >> kNumWorkloads) != 0) {
    *error = "the mask has bits above " + std::to_string(kNumWorkloads - 1) +
             " (highest known: " + std::to_string(uint64_t{1} << (kNumWorkloads - 1)) + ")";
    return std::nullopt;
  }
  for (const WorkloadInfo& i : kWorkloads) {
    if ((mask & WorkloadBit(i.id)) != 0) {
      out.push_back(i.id);
    }
  }
  return out;
}

bool Applies(Workload w, BackendClass c) {
  const WorkloadInfo& i = Info(w);
  switch (c) {
    case BackendClass::kPcpu:
      return i.pcpu;
    case BackendClass::kVmalloc:
      return i.pages;
    case BackendClass::kPages:
      return i.pages && !i.vmalloc_only;
  }
  return false;
}

std::string_view RoleName(Role r) { return kRoleNames.at(static_cast<size_t>(r)); }

std::vector<uint64_t> SplitOps(uint64_t total, size_t units) {
  std::vector<uint64_t> shares(units, 0);
  for (size_t i = 0; i < units; i++) {
    shares[i] = total / units + (i < total % units ? 1 : 0);
  }
  return shares;
}

ChannelPlan PlanChannels(Workload w, std::span<const int> cpus, uint64_t ops, unsigned purgers,
                         uint32_t nr_channels) {
  ChannelPlan p;
  const size_t n = cpus.size();
  nr_channels = std::max<uint32_t>(nr_channels, 1);
  p.threads.resize(n);
  for (size_t i = 0; i < n; i++) {
    p.threads[i].cpu = cpus[i];
  }
  // Channel number k of a group sharing sessions: session base + k / nr.
  auto add_slot = [&p, nr_channels](size_t session_base, size_t k, uint64_t quota, size_t producer,
                                    size_t consumer) {
    ChannelSlot s;
    s.session = session_base + k / nr_channels;
    s.chan = static_cast<uint32_t>(k % nr_channels);
    s.quota = quota;
    s.producer = producer;
    s.consumer = consumer;
    p.sessions = std::max(p.sessions, s.session + 1);
    p.slots.push_back(s);
  };

  switch (w) {
    case Workload::kCross: {
      const size_t pairs = n / 2;
      const std::vector<uint64_t> shares = SplitOps(ops, pairs);
      for (size_t k = 0; k < pairs; k++) {
        p.threads[2 * k].role = Role::kProducer;
        p.threads[2 * k + 1].role = Role::kConsumer;
        p.threads[2 * k].group = p.threads[2 * k + 1].group = static_cast<int>(k);
        add_slot(k, 0, shares[k], 2 * k, 2 * k + 1);  // a session per pair
      }
      break;
    }
    case Workload::kFanin: {
      if (n < 2) {
        break;
      }
      const std::vector<uint64_t> shares = SplitOps(ops, n - 1);
      for (size_t k = 0; k + 1 < n; k++) {
        p.threads[k].role = Role::kProducer;
        p.threads[k].group = 0;
        add_slot(0, k, shares[k], k, n - 1);
      }
      p.threads[n - 1].role = Role::kConsumer;
      p.threads[n - 1].group = 0;
      break;
    }
    case Workload::kFanout: {
      if (n < 2) {
        break;
      }
      const std::vector<uint64_t> shares = SplitOps(ops, n - 1);
      p.threads[0].role = Role::kProducer;
      p.threads[0].group = 0;
      for (size_t k = 1; k < n; k++) {
        p.threads[k].role = Role::kConsumer;
        p.threads[k].group = 0;
        add_slot(0, k - 1, shares[k - 1], 0, k);
      }
      break;
    }
    case Workload::kPurger: {
      if (n == 0) {
        break;
      }
      const size_t k_purgers = std::clamp<size_t>(purgers, 1, n);
      const std::vector<uint64_t> shares = SplitOps(ops, n);
      for (size_t j = 0; j < k_purgers; j++) {
        ChannelThread t;
        t.role = Role::kPurger;
        t.cpu = cpus[n - k_purgers + j];
        t.group = 0;
        p.threads.push_back(t);
      }
      for (size_t k = 0; k < n; k++) {
        p.threads[k].role = Role::kProducer;
        p.threads[k].group = 0;
        add_slot(0, k, shares[k], k, n + k % k_purgers);
      }
      break;
    }
    default:
      break;
  }
  for (size_t s = 0; s < p.slots.size(); s++) {
    const ChannelSlot& slot = p.slots[s];
    for (const size_t t : {slot.producer, slot.consumer}) {
      p.threads[t].slots.push_back(s);
      p.threads[t].quota += slot.quota;
    }
  }
  return p;
}

HandlePlan PlanHandles(Workload w, std::span<const int> cpus, uint64_t ops, unsigned freers,
                       uint64_t chunk, uint64_t seed) {
  HandlePlan p;
  const size_t n = cpus.size();
  if (n == 0) {
    return p;
  }
  chunk = std::max<uint64_t>(chunk, 1);
  const std::vector<uint64_t> shares = SplitOps(ops, n);
  p.threads.resize(n);
  if (w == Workload::kExit) {
    const size_t f = std::clamp<size_t>(freers, 1, n);
    p.sessions = f;
    for (size_t i = 0; i < n; i++) {
      HandleThread& t = p.threads[i];
      t.cpu = cpus[i];
      t.role = i < f ? Role::kFreer : Role::kAllocator;
      t.frees_session = i < f ? static_cast<int>(i) : -1;
      const std::vector<uint64_t> per_session = SplitOps(shares[i], f);
      for (size_t s = 0; s < f; s++) {
        for (uint64_t left = per_session[s]; left > 0;) {
          const uint64_t c = std::min(left, chunk);
          t.allocs.push_back({s, c});
          left -= c;
        }
      }
    }
    return p;
  }
  // rand: a session per thread, chunks to random sessions.
  p.sessions = n;
  for (size_t i = 0; i < n; i++) {
    HandleThread& t = p.threads[i];
    t.cpu = cpus[i];
    t.role = Role::kFreer;
    t.frees_session = static_cast<int>(i);
    std::mt19937_64 rng(seed + i * 0x9e3779b97f4a7c15ULL);
    for (uint64_t left = shares[i]; left > 0;) {
      const uint64_t c = std::min(left, chunk);
      t.allocs.push_back({static_cast<size_t>(rng() % n), c});
      left -= c;
    }
  }
  return p;
}

}  // namespace pcpool
