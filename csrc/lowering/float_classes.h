#pragma once

#include "lowering/op_call.h"

namespace torch_pjrt::lowering {

// Elementwise pred results, for any element type: integers and bool are never
// NaN or infinite; a complex value is when either part is.
Value is_nan(Builder& b, Value x);
Value is_inf(Builder& b, Value x);

// The sign bit of a floating value, so -0.0 and negative NaNs count as
// negative (copysign, division's signed zeros, digamma's poles).
Value sign_bit_set(Builder& b, Value x);

}  // namespace torch_pjrt::lowering
