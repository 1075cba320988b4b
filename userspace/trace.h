// SPDX-License-Identifier: GPL-2.0
// Page-allocation traces: the binary format replay reads, its reader and
// writer, and the converter from the kernel's text trace of the kmem
// tracepoints (mm_page_alloc, mm_page_free, mm_page_free_batched).
//
// File layout, little endian (Documentation/replay.rst):
//   header, 32 bytes:
//     char magic[8]   "PCPTRACE"
//     u32  version    kTraceVersion
//     u32  hdr_size   32
//     u64  nr_events
//     u32  nr_cpus    highest traced CPU + 1
//     u32  flags      0
//   nr_events events, 16 bytes each, in sequence order:
//     u64  pfn
//     u32  seq        strictly increasing
//     u16  cpu        < nr_cpus
//     u8   order      0..kTraceMaxOrder
//     u8   bits       bit 0: free; bits 1-3: migratetype (allocations)
// Every free names a block allocated earlier in the file and still live
// (same pfn and order). An allocation at the pfn of a live block leaves
// that block held, unfreed, to the end: the trace missed its free. Blocks
// live at the end are what the guest held when tracing stopped.
#ifndef PCPOOL_USERSPACE_TRACE_H_
#define PCPOOL_USERSPACE_TRACE_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace pcpool {

inline constexpr std::string_view kTraceMagic = "PCPTRACE";
inline constexpr uint32_t kTraceVersion = 1;
inline constexpr size_t kTraceHeaderSize = 32;
inline constexpr size_t kTraceEventSize = 16;
inline constexpr uint32_t kTraceMaxOrder = 15;
inline constexpr uint32_t kTraceMaxCpus = 4096;
inline constexpr uint32_t kNoEvent = UINT32_MAX;

struct TraceEvent {
  uint64_t pfn = 0;
  uint32_t seq = 0;
  uint16_t cpu = 0;
  uint8_t order = 0;
  uint8_t migratetype = 0;  // allocations only
  bool free = false;

  bool operator==(const TraceEvent&) const = default;
};

// A checked trace with the allocation each free pairs with.
struct Trace {
  std::vector<TraceEvent> events;
  // Per event: a free's allocation (index into events); an allocation's
  // free, or kNoEvent when the block is still live at the end.
  std::vector<uint32_t> peer;
  uint32_t nr_cpus = 0;
  uint64_t allocs = 0;
  uint64_t frees = 0;
  uint32_t max_order = 0;
};

// Checks @events (the rules above) and pairs them. nullopt with a message
// naming the first offending event.
std::optional<Trace> BuildTrace(std::vector<TraceEvent> events, std::string* error);

// The file's bytes for @t.
std::string EncodeTrace(const Trace& t);
// Parses and checks a whole file. Every problem is an error: short or
// long file, bad magic, unknown version, bad fields, or a free that does
// not pair with a live allocation.
std::optional<Trace> DecodeTrace(std::span<const std::byte> bytes, std::string* error);

bool WriteTrace(const std::string& path, const Trace& t, std::string* error);
std::optional<Trace> ReadTrace(const std::string& path, std::string* error);

// What ConvertFtrace kept and dropped, for the trace's README.
struct FtraceStats {
  uint64_t lines = 0;
  uint64_t allocs = 0;            // mm_page_alloc kept
  uint64_t frees = 0;             // mm_page_free(_batched) kept
  uint64_t alloc_failed = 0;      // mm_page_alloc with pfn 0 (no page)
  uint64_t batched_dup = 0;       // mm_page_free_batched after mm_page_free of the page
  uint64_t free_unknown = 0;      // frees of blocks allocated before tracing
  uint64_t free_order_split = 0;  // frees whose order differs from the allocation's
  uint64_t alloc_over_live = 0;   // allocations at a live block's pfn
  uint64_t lost_lines = 0;        // "LOST n EVENTS" markers
  uint64_t other = 0;             // other lines
};

// Converts the text of tracefs's "trace" file (kmem:mm_page_alloc,
// mm_page_free, mm_page_free_batched; other lines are counted and skipped)
// into a valid trace. Events keep the file's order, which the kernel
// merges by timestamp; seq is the event's index. To make the stream
// replayable it drops (and counts): frees of blocks it never saw
// allocated, frees at another order than the allocation (split pages), a
// mm_page_free_batched that follows mm_page_free for the same page (6.1
// fires both). An allocation at a live block's pfn is kept (counted): the
// older block then stays held to the end, as the format says.
std::optional<Trace> ConvertFtrace(std::string_view text, FtraceStats* stats, std::string* error);

std::string FormatFtraceStats(const FtraceStats& s);

}  // namespace pcpool

#endif  // PCPOOL_USERSPACE_TRACE_H_
