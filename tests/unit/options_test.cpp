// SPDX-License-Identifier: GPL-2.0
#include "options.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace pcpool {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

using Env = std::map<std::string, std::string>;

ParsedOptions Parse(const std::vector<const char*>& args, const Env& env = {}) {
  return ParseOptions(args, [&env](const std::string& name) -> std::optional<std::string> {
    const auto it = env.find(name);
    return it == env.end() ? std::nullopt : std::optional<std::string>(it->second);
  });
}

Options ParseOk(const std::vector<const char*>& args, const Env& env = {}) {
  ParsedOptions p = Parse(args, env);
  EXPECT_TRUE(p.options.has_value()) << p.error;
  return p.options.value_or(Options{});
}

std::string ParseErr(const std::vector<const char*>& args, const Env& env = {}) {
  ParsedOptions p = Parse(args, env);
  EXPECT_FALSE(p.options.has_value());
  return p.error;
}

TEST(Options, Defaults) {
  const Options o = ParseOk({});
  EXPECT_THAT(o.backends, IsEmpty());
  EXPECT_THAT(o.workloads, IsEmpty()) << "every workload that applies";
  EXPECT_THAT(o.orders, ElementsAre(0U));
  EXPECT_THAT(o.submit, ElementsAre(Submit::kIoctl));
  EXPECT_FALSE(o.latency);
  EXPECT_EQ(o.repeat, 1U);
  EXPECT_FALSE(o.shuffle);
  EXPECT_EQ(o.seed, 1U);
  EXPECT_FALSE(o.check);
  EXPECT_EQ(o.live, 0U);
  EXPECT_EQ(o.purge_batch, kDefaultPurgeBatch);
  EXPECT_EQ(o.uring_depth, kDefaultUringDepth);
  EXPECT_THAT(o.threads, IsEmpty());
  EXPECT_THAT(o.cpus, IsEmpty());
  EXPECT_THAT(o.ops, ElementsAre(kDefaultOps));
  EXPECT_EQ(o.batch, 64U);
  EXPECT_EQ(o.json_path, "");
  EXPECT_FALSE(o.quiet);
  EXPECT_FALSE(o.help);
  EXPECT_EQ(o.device, "/dev/pcpool");
  EXPECT_EQ(o.debugfs, "/sys/kernel/debug/pcpool");
}

TEST(Options, ListsAndBothValueForms) {
  const Options o = ParseOk({"--backend", "kernel,null", "--workload=bulk,cross", "--order", "0,3",
                             "--threads=1,2,4", "--ops", "10,1000", "--batch", "16", "--json", "-",
                             "--csv=out.csv", "--quiet"});
  EXPECT_THAT(o.backends, ElementsAre("kernel", "null"));
  EXPECT_THAT(o.workloads, ElementsAre(Workload::kBulk, Workload::kCross));
  EXPECT_THAT(o.orders, ElementsAre(0U, 3U));
  EXPECT_THAT(o.threads, ElementsAre(1U, 2U, 4U));
  EXPECT_THAT(o.ops, ElementsAre(10U, 1000U));
  EXPECT_EQ(o.batch, 16U);
  EXPECT_EQ(o.json_path, "-");
  EXPECT_EQ(o.csv_path, "out.csv");
  EXPECT_TRUE(o.quiet);
}

TEST(Options, DuplicatesInAListCollapse) {
  const Options o = ParseOk({"--backend", "null,null,kernel", "--order", "1,1"});
  EXPECT_THAT(o.backends, ElementsAre("null", "kernel"));
  EXPECT_THAT(o.orders, ElementsAre(1U));
}

TEST(Options, LaterFlagReplacesEarlier) {
  const Options o = ParseOk({"--ops", "5", "--ops", "7"});
  EXPECT_THAT(o.ops, ElementsAre(7U));
}

TEST(Options, CpusKeepOrder) {
  const Options o = ParseOk({"--cpus", "3,0-1"});
  EXPECT_THAT(o.cpus, ElementsAre(3, 0, 1));
  EXPECT_THAT(o.threads, IsEmpty());
}

TEST(Options, Errors) {
  EXPECT_THAT(ParseErr({"--backend", "kernel,slab"}), HasSubstr("unknown backend 'slab'"));
  EXPECT_THAT(ParseErr({"--workload", "fanon"}), HasSubstr("unknown workload 'fanon'"));
  EXPECT_THAT(ParseErr({"--mask", "0"}), HasSubstr("--mask"));
  EXPECT_THAT(ParseErr({"--mask", "0x100000"}), HasSubstr("bits above"));
  EXPECT_THAT(ParseErr({"--counter-share", "1001"}), HasSubstr("--counter-share"));
  EXPECT_THAT(ParseErr({"--mask", "3", "--workload", "bulk"}), HasSubstr("exclusive"));
  EXPECT_THAT(ParseErr({"--order", "pageblocks"}), HasSubstr("'pageblock'"));
  EXPECT_THAT(ParseErr({"--submit", "aio"}), HasSubstr("unknown path 'aio'"));
  EXPECT_THAT(ParseErr({"--sample-shift", "17"}), HasSubstr("--sample-shift"));
  EXPECT_THAT(ParseErr({"--repeat", "0"}), HasSubstr("--repeat"));
  EXPECT_THAT(ParseErr({"--live", "65537"}), HasSubstr("--live"));
  EXPECT_THAT(ParseErr({"--freers", "1,x"}), HasSubstr("--freers: 'x'"));
  EXPECT_THAT(ParseErr({"--order", "64"}), HasSubstr("--order: '64'"));
  EXPECT_THAT(ParseErr({"--order", "-1"}), HasSubstr("--order"));
  EXPECT_THAT(ParseErr({"--threads", "0"}), HasSubstr("--threads: '0'"));
  EXPECT_THAT(ParseErr({"--threads", "2,"}), HasSubstr("--threads: ''"));
  EXPECT_THAT(ParseErr({"--ops", "0"}), HasSubstr("--ops"));
  EXPECT_THAT(ParseErr({"--ops", "1e6"}), HasSubstr("--ops: '1e6'"));
  EXPECT_THAT(ParseErr({"--batch", "0"}), HasSubstr("--batch"));
  EXPECT_THAT(ParseErr({"--batch", "65537"}), HasSubstr("--batch"));
  EXPECT_THAT(ParseErr({"--batch", "1,2"}), HasSubstr("--batch"));
  EXPECT_THAT(ParseErr({"--cpus", "3-1"}), HasSubstr("--cpus: descending"));
  EXPECT_THAT(ParseErr({"--ops"}), HasSubstr("--ops needs a value"));
  EXPECT_THAT(ParseErr({"--ops="}), HasSubstr("non-empty"));
  EXPECT_THAT(ParseErr({"--frobnicate"}), HasSubstr("unknown option '--frobnicate'"));
  EXPECT_THAT(ParseErr({"kernel"}), HasSubstr("unexpected argument 'kernel'"));
  EXPECT_THAT(ParseErr({"--quiet=maybe"}), HasSubstr("not a boolean"));
  EXPECT_THAT(ParseErr({"--threads", "2", "--cpus", "0-1"}), HasSubstr("exclusive"));
  EXPECT_THAT(ParseErr({"--json", "x", "--csv", "x"}), HasSubstr("same file"));
}

TEST(Options, Help) {
  EXPECT_TRUE(ParseOk({"--help"}).help);
  EXPECT_TRUE(ParseOk({"-h"}).help);
  EXPECT_THAT(UsageText(), HasSubstr("--backend LIST"));
}

TEST(Options, EnvironmentFallbackAndOverride) {
  const Env env{{"PCPOOL_OPS", "123"},
                {"PCPOOL_BACKEND", "null"},
                {"PCPOOL_QUIET", "yes"},
                {"PCPOOL_THREADS", "3"}};
  Options o = ParseOk({}, env);
  EXPECT_THAT(o.ops, ElementsAre(123U));
  EXPECT_THAT(o.backends, ElementsAre("null"));
  EXPECT_TRUE(o.quiet);
  EXPECT_THAT(o.threads, ElementsAre(3U));

  o = ParseOk({"--ops", "9", "--quiet=0", "--cpus", "0"}, env);
  EXPECT_THAT(o.ops, ElementsAre(9U));
  EXPECT_FALSE(o.quiet);
  EXPECT_THAT(o.cpus, ElementsAre(0));
  EXPECT_THAT(o.threads, IsEmpty()) << "--cpus replaces PCPOOL_THREADS";
}

TEST(Options, BadEnvironmentNamesTheVariable) {
  EXPECT_THAT(ParseErr({}, {{"PCPOOL_ORDER", "x"}}), HasSubstr("PCPOOL_ORDER=x"));
  EXPECT_THAT(ParseErr({}, {{"PCPOOL_THREADS", "2"}, {"PCPOOL_CPUS", "0"}}),
              HasSubstr("exclusive"));
}

TEST(Options, WorkloadsByNameAllOrMask) {
  EXPECT_THAT(ParseOk({"--workload", "all"}).workloads, IsEmpty()) << "all that apply";
  EXPECT_THAT(ParseOk({"--workload", "bulk,all"}).workloads, IsEmpty());
  EXPECT_THAT(ParseOk({"--workload", "exit,fanin,exit"}).workloads,
              ElementsAre(Workload::kExit, Workload::kFanin));
  EXPECT_THAT(ParseOk({"--mask", "0x6"}).workloads, ElementsAre(Workload::kBulk, Workload::kBusy));
  // test_vmalloc's names work too.
  const Options o = ParseOk({"--run-test-mask=1", "--nr-threads", "2", "--test-repeat-count=3"});
  EXPECT_THAT(o.workloads, ElementsAre(Workload::kRepeat));
  EXPECT_THAT(o.threads, ElementsAre(2U));
  EXPECT_EQ(o.repeat, 3U);
  EXPECT_THAT(ParseOk({}, {{"PCPOOL_MASK", "256"}}).workloads, ElementsAre(Workload::kExit));
}

TEST(Options, HarnessKnobs) {
  const Options o =
      ParseOk({"--order", "0,pageblock",   "--submit", "uring,ioctl", "--latency", "--sample-shift",
               "4",       "--shuffle",     "--seed",   "99",          "--check",   "--live",
               "100",     "--purgers",     "2",        "--freers",    "1,4",       "--purge-batch",
               "512",     "--uring-depth", "8"});
  EXPECT_THAT(o.orders, ElementsAre(0U, kPageblockOrder));
  EXPECT_THAT(o.submit, ElementsAre(Submit::kUring, Submit::kIoctl));
  EXPECT_TRUE(o.latency);
  EXPECT_EQ(o.sample_shift, 4U);
  EXPECT_TRUE(o.shuffle);
  EXPECT_EQ(o.seed, 99U);
  EXPECT_TRUE(o.check);
  EXPECT_EQ(o.live, 100U);
  EXPECT_EQ(o.purgers, 2U);
  EXPECT_THAT(o.freers, ElementsAre(1U, 4U));
  EXPECT_EQ(o.purge_batch, 512U);
  EXPECT_EQ(o.uring_depth, 8U);
  EXPECT_FALSE(ParseOk({"--shuffle", "--sequential"}).shuffle);
}

TEST(Names, BackendsAndWorkloads) {
  EXPECT_EQ(BackendId("kernel"), PCPOOL_BACKEND_KERNEL);
  EXPECT_EQ(BackendId("null"), PCPOOL_BACKEND_NULL);
  EXPECT_EQ(BackendId("classic"), PCPOOL_BACKEND_CLASSIC);
  EXPECT_EQ(BackendId("pcpbuddy"), PCPOOL_BACKEND_PCPBUDDY);
  EXPECT_EQ(BackendId("vmalloc"), PCPOOL_BACKEND_VMALLOC);
  EXPECT_EQ(BackendId("pcpu-zeroed"), PCPOOL_BACKEND_PCPU_ZEROED);
  EXPECT_EQ(BackendId("Kernel"), std::nullopt);
  EXPECT_EQ(BackendId(""), std::nullopt);
  EXPECT_EQ(BackendName(PCPOOL_BACKEND_PCPBUDDY), "pcpbuddy");
  EXPECT_EQ(BackendName(PCPOOL_BACKEND_VMAP_NODES), "vmap-nodes");
  EXPECT_EQ(BackendName(7), "backend7");
  EXPECT_EQ(BackendName(30), "backend30");
  EXPECT_EQ(DefaultBackendClass(PCPOOL_BACKEND_VMALLOC), BackendClass::kVmalloc);
  EXPECT_EQ(DefaultBackendClass(PCPOOL_BACKEND_VMAP_GLOBAL), BackendClass::kVmalloc);
  EXPECT_EQ(DefaultBackendClass(PCPOOL_BACKEND_PCPU_RAW), BackendClass::kPcpu);
  EXPECT_EQ(DefaultBackendClass(PCPOOL_BACKEND_KERNEL), BackendClass::kPages);
}

pcpool_version Module(uint64_t backends) {
  pcpool_version v{};
  v.abi_version = PCPOOL_ABI_VERSION;
  v.backends = backends;
  v.max_order = 10;
  v.max_batch = 1024;
  v.block_order = 9;
  v.nr_cpu_ids = 4;
  v.nr_channels = 16;
  return v;
}

constexpr uint64_t kKernelNull = (1U << PCPOOL_BACKEND_KERNEL) | (1U << PCPOOL_BACKEND_NULL);

TEST(PlanRuns, EveryCombinationInOrder) {
  const Options o = ParseOk({"--backend", "null,kernel", "--workload", "repeat,bulk", "--order",
                             "0,2", "--threads", "1,2", "--ops", "10,20"});
  const std::vector<int> allowed{0, 1};
  const RunPlan plan = PlanRuns(o, Module(kKernelNull), {}, allowed);
  ASSERT_EQ(plan.error, "");
  EXPECT_THAT(plan.warnings, IsEmpty());
  ASSERT_EQ(plan.runs.size(), 2U * 2 * 2 * 2 * 2);
  // Backend outermost, ops innermost, in the order given.
  EXPECT_EQ(plan.runs[0].backend, PCPOOL_BACKEND_NULL);
  EXPECT_EQ(plan.runs[0].workload, Workload::kRepeat);
  EXPECT_EQ(plan.runs[0].batch, 0U);
  EXPECT_EQ(plan.runs[0].ops, 10U);
  EXPECT_EQ(plan.runs[1].ops, 20U);
  EXPECT_THAT(plan.runs[2].cpus, ElementsAre(0, 1));
  EXPECT_EQ(plan.runs[4].order, 2U);
  EXPECT_EQ(plan.runs[8].workload, Workload::kBulk);
  EXPECT_EQ(plan.runs[8].batch, 64U);
  EXPECT_EQ(plan.runs[16].backend, PCPOOL_BACKEND_KERNEL);
}

TEST(PlanRuns, DefaultBackendsAreTheModulesAndThreadsFollowAllowedCpus) {
  const std::vector<int> allowed{4, 6, 7};
  const RunPlan plan = PlanRuns(ParseOk({"--workload", "repeat"}),
                                Module(kKernelNull | (1U << PCPOOL_BACKEND_PCPBUDDY)), {}, allowed);
  ASSERT_EQ(plan.runs.size(), 3U);
  EXPECT_EQ(plan.runs[0].backend, PCPOOL_BACKEND_KERNEL);
  EXPECT_EQ(plan.runs[1].backend, PCPOOL_BACKEND_NULL);
  EXPECT_EQ(plan.runs[2].backend, PCPOOL_BACKEND_PCPBUDDY);
  EXPECT_THAT(plan.runs[0].cpus, ElementsAre(4, 6, 7));
}

TEST(PlanRuns, MissingBackendIsSkippedWithWarning) {
  const std::vector<int> allowed{0};
  RunPlan plan = PlanRuns(ParseOk({"--backend", "classic,null", "--workload", "repeat"}),
                          Module(kKernelNull), {}, allowed);
  EXPECT_EQ(plan.error, "");
  ASSERT_EQ(plan.runs.size(), 1U);
  EXPECT_EQ(plan.runs[0].backend, PCPOOL_BACKEND_NULL);
  EXPECT_THAT(plan.warnings, ElementsAre(HasSubstr("'classic' is not in this module")));

  plan = PlanRuns(ParseOk({"--backend", "classic"}), Module(kKernelNull), {}, allowed);
  EXPECT_THAT(plan.error, HasSubstr("no backend"));
}

TEST(PlanRuns, CrossSkipsOneThreadAndWarnsOnOdd) {
  const std::vector<int> allowed{0, 1, 2};
  const RunPlan plan = PlanRuns(
      ParseOk({"--backend", "null", "--threads", "1,3", "--workload", "repeat,bulk,cross"}),
      Module(kKernelNull), {}, allowed);
  EXPECT_EQ(plan.error, "");
  // repeat x2, bulk x2, cross only at 3 threads.
  ASSERT_EQ(plan.runs.size(), 5U);
  EXPECT_EQ(plan.runs[4].workload, Workload::kCross);
  EXPECT_EQ(plan.runs[4].cpus.size(), 3U);
  EXPECT_THAT(plan.warnings, ElementsAre(HasSubstr("at least 2 threads"), HasSubstr("odd")));

  const RunPlan none = PlanRuns(ParseOk({"--workload", "cross", "--threads", "1"}),
                                Module(kKernelNull), {}, allowed);
  EXPECT_THAT(none.error, HasSubstr("nothing to run"));
}

TEST(PlanRuns, ChecksLimitsAgainstTheModule) {
  const std::vector<int> allowed{0, 1};
  const RunPlan high = PlanRuns(ParseOk({"--order", "11"}), Module(kKernelNull), {}, allowed);
  EXPECT_THAT(high.error, HasSubstr("nothing to run"));
  EXPECT_THAT(high.warnings, ::testing::Contains(HasSubstr("max_order 10")));
  EXPECT_THAT(PlanRuns(ParseOk({"--batch", "2048"}), Module(kKernelNull), {}, allowed).error,
              HasSubstr("max_batch 1024"));
  EXPECT_THAT(PlanRuns(ParseOk({"--cpus", "0,5"}), Module(kKernelNull), {}, allowed).error,
              HasSubstr("CPU 5 is not in this process's affinity mask (0-1)"));
  const RunPlan plan =
      PlanRuns(ParseOk({"--cpus", "1,0", "--workload", "cross"}), Module(kKernelNull), {}, allowed);
  ASSERT_EQ(plan.runs.size(), 2U);
  EXPECT_THAT(plan.runs[0].cpus, ElementsAre(1, 0));
}

// Only what is asked for: one backend, one order, 4 threads on CPUs 0-3.
RunPlan Plan4(std::vector<const char*> args, uint64_t backends = kKernelNull,
              const BackendCaps& caps = {}) {
  args.insert(args.end(), {"--threads", "4"});
  const std::vector<int> allowed{0, 1, 2, 3};
  return PlanRuns(ParseOk(args), Module(backends), caps, allowed);
}

TEST(PlanRuns, ExitRunsOnceWithOneFreerAndOnceWithAll) {
  RunPlan plan = Plan4({"--backend", "null", "--workload", "exit", "--ops", "100000"});
  ASSERT_EQ(plan.runs.size(), 2U);
  EXPECT_EQ(plan.runs[0].freers, 1U);
  EXPECT_EQ(plan.runs[1].freers, 4U);
  EXPECT_EQ(plan.runs[0].batch, 1024U) << "ALLOC chunks of 4096, capped at max_batch";
  plan = Plan4({"--backend", "null", "--workload", "exit", "--freers", "2,9,4"});
  ASSERT_EQ(plan.runs.size(), 2U) << "9 is clamped to the 4 threads, which are already there";
  EXPECT_EQ(plan.runs[0].freers, 2U);
  EXPECT_EQ(plan.runs[1].freers, 4U);
}

TEST(PlanRuns, OverheadComparesIoctlUringAndTheLoop) {
  const RunPlan plan = Plan4({"--backend", "null", "--workload", "overhead", "--uring-depth", "8"});
  ASSERT_EQ(plan.runs.size(), 3U);
  EXPECT_EQ(SubmitLabel(plan.runs[0]), "ioctl");
  EXPECT_EQ(SubmitLabel(plan.runs[1]), "uring");
  EXPECT_EQ(SubmitLabel(plan.runs[2]), "loop");
  EXPECT_EQ(plan.runs[1].uring_depth, 8U);
}

TEST(PlanRuns, SubmitIsADimension) {
  const RunPlan plan =
      Plan4({"--backend", "null", "--workload", "repeat", "--submit", "ioctl,uring"});
  ASSERT_EQ(plan.runs.size(), 2U);
  EXPECT_EQ(plan.runs[0].submit, Submit::kIoctl);
  EXPECT_EQ(plan.runs[1].submit, Submit::kUring);
}

TEST(PlanRuns, WorkloadParameters) {
  RunPlan plan = Plan4({"--backend", "null", "--workload", "busy,churn,purger", "--order", "0,3"});
  ASSERT_EQ(plan.runs.size(), 6U);
  EXPECT_EQ(plan.runs[0].live, kDefaultBusyPages);
  EXPECT_EQ(plan.runs[1].live, kDefaultBusyPages >> 3) << "the same pages at order 3";
  EXPECT_EQ(plan.runs[2].live, kDefaultChurnPages);
  EXPECT_EQ(plan.runs[4].freers, 1U) << "a quarter of 4 threads purge";
  EXPECT_EQ(plan.runs[4].purge_batch, kDefaultPurgeBatch);
  plan = Plan4({"--backend", "null", "--workload", "busy", "--live", "33", "--purgers", "3"});
  EXPECT_EQ(plan.runs[0].live, 33U);
  plan = Plan4({"--backend", "null", "--workload", "repeat", "--order", "pageblock"});
  ASSERT_EQ(plan.runs.size(), 1U);
  EXPECT_EQ(plan.runs[0].order, 9U);
  EXPECT_EQ(plan.runs[0].seed, 1U);
}

// counter: one run per share, the share in RUN's seed; not on
// pcpu-constructed, whose objects the lazy counter cannot use.
// A plan on a module with pcpu-raw and pcpu-constructed.
RunPlan PlanRawConstructed(std::vector<const char*> args) {
  const uint64_t mod =
      kKernelNull | (1U << PCPOOL_BACKEND_PCPU_RAW) | (1U << PCPOOL_BACKEND_PCPU_CONSTRUCTED);
  const BackendCaps caps = {{PCPOOL_BACKEND_PCPU_RAW, {BackendClass::kPcpu, 15}},
                            {PCPOOL_BACKEND_PCPU_CONSTRUCTED, {BackendClass::kPcpu, 15}}};
  return Plan4(std::move(args), mod, caps);
}

TEST(PlanRuns, CounterRunsPerShareAndSkipsConstructed) {
  RunPlan plan = PlanRawConstructed({"--backend", "pcpu-raw,pcpu-constructed", "--workload",
                                     "counter", "--counter-share", "0,250", "--batch", "16"});
  ASSERT_EQ(plan.runs.size(), 2U);
  EXPECT_EQ(plan.runs[0].backend, PCPOOL_BACKEND_PCPU_RAW);
  EXPECT_EQ(plan.runs[0].share, 0U);
  EXPECT_EQ(plan.runs[1].share, 250U);
  EXPECT_EQ(plan.runs[1].batch, 16U);
  EXPECT_THAT(plan.warnings,
              ::testing::Contains(HasSubstr("counter does not apply to pcpu-constructed")));
}

// sizes: one run per mix, the mix in RUN's seed (uniform by default).
TEST(PlanRuns, SizesRunsPerMix) {
  const uint64_t mod = kKernelNull | (1U << PCPOOL_BACKEND_PCPU_RAW);
  const BackendCaps caps = {{PCPOOL_BACKEND_PCPU_RAW, {BackendClass::kPcpu, 15}}};
  RunPlan plan = Plan4({"--backend", "pcpu-raw", "--workload", "sizes"}, mod, caps);
  ASSERT_EQ(plan.runs.size(), 1U);
  EXPECT_EQ(plan.runs[0].share, PCPOOL_SIZES_UNIFORM);
  plan = Plan4({"--backend", "pcpu-raw", "--workload", "sizes", "--sizes-mix", "uniform,real"}, mod,
               caps);
  ASSERT_EQ(plan.runs.size(), 2U);
  EXPECT_EQ(plan.runs[0].share, PCPOOL_SIZES_UNIFORM);
  EXPECT_EQ(plan.runs[1].share, PCPOOL_SIZES_REAL);
  EXPECT_THAT(ParseErr({"--sizes-mix", "zipf"}), HasSubstr("--sizes-mix"));
}

// lifecycle: one run per shape; counters skip pcpu-constructed.
TEST(PlanRuns, LifecycleShapesSkipConstructedForCounters) {
  RunPlan plan = PlanRawConstructed({"--backend", "pcpu-raw,pcpu-constructed", "--workload",
                                     "lifecycle", "--lifecycle-shape", "words,counters"});
  ASSERT_EQ(plan.runs.size(), 3U);
  EXPECT_EQ(plan.runs[0].share, PCPOOL_LIFECYCLE_WORDS);
  EXPECT_EQ(plan.runs[1].share, PCPOOL_LIFECYCLE_COUNTERS);
  EXPECT_EQ(plan.runs[2].backend, PCPOOL_BACKEND_PCPU_CONSTRUCTED);
  EXPECT_EQ(plan.runs[2].share, PCPOOL_LIFECYCLE_WORDS);
  EXPECT_THAT(plan.warnings, ::testing::Contains(HasSubstr("lifecycle counters do not apply")));
  EXPECT_THAT(ParseErr({"--lifecycle-shape", "pages"}), HasSubstr("--lifecycle-shape"));
}

// pcpu-null, the per-CPU floor, has no counter either: counter and
// counter-shaped lifecycle skip it, words-shaped lifecycle runs on it.
TEST(PlanRuns, PcpuNullRunsWordsButNoCounter) {
  const uint64_t mod = kKernelNull | (1U << PCPOOL_BACKEND_PCPU_NULL);
  const BackendCaps caps = {{PCPOOL_BACKEND_PCPU_NULL, {BackendClass::kPcpu, 15}}};
  RunPlan plan = Plan4({"--backend", "pcpu-null", "--workload", "lifecycle,counter",
                        "--lifecycle-shape", "words,counters"},
                       mod, caps);
  ASSERT_EQ(plan.runs.size(), 1U);
  EXPECT_EQ(plan.runs[0].backend, PCPOOL_BACKEND_PCPU_NULL);
  EXPECT_EQ(plan.runs[0].share, PCPOOL_LIFECYCLE_WORDS);
  EXPECT_THAT(plan.warnings,
              ::testing::Contains(HasSubstr("lifecycle counters do not apply to pcpu-null")));
  EXPECT_THAT(plan.warnings, ::testing::Contains(HasSubstr("counter does not apply to pcpu-null")));
}

TEST(PlanRuns, WorkloadsGoWhereTheyApply) {
  const uint64_t mod =
      kKernelNull | (1U << PCPOOL_BACKEND_VMALLOC) | (1U << PCPOOL_BACKEND_PCPU_RAW);
  BackendCaps caps;
  caps[PCPOOL_BACKEND_KERNEL] = {BackendClass::kPages, 10};
  caps[PCPOOL_BACKEND_NULL] = {BackendClass::kPages, 10};
  caps[PCPOOL_BACKEND_VMALLOC] = {BackendClass::kVmalloc, 10};
  caps[PCPOOL_BACKEND_PCPU_RAW] = {BackendClass::kPcpu, 11};
  RunPlan plan = Plan4({"--workload", "random-size,lifecycle"}, mod, caps);
  ASSERT_EQ(plan.runs.size(), 2U);
  EXPECT_EQ(plan.runs[0].backend, PCPOOL_BACKEND_VMALLOC);
  EXPECT_EQ(plan.runs[1].backend, PCPOOL_BACKEND_PCPU_RAW);
  EXPECT_EQ(plan.runs[1].batch, 4U) << "lifecycle touches at most nr_cpu_ids CPUs";
  EXPECT_THAT(plan.warnings,
              ::testing::Contains(HasSubstr("random-size does not apply to kernel")));
  // Unasked-for workloads are left out silently.
  plan = Plan4({"--backend", "kernel"}, mod, caps);
  EXPECT_THAT(plan.warnings, IsEmpty());
  for (const RunSpec& r : plan.runs) {
    EXPECT_TRUE(Applies(r.workload, BackendClass::kPages)) << WorkloadName(r.workload);
  }
  // Orders above a backend's own limit are skipped for that backend only.
  plan = Plan4({"--workload", "repeat", "--order", "11"}, mod, caps);
  ASSERT_EQ(plan.runs.size(), 1U);
  EXPECT_EQ(plan.runs[0].backend, PCPOOL_BACKEND_PCPU_RAW);
  // Order-0-only workloads.
  plan = Plan4({"--backend", "vmalloc", "--workload", "long-busy", "--order", "0,1"}, mod, caps);
  ASSERT_EQ(plan.runs.size(), 1U);
  EXPECT_EQ(plan.runs[0].live, kLongBusyList);
}

TEST(PlanRuns, PcpuWorkloadReplacesWorkloadForPerCpuBackends) {
  const uint64_t mod = kKernelNull | (1U << PCPOOL_BACKEND_PCPU_RAW);
  BackendCaps caps;
  caps[PCPOOL_BACKEND_KERNEL] = {BackendClass::kPages, 10};
  caps[PCPOOL_BACKEND_NULL] = {BackendClass::kPages, 10};
  caps[PCPOOL_BACKEND_PCPU_RAW] = {BackendClass::kPcpu, 11};
  const RunPlan plan =
      Plan4({"--workload", "repeat,cross", "--pcpu-workload", "repeat"}, mod, caps);
  EXPECT_THAT(plan.warnings, IsEmpty());
  std::vector<std::string> got;
  for (const RunSpec& r : plan.runs) {
    got.push_back(BackendName(r.backend) + "/" + std::string(WorkloadName(r.workload)));
  }
  EXPECT_THAT(got, ElementsAre("kernel/repeat", "kernel/cross", "null/repeat", "null/cross",
                               "pcpu-raw/repeat"));
  EXPECT_THAT(ParseErr({"--pcpu-workload", "nope"}), HasSubstr("--pcpu-workload: unknown"));
}

TEST(PlanRuns, RepeatKeepsRepetitionsTogetherAndShuffleIsSeeded) {
  RunPlan plan = Plan4({"--backend", "null", "--workload", "repeat,bulk", "--repeat", "3"});
  ASSERT_EQ(plan.runs.size(), 6U);
  for (size_t i = 0; i < 6; i++) {
    EXPECT_EQ(plan.runs[i].repetition, i % 3);
    EXPECT_EQ(plan.runs[i].seed, 1 + i % 3) << "each repetition draws anew";
  }
  const std::vector<const char*> args{"--backend", "null,kernel", "--workload", "all", "--repeat",
                                      "2",         "--shuffle",   "--seed",     "5"};
  const RunPlan a = Plan4(args);
  const RunPlan b = Plan4(args);
  const RunPlan seq = Plan4({"--backend", "null,kernel", "--workload", "all", "--repeat", "2"});
  ASSERT_EQ(a.runs.size(), seq.runs.size());
  bool moved = false;
  for (size_t i = 0; i < a.runs.size(); i++) {
    EXPECT_EQ(a.runs[i].workload, b.runs[i].workload);
    EXPECT_EQ(a.runs[i].backend, b.runs[i].backend);
    moved = moved || a.runs[i].workload != seq.runs[i].workload ||
            a.runs[i].backend != seq.runs[i].backend;
    if (i % 2 == 1) {
      EXPECT_EQ(a.runs[i].repetition, 1U);
      EXPECT_EQ(a.runs[i].workload, a.runs[i - 1].workload);
    }
  }
  EXPECT_TRUE(moved);
}

}  // namespace
}  // namespace pcpool
