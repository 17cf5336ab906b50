#pragma once

#include <ATen/core/dispatch/Dispatcher.h>

#include <optional>
#include <string>
#include <vector>

#include "lowering/rule_table.h"

namespace torch_pjrt::aten {

// How one schema argument reaches a lowering rule (see lowering::OpCall).
enum class ArgKind {
  kTensor,
  kTensorList,
  kOptionalTensorList,
  kScalar,
  kInt,
  kFloat,
  kBool,
  kString,
  kIntList,
  kFloatList,
  kBoolList,
  kScalarType,
  kGenerator,
  kIgnored,  // layout, device, memory format, pin_memory: no effect on values
  kUnsupported,
};

enum class ReturnKind { kTensor, kTensorList, kBool, kInt, kFloat, kUnsupported };

enum class OpForm {
  kFunctional,
  kInPlace,  // `add_`: writes its result into self
  kOut,      // `add.out`: writes its results into the out= arguments
};

// Everything about an operator that does not change from call to call,
// derived once from its schema.
struct OpPlan {
  std::string qualified_name;  // "aten::add_.Tensor"
  std::string base_name;       // "aten::add_"
  bool has_device_argument = false;
  bool has_memory_format_argument = false;
  std::string rule_name;  // "add"
  std::string overload;   // "Tensor"
  const lowering::RuleInfo* rule = nullptr;
  OpForm form = OpForm::kFunctional;
  size_t num_arguments = 0;
  std::vector<ArgKind> kinds;           // per functional argument
  std::vector<bool> optional;           // per functional argument
  std::vector<bool> static_scalar;      // per functional argument
  std::vector<size_t> functional_args;  // schema positions of the non-out arguments
  std::vector<size_t> out_args;         // schema positions of out= arguments
  std::vector<size_t> mutated_args;     // functional positions written in place
  std::vector<ReturnKind> returns;
  // out= overloads of structured ops: torch's C++ meta function, which makes
  // CPU's shape, dtype and out= checks (see out_checks.h).
  const c10::KernelFunction* meta_out = nullptr;
  // out= whose dtype must equal the result's (see out_dtype_must_match).
  bool exact_out_dtype = false;
  // Schema position of a `bool[] output_mask` (the backward ops): a result
  // whose entry is false is returned undefined, as CPU returns it.
  std::optional<size_t> output_mask_arg;
};

// Cached per operator; thread-safe.
const OpPlan& plan_for(const c10::OperatorHandle& op);

}  // namespace torch_pjrt::aten
