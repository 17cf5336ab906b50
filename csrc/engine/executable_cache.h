#pragma once

#include <cstdint>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "pjrt/pjrt.h"
#include "stablehlo/function.h"

namespace torch_pjrt::engine {

class Metrics;

struct Executable {
  std::unique_ptr<pjrt::LoadedExecutable> loaded;
  std::vector<stablehlo::TensorType> parameter_types;
  std::vector<stablehlo::TensorType> output_types;
  uint64_t program_hash = 0;
};

// Compiled programs keyed by the structural hash of the finished program
// (DESIGN.md, "Executable cache"). Concurrent misses of one key compile once.
class ExecutableCache {
 public:
  ExecutableCache(const pjrt::Client& client, Metrics& metrics)
      : client_(client), metrics_(metrics) {}

  std::shared_ptr<const Executable> get_or_compile(const stablehlo::Function& function);
  size_t size() const;

 private:
  std::shared_ptr<const Executable> compile(const stablehlo::Function& function, uint64_t hash);

  const pjrt::Client& client_;
  Metrics& metrics_;
  mutable std::mutex mutex_;
  std::unordered_map<uint64_t, std::shared_future<std::shared_ptr<const Executable>>> entries_;
};

}  // namespace torch_pjrt::engine
