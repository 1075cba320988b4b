// SPDX-License-Identifier: GPL-2.0
// Device without the module: opening, errors, ownership of the fd. The
// ioctls themselves are exercised in the VM tests.
#include "device.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <memory>
#include <utility>
#include <vector>

namespace pcpool {
namespace {

using ::testing::HasSubstr;

bool FdOpen(int fd) { return fcntl(fd, F_GETFD) != -1; }

TEST(Device, OpenMissingIsENOENT) {
  const Result<Device> r = Device::Open("/nonexistent/pcpool");
  EXPECT_EQ(r.err, -ENOENT);
  EXPECT_FALSE(r.value.is_open());
  EXPECT_THAT(r.ErrorString(), HasSubstr("ENOENT"));
}

TEST(Device, IoctlsOnAnotherFileReturnMinusErrno) {
  Result<Device> r = Device::Open("/dev/null");
  ASSERT_TRUE(r.ok()) << r.ErrorString();
  const Device& dev = r.value;
  EXPECT_EQ(dev.Version().err, -ENOTTY);
  EXPECT_EQ(dev.Run(PCPOOL_BACKEND_NULL, PCPOOL_WL_REPEAT, 0, 1, 0).err, -ENOTTY);
  EXPECT_EQ(dev.ChanAlloc(0, PCPOOL_BACKEND_NULL, 0, 1).err, -ENOTTY);
  EXPECT_EQ(dev.ChanFree(0, 1).err, -ENOTTY);
  EXPECT_EQ(dev.Stats(PCPOOL_BACKEND_NULL).err, -ENOTTY);
}

TEST(Device, SizeFieldIsSetAndArgumentsPassedThrough) {
  Result<Device> r = Device::Open("/dev/null");
  ASSERT_TRUE(r.ok());
  const Result<pcpool_run> run = r.value.Run(PCPOOL_BACKEND_NULL, PCPOOL_WL_BULK, 2, 99, 8);
  EXPECT_EQ(run.value.size, sizeof(pcpool_run));
  EXPECT_EQ(run.value.backend, static_cast<uint32_t>(PCPOOL_BACKEND_NULL));
  EXPECT_EQ(run.value.workload, static_cast<uint32_t>(PCPOOL_WL_BULK));
  EXPECT_EQ(run.value.order, 2U);
  EXPECT_EQ(run.value.ops, 99U);
  EXPECT_EQ(run.value.batch, 8U);
  EXPECT_EQ(run.value.flags, 0U);
  const Result<pcpool_chan> chan = r.value.ChanFree(3, 7);
  EXPECT_EQ(chan.value.size, sizeof(pcpool_chan));
  EXPECT_EQ(chan.value.op, static_cast<uint32_t>(PCPOOL_CHAN_FREE));
  EXPECT_EQ(chan.value.chan, 3U);
  EXPECT_EQ(chan.value.count, 7U);
  EXPECT_EQ(chan.value.backend, 0U);
  EXPECT_EQ(r.value.Version().value.size, sizeof(pcpool_version));
  EXPECT_EQ(r.value.Stats(1).value.size, sizeof(pcpool_stats));
}

TEST(Device, AllocAndFreePointAtTheCallersArrays) {
  Result<Device> r = Device::Open("/dev/null");
  ASSERT_TRUE(r.ok());
  uint64_t handles[4] = {};
  int32_t status[4] = {};
  const Result<pcpool_alloc> a = r.value.Alloc(PCPOOL_BACKEND_KERNEL, 1, handles);
  EXPECT_EQ(a.value.size, sizeof(pcpool_alloc));
  EXPECT_EQ(a.value.count, 4U);
  EXPECT_EQ(a.value.handles, reinterpret_cast<uintptr_t>(handles));
  const Result<pcpool_free> f = r.value.Free(handles, status);
  EXPECT_EQ(f.value.size, sizeof(pcpool_free));
  EXPECT_EQ(f.value.status, reinterpret_cast<uintptr_t>(status));
  EXPECT_EQ(r.value.Free(handles).value.status, 0U);
  // Mismatched status array: refused before any syscall.
  EXPECT_EQ(r.value.Free(handles, std::span<int32_t>(status, 2)).err, -EINVAL);
}

// io_uring on a file without .uring_cmd (/dev/zero; /dev/null has a no-op
// one since 6.10): the ring works, the command comes back -EOPNOTSUPP, in
// one submission for the batch.
TEST(Device, UringCommandsReachTheFile) {
  Result<Device> r = Device::Open("/dev/zero", Submit::kUring);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value.SubmitMode(), Submit::kUring);
  const int err = r.value.Version().err;
  if (err == -ENOSYS || err == -EPERM) {
    GTEST_SKIP() << "io_uring is not available here: " << ErrnoString(err);
  }
  EXPECT_EQ(err, -EOPNOTSUPP);
  std::vector<pcpool_run> args(5);
  std::vector<int> res(5, 1);
  EXPECT_EQ(r.value.RunBatch(args, res), 0);
  EXPECT_THAT(res, ::testing::Each(-EOPNOTSUPP));
  EXPECT_EQ(args[4].size, sizeof(pcpool_run));
  // The same batch through ioctl: one syscall each, the ioctl's error.
  Result<Device> io = Device::Open("/dev/zero");
  ASSERT_TRUE(io.ok());
  EXPECT_EQ(io.value.RunBatch(args, res), 0);
  EXPECT_THAT(res, ::testing::Each(-ENOTTY));
}

TEST(Device, SubmitNames) {
  EXPECT_EQ(SubmitName(Submit::kIoctl), "ioctl");
  EXPECT_EQ(SubmitFromName("uring"), Submit::kUring);
  EXPECT_EQ(SubmitFromName("io_uring"), Submit::kUring);
  EXPECT_EQ(SubmitFromName("aio"), std::nullopt);
}

TEST(Device, RunWithAHistogramSetsTheFlagAndPointer) {
  Result<Device> r = Device::Open("/dev/null");
  ASSERT_TRUE(r.ok());
  auto hist = std::make_unique<pcpool_hist>();
  pcpool_run arg{};
  arg.seed = 5;
  const Result<pcpool_run> run = r.value.Run(arg, hist.get());
  EXPECT_EQ(run.value.flags, PCPOOL_RUN_HIST);
  EXPECT_EQ(run.value.hist, reinterpret_cast<uintptr_t>(hist.get()));
  EXPECT_EQ(run.value.seed, 5U);
  EXPECT_EQ(hist->size, PCPOOL_HIST_SIZE_VER0);
}

TEST(Device, ClosedDeviceGetsEBADF) {
  const Device dev;
  EXPECT_FALSE(dev.is_open());
  EXPECT_EQ(dev.Version().err, -EBADF);
}

TEST(Device, MoveTransfersAndDestructorCloses) {
  int fd = -1;
  {
    Result<Device> r = Device::Open("/dev/null");
    ASSERT_TRUE(r.ok());
    fd = r.value.fd();
    Device moved(std::move(r.value));
    EXPECT_FALSE(r.value.is_open());  // NOLINT(bugprone-use-after-move)
    EXPECT_EQ(moved.fd(), fd);
    Device assigned;
    assigned = std::move(moved);
    EXPECT_EQ(assigned.fd(), fd);
    EXPECT_TRUE(FdOpen(fd));
  }
  EXPECT_FALSE(FdOpen(fd));
}

TEST(ErrnoString, NamesAndDescribes) {
  EXPECT_THAT(ErrnoString(-ENOMEM), HasSubstr("ENOMEM"));
  EXPECT_THAT(ErrnoString(ENOMEM), HasSubstr("Cannot allocate memory"));
}

}  // namespace
}  // namespace pcpool
