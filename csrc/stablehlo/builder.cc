#include "stablehlo/builder.h"

#include <utility>

#include "stablehlo/builder_impl.h"

namespace torch_pjrt::stablehlo {
namespace detail {

void fail(std::string_view op, const std::string& message) {
  std::string text(op);
  text += ": ";
  text += message;
  throw BuildError(text);
}

std::string list_text(const std::vector<int64_t>& values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out += ", ";
    out += std::to_string(values[i]);
  }
  out += ']';
  return out;
}

std::string i64_array(const std::vector<int64_t>& values) {
  std::string out = "array<i64";
  for (size_t i = 0; i < values.size(); ++i) {
    out += i ? ", " : ": ";
    out += std::to_string(values[i]);
  }
  out += '>';
  return out;
}

void check_dimensions(std::string_view op, std::string_view what, const std::vector<int64_t>& dims,
                      int64_t rank) {
  std::vector<bool> seen(static_cast<size_t>(rank), false);
  for (int64_t d : dims) {
    if (d < 0 || d >= rank) {
      fail(op, std::string(what) + " " + list_text(dims) + " has dimension " + std::to_string(d) +
                   " out of range for rank " + std::to_string(rank));
    }
    if (seen[d]) {
      fail(op,
           std::string(what) + " " + list_text(dims) + " repeats dimension " + std::to_string(d));
    }
    seen[d] = true;
  }
}

std::vector<TensorType> yield_types(const Builder& b, const Block& region) {
  std::vector<TensorType> types;
  for (Value v : region.operations.back().operands) types.push_back(b.type(v));
  return types;
}

TensorType scalar(ElementType type) { return TensorType{type, {}}; }

void check_region_yields(const Builder& b, std::string_view op, const Block& region,
                         const std::vector<TensorType>& expected) {
  std::vector<TensorType> got = yield_types(b, region);
  if (got != expected) {
    std::string want, have;
    for (const TensorType& t : expected) want += (want.empty() ? "" : ", ") + t.to_string();
    for (const TensorType& t : got) have += (have.empty() ? "" : ", ") + t.to_string();
    fail(op, "body must return (" + want + "), returned (" + have + ")");
  }
}

void append_precision(std::string& attr, Precision precision) {
  if (precision == Precision::kDefault) return;
  std::string p = "#stablehlo<precision ";
  p += precision == Precision::kHigh ? "HIGH" : "HIGHEST";
  p += '>';
  attr += ", precision_config = [" + p + ", " + p + "]";
}

std::string padding_attribute(const std::vector<std::pair<int64_t, int64_t>>& padding) {
  std::string attr = "dense<[";
  for (size_t i = 0; i < padding.size(); ++i) {
    if (i) attr += ", ";
    attr += '[' + std::to_string(padding[i].first) + ", " + std::to_string(padding[i].second) + ']';
  }
  attr += "]> : tensor<" + std::to_string(padding.size()) + "x2xi64>";
  return attr;
}

}  // namespace detail

Builder::Impl::Impl() {
  // Most programs are one eager op: a handful of values. Reserving up front
  // saves the reallocations that otherwise dominate building them.
  fn.body.operations.reserve(16);
  scope_of.reserve(32);
  blocks.push_back(&fn.body);
  scopes.push_back(0);
}

Value Builder::Impl::new_value(TensorType type) {
  Value v{static_cast<int32_t>(types.size())};
  types.push_back(std::move(type));
  scope_of.push_back(scopes.back());
  return v;
}

const TensorType& Builder::Impl::type(Value v) const {
  if (finished) throw BuildError("type: the builder was finished; ask the Function instead");
  if (v.id < 0 || static_cast<size_t>(v.id) >= types.size()) {
    throw BuildError("invalid value %" + std::to_string(v.id) + " (not built by this builder)");
  }
  return types[v.id];
}

void Builder::Impl::check_open(std::string_view op) const {
  if (finished) detail::fail(op, "the builder was already finished");
}

void Builder::Impl::check_operand(std::string_view op, Value v) const {
  check_open(op);
  if (v.id < 0 || static_cast<size_t>(v.id) >= types.size()) {
    detail::fail(op, "operand %" + std::to_string(v.id) + " is not a value of this function");
  }
  if (scope_of[v.id] != scopes.back()) {
    detail::fail(op, "operand %" + std::to_string(v.id) + " (" + types[v.id].to_string() +
                         ") is defined outside the region it is used in");
  }
}

Block Builder::Impl::build_region(Builder& b, std::string_view op,
                                  const std::vector<TensorType>& arg_types,
                                  const RegionBody& body) {
  Block block;
  scopes.push_back(next_scope++);
  blocks.push_back(&block);
  // Restores the insertion point even when the body throws, so a caller that
  // catches a BuildError can still use the builder outside the region.
  struct Pop {
    Impl* impl;
    ~Pop() {
      impl->blocks.pop_back();
      impl->scopes.pop_back();
    }
  } pop{this};
  block.arguments.reserve(arg_types.size());
  for (const TensorType& t : arg_types) block.arguments.push_back(new_value(t));
  std::vector<Value> yields = body(b, block.arguments);
  for (Value v : yields) check_operand(std::string(op) + " region", v);
  Operation ret;
  ret.name = "stablehlo.return";
  ret.operands = std::move(yields);
  block.operations.push_back(std::move(ret));
  return block;
}

Operation& Builder::Impl::push(std::string_view name, std::vector<Value> operands,
                               std::string attributes, std::vector<Block> regions) {
  check_open(name);
  for (Value v : operands) check_operand(name, v);
  Operation& op = blocks.back()->operations.emplace_back();
  op.name = name;
  op.operands = std::move(operands);
  op.attributes = std::move(attributes);
  op.regions = std::move(regions);
  return op;
}

std::vector<Value> Builder::Impl::append(std::string_view name, std::vector<Value> operands,
                                         const std::vector<TensorType>& result_types,
                                         std::string attributes, std::vector<Block> regions) {
  Operation& op = push(name, std::move(operands), std::move(attributes), std::move(regions));
  op.results.reserve(result_types.size());
  for (const TensorType& t : result_types) op.results.push_back(new_value(t));
  return op.results;
}

Value Builder::Impl::append1(std::string_view name, std::vector<Value> operands,
                             TensorType result_type, std::string attributes) {
  Operation& op = push(name, std::move(operands), std::move(attributes), {});
  Value v = new_value(std::move(result_type));
  op.results.push_back(v);
  return v;
}

Builder::Builder() : impl_(std::make_unique<Impl>()) {}
Builder::~Builder() = default;

Value Builder::parameter(const TensorType& type) {
  impl_->check_open("parameter");
  if (impl_->blocks.size() != 1) {
    throw BuildError("parameter: cannot add a function parameter while building a region");
  }
  for (int64_t d : type.dims) {
    if (d < 0) throw BuildError("parameter: negative dimension in " + type.to_string());
  }
  Value v = impl_->new_value(type);
  impl_->fn.body.arguments.push_back(v);
  return v;
}

const TensorType& Builder::type(Value v) const { return impl_->type(v); }

std::vector<Value> Builder::emit(
    std::string_view op_name, const std::vector<Value>& operands,
    const std::vector<TensorType>& result_types, std::string attributes,
    const std::vector<std::pair<std::vector<TensorType>, RegionBody>>& regions) {
  impl_->check_open(op_name);
  for (Value v : operands) impl_->check_operand(op_name, v);
  std::vector<Block> blocks;
  blocks.reserve(regions.size());
  for (const auto& [arg_types, body] : regions) {
    blocks.push_back(impl_->build_region(*this, op_name, arg_types, body));
  }
  return impl_->append(op_name, operands, result_types, std::move(attributes), std::move(blocks));
}

Builder::Checkpoint Builder::checkpoint() const {
  return Checkpoint{impl_->fn.body.operations.size(), impl_->fn.body.arguments.size(),
                    impl_->types.size()};
}

void Builder::rollback(const Checkpoint& checkpoint) {
  impl_->check_open("rollback");
  if (impl_->blocks.size() != 1) throw BuildError("rollback: called while building a region");
  if (checkpoint.values > impl_->types.size()) throw BuildError("rollback: checkpoint is ahead");
  impl_->fn.body.operations.resize(checkpoint.operations);
  impl_->fn.body.arguments.resize(checkpoint.parameters);
  impl_->types.resize(checkpoint.values);
  impl_->scope_of.resize(checkpoint.values);
}

size_t Builder::parameter_count() const { return impl_->fn.body.arguments.size(); }

size_t Builder::operation_count() const { return impl_->fn.body.operations.size(); }

const Operation& Builder::operation(size_t index) const {
  return impl_->fn.body.operations.at(index);
}

void Builder::append_copies(const Operation* begin, const Operation* end,
                            const std::vector<TensorType>& types, std::vector<Value>& values) {
  impl_->check_open("append_copies");
  if (impl_->blocks.size() != 1) throw BuildError("append_copies: called while building a region");
  std::vector<Operation>& body = impl_->fn.body.operations;
  body.reserve(body.size() + static_cast<size_t>(end - begin));
  Impl& impl = *impl_;
  auto use = [&](Value local) {
    if (local.id < 0 || static_cast<size_t>(local.id) >= values.size() ||
        !values[local.id].valid()) {
      detail::fail("append_copies",
                   "copied operand %" + std::to_string(local.id) + " has no value");
    }
    return values[local.id];
  };
  // Fresh values of the recorded types, in fresh scopes per region as
  // build_region makes them.
  auto define = [&](Value local) {
    return values.at(local.id) = impl.new_value(types.at(local.id));
  };
  auto region = [&](bool entering) {
    if (entering) {
      impl.scopes.push_back(impl.next_scope++);
    } else {
      impl.scopes.pop_back();
    }
  };
  for (const Operation* op = begin; op != end; ++op)
    body.push_back(renumbered(*op, use, define, region));
}

Function Builder::finish(const std::vector<Value>& results) {
  impl_->check_open("finish");
  if (impl_->blocks.size() != 1) throw BuildError("finish: called while building a region");
  for (Value v : results) impl_->check_operand("func.return", v);
  impl_->finished = true;
  Function fn = std::move(impl_->fn);
  fn.value_types.reserve(impl_->types.size());
  for (TensorType& t : impl_->types) fn.value_types.push_back(std::move(t));
  impl_->types.clear();
  fn.results = results;
  return fn;
}

}  // namespace torch_pjrt::stablehlo
