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

TEST(Context, ParsesMemAutoInitFromTheBootLog) {
  const auto on = ParseMemAutoInit(
      "[    0.01] Kernel command line: console=ttyS0\n"
      "[    0.02] mem auto-init: stack:all(zero), heap alloc:on, heap free:off\n"
      "[    0.03] Memory: 2000K\n");
  ASSERT_TRUE(on.has_value());
  EXPECT_TRUE(on->alloc);
  EXPECT_FALSE(on->free);
  const auto off =
      ParseMemAutoInit("mem auto-init: stack:off, heap alloc:off, heap free:on\nnext line\n");
  ASSERT_TRUE(off.has_value());
  EXPECT_FALSE(off->alloc);
  EXPECT_TRUE(off->free);
  EXPECT_FALSE(ParseMemAutoInit("Memory: 2000K\n").has_value());
  EXPECT_FALSE(ParseMemAutoInit("mem auto-init: stack:off, heap alloc:maybe\n").has_value());
}

TEST(Context, ParsesCmdlineBooleansAsTheKernelDoes) {
  const std::string_view line = "BOOT_IMAGE=/vmlinuz init_on_alloc=0 quiet init_on_free=on";
  EXPECT_EQ(ParseCmdlineBool(line, "init_on_alloc"), std::optional<bool>(false));
  EXPECT_EQ(ParseCmdlineBool(line, "init_on_free"), std::optional<bool>(true));
  // The last one wins; a value kstrtobool() rejects is ignored.
  EXPECT_EQ(ParseCmdlineBool("init_on_alloc=1 init_on_alloc=n", "init_on_alloc"),
            std::optional<bool>(false));
  EXPECT_EQ(ParseCmdlineBool("init_on_alloc=Y init_on_alloc=x", "init_on_alloc"),
            std::optional<bool>(true));
  EXPECT_FALSE(ParseCmdlineBool("init_on_alloc init_on_alloc_x=1", "init_on_alloc").has_value());
  EXPECT_FALSE(ParseCmdlineBool("", "init_on_free").has_value());
}

TEST(Context, ParsesKconfigBooleans) {
  const std::string_view config =
      "CONFIG_INIT_ON_ALLOC_DEFAULT_ON=y\n# CONFIG_INIT_ON_FREE_DEFAULT_ON is not set\n";
  EXPECT_EQ(ParseKconfigBool(config, "CONFIG_INIT_ON_ALLOC_DEFAULT_ON"), std::optional<bool>(true));
  EXPECT_EQ(ParseKconfigBool(config, "CONFIG_INIT_ON_FREE_DEFAULT_ON"), std::optional<bool>(false));
  EXPECT_FALSE(ParseKconfigBool(config, "CONFIG_INIT_ON").has_value());
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
