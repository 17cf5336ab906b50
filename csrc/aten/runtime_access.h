#pragma once

#include "engine/runtime.h"

namespace torch_pjrt::aten {

// Options come from Python at import (plugin resolution lives there); the
// runtime itself starts on first use, so `import torch` stays cheap and a bad
// plugin surfaces as a RuntimeError at the first device operation.
void configure_runtime(const engine::RuntimeOptions& options);
// After configure_runtime: the executable cache's settings (disk cache, XLA flags, debug).
void configure_executables(const engine::ExecutableCacheOptions& options);
engine::Runtime& runtime();
bool runtime_started();

}  // namespace torch_pjrt::aten
