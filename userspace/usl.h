// SPDX-License-Identifier: GPL-2.0
// The Universal Scalability Law (Gunther): throughput at N threads
//   X(N) = lambda * N / (1 + sigma * (N - 1) + kappa * N * (N - 1))
// sigma is contention (serialised work), kappa coherency (crosstalk, each
// pair of CPUs exchanging a line). Fitted to measured points to say where a
// backend stops scaling on machines larger than the one that ran it.
#ifndef PCPOOL_USERSPACE_USL_H_
#define PCPOOL_USERSPACE_USL_H_

#include <optional>
#include <span>
#include <string>

namespace pcpool {

struct UslPoint {
  double n = 0;           // threads (CPUs)
  double throughput = 0;  // ops per second over all threads
};

struct UslFit {
  double lambda = 0;  // ops/s of one thread without contention
  double sigma = 0;   // >= 0
  double kappa = 0;   // >= 0
  // Fewer than 3 distinct thread counts cannot separate sigma from kappa:
  // then kappa is held at 0 and this is false.
  bool kappa_fitted = false;
  double rms_rel_error = 0;  // of the fitted X over the points used

  [[nodiscard]] double Throughput(double n) const;
  // N* = sqrt((1 - sigma) / kappa), where throughput peaks; nullopt when
  // kappa is 0 (no retrograde region: X only flattens towards lambda/sigma).
  [[nodiscard]] std::optional<double> PeakN() const;
};

// Least squares fit of the linear form N / X(N) = a + b (N - 1) + c N (N - 1)
// (a = 1/lambda, b = sigma/lambda, c = kappa/lambda), each point weighted
// by 1/(N/X)^2 so that every point counts by its relative error, with b and
// c held >= 0 (the best of the feasible active sets). nullopt, with @error,
// for fewer than 2 distinct thread counts or a point that is not finite
// and positive.
std::optional<UslFit> FitUsl(std::span<const UslPoint> points, std::string* error = nullptr);

// The honesty check: fit on the points with n <= max_n / 2, predict the
// point at max_n and compare with what was measured there.
struct UslHoldout {
  double n = 0;
  double measured = 0;
  double predicted = 0;
  double rel_error = 0;  // (predicted - measured) / measured
};
std::optional<UslHoldout> CheckUsl(std::span<const UslPoint> points, std::string* error = nullptr);

}  // namespace pcpool

#endif  // PCPOOL_USERSPACE_USL_H_
