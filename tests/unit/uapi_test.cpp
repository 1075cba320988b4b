// SPDX-License-Identifier: GPL-2.0
// include/uapi/linux/pcpool.h as C++: the layout is the ABI.
#include <gtest/gtest.h>
#include <linux/pcpool.h>
#include <sys/ioctl.h>

#include <cstddef>
#include <set>
#include <type_traits>

// From uapi_c.c, compiled as C.
extern "C" {
extern const size_t pcpool_uapi_c_sizeof[6];
extern const size_t pcpool_uapi_c_offsetof[6];
extern const __u32 pcpool_uapi_c_ioctl[6];
}

namespace {

// NOLINTBEGIN(cppcoreguidelines-macro-usage)
#define PCPOOL_OFFSET(type, field, off) \
  static_assert(offsetof(type, field) == (off), #type "." #field)
// NOLINTEND(cppcoreguidelines-macro-usage)

static_assert(sizeof(pcpool_version) == PCPOOL_VERSION_SIZE_VER0);
PCPOOL_OFFSET(pcpool_version, size, 0);
PCPOOL_OFFSET(pcpool_version, abi_version, 4);
PCPOOL_OFFSET(pcpool_version, backends, 8);
PCPOOL_OFFSET(pcpool_version, max_order, 16);
PCPOOL_OFFSET(pcpool_version, page_shift, 20);
PCPOOL_OFFSET(pcpool_version, max_batch, 24);
PCPOOL_OFFSET(pcpool_version, nr_channels, 28);
PCPOOL_OFFSET(pcpool_version, session_max_pages, 32);
PCPOOL_OFFSET(pcpool_version, block_order, 40);
PCPOOL_OFFSET(pcpool_version, nr_cpu_ids, 44);
PCPOOL_OFFSET(pcpool_version, resv, 48);

static_assert(sizeof(pcpool_alloc) == PCPOOL_ALLOC_SIZE_VER0);
PCPOOL_OFFSET(pcpool_alloc, backend, 4);
PCPOOL_OFFSET(pcpool_alloc, order, 8);
PCPOOL_OFFSET(pcpool_alloc, flags, 12);
PCPOOL_OFFSET(pcpool_alloc, count, 16);
PCPOOL_OFFSET(pcpool_alloc, handles, 24);
PCPOOL_OFFSET(pcpool_alloc, ns, 32);
PCPOOL_OFFSET(pcpool_alloc, cpu, 40);
PCPOOL_OFFSET(pcpool_alloc, resv, 44);

static_assert(sizeof(pcpool_free) == PCPOOL_FREE_SIZE_VER0);
PCPOOL_OFFSET(pcpool_free, flags, 4);
PCPOOL_OFFSET(pcpool_free, count, 8);
PCPOOL_OFFSET(pcpool_free, handles, 16);
PCPOOL_OFFSET(pcpool_free, status, 24);
PCPOOL_OFFSET(pcpool_free, freed, 32);
PCPOOL_OFFSET(pcpool_free, ns, 40);
PCPOOL_OFFSET(pcpool_free, cpu, 48);
PCPOOL_OFFSET(pcpool_free, resv, 52);

static_assert(sizeof(pcpool_run) == PCPOOL_RUN_SIZE_VER1);
static_assert(offsetof(pcpool_run, hist) == PCPOOL_RUN_SIZE_VER0, "VER1 grows at the end");
PCPOOL_OFFSET(pcpool_run, backend, 4);
PCPOOL_OFFSET(pcpool_run, workload, 8);
PCPOOL_OFFSET(pcpool_run, order, 12);
PCPOOL_OFFSET(pcpool_run, ops, 16);
PCPOOL_OFFSET(pcpool_run, batch, 24);
PCPOOL_OFFSET(pcpool_run, flags, 28);
PCPOOL_OFFSET(pcpool_run, ns, 32);
PCPOOL_OFFSET(pcpool_run, done, 40);
PCPOOL_OFFSET(pcpool_run, cpu, 48);
PCPOOL_OFFSET(pcpool_run, cpu_end, 52);
PCPOOL_OFFSET(pcpool_run, resv, 56);
PCPOOL_OFFSET(pcpool_run, hist, 72);
PCPOOL_OFFSET(pcpool_run, seed, 80);
PCPOOL_OFFSET(pcpool_run, alloc_ns, 88);
PCPOOL_OFFSET(pcpool_run, free_ns, 96);
PCPOOL_OFFSET(pcpool_run, backoffs, 104);
PCPOOL_OFFSET(pcpool_run, frag, 112);

static_assert(sizeof(pcpool_hist) == PCPOOL_HIST_SIZE_VER0);
static_assert(PCPOOL_HIST_BUCKETS == 304);
PCPOOL_OFFSET(pcpool_hist, shift, 4);
PCPOOL_OFFSET(pcpool_hist, alloc_sum_ns, 8);
PCPOOL_OFFSET(pcpool_hist, free_max_ns, 32);
PCPOOL_OFFSET(pcpool_hist, alloc, 40);
PCPOOL_OFFSET(pcpool_hist, free, 40 + 8 * PCPOOL_HIST_BUCKETS);

static_assert(sizeof(pcpool_uring_cmd) == PCPOOL_URING_CMD_SIZE);
PCPOOL_OFFSET(pcpool_uring_cmd, arg, 0);
PCPOOL_OFFSET(pcpool_uring_cmd, size, 8);
PCPOOL_OFFSET(pcpool_uring_cmd, flags, 12);

static_assert(sizeof(pcpool_chan) == PCPOOL_CHAN_SIZE_VER0);
PCPOOL_OFFSET(pcpool_chan, op, 4);
PCPOOL_OFFSET(pcpool_chan, chan, 8);
PCPOOL_OFFSET(pcpool_chan, backend, 12);
PCPOOL_OFFSET(pcpool_chan, order, 16);
PCPOOL_OFFSET(pcpool_chan, flags, 20);
PCPOOL_OFFSET(pcpool_chan, count, 24);
PCPOOL_OFFSET(pcpool_chan, done, 32);
PCPOOL_OFFSET(pcpool_chan, ns, 40);
PCPOOL_OFFSET(pcpool_chan, cpu, 48);
PCPOOL_OFFSET(pcpool_chan, fill, 52);
PCPOOL_OFFSET(pcpool_chan, resv, 56);

static_assert(sizeof(pcpool_stats) == PCPOOL_STATS_SIZE_VER0);
static_assert(sizeof(pcpool_frag_view) == 192);
static_assert(sizeof(pcpool_frag) == PCPOOL_FRAG_SIZE_VER0);
static_assert(offsetof(pcpool_frag, drained) == 208);
PCPOOL_OFFSET(pcpool_stats, backend, 4);
PCPOOL_OFFSET(pcpool_stats, session_pages, 8);
PCPOOL_OFFSET(pcpool_stats, session_handles, 16);
PCPOOL_OFFSET(pcpool_stats, session_chan_blocks, 24);
PCPOOL_OFFSET(pcpool_stats, allocs, 32);
PCPOOL_OFFSET(pcpool_stats, frees, 40);
PCPOOL_OFFSET(pcpool_stats, alloc_failures, 48);
PCPOOL_OFFSET(pcpool_stats, outstanding_pages, 56);
PCPOOL_OFFSET(pcpool_stats, max_order, 64);
PCPOOL_OFFSET(pcpool_stats, kind, 68);
PCPOOL_OFFSET(pcpool_stats, resv, 72);

// Every struct: "size" first, 8-byte multiple, no implicit tail padding
// that would differ between 32- and 64-bit userspace.
template <typename T>
constexpr bool kWellFormed =
    offsetof(T, size) == 0 &&
    sizeof(T) % 8 == 0 && std::is_standard_layout_v<T>&& std::is_trivially_copyable_v<T>;
static_assert(kWellFormed<pcpool_version> && kWellFormed<pcpool_alloc> &&
              kWellFormed<pcpool_free> && kWellFormed<pcpool_run> && kWellFormed<pcpool_chan> &&
              kWellFormed<pcpool_stats> && kWellFormed<pcpool_hist>);

TEST(Uapi, CAndCppAgreeOnSizes) {
  const size_t cpp[] = {sizeof(pcpool_version), sizeof(pcpool_alloc), sizeof(pcpool_free),
                        sizeof(pcpool_run),     sizeof(pcpool_chan),  sizeof(pcpool_stats)};
  for (int i = 0; i < 6; i++) {
    EXPECT_EQ(pcpool_uapi_c_sizeof[i], cpp[i]) << "struct #" << i;
  }
}

TEST(Uapi, CAndCppAgreeOnOffsets) {
  const size_t cpp[] = {
      offsetof(pcpool_version, nr_cpu_ids), offsetof(pcpool_alloc, cpu),
      offsetof(pcpool_free, cpu),           offsetof(pcpool_run, backoffs),
      offsetof(pcpool_chan, fill),          offsetof(pcpool_stats, outstanding_pages)};
  for (int i = 0; i < 6; i++) {
    EXPECT_EQ(pcpool_uapi_c_offsetof[i], cpp[i]) << "struct #" << i;
  }
}

TEST(Uapi, IoctlNumbersEncodeMagicSizeAndDirection) {
  const __u32 cmds[] = {PCPOOL_IOC_VERSION, PCPOOL_IOC_ALLOC, PCPOOL_IOC_FREE,
                        PCPOOL_IOC_RUN,     PCPOOL_IOC_CHAN,  PCPOOL_IOC_STATS};
  const size_t sizes[] = {PCPOOL_VERSION_SIZE_VER0, PCPOOL_ALLOC_SIZE_VER0, PCPOOL_FREE_SIZE_VER0,
                          PCPOOL_RUN_SIZE_VER1,     PCPOOL_CHAN_SIZE_VER0,  PCPOOL_STATS_SIZE_VER0};
  std::set<__u32> nrs;
  for (int i = 0; i < 6; i++) {
    EXPECT_EQ(pcpool_uapi_c_ioctl[i], cmds[i]);
    EXPECT_EQ(_IOC_TYPE(cmds[i]), PCPOOL_IOC_MAGIC);
    EXPECT_EQ(_IOC_SIZE(cmds[i]), sizes[i]);
    EXPECT_EQ(_IOC_DIR(cmds[i]), static_cast<unsigned>(_IOC_READ | _IOC_WRITE));
    nrs.insert(_IOC_NR(cmds[i]));
  }
  EXPECT_EQ(nrs.size(), 6U) << "two commands share a number";
}

TEST(Uapi, BackendIdsFitTheVersionMask) {
  EXPECT_LE(static_cast<int>(PCPOOL_NR_BACKENDS_MAX), 64);
  EXPECT_LT(static_cast<int>(PCPOOL_BACKEND_PCPBUDDY), static_cast<int>(PCPOOL_NR_BACKENDS_MAX));
  EXPECT_EQ(PCPOOL_WL_REPEAT, 0);
  EXPECT_EQ(PCPOOL_WL_BULK, 1);
  EXPECT_EQ(PCPOOL_WL_BUSY, 4);
  EXPECT_EQ(PCPOOL_WL_VM_LONG_BUSY, 7);
  EXPECT_EQ(PCPOOL_BACKEND_VMALLOC, 4);
}

// The io_uring command area of a plain (64-byte) SQE is 16 bytes: the
// payload must fit it, and every ioctl number must fit sqe->cmd_op.
TEST(Uapi, UringPayloadFitsTheSqe) {
  EXPECT_EQ(sizeof(pcpool_uring_cmd), 16U);
  for (const unsigned long cmd :  // NOLINT(google-runtime-int)
       {PCPOOL_IOC_VERSION, PCPOOL_IOC_ALLOC, PCPOOL_IOC_FREE, PCPOOL_IOC_RUN, PCPOOL_IOC_CHAN,
        PCPOOL_IOC_STATS}) {
    EXPECT_LE(cmd, 0xffffffffUL);
  }
}

}  // namespace
