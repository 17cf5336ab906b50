#include "lowering/nan_extremum.h"

namespace torch_pjrt::lowering {

Value nan_propagating(Builder& b, stablehlo::BinaryOp op, Value lhs, Value rhs) {
  using stablehlo::ComparisonDirection;
  if (!stablehlo::is_floating(b.element_type(lhs))) return b.binary(op, lhs, rhs);
  const ComparisonDirection beyond =
      op == stablehlo::BinaryOp::kMaximum ? ComparisonDirection::kGT : ComparisonDirection::kLT;
  Value take_rhs = b.binary(stablehlo::BinaryOp::kOr, b.compare(beyond, rhs, lhs),
                            b.compare(ComparisonDirection::kNE, rhs, rhs));
  return b.select(take_rhs, rhs, lhs);
}

std::vector<Value> extremum_reducer(Builder& b, stablehlo::BinaryOp op,
                                    const std::vector<Value>& args) {
  // args are (accumulated, next): the next element unless the accumulated
  // one is beyond it or NaN.
  return {nan_propagating(b, op, args[1], args[0])};
}

}  // namespace torch_pjrt::lowering
