#include "engine/offset_window.h"

#include "engine/view_prologue.h"

namespace torch_pjrt::engine {

namespace {

// Elements from the view's first element to its last, inclusive.
int64_t window_length(const ViewLayout& view) {
  int64_t last = 0;
  for (int64_t d = 0; d < view.rank(); ++d) last += (view.sizes[d] - 1) * view.strides[d];
  return last + 1;
}

// The view inside its window: the same sizes and strides, at offset 0.
ViewLayout within_window(const ViewLayout& view) {
  ViewLayout inner = view;
  inner.offset = 0;
  return inner;
}

}  // namespace

bool elements_are_consecutive(const ViewLayout& view) {
  int64_t expected = 1;
  for (int64_t d = view.rank() - 1; d >= 0; --d) {
    if (view.sizes[d] != 1 && view.strides[d] != expected) return false;
    expected *= view.sizes[d];
  }
  return true;
}

bool has_runtime_offset(const stablehlo::TensorType& storage, const ViewLayout& view) {
  if (view.numel() == 0 || view.element != storage.element) return false;
  for (int64_t d = 0; d < view.rank(); ++d) {
    if (view.strides[d] < 0) return false;
  }
  const int64_t length = window_length(view);
  return length < storage.numel() && view.offset >= 0 && view.offset + length <= storage.numel();
}

stablehlo::Value read_window(stablehlo::Builder& b, stablehlo::Value storage,
                             stablehlo::Value offset, const ViewLayout& view) {
  const int64_t length = window_length(view);
  stablehlo::Value flat = b.reshape(storage, {b.type(storage).numel()});
  stablehlo::Value window = b.dynamic_slice(flat, {offset}, {length});
  if (elements_are_consecutive(view)) return b.reshape(window, view.sizes);
  return read_view(b, window, within_window(view));
}

stablehlo::Value write_window(stablehlo::Builder& b, stablehlo::Value storage,
                              stablehlo::Value offset, const ViewLayout& view,
                              stablehlo::Value update) {
  const std::vector<int64_t> dims = b.dims(storage);
  const int64_t length = window_length(view);
  stablehlo::Value flat = b.reshape(storage, {b.type(storage).numel()});
  stablehlo::Value window;
  if (elements_are_consecutive(view)) {
    window = b.reshape(update, {length});
  } else {
    // Elements of the window between the view's own keep their values.
    window = write_view(b, b.dynamic_slice(flat, {offset}, {length}), within_window(view), update);
  }
  return b.reshape(b.dynamic_update_slice(flat, window, {offset}), dims);
}

}  // namespace torch_pjrt::engine
