#pragma once

// Shared by the builder's source files (one per op family); not part of the
// API that lowering rules see.

#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "stablehlo/builder.h"

namespace torch_pjrt::stablehlo {

struct Builder::Impl {
  Function fn;  // value_types stays empty until finish(); see `types`
  // Value types live in a deque while building so that the references
  // type()/dims() hand out stay valid as later ops add values (rules keep
  // `const TensorType&` across calls that emit ops).
  std::deque<TensorType> types;
  // Region scope each value was defined in (parallel to `types`): a
  // value may only be used in the scope that defined it, because XLA exports
  // every region as a separate computation that cannot capture.
  std::vector<int32_t> scope_of;
  // Insertion points: the function body at the bottom, open regions above. The
  // blocks of open regions live on the stack frames of build_region, so these
  // pointers stay valid while ops are appended to outer blocks.
  std::vector<Block*> blocks;
  std::vector<int32_t> scopes;
  int32_t next_scope = 1;
  bool finished = false;

  Impl();
  Value new_value(TensorType type);
  const TensorType& type(Value v) const;
  // Throws when `v` is not a value of this function or not visible here.
  void check_operand(std::string_view op, Value v) const;
  void check_open(std::string_view op) const;
  // Builds one region whose block has arguments of `arg_types`; its last op is
  // the stablehlo.return of what `body` yields.
  Block build_region(Builder& b, std::string_view op, const std::vector<TensorType>& arg_types,
                     const RegionBody& body);
  // Appends an op without results to the current block; the reference is
  // valid until the next op is appended.
  Operation& push(std::string_view name, std::vector<Value> operands, std::string attributes,
                  std::vector<Block> regions);
  std::vector<Value> append(std::string_view name, std::vector<Value> operands,
                            const std::vector<TensorType>& result_types, std::string attributes,
                            std::vector<Block> regions);
  Value append1(std::string_view name, std::vector<Value> operands, TensorType result_type,
                std::string attributes = {});
  // A stablehlo.constant of explicit values (int64_t or double).
  template <class T>
  Value dense(const std::vector<T>& values, const TensorType& type);
};

namespace detail {

[[noreturn]] void fail(std::string_view op, const std::string& message);
// "[1, 2, 3]"
std::string list_text(const std::vector<int64_t>& values);
// "array<i64: 1, 2, 3>" (or "array<i64>" when empty)
std::string i64_array(const std::vector<int64_t>& values);
// Checks that `dims` is a list of distinct dimensions of a rank-`rank` tensor.
void check_dimensions(std::string_view op, std::string_view what, const std::vector<int64_t>& dims,
                      int64_t rank);
// Types yielded by a region's terminator.
std::vector<TensorType> yield_types(const Builder& b, const Block& region);
TensorType scalar(ElementType type);
// Throws unless the region yields exactly `expected`.
void check_region_yields(const Builder& b, std::string_view op, const Block& region,
                         const std::vector<TensorType>& expected);
// ", precision_config = [...]" for both operands; nothing for kDefault.
void append_precision(std::string& attr, Precision precision);
// "dense<[[lo, hi], ...]> : tensor<Nx2xi64>"
std::string padding_attribute(const std::vector<std::pair<int64_t, int64_t>>& padding);

}  // namespace detail
}  // namespace torch_pjrt::stablehlo
