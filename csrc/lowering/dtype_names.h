#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "stablehlo/element_type.h"

namespace torch_pjrt::lowering {

// How PyTorch's error messages name a dtype. Its kernels print the ScalarType
// ("Long", "BFloat16") in dispatch errors, but the C++ type behind a tensor's
// TypeMeta ("long int", "c10::BFloat16") in some checks; matching both keeps
// our messages the ones users search for.
std::string_view scalar_type_name(stablehlo::ElementType type);
std::string_view type_meta_name(stablehlo::ElementType type);

// The NotImplementedError PyTorch's dispatch macros raise when `kernel` has
// no case for the dtype: "\"add_cpu\" not implemented for 'Bool'".
[[noreturn]] void throw_no_kernel(std::string_view kernel, stablehlo::ElementType type);

// A shape as PyTorch's messages print it: "[2, 3]".
std::string shape_text(const std::vector<int64_t>& dims);

// A double as PyTorch's messages print it (C++ stream defaults: "-1", "0.5").
std::string format_double(double value);

}  // namespace torch_pjrt::lowering
