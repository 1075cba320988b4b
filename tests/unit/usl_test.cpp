// SPDX-License-Identifier: GPL-2.0
#include "usl.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace pcpool {
namespace {

std::vector<UslPoint> Synthetic(double lambda, double sigma, double kappa,
                                const std::vector<double>& ns) {
  std::vector<UslPoint> pts;
  for (const double n : ns) {
    pts.push_back({n, lambda * n / (1 + sigma * (n - 1) + kappa * n * (n - 1))});
  }
  return pts;
}

TEST(Usl, RecoversSigmaAndKappaExactly) {
  const auto pts = Synthetic(1e6, 0.05, 0.002, {1, 2, 4, 8, 16});
  const auto f = FitUsl(pts);
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->kappa_fitted);
  EXPECT_NEAR(f->lambda, 1e6, 1e-3);
  EXPECT_NEAR(f->sigma, 0.05, 1e-9);
  EXPECT_NEAR(f->kappa, 0.002, 1e-11);
  EXPECT_LT(f->rms_rel_error, 1e-9);
  ASSERT_TRUE(f->PeakN());
  EXPECT_NEAR(*f->PeakN(), std::sqrt(0.95 / 0.002), 1e-6);
  EXPECT_NEAR(f->Throughput(64), 1e6 * 64 / (1 + 0.05 * 63 + 0.002 * 64 * 63), 1e-3);
}

TEST(Usl, LinearScalingHasNoPeak) {
  const auto f = FitUsl(Synthetic(5e5, 0, 0, {1, 2, 4, 8}));
  ASSERT_TRUE(f);
  EXPECT_NEAR(f->sigma, 0, 1e-12);
  EXPECT_NEAR(f->kappa, 0, 1e-15);
  EXPECT_FALSE(f->PeakN());
  EXPECT_NEAR(f->Throughput(256), 5e5 * 256, 1);
}

TEST(Usl, SuperlinearPointsClampToZero) {
  // Throughput per thread rises with N: the unconstrained fit would give
  // a negative sigma; the bounded one holds it at 0.
  const std::vector<UslPoint> pts = {{1, 100}, {2, 210}, {4, 440}};
  const auto f = FitUsl(pts);
  ASSERT_TRUE(f);
  EXPECT_GE(f->sigma, 0);
  EXPECT_GE(f->kappa, 0);
  EXPECT_GT(f->lambda, 0);
}

TEST(Usl, TwoThreadCountsFitSigmaOnly) {
  const auto f = FitUsl(Synthetic(1000, 0.25, 0, {1, 2}));
  ASSERT_TRUE(f);
  EXPECT_FALSE(f->kappa_fitted);
  EXPECT_NEAR(f->sigma, 0.25, 1e-12);
  EXPECT_EQ(f->kappa, 0);
}

TEST(Usl, DegenerateInputs) {
  std::string err;
  EXPECT_FALSE(FitUsl({}, &err));
  EXPECT_FALSE(err.empty());
  const std::vector<UslPoint> one = {{4, 100}, {4, 110}};
  EXPECT_FALSE(FitUsl(one, &err));
  const std::vector<UslPoint> zero = {{1, 100}, {2, 0}};
  EXPECT_FALSE(FitUsl(zero, &err));
  const std::vector<UslPoint> nan = {{1, 100}, {2, std::nan("")}};
  EXPECT_FALSE(FitUsl(nan, &err));
}

TEST(Usl, HoldoutPredictsLargestN) {
  const auto pts = Synthetic(1e6, 0.1, 0.001, {1, 2, 4, 8, 16});
  const auto h = CheckUsl(pts);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->n, 16);
  EXPECT_NEAR(h->rel_error, 0, 1e-9);
}

TEST(Usl, HoldoutNeedsTwoPointsInTheLowerHalf) {
  std::string err;
  EXPECT_FALSE(CheckUsl(Synthetic(1e6, 0.1, 0, {1, 2}), &err));
  EXPECT_NE(err.find("n <= 1"), std::string::npos);
}

}  // namespace
}  // namespace pcpool
