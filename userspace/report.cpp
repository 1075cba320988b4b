// SPDX-License-Identifier: GPL-2.0
#include "report.h"

#include <array>
#include <cmath>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <vector>

#include "cpu.h"
#include "options.h"

namespace pcpool {
namespace {

using Json = nlohmann::ordered_json;

std::string Format(const char* fmt, double v) {
  std::array<char, 64> buf{};
  std::snprintf(buf.data(), buf.size(), fmt, v);
  return buf.data();
}

std::string RunName(const RunResult& r) {
  return BackendName(r.spec.backend) + "/" + std::string(WorkloadName(r.spec.workload)) +
         "/order:" + std::to_string(r.spec.order) +
         "/threads:" + std::to_string(r.spec.cpus.size()) + "/ops:" + std::to_string(r.spec.ops);
}

std::string CountersInline(const CounterDeltas& c) {
  std::string s;
  for (const auto& [key, delta] : c) {
    if (!s.empty()) {
      s += ';';
    }
    s += key + "=" + std::to_string(delta);
  }
  return s;
}

Json OptionalNumber(const std::optional<double>& v) { return v ? Json(*v) : Json(nullptr); }

Json ContextJson(const Context& c) {
  Json j;
  j["date"] = c.date;
  j["host_name"] = c.host_name;
  j["executable"] = c.executable;
  j["kernel_release"] = c.kernel_release;
  j["machine"] = c.machine;
  j["num_cpus"] = c.num_cpus;
  j["allowed_cpus"] = c.allowed_cpus;
  j["pinned_cpus"] = c.pinned_cpus;
  j["mhz_per_cpu"] = OptionalNumber(c.mhz_per_cpu);
  j["cpu_scaling_governor"] =
      c.cpu_scaling_governor ? Json(*c.cpu_scaling_governor) : Json(nullptr);
  j["load_avg"] = c.load_avg;
  j["emulation"] = c.emulation.empty() ? Json(nullptr) : Json(c.emulation);
  j["library_build_type"] = c.library_build_type;
  j["module_abi_version"] = c.module.abi_version;
  j["module_backends"] = c.module_backends;
  j["page_shift"] = c.module.page_shift;
  j["max_order"] = c.module.max_order;
  j["pageblock_order"] = c.module.block_order;
  j["max_batch"] = c.module.max_batch;
  j["nr_channels"] = c.module.nr_channels;
  j["session_max_pages"] = c.module.session_max_pages;
  j["nr_cpu_ids"] = c.module.nr_cpu_ids;
  j["warnings"] = c.warnings;
  j["plan_warnings"] = c.plan_warnings;
  return j;
}

Json RunJson(const RunResult& r) {
  Json j;
  j["name"] = RunName(r);
  j["backend"] = BackendName(r.spec.backend);
  j["workload"] = WorkloadName(r.spec.workload);
  j["order"] = r.spec.order;
  j["threads"] = r.spec.cpus.size();
  j["active_threads"] = r.active_threads();
  j["cpus"] = FormatCpuList(r.spec.cpus);
  j["ops"] = r.spec.ops;
  j["ops_done"] = r.stats.ops;
  j["batch"] = r.spec.batch;
  j["ns"] = r.stats.ns;
  j["ns_per_op"] = OptionalNumber(r.stats.ns_per_op);
  j["ops_per_sec"] = OptionalNumber(r.stats.ops_per_sec);
  j["wall_ns"] = r.wall_ns;
  Json per_thread = Json::array();
  for (const ThreadResult& t : r.threads) {
    Json tj;
    tj["thread"] = t.thread;
    tj["cpu"] = t.cpu;
    tj["role"] = RoleName(t.role);
    tj["unit"] = t.unit;
    tj["ops"] = t.ops;
    tj["ns"] = t.ns;
    tj["calls"] = t.calls;
    tj["kernel_cpu"] = t.kernel_cpu;
    tj["migrated"] = t.migrated;
    if (!t.error.empty()) {
      tj["error"] = t.error;
    }
    per_thread.push_back(std::move(tj));
  }
  j["per_thread"] = std::move(per_thread);
  if (r.counters) {
    Json cj = Json::object();
    for (const auto& [key, delta] : *r.counters) {
      cj[key] = delta;
    }
    j["counters"] = std::move(cj);
  } else {
    j["counters"] = nullptr;
  }
  j["outstanding_pages_after"] =
      r.outstanding_pages_after ? Json(*r.outstanding_pages_after) : Json(nullptr);
  if (!r.ok()) {
    j["error"] = r.error;
  }
  return j;
}

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) {
    return s;
  }
  std::string q = "\"";
  for (const char c : s) {
    q += c;
    if (c == '"') {
      q += '"';
    }
  }
  return q + "\"";
}

std::string CsvNumber(const std::optional<double>& v) { return v ? Format("%.3f", *v) : ""; }

}  // namespace

std::string HumanCount(double v) {
  if (!std::isfinite(v)) {
    return "-";
  }
  if (v >= 1e9) {
    return Format("%.2fG", v / 1e9);
  }
  if (v >= 1e6) {
    return Format("%.2fM", v / 1e6);
  }
  if (v >= 1e4) {
    return Format("%.1fk", v / 1e3);
  }
  return Format("%.0f", v);
}

// Console.

namespace {
constexpr const char* kRowFormat = "%-9s %-8s %5s %7s %12s %10s %9s  %s";

std::string Row(const std::string& backend, std::string_view workload, const std::string& order,
                const std::string& threads, const std::string& ops, const std::string& ns_per_op,
                const std::string& ops_per_sec, const std::string& note) {
  std::array<char, 512> buf{};
  std::snprintf(buf.data(), buf.size(), kRowFormat, backend.c_str(), std::string(workload).c_str(),
                order.c_str(), threads.c_str(), ops.c_str(), ns_per_op.c_str(), ops_per_sec.c_str(),
                note.c_str());
  std::string line = buf.data();
  while (!line.empty() && line.back() == ' ') {
    line.pop_back();
  }
  return line;
}
}  // namespace

void ConsoleReporter::ReportContext(const Context& c) {
  out_ << "pcpool-bench " << c.date << " on " << c.host_name << ", Linux " << c.kernel_release
       << " " << c.machine << "\n";
  out_ << "module ABI " << c.module.abi_version << ", backends ";
  for (size_t i = 0; i < c.module_backends.size(); i++) {
    out_ << (i != 0 ? "," : "") << c.module_backends[i];
  }
  out_ << "; " << c.num_cpus << " CPUs online, pinned " << c.pinned_cpus << "; harness build "
       << c.library_build_type << "\n";
  for (const std::string& w : c.warnings) {
    out_ << "***WARNING*** " << w << "\n";
  }
  out_.flush();
}

void ConsoleReporter::ReportRuns(std::span<const RunResult> runs) {
  if (!header_done_) {
    out_ << Row("backend", "workload", "order", "threads", "ops", "ns/op", "ops/s", "") << "\n";
    header_done_ = true;
  }
  for (const RunResult& r : runs) {
    std::string note;
    if (!r.ok()) {
      note = "FAILED: " + r.error;
    } else {
      size_t migrated = 0;
      for (const ThreadResult& t : r.threads) {
        migrated += t.migrated ? 1 : 0;
      }
      if (migrated != 0) {
        note = std::to_string(migrated) + " thread(s) not on their pinned CPU";
      }
      if (r.outstanding_pages_after.value_or(0) != 0) {
        note += (note.empty() ? "" : "; ") + std::to_string(*r.outstanding_pages_after) +
                " pages outstanding after close";
      }
    }
    out_ << Row(BackendName(r.spec.backend), WorkloadName(r.spec.workload),
                std::to_string(r.spec.order), std::to_string(r.spec.cpus.size()),
                std::to_string(r.spec.ops),
                r.stats.ns_per_op ? Format("%.1f", *r.stats.ns_per_op) : "-",
                r.stats.ops_per_sec ? HumanCount(*r.stats.ops_per_sec) : "-", note)
         << "\n";
    if (r.counters && !r.counters->empty()) {
      out_ << "    counters: ";
      bool first = true;
      for (const auto& [key, delta] : *r.counters) {
        out_ << (first ? "" : " ") << key << "=" << delta;
        first = false;
      }
      out_ << "\n";
    }
  }
  out_.flush();
}

void ConsoleReporter::Finalize() { out_.flush(); }

// JSON.

struct JsonReporter::State {
  Json context = Json::object();
  Json results = Json::array();
};

JsonReporter::JsonReporter(std::ostream& out) : out_(out), state_(std::make_unique<State>()) {}
JsonReporter::~JsonReporter() = default;

void JsonReporter::ReportContext(const Context& ctx) { state_->context = ContextJson(ctx); }

void JsonReporter::ReportRuns(std::span<const RunResult> runs) {
  for (const RunResult& r : runs) {
    state_->results.push_back(RunJson(r));
  }
}

void JsonReporter::Finalize() {
  Json doc;
  doc["context"] = state_->context;
  doc["results"] = state_->results;
  out_ << doc.dump(2) << "\n";
  out_.flush();
}

// CSV.

void CsvReporter::ReportContext(const Context& /*ctx*/) {
  out_ << "name,backend,workload,order,threads,active_threads,cpus,ops,ops_done,batch,ns,"
          "ns_per_op,ops_per_sec,wall_ns,outstanding_pages_after,counters,error\n";
}

void CsvReporter::ReportRuns(std::span<const RunResult> runs) {
  for (const RunResult& r : runs) {
    out_ << CsvField(RunName(r)) << ',' << BackendName(r.spec.backend) << ','
         << WorkloadName(r.spec.workload) << ',' << r.spec.order << ',' << r.spec.cpus.size() << ','
         << r.active_threads() << ',' << CsvField(FormatCpuList(r.spec.cpus)) << ',' << r.spec.ops
         << ',' << r.stats.ops << ',' << r.spec.batch << ',' << r.stats.ns << ','
         << CsvNumber(r.stats.ns_per_op) << ',' << CsvNumber(r.stats.ops_per_sec) << ','
         << r.wall_ns << ','
         << (r.outstanding_pages_after ? std::to_string(*r.outstanding_pages_after) : "") << ','
         << CsvField(r.counters ? CountersInline(*r.counters) : "") << ',' << CsvField(r.error)
         << "\n";
  }
  out_.flush();
}

void CsvReporter::Finalize() { out_.flush(); }

}  // namespace pcpool
