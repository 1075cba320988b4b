// SPDX-License-Identifier: GPL-2.0
#include "usl.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <set>
#include <vector>

namespace pcpool {
namespace {

void SetError(std::string* error, const std::string& what) {
  if (error != nullptr) {
    *error = what;
  }
}

// Solves the k x k system m * x = v (k <= 3) by Gaussian elimination with
// partial pivoting; false when it is singular.
bool Solve(std::array<std::array<double, 3>, 3> m, std::array<double, 3> v, int k,
           std::array<double, 3>* x) {
  for (int col = 0; col < k; col++) {
    int piv = col;
    for (int r = col + 1; r < k; r++) {
      if (std::fabs(m[r][col]) > std::fabs(m[piv][col])) {
        piv = r;
      }
    }
    if (std::fabs(m[piv][col]) < 1e-300) {
      return false;
    }
    std::swap(m[col], m[piv]);
    std::swap(v[col], v[piv]);
    for (int r = col + 1; r < k; r++) {
      const double f = m[r][col] / m[col][col];
      for (int c = col; c < k; c++) {
        m[r][c] -= f * m[col][c];
      }
      v[r] -= f * v[col];
    }
  }
  for (int r = k - 1; r >= 0; r--) {
    double s = v[r];
    for (int c = r + 1; c < k; c++) {
      s -= m[r][c] * (*x)[c];
    }
    (*x)[r] = s / m[r][r];
  }
  return true;
}

struct Row {
  double n;
  double y;  // N / X
  double w;  // weight
};

// Weighted least squares of y = a + b (n-1) + c n (n-1) over the basis
// terms enabled in @use (a always); the coefficients left out are 0.
bool Lsq(const std::vector<Row>& rows, std::array<bool, 3> use, std::array<double, 3>* coef,
         double* sse) {
  std::array<int, 3> idx{};
  int k = 0;
  for (int j = 0; j < 3; j++) {
    if (use[j]) {
      idx[k++] = j;
    }
  }
  auto basis = [](double n, int j) { return j == 0 ? 1.0 : j == 1 ? n - 1 : n * (n - 1); };
  std::array<std::array<double, 3>, 3> m{};
  std::array<double, 3> v{};
  for (const Row& r : rows) {
    for (int p = 0; p < k; p++) {
      for (int q = 0; q < k; q++) {
        m[p][q] += r.w * basis(r.n, idx[p]) * basis(r.n, idx[q]);
      }
      v[p] += r.w * basis(r.n, idx[p]) * r.y;
    }
  }
  std::array<double, 3> x{};
  if (!Solve(m, v, k, &x)) {
    return false;
  }
  *coef = {0, 0, 0};
  for (int p = 0; p < k; p++) {
    (*coef)[idx[p]] = x[p];
  }
  *sse = 0;
  for (const Row& r : rows) {
    const double e = (*coef)[0] + (*coef)[1] * basis(r.n, 1) + (*coef)[2] * basis(r.n, 2) - r.y;
    *sse += r.w * e * e;
  }
  return true;
}

}  // namespace

double UslFit::Throughput(double n) const {
  return lambda * n / (1 + sigma * (n - 1) + kappa * n * (n - 1));
}

std::optional<double> UslFit::PeakN() const {
  if (kappa <= 0 || sigma >= 1) {
    return std::nullopt;
  }
  return std::sqrt((1 - sigma) / kappa);
}

std::optional<UslFit> FitUsl(std::span<const UslPoint> points, std::string* error) {
  std::vector<Row> rows;
  std::set<double> distinct;
  for (const UslPoint& p : points) {
    if (!std::isfinite(p.n) || !std::isfinite(p.throughput) || p.n < 1 || p.throughput <= 0) {
      SetError(error, "a point is not finite and positive (threads >= 1)");
      return std::nullopt;
    }
    const double y = p.n / p.throughput;
    rows.push_back({p.n, y, 1 / (y * y)});
    distinct.insert(p.n);
  }
  if (distinct.size() < 2) {
    SetError(error, "need at least 2 distinct thread counts");
    return std::nullopt;
  }
  const bool three = distinct.size() >= 3;
  // Active sets, most general first; the feasible one (a > 0, b, c >= 0)
  // with the least residual wins.
  std::vector<std::array<bool, 3>> sets;
  if (three) {
    sets.push_back({true, true, true});
    sets.push_back({true, false, true});
  }
  sets.push_back({true, true, false});
  sets.push_back({true, false, false});
  std::optional<UslFit> best;
  double best_sse = std::numeric_limits<double>::infinity();
  for (const auto& use : sets) {
    std::array<double, 3> c{};
    double sse = 0;
    if (!Lsq(rows, use, &c, &sse) || c[0] <= 0 || c[1] < 0 || c[2] < 0) {
      continue;
    }
    if (sse < best_sse * (1 - 1e-12)) {
      best_sse = sse;
      UslFit f;
      f.lambda = 1 / c[0];
      f.sigma = c[1] / c[0];
      f.kappa = c[2] / c[0];
      f.kappa_fitted = three;
      best = f;
    }
  }
  if (!best) {
    SetError(error, "no fit with sigma, kappa >= 0");
    return std::nullopt;
  }
  double s = 0;
  for (const UslPoint& p : points) {
    const double e = (best->Throughput(p.n) - p.throughput) / p.throughput;
    s += e * e;
  }
  best->rms_rel_error = std::sqrt(s / static_cast<double>(points.size()));
  return best;
}

std::optional<UslHoldout> CheckUsl(std::span<const UslPoint> points, std::string* error) {
  if (points.empty()) {
    SetError(error, "no points");
    return std::nullopt;
  }
  double max_n = 0;
  for (const UslPoint& p : points) {
    max_n = std::max(max_n, p.n);
  }
  std::vector<UslPoint> half;
  double measured = 0;
  int at_max = 0;
  for (const UslPoint& p : points) {
    if (p.n <= max_n / 2) {
      half.push_back(p);
    } else if (p.n == max_n) {
      measured += p.throughput;
      at_max++;
    }
  }
  std::string why;
  const std::optional<UslFit> fit = FitUsl(half, &why);
  if (!fit) {
    SetError(error, "fit on n <= " + std::to_string(static_cast<int>(max_n / 2)) + ": " + why);
    return std::nullopt;
  }
  UslHoldout h;
  h.n = max_n;
  h.measured = measured / at_max;
  h.predicted = fit->Throughput(max_n);
  h.rel_error = (h.predicted - h.measured) / h.measured;
  return h;
}

}  // namespace pcpool
