#include "engine/contiguous_block.h"

namespace torch_pjrt::engine {

bool is_contiguous_block(const stablehlo::TensorType& storage, const ViewLayout& view) {
  const int64_t numel = view.numel();
  if (numel == 0 || view.element != storage.element || numel == storage.numel()) return false;
  int64_t expected = 1;
  for (int64_t d = view.rank() - 1; d >= 0; --d) {
    if (view.sizes[d] != 1 && view.strides[d] != expected) return false;
    expected *= view.sizes[d];
  }
  return view.offset >= 0 && view.offset + numel <= storage.numel();
}

stablehlo::Value read_block(stablehlo::Builder& b, stablehlo::Value storage,
                            stablehlo::Value offset, const ViewLayout& view) {
  const int64_t total = b.type(storage).numel();
  stablehlo::Value flat = b.reshape(storage, {total});
  stablehlo::Value block = b.dynamic_slice(flat, {offset}, {view.numel()});
  return b.reshape(block, view.sizes);
}

stablehlo::Value write_block(stablehlo::Builder& b, stablehlo::Value storage,
                             stablehlo::Value offset, const ViewLayout& view,
                             stablehlo::Value update) {
  const std::vector<int64_t> dims = b.dims(storage);
  const int64_t total = b.type(storage).numel();
  stablehlo::Value flat = b.reshape(storage, {total});
  stablehlo::Value updated =
      b.dynamic_update_slice(flat, b.reshape(update, {view.numel()}), {offset});
  return b.reshape(updated, dims);
}

}  // namespace torch_pjrt::engine
