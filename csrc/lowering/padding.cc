// reflection_pad{1,2,3}d and replication_pad{1,2,3}d with their backward.
// F.pad's 'reflect' and 'replicate' modes reach these; 'circular' is
// PyTorch's composite of slices and cat.
//
// Each padded dim reads its input through a table of source indices known
// when lowering (one gather per dim); the backward scatter-adds the gradient
// through the same tables, last dim first.

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "lowering/along_dim.h"
#include "lowering/promotion.h"
#include "lowering/dtype_names.h"
#include "lowering/rule_table.h"

namespace torch_pjrt::lowering {
namespace {

std::string list_text(const std::vector<int64_t>& v) {
  std::string text = "(";
  for (size_t i = 0; i < v.size(); ++i) text += (i ? ", " : "") + std::to_string(v[i]);
  return text + ")";
}

enum class Mode { kReflect, kReplicate };

// The source index of every output position along a dim of `size` padded by
// `before` and `after`.
std::vector<int64_t> source_index(Mode mode, int64_t size, int64_t before, int64_t after) {
  std::vector<int64_t> index;
  for (int64_t o = 0; o < size + before + after; ++o) {
    int64_t i = o - before;
    if (mode == Mode::kReflect) {
      if (i < 0) i = -i;
      if (i >= size) i = 2 * (size - 1) - i;
    } else {
      i = std::clamp<int64_t>(i, 0, size - 1);
    }
    index.push_back(i);
  }
  return index;
}

// One padded dim: which tensor dim it is, and its padding.
struct PaddedDim {
  int64_t dim, before, after;
};

// `padding` lists (before, after) pairs from the last dim backwards, as F.pad.
std::vector<PaddedDim> padded_dims(Builder& b, Value input, const std::vector<int64_t>& padding,
                                   size_t spatial, Mode mode, const std::string& op) {
  const int64_t rank = b.rank(input);
  const std::vector<int64_t>& dims = b.dims(input);
  if (padding.size() != 2 * spatial) {
    throw InvalidArgument(op + ": padding size is expected to be " + std::to_string(2 * spatial) +
                          ", but got: " + std::to_string(padding.size()));
  }
  if (rank != static_cast<int64_t>(spatial) + 1 && rank != static_cast<int64_t>(spatial) + 2) {
    throw InvalidArgument(op + ": Expected " + std::to_string(spatial + 1) + "D or " +
                          std::to_string(spatial + 2) + "D (batch mode) tensor with possibly 0 " +
                          "batch size and other non-zero dimensions for input, but got: " +
                          b.type(input).to_string());
  }
  for (int64_t d = rank - static_cast<int64_t>(spatial) - 1; d < rank; ++d) {
    if (dims[d] == 0) {
      throw InvalidArgument(op + ": Expected " + std::to_string(spatial + 1) + "D or " +
                            std::to_string(spatial + 2) + "D (batch mode) tensor with possibly 0 " +
                            "batch size and other non-zero dimensions for input, but got: " +
                            b.type(input).to_string());
    }
  }
  std::vector<PaddedDim> result;
  for (size_t i = 0; i < spatial; ++i) {
    const PaddedDim p{rank - 1 - static_cast<int64_t>(i), padding[2 * i], padding[2 * i + 1]};
    const int64_t size = dims[p.dim];
    if (mode == Mode::kReflect && (p.before >= size || p.after >= size)) {
      throw InvalidArgument(op + ": Argument #4: Padding size should be less than the " +
                            "corresponding input dimension, but got: padding " +
                            list_text({p.before, p.after}) + " at dimension " +
                            std::to_string(p.dim) + " of input " + b.type(input).to_string());
    }
    if (size + p.before + p.after < 1) {
      throw InvalidArgument(op + ": input (" + b.type(input).to_string() + ") is too small. " +
                            "Calculated output size " + std::to_string(size + p.before + p.after) +
                            " at dim " + std::to_string(p.dim) + " is less than 1");
    }
    result.push_back(p);
  }
  return result;
}

std::vector<Value> pad_forward(Builder& b, const OpCall& call, size_t spatial, Mode mode,
                               const std::string& op) {
  Value x = call.tensor(0).value;
  if (b.element_type(x) == ElementType::kPred) throw_no_kernel(op, ElementType::kPred);
  for (const PaddedDim& p : padded_dims(b, x, call.ints(1), spatial, mode, op)) {
    x = take_along(b, x, p.dim, source_index(mode, b.dims(x)[p.dim], p.before, p.after));
  }
  return {x};
}

// *_backward(grad_output, self, padding)
std::vector<Value> pad_backward(Builder& b, const OpCall& call, size_t spatial, Mode mode,
                                const std::string& op) {
  const Value input = call.tensor(1).value;
  const ElementType type = b.element_type(input);
  if (!stablehlo::is_floating(type) && !stablehlo::is_complex(type)) {
    throw InvalidArgument(op + ": expected a floating-point gradient, got " +
                          b.type(input).to_string());
  }
  const std::vector<PaddedDim> dims = padded_dims(b, input, call.ints(2), spatial, mode, op);
  Value grad = b.convert(call.tensor(0).value, opmath_type(type));
  std::vector<int64_t> expected = b.dims(input);
  for (const PaddedDim& p : dims) expected[p.dim] += p.before + p.after;
  if (b.dims(grad) != expected) {
    throw InvalidArgument(op + ": expected grad_output of size " + list_text(expected) + ", got " +
                          b.type(grad).to_string());
  }
  for (auto it = dims.rbegin(); it != dims.rend(); ++it) {
    const int64_t size = b.dims(input)[it->dim];
    grad =
        scatter_add_along(b, grad, it->dim, source_index(mode, size, it->before, it->after), size);
  }
  return {b.convert(grad, type)};
}

template <size_t Spatial, Mode M>
std::vector<Value> forward_rule(Builder& b, const OpCall& call) {
  const std::string op = std::string(M == Mode::kReflect ? "reflection_pad" : "replication_pad") +
                         std::to_string(Spatial) + "d";
  return pad_forward(b, call, Spatial, M, op);
}

template <size_t Spatial, Mode M>
std::vector<Value> backward_rule(Builder& b, const OpCall& call) {
  const std::string op = std::string(M == Mode::kReflect ? "reflection_pad" : "replication_pad") +
                         std::to_string(Spatial) + "d_backward";
  return pad_backward(b, call, Spatial, M, op);
}

}  // namespace

void add_padding_rules(RuleTable& table) {
  table.add("reflection_pad1d", RuleInfo{&forward_rule<1, Mode::kReflect>, {}});
  table.add("reflection_pad2d", RuleInfo{&forward_rule<2, Mode::kReflect>, {}});
  table.add("reflection_pad3d", RuleInfo{&forward_rule<3, Mode::kReflect>, {}});
  table.add("replication_pad1d", RuleInfo{&forward_rule<1, Mode::kReplicate>, {}});
  table.add("replication_pad2d", RuleInfo{&forward_rule<2, Mode::kReplicate>, {}});
  table.add("replication_pad3d", RuleInfo{&forward_rule<3, Mode::kReplicate>, {}});
  table.add("reflection_pad1d_backward", RuleInfo{&backward_rule<1, Mode::kReflect>, {}});
  table.add("reflection_pad2d_backward", RuleInfo{&backward_rule<2, Mode::kReflect>, {}});
  table.add("reflection_pad3d_backward", RuleInfo{&backward_rule<3, Mode::kReflect>, {}});
  table.add("replication_pad1d_backward", RuleInfo{&backward_rule<1, Mode::kReplicate>, {}});
  table.add("replication_pad2d_backward", RuleInfo{&backward_rule<2, Mode::kReplicate>, {}});
  table.add("replication_pad3d_backward", RuleInfo{&backward_rule<3, Mode::kReplicate>, {}});
}

}  // namespace torch_pjrt::lowering
