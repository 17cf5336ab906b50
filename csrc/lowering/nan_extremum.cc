#include "lowering/nan_extremum.h"

namespace torch_pjrt::lowering {

Value nan_propagating(Builder& b, stablehlo::BinaryOp op, Value lhs, Value rhs) {
  using stablehlo::ComparisonDirection;
  Value result = b.binary(op, lhs, rhs);
  if (!stablehlo::is_floating(b.element_type(result))) return result;
  result = b.select(b.compare(ComparisonDirection::kNE, rhs, rhs), rhs, result);
  return b.select(b.compare(ComparisonDirection::kNE, lhs, lhs), lhs, result);
}

}  // namespace torch_pjrt::lowering
