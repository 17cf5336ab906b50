#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/device_checks.h"
#include "engine/executable_cache.h"

namespace torch_pjrt::engine {

// What to do with one output of a compiled call.
struct OutputAction {
  enum class Kind {
    kNewTensor,   // a fresh contiguous tensor of the output's type
    kRebind,      // the new value of the storage of argument `argument`
    kHostScalar,  // a non-tensor return (bool, int, float) read to the host
    kErrorWord,   // the program's checks on the data (lowering::ErrorWord)
  };
  Kind kind = Kind::kNewTensor;
  size_t argument = 0;
};

// One eager op, traced once for one signature (op, argument values that shape
// the program, input types, view layouts) and replayed on every later call
// with the same signature without tracing again.
struct CompiledCall {
  std::shared_ptr<const Executable> executable;
  std::vector<OutputAction> outputs;
  // Inputs the program aliases to an output (a storage's old buffer to its
  // new value): donated at run time when nothing else holds them.
  std::vector<int64_t> donatable_inputs;
  // What the error word's codes stand for; null when the op checks nothing.
  std::shared_ptr<const CheckedSites> checks;
};

class CompiledCallCache {
 public:
  std::shared_ptr<const CompiledCall> find(const std::string& signature) const;
  void insert(const std::string& signature, std::shared_ptr<const CompiledCall> call);

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<const CompiledCall>> calls_;
};

}  // namespace torch_pjrt::engine
