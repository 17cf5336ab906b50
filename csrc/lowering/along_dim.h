#pragma once

#include <cstdint>
#include <vector>

#include "lowering/op_call.h"

namespace torch_pjrt::lowering {

// Helpers for window ops whose taps are known when lowering (adaptive pools,
// padding by reflection, upsampling): per-dim index tables become constants.

// x with dim `dim` replaced by x[..., index[k], ...] for each k (a gather).
Value take_along(Builder& b, Value x, int64_t dim, const std::vector<int64_t>& index);
// The adjoint of take_along: a tensor whose dim `dim` has `size` entries,
// entry i the sum of updates[..., k, ...] over every k with index[k] == i.
Value scatter_add_along(Builder& b, Value updates, int64_t dim, const std::vector<int64_t>& index,
                        int64_t size);
// A 1-d constant of `values` in `type`, broadcast along dim `dim` of `dims`.
Value along(Builder& b, const std::vector<double>& values, ElementType type,
            const std::vector<int64_t>& dims, int64_t dim);

}  // namespace torch_pjrt::lowering
