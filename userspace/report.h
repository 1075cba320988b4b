// SPDX-License-Identifier: GPL-2.0
// Reporters, after google/benchmark: one interface, console table, JSON and
// CSV implementations. Documentation/harness.rst defines every field.
#ifndef PCPOOL_USERSPACE_REPORT_H_
#define PCPOOL_USERSPACE_REPORT_H_

#include <memory>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "context.h"
#include "stats.h"
#include "summary.h"

namespace pcpool {

class Reporter {
 public:
  virtual ~Reporter() = default;
  // Once, before any run.
  virtual void ReportContext(const Context& ctx) = 0;
  // As runs finish; may be called many times.
  virtual void ReportRuns(std::span<const RunResult> runs) = 0;
  // Once, after the last run and before Finalize: the closing ratios.
  virtual void ReportSummary(const Summary& /*summary*/) {}
  // Once, after the last run; flushes.
  virtual void Finalize() = 0;
};

// Fixed-width table, one row per run; ***WARNING*** lines for the context.
// Finalize adds a summary of the overhead runs: per-command cost of ioctl
// and io_uring against the in-kernel loop.
class ConsoleReporter : public Reporter {
 public:
  explicit ConsoleReporter(std::ostream& out, CounterFilter filter = {})
      : out_(out), filter_(std::move(filter)) {}
  void ReportContext(const Context& ctx) override;
  void ReportRuns(std::span<const RunResult> runs) override;
  void ReportSummary(const Summary& summary) override;
  void Finalize() override;

 private:
  std::ostream& out_;
  CounterFilter filter_;  // counter keys the table shows
  bool header_done_ = false;
  std::vector<RunResult> overhead_;
};

// {"context": {...}, "results": [...], "summary": {...}} written at
// Finalize; "summary" only after ReportSummary.
class JsonReporter : public Reporter {
 public:
  explicit JsonReporter(std::ostream& out);
  ~JsonReporter() override;
  void ReportContext(const Context& ctx) override;
  void ReportRuns(std::span<const RunResult> runs) override;
  void ReportSummary(const Summary& summary) override;
  void Finalize() override;

 private:
  struct State;
  std::ostream& out_;
  std::unique_ptr<State> state_;
};

// RFC 4180 CSV, one header line then one line per run.
class CsvReporter : public Reporter {
 public:
  explicit CsvReporter(std::ostream& out) : out_(out) {}
  void ReportContext(const Context& ctx) override;
  void ReportRuns(std::span<const RunResult> runs) override;
  void Finalize() override;

 private:
  std::ostream& out_;
};

// Human figures for the table: "1.23M", "456k", "12".
std::string HumanCount(double v);

// backend/workload/order:K/threads:N/ops:N, then /submit:S unless ioctl,
// /freers:K for exit and purger, /rep:R after the first repetition.
std::string RunName(const RunResult& r);

// Overhead runs of one configuration side by side.
struct OverheadSummary {
  std::string name;                // backend/order:K/threads:N/ops:N
  std::optional<double> ioctl_ns;  // userspace ns per command
  std::optional<double> uring_ns;
  std::optional<double> loop_ns;  // in-kernel ns per op
  uint32_t uring_depth = 0;
};
std::vector<OverheadSummary> SummarizeOverhead(std::span<const RunResult> runs);

}  // namespace pcpool

#endif  // PCPOOL_USERSPACE_REPORT_H_
