// SPDX-License-Identifier: GPL-2.0
#include "report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace pcpool {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::MatchesRegex;
using ::testing::Not;
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
  c.init_on_alloc = false;
  c.init_on_free = true;
  c.mem_init_source = "kernel log (mem auto-init)";
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

ThreadResult Thread(int i, Role role, uint64_t ops, uint64_t ns) {
  ThreadResult t;
  t.thread = i;
  t.cpu = i;
  t.role = role;
  t.ops = ops;
  t.allocs = ops;
  t.frees = ops;
  t.ns = ns;
  t.user_ns = ns + 1000;
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
  r.spec.seed = 1;
  r.threads = {Thread(0, Role::kWorker, 500, 50000), Thread(1, Role::kWorker, 500, 25000)};
  r.stats = ComputeStats(r.spec, r.threads);
  r.wall_ns = 123456;
  r.counters = CounterDeltas{{"allocs", 1000}, {"zone_lock_acquisitions", 20}};
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
  r.threads = {Thread(0, Role::kProducer, 0, 0), Thread(1, Role::kConsumer, 0, 0),
               Thread(2, Role::kIdle, 0, 0)};
  r.threads[0].error = "PCPOOL_CHAN_ALLOC: ENOMEM (Cannot allocate memory)";
  r.stats = ComputeStats(r.spec, r.threads);
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
  EXPECT_EQ(c["init_on_alloc"], 0);
  EXPECT_EQ(c["init_on_free"], 1);
  EXPECT_EQ(c["mem_init_source"], "kernel log (mem auto-init)");
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
  EXPECT_EQ(r["counters"], Json({{"allocs", 1000}, {"zone_lock_acquisitions", 20}}));
  EXPECT_DOUBLE_EQ(r["counters_per_1000_ops"]["zone_lock_acquisitions"].get<double>(), 20.0);
  EXPECT_EQ(r["gauges"], Json::object());
  EXPECT_EQ(r["outstanding_pages_after"], 0);
  EXPECT_EQ(r["submit"], "ioctl");
  EXPECT_EQ(r["repetition"], 0);
  EXPECT_EQ(r["seed"], 1);
  EXPECT_DOUBLE_EQ(r["user_ns_per_op"].get<double>(), 77.0);
  EXPECT_TRUE(r["latency"].is_null());
  EXPECT_TRUE(r["sample_shift"].is_null());
  EXPECT_TRUE(r["alloc_ns_per_block"].is_null());
  EXPECT_EQ(r["accounting"], Json::array());
  EXPECT_FALSE(r.contains("error"));
  ASSERT_EQ(r["per_thread"].size(), 2U);
  const Json& t1 = r["per_thread"][1];
  EXPECT_EQ(t1["thread"], 1);
  EXPECT_EQ(t1["cpu"], 1);
  EXPECT_EQ(t1["role"], "worker");
  EXPECT_EQ(t1["ops"], 500);
  EXPECT_EQ(t1["ns"], 25000);
  EXPECT_EQ(t1["user_ns"], 26000);
  EXPECT_EQ(t1["calls"], 2);
  EXPECT_DOUBLE_EQ(t1["ns_per_op"].get<double>(), 50.0);
  EXPECT_DOUBLE_EQ(t1["ops_per_sec"].get<double>(), 2e7);
  EXPECT_EQ(t1["kernel_cpu"], 1);
  EXPECT_EQ(t1["migrated"], false);
  EXPECT_TRUE(t1["latency"].is_null());
  EXPECT_FALSE(t1.contains("error"));

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
  EXPECT_THAT(
      header,
      ElementsAre("name", "backend", "workload", "order", "threads", "active_threads", "cpus",
                  "submit", "repetition", "ops", "ops_done", "batch", "live", "freers", "ns",
                  "ns_per_op", "ops_per_sec", "alloc_ns", "free_ns", "alloc_ops_per_sec",
                  "free_ops_per_sec", "user_ns_per_op", "wall_ns", "backoffs", "alloc_p50",
                  "alloc_p95", "alloc_p99", "alloc_max", "free_p50", "free_p95", "free_p99",
                  "free_max", "outstanding_pages_after", "counters", "gauges", "error"));
  auto col = [&header](const char* name) {
    return static_cast<size_t>(std::find(header.begin(), header.end(), name) - header.begin());
  };
  const std::vector<std::string> ok = CsvCells(lines[1]);
  ASSERT_EQ(ok.size(), header.size());
  EXPECT_EQ(ok[col("backend")], "kernel");
  EXPECT_EQ(ok[col("cpus")], "0-1");
  EXPECT_EQ(ok[col("submit")], "ioctl");
  EXPECT_EQ(ok[col("ns")], "75000");
  EXPECT_EQ(ok[col("ns_per_op")], "75.000");
  EXPECT_EQ(ok[col("ops_per_sec")], "30000000.000");
  EXPECT_EQ(ok[col("alloc_p50")], "");
  EXPECT_EQ(ok[col("counters")], "allocs=1000;zone_lock_acquisitions=20");
  EXPECT_EQ(ok[col("error")], "");
  const std::vector<std::string> bad = CsvCells(lines[2]);
  ASSERT_EQ(bad.size(), header.size());
  EXPECT_EQ(bad[col("threads")], "3");
  EXPECT_EQ(bad[col("ns_per_op")], "");
  EXPECT_THAT(bad[col("error")], HasSubstr("ENOMEM"));
}

TEST(CsvReporter, LatencyColumns) {
  RunResult r = RepeatRun();
  r.stats.latency.alloc.Record(100);
  r.stats.latency.free.Record(7);
  std::ostringstream out;
  CsvReporter rep(out);
  rep.ReportContext(SampleContext());
  rep.ReportRuns(std::vector<RunResult>{r});
  const std::vector<std::string> lines = Lines(out.str());
  const std::vector<std::string> cells = CsvCells(lines[1]);
  EXPECT_EQ(cells[24], "100");  // alloc_p50
  EXPECT_EQ(cells[27], "100");  // alloc_max
  EXPECT_EQ(cells[28], "7");    // free_p50
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
  EXPECT_EQ(cells.back(), "bad \"thing\", really");
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
      R"(^page zeroing: init_on_alloc=0 init_on_free=1 \(kernel log \(mem auto-init\)\); the pool backends zero when the kernel would$)",
      R"(^\*\*\*WARNING\*\*\* Running under emulation$)",
      R"(^backend +workload +order +threads +path +ops +ns/op +ops/s +user ns/op$)",
      R"(^kernel +repeat +0 +2 +ioctl +1000 +75\.0 +30\.00M +77\.0$)",
      R"(^    counters: zone_lock_acquisitions=20$)",
      R"(^    per 1000 ops: zone_lock_acquisitions=20\.0$)",
      R"(^null +cross +3 +3 +ioctl +100 +- +- +-  FAILED: thread 0 \(CPU 0\): PCPOOL_CHAN_ALLOC: ENOMEM .*$)",
  };
  ASSERT_EQ(lines.size(), patterns.size()) << out.str();
  for (size_t i = 0; i < lines.size(); i++) {
    EXPECT_THAT(lines[i], MatchesRegex(patterns[i])) << "line " << i;
  }
}

// The default shows the keys that matter, "all" every key that moved, a
// list what it names; levels come as before->after, never as deltas.
TEST(ConsoleReporter, CounterFilterAndLevels) {
  RunResult r = RepeatRun();
  r.counters = CounterDeltas{{"allocs", 1000}, {"zone_lock_acquisitions", 20}, {"zone_merges", 0}};
  r.gauges = Gauges{{"zone_free_pages", {512, 0}}, {"zone_free_order_9", {1, 0}}};
  auto table = [&r](const char* filter) {
    std::ostringstream out;
    ConsoleReporter rep(out, ParseCounterFilter(filter).value());
    rep.ReportRuns(std::vector<RunResult>{r});
    std::vector<std::string> lines = Lines(out.str());
    lines.erase(lines.begin(), lines.begin() + 2);  // header and row
    return lines;
  };
  EXPECT_THAT(table("default"), ElementsAre("    counters: zone_lock_acquisitions=20",
                                            "    per 1000 ops: zone_lock_acquisitions=20.0",
                                            "    levels before->after: zone_free_pages=512->0"));
  EXPECT_THAT(
      table("all"),
      ElementsAre("    counters: allocs=1000 zone_lock_acquisitions=20",
                  "    per 1000 ops: zone_lock_acquisitions=20.0",
                  "    levels before->after: zone_free_order_9=1->0 zone_free_pages=512->0"));
  EXPECT_THAT(
      table("allocs,zone_free_order_*"),
      ElementsAre("    counters: allocs=1000", "    levels before->after: zone_free_order_9=1->0"));
  EXPECT_THAT(table("none"), IsEmpty());
}

// Channel and handle workloads: a sample is a command's mean per block.
TEST(ConsoleReporter, PerCallLatencyIsLabelled) {
  RunResult r = RepeatRun();
  r.spec.workload = Workload::kCross;
  r.counters.reset();
  r.stats.latency.alloc.RecordBatch(640, 64);
  r.stats.latency.per_call = true;
  std::ostringstream out;
  ConsoleReporter rep(out);
  rep.ReportRuns(std::vector<RunResult>{r});
  EXPECT_THAT(out.str(),
              HasSubstr("    latency per call, ns/block alloc ns: n=64 mean=10.0 p50=10 p95=10 "
                        "p99=10 max=10\n"));
  std::ostringstream json;
  JsonReporter jrep(json);
  jrep.ReportRuns(std::vector<RunResult>{r});
  jrep.Finalize();
  const Json doc = Json::parse(json.str());
  EXPECT_EQ(doc["results"][0]["latency"]["basis"], "call");
  EXPECT_TRUE(doc["results"][0]["sample_shift"].is_null()) << "no operation was timed";
}

TEST(ConsoleReporter, NotesMigrationAndLeftoverPages) {
  RunResult r = RepeatRun();
  r.threads[1].migrated = true;
  r.outstanding_pages_after = 8;
  r.counters.reset();
  r.accounting = AccountingProblems(r);
  std::ostringstream out;
  ConsoleReporter rep(out);
  rep.ReportRuns(std::vector<RunResult>{r});
  const std::vector<std::string> lines = Lines(out.str());
  ASSERT_EQ(lines.size(), 2U);
  EXPECT_THAT(lines[1], MatchesRegex(R"(^kernel .*  1 thread\(s\) not on their pinned CPU; )"
                                     R"(8 pages outstanding after close$)"));
}

TEST(ConsoleReporter, LatencyHalvesAndOverheadSummary) {
  RunResult bulk = RepeatRun();
  bulk.spec.workload = Workload::kBulk;
  bulk.counters.reset();
  bulk.threads[0].alloc_ns = 20000;
  bulk.threads[0].free_ns = 10000;
  bulk.threads[0].latency.alloc.Record(100);
  bulk.threads[0].latency.free.Record(40);
  bulk.stats = ComputeStats(bulk.spec, bulk.threads);
  std::vector<RunResult> runs{bulk};
  for (const char* path : {"ioctl", "uring", "loop"}) {
    RunResult o = RepeatRun();
    o.spec.workload = Workload::kOverhead;
    o.spec.backend = PCPOOL_BACKEND_NULL;
    o.spec.uring_depth = 32;
    o.spec.loop = std::string(path) == "loop";
    o.spec.submit = std::string(path) == "uring" ? Submit::kUring : Submit::kIoctl;
    o.counters.reset();
    o.stats = ComputeStats(o.spec, o.threads);
    runs.push_back(o);
  }
  std::ostringstream out;
  ConsoleReporter rep(out);
  rep.ReportRuns(runs);
  rep.Finalize();
  const std::vector<std::string> lines = Lines(out.str());
  ASSERT_EQ(lines.size(), 10U) << out.str();
  EXPECT_THAT(lines[2], MatchesRegex(R"(^    alloc/free: 40\.0 / 20\.0 ns per block, .*$)"));
  EXPECT_THAT(
      lines[3],
      MatchesRegex(R"(^    latency alloc ns: n=1 mean=100\.0 p50=100 p95=100 p99=100 max=100$)"));
  EXPECT_THAT(lines[4], MatchesRegex(R"(^    latency free ns:  n=1 .*max=40$)"));
  EXPECT_THAT(lines[6], MatchesRegex(R"(^null +overhead .* uring .*$)"));
  EXPECT_THAT(lines[8], MatchesRegex(R"(^submission overhead per command.*$)"));
  // ioctl and io_uring took 77 ns a command on the userspace clock, the
  // loop 75 in the kernel.
  EXPECT_THAT(lines[9],
              MatchesRegex(R"(^  null/order:0/threads:2/ops:1000: loop 75\.0, )"
                           R"(ioctl 77\.0 \(\+2\.0\), io_uring/32 77\.0 \(\+2\.0\) ns$)"));
}

TEST(ConsoleReporter, ExitShowsTheZonesOrderHistogram) {
  RunResult r = RepeatRun();
  r.spec.workload = Workload::kExit;
  r.spec.freers = 2;
  r.counters = CounterDeltas{{"allocs", 1000},           {"zone_freed_order_9", 12},
                             {"zone_freed_order_10", 0}, {"zone_freed_order_0", 3},
                             {"zone_moved_hist_512", 7}, {"zone_moved_hist_1", 40}};
  std::ostringstream out;
  ConsoleReporter rep(out, ParseCounterFilter("none").value());
  rep.ReportRuns(std::vector<RunResult>{r});
  EXPECT_THAT(out.str(), HasSubstr("    chunks handed back to the zone by order: 0=+3 9=+12\n"));
  EXPECT_THAT(out.str(), HasSubstr("    zone-lock acquisitions by pages moved: 1=+40 512=+7\n"));
  EXPECT_THAT(out.str(), HasSubstr("exit/2"));
  // pcpbuddy's frees go to the owners' pools: nothing reaches the zone.
  r.counters = CounterDeltas{{"zone_freed_order_0", 0}, {"zone_freed_order_9", 0}};
  std::ostringstream none;
  ConsoleReporter(none, ParseCounterFilter("none").value()).ReportRuns(std::vector<RunResult>{r});
  EXPECT_THAT(none.str(), HasSubstr("    chunks handed back to the zone by order: none\n"));
  EXPECT_THAT(none.str(), Not(HasSubstr("pages moved"))) << "no such keys, no line";
}

TEST(RunName, NamesEveryDimensionThatIsNotTheDefault) {
  RunResult r = RepeatRun();
  EXPECT_EQ(RunName(r), "kernel/repeat/order:0/threads:2/ops:1000");
  r.spec.submit = Submit::kUring;
  r.spec.repetition = 2;
  EXPECT_EQ(RunName(r), "kernel/repeat/order:0/threads:2/ops:1000/submit:uring/rep:2");
  r = RepeatRun();
  r.spec.workload = Workload::kExit;
  r.spec.freers = 2;
  EXPECT_EQ(RunName(r), "kernel/exit/order:0/threads:2/ops:1000/freers:2");
  r.spec.workload = Workload::kOverhead;
  r.spec.loop = true;
  EXPECT_EQ(RunName(r), "kernel/overhead/order:0/threads:2/ops:1000/submit:loop");
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
