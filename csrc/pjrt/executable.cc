#include "pjrt/c_api.h"

namespace torch_pjrt::pjrt {
namespace {

void destroy(const PJRT_Api* api, PJRT_Executable* view, PJRT_LoadedExecutable* loaded) noexcept {
  if (view != nullptr) {
    auto args = TORCH_PJRT_ARGS(PJRT_Executable_Destroy_Args);
    args.executable = view;
    detail::call_quietly(api, api->PJRT_Executable_Destroy, &args);
  }
  if (loaded != nullptr) {
    auto args = TORCH_PJRT_ARGS(PJRT_LoadedExecutable_Destroy_Args);
    args.executable = loaded;
    detail::call_quietly(api, api->PJRT_LoadedExecutable_Destroy, &args);
  }
}

}  // namespace

LoadedExecutable::LoadedExecutable(std::shared_ptr<Plugin> plugin,
                                   PJRT_LoadedExecutable* executable)
    : plugin_(std::move(plugin)), executable_(executable) {
  // The constructor owns `executable` even when it throws: the destructor
  // will not run then, so clean up here.
  try {
    auto view = TORCH_PJRT_ARGS(PJRT_LoadedExecutable_GetExecutable_Args);
    view.loaded_executable = executable_;
    TORCH_PJRT_CALL(*plugin_, PJRT_LoadedExecutable_GetExecutable, &view);
    executable_view_ = view.executable;

    auto outputs = TORCH_PJRT_ARGS(PJRT_Executable_NumOutputs_Args);
    outputs.executable = executable_view_;
    TORCH_PJRT_CALL(*plugin_, PJRT_Executable_NumOutputs, &outputs);
    num_outputs_ = outputs.num_outputs;
  } catch (...) {
    destroy(plugin_->api(), executable_view_, executable_);
    throw;
  }
}

LoadedExecutable::~LoadedExecutable() { destroy(plugin_->api(), executable_view_, executable_); }

ExecuteResult LoadedExecutable::execute(std::span<Buffer* const> arguments, const Device& device,
                                        const ExecuteOptions& options) const {
  std::vector<PJRT_Buffer*> argument_list;
  argument_list.reserve(arguments.size());
  for (size_t i = 0; i < arguments.size(); ++i) {
    if (arguments[i] == nullptr) {
      throw Error("execute: argument " + std::to_string(i) + " is null",
                  PJRT_Error_Code_INVALID_ARGUMENT);
    }
    argument_list.push_back(arguments[i]->raw());
  }
  PJRT_Buffer* const* argument_lists[] = {argument_list.data()};
  std::vector<PJRT_Buffer*> output_list(num_outputs_, nullptr);
  PJRT_Buffer** output_lists[] = {output_list.data()};
  PJRT_Event* done = nullptr;

  auto execute_options = TORCH_PJRT_ARGS(PJRT_ExecuteOptions);
  execute_options.non_donatable_input_indices = options.non_donatable_input_indices.data();
  execute_options.num_non_donatable_input_indices = options.non_donatable_input_indices.size();

  auto args = TORCH_PJRT_ARGS(PJRT_LoadedExecutable_Execute_Args);
  args.executable = executable_;
  args.options = &execute_options;
  args.argument_lists = argument_lists;
  args.num_devices = 1;
  args.num_args = argument_list.size();
  args.output_lists = output_lists;
  args.device_complete_events = &done;
  args.execute_device = device.raw();
  TORCH_PJRT_CALL(*plugin_, PJRT_LoadedExecutable_Execute, &args);

  ExecuteResult result;
  // Take ownership of everything before anything else can throw.
  result.done = std::make_unique<Event>(plugin_, done);
  result.outputs.reserve(output_list.size());
  for (PJRT_Buffer* output : output_list) {
    result.outputs.push_back(std::make_unique<Buffer>(plugin_, output));
  }
  return result;
}

std::string LoadedExecutable::serialize() const {
  auto args = TORCH_PJRT_ARGS(PJRT_Executable_Serialize_Args);
  args.executable = executable_view_;
  TORCH_PJRT_CALL(*plugin_, PJRT_Executable_Serialize, &args);
  // The bytes live in plugin memory that only its deleter may free.
  struct Release {
    PJRT_Executable_Serialize_Args& args;
    ~Release() {
      if (args.serialized_executable_deleter != nullptr) {
        args.serialized_executable_deleter(args.serialized_executable);
      }
    }
  } release{args};
  return detail::to_string(args.serialized_bytes, args.serialized_bytes_size);
}

}  // namespace torch_pjrt::pjrt
