// SPDX-License-Identifier: GPL-2.0
#include "hist.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <optional>
#include <span>

namespace pcpool {
namespace {

constexpr unsigned kSubBits = PCPOOL_HIST_SUB_BITS;
constexpr unsigned kMaxBits = PCPOOL_HIST_MAX_BITS;
constexpr uint64_t kSub = uint64_t{1} << kSubBits;

}  // namespace

size_t LatencyHistogram::Bucket(uint64_t ns) {
  if (ns < kSub) {
    return ns;
  }
  if ((ns >> kMaxBits) != 0) {
    return kBuckets - 1;
  }
  const unsigned e = std::bit_width(ns) - 1;
  return ((e - kSubBits + 1) << kSubBits) + (ns >> (e - kSubBits)) - kSub;
}

uint64_t LatencyHistogram::BucketLow(size_t i) {
  if (i < kSub) {
    return i;
  }
  const unsigned e = static_cast<unsigned>(i >> kSubBits) + kSubBits - 1;
  const uint64_t mantissa = (i & (kSub - 1)) + kSub;
  return mantissa << (e - kSubBits);
}

uint64_t LatencyHistogram::BucketHigh(size_t i) {
  if (i + 1 >= kBuckets) {
    return UINT64_MAX;
  }
  return BucketLow(i + 1) - 1;
}

void LatencyHistogram::Record(uint64_t ns) {
  counts_[Bucket(ns)]++;
  count_++;
  sum_ += ns;
  max_ = std::max(max_, ns);
}

void LatencyHistogram::RecordBatch(uint64_t ns, uint64_t count) {
  if (count == 0) {
    return;
  }
  const uint64_t each = ns / count + (ns % count != 0 ? 1 : 0);
  counts_[Bucket(each)] += count;
  count_ += count;
  sum_ += ns;
  max_ = std::max(max_, each);
}

void LatencyHistogram::Add(std::span<const uint64_t> buckets, uint64_t sum, uint64_t max) {
  const size_t n = std::min(buckets.size(), kBuckets);
  for (size_t i = 0; i < n; i++) {
    counts_[i] += buckets[i];
    count_ += buckets[i];
  }
  sum_ += sum;
  max_ = std::max(max_, max);
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  Add(other.counts_, other.sum_, other.max_);
}

std::optional<uint64_t> LatencyHistogram::Percentile(double pct) const {
  if (count_ == 0) {
    return std::nullopt;
  }
  pct = std::clamp(pct, 0.0, 100.0);
  // The rank-th smallest sample, 1-based; rank 0 (pct 0) means the first.
  const auto rank = std::max<uint64_t>(
      1, static_cast<uint64_t>(std::ceil(pct / 100.0 * static_cast<double>(count_))));
  uint64_t seen = 0;
  for (size_t i = 0; i < kBuckets; i++) {
    seen += counts_[i];
    if (seen >= rank) {
      return std::min(BucketHigh(i), max_);
    }
  }
  return max_;
}

std::optional<LatencySummary> LatencyHistogram::Summary() const {
  if (count_ == 0) {
    return std::nullopt;
  }
  LatencySummary s;
  s.samples = count_;
  s.mean = static_cast<double>(sum_) / static_cast<double>(count_);
  s.p50 = *Percentile(50);
  s.p95 = *Percentile(95);
  s.p99 = *Percentile(99);
  s.max = max_;
  return s;
}

void OpLatency::Add(const pcpool_hist& h) {
  // __u64 is unsigned long long, uint64_t unsigned long: same layout.
  static_assert(sizeof(h.alloc[0]) == sizeof(uint64_t));
  std::array<uint64_t, LatencyHistogram::kBuckets> b{};
  std::copy(std::begin(h.alloc), std::end(h.alloc), b.begin());
  alloc.Add(b, h.alloc_sum_ns, h.alloc_max_ns);
  std::copy(std::begin(h.free), std::end(h.free), b.begin());
  free.Add(b, h.free_sum_ns, h.free_max_ns);
}

void OpLatency::Merge(const OpLatency& other) {
  alloc.Merge(other.alloc);
  free.Merge(other.free);
  per_call = per_call || other.per_call;
}

}  // namespace pcpool
