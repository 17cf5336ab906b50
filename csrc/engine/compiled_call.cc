#include "engine/compiled_call.h"

namespace torch_pjrt::engine {

std::shared_ptr<const CompiledCall> CompiledCallCache::find(const std::string& signature) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = calls_.find(signature);
  return it == calls_.end() ? nullptr : it->second;
}

void CompiledCallCache::insert(const std::string& signature,
                               std::shared_ptr<const CompiledCall> call) {
  std::lock_guard<std::mutex> lock(mutex_);
  calls_.emplace(signature, std::move(call));
}

}  // namespace torch_pjrt::engine
