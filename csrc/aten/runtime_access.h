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
// Raises, as PyTorch's IndexError or RuntimeError, the first failed device
// check of the programs run so far (DESIGN.md, "Errors only the device can
// see"). Called where the host waits on the device anyway.
void raise_device_errors();

}  // namespace torch_pjrt::aten
