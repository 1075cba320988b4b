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
  EXPECT_THAT(o.workloads, ElementsAre(Workload::kRepeat, Workload::kBulk, Workload::kCross));
  EXPECT_THAT(o.orders, ElementsAre(0U));
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
  EXPECT_THAT(ParseErr({"--workload", "fanin"}), HasSubstr("unknown workload 'fanin'"));
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

TEST(Names, BackendsAndWorkloads) {
  EXPECT_EQ(BackendId("kernel"), PCPOOL_BACKEND_KERNEL);
  EXPECT_EQ(BackendId("null"), PCPOOL_BACKEND_NULL);
  EXPECT_EQ(BackendId("classic"), PCPOOL_BACKEND_CLASSIC);
  EXPECT_EQ(BackendId("pcpbuddy"), PCPOOL_BACKEND_PCPBUDDY);
  EXPECT_EQ(BackendId("Kernel"), std::nullopt);
  EXPECT_EQ(BackendName(PCPOOL_BACKEND_PCPBUDDY), "pcpbuddy");
  EXPECT_EQ(BackendName(9), "backend9");
  for (const Workload w : {Workload::kRepeat, Workload::kBulk, Workload::kCross}) {
    EXPECT_EQ(WorkloadFromName(WorkloadName(w)), w);
  }
}

TEST(SplitOps, EvenAndRemainder) {
  EXPECT_THAT(SplitOps(10, 3), ElementsAre(4U, 3U, 3U));
  EXPECT_THAT(SplitOps(9, 3), ElementsAre(3U, 3U, 3U));
  EXPECT_THAT(SplitOps(2, 4), ElementsAre(1U, 1U, 0U, 0U));
  EXPECT_THAT(SplitOps(5, 0), IsEmpty());
}

pcpool_version Module(uint64_t backends) {
  pcpool_version v{};
  v.abi_version = PCPOOL_ABI_VERSION;
  v.backends = backends;
  v.max_order = 10;
  v.max_batch = 1024;
  return v;
}

constexpr uint64_t kKernelNull = (1U << PCPOOL_BACKEND_KERNEL) | (1U << PCPOOL_BACKEND_NULL);

TEST(PlanRuns, EveryCombinationInOrder) {
  const Options o = ParseOk({"--backend", "null,kernel", "--workload", "repeat,bulk", "--order",
                             "0,2", "--threads", "1,2", "--ops", "10,20"});
  const std::vector<int> allowed{0, 1};
  const RunPlan plan = PlanRuns(o, Module(kKernelNull), allowed);
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
                                Module(kKernelNull | (1U << PCPOOL_BACKEND_PCPBUDDY)), allowed);
  ASSERT_EQ(plan.runs.size(), 3U);
  EXPECT_EQ(plan.runs[0].backend, PCPOOL_BACKEND_KERNEL);
  EXPECT_EQ(plan.runs[1].backend, PCPOOL_BACKEND_NULL);
  EXPECT_EQ(plan.runs[2].backend, PCPOOL_BACKEND_PCPBUDDY);
  EXPECT_THAT(plan.runs[0].cpus, ElementsAre(4, 6, 7));
}

TEST(PlanRuns, MissingBackendIsSkippedWithWarning) {
  const std::vector<int> allowed{0};
  RunPlan plan = PlanRuns(ParseOk({"--backend", "classic,null", "--workload", "repeat"}),
                          Module(kKernelNull), allowed);
  EXPECT_EQ(plan.error, "");
  ASSERT_EQ(plan.runs.size(), 1U);
  EXPECT_EQ(plan.runs[0].backend, PCPOOL_BACKEND_NULL);
  EXPECT_THAT(plan.warnings, ElementsAre(HasSubstr("'classic' is not in this module")));

  plan = PlanRuns(ParseOk({"--backend", "classic"}), Module(kKernelNull), allowed);
  EXPECT_THAT(plan.error, HasSubstr("no backend"));
}

TEST(PlanRuns, CrossSkipsOneThreadAndWarnsOnOdd) {
  const std::vector<int> allowed{0, 1, 2};
  const RunPlan plan =
      PlanRuns(ParseOk({"--backend", "null", "--threads", "1,3"}), Module(kKernelNull), allowed);
  EXPECT_EQ(plan.error, "");
  // repeat x2, bulk x2, cross only at 3 threads.
  ASSERT_EQ(plan.runs.size(), 5U);
  EXPECT_EQ(plan.runs[4].workload, Workload::kCross);
  EXPECT_EQ(plan.runs[4].cpus.size(), 3U);
  EXPECT_THAT(plan.warnings, ElementsAre(HasSubstr("at least 2 threads"), HasSubstr("odd")));

  const RunPlan none =
      PlanRuns(ParseOk({"--workload", "cross", "--threads", "1"}), Module(kKernelNull), allowed);
  EXPECT_THAT(none.error, HasSubstr("nothing to run"));
}

TEST(PlanRuns, ChecksLimitsAgainstTheModule) {
  const std::vector<int> allowed{0, 1};
  EXPECT_THAT(PlanRuns(ParseOk({"--order", "11"}), Module(kKernelNull), allowed).error,
              HasSubstr("max_order 10"));
  EXPECT_THAT(PlanRuns(ParseOk({"--batch", "2048"}), Module(kKernelNull), allowed).error,
              HasSubstr("max_batch 1024"));
  EXPECT_THAT(PlanRuns(ParseOk({"--cpus", "0,5"}), Module(kKernelNull), allowed).error,
              HasSubstr("CPU 5 is not in this process's affinity mask (0-1)"));
  const RunPlan plan =
      PlanRuns(ParseOk({"--cpus", "1,0", "--workload", "cross"}), Module(kKernelNull), allowed);
  ASSERT_EQ(plan.runs.size(), 2U);
  EXPECT_THAT(plan.runs[0].cpus, ElementsAre(1, 0));
}

}  // namespace
}  // namespace pcpool
