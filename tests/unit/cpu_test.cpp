// SPDX-License-Identifier: GPL-2.0
#include "cpu.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <pthread.h>
#include <sched.h>

#include <string>
#include <thread>
#include <vector>

namespace pcpool {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::vector<int> Parse(const std::string& s) {
  std::string error;
  auto cpus = ParseCpuList(s, &error);
  EXPECT_TRUE(cpus.has_value()) << s << ": " << error;
  return cpus.value_or(std::vector<int>{});
}

std::string ParseError(const std::string& s) {
  std::string error;
  EXPECT_FALSE(ParseCpuList(s, &error).has_value()) << s;
  return error;
}

TEST(CpuList, SingleRangesAndMixes) {
  EXPECT_THAT(Parse("0"), ElementsAre(0));
  EXPECT_THAT(Parse("0-3"), ElementsAre(0, 1, 2, 3));
  EXPECT_THAT(Parse("0-3,8"), ElementsAre(0, 1, 2, 3, 8));
  EXPECT_THAT(Parse("8,0-1,5-5"), ElementsAre(8, 0, 1, 5));  // order kept
  EXPECT_THAT(Parse("0-1,4-5\n"), ElementsAre(0, 1, 4, 5));  // as read from sysfs
  EXPECT_THAT(Parse("65535"), ElementsAre(kMaxCpu));
}

TEST(CpuList, RejectsMalformed) {
  EXPECT_THAT(ParseError(""), HasSubstr("empty"));
  EXPECT_THAT(ParseError("\n"), HasSubstr("empty"));
  EXPECT_THAT(ParseError("1,"), HasSubstr("bad CPU number"));
  EXPECT_THAT(ParseError(",1"), HasSubstr("bad CPU number"));
  EXPECT_THAT(ParseError("a"), HasSubstr("bad CPU number"));
  EXPECT_THAT(ParseError("-1"), HasSubstr("range"));
  EXPECT_THAT(ParseError("1-"), HasSubstr("range"));
  EXPECT_THAT(ParseError("1-2-3"), HasSubstr("range"));
  EXPECT_THAT(ParseError("3-1"), HasSubstr("descending"));
  EXPECT_THAT(ParseError("0-3,2"), HasSubstr("CPU 2 listed twice"));
  EXPECT_THAT(ParseError("65536"), HasSubstr("bad CPU number"));
  EXPECT_THAT(ParseError("1 2"), HasSubstr("bad CPU number"));
  EXPECT_THAT(ParseError("0x1"), HasSubstr("bad CPU number"));
  EXPECT_FALSE(ParseCpuList("1,,2").has_value());  // error pointer is optional
}

TEST(CpuList, FormatCollapsesRanges) {
  EXPECT_EQ(FormatCpuList({}), "");
  EXPECT_EQ(FormatCpuList(std::vector<int>{3}), "3");
  EXPECT_EQ(FormatCpuList(std::vector<int>{0, 1, 2, 3, 8}), "0-3,8");
  EXPECT_EQ(FormatCpuList(std::vector<int>{8, 1, 0, 9, 1}), "0-1,8-9");
  EXPECT_EQ(FormatCpuList(std::vector<int>{0, 2, 4}), "0,2,4");
}

TEST(CpuList, RoundTrip) {
  for (const std::string s : {"0", "0-3,8", "1,3,5-7,64-127"}) {
    EXPECT_EQ(FormatCpuList(Parse(s)), s);
  }
}

TEST(CpusForThreads, WrapsAroundAllowed) {
  const std::vector<int> allowed{2, 5, 7};
  EXPECT_THAT(CpusForThreads(2, allowed), ElementsAre(2, 5));
  EXPECT_THAT(CpusForThreads(5, allowed), ElementsAre(2, 5, 7, 2, 5));
  EXPECT_THAT(CpusForThreads(3, {}), IsEmpty());
}

// Affinity of the calling thread as a list.
std::vector<int> ThreadAffinity() {
  cpu_set_t set;
  CPU_ZERO(&set);
  EXPECT_EQ(pthread_getaffinity_np(pthread_self(), sizeof(set), &set), 0);
  std::vector<int> cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
    if (CPU_ISSET(cpu, &set)) {
      cpus.push_back(cpu);
    }
  }
  return cpus;
}

TEST(PinThread, PinsEachAllowedCpu) {
  const std::vector<int> allowed = AllowedCpus();
  ASSERT_FALSE(allowed.empty());
  EXPECT_EQ(allowed, ThreadAffinity());
  for (const int cpu : allowed) {
    int ret = -1;
    std::vector<int> mask;
    int ran_on = -1;
    std::thread([&] {
      ret = PinThread(cpu);
      mask = ThreadAffinity();
      ran_on = sched_getcpu();
    }).join();
    EXPECT_EQ(ret, 0);
    EXPECT_THAT(mask, ElementsAre(cpu));
    EXPECT_EQ(ran_on, cpu);
  }
}

// Pin several threads at once to distinct CPUs: each must see its own.
TEST(PinThread, ConcurrentThreadsGetTheirOwnCpu) {
  const std::vector<int> allowed = AllowedCpus();
  std::vector<int> seen(allowed.size(), -1);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < allowed.size(); i++) {
    threads.emplace_back([&, i] {
      if (PinThread(allowed[i]) == 0) {
        seen[i] = sched_getcpu();
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(seen, allowed);
}

TEST(PinThread, NegativeCpuIsANoop) {
  std::vector<int> before;
  std::vector<int> after;
  int ret = -1;
  std::thread([&] {
    before = ThreadAffinity();
    ret = PinThread(-1);
    after = ThreadAffinity();
  }).join();
  EXPECT_EQ(ret, 0);
  EXPECT_EQ(before, after);
  EXPECT_EQ(after, AllowedCpus());
}

TEST(PinThread, ImpossibleCpuFailsAndLeavesMaskAlone) {
  int ret = 0;
  std::vector<int> after;
  std::thread([&] {
    ::testing::internal::CaptureStderr();
    ret = PinThread(kMaxCpu);
    const std::string err = ::testing::internal::GetCapturedStderr();
    EXPECT_THAT(err, HasSubstr("pthread_setaffinity_np(cpu 65535)"));
    after = ThreadAffinity();
  }).join();
  EXPECT_EQ(ret, EINVAL);
  EXPECT_EQ(after, AllowedCpus());
}

}  // namespace
}  // namespace pcpool
