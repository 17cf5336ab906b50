#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "lowering/op_call.h"

namespace torch_pjrt::lowering {

// What PyTorch's CPU max-pooling loops keep of a window, shared by the
// pooling families (pooling.cc, fractional_pooling.cc).

// Of two (value, index) candidates, the one PyTorch's loop keeps: NaN beats
// numbers (the later NaN wins), else the larger value (the earlier index on a
// tie). Works elementwise on tensors and on 0-d region arguments alike. As a
// choice it is a total order on distinct indices, so a window may be reduced
// in any order (one spatial dim after another) and still pick as CPU does.
std::pair<Value, Value> pick_max(Builder& b, Value av, Value ai, Value bv, Value bi);

// Flat spatial index of every element (h * W + w), broadcast over the
// leading dims: the index max pooling reports.
Value spatial_index(Builder& b, const std::vector<int64_t>& dims, size_t spatial);

}  // namespace torch_pjrt::lowering
