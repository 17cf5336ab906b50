#pragma once

#include <cstdint>
#include <vector>

#include "lowering/op_call.h"

namespace torch_pjrt::lowering {

// PyTorch broadcasting of shapes; throws InvalidArgument with PyTorch's wording
// ("The size of tensor a (3) must match the size of tensor b (4) at
// non-singleton dimension 1").
std::vector<int64_t> broadcast_shapes(const std::vector<int64_t>& a, const std::vector<int64_t>& b);
std::vector<int64_t> broadcast_shapes(const std::vector<std::vector<int64_t>>& shapes);
// Broadcasts x to `dims` (trailing alignment); returns x when already there.
Value broadcast_to(Builder& b, Value x, const std::vector<int64_t>& dims);
// Converts each operand to `type` and broadcasts all to their common shape.
std::vector<Value> promote_and_broadcast(Builder& b, const std::vector<Value>& operands,
                                         ElementType type);
// Wraps a possibly negative dim into [0, rank); rank 0 accepts -1 and 0.
// Throws IndexOutOfRange ("Dimension out of range (expected to be in range of
// [-2, 1], but got 3)").
int64_t wrap_dim(int64_t dim, int64_t rank);

}  // namespace torch_pjrt::lowering
