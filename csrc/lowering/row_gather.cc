#include "lowering/row_gather.h"

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

}  // namespace torch_pjrt::lowering
