// SPDX-License-Identifier: GPL-2.0
#include "context.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace pcpool {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr const char* kBareMetal =
    "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R)\n"
    "cpu MHz\t\t: 2793.436\nflags\t\t: fpu vme de pse sse2 ht\n\n"
    "processor\t: 1\ncpu MHz\t\t: 1200.000\n";

constexpr const char* kTcg =
    "processor\t: 0\nmodel name\t: QEMU Virtual CPU version 2.5+\ncpu MHz\t\t: 2000.000\n"
    "flags\t\t: fpu de pse tsc msr pae mce cx8 apic sep hypervisor lahf_lm\n";

TEST(Context, DetectsEmulation) {
  EXPECT_EQ(DetectEmulation(kBareMetal, "Dell Inc.\n"), "");
  EXPECT_EQ(DetectEmulation(kBareMetal, ""), "");
  EXPECT_EQ(DetectEmulation(kBareMetal, "QEMU\n"), "QEMU (sys_vendor)");
  EXPECT_EQ(DetectEmulation(kTcg, ""), "hypervisor flag in /proc/cpuinfo");
  // "hypervisor" must be a whole flag, not part of one.
  EXPECT_EQ(DetectEmulation("flags\t: fpu nothypervisorx\n", ""), "");
  EXPECT_THAT(DetectEmulation("model name\t: QEMU Virtual CPU\nflags\t: fpu\n", ""),
              HasSubstr("model name"));
}

TEST(Context, ParsesFirstCpuMhz) {
  EXPECT_DOUBLE_EQ(ParseCpuMhz(kBareMetal).value(), 2793.436);
  EXPECT_FALSE(ParseCpuMhz("processor\t: 0\n").has_value());
  EXPECT_FALSE(ParseCpuMhz("cpu MHz\t: fast\n").has_value());
}

TEST(Context, NoisySetupWarnings) {
  Context ctx;
  ctx.num_cpus = 4;
  EXPECT_THAT(NoisySetupWarnings(ctx, 4, 4), IsEmpty());
  EXPECT_THAT(NoisySetupWarnings(ctx, 8, 4),
              ElementsAre(HasSubstr("More threads (8) than online CPUs (4)")));
  EXPECT_THAT(NoisySetupWarnings(ctx, 3, 2),
              ElementsAre(HasSubstr("More threads (3) than allowed CPUs (2)")));
  ctx.emulation = "QEMU (sys_vendor)";
  ctx.cpu_scaling_governor = "powersave";
  ctx.load_avg = {3.5, 1, 1};
  EXPECT_THAT(NoisySetupWarnings(ctx, 2, 2),
              ElementsAre(HasSubstr("emulation"), HasSubstr("'powersave'"),
                          HasSubstr("Load average 3.50")));
  ctx.cpu_scaling_governor = "performance";
  ctx.load_avg = {0.1, 1, 1};
  EXPECT_THAT(NoisySetupWarnings(ctx, 2, 2), ElementsAre(HasSubstr("emulation")));
}

TEST(Context, CollectsThisMachine) {
  const Context ctx = CollectContext("/bin/pcpool-bench");
  EXPECT_EQ(ctx.executable, "/bin/pcpool-bench");
  EXPECT_GT(ctx.num_cpus, 0);
  EXPECT_FALSE(ctx.kernel_release.empty());
  EXPECT_FALSE(ctx.allowed_cpus.empty());
  EXPECT_THAT(ctx.date, ::testing::MatchesRegex(
                            "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[-+][0-9]{4}"));
  EXPECT_NE(ctx.library_build_type, "unknown");
}

}  // namespace
}  // namespace pcpool
