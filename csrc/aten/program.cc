#include "aten/program.h"

#include "aten/runtime_access.h"

namespace torch_pjrt::aten {

std::vector<std::shared_ptr<engine::DeviceBuffer>> run_program(
    const stablehlo::Function& function, const std::vector<engine::DeviceBuffer*>& inputs,
    int device) {
  engine::Runtime& rt = runtime();
  auto executable = rt.executables().get_or_compile(function);
  return rt.execute(*executable, inputs, device);
}

}  // namespace torch_pjrt::aten
