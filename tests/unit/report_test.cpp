// SPDX-License-Identifier: GPL-2.0
#include "report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace pcpool {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using Json = nlohmann::json;

Context SampleContext() {
  Context c;
  c.date = "2025-01-02T03:04:05+0000";
  c.host_name = "guest";
  c.executable = "/pcpool/bin/pcpool-bench";
  c.kernel_release = "6.1.0-56-amd64";
  c.machine = "x86_64";
  c.num_cpus = 2;
  c.allowed_cpus = "0-1";
  c.pinned_cpus = "0-1";
  c.mhz_per_cpu = 2000.5;
  c.load_avg = {0.1, 0.2, 0.3};
  c.emulation = "QEMU (sys_vendor)";
  c.library_build_type = "RelWithDebInfo";
  c.module.abi_version = PCPOOL_ABI_VERSION;
  c.module.backends = 3;
  c.module.max_order = 10;
  c.module.block_order = 9;
  c.module.page_shift = 12;
  c.module.max_batch = 65536;
  c.module.nr_channels = 16;
  c.module.session_max_pages = 262144;
  c.module.nr_cpu_ids = 2;
  c.module_backends = {"kernel", "null"};
  c.warnings = {"Running under emulation"};
  c.plan_warnings = {"backend 'classic' is not in this module; skipped"};
  return c;
}

ThreadResult Thread(int i, Role role, int unit, uint64_t ops, uint64_t ns) {
  ThreadResult t;
  t.thread = i;
  t.cpu = i;
  t.role = role;
  t.unit = unit;
  t.ops = ops;
  t.ns = ns;
  t.calls = 2;
  t.kernel_cpu = i;
  return t;
}

RunResult RepeatRun() {
  RunResult r;
  r.spec.backend = PCPOOL_BACKEND_KERNEL;
  r.spec.workload = Workload::kRepeat;
  r.spec.order = 0;
  r.spec.cpus = {0, 1};
  r.spec.ops = 1000;
  r.threads = {Thread(0, Role::kWorker, 0, 500, 50000), Thread(1, Role::kWorker, 1, 500, 25000)};
  r.stats = ComputeStats(SumUnits(r.threads));
  r.wall_ns = 123456;
  r.counters = CounterDeltas{{"allocs", 1000}, {"outstanding_pages", -2}};
  r.outstanding_pages_after = 0;
  return r;
}

RunResult FailedCrossRun() {
  RunResult r;
  r.spec.backend = PCPOOL_BACKEND_NULL;
  r.spec.workload = Workload::kCross;
  r.spec.order = 3;
  r.spec.cpus = {0, 1, 0};
  r.spec.ops = 100;
  r.spec.batch = 64;
  r.threads = {Thread(0, Role::kProducer, 0, 0, 0), Thread(1, Role::kConsumer, 0, 0, 0),
               Thread(2, Role::kIdle, -1, 0, 0)};
  r.threads[0].error = "PCPOOL_CHAN_ALLOC: ENOMEM (Cannot allocate memory)";
  r.stats = ComputeStats(SumUnits(r.threads));
  r.error = "thread 0 (CPU 0): " + r.threads[0].error;
  return r;
}

void Report(Reporter& rep) {
  rep.ReportContext(SampleContext());
  const std::vector<RunResult> runs{RepeatRun(), FailedCrossRun()};
  rep.ReportRuns(runs);
  rep.Finalize();
}

TEST(JsonReporter, ParsesBackWithContextAndResults) {
  std::ostringstream out;
  JsonReporter rep(out);
  Report(rep);
  const Json doc = Json::parse(out.str());
  ASSERT_TRUE(doc.is_object());
  // Context first, like google/benchmark.
  EXPECT_EQ(doc.begin().key(), "context");
  const Json& c = doc["context"];
  EXPECT_EQ(c["host_name"], "guest");
  EXPECT_EQ(c["kernel_release"], "6.1.0-56-amd64");
  EXPECT_EQ(c["module_abi_version"], PCPOOL_ABI_VERSION);
  EXPECT_EQ(c["module_backends"], Json({"kernel", "null"}));
  EXPECT_EQ(c["pinned_cpus"], "0-1");
  EXPECT_EQ(c["num_cpus"], 2);
  EXPECT_DOUBLE_EQ(c["mhz_per_cpu"].get<double>(), 2000.5);
  EXPECT_TRUE(c["cpu_scaling_governor"].is_null());
  EXPECT_EQ(c["emulation"], "QEMU (sys_vendor)");
  EXPECT_EQ(c["library_build_type"], "RelWithDebInfo");
  EXPECT_EQ(c["pageblock_order"], 9);
  EXPECT_EQ(c["warnings"].size(), 1U);
  EXPECT_EQ(c["plan_warnings"].size(), 1U);

  const Json& results = doc["results"];
  ASSERT_EQ(results.size(), 2U);
  const Json& r = results[0];
  EXPECT_EQ(r["name"], "kernel/repeat/order:0/threads:2/ops:1000");
  EXPECT_EQ(r["backend"], "kernel");
  EXPECT_EQ(r["workload"], "repeat");
  EXPECT_EQ(r["order"], 0);
  EXPECT_EQ(r["threads"], 2);
  EXPECT_EQ(r["active_threads"], 2);
  EXPECT_EQ(r["cpus"], "0-1");
  EXPECT_EQ(r["ops"], 1000);
  EXPECT_EQ(r["ops_done"], 1000);
  EXPECT_EQ(r["ns"], 75000);
  EXPECT_DOUBLE_EQ(r["ns_per_op"].get<double>(), 75.0);
  EXPECT_DOUBLE_EQ(r["ops_per_sec"].get<double>(), 500.0 / 50000 * 1e9 + 500.0 / 25000 * 1e9);
  EXPECT_EQ(r["wall_ns"], 123456);
  EXPECT_EQ(r["counters"], Json({{"allocs", 1000}, {"outstanding_pages", -2}}));
  EXPECT_EQ(r["outstanding_pages_after"], 0);
  EXPECT_FALSE(r.contains("error"));
  ASSERT_EQ(r["per_thread"].size(), 2U);
  EXPECT_EQ(r["per_thread"][1], Json({{"thread", 1},
                                      {"cpu", 1},
                                      {"role", "worker"},
                                      {"unit", 1},
                                      {"ops", 500},
                                      {"ns", 25000},
                                      {"calls", 2},
                                      {"kernel_cpu", 1},
                                      {"migrated", false}}));

  const Json& f = results[1];
  EXPECT_EQ(f["workload"], "cross");
  EXPECT_EQ(f["threads"], 3);
  EXPECT_EQ(f["active_threads"], 2);
  EXPECT_EQ(f["cpus"], "0-1");
  EXPECT_EQ(f["batch"], 64);
  EXPECT_TRUE(f["ns_per_op"].is_null());
  EXPECT_TRUE(f["ops_per_sec"].is_null());
  EXPECT_TRUE(f["counters"].is_null());
  EXPECT_TRUE(f["outstanding_pages_after"].is_null());
  EXPECT_THAT(f["error"].get<std::string>(), HasSubstr("ENOMEM"));
  EXPECT_EQ(f["per_thread"][0]["role"], "producer");
  EXPECT_THAT(f["per_thread"][0]["error"].get<std::string>(), HasSubstr("CHAN_ALLOC"));
  EXPECT_EQ(f["per_thread"][2]["role"], "idle");
}

TEST(JsonReporter, EmptyRunIsStillValid) {
  std::ostringstream out;
  JsonReporter rep(out);
  rep.ReportContext(SampleContext());
  rep.Finalize();
  const Json doc = Json::parse(out.str());
  EXPECT_TRUE(doc["results"].is_array());
  EXPECT_TRUE(doc["results"].empty());
}

std::vector<std::string> Lines(const std::string& s) {
  std::vector<std::string> lines;
  std::istringstream in(s);
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line);
  }
  return lines;
}

// Splits one CSV line, honouring quotes.
std::vector<std::string> CsvCells(const std::string& line) {
  std::vector<std::string> cells(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); i++) {
    const char c = line[i];
    if (quoted && c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
      cells.back() += '"';
      i++;
    } else if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      cells.emplace_back();
    } else {
      cells.back() += c;
    }
  }
  return cells;
}

TEST(CsvReporter, HeaderAndOneLinePerRun) {
  std::ostringstream out;
  CsvReporter rep(out);
  Report(rep);
  const std::vector<std::string> lines = Lines(out.str());
  ASSERT_EQ(lines.size(), 3U);
  const std::vector<std::string> header = CsvCells(lines[0]);
  EXPECT_THAT(header,
              ElementsAre("name", "backend", "workload", "order", "threads", "active_threads",
                          "cpus", "ops", "ops_done", "batch", "ns", "ns_per_op", "ops_per_sec",
                          "wall_ns", "outstanding_pages_after", "counters", "error"));
  const std::vector<std::string> ok = CsvCells(lines[1]);
  ASSERT_EQ(ok.size(), header.size());
  EXPECT_EQ(ok[1], "kernel");
  EXPECT_EQ(ok[6], "0-1");
  EXPECT_EQ(ok[10], "75000");
  EXPECT_EQ(ok[11], "75.000");
  EXPECT_EQ(ok[12], "30000000.000");
  EXPECT_EQ(ok[15], "allocs=1000;outstanding_pages=-2");
  EXPECT_EQ(ok[16], "");
  const std::vector<std::string> bad = CsvCells(lines[2]);
  ASSERT_EQ(bad.size(), header.size());
  EXPECT_EQ(bad[4], "3");
  EXPECT_EQ(bad[11], "");
  EXPECT_THAT(bad[16], HasSubstr("ENOMEM"));
}

TEST(CsvReporter, QuotesFieldsWithCommasAndQuotes) {
  RunResult r = FailedCrossRun();
  r.spec.cpus = {0, 2};
  r.error = "bad \"thing\", really";
  std::ostringstream out;
  CsvReporter rep(out);
  rep.ReportContext(SampleContext());
  rep.ReportRuns(std::vector<RunResult>{r});
  const std::vector<std::string> lines = Lines(out.str());
  ASSERT_EQ(lines.size(), 2U);
  EXPECT_THAT(lines[1], HasSubstr(",\"0,2\","));
  EXPECT_THAT(lines[1], HasSubstr("\"bad \"\"thing\"\", really\""));
  const std::vector<std::string> cells = CsvCells(lines[1]);
  EXPECT_EQ(cells[6], "0,2");
  EXPECT_EQ(cells[16], "bad \"thing\", really");
}

// Each line of the console output matched against one (POSIX extended)
// regex, as google/benchmark's output_test does.
TEST(ConsoleReporter, LinesMatch) {
  std::ostringstream out;
  ConsoleReporter rep(out);
  Report(rep);
  const std::vector<std::string> lines = Lines(out.str());
  const std::vector<std::string> patterns = {
      R"(^pcpool-bench 2025-01-02T03:04:05\+0000 on guest, Linux 6\.1\.0-56-amd64 x86_64$)",
      R"(^module ABI 1, backends kernel,null; 2 CPUs online, pinned 0-1; harness build RelWithDebInfo$)",
      R"(^\*\*\*WARNING\*\*\* Running under emulation$)",
      R"(^backend +workload +order +threads +ops +ns/op +ops/s$)",
      R"(^kernel +repeat +0 +2 +1000 +75\.0 +30\.00M$)",
      R"(^    counters: allocs=1000 outstanding_pages=-2$)",
      R"(^null +cross +3 +3 +100 +- +-  FAILED: thread 0 \(CPU 0\): PCPOOL_CHAN_ALLOC: ENOMEM .*$)",
  };
  ASSERT_EQ(lines.size(), patterns.size()) << out.str();
  for (size_t i = 0; i < lines.size(); i++) {
    EXPECT_THAT(lines[i], MatchesRegex(patterns[i])) << "line " << i;
  }
}

TEST(ConsoleReporter, NotesMigrationAndLeftoverPages) {
  RunResult r = RepeatRun();
  r.threads[1].migrated = true;
  r.outstanding_pages_after = 8;
  r.counters.reset();
  std::ostringstream out;
  ConsoleReporter rep(out);
  rep.ReportRuns(std::vector<RunResult>{r});
  const std::vector<std::string> lines = Lines(out.str());
  ASSERT_EQ(lines.size(), 2U);
  EXPECT_THAT(lines[1], MatchesRegex(R"(^kernel .*  1 thread\(s\) not on their pinned CPU; )"
                                     R"(8 pages outstanding after close$)"));
}

TEST(HumanCount, Suffixes) {
  EXPECT_EQ(HumanCount(12), "12");
  EXPECT_EQ(HumanCount(9999), "9999");
  EXPECT_EQ(HumanCount(12345), "12.3k");
  EXPECT_EQ(HumanCount(30e6), "30.00M");
  EXPECT_EQ(HumanCount(1.5e9), "1.50G");
}

}  // namespace
}  // namespace pcpool
