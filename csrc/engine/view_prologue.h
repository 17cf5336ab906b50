#pragma once

// The view prologue (DESIGN.md, "Storage and views"): a storage owns one value
// of its natural type; a tensor reads and writes it through a ViewLayout. These
// functions emit the StableHLO that turns the storage value into the view's
// logical value and back, picking the cheapest chain for the layout:
//   - covering views: one reshape (or, for writes, none);
//   - layouts that are a box in some row-major reshaping of the storage, found
//     along the storage's own dims first (slices, selects, narrow, steps,
//     permutations, expand, size-1 dims): reshape, slice, transpose,
//     broadcast_in_dim; writes are one dynamic_update_slice;
//   - layouts whose innermost stride does not divide the next larger one
//     (diagonals, x[:, 1::3] of 16 columns): one strided slice; writes pad +
//     select inside the bounding block;
//   - layouts that run past the storage's end in such a reshaping: the same on
//     a padded segment;
//   - everything else (overlapping windows, interleaved strides): gather or
//     scatter with indices computed from iota (never a constant table), the
//     contiguous innermost dim taken as a window.
// A view whose element type differs from the storage's reinterprets the bytes:
// bitcast_convert, with pred handled as bytes (convert to/from u8) and complex
// split into (real, imag) pairs, since StableHLO cannot bitcast those.
//
// Every function throws stablehlo::BuildError when the view does not fit in the
// storage (in bytes), has a negative stride or size, or `update` does not have
// the view's logical type.

#include "engine/view_layout.h"
#include "stablehlo/builder.h"

namespace torch_pjrt::engine {

// The view's logical value: type {view.element, view.sizes}. Emits nothing
// beyond a reshape for a covering view, and reads nothing for an empty view
// (a zero constant).
stablehlo::Value read_view(stablehlo::Builder& b, stablehlo::Value storage, const ViewLayout& view);

// The whole storage after writing `update` (type {view.element, view.sizes})
// through the view. The result ALWAYS has exactly the storage value's type, so
// the storage can be rebound to it whatever the view's element type. Callers
// reject views with internal overlap first (as PyTorch does); if one gets here
// anyway, which of the aliased updates wins is unspecified.
stablehlo::Value write_view(stablehlo::Builder& b, stablehlo::Value storage, const ViewLayout& view,
                            stablehlo::Value update);

// True when the view is the whole storage in natural (contiguous row-major)
// order with the same element type: reads are a reshape, and writes can simply
// rebind the storage to the update reshaped to the storage's dims.
bool covers_storage(const stablehlo::TensorType& storage, const ViewLayout& view);

// True when two different indices of the view address the same element
// (a stride 0 with size > 1, or overlapping strides): PyTorch forbids in-place
// writes to such views. Exact for views of up to 2^20 elements; beyond that, a
// layout that is neither the usual nested strides nor has a zero stride is
// conservatively reported as overlapping.
bool has_internal_overlap(const ViewLayout& view);

}  // namespace torch_pjrt::engine
