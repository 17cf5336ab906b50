#pragma once

#include <cstdint>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/disk_cache.h"
#include "engine/recompile_explainer.h"
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

struct ExecutableCacheOptions {
  std::string disk_directory;                 // TORCH_PJRT_CACHE_DIR; empty: no disk cache
  int64_t disk_max_bytes = int64_t{2} << 30;  // TORCH_PJRT_CACHE_MAX_BYTES
  std::string xla_flags;                      // TORCH_PJRT_XLA_FLAGS
  bool explain_recompiles = false;            // TORCH_PJRT_DEBUG=recompile
};

// Compiled programs keyed by the structural hash of the finished program
// (DESIGN.md, "Executable cache"). Concurrent misses of one key compile once.
// A miss in memory looks in the disk cache (key: program, compile options and
// plugin identity) before compiling, and a compile is written back there.
class ExecutableCache {
 public:
  ExecutableCache(const pjrt::Client& client, Metrics& metrics,
                  const ExecutableCacheOptions& options = {});

  // `label` says what the program is (an op name, a graph name) for the
  // TORCH_PJRT_DEBUG=recompile explanation; it is not part of the key.
  std::shared_ptr<const Executable> get_or_compile(const stablehlo::Function& function,
                                                   const std::string& label = "");
  size_t size() const;
  const pjrt::CompileOptions& compile_options() const { return compile_options_; }
  // The plugin part of the disk key: PJRT API version, platform, plugin attributes.
  const std::string& plugin_identity() const { return plugin_identity_; }

 private:
  std::shared_ptr<const Executable> build(const stablehlo::Function& function, uint64_t hash,
                                          const std::string& label);
  std::unique_ptr<pjrt::LoadedExecutable> compile(const stablehlo::Function& function,
                                                  const std::string& mlir,
                                                  const std::string& label);

  const pjrt::Client& client_;
  Metrics& metrics_;
  pjrt::CompileOptions compile_options_;
  std::string serialized_compile_options_;
  std::string plugin_identity_;
  std::unique_ptr<DiskCache> disk_;
  std::unique_ptr<RecompileExplainer> explainer_;
  mutable std::mutex mutex_;
  std::unordered_map<uint64_t, std::shared_future<std::shared_ptr<const Executable>>> entries_;
};

}  // namespace torch_pjrt::engine
