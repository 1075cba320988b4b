// SPDX-License-Identifier: GPL-2.0
// pcpool-scale: the scaling study's report from the JSON pcpool-bench wrote
// (bench/scale). Per backend and workload: the median per-op cost at each
// thread count and its growth from the smallest, a Universal Scalability
// Law fit over the throughput (usl.h), zone-lock counts per op and, from
// `perf report` text files, the share of samples in lock slow paths.
// Writes CSV and gnuplot charts under --out and the tables to stdout.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "usl.h"

namespace {

using Json = nlohmann::json;
namespace fs = std::filesystem;

struct Samples {
  std::vector<double> ns_per_op;
  std::vector<double> zone_acq;   // zone_lock_acquisitions per 1000 ops
  std::vector<double> zone_hold;  // zone_lock_hold_ns per op
};

// (workload, backend) -> threads -> repetitions.
using Key = std::pair<std::string, std::string>;
using Table = std::map<Key, std::map<unsigned, Samples>>;

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::optional<double> MedianOf(const std::vector<double>& v) {
  if (v.empty()) {
    return std::nullopt;
  }
  return Median(v);
}

std::string Fmt(std::optional<double> v, int prec = 0) {
  if (!v || !std::isfinite(*v)) {
    return "-";
  }
  std::ostringstream s;
  s << std::fixed << std::setprecision(prec) << *v;
  return s.str();
}

std::string Sci(std::optional<double> v) {
  if (!v || !std::isfinite(*v)) {
    return "-";
  }
  std::ostringstream s;
  s << std::setprecision(3) << *v;
  return s.str();
}

// A run counts when it completed, was not a latency run (clock reads
// inflate ns/op), went through ioctl, and, for exit, freed on every thread
// (the "all free" column).
bool Usable(const Json& r) {
  if (r.contains("error") || !r.value("ns_per_op", Json()).is_number()) {
    return false;
  }
  if (r.value("sample_shift", Json()).is_number() || r.value("submit", "") != "ioctl") {
    return false;
  }
  if (r.value("workload", "") == "exit" && r.value("freers", 0U) != r.value("threads", 0U)) {
    return false;
  }
  return r.value("order", 0U) == 0;
}

bool Load(const std::string& path, Table* t, Json* context) {
  std::ifstream in(path);
  Json doc;
  try {
    doc = Json::parse(in);
  } catch (const Json::exception& e) {
    std::cerr << "pcpool-scale: " << path << ": " << e.what() << "\n";
    return false;
  }
  if (!doc.contains("results") || !doc["results"].is_array()) {
    std::cerr << "pcpool-scale: " << path << ": no \"results\" array\n";
    return false;
  }
  if (context->is_null() && doc.contains("context")) {
    *context = doc["context"];
  }
  for (const Json& r : doc["results"]) {
    if (!Usable(r)) {
      continue;
    }
    Samples& s = (*t)[{r["workload"], r["backend"]}][r["threads"].get<unsigned>()];
    s.ns_per_op.push_back(r["ns_per_op"].get<double>());
    const Json& per = r.value("counters_per_1000_ops", Json());
    if (per.is_object() && per.contains("zone_lock_acquisitions")) {
      s.zone_acq.push_back(per["zone_lock_acquisitions"].get<double>());
    }
    const Json& cnt = r.value("counters", Json());
    const double ops = r.value("ops_done", 0.0);
    if (cnt.is_object() && cnt.contains("zone_lock_hold_ns") && ops > 0) {
      s.zone_hold.push_back(cnt["zone_lock_hold_ns"].get<double>() / ops);
    }
  }
  return true;
}

// Lock slow paths as `perf report --sort sym` names them. cpu-clock fires
// from a timer interrupt, so a CPU spinning with interrupts off (zone->lock
// is taken with spin_lock_irqsave) is charged to the first place they come
// back on: _raw_spin_unlock_irqrestore. That symbol is counted separately.
constexpr std::array<std::string_view, 14> kLockSyms = {"native_queued_spin_lock_slowpath",
                                                        "queued_spin_lock_slowpath",
                                                        "__pv_queued_spin_lock_slowpath",
                                                        "osq_lock",
                                                        "mutex_spin_on_owner",
                                                        "rwsem_spin_on_owner",
                                                        "__mutex_lock",
                                                        "_raw_spin_lock",
                                                        "_raw_spin_lock_irqsave",
                                                        "_raw_spin_lock_irq",
                                                        "_raw_spin_lock_bh",
                                                        "rwsem_down_write_slowpath",
                                                        "rwsem_down_read_slowpath",
                                                        "__mutex_lock_slowpath"};
constexpr std::string_view kIrqRestore = "_raw_spin_unlock_irqrestore";
// Where an idle CPU sits: perf -a samples those too.
constexpr std::array<std::string_view, 6> kIdleSyms = {"native_safe_halt",    "pv_native_safe_halt",
                                                       "default_idle",        "acpi_idle_do_entry",
                                                       "cpuidle_enter_state", "mwait_idle"};

struct LockShare {
  double lock = 0;        // % of samples in kLockSyms
  double irqrestore = 0;  // % in _raw_spin_unlock_irqrestore
  double idle = 0;        // % in the idle loop
  std::string top;        // the largest symbol
  double top_share = 0;
  uint64_t samples = 0;
};

// One `perf report --stdio --no-children --sort sym` text: lines
// "  12.34%  [k] symbol".
std::optional<LockShare> ReadPerf(const fs::path& p) {
  std::ifstream in(p);
  if (!in) {
    return std::nullopt;
  }
  LockShare s;
  std::string line;
  bool any = false;
  while (std::getline(in, line)) {
    if (line.rfind("# Samples:", 0) == 0) {
      std::istringstream ls(line.substr(10));
      double n = 0;
      std::string unit;
      ls >> n >> unit;
      s.samples = static_cast<uint64_t>(n * (unit == "K" ? 1e3 : unit == "M" ? 1e6 : 1));
      continue;
    }
    if (line.empty() || line[0] == '#') {
      continue;
    }
    std::istringstream ls(line);
    std::string pct;
    std::string tag;
    std::string sym;
    if (!(ls >> pct) || pct.empty() || pct.back() != '%') {
      continue;
    }
    ls >> tag >> sym;
    const double v = std::strtod(pct.c_str(), nullptr);
    const bool idle = std::find(kIdleSyms.begin(), kIdleSyms.end(), sym) != kIdleSyms.end();
    any = true;
    if (std::find(kLockSyms.begin(), kLockSyms.end(), sym) != kLockSyms.end()) {
      s.lock += v;
    } else if (sym == kIrqRestore) {
      s.irqrestore += v;
    } else if (idle) {
      s.idle += v;
    }
    if (!idle && v > s.top_share) {
      s.top_share = v;
      s.top = sym;
    }
  }
  if (!any) {
    return std::nullopt;
  }
  return s;
}

void WriteChart(const fs::path& out, const std::string& name, const std::string& title,
                const std::string& ylabel, const std::string& format,
                const std::map<std::string, std::map<std::string, std::map<unsigned, double>>>&
                    panels) {  // panel -> series -> threads -> value
  if (panels.empty()) {
    return;
  }
  const size_t n = panels.size();
  const size_t cols = n >= 3 ? 3 : n;
  const size_t rows = (n + cols - 1) / cols;
  std::ofstream gp(out / (name + ".gp"));
  if (format == "svg") {
    gp << "set terminal svg size " << 460 * cols << "," << 360 * rows
       << " dynamic noenhanced font 'Helvetica,11'\n";
  } else {
    gp << "set terminal pngcairo size " << 460 * cols << "," << 360 * rows
       << " noenhanced font 'Helvetica,9'\n";
  }
  gp << "set output '" << (out / (name + "." + format)).string() << "'\n";
  gp << "set multiplot layout " << rows << "," << cols << " title '" << title << "'\n";
  gp << "set logscale xy\nset grid\nset key top left font ',8'\n";
  gp << "set xlabel 'threads'\nset ylabel '" << ylabel << "'\n";
  gp << "set datafile missing '?'\nset offsets 0, 0, graph 0.05, graph 0.05\n";
  for (const auto& [panel, series] : panels) {
    std::string file = name;
    file += "-" + panel + ".dat";
    const fs::path dat = out / file;
    std::set<unsigned> xs;
    for (const auto& [s, pts] : series) {
      for (const auto& [x, v] : pts) {
        xs.insert(x);
      }
    }
    std::ofstream d(dat);
    d << "threads";
    for (const auto& [s, pts] : series) {
      d << "\t\"" << s << "\"";
    }
    d << "\n";
    for (const unsigned x : xs) {
      d << x;
      for (const auto& [s, pts] : series) {
        const auto it = pts.find(x);
        d << "\t" << (it != pts.end() && it->second > 0 ? Fmt(it->second, 3) : "?");
      }
      d << "\n";
    }
    // A little room either side of the sweep on the log axis.
    gp << "set xrange [" << *xs.begin() / 1.3 << ":" << *xs.rbegin() * 1.3 << "]\n";
    gp << "set title '" << panel << "'\nset xtics (";
    bool first = true;
    for (const unsigned x : xs) {
      gp << (first ? "" : ", ") << "'" << x << "' " << x;
      first = false;
    }
    gp << ")\nplot ";
    for (size_t i = 0; i < series.size(); i++) {
      gp << (i == 0 ? "'" + dat.string() + "'" : "''") << " using 1:" << i + 2
         << " with linespoints lw 2 pt 7 title columnheader(" << i + 2 << ")"
         << (i + 1 < series.size() ? ", " : "\n");
    }
  }
  gp << "unset multiplot\n";
  gp.close();
  // gnuplot's notes on one-point axes go to a log, not the study's table.
  const std::string cmd = "gnuplot '" + (out / (name + ".gp")).string() + "' 2>>'" +
                          (out / "gnuplot.log").string() + "'";
  if (std::system(cmd.c_str()) != 0) {  // NOLINT(concurrency-mt-unsafe): one thread
    std::cerr << "pcpool-scale: gnuplot failed on " << name << ".gp\n";
  }
}

int Usage() {
  std::cerr << "usage: pcpool-scale [--out DIR] [--perf DIR] [--format png|svg] [--no-plots]\n"
               "                    RESULTS.json...\n"
               "  --perf DIR   perf-<backend>.txt files (perf report --sort sym) for lock shares\n";
  return 2;
}

}  // namespace

int Run(int argc, char** argv) {
  std::string out = ".";
  std::string perf_dir;
  std::string format = "png";
  bool plots = true;
  std::vector<std::string> inputs;
  for (int i = 1; i < argc; i++) {
    const std::string a = argv[i];
    if ((a == "--out" || a == "--perf" || a == "--format") && i + 1 < argc) {
      (a == "--out" ? out : a == "--perf" ? perf_dir : format) = argv[++i];
    } else if (a == "--no-plots") {
      plots = false;
    } else if (a.rfind("--", 0) == 0) {
      return Usage();
    } else {
      inputs.push_back(a);
    }
  }
  if (inputs.empty() || (format != "png" && format != "svg")) {
    return Usage();
  }
  Table t;
  Json context;
  for (const std::string& p : inputs) {
    if (!Load(p, &t, &context)) {
      return 1;
    }
  }
  if (t.empty()) {
    std::cerr << "pcpool-scale: no usable runs in the input\n";
    return 1;
  }
  fs::create_directories(out);
  const fs::path o(out);

  if (context.is_object()) {
    std::cout << "guest: " << context.value("num_cpus", 0) << " CPUs, kernel "
              << context.value("kernel_release", "?") << ", "
              << context.value("emulation", Json("native")).dump() << ", "
              << context.value("date", "?") << "\n";
  }
  std::cout << "ns per op (summed over threads / ops), median of the repetitions;\n"
               "growth: cost at the largest thread count / cost at the smallest\n\n";

  std::ofstream csv(o / "scale.csv");
  csv << "workload,backend,threads,repetitions,ns_per_op_median,ns_per_op_min,ns_per_op_max,"
         "throughput_ops_per_sec,zone_lock_acq_per_1000_ops,zone_lock_hold_ns_per_op\n";
  std::ofstream ucsv(o / "usl.csv");
  ucsv << "workload,backend,points,lambda,sigma,kappa,kappa_fitted,rms_rel_error,peak_n,"
          "x_at_64,x_at_256,holdout_n,holdout_measured,holdout_predicted,holdout_rel_error,"
          "zone_lock_saturation_cpus\n";

  std::map<std::string, std::map<std::string, std::map<unsigned, double>>> cost_panels;
  std::map<std::string, std::map<std::string, std::map<unsigned, double>>> zone_panels;
  std::string last_wl;
  for (const auto& [key, by_threads] : t) {
    const auto& [wl, be] = key;
    if (wl != last_wl) {
      std::set<unsigned> counts;
      for (const auto& [k2, b2] : t) {
        if (k2.first == wl) {
          for (const auto& [n, s] : b2) {
            counts.insert(n);
          }
        }
      }
      std::cout << "\n" << std::left << std::setw(13) << wl << std::setw(17) << "backend";
      for (const unsigned n : counts) {
        std::cout << std::right << std::setw(10) << (std::to_string(n) + "T");
      }
      std::cout << std::right << std::setw(8) << "growth" << std::setw(8) << "sigma"
                << std::setw(10) << "kappa" << std::setw(7) << "N*" << std::setw(10) << "X(64)/X1"
                << std::setw(10) << "hold-out" << std::setw(8) << "zl-sat"
                << "\n";
      last_wl = wl;
      // Remember this workload's columns for the rows below.
      cost_panels[wl];
    }
    std::set<unsigned> counts;
    for (const auto& [k2, b2] : t) {
      if (k2.first == wl) {
        for (const auto& [n, s] : b2) {
          counts.insert(n);
        }
      }
    }
    std::vector<pcpool::UslPoint> pts;
    std::cout << std::left << std::setw(13) << "" << std::setw(17) << be << std::right;
    std::optional<double> first;
    std::optional<double> last;
    std::optional<double> hold1;
    std::optional<double> cost1;
    for (const unsigned n : counts) {
      const auto it = by_threads.find(n);
      if (it == by_threads.end()) {
        std::cout << std::setw(10) << "-";
        continue;
      }
      const Samples& s = it->second;
      const double med = Median(s.ns_per_op);
      const double x = n * 1e9 / med;
      pts.push_back({static_cast<double>(n), x});
      if (!first) {
        first = med;
        hold1 = MedianOf(s.zone_hold);
        cost1 = med;
      }
      last = med;
      std::cout << std::setw(10) << Fmt(med);
      cost_panels[wl][be][n] = med;
      const auto acq = MedianOf(s.zone_acq);
      // Backends without their own zone lock count none: a log axis
      // cannot show 0, and a flat line of nothing says nothing.
      if (acq && *acq > 0) {
        zone_panels[wl][be][n] = *acq;
      }
      csv << wl << "," << be << "," << n << "," << s.ns_per_op.size() << "," << Fmt(med, 1) << ","
          << Fmt(*std::min_element(s.ns_per_op.begin(), s.ns_per_op.end()), 1) << ","
          << Fmt(*std::max_element(s.ns_per_op.begin(), s.ns_per_op.end()), 1) << "," << Fmt(x, 0)
          << "," << (acq ? Fmt(acq, 2) : "") << ","
          << (MedianOf(s.zone_hold) ? Fmt(MedianOf(s.zone_hold), 2) : "") << "\n";
    }
    // NaN, printed "-", where there is nothing to divide.
    const double growth =
        pts.size() >= 2 && first && last && *first > 0 ? *last / *first : std::nan("");
    std::string why;
    const auto fit = pcpool::FitUsl(pts, &why);
    std::string hwhy;
    const auto hold = pcpool::CheckUsl(pts, &hwhy);
    // Each thread holds the zone lock hold ns out of every cost1 ns it
    // spends per op: the lock is busy all the time near cost1 / hold CPUs.
    const double sat = hold1 && *hold1 > 0 && cost1 ? *cost1 / *hold1 : std::nan("");
    std::cout << std::setw(8) << (std::isfinite(growth) ? Fmt(growth, 1) + "x" : "-");
    if (fit) {
      std::cout << std::setw(8) << Sci(fit->sigma) << std::setw(10)
                << (fit->kappa_fitted ? Sci(fit->kappa) : "n/a") << std::setw(7)
                << (fit->kappa_fitted ? Fmt(fit->PeakN(), 0) : "n/a") << std::setw(10)
                << (fit->kappa_fitted ? Fmt(fit->Throughput(64) / fit->lambda, 1) : "n/a");
    } else {
      std::cout << std::setw(8) << "-" << std::setw(10) << "-" << std::setw(7) << "-"
                << std::setw(10) << "-";
    }
    std::cout << std::setw(10) << (hold ? Fmt(hold->rel_error * 100, 0) + "%" : "n/a")
              << std::setw(8) << Fmt(sat, 0) << "\n";
    ucsv << wl << "," << be << "," << pts.size() << ",";
    if (fit) {
      ucsv << Fmt(fit->lambda, 0) << "," << Sci(fit->sigma) << "," << Sci(fit->kappa) << ","
           << (fit->kappa_fitted ? 1 : 0) << "," << Sci(fit->rms_rel_error) << ","
           << (fit->kappa_fitted ? Fmt(fit->PeakN(), 1) : "") << ","
           << (fit->kappa_fitted ? Fmt(fit->Throughput(64), 0) : "") << ","
           << (fit->kappa_fitted ? Fmt(fit->Throughput(256), 0) : "") << ",";
    } else {
      ucsv << ",,,,,,,,";
    }
    if (hold) {
      ucsv << hold->n << "," << Fmt(hold->measured, 0) << "," << Fmt(hold->predicted, 0) << ","
           << Sci(hold->rel_error) << ",";
    } else {
      ucsv << ",,,,";
    }
    ucsv << (std::isfinite(sat) ? Fmt(sat, 1) : "") << "\n";
  }
  std::cout << "\nsigma, kappa: USL fit of throughput (threads x 1e9 / ns per op); N*: the\n"
               "thread count where it peaks; X(64)/X1: predicted throughput at 64 CPUs over\n"
               "one uncontended thread. kappa, N* and X(64) need 3 or more thread counts\n"
               "(n/a below that). hold-out: fitted on threads <= N/2, error predicting N.\n"
               "zl-sat: CPUs at which the backend's zone lock is held all the time, cost\n"
               "per op at the fewest threads / zone-lock hold ns per op (classic and\n"
               "pcpbuddy count theirs; the kernel's zone->lock is not counted).\n"
               "Full figures (X at 64 and 256) in usl.csv.\n";

  if (!perf_dir.empty()) {
    std::ofstream lcsv(o / "locks.csv");
    // samples: perf's "# Samples: 2K" header, rounded as perf prints it.
    lcsv << "backend,samples,idle_pct,lock_slowpath_pct,irqrestore_pct,lock_pct_of_busy,"
            "irqrestore_pct_of_busy,top_busy_symbol,top_pct\n";
    std::cout << "\nlock share at the largest thread count (perf record -a -e cpu-clock),\n"
                 "% of the samples on busy CPUs (the idle loop left out):\n"
              << std::left << std::setw(18) << "backend" << std::right << std::setw(9) << "samples~"
              << std::setw(7) << "idle%" << std::setw(8) << "lock%" << std::setw(13)
              << "irqrestore%"
              << "  top busy symbol\n";
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(perf_dir)) {
      const std::string n = e.path().filename().string();
      if (n.rfind("perf-", 0) == 0 && e.path().extension() == ".txt") {
        files.push_back(e.path());
      }
    }
    std::sort(files.begin(), files.end());
    for (const fs::path& f : files) {
      const std::string be = f.stem().string().substr(5);
      const auto s = ReadPerf(f);
      if (!s) {
        std::cout << std::left << std::setw(18) << be << std::right << "  (no samples)\n";
        continue;
      }
      const double busy = 100 - s->idle;
      const double lock_b = busy > 0 ? s->lock * 100 / busy : std::nan("");
      const double irq_b = busy > 0 ? s->irqrestore * 100 / busy : std::nan("");
      std::cout << std::left << std::setw(18) << be << std::right << std::setw(9) << s->samples
                << std::setw(7) << Fmt(s->idle, 0) << std::setw(8) << Fmt(lock_b, 1)
                << std::setw(13) << Fmt(irq_b, 1) << "  " << s->top << " "
                << Fmt(busy > 0 ? s->top_share * 100 / busy : std::nan(""), 1) << "%\n";
      lcsv << be << "," << s->samples << "," << Fmt(s->idle, 2) << "," << Fmt(s->lock, 2) << ","
           << Fmt(s->irqrestore, 2) << "," << Fmt(lock_b, 2) << "," << Fmt(irq_b, 2) << ","
           << s->top << "," << Fmt(s->top_share, 2) << "\n";
    }
    std::cout << "lock%: queued-spinlock, osq and mutex slow paths. cpu-clock cannot sample\n"
                 "inside IRQ-disabled sections: spinning on an irqsave lock (zone->lock) is\n"
                 "charged to _raw_spin_unlock_irqrestore, shown apart, which also holds\n"
                 "uncontended unlocks.\n";
  }

  if (plots) {
    WriteChart(o, "scale-ns-per-op", "ns per op vs threads (median, log axes)", "ns per op", format,
               cost_panels);
    WriteChart(o, "scale-zone-lock", "zone-lock acquisitions per 1000 ops vs threads",
               "acquisitions / 1000 ops", format, zone_panels);
  }
  std::cout << "\nCSV and charts: " << out << "\n";
  return 0;
}

int main(int argc, char** argv) {
  try {
    return Run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "pcpool-scale: " << e.what() << "\n";
    return 1;
  }
}
