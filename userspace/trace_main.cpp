// SPDX-License-Identifier: GPL-2.0
// pcpool-trace: converts tracefs text of the kmem page tracepoints into
// the binary trace pcpool-bench --workload replay reads, and describes
// a trace file.
//   pcpool-trace convert TEXT OUT   (prints what was kept and dropped)
//   pcpool-trace info FILE
#include <algorithm>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "replay.h"
#include "trace.h"

namespace pcpool {
namespace {

int Describe(const std::string& path) {
  std::string why;
  const std::optional<Trace> t = ReadTrace(path, &why);
  if (!t) {
    std::cerr << "pcpool-trace: " << why << "\n";
    return 1;
  }
  uint64_t live = 0;
  uint64_t live_pages = 0;
  uint64_t peak_pages = 0;
  uint64_t cross = 0;
  for (size_t i = 0; i < t->events.size(); i++) {
    const TraceEvent& e = t->events[i];
    if (!e.free) {
      live_pages += uint64_t{1} << e.order;
      peak_pages = std::max(peak_pages, live_pages);
      live += t->peer[i] == kNoEvent ? 1 : 0;
    } else {
      live_pages -= uint64_t{1} << e.order;
      cross += t->events[t->peer[i]].cpu != e.cpu ? 1 : 0;
    }
  }
  std::vector<uint64_t> per_order(t->max_order + 1, 0);
  for (const TraceEvent& e : t->events) {
    per_order[e.order] += e.free ? 0 : 1;
  }
  std::cout << path << ": " << t->events.size() << " events, " << t->allocs << " allocations, "
            << t->frees << " frees (" << cross << " on another CPU than the allocation), " << live
            << " blocks live at the end (" << live_pages << " pages), peak " << peak_pages
            << " pages live, traced CPUs " << TracedCpus(*t).size() << ", allocations by order:";
  for (size_t o = 0; o < per_order.size(); o++) {
    std::cout << " " << o << ":" << per_order[o];
  }
  std::cout << "\n";
  return 0;
}

int Convert(const std::string& in, const std::string& out) {
  std::ifstream f(in, std::ios::binary);
  if (!f) {
    std::cerr << "pcpool-trace: cannot open " << in << "\n";
    return 1;
  }
  const std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  FtraceStats st;
  std::string why;
  const std::optional<Trace> t = ConvertFtrace(text, &st, &why);
  if (!t) {
    std::cerr << "pcpool-trace: " << in << ": " << why << "\n";
    return 1;
  }
  std::cout << in << ": " << FormatFtraceStats(st) << "\n";
  if (!WriteTrace(out, *t, &why)) {
    std::cerr << "pcpool-trace: " << why << "\n";
    return 1;
  }
  return Describe(out);
}

}  // namespace
}  // namespace pcpool

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() == 3 && args[0] == "convert") {
    return pcpool::Convert(args[1], args[2]);
  }
  if (args.size() == 2 && args[0] == "info") {
    return pcpool::Describe(args[1]);
  }
  std::cerr << "usage: pcpool-trace convert TEXT OUT | pcpool-trace info FILE\n";
  return 2;
}
