// SPDX-License-Identifier: GPL-2.0
// Latency histograms in the kernel's layout (struct pcpool_hist): log-linear
// buckets of nanoseconds, merged by adding buckets.
#ifndef PCPOOL_USERSPACE_HIST_H_
#define PCPOOL_USERSPACE_HIST_H_

#include <linux/pcpool.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace pcpool {

struct LatencySummary {
  uint64_t samples = 0;
  double mean = 0;  // exact: sum / samples
  uint64_t p50 = 0;
  uint64_t p95 = 0;
  uint64_t p99 = 0;
  uint64_t max = 0;  // exact
};

class LatencyHistogram {
 public:
  static constexpr size_t kBuckets = PCPOOL_HIST_BUCKETS;

  // The bucket @ns falls in, as the kernel computes it.
  static size_t Bucket(uint64_t ns);
  // Smallest and largest value of bucket @i (the last one is open-ended:
  // its high bound is UINT64_MAX).
  static uint64_t BucketLow(size_t i);
  static uint64_t BucketHigh(size_t i);

  // One value (tests, userspace timing).
  void Record(uint64_t ns);
  // A batched command: @count operations took @ns in the kernel together.
  // Each is counted at their mean (rounded up), the sum stays exact; with
  // one operation per command it is that operation's latency.
  void RecordBatch(uint64_t ns, uint64_t count);
  // A kernel histogram: @buckets has kBuckets counts, @sum and @max the
  // matching out fields.
  void Add(std::span<const uint64_t> buckets, uint64_t sum, uint64_t max);
  void Merge(const LatencyHistogram& other);

  [[nodiscard]] uint64_t Count() const { return count_; }
  [[nodiscard]] uint64_t Sum() const { return sum_; }
  [[nodiscard]] uint64_t Max() const { return max_; }
  [[nodiscard]] const std::array<uint64_t, kBuckets>& Buckets() const { return counts_; }

  // The value below which @pct percent of the samples lie: the high bound
  // of the bucket holding the ceil(pct/100 * count)-th smallest sample,
  // capped at the exact maximum (so it overstates by less than one bucket,
  // at most 1/8). nullopt when empty; pct is clamped to [0, 100].
  [[nodiscard]] std::optional<uint64_t> Percentile(double pct) const;
  [[nodiscard]] std::optional<LatencySummary> Summary() const;

 private:
  std::array<uint64_t, kBuckets> counts_{};
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  uint64_t max_ = 0;
};

// Both halves of a RUN's pcpool_hist, or of batched commands' means.
struct OpLatency {
  LatencyHistogram alloc;
  LatencyHistogram free;
  // Filled by RecordBatch (channel and handle workloads): a sample is a
  // command's mean per block, not one timed operation.
  bool per_call = false;

  void Add(const pcpool_hist& h);
  void Merge(const OpLatency& other);
  [[nodiscard]] bool Empty() const { return alloc.Count() == 0 && free.Count() == 0; }
};

}  // namespace pcpool

#endif  // PCPOOL_USERSPACE_HIST_H_
