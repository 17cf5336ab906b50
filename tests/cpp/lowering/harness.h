#pragma once

// Lowers one call of a registered rule into a Function whose parameters are
// the call's tensor arguments, and compiles it on the XLA:CPU plugin.

#include <gtest/gtest.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "../stablehlo/executor.h"
#include "lowering/rule_table.h"

namespace torch_pjrt::lowering::testing {

// A Python number argument: a 0-d run-time value that promotes as a scalar.
struct Number {
  ElementType type;
};
// Tensor[] and Tensor?[] arguments.
struct Tensors {
  std::vector<TensorType> types;
};
struct OptionalTensors {
  std::vector<std::optional<TensorType>> types;
};
using ArgSpec = std::variant<TensorType, Number, Tensors, OptionalTensors, Arg>;

struct CallOptions {
  std::string_view overload;
  std::vector<ElementType> out_types{};  // OpCall::out_element_types
};

inline stablehlo::Function lower_call(std::string_view name, const std::vector<ArgSpec>& specs,
                                      const CallOptions& options = {}) {
  Builder b;
  OpCall call;
  call.name = name;
  call.overload = options.overload;
  call.out_element_types = options.out_types;
  for (const ArgSpec& spec : specs) {
    if (const auto* t = std::get_if<TensorType>(&spec)) {
      call.args.push_back(TensorArg{b.parameter(*t)});
    } else if (const auto* n = std::get_if<Number>(&spec)) {
      call.args.push_back(TensorArg{b.parameter({n->type, {}}), true});
    } else if (const auto* list = std::get_if<Tensors>(&spec)) {
      std::vector<TensorArg> tensors;
      for (const TensorType& type : list->types) tensors.push_back({b.parameter(type)});
      call.args.push_back(tensors);
    } else if (const auto* list = std::get_if<OptionalTensors>(&spec)) {
      std::vector<std::optional<TensorArg>> tensors;
      for (const auto& type : list->types) {
        tensors.push_back(type ? std::optional<TensorArg>(TensorArg{b.parameter(*type)})
                               : std::nullopt);
      }
      call.args.push_back(tensors);
    } else {
      call.args.push_back(std::get<Arg>(spec));
    }
  }
  const RuleInfo* info = rule_table().find(name);
  if (info == nullptr) throw std::logic_error("no rule for " + std::string(name));
  return b.finish(info->rule(b, call));
}

// Lowers and compiles; returns the result types.
inline std::vector<TensorType> compile_call(std::string_view name,
                                            const std::vector<ArgSpec>& specs,
                                            const CallOptions& options = {}) {
  stablehlo::Function fn = lower_call(name, specs, options);
  EXPECT_NO_THROW(stablehlo::testing::detail::client().compile(fn.to_mlir())) << name << "\n"
                                                                              << fn.to_mlir();
  return fn.result_types();
}

}  // namespace torch_pjrt::lowering::testing
