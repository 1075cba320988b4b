// SPDX-License-Identifier: GPL-2.0
#include "summary.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <linux/pcpool.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "report.h"

namespace pcpool {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using Json = nlohmann::json;

RunResult MakeRun(uint32_t backend, Workload w, uint64_t ns, uint64_t ops,
                  std::optional<int64_t> zone_locks = std::nullopt, unsigned rep = 0) {
  RunResult r;
  r.spec.backend = backend;
  r.spec.workload = w;
  r.spec.cpus = {0, 1};
  r.spec.ops = ops;
  r.spec.repetition = rep;
  r.stats.ns = ns;
  r.stats.ops = ops;
  if (zone_locks) {
    r.counters = CounterDeltas{{"zone_lock_acquisitions", *zone_locks}};
  }
  return r;
}

TEST(Summary, PcpbuddyOverKernelAndClassic) {
  const std::vector<RunResult> runs = {
      MakeRun(PCPOOL_BACKEND_KERNEL, Workload::kRepeat, 9000, 1000),
      MakeRun(PCPOOL_BACKEND_NULL, Workload::kRepeat, 100, 1000),
      MakeRun(PCPOOL_BACKEND_CLASSIC, Workload::kRepeat, 6000, 1000, 500),
      MakeRun(PCPOOL_BACKEND_PCPBUDDY, Workload::kRepeat, 3000, 1000, 20),
  };
  const Summary s = Summarize(runs);
  ASSERT_EQ(s.workloads.size(), 1U);
  EXPECT_EQ(s.workloads[0].name, "repeat/order:0/threads:2/ops:1000");
  EXPECT_DOUBLE_EQ(s.workloads[0].pcpbuddy_over_kernel.value(), 3.0);
  EXPECT_DOUBLE_EQ(s.workloads[0].pcpbuddy_over_classic.value(), 2.0);
  EXPECT_DOUBLE_EQ(s.workloads[0].classic_zone_locks_per_1000.value(), 500.0);
  EXPECT_DOUBLE_EQ(s.workloads[0].pcpbuddy_zone_locks_per_1000.value(), 20.0);
  EXPECT_THAT(s.pcpu, IsEmpty());
}

TEST(Summary, PoolsRepetitionsAndSkipsFailures) {
  std::vector<RunResult> runs = {
      MakeRun(PCPOOL_BACKEND_KERNEL, Workload::kCross, 4000, 1000, std::nullopt, 0),
      MakeRun(PCPOOL_BACKEND_KERNEL, Workload::kCross, 2000, 1000, std::nullopt, 1),
      MakeRun(PCPOOL_BACKEND_PCPBUDDY, Workload::kCross, 1000, 1000, 4, 0),
      MakeRun(PCPOOL_BACKEND_PCPBUDDY, Workload::kCross, 1000, 1000, 6, 1),
      MakeRun(PCPOOL_BACKEND_CLASSIC, Workload::kCross, 1000, 1000),
  };
  runs.back().error = "ENOMEM";
  const Summary s = Summarize(runs);
  ASSERT_EQ(s.workloads.size(), 1U);
  // (4000 + 2000) / 2000 ops over (1000 + 1000) / 2000 ops.
  EXPECT_DOUBLE_EQ(s.workloads[0].pcpbuddy_over_kernel.value(), 3.0);
  EXPECT_FALSE(s.workloads[0].pcpbuddy_over_classic.has_value());
  EXPECT_FALSE(s.workloads[0].classic_zone_locks_per_1000.has_value());
  EXPECT_DOUBLE_EQ(s.workloads[0].pcpbuddy_zone_locks_per_1000.value(), 5.0);
}

TEST(Summary, ComparesOnlyMatchingConfigurations) {
  RunResult exit1 = MakeRun(PCPOOL_BACKEND_KERNEL, Workload::kExit, 8000, 1000);
  exit1.spec.freers = 1;
  RunResult exit2 = MakeRun(PCPOOL_BACKEND_PCPBUDDY, Workload::kExit, 1000, 1000);
  exit2.spec.freers = 2;
  const std::vector<RunResult> runs = {exit1, exit2};
  const Summary s = Summarize(runs);
  ASSERT_EQ(s.workloads.size(), 1U);
  EXPECT_EQ(s.workloads[0].name, "exit/freers:2/order:0/threads:2/ops:1000");
  EXPECT_FALSE(s.workloads[0].pcpbuddy_over_kernel.has_value());
}

TEST(Summary, PerCpuCachesOverAllocPercpu) {
  const std::vector<RunResult> runs = {
      MakeRun(PCPOOL_BACKEND_PCPU_KERNEL, Workload::kRepeat, 8000, 1000),
      MakeRun(PCPOOL_BACKEND_PCPU_RAW, Workload::kRepeat, 1000, 1000),
      MakeRun(PCPOOL_BACKEND_PCPU_ZEROED, Workload::kRepeat, 2000, 1000),
  };
  const Summary s = Summarize(runs);
  EXPECT_THAT(s.workloads, IsEmpty());
  ASSERT_EQ(s.pcpu.size(), 2U);
  EXPECT_EQ(s.pcpu[0].backend, "pcpu-raw");
  EXPECT_DOUBLE_EQ(s.pcpu[0].over_pcpu_kernel, 8.0);
  EXPECT_EQ(s.pcpu[1].backend, "pcpu-zeroed");
  EXPECT_DOUBLE_EQ(s.pcpu[1].over_pcpu_kernel, 4.0);
}

TEST(Summary, PcpuNullIsPrintedAsTheFloor) {
  const std::vector<RunResult> runs = {
      MakeRun(PCPOOL_BACKEND_PCPU_KERNEL, Workload::kRepeat, 8000, 1000),
      MakeRun(PCPOOL_BACKEND_PCPU_CONSTRUCTED, Workload::kRepeat, 1000, 1000),
      MakeRun(PCPOOL_BACKEND_PCPU_NULL, Workload::kRepeat, 500, 1000),
  };
  std::ostringstream console;
  PrintSummary(console, Summarize(runs));
  EXPECT_THAT(console.str(), HasSubstr("pcpu-constructed 8.00x\n"));
  EXPECT_THAT(console.str(), HasSubstr("pcpu-null 16.00x (the floor: no allocator)\n"));
}

TEST(Summary, NothingToCompare) {
  const std::vector<RunResult> runs = {MakeRun(PCPOOL_BACKEND_KERNEL, Workload::kRepeat, 100, 10)};
  EXPECT_TRUE(Summarize(runs).Empty());
  std::ostringstream out;
  PrintSummary(out, Summarize(runs));
  EXPECT_EQ(out.str(), "");
}

TEST(Summary, ConsoleAndJson) {
  const std::vector<RunResult> runs = {
      MakeRun(PCPOOL_BACKEND_KERNEL, Workload::kRepeat, 9000, 1000),
      MakeRun(PCPOOL_BACKEND_PCPBUDDY, Workload::kRepeat, 3000, 1000, 20),
      MakeRun(PCPOOL_BACKEND_PCPU_KERNEL, Workload::kRepeat, 8000, 1000),
      MakeRun(PCPOOL_BACKEND_PCPU_RAW, Workload::kRepeat, 1000, 1000),
  };
  const Summary s = Summarize(runs);
  std::ostringstream console;
  PrintSummary(console, s);
  EXPECT_THAT(console.str(), HasSubstr("3.00x"));
  EXPECT_THAT(console.str(), HasSubstr("pcpu-raw 8.00x"));

  std::ostringstream json;
  JsonReporter rep(json);
  rep.ReportContext(Context{});
  rep.ReportRuns(runs);
  rep.ReportSummary(s);
  rep.Finalize();
  const Json doc = Json::parse(json.str());
  ASSERT_TRUE(doc.contains("summary"));
  const Json& w = doc["summary"]["workloads"][0];
  EXPECT_DOUBLE_EQ(w["pcpbuddy_speedup_over_kernel"].get<double>(), 3.0);
  EXPECT_TRUE(w["pcpbuddy_speedup_over_classic"].is_null());
  EXPECT_DOUBLE_EQ(w["zone_lock_acquisitions_per_1000_ops"]["pcpbuddy"].get<double>(), 20.0);
  EXPECT_EQ(doc["summary"]["pcpu"][0]["backend"], "pcpu-raw");
  EXPECT_THAT(json.str(), Not(HasSubstr("NaN")));
}

}  // namespace
}  // namespace pcpool
