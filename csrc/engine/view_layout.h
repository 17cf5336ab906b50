#pragma once

#include <cstdint>
#include <vector>

#include "stablehlo/element_type.h"

namespace torch_pjrt::engine {

// How a tensor sees its storage, exactly as PyTorch's as_strided: element
// (i_0, ..., i_{n-1}) of the view is element offset + sum_k i_k * strides[k]
// of the storage reinterpreted as a flat array of `element`. Offset and strides
// count elements of the view's own type, which may differ from the storage's
// (Tensor.view(dtype), view_as_real), so the storage is addressed by bytes.
struct ViewLayout {
  std::vector<int64_t> sizes;
  std::vector<int64_t> strides;
  int64_t offset = 0;
  stablehlo::ElementType element = stablehlo::ElementType::kF32;

  int64_t numel() const {
    int64_t n = 1;
    for (int64_t size : sizes) n *= size;
    return n;
  }
  int64_t rank() const { return static_cast<int64_t>(sizes.size()); }
  bool operator==(const ViewLayout&) const = default;
};

}  // namespace torch_pjrt::engine
