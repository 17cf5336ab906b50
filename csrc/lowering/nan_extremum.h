#pragma once

#include "lowering/op_call.h"

namespace torch_pjrt::lowering {

// stablehlo.maximum / minimum (op is kMaximum or kMinimum) with a NaN from
// either side propagated explicitly, as PyTorch's max/min/clamp do: XLA:CPU
// compiles those ops as a plain compare-and-select that drops NaN.
Value nan_propagating(Builder& b, stablehlo::BinaryOp op, Value lhs, Value rhs);

}  // namespace torch_pjrt::lowering
