// SPDX-License-Identifier: GPL-2.0
#include "counters.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace pcpool {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;

TEST(ParseCounters, KeyValueLines) {
  const ParsedCounters p = ParseCounters("allocs 10\nfrees\t7\n\n  zone_lock_acquisitions   3  \n");
  EXPECT_THAT(p.values, ElementsAre(Pair("allocs", 10U), Pair("frees", 7U),
                                    Pair("zone_lock_acquisitions", 3U)));
  EXPECT_THAT(p.bad_lines, IsEmpty());
}

TEST(ParseCounters, FullU64AndNoTrailingNewline) {
  const ParsedCounters p = ParseCounters("big 18446744073709551615");
  EXPECT_THAT(p.values, ElementsAre(Pair("big", UINT64_MAX)));
}

TEST(ParseCounters, BadLinesAreKeptAside) {
  const ParsedCounters p =
      ParseCounters("ok 1\nnovalue\nneg -1\nhex 0x10\ntwo 1 2\nover 18446744073709551616\n");
  EXPECT_THAT(p.values, ElementsAre(Pair("ok", 1U)));
  EXPECT_THAT(p.bad_lines,
              ElementsAre("novalue", "neg -1", "hex 0x10", "two 1 2", "over 18446744073709551616"));
}

// A marker word after the value: "gauge" is a level; an unknown word from
// a newer module is tolerated; numbers and odd words are not markers.
TEST(ParseCounters, MarkerWords) {
  const ParsedCounters p =
      ParseCounters("free_pages 12 gauge\nallocs 3\nfuture 4 monotonic\nbad 5 Gauge!\n");
  EXPECT_THAT(p.values,
              ElementsAre(Pair("allocs", 3U), Pair("free_pages", 12U), Pair("future", 4U)));
  EXPECT_THAT(p.gauges, ElementsAre("free_pages"));
  EXPECT_THAT(p.bad_lines, ElementsAre("bad 5 Gauge!"));
}

TEST(ParseCounters, RepeatedKeyKeepsLast) {
  EXPECT_THAT(ParseCounters("a 1\na 2\n").values, ElementsAre(Pair("a", 2U)));
}

TEST(ParseCounters, EmptyText) {
  const ParsedCounters p = ParseCounters("");
  EXPECT_THAT(p.values, IsEmpty());
  EXPECT_THAT(p.bad_lines, IsEmpty());
}

TEST(CounterDelta, GrowthShrinkNewAndGoneKeys) {
  const Counters before{{"allocs", 100}, {"outstanding", 50}, {"gone", 4}};
  const Counters after{{"allocs", 250}, {"outstanding", 20}, {"new", 9}};
  EXPECT_THAT(CounterDelta(before, after),
              ElementsAre(Pair("allocs", 150), Pair("new", 9), Pair("outstanding", -30)));
}

TEST(CounterDelta, WrapsModulo64Bits) {
  const Counters before{{"c", UINT64_MAX - 1}};
  const Counters after{{"c", 3}};
  EXPECT_THAT(CounterDelta(before, after), ElementsAre(Pair("c", 5)));
}

TEST(CounterDelta, SkipsGauges) {
  const Counters before{{"allocs", 1}, {"zone_free_pages", 8}};
  const Counters after{{"allocs", 4}, {"zone_free_pages", 2}};
  EXPECT_THAT(CounterDelta(before, after, {"zone_free_pages"}), ElementsAre(Pair("allocs", 3)));
}

TEST(Gauges, KnownLevelsAndMarkedKeys) {
  EXPECT_TRUE(IsGauge("zone_free_pages", {}));
  EXPECT_TRUE(IsGauge("zone_free_order_9", {}));
  EXPECT_TRUE(IsGauge("pcpbuddy_pool_pages", {}));
  EXPECT_TRUE(IsGauge("whatever", {"whatever"}));
  EXPECT_FALSE(IsGauge("zone_freed_order_0", {})) << "a count of chunks handed back";
  EXPECT_FALSE(IsGauge("zone_lock_acquisitions", {}));
  EXPECT_FALSE(IsGauge("pcpbuddy_stolen_pages", {})) << "monotonic";
}

TEST(Gauges, BeforeAndAfter) {
  const Counters before{{"allocs", 1}, {"zone_free_pages", 8}};
  const Counters after{
      {"allocs", 4}, {"zone_free_pages", 2}, {"level", 7}, {"zone_blocks_held", 1}};
  const Gauges g = GaugeChange(before, after, {"level"});
  ASSERT_EQ(g.size(), 3U);
  EXPECT_EQ(g.at("zone_free_pages").before, 8U);
  EXPECT_EQ(g.at("zone_free_pages").after, 2U);
  EXPECT_EQ(g.at("level").before, 0U) << "missing before: 0";
  EXPECT_EQ(g.at("level").after, 7U);
  EXPECT_EQ(g.at("zone_blocks_held").after, 1U);
}

TEST(CounterFilter, DefaultAllNoneAndLists) {
  const CounterFilter def = ParseCounterFilter("default").value();
  EXPECT_TRUE(def.Shows("zone_lock_acquisitions"));
  EXPECT_TRUE(def.Shows("pcpbuddy_remote_frees"));
  EXPECT_TRUE(def.Shows("alloc_misses"));
  EXPECT_FALSE(def.Shows("zone_moved_hist_4"));
  EXPECT_FALSE(def.Shows("allocs"));
  EXPECT_TRUE(ParseCounterFilter("all").value().Shows("zone_moved_hist_4"));
  EXPECT_FALSE(ParseCounterFilter("none").value().Shows("zone_lock_acquisitions"));
  const CounterFilter list = ParseCounterFilter("allocs, zone_moved_hist_*").value();
  EXPECT_TRUE(list.Shows("allocs"));
  EXPECT_TRUE(list.Shows("zone_moved_hist_1024"));
  EXPECT_FALSE(list.Shows("frees"));
  EXPECT_FALSE(list.Shows("zone_lock_acquisitions"));
  EXPECT_FALSE(ParseCounterFilter("").has_value());
  EXPECT_FALSE(ParseCounterFilter("a,,b").has_value());
  EXPECT_FALSE(ParseCounterFilter("*").has_value());
}

class DebugfsDir : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "pcpool-unit-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void Write(const std::string& rel, const std::string& text) {
    const std::filesystem::path p = std::filesystem::path(dir_) / rel;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p) << text;
  }

  std::string dir_;
};

TEST_F(DebugfsDir, ReadsBackendCountersAndOutstanding) {
  Write("kernel/counters", "allocs 5\nfrees 5\n");
  Write("outstanding", "kernel 0\nnull 12\n");
  EXPECT_THAT(ReadBackendCounters(dir_, "kernel").value().values,
              ElementsAre(Pair("allocs", 5U), Pair("frees", 5U)));
  EXPECT_THAT(ReadOutstanding(dir_).value(), ElementsAre(Pair("kernel", 0U), Pair("null", 12U)));
  EXPECT_FALSE(ReadBackendCounters(dir_, "null").has_value());
}

TEST_F(DebugfsDir, MissingDirectory) {
  EXPECT_EQ(ReadOutstanding(dir_ + "/nope"), std::nullopt);
  EXPECT_EQ(ReadTextFile(dir_ + "/nope"), std::nullopt);
}

TEST_F(DebugfsDir, BadLinesWarnOncePerFile) {
  Write("null/counters", "allocs 1\ngarbage\n");
  ::testing::internal::CaptureStderr();
  EXPECT_THAT(ReadBackendCounters(dir_, "null").value().values, ElementsAre(Pair("allocs", 1U)));
  EXPECT_THAT(ReadBackendCounters(dir_, "null").value().values, ElementsAre(Pair("allocs", 1U)));
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_THAT(err, HasSubstr("ignoring 1 line(s)"));
  EXPECT_THAT(err, HasSubstr("'garbage'"));
  EXPECT_EQ(err.find("ignoring"), err.rfind("ignoring")) << err;
}

}  // namespace
}  // namespace pcpool
