// SPDX-License-Identifier: GPL-2.0
// pcpool-bench plot: charts from --json results, drawn by gnuplot.
#ifndef PCPOOL_USERSPACE_PLOT_H_
#define PCPOOL_USERSPACE_PLOT_H_

#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace pcpool {

// One chart's data: rows of x values (a label, or a number for line
// charts) with one optional value per series.
struct Chart {
  std::string name;  // file name without extension
  std::string title;
  std::string xlabel;
  std::string ylabel;
  bool lines = false;  // x is numeric: lines with points; else clustered bars
  bool logy = false;
  std::vector<std::string> series;
  std::vector<std::pair<std::string, std::vector<std::optional<double>>>> rows;
};

// Charts from the "results" of one or more JSON documents (already
// parsed and concatenated, as JSON text of an array of run objects):
//   throughput-<workload>-o<order>  ops/s vs threads, a line per backend
//                                   (and submission path, if several)
//   ns-per-op-o<order>              ns/op by workload, a bar per backend
//   zone-lock-per-1000-o<order>     zone_lock_acquisitions per 1000 ops
//   latency-<workload>-o<order>     alloc and free p50/p95/p99/max
//   overhead                        ns per command: ioctl, io_uring, loop,
//                                   at the smallest thread count
// Bars use each (workload, backend)'s largest thread count; repetitions
// are averaged. Failed runs are left out, and runs with latency histograms
// (a "sample_shift") only feed the latency charts: their clock reads
// inflate ns/op.
std::vector<Chart> BuildCharts(const std::string& results_json_array, std::string* error);

// The gnuplot data file and script for @c.
std::string ChartData(const Chart& c);
std::string ChartScript(const Chart& c, const std::string& data_path, const std::string& image_path,
                        const std::string& format);

// `pcpool-bench plot` (argv after "plot"): reads JSON files, writes
// <out>/<chart>.{dat,gp,png|svg} and runs gnuplot on each script. Returns
// the exit status.
int PlotMain(std::span<const char* const> args);

}  // namespace pcpool

#endif  // PCPOOL_USERSPACE_PLOT_H_
