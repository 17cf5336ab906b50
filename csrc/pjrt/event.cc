#include "pjrt/c_api.h"

namespace torch_pjrt::pjrt {
namespace {

// Owned by the plugin between OnReady and the callback, which deletes it.
struct OnReadyContext {
  std::shared_ptr<Plugin> plugin;
  std::function<void(std::optional<Error>)> callback;
};

void run_on_ready(PJRT_Error* error, void* user_arg) {
  std::unique_ptr<OnReadyContext> context(static_cast<OnReadyContext*>(user_arg));
  // This runs on a plugin thread, through C frames: nothing may unwind out of it.
  try {
    std::optional<Error> result;
    if (error != nullptr) result = context->plugin->take_error(error);
    context->callback(std::move(result));
  } catch (...) {
  }
}

}  // namespace

Event::Event(std::shared_ptr<Plugin> plugin, PJRT_Event* event)
    : plugin_(std::move(plugin)), event_(event) {}

Event::~Event() {
  if (event_ == nullptr) return;
  auto args = TORCH_PJRT_ARGS(PJRT_Event_Destroy_Args);
  args.event = event_;
  detail::call_quietly(plugin_->api(), plugin_->api()->PJRT_Event_Destroy, &args);
}

// A null event stands for work that completed synchronously: some plugins
// return no event when there is nothing to wait for.

void Event::wait() {
  if (event_ == nullptr) return;
  auto args = TORCH_PJRT_ARGS(PJRT_Event_Await_Args);
  args.event = event_;
  TORCH_PJRT_CALL(*plugin_, PJRT_Event_Await, &args);
}

bool Event::is_ready() const {
  if (event_ == nullptr) return true;
  auto args = TORCH_PJRT_ARGS(PJRT_Event_IsReady_Args);
  args.event = event_;
  TORCH_PJRT_CALL(*plugin_, PJRT_Event_IsReady, &args);
  return args.is_ready;
}

std::optional<Error> Event::error() const {
  if (event_ == nullptr) return std::nullopt;
  auto args = TORCH_PJRT_ARGS(PJRT_Event_Error_Args);
  args.event = event_;
  PJRT_Error* error = detail::require(plugin_->api()->PJRT_Event_Error, "PJRT_Event_Error")(&args);
  if (error == nullptr) return std::nullopt;
  return plugin_->take_error(error);
}

void Event::on_ready(std::function<void(std::optional<Error>)> callback) const {
  if (event_ == nullptr) {
    callback(std::nullopt);
    return;
  }
  auto context = std::make_unique<OnReadyContext>(OnReadyContext{plugin_, std::move(callback)});
  auto args = TORCH_PJRT_ARGS(PJRT_Event_OnReady_Args);
  args.event = event_;
  args.callback = &run_on_ready;
  args.user_arg = context.get();
  TORCH_PJRT_CALL(*plugin_, PJRT_Event_OnReady, &args);
  context.release();  // now owned by run_on_ready
}

}  // namespace torch_pjrt::pjrt
