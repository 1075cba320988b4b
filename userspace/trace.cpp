// SPDX-License-Identifier: GPL-2.0
#include "trace.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

namespace pcpool {
namespace {

static_assert(std::endian::native == std::endian::little, "the trace format is little endian");

constexpr uint8_t kFreeBit = 0x1;
constexpr unsigned kMigrateShift = 1;
constexpr uint8_t kMigrateMask = 0x7;
constexpr uint8_t kKnownBits = kFreeBit | (kMigrateMask << kMigrateShift);

template <typename T>
void Put(std::string* out, T v) {
  char buf[sizeof(T)];
  std::memcpy(buf, &v, sizeof(T));
  out->append(buf, sizeof(T));
}

template <typename T>
T Get(std::span<const std::byte> b, size_t off) {
  T v{};
  std::memcpy(&v, b.data() + off, sizeof(T));
  return v;
}

std::string EventName(size_t i, const TraceEvent& e) {
  std::ostringstream s;
  s << "event " << i << " (seq " << e.seq << ", CPU " << e.cpu << ", "
    << (e.free ? "free" : "alloc") << " pfn 0x" << std::hex << e.pfn << std::dec << " order "
    << unsigned{e.order} << ")";
  return s.str();
}

}  // namespace

std::optional<Trace> BuildTrace(std::vector<TraceEvent> events, std::string* error) {
  if (events.size() >= kNoEvent) {
    *error = "too many events: " + std::to_string(events.size());
    return std::nullopt;
  }
  Trace t;
  t.peer.assign(events.size(), kNoEvent);
  std::unordered_map<uint64_t, uint32_t> live;  // pfn -> allocation
  for (size_t i = 0; i < events.size(); i++) {
    const TraceEvent& e = events[i];
    if (i > 0 && e.seq <= events[i - 1].seq) {
      *error = EventName(i, e) + ": seq not above the previous event's";
      return std::nullopt;
    }
    if (e.order > kTraceMaxOrder || e.cpu >= kTraceMaxCpus || e.migratetype > kMigrateMask) {
      *error = EventName(i, e) + ": order, CPU or migratetype out of range";
      return std::nullopt;
    }
    t.nr_cpus = std::max<uint32_t>(t.nr_cpus, e.cpu + 1U);
    t.max_order = std::max<uint32_t>(t.max_order, e.order);
    const auto idx = static_cast<uint32_t>(i);
    if (!e.free) {
      live[e.pfn] = idx;  // a live block there stays held: its free was missed
      t.allocs++;
      continue;
    }
    const auto it = live.find(e.pfn);
    if (it == live.end()) {
      *error = EventName(i, e) + ": free of a block not allocated (or already freed)";
      return std::nullopt;
    }
    if (events[it->second].order != e.order) {
      *error = EventName(i, e) + ": allocated at order " + std::to_string(events[it->second].order);
      return std::nullopt;
    }
    t.peer[i] = it->second;
    t.peer[it->second] = idx;
    live.erase(it);
    t.frees++;
  }
  t.events = std::move(events);
  return t;
}

std::string EncodeTrace(const Trace& t) {
  std::string out;
  out.reserve(kTraceHeaderSize + t.events.size() * kTraceEventSize);
  out.append(kTraceMagic);
  Put<uint32_t>(&out, kTraceVersion);
  Put<uint32_t>(&out, kTraceHeaderSize);
  Put<uint64_t>(&out, t.events.size());
  Put<uint32_t>(&out, t.nr_cpus);
  Put<uint32_t>(&out, 0);
  for (const TraceEvent& e : t.events) {
    Put<uint64_t>(&out, e.pfn);
    Put<uint32_t>(&out, e.seq);
    Put<uint16_t>(&out, e.cpu);
    Put<uint8_t>(&out, e.order);
    Put<uint8_t>(&out, static_cast<uint8_t>((e.free ? kFreeBit : 0) |
                                            ((e.migratetype & kMigrateMask) << kMigrateShift)));
  }
  return out;
}

std::optional<Trace> DecodeTrace(std::span<const std::byte> b, std::string* error) {
  if (b.size() < kTraceHeaderSize) {
    *error = "truncated: " + std::to_string(b.size()) + " bytes, the header is " +
             std::to_string(kTraceHeaderSize);
    return std::nullopt;
  }
  if (std::memcmp(b.data(), kTraceMagic.data(), kTraceMagic.size()) != 0) {
    *error = "not a pcpool trace (bad magic)";
    return std::nullopt;
  }
  const auto version = Get<uint32_t>(b, 8);
  if (version != kTraceVersion) {
    *error = "trace version " + std::to_string(version) + ", this reader knows " +
             std::to_string(kTraceVersion);
    return std::nullopt;
  }
  const auto hdr = Get<uint32_t>(b, 12);
  const auto nr = Get<uint64_t>(b, 16);
  const auto nr_cpus = Get<uint32_t>(b, 24);
  const auto flags = Get<uint32_t>(b, 28);
  if (hdr != kTraceHeaderSize || flags != 0 || nr_cpus > kTraceMaxCpus) {
    *error = "bad header: size " + std::to_string(hdr) + ", flags " + std::to_string(flags) +
             ", nr_cpus " + std::to_string(nr_cpus);
    return std::nullopt;
  }
  const size_t body = b.size() - kTraceHeaderSize;
  if (nr > body / kTraceEventSize || body != nr * kTraceEventSize) {
    *error = (body < nr * kTraceEventSize ? "truncated: " : "trailing bytes: ") +
             std::to_string(nr) + " events need " + std::to_string(nr * kTraceEventSize) +
             " bytes after the header, the file has " + std::to_string(body);
    return std::nullopt;
  }
  std::vector<TraceEvent> events(nr);
  for (size_t i = 0; i < nr; i++) {
    const size_t off = kTraceHeaderSize + i * kTraceEventSize;
    TraceEvent& e = events[i];
    e.pfn = Get<uint64_t>(b, off);
    e.seq = Get<uint32_t>(b, off + 8);
    e.cpu = Get<uint16_t>(b, off + 12);
    e.order = Get<uint8_t>(b, off + 14);
    const auto bits = Get<uint8_t>(b, off + 15);
    if ((bits & ~kKnownBits) != 0) {
      *error = EventName(i, e) + ": unknown flag bits";
      return std::nullopt;
    }
    e.free = (bits & kFreeBit) != 0;
    e.migratetype = (bits >> kMigrateShift) & kMigrateMask;
    if (e.cpu >= nr_cpus) {
      *error = EventName(i, e) + ": CPU not below the header's nr_cpus " + std::to_string(nr_cpus);
      return std::nullopt;
    }
  }
  std::optional<Trace> t = BuildTrace(std::move(events), error);
  if (t) {
    t->nr_cpus = nr_cpus;
  }
  return t;
}

bool WriteTrace(const std::string& path, const Trace& t, std::string* error) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  const std::string bytes = EncodeTrace(t);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  f.close();
  if (!f) {
    *error = "cannot write " + path;
    return false;
  }
  return true;
}

std::optional<Trace> ReadTrace(const std::string& path, std::string* error) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    *error = "cannot open " + path;
    return std::nullopt;
  }
  const std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (f.bad()) {
    *error = "cannot read " + path;
    return std::nullopt;
  }
  std::optional<Trace> t = DecodeTrace(std::as_bytes(std::span(bytes)), error);
  if (!t) {
    *error = path + ": " + *error;
  }
  return t;
}

namespace {

// "key=VALUE" in @line after @from; VALUE up to the next blank.
std::optional<std::string_view> Field(std::string_view line, std::string_view key, size_t from) {
  size_t at = from;
  while (true) {
    at = line.find(key, at);
    if (at == std::string_view::npos) {
      return std::nullopt;
    }
    if (at == 0 || line[at - 1] == ' ') {
      break;
    }
    at += key.size();
  }
  std::string_view v = line.substr(at + key.size());
  return v.substr(0, v.find(' '));
}

template <typename T>
bool Number(std::optional<std::string_view> v, int base, T* out) {
  if (!v) {
    return false;
  }
  std::string_view s = *v;
  if (base == 16 && s.starts_with("0x")) {
    s.remove_prefix(2);
  }
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out, base);
  return ec == std::errc() && ptr == s.data() + s.size();
}

}  // namespace

std::optional<Trace> ConvertFtrace(std::string_view text, FtraceStats* st, std::string* error) {
  *st = FtraceStats{};
  std::vector<TraceEvent> events;
  std::unordered_map<uint64_t, uint8_t> live;  // pfn -> order
  // Pages whose mm_page_free was the last event seen for them: a
  // mm_page_free_batched right after is the same free (free_unref_page_list
  // fires both in 6.1).
  std::unordered_map<uint64_t, bool> just_freed;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (line.empty() || line.starts_with("#")) {
      continue;
    }
    st->lines++;
    if (line.find("LOST") != std::string_view::npos &&
        line.find("EVENTS") != std::string_view::npos) {
      st->lost_lines++;
      continue;
    }
    // "  comm-pid  [003] d..1.  12.345678: mm_page_alloc: page=... pfn=0x..."
    const size_t lb = line.find('[');
    const size_t rb = line.find(']', lb == std::string_view::npos ? 0 : lb);
    const size_t colon = line.find(": mm_page_", rb == std::string_view::npos ? 0 : rb);
    uint16_t cpu = 0;
    if (lb == std::string_view::npos || rb == std::string_view::npos ||
        colon == std::string_view::npos ||
        !Number<uint16_t>(line.substr(lb + 1, rb - lb - 1), 10, &cpu)) {
      st->other++;
      continue;
    }
    const std::string_view rest = line.substr(colon + 2);
    const std::string_view name = rest.substr(0, rest.find(':'));
    TraceEvent e;
    e.cpu = cpu;
    unsigned order = 0;
    if (!Number<uint64_t>(Field(rest, "pfn=", 0), 16, &e.pfn) ||
        !Number<unsigned>(Field(rest, "order=", 0), 10, &order) || order > kTraceMaxOrder ||
        cpu >= kTraceMaxCpus) {
      if (name == "mm_page_alloc" || name == "mm_page_free" || name == "mm_page_free_batched") {
        *error = "line " + std::to_string(st->lines) + ": cannot parse: " + std::string(line);
        return std::nullopt;
      }
      st->other++;
      continue;
    }
    e.order = static_cast<uint8_t>(order);
    if (name == "mm_page_alloc") {
      unsigned mt = 0;
      if (!Number<unsigned>(Field(rest, "migratetype=", 0), 10, &mt)) {
        *error = "line " + std::to_string(st->lines) + ": no migratetype: " + std::string(line);
        return std::nullopt;
      }
      if (e.pfn == 0) {
        st->alloc_failed++;
        continue;
      }
      e.migratetype = static_cast<uint8_t>(std::min(mt, 7U));
      if (live.contains(e.pfn)) {
        st->alloc_over_live++;
      }
      live[e.pfn] = e.order;
      just_freed.erase(e.pfn);
      st->allocs++;
    } else if (name == "mm_page_free" || name == "mm_page_free_batched") {
      const bool batched = name == "mm_page_free_batched";
      if (batched) {
        const auto jf = just_freed.find(e.pfn);
        if (jf != just_freed.end()) {
          just_freed.erase(jf);
          st->batched_dup++;
          continue;
        }
      } else {
        just_freed[e.pfn] = true;
      }
      const auto it = live.find(e.pfn);
      if (it == live.end()) {
        st->free_unknown++;
        continue;
      }
      if (it->second != e.order) {
        st->free_order_split++;
        live.erase(it);  // its pages went back another way: the block stays held
        continue;
      }
      live.erase(it);
      e.free = true;
      st->frees++;
    } else {
      st->other++;
      continue;
    }
    e.seq = static_cast<uint32_t>(events.size());
    events.push_back(e);
  }
  return BuildTrace(std::move(events), error);
}

std::string FormatFtraceStats(const FtraceStats& s) {
  std::ostringstream o;
  o << "lines " << s.lines << ", allocations kept " << s.allocs << ", frees kept " << s.frees
    << "; dropped: failed allocations " << s.alloc_failed << ", mm_page_free_batched after "
    << "mm_page_free " << s.batched_dup << ", frees of blocks allocated before tracing "
    << s.free_unknown << ", frees at another order (split) " << s.free_order_split
    << "; allocations at a live block's pfn " << s.alloc_over_live << "; LOST markers "
    << s.lost_lines << ", other lines " << s.other;
  return o.str();
}

}  // namespace pcpool
