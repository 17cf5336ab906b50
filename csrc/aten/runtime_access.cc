#include "aten/runtime_access.h"

#include <c10/util/Exception.h>

#include <memory>
#include <mutex>

namespace torch_pjrt::aten {

namespace {

// The process's single Runtime and how to build it (DESIGN.md: no global
// mutable state outside one Runtime object owned by the process).
struct RuntimeSlot {
  std::mutex mutex;
  engine::RuntimeOptions options;
  std::unique_ptr<engine::Runtime> runtime;
  bool configured = false;
};

RuntimeSlot& slot() {
  // Leaked on purpose: PJRT clients must not be torn down during static
  // destruction, after the plugin may already be unloaded.
  static auto* instance = new RuntimeSlot();
  return *instance;
}

}  // namespace

void configure_runtime(const engine::RuntimeOptions& options) {
  auto& s = slot();
  std::lock_guard<std::mutex> lock(s.mutex);
  TORCH_CHECK(!s.runtime, "torch_pjrt: the runtime has already started; configure it before ",
              "the first device operation");
  s.options = options;
  s.configured = true;
}

void configure_executables(const engine::ExecutableCacheOptions& options) {
  auto& s = slot();
  std::lock_guard<std::mutex> lock(s.mutex);
  TORCH_CHECK(!s.runtime, "torch_pjrt: the runtime has already started; configure it before ",
              "the first device operation");
  s.options.executables = options;
}

engine::Runtime& runtime() {
  auto& s = slot();
  std::lock_guard<std::mutex> lock(s.mutex);
  if (!s.runtime) {
    TORCH_CHECK(s.configured, "torch_pjrt is not initialized: import torch_pjrt first");
    try {
      s.runtime = std::make_unique<engine::Runtime>(s.options);
    } catch (const std::exception& e) {
      TORCH_CHECK(false, "torch_pjrt could not start the PJRT plugin '", s.options.plugin_path,
                  "' (TORCH_PJRT_PLUGIN=", s.options.plugin_name, "): ", e.what());
    }
  }
  return *s.runtime;
}

bool runtime_started() {
  auto& s = slot();
  std::lock_guard<std::mutex> lock(s.mutex);
  return s.runtime != nullptr;
}

void raise_device_errors() {
  if (!runtime_started()) return;
  try {
    runtime().checks().raise_pending();
  } catch (const engine::DeviceAssertion& e) {
    if (e.kind() == lowering::CheckKind::kIndex) TORCH_CHECK_INDEX(false, e.what());
    TORCH_CHECK(false, e.what());
  }
}

}  // namespace torch_pjrt::aten
