// SPDX-License-Identifier: GPL-2.0
// Latency histograms: the bucket layout the kernel fills (the formula in
// include/uapi/linux/pcpool.h), percentiles, merging.
#include "hist.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <linux/pcpool.h>

#include <cstdint>
#include <memory>
#include <random>
#include <vector>

namespace pcpool {
namespace {

// The header's formula, written out independently of hist.cpp.
size_t HeaderBucket(uint64_t v) {
  if (v < 8) {
    return v;
  }
  unsigned e = 63;
  while ((v >> e) == 0) {
    e--;
  }
  if (e >= 40) {
    return PCPOOL_HIST_BUCKETS - 1;
  }
  return (e - 2) * 8 + (v >> (e - 3)) - 8;
}

TEST(LatencyHistogram, BucketsFollowTheHeaderFormula) {
  for (uint64_t v = 0; v < 5000; v++) {
    ASSERT_EQ(LatencyHistogram::Bucket(v), HeaderBucket(v)) << v;
  }
  std::mt19937_64 rng(7);
  for (int i = 0; i < 100000; i++) {
    const uint64_t v = rng() >> (rng() % 64);
    ASSERT_EQ(LatencyHistogram::Bucket(v), HeaderBucket(v)) << v;
  }
  EXPECT_EQ(LatencyHistogram::Bucket((uint64_t{1} << 40) - 1), PCPOOL_HIST_BUCKETS - 1U);
  EXPECT_EQ(LatencyHistogram::Bucket(uint64_t{1} << 40), PCPOOL_HIST_BUCKETS - 1U);
  EXPECT_EQ(LatencyHistogram::Bucket(UINT64_MAX), PCPOOL_HIST_BUCKETS - 1U);
}

TEST(LatencyHistogram, BoundsTileTheLineAndAreAtMostAnEighthWide) {
  EXPECT_EQ(LatencyHistogram::BucketLow(0), 0U);
  for (size_t i = 0; i + 1 < LatencyHistogram::kBuckets; i++) {
    const uint64_t lo = LatencyHistogram::BucketLow(i);
    const uint64_t hi = LatencyHistogram::BucketHigh(i);
    ASSERT_EQ(LatencyHistogram::BucketLow(i + 1), hi + 1) << i;
    ASSERT_EQ(LatencyHistogram::Bucket(lo), i);
    ASSERT_EQ(LatencyHistogram::Bucket(hi), i);
    if (lo >= 8) {
      ASSERT_LE(hi - lo + 1, lo / 8) << i;
    }
  }
  EXPECT_EQ(LatencyHistogram::BucketHigh(LatencyHistogram::kBuckets - 1), UINT64_MAX);
}

TEST(LatencyHistogram, PercentilesOnKnownData) {
  LatencyHistogram h;
  EXPECT_FALSE(h.Percentile(50).has_value());
  EXPECT_FALSE(h.Summary().has_value());
  for (uint64_t v = 1; v <= 100; v++) {
    h.Record(v);
  }
  EXPECT_EQ(h.Count(), 100U);
  EXPECT_EQ(h.Max(), 100U);
  // 50 lies in [48, 51], 95 in [88, 95], 99 in [96, 103] capped at the max.
  EXPECT_EQ(*h.Percentile(50), 51U);
  EXPECT_EQ(*h.Percentile(95), 95U);
  EXPECT_EQ(*h.Percentile(99), 100U);
  EXPECT_EQ(*h.Percentile(100), 100U);
  EXPECT_EQ(*h.Percentile(0), 1U);
  EXPECT_EQ(*h.Percentile(-5), 1U);
  const LatencySummary s = *h.Summary();
  EXPECT_DOUBLE_EQ(s.mean, 50.5);
  EXPECT_EQ(s.samples, 100U);
}

TEST(LatencyHistogram, PercentileOverstatesByLessThanABucket) {
  std::mt19937_64 rng(1);
  std::vector<uint64_t> values;
  LatencyHistogram h;
  for (int i = 0; i < 20000; i++) {
    const uint64_t v = 100 + rng() % 100000;
    values.push_back(v);
    h.Record(v);
  }
  std::sort(values.begin(), values.end());
  for (const double p : {50.0, 90.0, 95.0, 99.0, 99.9}) {
    const auto rank = static_cast<size_t>(std::ceil(p / 100 * values.size()));
    const uint64_t exact = values[rank - 1];
    const uint64_t got = *h.Percentile(p);
    EXPECT_GE(got, exact) << p;
    EXPECT_LE(got, exact + exact / 8) << p;
  }
}

// A batched command: every block at the mean, rounded up, sum exact.
TEST(LatencyHistogram, RecordBatchCountsEveryBlockAtTheMean) {
  LatencyHistogram h;
  h.RecordBatch(1000, 3);  // 333.3 each
  h.RecordBatch(50, 1);
  h.RecordBatch(99, 0);  // nothing moved: nothing recorded
  EXPECT_EQ(h.Count(), 4U);
  EXPECT_EQ(h.Sum(), 1050U);
  EXPECT_EQ(h.Max(), 334U);
  EXPECT_EQ(h.Buckets()[LatencyHistogram::Bucket(334)], 3U);
  EXPECT_EQ(*h.Percentile(25), LatencyHistogram::BucketHigh(LatencyHistogram::Bucket(50)));
  EXPECT_EQ(*h.Percentile(100), 334U);
}

TEST(LatencyHistogram, MergeEqualsRecordingEverything) {
  LatencyHistogram a;
  LatencyHistogram b;
  LatencyHistogram all;
  std::mt19937_64 rng(3);
  for (int i = 0; i < 1000; i++) {
    const uint64_t v = rng() % 1000000;
    (i % 3 == 0 ? a : b).Record(v);
    all.Record(v);
  }
  a.Merge(b);
  EXPECT_EQ(a.Buckets(), all.Buckets());
  EXPECT_EQ(a.Count(), all.Count());
  EXPECT_EQ(a.Sum(), all.Sum());
  EXPECT_EQ(a.Max(), all.Max());
  EXPECT_EQ(a.Percentile(99), all.Percentile(99));
}

TEST(OpLatency, AddsBothHalvesOfAKernelHistogram) {
  auto h = std::make_unique<pcpool_hist>();
  h->alloc[LatencyHistogram::Bucket(300)] = 4;
  h->alloc_sum_ns = 1200;
  h->alloc_max_ns = 310;
  h->free[LatencyHistogram::Bucket(90)] = 2;
  h->free_sum_ns = 180;
  h->free_max_ns = 95;
  OpLatency l;
  EXPECT_TRUE(l.Empty());
  l.Add(*h);
  l.Add(*h);
  EXPECT_FALSE(l.Empty());
  EXPECT_EQ(l.alloc.Count(), 8U);
  EXPECT_EQ(l.alloc.Sum(), 2400U);
  EXPECT_EQ(l.alloc.Max(), 310U);
  EXPECT_EQ(*l.alloc.Percentile(50), 310U) << "bucket [288, 319] capped at the max";
  EXPECT_EQ(l.free.Count(), 4U);
  EXPECT_DOUBLE_EQ(l.free.Summary()->mean, 90.0);
}

}  // namespace
}  // namespace pcpool
