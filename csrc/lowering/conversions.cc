// Ops that write existing values into a tensor's dtype and shape: fill, zero,
// masked_fill, copy, clone, _to_copy and the copying identity ops.

#include "lowering/conversions.h"

#include <string>
#include <utility>
#include <vector>

#include "lowering/broadcast.h"
#include "lowering/dtype_names.h"

namespace torch_pjrt::lowering {
namespace {

using stablehlo::BinaryOp;
using stablehlo::ComparisonDirection;
using stablehlo::is_complex;
using stablehlo::UnaryOp;

std::string shape_string(const std::vector<int64_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i > 0) s += ", ";
    s += std::to_string(dims[i]);
  }
  return s + "]";
}

// Converts as PyTorch's copy does: complex into a real type keeps the real
// part (PyTorch warns), complex into bool is "either part nonzero".
// Floats into integers narrower than 32 bits go through s32 and wrap, as
// PyTorch's CPU casts do (-1.0 -> 255 in uint8), where XLA would saturate.
Value convert_like_copy(Builder& b, Value x, ElementType to) {
  ElementType from = b.element_type(x);
  if (stablehlo::is_floating(from) && stablehlo::is_integral(to) && stablehlo::byte_width(to) < 4) {
    return b.convert(b.convert(x, ElementType::kS32), to);
  }
  if (!is_complex(from) || is_complex(to)) return b.convert(x, to);
  if (to == ElementType::kPred) {
    Value zero = b.zeros(b.type(x));
    return b.compare(ComparisonDirection::kNE, x, zero);
  }
  return b.convert(b.unary(UnaryOp::kReal, x), to);
}

// `value` in self's dtype and shape.
Value fill_like(Builder& b, Value self, Value value) {
  return broadcast_to(b, convert_like_copy(b, value, b.element_type(self)), b.dims(self));
}

std::vector<Value> fill_rule(Builder& b, const OpCall& call) {
  Value self = call.tensor(0).value;
  Value value = call.tensor(1).value;
  if (b.rank(value) != 0) {
    throw InvalidArgument("fill_ only supports 0-dimension value tensor but got tensor with " +
                          std::to_string(b.rank(value)) + " dimensions.");
  }
  return {fill_like(b, self, value)};
}

std::vector<Value> zero_rule(Builder& b, const OpCall& call) {
  return {b.zeros(b.type(call.tensor(0).value))};
}

std::vector<Value> masked_fill_rule(Builder& b, const OpCall& call) {
  Value self = call.tensor(0).value;
  Value mask = call.tensor(1).value;
  Value value = call.tensor(2).value;
  if (b.element_type(mask) != ElementType::kPred) {
    throw InvalidArgument("masked_fill_ only supports boolean masks, but got mask with dtype " +
                          std::string(type_meta_name(b.element_type(mask))));
  }
  if (b.rank(value) != 0) {
    throw InvalidArgument(
        "masked_fill_ only supports a 0-dimensional value tensor, but got tensor with " +
        std::to_string(b.rank(value)) + " dimension(s).");
  }
  std::vector<int64_t> shape = broadcast_shapes(b.dims(self), b.dims(mask));
  self = broadcast_to(b, self, shape);
  return {b.select(broadcast_to(b, mask, shape), fill_like(b, self, value), self)};
}

// copy(self, src): src in self's dtype, broadcast to self's shape (the
// functional form of a device-to-device copy_).
std::vector<Value> copy_rule(Builder& b, const OpCall& call) {
  Value self = call.tensor(0).value;
  Value src = call.tensor(1).value;
  std::vector<int64_t> shape = broadcast_shapes(b.dims(self), b.dims(src));
  if (shape != b.dims(self)) {
    throw InvalidArgument("output with shape " + shape_string(b.dims(self)) +
                          " doesn't match the broadcast shape " + shape_string(shape));
  }
  return {fill_like(b, self, src)};
}

// clone and the *_copy identity ops: values only (layout is the caller's).
std::vector<Value> identity_rule(Builder& b, const OpCall& call) { return {call.tensor(0).value}; }

// _to_copy(self, dtype?, layout?, device?, pin_memory?, non_blocking,
// memory_format?): only the dtype changes values; the rest is the caller's.
std::vector<Value> to_copy_rule(Builder& b, const OpCall& call) {
  Value self = call.tensor(0).value;
  std::optional<ElementType> dtype = call.size() > 1 ? call.optional_dtype(1) : std::nullopt;
  return {dtype ? convert_like_copy(b, self, *dtype) : self};
}

void add_rule(RuleTable& table, std::string name, Rule rule) {
  table.add(std::move(name), RuleInfo{rule, {}});
}

}  // namespace

void add_conversion_rules(RuleTable& table) {
  constexpr auto kSelfDtype = RuleInfo::ScalarRange::kSelfDtype;
  table.add("fill", with_scalar_range(&fill_rule, kSelfDtype));
  add_rule(table, "zero", &zero_rule);
  table.add("masked_fill", with_scalar_range(&masked_fill_rule, kSelfDtype));
  add_rule(table, "copy", &copy_rule);
  add_rule(table, "clone", &identity_rule);
  add_rule(table, "lift_fresh_copy", &identity_rule);
  add_rule(table, "detach_copy", &identity_rule);
  add_rule(table, "alias_copy", &identity_rule);
  add_rule(table, "_to_copy", &to_copy_rule);
}

}  // namespace torch_pjrt::lowering
