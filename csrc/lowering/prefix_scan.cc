#include "lowering/prefix_scan.h"

namespace torch_pjrt::lowering {

using stablehlo::BinaryOp;
using stablehlo::ComparisonDirection;

std::vector<Value> prefix_scan(Builder& b, std::vector<Value> values, int64_t dim,
                               const ScanCombine& combine) {
  const std::vector<int64_t> dims = b.dims(values.front());
  const int64_t n = dims[dim];
  const size_t rank = dims.size();
  Value position = b.iota(TensorType{ElementType::kS64, dims}, dim);
  for (int64_t shift = 1; shift < n; shift *= 2) {
    // Each value moved `shift` places later along dim; the first `shift`
    // positions have no predecessor at this distance and keep their value.
    std::vector<Value> earlier;
    for (Value v : values) {
      std::vector<int64_t> start(rank, 0), limit = dims, low(rank, 0), high(rank, 0);
      limit[dim] = n - shift;
      low[dim] = shift;
      Value head = b.slice(v, start, limit);
      earlier.push_back(b.pad(head, b.constant(0, b.element_type(v)), low, high));
    }
    std::vector<Value> combined = combine(b, earlier, values);
    Value has_predecessor = b.compare(ComparisonDirection::kGE, position,
                                      b.splat(static_cast<double>(shift), b.type(position)));
    for (size_t i = 0; i < values.size(); ++i)
      values[i] = b.select(has_predecessor, combined[i], values[i]);
  }
  return values;
}

Value orderable(Builder& b, Value x) {
  return b.element_type(x) == ElementType::kPred ? b.convert(x, ElementType::kU8) : x;
}

Value nan_last_less(Builder& b, Value x, Value y) {
  Value less = b.compare(ComparisonDirection::kLT, x, y);
  if (!stablehlo::is_floating(b.element_type(x))) return less;
  Value x_number = b.compare(ComparisonDirection::kEQ, x, x);
  Value y_nan = b.compare(ComparisonDirection::kNE, y, y);
  return b.binary(BinaryOp::kOr, less, b.binary(BinaryOp::kAnd, x_number, y_nan));
}

}  // namespace torch_pjrt::lowering
