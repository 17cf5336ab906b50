#pragma once

#include <memory>
#include <vector>

#include "engine/device_buffer.h"
#include "stablehlo/function.h"

namespace torch_pjrt::aten {

// Compiles (or finds) and runs a program built by a kernel of this layer
// itself (resizes, host copies), outside the per-op call cache.
std::vector<std::shared_ptr<engine::DeviceBuffer>> run_program(
    const stablehlo::Function& function, const std::vector<engine::DeviceBuffer*>& inputs,
    int device);

}  // namespace torch_pjrt::aten
