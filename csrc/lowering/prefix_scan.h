#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "lowering/op_call.h"

namespace torch_pjrt::lowering {

// Combines the running results of an earlier segment with those of a later one,
// elementwise over whole tensors (one Value per scanned component).
using ScanCombine = std::function<std::vector<Value>(Builder& b, const std::vector<Value>& earlier,
                                                     const std::vector<Value>& later)>;

// Inclusive scan along `dim` of same-shaped tensors, in ceil(log2(n)) doubling
// steps (each position combines with the one 1, 2, 4, ... before it), so a
// combine that is associative gives the sequential result. Costs n log n,
// where a length-n reduce_window would cost n^2.
std::vector<Value> prefix_scan(Builder& b, std::vector<Value> values, int64_t dim,
                               const ScanCombine& combine);

// Bools compare as bytes in orderings; other types as they are.
Value orderable(Builder& b, Value x);

// x < y with NaN ordered above every number (PyTorch's sort order).
Value nan_last_less(Builder& b, Value x, Value y);

}  // namespace torch_pjrt::lowering
