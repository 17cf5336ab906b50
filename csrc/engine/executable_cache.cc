#include "engine/executable_cache.h"

#include <chrono>

#include "engine/metrics.h"

namespace torch_pjrt::engine {

std::shared_ptr<const Executable> ExecutableCache::get_or_compile(
    const stablehlo::Function& function) {
  uint64_t hash = function.structural_hash();
  std::promise<std::shared_ptr<const Executable>> promise;
  std::shared_future<std::shared_ptr<const Executable>> existing;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = entries_.find(hash);
    if (it != entries_.end()) {
      existing = it->second;
    } else {
      entries_.emplace(hash, promise.get_future().share());
    }
  }
  if (existing.valid()) {
    metrics_.cache_hits.fetch_add(1, std::memory_order_relaxed);
    return existing.get();  // waits outside the lock if another thread compiles it
  }
  try {
    auto executable = compile(function, hash);
    promise.set_value(executable);
    return executable;
  } catch (...) {
    // A failed compile is not cached: the error reaches this caller and any
    // waiter, and the next call tries again.
    promise.set_exception(std::current_exception());
    std::lock_guard<std::mutex> lock(mutex_);
    entries_.erase(hash);
    throw;
  }
}

std::shared_ptr<const Executable> ExecutableCache::compile(const stablehlo::Function& function,
                                                           uint64_t hash) {
  auto start = std::chrono::steady_clock::now();
  auto executable = std::make_shared<Executable>();
  executable->loaded = client_.compile(function.to_mlir());
  executable->parameter_types = function.parameter_types();
  executable->output_types = function.result_types();
  executable->program_hash = hash;
  auto elapsed = std::chrono::steady_clock::now() - start;
  metrics_.compiles.fetch_add(1, std::memory_order_relaxed);
  metrics_.compile_nanoseconds.fetch_add(
      std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count(),
      std::memory_order_relaxed);
  return executable;
}

size_t ExecutableCache::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return entries_.size();
}

}  // namespace torch_pjrt::engine
