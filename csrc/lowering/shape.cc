// Shape family: ops that compute a new tensor by rearranging or padding the
// elements of their inputs (cat, stack, flip, roll, repeat, constant_pad_nd,
// tril, triu, channel_shuffle). View ops (view, transpose, slice, expand, ...)
// are not here: they are metadata-only in the aten layer.

#include <algorithm>
#include <string>
#include <vector>

#include "lowering/broadcast.h"
#include "lowering/dtype_names.h"
#include "lowering/promotion.h"
#include "lowering/rule_table.h"

namespace torch_pjrt::lowering {
namespace {

using stablehlo::ComparisonDirection;

// Concatenates same-rank values (already of one dtype) along `dim`. Inputs
// with nothing along `dim` add nothing, and stablehlo.concatenate wants at
// least one input, so they are dropped first.
Value concatenate_nonempty(Builder& b, const std::vector<Value>& inputs, int64_t dim,
                           const std::vector<int64_t>& result_dims, ElementType type) {
  std::vector<Value> pieces;
  for (Value v : inputs) {
    if (b.dims(v)[dim] != 0) pieces.push_back(v);
  }
  if (pieces.empty()) return b.zeros({type, result_dims});
  if (pieces.size() == 1) return pieces[0];
  return b.concatenate(pieces, dim);
}

// --- cat / stack -------------------------------------------------------------

std::vector<Value> cat_rule(Builder& b, const OpCall& call) {
  const std::vector<TensorArg>& tensors = call.tensors(0);
  if (tensors.empty()) throw InvalidArgument("torch.cat(): expected a non-empty list of Tensors");
  for (size_t i = 0; i < tensors.size(); ++i) {
    if (b.rank(tensors[i].value) == 0) {
      throw InvalidArgument("zero-dimensional tensor (at position " + std::to_string(i) +
                            ") cannot be concatenated");
    }
  }
  // Every input takes part in type promotion, even the ones skipped below.
  const ElementType type = result_type(b, tensors, call.default_float);

  // PyTorch's legacy rule: a 1-D tensor of size 0 is skipped whatever its
  // rank, so torch.cat([torch.tensor([]), x]) works for any x.
  auto skipped = [&](const TensorArg& t) { return b.dims(t.value) == std::vector<int64_t>{0}; };
  const auto reference = std::find_if_not(tensors.begin(), tensors.end(), skipped);
  if (reference == tensors.end()) return {b.zeros({type, {0}})};

  const std::vector<int64_t>& reference_dims = b.dims(reference->value);
  const int64_t rank = static_cast<int64_t>(reference_dims.size());
  const int64_t dim = wrap_dim(call.int_at(1), rank);
  std::vector<int64_t> result_dims = reference_dims;
  result_dims[dim] = 0;
  std::vector<Value> inputs;
  for (size_t i = 0; i < tensors.size(); ++i) {
    if (skipped(tensors[i])) continue;
    const std::vector<int64_t>& dims = b.dims(tensors[i].value);
    if (static_cast<int64_t>(dims.size()) != rank) {
      throw InvalidArgument("Tensors must have same number of dimensions: got " +
                            std::to_string(rank) + " and " + std::to_string(dims.size()));
    }
    for (int64_t d = 0; d < rank; ++d) {
      if (d != dim && dims[d] != reference_dims[d]) {
        throw InvalidArgument(
            "Sizes of tensors must match except in dimension " + std::to_string(dim) +
            ". Expected size " + std::to_string(reference_dims[d]) + " but got size " +
            std::to_string(dims[d]) + " for tensor number " + std::to_string(i) + " in the list.");
      }
    }
    result_dims[dim] += dims[dim];
    inputs.push_back(b.convert(tensors[i].value, type));
  }
  return {concatenate_nonempty(b, inputs, dim, result_dims, type)};
}

std::vector<Value> stack_rule(Builder& b, const OpCall& call) {
  const std::vector<TensorArg>& tensors = call.tensors(0);
  if (tensors.empty()) throw InvalidArgument("stack expects a non-empty TensorList");
  const std::vector<int64_t>& first_dims = b.dims(tensors[0].value);
  const int64_t dim = wrap_dim(call.int_at(1), static_cast<int64_t>(first_dims.size()) + 1);
  for (size_t i = 1; i < tensors.size(); ++i) {
    if (b.dims(tensors[i].value) != first_dims) {
      throw InvalidArgument("stack expects each tensor to be equal size, but got " +
                            shape_text(first_dims) + " at entry 0 and " +
                            shape_text(b.dims(tensors[i].value)) + " at entry " +
                            std::to_string(i));
    }
  }
  const ElementType type = result_type(b, tensors, call.default_float);
  std::vector<int64_t> piece_dims = first_dims;
  piece_dims.insert(piece_dims.begin() + dim, 1);
  std::vector<Value> pieces;
  for (const TensorArg& t : tensors)
    pieces.push_back(b.reshape(b.convert(t.value, type), piece_dims));
  std::vector<int64_t> result_dims = piece_dims;
  result_dims[dim] = static_cast<int64_t>(tensors.size());
  return {concatenate_nonempty(b, pieces, dim, result_dims, type)};
}

// --- flip / roll ---------------------------------------------------------------

std::vector<Value> flip_rule(Builder& b, const OpCall& call) {
  const Value self = call.tensor(0).value;
  const int64_t rank = b.rank(self);
  std::vector<int64_t> dims;
  for (int64_t d : call.ints(1)) {
    const int64_t wrapped = wrap_dim(d, rank);
    if (std::find(dims.begin(), dims.end(), wrapped) != dims.end()) {
      throw InvalidArgument("dim " + std::to_string(wrapped) +
                            " appears multiple times in the list of dims");
    }
    dims.push_back(wrapped);
  }
  // A 0-d tensor accepts dim 0 but has nothing to reverse.
  if (rank == 0 || dims.empty()) return {self};
  std::sort(dims.begin(), dims.end());
  return {b.reverse(self, dims)};
}

// x rolled by `shift` along `dim`: element i moves to (i + shift) mod size.
Value roll_along(Builder& b, Value x, int64_t shift, int64_t dim) {
  std::vector<int64_t> dims = b.dims(x);
  const int64_t size = dims[dim];
  if (size == 0) return x;
  const int64_t start = ((shift % size) + size) % size;
  if (start == 0) return x;
  // The last `start` elements come first.
  std::vector<int64_t> begin(dims.size(), 0), middle = dims;
  begin[dim] = size - start;
  middle[dim] = size - start;
  std::vector<int64_t> zeros(dims.size(), 0);
  const Value tail = b.slice(x, begin, dims);
  const Value head = b.slice(x, zeros, middle);
  return b.concatenate({tail, head}, dim);
}

std::vector<Value> roll_rule(Builder& b, const OpCall& call) {
  const Value self = call.tensor(0).value;
  const std::vector<int64_t>& shifts = call.ints(1);
  const std::vector<int64_t> dims =
      call.size() > 2 && !call.is_none(2) ? call.ints(2) : std::vector<int64_t>{};
  if (shifts.empty()) throw InvalidArgument("`shifts` required");
  if (dims.empty() && shifts.size() == 1) {
    // Without dims the tensor is rolled as if flattened.
    const std::vector<int64_t>& original = b.dims(self);
    const Value flat = b.reshape(self, {b.type(self).numel()});
    return {b.reshape(roll_along(b, flat, shifts[0], 0), original)};
  }
  if (shifts.size() != dims.size()) {
    throw InvalidArgument("shifts and dimensions must align. shifts: " +
                          std::to_string(shifts.size()) + ", dims:" + std::to_string(dims.size()));
  }
  const int64_t rank = b.rank(self);
  if (rank == 0) {
    throw IndexOutOfRange("Dimension specified as " + std::to_string(dims[0]) +
                          " but tensor has no dimensions");
  }
  Value result = self;
  for (size_t i = 0; i < dims.size(); ++i) {
    result = roll_along(b, result, shifts[i], wrap_dim(dims[i], rank));
  }
  return {result};
}

// --- repeat ------------------------------------------------------------------

std::vector<Value> repeat_rule(Builder& b, const OpCall& call) {
  const Value self = call.tensor(0).value;
  const std::vector<int64_t>& repeats = call.ints(1);
  const int64_t rank = b.rank(self);
  const int64_t out_rank = static_cast<int64_t>(repeats.size());
  if (out_rank < rank) {
    throw InvalidArgument(
        "Number of dimensions of repeat dims can not be smaller than number of dimensions of "
        "tensor");
  }
  // Leading dimensions that `self` lacks count as size 1.
  std::vector<int64_t> padded(out_rank - rank, 1);
  padded.insert(padded.end(), b.dims(self).begin(), b.dims(self).end());
  std::vector<int64_t> result_dims(out_rank);
  for (int64_t i = 0; i < out_rank; ++i) result_dims[i] = padded[i] * repeats[i];
  for (int64_t size : result_dims) {
    if (size < 0) {
      throw InvalidArgument("Trying to create tensor with negative dimension " +
                            std::to_string(size) + ": " + shape_text(result_dims));
    }
  }
  // Broadcast to [r0, s0, r1, s1, ...] and merge each (r, s) pair: the copies
  // of dimension i are laid out one after another, as tile/repeat do.
  std::vector<int64_t> interleaved, mapping;
  for (int64_t i = 0; i < out_rank; ++i) {
    interleaved.push_back(repeats[i]);
    interleaved.push_back(padded[i]);
  }
  for (int64_t i = 0; i < rank; ++i) mapping.push_back(2 * (out_rank - rank + i) + 1);
  const Value spread = b.broadcast_in_dim(self, interleaved, mapping);
  return {b.reshape(spread, result_dims)};
}

// --- constant_pad_nd ------------------------------------------------------------

std::vector<Value> constant_pad_nd_rule(Builder& b, const OpCall& call) {
  const Value self = call.tensor(0).value;
  const std::vector<int64_t>& pad = call.ints(1);
  const ElementType type = b.element_type(self);
  const int64_t rank = b.rank(self);
  if (pad.size() % 2 != 0) {
    throw InvalidArgument("Length of pad must be even but instead it equals " +
                          std::to_string(pad.size()));
  }
  if (static_cast<int64_t>(pad.size()) / 2 > rank) {
    throw InvalidArgument(
        "Length of pad should be no more than twice the number of dimensions of the input. Pad "
        "length is " +
        std::to_string(pad.size()) + " while the input has " + std::to_string(rank) +
        " dimensions.");
  }
  // pad lists (low, high) pairs starting from the last dimension; negative
  // amounts crop, which stablehlo.pad does as well.
  std::vector<int64_t> low(rank, 0), high(rank, 0);
  const std::vector<int64_t>& dims = b.dims(self);
  for (size_t i = 0; i < pad.size() / 2; ++i) {
    const int64_t d = rank - 1 - static_cast<int64_t>(i);
    low[d] = pad[2 * i];
    high[d] = pad[2 * i + 1];
    if (dims[d] + low[d] + high[d] < 0) {
      throw InvalidArgument("The input size " + std::to_string(dims[d]) +
                            ", plus negative padding " + std::to_string(low[d]) + " and " +
                            std::to_string(high[d]) +
                            " resulted in a negative output size, which is invalid. Check "
                            "dimension " +
                            std::to_string(d) + " of your input.");
    }
  }
  const Value fill = call.size() > 2 && !call.is_none(2) ? b.convert(call.tensor(2).value, type)
                                                         : b.constant(0.0, type);
  return {b.pad(self, fill, low, high)};
}

// --- tril / triu ---------------------------------------------------------------

// Keeps the elements on one side of the `diagonal`-th diagonal of the last two
// dimensions (col - row <= diagonal for tril, >= for triu); zeros the rest.
Value triangle(Builder& b, const OpCall& call, ComparisonDirection keep, const char* op) {
  const Value self = call.tensor(0).value;
  const int64_t rank = b.rank(self);
  if (rank < 2) {
    throw InvalidArgument(std::string(op) + ": input tensor must have at least 2 dimensions");
  }
  const int64_t diagonal = call.size() > 1 && !call.is_none(1) ? call.int_at(1) : 0;
  const std::vector<int64_t>& dims = b.dims(self);
  const TensorType matrix{ElementType::kS64, {dims[rank - 2], dims[rank - 1]}};
  const Value offset = b.sub(b.iota(matrix, 1), b.iota(matrix, 0));
  const Value mask = b.compare(keep, offset, b.splat(static_cast<double>(diagonal), matrix));
  const Value full_mask = b.broadcast_in_dim(mask, dims, {rank - 2, rank - 1});
  return b.select(full_mask, self, b.zeros(b.type(self)));
}

std::vector<Value> tril_rule(Builder& b, const OpCall& call) {
  return {triangle(b, call, ComparisonDirection::kLE, "tril")};
}

std::vector<Value> triu_rule(Builder& b, const OpCall& call) {
  return {triangle(b, call, ComparisonDirection::kGE, "triu")};
}

// --- channel_shuffle ------------------------------------------------------------

// channel_shuffle(self, groups): channels (dim 1) regrouped from
// [groups][C / groups] order to [C / groups][groups] order.
std::vector<Value> channel_shuffle_rule(Builder& b, const OpCall& call) {
  const Value self = call.tensor(0).value;
  const int64_t groups = call.int_at(1);
  const std::vector<int64_t>& dims = b.dims(self);
  if (dims.size() <= 2) {
    throw InvalidArgument("channel_shuffle expects input with > 2 dims, but got input with sizes " +
                          shape_text(dims));
  }
  if (groups <= 0) {
    throw InvalidArgument(
        "Number of groups to divide channels in must be positive. Value of groups:" +
        std::to_string(groups));
  }
  const int64_t channels = dims[1];
  if (channels % groups != 0) {
    throw InvalidArgument("Number of channels must be divisible by groups. Got " +
                          std::to_string(channels) + " channels and " + std::to_string(groups) +
                          " groups.");
  }
  std::vector<int64_t> split = dims;
  split[1] = channels / groups;
  split.insert(split.begin() + 1, groups);
  std::vector<int64_t> permutation(split.size());
  for (size_t i = 0; i < permutation.size(); ++i) permutation[i] = static_cast<int64_t>(i);
  std::swap(permutation[1], permutation[2]);
  return {b.reshape(b.transpose(b.reshape(self, split), permutation), dims)};
}

}  // namespace

void add_shape_rules(RuleTable& table) {
  table.add("cat", {&cat_rule, {}});
  // stack, repeat and constant_pad_nd have CompositeExplicitAutograd kernels
  // in PyTorch, which a backend kernel overrides: one op instead of a chain.
  table.add("stack", {&stack_rule, {}});
  table.add("flip", {&flip_rule, {}});
  table.add("roll", {&roll_rule, {}});
  table.add("repeat", {&repeat_rule, {}});
  table.add("constant_pad_nd", {&constant_pad_nd_rule, {}});
  table.add("tril", {&tril_rule, {}});
  table.add("triu", {&triu_rule, {}});
  table.add("channel_shuffle", {&channel_shuffle_rule, {}});
}

}  // namespace torch_pjrt::lowering
