// SPDX-License-Identifier: GPL-2.0
// pcpool-bench plot: which charts come out of a set of results, and the
// gnuplot data and scripts written for them.
#include "plot.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace pcpool {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using Json = nlohmann::json;

Json Row(const std::string& backend, const std::string& workload, int threads, double ops_per_sec,
         double ns_per_op) {
  return Json{
      {"backend", backend},         {"workload", workload},   {"order", 0},
      {"threads", threads},         {"submit", "ioctl"},      {"freers", 0},
      {"ops_per_sec", ops_per_sec}, {"ns_per_op", ns_per_op}, {"user_ns_per_op", ns_per_op + 1000}};
}

const Chart* Find(const std::vector<Chart>& charts, const std::string& name) {
  const auto it =
      std::find_if(charts.begin(), charts.end(), [&](const Chart& c) { return c.name == name; });
  return it == charts.end() ? nullptr : &*it;
}

std::vector<Chart> Build(const Json& runs) {
  std::string error;
  std::vector<Chart> charts = BuildCharts(runs.dump(), &error);
  EXPECT_EQ(error, "");
  return charts;
}

TEST(Plot, ThroughputSweepPerWorkloadWithALinePerBackend) {
  Json runs = Json::array();
  for (const int t : {1, 2, 4}) {
    runs.push_back(Row("kernel", "repeat", t, 1e6 * t, 100));
    runs.push_back(Row("null", "repeat", t, 1e7 * t, 10));
  }
  runs.push_back(Row("kernel", "bulk", 2, 5e6, 200));  // one thread count: no sweep
  Json failed = Row("null", "bulk", 4, 1, 1);
  failed["error"] = "boom";
  runs.push_back(failed);
  const std::vector<Chart> charts = Build(runs);
  const Chart* t = Find(charts, "throughput-repeat-o0");
  ASSERT_NE(t, nullptr);
  EXPECT_TRUE(t->lines);
  EXPECT_THAT(t->series, ElementsAre("kernel", "null"));
  EXPECT_TRUE(t->logy);
  ASSERT_EQ(t->rows.size(), 3U);
  EXPECT_EQ(t->rows[2].first, "4");
  EXPECT_DOUBLE_EQ(*t->rows[2].second[1], 4e7);
  EXPECT_EQ(Find(charts, "throughput-bulk-o0"), nullptr);

  // ns/op bars use each workload's largest thread count; failed runs drop.
  const Chart* n = Find(charts, "ns-per-op-o0");
  ASSERT_NE(n, nullptr);
  EXPECT_FALSE(n->lines);
  ASSERT_EQ(n->rows.size(), 2U);
  EXPECT_EQ(n->rows[0].first, "repeat");
  EXPECT_EQ(n->rows[1].first, "bulk");
  EXPECT_DOUBLE_EQ(*n->rows[1].second[0], 200.0);
  EXPECT_FALSE(n->rows[1].second[1].has_value()) << "null/bulk failed";
  EXPECT_EQ(Find(charts, "zone-lock-per-1000-o0"), nullptr) << "no zone counters";
}

TEST(Plot, ZoneLockLatencyAndOverheadCharts) {
  Json runs = Json::array();
  Json a = Row("classic", "cross", 2, 1e6, 300);
  a["counters_per_1000_ops"] = {{"zone_lock_acquisitions", 31.5}};
  a["latency"] = {{"alloc", {{"p50", 100}, {"p95", 200}, {"p99", 300}, {"max", 900}}},
                  {"free", nullptr},
                  {"basis", "call"}};
  runs.push_back(a);
  // Repetitions are averaged.
  Json b = a;
  b["counters_per_1000_ops"]["zone_lock_acquisitions"] = 28.5;
  runs.push_back(b);
  for (const char* path : {"ioctl", "uring", "loop"}) {
    Json o = Row("null", "overhead", 1, 1e6, 50);
    o["submit"] = path;
    runs.push_back(o);
  }
  const std::vector<Chart> charts = Build(runs);
  const Chart* z = Find(charts, "zone-lock-per-1000-o0");
  ASSERT_NE(z, nullptr);
  EXPECT_DOUBLE_EQ(*z->rows.at(0).second.at(0), 30.0);
  const Chart* l = Find(charts, "latency-cross-o0");
  ASSERT_NE(l, nullptr);
  EXPECT_TRUE(l->logy);
  EXPECT_THAT(l->series, ElementsAre("p50", "p95", "p99", "max"));
  ASSERT_EQ(l->rows.size(), 1U);
  EXPECT_EQ(l->rows[0].first, "classic alloc");
  EXPECT_EQ(l->ylabel, "ns per block, each command's mean") << "basis: call";
  const Chart* o = Find(charts, "overhead");
  ASSERT_NE(o, nullptr);
  EXPECT_THAT(o->series, ElementsAre("ioctl", "uring", "loop"));
  EXPECT_DOUBLE_EQ(*o->rows[0].second[0], 1050.0) << "ioctl: userspace ns per command";
  EXPECT_DOUBLE_EQ(*o->rows[0].second[2], 50.0) << "loop: in-kernel ns per op";
  EXPECT_EQ(Find(charts, "ns-per-op-o0")->rows.size(), 1U) << "overhead is not a workload bar";
}

// make plots: the sweep goes to 4 threads, the latency runs stay at 2.
// Each set is charted at its own largest thread count; the zone chart
// takes the sweep's counters.
TEST(Plot, LatencyRunsAtFewerThreadsThanTheSweep) {
  Json runs = Json::array();
  for (const int t : {1, 2, 4}) {
    Json r = Row("classic", "repeat", t, 1e6 * t, 300);
    r["counters_per_1000_ops"] = {{"zone_lock_acquisitions", 1.0 * t}};
    runs.push_back(r);
  }
  Json lat = Row("classic", "repeat", 2, 5e5, 600);
  lat["latency"] = {{"alloc", {{"p50", 100}, {"p95", 200}, {"p99", 300}, {"max", 900}}}};
  lat["counters_per_1000_ops"] = {{"zone_lock_acquisitions", 99.0}};
  lat["sample_shift"] = 0;
  runs.push_back(lat);
  const std::vector<Chart> charts = Build(runs);
  const Chart* l = Find(charts, "latency-repeat-o0");
  ASSERT_NE(l, nullptr);
  EXPECT_DOUBLE_EQ(*l->rows.at(0).second.at(0), 100.0);
  EXPECT_EQ(l->ylabel, "ns");
  const Chart* z = Find(charts, "zone-lock-per-1000-o0");
  ASSERT_NE(z, nullptr);
  EXPECT_DOUBLE_EQ(*z->rows.at(0).second.at(0), 4.0) << "the sweep's 4-thread run";
  EXPECT_EQ(Find(charts, "throughput-repeat-o0")->rows.size(), 3U);
}

// The default freer and purger counts change with the thread count; a
// sweep with them must still make one line per backend.
TEST(Plot, DefaultExitAndPurgerCountsSweep) {
  Json runs = Json::array();
  for (const int t : {1, 2, 4, 8}) {
    Json one = Row("classic", "exit", t, 1e6, 100);
    one["freers"] = 1;
    runs.push_back(one);
    if (t > 1) {
      Json all = Row("classic", "exit", t, 2e6, 100);
      all["freers"] = t;
      runs.push_back(all);
    }
    Json p = Row("classic", "purger", t, 3e6, 100);
    p["freers"] = std::max(1, t / 4);
    runs.push_back(p);
  }
  Json odd = Row("classic", "purger", 8, 3e6, 100);
  odd["freers"] = 3;
  runs.push_back(odd);
  const std::vector<Chart> charts = Build(runs);
  ASSERT_NE(Find(charts, "throughput-exit-1-o0"), nullptr);
  EXPECT_EQ(Find(charts, "throughput-exit-1-o0")->rows.size(), 4U);
  ASSERT_NE(Find(charts, "throughput-exit-all-o0"), nullptr);
  EXPECT_EQ(Find(charts, "throughput-exit-all-o0")->rows.size(), 3U);
  ASSERT_NE(Find(charts, "throughput-purger-o0"), nullptr);
  EXPECT_EQ(Find(charts, "throughput-purger-o0")->rows.size(), 4U);
  EXPECT_EQ(Find(charts, "throughput-purger-3-o0"), nullptr) << "an explicit count at one size";
}

TEST(Plot, BadInput) {
  std::string error;
  EXPECT_THAT(BuildCharts("{", &error), IsEmpty());
  EXPECT_THAT(error, HasSubstr("bad JSON"));
  EXPECT_THAT(BuildCharts("{}", &error), IsEmpty());
  EXPECT_THAT(error, HasSubstr("not an array"));
  EXPECT_THAT(BuildCharts("[]", &error), IsEmpty());
  EXPECT_THAT(error, HasSubstr("no successful runs"));
}

TEST(Plot, DataAndScript) {
  Chart c;
  c.name = "x";
  c.title = "It's a title";
  c.xlabel = "workload";
  c.ylabel = "ns";
  c.series = {"kernel", "null"};
  c.rows = {{"repeat", {1.5, std::nullopt}}, {"fan in", {2e9, 3}}};
  EXPECT_EQ(ChartData(c),
            "\"workload\" \"kernel\" \"null\"\n\"repeat\" 1.5 ?\n\"fan in\" 2e+09 3\n");
  const std::string g = ChartScript(c, "/tmp/x.dat", "/tmp/x.png", "png");
  EXPECT_THAT(g, HasSubstr("set terminal pngcairo"));
  EXPECT_THAT(g, HasSubstr("set output '/tmp/x.png'"));
  EXPECT_THAT(g, HasSubstr("set title 'It''s a title'"));
  EXPECT_THAT(g, HasSubstr("set datafile missing '?'"));
  EXPECT_THAT(g, HasSubstr("histogram clustered"));
  EXPECT_THAT(g, HasSubstr("plot '/tmp/x.dat' using 2:xtic(1) lc rgb '#6a3d9a' "
                           "title columnheader(2)"));
  EXPECT_THAT(g, HasSubstr("'' using 3 lc rgb '#8c8c8c' title columnheader(3)"));
  c.lines = true;
  c.rows = {{"1", {1, 2}}, {"2", {3, 4}}, {"8", {5, 6}}};
  EXPECT_EQ(ChartData(c), "\"workload\" \"kernel\" \"null\"\n1 1 2\n2 3 4\n8 5 6\n");
  const std::string lines = ChartScript(c, "d", "i.svg", "svg");
  EXPECT_THAT(lines, HasSubstr("set terminal svg"));
  // Thread counts on a log2 axis, a tic at each count with data.
  EXPECT_THAT(lines, HasSubstr("set logscale x 2\nset xtics ('1' 1, '2' 2, '8' 8)\n"));
  EXPECT_THAT(lines, HasSubstr("using 1:3 with linespoints"));
}

}  // namespace
}  // namespace pcpool
