#pragma once

#include <array>
#include <cstddef>

#include "lowering/op_call.h"

namespace torch_pjrt::lowering {

// sum_j c[j] T_j(t) for t in [-1, 1], by Clenshaw's recurrence (stable where
// summing the polynomials one by one is not). The coefficients come from
// special_function_series.h; in f32 the tail below f32's precision only costs
// a few operations.
template <size_t N>
Value chebyshev_series(Builder& b, const std::array<double, N>& c, Value t) {
  static_assert(N >= 2);
  const stablehlo::TensorType& type = b.type(t);
  Value two_t = b.add(t, t);
  Value next = b.zeros(type);   // b_{j+1}
  Value after = b.zeros(type);  // b_{j+2}
  for (size_t j = N - 1; j >= 1; --j) {
    Value current = b.sub(b.add(b.splat(c[j], type), b.mul(two_t, next)), after);
    after = next;
    next = current;
  }
  return b.sub(b.add(b.splat(c[0], type), b.mul(t, next)), after);
}

}  // namespace torch_pjrt::lowering
