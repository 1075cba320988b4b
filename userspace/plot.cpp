// SPDX-License-Identifier: GPL-2.0
#include "plot.h"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

extern char** environ;  // NOLINT(readability-redundant-declaration): POSIX, for posix_spawnp

namespace pcpool {
namespace {

using Json = nlohmann::json;

std::optional<double> Number(const Json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_number()) {
    return std::nullopt;
  }
  return it->get<double>();
}

std::string Str(const Json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

uint64_t Uint(const Json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_number_unsigned() ? it->get<uint64_t>() : 0;
}

// Mean of the values added under one key.
class Means {
 public:
  void Add(const std::string& row, const std::string& series, std::optional<double> v) {
    if (!v || !std::isfinite(*v)) {
      return;
    }
    Cell& c = cells_[{row, series}];
    c.sum += *v;
    c.n++;
    if (std::find(rows_.begin(), rows_.end(), row) == rows_.end()) {
      rows_.push_back(row);
    }
    if (std::find(series_.begin(), series_.end(), series) == series_.end()) {
      series_.push_back(series);
    }
  }

  [[nodiscard]] bool Empty() const { return cells_.empty(); }

  void Fill(Chart* c, bool numeric_rows) const {
    c->series = series_;
    std::vector<std::string> rows = rows_;
    if (numeric_rows) {
      std::sort(rows.begin(), rows.end(), [](const std::string& a, const std::string& b) {
        return std::stod(a) < std::stod(b);
      });
    }
    for (const std::string& row : rows) {
      std::vector<std::optional<double>> values;
      for (const std::string& s : series_) {
        const auto it = cells_.find({row, s});
        values.push_back(it == cells_.end() ? std::nullopt
                                            : std::optional<double>(it->second.sum / it->second.n));
      }
      c->rows.emplace_back(row, std::move(values));
    }
  }

 private:
  struct Cell {
    double sum = 0;
    double n = 0;
  };
  std::map<std::pair<std::string, std::string>, Cell> cells_;
  std::vector<std::string> rows_;
  std::vector<std::string> series_;
};

std::string Quote(const std::string& s) {
  std::string q = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') {
      q += '\\';
    }
    q += c;
  }
  return q + "\"";
}

// Single-quoted gnuplot string: only ' needs doubling.
std::string GpString(const std::string& s) {
  std::string q = "'";
  for (const char c : s) {
    q += c;
    if (c == '\'') {
      q += '\'';
    }
  }
  return q + "'";
}

// A backend (or submission path) keeps its colour from chart to chart;
// vmap-global, vmalloc's model, gets a darker shade of vmalloc's.
std::string SeriesColor(const std::string& series) {
  static const std::map<std::string, std::string> colors = {
      {"kernel", "#6a3d9a"},      {"null", "#8c8c8c"},        {"classic", "#1f78b4"},
      {"pcpbuddy", "#ff7f00"},    {"vmalloc", "#b2a000"},     {"pcpu-kernel", "#cab2d6"},
      {"pcpu-raw", "#33a02c"},    {"pcpu-zeroed", "#a6cee3"}, {"pcpu-constructed", "#e31a1c"},
      {"ioctl", "#1f78b4"},       {"uring", "#ff7f00"},       {"loop", "#33a02c"},
      {"vmap-global", "#7a5c00"}, {"vmap-nodes", "#01665e"},  {"pcpu-null", "#bdbdbd"},
  };
  const auto it = colors.find(series.substr(0, series.find('/')));
  return it == colors.end() ? "" : " lc rgb '" + it->second + "'";
}

}  // namespace

std::vector<Chart> BuildCharts(const std::string& results_json_array, std::string* error) {
  std::vector<Chart> charts;
  Json runs;
  try {
    runs = Json::parse(results_json_array);
  } catch (const Json::exception& e) {
    *error = std::string("bad JSON: ") + e.what();
    return charts;
  }
  if (!runs.is_array()) {
    *error = "results are not an array";
    return charts;
  }
  std::vector<const Json*> ok;
  std::set<std::string> submits;
  for (const Json& r : runs) {
    if (r.is_object() && !r.contains("error") && Number(r, "ops_per_sec")) {
      ok.push_back(&r);
      if (Str(r, "workload") != "overhead") {
        submits.insert(Str(r, "submit"));
      }
    }
  }
  if (ok.empty()) {
    *error = "no successful runs to plot";
    return charts;
  }
  auto series_name = [&](const Json& r) {
    std::string s = Str(r, "backend");
    if (submits.size() > 1) {
      s += "/" + Str(r, "submit");
    }
    return s;
  };
  // Largest thread count per (workload, order), apart for runs with and
  // without latency figures: a sweep and its latency runs often use
  // different thread counts, and each feeds its own charts.
  auto has_latency = [](const Json& r) {
    const auto l = r.find("latency");
    return l != r.end() && l->is_object();
  };
  using MaxKey = std::tuple<std::string, uint64_t, bool>;
  std::map<MaxKey, uint64_t> max_threads;
  std::set<uint64_t> orders;
  for (const Json* r : ok) {
    uint64_t& m = max_threads[{Str(*r, "workload"), Uint(*r, "order"), has_latency(*r)}];
    m = std::max(m, Uint(*r, "threads"));
    orders.insert(Uint(*r, "order"));
  }
  auto at_max = [&](const Json& r) {
    return Uint(r, "threads") ==
           max_threads[{Str(r, "workload"), Uint(r, "order"), has_latency(r)}];
  };
  // Counters come from the runs without latency where there are such.
  auto counters_source = [&](const Json& r) {
    return !has_latency(r) || !max_threads.contains({Str(r, "workload"), Uint(r, "order"), false});
  };
  // exit and purger rows carry their freer count, by what it means for
  // the defaults so that a sweep stays one line: exit frees from 1 CPU
  // and from all; purger has a quarter of the threads as purgers.
  auto workload_label = [](const Json& r) {
    std::string w = Str(r, "workload");
    const uint64_t k = Uint(r, "freers");
    const uint64_t threads = Uint(r, "threads");
    if (w == "exit") {
      w += k == 1 ? "/1" : k == threads ? "/all" : "/" + std::to_string(k);
    } else if (w == "purger" && k != std::max<uint64_t>(1, threads / 4)) {
      w += "/" + std::to_string(k);
    }
    return w;
  };

  for (const uint64_t order : orders) {
    const std::string o = "-o" + std::to_string(order);
    const std::string at = ", order " + std::to_string(order);
    // Throughput vs threads, per workload with more than one thread count.
    std::map<std::string, Means> sweeps;
    std::map<std::string, std::set<uint64_t>> counts;
    Means ns_per_op;
    Means zone;
    std::map<std::string, Means> latency;
    std::set<std::string> per_call;  // workloads timed per command, not per op
    for (const Json* r : ok) {
      if (Uint(*r, "order") != order || Str(*r, "workload") == "overhead") {
        continue;
      }
      const std::string w = workload_label(*r);
      // Per-operation timing inflates ns/op: such runs feed only the
      // latency charts.
      const bool timed = r->contains("sample_shift") && !(*r)["sample_shift"].is_null();
      if (!timed) {
        sweeps[w].Add(std::to_string(Uint(*r, "threads")), series_name(*r),
                      Number(*r, "ops_per_sec"));
        counts[w].insert(Uint(*r, "threads"));
      }
      if (!at_max(*r)) {
        continue;
      }
      if (!timed) {
        ns_per_op.Add(w, series_name(*r), Number(*r, "ns_per_op"));
      }
      if (const auto per = r->find("counters_per_1000_ops");
          counters_source(*r) && per != r->end() && per->is_object()) {
        zone.Add(w, series_name(*r), Number(*per, "zone_lock_acquisitions"));
      }
      if (const auto lat = r->find("latency"); lat != r->end() && lat->is_object()) {
        if (Str(*lat, "basis") == "call") {
          per_call.insert(w);
        }
        for (const char* side : {"alloc", "free"}) {
          const auto s = lat->find(side);
          if (s == lat->end() || !s->is_object()) {
            continue;
          }
          const std::string row = series_name(*r) + " " + side;
          for (const char* p : {"p50", "p95", "p99", "max"}) {
            latency[w].Add(row, p, Number(*s, p));
          }
        }
      }
    }
    for (const auto& [w, m] : sweeps) {
      if (counts[w].size() < 2) {
        continue;
      }
      Chart c;
      c.name = "throughput-";
      c.name += w;
      c.name += o;
      std::replace(c.name.begin(), c.name.end(), '/', '-');
      c.title = "Throughput vs threads: ";
      c.title += w;
      c.title += at;
      c.xlabel = "threads";
      c.ylabel = "operations/s (in-kernel time)";
      c.lines = true;
      c.logy = true;  // backends differ by orders of magnitude
      m.Fill(&c, true);
      charts.push_back(std::move(c));
    }
    if (!ns_per_op.Empty()) {
      Chart c;
      c.name = "ns-per-op" + o;
      c.title = "ns per operation by workload" + at + " (largest thread count)";
      c.xlabel = "workload";
      c.ylabel = "ns/op (in-kernel, summed over CPUs)";
      c.logy = true;
      ns_per_op.Fill(&c, false);
      charts.push_back(std::move(c));
    }
    if (!zone.Empty()) {
      Chart c;
      c.name = "zone-lock-per-1000" + o;
      c.title = "Zone-lock acquisitions per 1000 operations" + at;
      c.xlabel = "workload";
      c.ylabel = "acquisitions / 1000 ops";
      zone.Fill(&c, false);
      charts.push_back(std::move(c));
    }
    for (const auto& [w, m] : latency) {
      Chart c;
      c.name = "latency-";
      c.name += w;
      c.name += o;
      std::replace(c.name.begin(), c.name.end(), '/', '-');
      c.title = "Latency percentiles: ";
      c.title += w;
      c.title += at;
      c.title += " (largest thread count)";
      c.xlabel = "backend, side";
      c.ylabel = per_call.contains(w) ? "ns per block, each command's mean" : "ns";
      c.logy = true;
      m.Fill(&c, false);
      charts.push_back(std::move(c));
    }
  }

  // Submission cost is a one-thread figure: the smallest thread count.
  uint64_t overhead_threads = UINT64_MAX;
  for (const Json* r : ok) {
    if (Str(*r, "workload") == "overhead") {
      overhead_threads = std::min(overhead_threads, Uint(*r, "threads"));
    }
  }
  Means overhead;
  for (const Json* r : ok) {
    if (Str(*r, "workload") != "overhead" || Uint(*r, "threads") != overhead_threads) {
      continue;
    }
    const std::string path = Str(*r, "submit");
    overhead.Add(Str(*r, "backend"), path,
                 path == "loop" ? Number(*r, "ns_per_op") : Number(*r, "user_ns_per_op"));
  }
  if (!overhead.Empty()) {
    Chart c;
    c.name = "overhead";
    c.title = "Cost per command: ioctl, io_uring, in-kernel loop (" +
              std::to_string(overhead_threads) + " thread" + (overhead_threads == 1 ? ")" : "s)");
    c.xlabel = "backend";
    c.ylabel = "ns per command (userspace clock; loop: in-kernel)";
    overhead.Fill(&c, false);
    charts.push_back(std::move(c));
  }
  return charts;
}

std::string ChartData(const Chart& c) {
  std::ostringstream out;
  out << Quote(c.xlabel);
  for (const std::string& s : c.series) {
    out << ' ' << Quote(s);
  }
  out << '\n';
  for (const auto& [x, values] : c.rows) {
    out << (c.lines ? x : Quote(x));
    for (const std::optional<double>& v : values) {
      if (v) {
        std::array<char, 64> buf{};
        std::snprintf(buf.data(), buf.size(), " %.6g", *v);
        out << buf.data();
      } else {
        out << " ?";
      }
    }
    out << '\n';
  }
  return out.str();
}

std::string ChartScript(const Chart& c, const std::string& data_path, const std::string& image_path,
                        const std::string& format) {
  std::ostringstream g;
  if (format == "svg") {
    g << "set terminal svg size 1000,560 dynamic noenhanced font 'Helvetica,12'\n";
  } else {
    g << "set terminal pngcairo size 1000,560 noenhanced font 'Helvetica,10'\n";
  }
  g << "set output " << GpString(image_path) << "\n";
  g << "set title " << GpString(c.title) << "\n";
  g << "set xlabel " << GpString(c.xlabel) << "\n";
  g << "set ylabel " << GpString(c.ylabel) << "\n";
  g << "set datafile missing '?'\n";
  g << "set grid ytics\n";
  g << "set key outside right top\n";
  g << "set yrange [0:*]\n";
  if (c.logy) {
    g << "set logscale y\nset yrange [*:*]\n";
  }
  const std::string data = GpString(data_path);
  if (c.lines) {
    // Thread counts are usually powers of two: a log2 axis spaces 1, 2,
    // 4, 8 evenly, with a tic at every count that has data.
    g << "set logscale x 2\nset xtics (";
    for (size_t i = 0; i < c.rows.size(); i++) {
      g << (i == 0 ? "" : ", ") << GpString(c.rows[i].first) << " " << c.rows[i].first;
    }
    g << ")\nset offsets graph 0.05, graph 0.05, 0, 0\n";
    g << "plot ";
    for (size_t i = 0; i < c.series.size(); i++) {
      g << (i == 0 ? data : "''") << " using 1:" << i + 2 << " with linespoints lw 2 pt 7"
        << SeriesColor(c.series[i]) << " title columnheader(" << i + 2 << ")"
        << (i + 1 < c.series.size() ? ", \\\n     " : "\n");
    }
  } else {
    g << "set style data histograms\n";
    g << "set style histogram clustered gap 1\n";
    g << "set style fill solid 0.85 border -1\n";
    g << "set boxwidth 0.9\n";
    g << "set xtics rotate by -30\n";
    g << "plot ";
    for (size_t i = 0; i < c.series.size(); i++) {
      g << (i == 0 ? data : "''") << " using " << i + 2 << (i == 0 ? ":xtic(1)" : "")
        << SeriesColor(c.series[i]) << " title columnheader(" << i + 2 << ")"
        << (i + 1 < c.series.size() ? ", \\\n     " : "\n");
    }
  }
  return g.str();
}

namespace {

int RunGnuplot(const std::string& script) {
  pid_t pid = -1;
  std::array<char, 8> prog = {"gnuplot"};
  std::string arg = script;
  std::array<char*, 3> argv = {prog.data(), arg.data(), nullptr};
  const int err = posix_spawnp(&pid, "gnuplot", nullptr, nullptr, argv.data(), environ);
  if (err != 0) {
    return -err;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      return -errno;
    }
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

}  // namespace

int PlotMain(std::span<const char* const> args) {
  std::string out_dir = "plots";
  std::string format = "png";
  std::vector<std::string> inputs;
  for (size_t i = 0; i < args.size(); i++) {
    const std::string_view a = args[i];
    if ((a == "--out" || a == "--format") && i + 1 < args.size()) {
      (a == "--out" ? out_dir : format) = args[++i];
    } else if (a.starts_with("--out=")) {
      out_dir = a.substr(6);
    } else if (a.starts_with("--format=")) {
      format = a.substr(9);
    } else if (a == "-h" || a == "--help") {
      std::cout << "usage: pcpool-bench plot [--out DIR] [--format png|svg] RESULTS.json...\n";
      return 0;
    } else if (a.starts_with("--")) {
      std::cerr << "pcpool-bench plot: unknown option '" << a << "'\n";
      return 2;
    } else {
      inputs.emplace_back(a);
    }
  }
  if (inputs.empty() || (format != "png" && format != "svg")) {
    std::cerr << "usage: pcpool-bench plot [--out DIR] [--format png|svg] RESULTS.json...\n";
    return 2;
  }
  Json all = Json::array();
  for (const std::string& path : inputs) {
    std::ifstream in(path);
    if (!in) {
      std::cerr << "pcpool-bench plot: cannot read " << path << "\n";
      return 2;
    }
    try {
      const Json doc = Json::parse(in);
      for (const Json& r : doc.at("results")) {
        all.push_back(r);
      }
    } catch (const Json::exception& e) {
      std::cerr << "pcpool-bench plot: " << path << ": " << e.what() << "\n";
      return 2;
    }
  }
  std::string error;
  const std::vector<Chart> charts = BuildCharts(all.dump(), &error);
  if (charts.empty()) {
    std::cerr << "pcpool-bench plot: " << (error.empty() ? "nothing to plot" : error) << "\n";
    return 1;
  }
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec) {
    std::cerr << "pcpool-bench plot: " << out_dir << ": " << ec.message() << "\n";
    return 2;
  }
  int status = 0;
  for (const Chart& c : charts) {
    const std::string base = (std::filesystem::path(out_dir) / c.name).string();
    std::string image = base;
    image += ".";
    image += format;
    std::ofstream(base + ".dat") << ChartData(c);
    std::ofstream(base + ".gp") << ChartScript(c, base + ".dat", image, format);
    const int rc = RunGnuplot(base + ".gp");
    if (rc == -ENOENT) {
      std::cerr << "pcpool-bench plot: gnuplot not found (apt-get install gnuplot-nox); "
                   "the .dat and .gp files are in "
                << out_dir << "\n";
      return 1;
    }
    if (rc != 0) {
      std::cerr << "pcpool-bench plot: gnuplot failed on " << base << ".gp\n";
      status = 1;
      continue;
    }
    std::cout << image << "\n";
  }
  return status;
}

}  // namespace pcpool
