// SPDX-License-Identifier: GPL-2.0
// The module layer's test fixture: backends loaded, one session open, and
// at the end everything handed back (pages, objects, charges, warnings).
#ifndef PCPOOL_MODULE_TEST_H
#define PCPOOL_MODULE_TEST_H

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdint>
#include <string>
#include <vector>

#include "module_glue.h"
#include "pcpool_kshim_test.h"

namespace pcpool_test {

inline constexpr uint32_t kKernel = PCPOOL_BACKEND_KERNEL;
inline constexpr uint32_t kNull = PCPOOL_BACKEND_NULL;
inline constexpr uint32_t kVmap = PCPOOL_BACKEND_VMALLOC;      // test_vmap
inline constexpr uint32_t kPcpu = PCPOOL_BACKEND_PCPU_KERNEL;  // test_pcpu

class ModuleTest : public ::testing::Test {
 protected:
  // Pages one session may hold unless a test sets otherwise.
  static constexpr unsigned long kCap = 4096;

  void SetUp() override {
    pcpool_kshim_set_cpu(0);
    pcpool_kshim_set_killed(false);
    warnings_ = pcpool_kshim_warnings();
    ASSERT_EQ(pcpool_kshim_param_set("session_max_pages", std::to_string(kCap).c_str()), 0);
    ASSERT_EQ(pcpool_kshim_param_set("chan_capacity", "8192"), 0);
    ASSERT_EQ(pcpool_m_load(), 0);
    s_ = pcpool_m_open();
    ASSERT_NE(s_, nullptr);
  }

  void TearDown() override {
    if (s_) pcpool_m_close(s_);
    // Everything came back: pages, objects, counters, no warnings.
    EXPECT_EQ(pcpool_kshim_pages_live(), 0);
    EXPECT_EQ(pcpool_m_test_objs_live(), 0);
    for (uint32_t b : {kKernel, kNull, kVmap, kPcpu})
      EXPECT_EQ(pcpool_m_outstanding(b), 0) << "backend " << b;
    EXPECT_EQ(pcpool_m_nr_sessions(), 0);
    EXPECT_EQ(pcpool_kshim_warnings(), warnings_);
    pcpool_m_unload();
    pcpool_kshim_fail_kmalloc_after(-1);
  }

  // Close the fixture's session now (the test checks what follows).
  void Close() {
    pcpool_m_close(s_);
    s_ = nullptr;
  }

  long Alloc(uint32_t backend, uint32_t order, std::vector<uint64_t>& h,
             pcpool_alloc* out = nullptr) {
    pcpool_alloc a{};
    a.size = sizeof(a);
    a.backend = backend;
    a.order = order;
    a.count = h.size();
    a.handles = reinterpret_cast<uintptr_t>(h.data());
    long ret = pcpool_m_ioctl(s_, PCPOOL_IOC_ALLOC, &a);
    if (out) *out = a;
    return ret;
  }

  long Free(const std::vector<uint64_t>& h, std::vector<int32_t>* status = nullptr,
            pcpool_free* out = nullptr) {
    pcpool_free f{};
    f.size = sizeof(f);
    f.count = h.size();
    f.handles = reinterpret_cast<uintptr_t>(h.data());
    if (status) {
      status->assign(h.size(), 1);
      f.status = reinterpret_cast<uintptr_t>(status->data());
    }
    long ret = pcpool_m_ioctl(s_, PCPOOL_IOC_FREE, &f);
    if (out) *out = f;
    return ret;
  }

  long Chan(pcpool_chan_op op, uint32_t chan, uint64_t count, uint32_t backend = 0,
            uint32_t order = 0, pcpool_chan* out = nullptr, pcpool_session* s = nullptr) {
    pcpool_chan c{};
    c.size = sizeof(c);
    c.op = op;
    c.chan = chan;
    c.backend = backend;
    c.order = order;
    c.count = count;
    long ret = pcpool_m_ioctl(s ? s : s_, PCPOOL_IOC_CHAN, &c);
    if (out) *out = c;
    return ret;
  }

  pcpool_stats Stats(uint32_t backend) {
    pcpool_stats st{};
    st.size = sizeof(st);
    st.backend = backend;
    EXPECT_EQ(pcpool_m_ioctl(s_, PCPOOL_IOC_STATS, &st), 0);
    return st;
  }

  pcpool_session* s_ = nullptr;
  unsigned long warnings_ = 0;
};

}  // namespace pcpool_test

#endif  // PCPOOL_MODULE_TEST_H
