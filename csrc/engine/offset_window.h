#pragma once

// Views whose offset can change while their shape and strides stay (x[i],
// x[a:b], a column x[:, j], a box of a matrix, every other element from j):
// their offset is a run-time input, so walking a tensor slice by slice or
// column by column compiles one program, not one per offset. The view is read
// from the window of the storage it spans (from its first element to its
// last), taken at the run-time offset; within the window its layout is fixed.

#include <cstdint>

#include "engine/view_layout.h"
#include "stablehlo/builder.h"

namespace torch_pjrt::engine {

// True for a non-empty view in the storage's element type, with no negative
// stride, whose window is shorter than the storage (so other offsets exist).
bool has_runtime_offset(const stablehlo::TensorType& storage, const ViewLayout& view);

// Whether the view's elements are consecutive in row-major order (x[i],
// x[a:b]): its window is the view itself, read with a reshape.
bool elements_are_consecutive(const ViewLayout& view);

// The view's value; `offset` is a 0-d s64 run-time value (elements).
stablehlo::Value read_window(stablehlo::Builder& b, stablehlo::Value storage,
                             stablehlo::Value offset, const ViewLayout& view);

// The whole storage after writing `update` (the view's logical value) at `offset`.
stablehlo::Value write_window(stablehlo::Builder& b, stablehlo::Value storage,
                              stablehlo::Value offset, const ViewLayout& view,
                              stablehlo::Value update);

}  // namespace torch_pjrt::engine
