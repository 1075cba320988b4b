// SPDX-License-Identifier: GPL-2.0
// The harness's workloads: names, selection bitmask (test_vmalloc's
// run_test_mask), where each applies, and how threads, sessions and
// channels are laid out for the ones driven from userspace.
#ifndef PCPOOL_USERSPACE_WORKLOADS_H_
#define PCPOOL_USERSPACE_WORKLOADS_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace pcpool {

// Order is the bit order of --mask; append only.
enum class Workload {
  kRepeat,
  kBulk,
  kBusy,
  kChurn,
  kCross,
  kFanin,
  kFanout,
  kPurger,
  kExit,
  kRand,
  kRandomSize,
  kLongBusy,
  kLifecycle,
  kSizes,
  kOverhead,
  kFixSize,
  kFullFit,
  kFixAlign,
  kCounter,
  kReplay,
};
inline constexpr size_t kNumWorkloads = 20;

enum class WorkloadKind {
  kRun,       // one PCPOOL_IOC_RUN loop per thread, in the kernel
  kChannel,   // producers and consumers on kernel channels (PCPOOL_IOC_CHAN)
  kHandles,   // PCPOOL_IOC_ALLOC everywhere, then PCPOOL_IOC_FREE elsewhere
  kOverhead,  // the cost of submitting a command
  kReplay,    // a page-allocation trace (--trace), one thread per traced CPU
};

// What a backend's blocks are (pcpool_stats.kind).
enum class BackendClass { kPages, kVmalloc, kPcpu };

struct WorkloadInfo {
  Workload id;
  std::string_view name;
  WorkloadKind kind;
  int kernel_id;  // enum pcpool_workload_id for kRun, else -1
  bool pages;     // page backends (vmalloc included)
  bool pcpu;      // per-CPU object backends
  bool vmalloc_only;
  unsigned min_threads;
  std::string_view summary;
};

std::span<const WorkloadInfo> AllWorkloads();
const WorkloadInfo& Info(Workload w);
std::string_view WorkloadName(Workload w);
std::optional<Workload> WorkloadFromName(std::string_view name);
inline uint64_t WorkloadBit(Workload w) { return uint64_t{1} << static_cast<unsigned>(w); }
// The workloads whose bits are set, in id order; an unknown bit is an error.
std::optional<std::vector<Workload>> WorkloadsFromMask(uint64_t mask, std::string* error);
bool Applies(Workload w, BackendClass c);

// Thread roles.
enum class Role { kWorker, kProducer, kConsumer, kPurger, kAllocator, kFreer, kIdle };
std::string_view RoleName(Role r);

// Channel workloads. Every channel has one producer and one consumer
// thread and a quota: the blocks that go through it.
struct ChannelSlot {
  size_t session = 0;  // index of the session owning it
  uint32_t chan = 0;   // channel number in that session
  uint64_t quota = 0;
  size_t producer = 0;  // thread indexes
  size_t consumer = 0;
};

struct ChannelThread {
  Role role = Role::kIdle;
  int cpu = -1;
  int group = -1;             // pair (cross), else 0; -1 idle
  std::vector<size_t> slots;  // indexes into ChannelPlan::slots
  uint64_t quota = 0;         // sum of its slots' quotas
};

struct ChannelPlan {
  size_t sessions = 0;
  std::vector<ChannelThread> threads;
  std::vector<ChannelSlot> slots;
};

// cross: threads paired in order, producer then consumer, a session each;
//   an odd last thread idles.
// fanin: every thread but the last produces, the last consumes (N:1).
// fanout: the first thread produces, every other consumes (1:N).
// purger: every thread produces into its own channel; @purgers extra
//   threads, pinned to the last @purgers CPUs, each drain every
//   purgers-th channel.
// Channels are numbered per session, @nr_channels per session at most.
// @ops blocks in all, split over producers, then over their channels.
ChannelPlan PlanChannels(Workload w, std::span<const int> cpus, uint64_t ops, unsigned purgers,
                         uint32_t nr_channels);

// Handle workloads: what each thread allocates into which session, and
// which session it frees afterwards.
struct HandleChunk {
  size_t session = 0;
  uint64_t count = 0;
};

struct HandleThread {
  Role role = Role::kAllocator;
  int cpu = -1;
  std::vector<HandleChunk> allocs;  // in order; each at most one ALLOC call
  int frees_session = -1;           // session it frees, -1 none
};

struct HandlePlan {
  size_t sessions = 0;
  std::vector<HandleThread> threads;
};

// exit: every thread allocates its share, spread evenly over @freers
//   sessions in chunks of @chunk; the first @freers threads then each free
//   one session's blocks.
// rand: every thread allocates its share in chunks of @chunk, each into a
//   session drawn at random (@seed); then thread i frees session i's
//   blocks in shuffled order.
HandlePlan PlanHandles(Workload w, std::span<const int> cpus, uint64_t ops, unsigned freers,
                       uint64_t chunk, uint64_t seed);

// Splits @total over @units: the first total % units get one more.
std::vector<uint64_t> SplitOps(uint64_t total, size_t units);

}  // namespace pcpool

#endif  // PCPOOL_USERSPACE_WORKLOADS_H_
