#pragma once

// Private to csrc/pjrt/: the calling conventions of the PJRT C API in one place.

#include <map>
#include <string>
#include <vector>

#include "pjrt/pjrt.h"

namespace torch_pjrt::pjrt::detail {

// The ABI contract: an Args struct is zeroed (unset optional fields read as
// null) and carries the size this header was built with, so a newer plugin
// knows which trailing fields we do not know about.
template <typename Args>
Args make_args(size_t struct_size) {
  Args args{};
  args.struct_size = struct_size;
  return args;
}

// A plugin may leave entries of PJRT_Api null for features it lacks; calling
// one must be an Error, not a crash.
template <typename Function>
Function* require(Function* function, const char* name) {
  if (function == nullptr) {
    throw Error(std::string("the PJRT plugin does not implement ") + name,
                PJRT_Error_Code_UNIMPLEMENTED);
  }
  return function;
}

// For destructors: errors of Destroy calls are dropped, since a destructor
// must not throw and there is nothing left to do about them.
template <typename Function, typename Args>
void call_quietly(const PJRT_Api* api, Function* function, Args* args) noexcept {
  if (function == nullptr) return;
  PJRT_Error* error = function(args);
  if (error != nullptr && api->PJRT_Error_Destroy != nullptr) {
    auto destroy = make_args<PJRT_Error_Destroy_Args>(PJRT_Error_Destroy_Args_STRUCT_SIZE);
    destroy.error = error;
    api->PJRT_Error_Destroy(&destroy);
  }
}

std::string to_string(const char* data, size_t size);

NamedValue from_c(const PJRT_NamedValue& value);
std::map<std::string, NamedValue> from_c(const PJRT_NamedValue* values, size_t count);

// The C view of a map of NamedValue; points into `values`, which must outlive it.
std::vector<PJRT_NamedValue> to_c(const std::map<std::string, NamedValue>& values);

}  // namespace torch_pjrt::pjrt::detail

#define TORCH_PJRT_ARGS(Type) ::torch_pjrt::pjrt::detail::make_args<Type>(Type##_STRUCT_SIZE)

// Calls PJRT_Api::Function of `plugin` (a Plugin&) and throws on error.
#define TORCH_PJRT_CALL(plugin, Function, args) \
  (plugin).check(::torch_pjrt::pjrt::detail::require((plugin).api()->Function, #Function)(args))
