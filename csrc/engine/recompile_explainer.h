#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "stablehlo/function.h"

namespace torch_pjrt::engine {

// For TORCH_PJRT_DEBUG=recompile: remembers the programs built under each
// label (an op or graph name) and says what sets a new one apart from the
// nearest earlier program of the same label.
class RecompileExplainer {
 public:
  // One line, no newline: "first compile of <label>" or what differs, e.g.
  // "aten::add.Tensor: input 0 shape f32[2,3] (was f32[4,3])". Remembers `function`.
  std::string explain(const std::string& label, const stablehlo::Function& function,
                      const std::string& mlir);

 private:
  struct Program {
    std::vector<stablehlo::TensorType> inputs;
    std::vector<stablehlo::TensorType> outputs;
    std::string mlir;
  };

  std::mutex mutex_;
  std::map<std::string, std::vector<Program>> programs_by_label_;
};

}  // namespace torch_pjrt::engine
