#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "stablehlo/element_type.h"

namespace torch_pjrt::stablehlo {

// An SSA value of the function being built; its type lives in the function's
// value table. Ids are unique across the whole function, regions included.
struct Value {
  int32_t id = -1;
  bool valid() const { return id >= 0; }
  bool operator==(const Value&) const = default;
};

struct Block;

struct Operation {
  std::string name;  // "stablehlo.add", "chlo.erf", "stablehlo.return", ...
  std::vector<Value> operands;
  std::vector<Value> results;
  std::string attributes;  // dictionary body without braces; may be empty
  std::vector<Block> regions;
};

struct Block {
  std::vector<Value> arguments;
  std::vector<Operation> operations;  // the last one is the terminator in regions
};

// A copy of `op` with its values replaced: `use` gives each operand's new
// value; `define` each value it defines, in definition order (per region:
// its arguments, then its ops' values; then the op's results); `region` is
// called with true before a region and false after it.
Operation renumbered(const Operation& op, const std::function<Value(Value)>& use,
                     const std::function<Value(Value)>& define,
                     const std::function<void(bool entering)>& region = nullptr);

// A finished function `main`: its body block's arguments are the parameters.
struct Function {
  Block body;
  std::vector<Value> results;
  std::vector<TensorType> value_types;  // indexed by Value::id
  // Per parameter: the result it may share its buffer with when the caller
  // donates it (tf.aliasing_output), or -1. Empty means none.
  std::vector<int32_t> parameter_aliases;

  const TensorType& type(Value v) const { return value_types.at(v.id); }
  std::vector<TensorType> parameter_types() const;
  std::vector<TensorType> result_types() const;

  // The whole module as MLIR text in generic op form, ready for PJRT.
  std::string to_mlir() const;
  // Stable across processes and platforms: equal for structurally equal
  // functions (same ops, attributes, types and value wiring).
  uint64_t structural_hash() const;
  // The structural hash of the parameters and operations alone, and each
  // result's value in the same canonical numbering: functions with equal
  // bodies compute the same values, so one's results can stand in for a
  // subset of the other's.
  struct BodyKey {
    uint64_t hash = 0;
    std::vector<int32_t> results;
  };
  BodyKey body_key() const;
};

}  // namespace torch_pjrt::stablehlo
