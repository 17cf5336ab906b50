#pragma once

#include <vector>

#include "lowering/op_call.h"

namespace torch_pjrt::lowering {

// PyTorch's result_type over the given operands: categories bool < integer <
// floating < complex; dimensioned tensors outrank 0-d tensors, which outrank
// scalars (TensorArg::is_scalar), within the same category; a higher category
// from a lower-priority operand lifts the result to that category's default
// (int -> s64, float -> default_float, complex -> the complex of the float).
ElementType result_type(const Builder& b, const std::vector<TensorArg>& operands,
                        ElementType default_float);
// torch.can_cast(from, to): no float->int, complex->real, non-bool->bool.
bool can_cast(ElementType from, ElementType to);
// The floating type an op like div/sqrt computes in for an input of `type`
// (integers and bool -> default_float).
ElementType to_floating(ElementType type, ElementType default_float);
// The type PyTorch's CPU kernels do arithmetic in (at::opmath_type): the half
// types compute (and accumulate) in f32 and round once at the end.
ElementType opmath_type(ElementType type);

}  // namespace torch_pjrt::lowering
