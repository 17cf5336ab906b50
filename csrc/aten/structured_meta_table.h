#pragma once

// The table of torch's C++ structured meta functions for out= overloads,
// filled by the file tools/gen_structured_meta_table.py writes at build time.

#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/core/op_registration/infer_schema.h>

#include <string>
#include <unordered_map>
#include <vector>

namespace torch_pjrt::aten {

struct MetaOut {
  std::vector<std::string> argument_types;  // to tell overloads of one name apart
  c10::KernelFunction kernel;
};
using MetaOutTable = std::unordered_map<std::string, std::vector<MetaOut>>;

// The schema's argument types as text, SymInt spelled int (both take the same
// stack values).
std::vector<std::string> argument_types(const c10::FunctionSchema& schema);

template <class Signature>
void add_meta_out(MetaOutTable& table, const char* name, Signature* function) {
  table[name].push_back({argument_types(c10::inferFunctionSchemaFlattenedReturns<Signature>()),
                         c10::KernelFunction::makeFromUnboxedRuntimeFunction(function)});
}

// Defined in the generated file.
void add_structured_meta_outs(MetaOutTable& table);

}  // namespace torch_pjrt::aten
