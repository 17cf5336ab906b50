#pragma once

// Views that are one contiguous run of their storage (x[i], x[a:b] along the
// outermost dim, a flattened slice): their offset can be a run-time input, so
// walking a tensor slice by slice compiles one program, not one per offset.

#include "engine/view_layout.h"
#include "stablehlo/builder.h"

namespace torch_pjrt::engine {

// True for a non-empty, non-covering view in the storage's element type whose
// elements are consecutive in the storage.
bool is_contiguous_block(const stablehlo::TensorType& storage, const ViewLayout& view);

// The view's value; `offset` is a 0-d s64 run-time value (elements).
stablehlo::Value read_block(stablehlo::Builder& b, stablehlo::Value storage,
                            stablehlo::Value offset, const ViewLayout& view);

// The whole storage after writing `update` (the view's logical value) at `offset`.
stablehlo::Value write_block(stablehlo::Builder& b, stablehlo::Value storage,
                             stablehlo::Value offset, const ViewLayout& view,
                             stablehlo::Value update);

}  // namespace torch_pjrt::engine
