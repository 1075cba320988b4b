// SPDX-License-Identifier: GPL-2.0
// The trace format: round trip, corrupt files, pairing rules, and the
// conversion from tracefs text.
#include "trace.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstddef>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace pcpool {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TraceEvent Alloc(uint32_t seq, uint16_t cpu, uint64_t pfn, uint8_t order = 0, uint8_t mt = 1) {
  return TraceEvent{pfn, seq, cpu, order, mt, false};
}

TraceEvent Free(uint32_t seq, uint16_t cpu, uint64_t pfn, uint8_t order = 0) {
  return TraceEvent{pfn, seq, cpu, order, 0, true};
}

std::vector<TraceEvent> Sample() {
  return {Alloc(0, 0, 0x100), Alloc(1, 1, 0x200, 2, 0), Free(2, 1, 0x100), Alloc(3, 3, 0x100, 0, 4),
          Free(5, 0, 0x200, 2)};
}

Trace Built(std::vector<TraceEvent> events) {
  std::string why;
  std::optional<Trace> t = BuildTrace(std::move(events), &why);
  EXPECT_TRUE(t) << why;
  return t.value_or(Trace{});
}

std::optional<Trace> Decode(const std::string& bytes, std::string* why) {
  return DecodeTrace(std::as_bytes(std::span(bytes)), why);
}

TEST(TraceTest, RoundTrip) {
  const Trace t = Built(Sample());
  EXPECT_EQ(t.nr_cpus, 4U);
  EXPECT_EQ(t.allocs, 3U);
  EXPECT_EQ(t.frees, 2U);
  EXPECT_EQ(t.max_order, 2U);
  EXPECT_THAT(t.peer, ElementsAre(2U, 4U, 0U, kNoEvent, 1U));
  const std::string bytes = EncodeTrace(t);
  EXPECT_EQ(bytes.size(), kTraceHeaderSize + 5 * kTraceEventSize);
  std::string why;
  const std::optional<Trace> back = Decode(bytes, &why);
  ASSERT_TRUE(back) << why;
  EXPECT_EQ(back->events, t.events);
  EXPECT_EQ(back->peer, t.peer);
  EXPECT_EQ(back->nr_cpus, 4U);
}

TEST(TraceTest, FileRoundTrip) {
  const std::filesystem::path path = std::filesystem::temp_directory_path() /
                                     ("pcpool-trace-test-" + std::to_string(getpid()) + ".bin");
  const Trace t = Built(Sample());
  std::string why;
  ASSERT_TRUE(WriteTrace(path, t, &why)) << why;
  const std::optional<Trace> back = ReadTrace(path, &why);
  std::filesystem::remove(path);
  ASSERT_TRUE(back) << why;
  EXPECT_EQ(back->events, t.events);
  EXPECT_FALSE(ReadTrace(path, &why));
  EXPECT_THAT(why, HasSubstr("cannot open"));
}

TEST(TraceTest, Truncated) {
  const std::string bytes = EncodeTrace(Built(Sample()));
  std::string why;
  EXPECT_FALSE(Decode(bytes.substr(0, 20), &why));
  EXPECT_THAT(why, HasSubstr("truncated"));
  EXPECT_FALSE(Decode(bytes.substr(0, bytes.size() - 3), &why));
  EXPECT_THAT(why, HasSubstr("truncated"));
  EXPECT_FALSE(Decode(bytes + "x", &why));
  EXPECT_THAT(why, HasSubstr("trailing"));
  EXPECT_FALSE(Decode("", &why));
}

TEST(TraceTest, BadMagicAndVersion) {
  std::string bytes = EncodeTrace(Built(Sample()));
  std::string why;
  std::string bad = bytes;
  bad[0] = 'X';
  EXPECT_FALSE(Decode(bad, &why));
  EXPECT_THAT(why, HasSubstr("bad magic"));
  bad = bytes;
  bad[8] = 2;  // version 2
  EXPECT_FALSE(Decode(bad, &why));
  EXPECT_THAT(why, HasSubstr("version 2"));
  bad = bytes;
  bad[28] = 1;  // flags
  EXPECT_FALSE(Decode(bad, &why));
  EXPECT_THAT(why, HasSubstr("bad header"));
  bad = bytes;
  bad[kTraceHeaderSize + 15] = static_cast<char>(0x80);  // unknown event bit
  EXPECT_FALSE(Decode(bad, &why));
  EXPECT_THAT(why, HasSubstr("unknown flag bits"));
}

TEST(TraceTest, FreeWithoutAllocIsAnError) {
  std::string why;
  EXPECT_FALSE(BuildTrace({Alloc(0, 0, 0x10), Free(1, 1, 0x11)}, &why));
  EXPECT_THAT(why, HasSubstr("event 1"));
  EXPECT_THAT(why, HasSubstr("not allocated"));
  // Freed twice.
  EXPECT_FALSE(BuildTrace({Alloc(0, 0, 0x10), Free(1, 1, 0x10), Free(2, 0, 0x10)}, &why));
  EXPECT_THAT(why, HasSubstr("event 2"));
  // The same through a file: nothing comes back to replay.
  Trace t;
  t.events = {Alloc(0, 0, 0x10), Free(1, 0, 0x20)};
  t.nr_cpus = 1;
  EXPECT_FALSE(Decode(EncodeTrace(t), &why));
  EXPECT_THAT(why, HasSubstr("not allocated"));
}

TEST(TraceTest, OtherRules) {
  std::string why;
  EXPECT_FALSE(BuildTrace({Alloc(0, 0, 0x10, 1), Free(1, 0, 0x10, 0)}, &why));
  EXPECT_THAT(why, HasSubstr("allocated at order 1"));
  EXPECT_FALSE(BuildTrace({Alloc(3, 0, 0x10), Alloc(3, 0, 0x20)}, &why));
  EXPECT_THAT(why, HasSubstr("seq"));
  EXPECT_FALSE(BuildTrace({Alloc(0, 0, 0x10, kTraceMaxOrder + 1)}, &why));
  // A second allocation at a live pfn keeps the first one held: the free
  // pairs with the newer.
  const Trace t = Built({Alloc(0, 0, 0x10), Alloc(1, 1, 0x10), Free(2, 0, 0x10)});
  EXPECT_THAT(t.peer, ElementsAre(kNoEvent, 2U, 1U));
  EXPECT_TRUE(Built({}).events.empty());
}

TEST(TraceTest, ConvertFtrace) {
  const std::string text = R"(# tracer: nop
#
#                                _-----=> irqs-off/BH-disabled
          <idle>-0       [001] d.s2.   10.000001: mm_page_free: page=0000000012345678 pfn=0x999 order=0
              xz-70      [000] .....   10.000002: mm_page_alloc: page=00000000aaaa pfn=0x1000 order=0 migratetype=1 gfp_flags=GFP_HIGHUSER_MOVABLE|__GFP_ZERO
              xz-71      [001] .....   10.000003: mm_page_alloc: page=00000000bbbb pfn=0x2000 order=3 migratetype=0 gfp_flags=GFP_KERNEL|__GFP_COMP
              xz-70      [000] .....   10.000004: mm_page_free: page=00000000aaaa pfn=0x1000 order=0
              xz-70      [000] .....   10.000005: mm_page_free_batched: page=00000000aaaa pfn=0x1000 order=0
CPU:1 [LOST 12 EVENTS]
              xz-71      [001] .....   10.000006: mm_page_alloc: page=0000000000000000 pfn=0x0 order=9 migratetype=1 gfp_flags=GFP_TRANSHUGE
              xz-71      [001] .....   10.000007: mm_page_free: page=00000000bbbb pfn=0x2000 order=0
              xz-71      [001] .....   10.000008: mm_page_alloc: page=00000000cccc pfn=0x3000 order=0 migratetype=1 gfp_flags=GFP_KERNEL
              xz-71      [001] .....   10.000009: mm_page_free_batched: page=00000000cccc pfn=0x3000 order=0
              xz-71      [001] .....   10.000010: sched_switch: prev_comm=xz
)";
  FtraceStats st;
  std::string why;
  const std::optional<Trace> t = ConvertFtrace(text, &st, &why);
  ASSERT_TRUE(t) << why;
  EXPECT_EQ(st.allocs, 3U);
  EXPECT_EQ(st.frees, 2U);
  EXPECT_EQ(st.free_unknown, 1U);
  EXPECT_EQ(st.batched_dup, 1U);
  EXPECT_EQ(st.alloc_failed, 1U);
  EXPECT_EQ(st.free_order_split, 1U);
  EXPECT_EQ(st.lost_lines, 1U);
  EXPECT_EQ(st.other, 1U);
  ASSERT_EQ(t->events.size(), 5U);
  EXPECT_EQ(t->events[0], Alloc(0, 0, 0x1000, 0, 1));
  EXPECT_EQ(t->events[1], Alloc(1, 1, 0x2000, 3, 0));
  EXPECT_EQ(t->events[2], Free(2, 0, 0x1000));
  // The batched free that fired alone is a free.
  EXPECT_EQ(t->events[4], Free(4, 1, 0x3000));
  EXPECT_EQ(t->peer[1], kNoEvent);  // the split block stays held
  EXPECT_THAT(FormatFtraceStats(st), HasSubstr("frees kept 2"));

  EXPECT_FALSE(ConvertFtrace("  a-1 [000] ..... 1.0: mm_page_alloc: pfn=zz order=0\n", &st, &why));
  EXPECT_THAT(why, HasSubstr("cannot parse"));
}

}  // namespace
}  // namespace pcpool
