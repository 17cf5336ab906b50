#include "lowering/row_gather.h"

#include <bit>
#include <cstdint>

namespace torch_pjrt::lowering {

Value take_rows(Builder& b, Value table, Value index) {
  const int64_t rows = b.dims(table)[0], n = b.dims(table)[1], m = b.dims(index)[1];
  const TensorType positions{ElementType::kS64, {rows, m}};
  Value row_start = b.mul(b.iota(positions, 0), b.splat(static_cast<double>(n), positions));
  stablehlo::GatherDimensions g;
  g.collapsed_slice_dims = {0};
  g.start_index_map = {0};
  g.index_vector_dim = 1;
  Value gathered = b.gather(b.reshape(table, {rows * n}),
                            b.reshape(b.add(row_start, index), {rows * m, 1}), g, {1});
  return b.reshape(gathered, {rows, m});
}

Value search_rows(Builder& b, Value table, Value values, bool right) {
  using stablehlo::BinaryOp;
  using stablehlo::ComparisonDirection;
  const int64_t n = b.dims(table)[1];
  const TensorType positions{ElementType::kS64, b.dims(values)};
  auto splat = [&](int64_t v) { return b.splat(static_cast<double>(v), positions); };
  Value start = splat(0), end = splat(n), one = splat(1);
  for (int step = 0; step < static_cast<int>(std::bit_width(static_cast<uint64_t>(n))); ++step) {
    Value active = b.compare(ComparisonDirection::kLT, start, end);
    Value mid = b.add(start, b.binary(BinaryOp::kShiftRightArithmetic, b.sub(end, start), one));
    Value probe = take_rows(b, table, b.min(mid, splat(n - 1)));
    // Lower bound moves right unless probe >= value; upper bound unless probe > value.
    Value stop =
        b.compare(right ? ComparisonDirection::kGT : ComparisonDirection::kGE, probe, values);
    Value go_right = b.binary(BinaryOp::kAnd, active, b.unary(stablehlo::UnaryOp::kNot, stop));
    start = b.select(go_right, b.add(mid, one), start);
    end = b.select(b.binary(BinaryOp::kAnd, active, stop), mid, end);
  }
  return start;
}

}  // namespace torch_pjrt::lowering
