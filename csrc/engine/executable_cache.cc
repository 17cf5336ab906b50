#include "engine/executable_cache.h"

#include <chrono>
#include <iostream>
#include <sstream>
#include <type_traits>

#include "engine/compile_settings.h"
#include "engine/metrics.h"

namespace torch_pjrt::engine {
namespace {

std::string describe(const pjrt::NamedValue& value) {
  std::ostringstream out;
  std::visit(
      [&](const auto& v) {
        if constexpr (std::is_same_v<std::decay_t<decltype(v)>, std::vector<int64_t>>) {
          for (size_t i = 0; i < v.size(); ++i) out << (i ? "," : "") << v[i];
        } else {
          out << v;
        }
      },
      value);
  return out.str();
}

// Everything about the plugin that can change what an executable means or
// whether the plugin can load it.
std::string identify(const pjrt::Client& client) {
  const pjrt::Plugin& plugin = *client.plugin();
  std::string identity =
      "pjrt_api=" + std::to_string(plugin.api_major()) + "." + std::to_string(plugin.api_minor()) +
      " platform=" + client.platform_name() + " platform_version=" + client.platform_version();
  for (const auto& [name, value] : plugin.attributes()) {
    identity += " " + name + "=" + describe(value);
  }
  return identity;
}

void add_elapsed(Metrics& metrics, std::chrono::steady_clock::time_point start) {
  auto elapsed = std::chrono::steady_clock::now() - start;
  metrics.compile_nanoseconds.fetch_add(
      std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count(),
      std::memory_order_relaxed);
}

}  // namespace

ExecutableCache::ExecutableCache(const pjrt::Client& client, Metrics& metrics,
                                 const ExecutableCacheOptions& options)
    : client_(client),
      metrics_(metrics),
      compile_options_(compile_options_with(options.xla_flags)),
      serialized_compile_options_(compile_options_.serialize()) {
  if (!options.disk_directory.empty()) {
    plugin_identity_ = identify(client);
    disk_ = std::make_unique<DiskCache>(options.disk_directory, options.disk_max_bytes);
    metrics_.disk_cache_bytes.store(disk_->total_bytes(), std::memory_order_relaxed);
  }
  if (options.explain_recompiles) explainer_ = std::make_unique<RecompileExplainer>();
}

std::shared_ptr<const Executable> ExecutableCache::get_or_compile(
    const stablehlo::Function& function, const std::string& label) {
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
    auto executable = build(function, hash, label);
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

std::shared_ptr<const Executable> ExecutableCache::build(const stablehlo::Function& function,
                                                         uint64_t hash, const std::string& label) {
  auto executable = std::make_shared<Executable>();
  executable->parameter_types = function.parameter_types();
  executable->output_types = function.result_types();
  executable->program_hash = hash;
  const std::string mlir = function.to_mlir();
  if (!disk_) {
    executable->loaded = compile(function, mlir, label);
    return executable;
  }

  // The text digest guards against structural-hash collisions and against a
  // torch_pjrt whose printer changed under an unchanged hash.
  const DiskCacheKey key{"program=" + hex64(hash) + " text=" + hex64(fnv1a64(mlir)) +
                             " options=" + hex64(fnv1a64(serialized_compile_options_)),
                         plugin_identity_};
  if (std::optional<std::string> payload = disk_->load(key)) {
    auto start = std::chrono::steady_clock::now();
    try {
      executable->loaded = client_.deserialize(*payload, compile_options_);
      add_elapsed(metrics_, start);
      metrics_.disk_cache_hits.fetch_add(1, std::memory_order_relaxed);
      if (explainer_) explainer_->explain(label.empty() ? "program" : label, function, mlir);
      return executable;
    } catch (const pjrt::Error& e) {
      disk_->warn("load", disk_->path_for(key),
                  std::string("the plugin cannot load the entry: ") + e.what() +
                      "; the program is compiled again");
    }
  }
  metrics_.disk_cache_misses.fetch_add(1, std::memory_order_relaxed);
  executable->loaded = compile(function, mlir, label);
  try {
    disk_->store(key, executable->loaded->serialize());
  } catch (const pjrt::Error& e) {
    disk_->warn("serialize", disk_->path_for(key),
                std::string("the plugin cannot serialize executables: ") + e.what());
  }
  metrics_.disk_cache_bytes.store(disk_->total_bytes(), std::memory_order_relaxed);
  return executable;
}

std::unique_ptr<pjrt::LoadedExecutable> ExecutableCache::compile(
    const stablehlo::Function& function, const std::string& mlir, const std::string& label) {
  if (explainer_) {
    // One line per compile, written whole so lines of concurrent compiles do not mix.
    std::cerr << ("torch_pjrt recompile: " +
                  explainer_->explain(label.empty() ? "program" : label, function, mlir) + "\n")
              << std::flush;
  }
  auto start = std::chrono::steady_clock::now();
  auto loaded = client_.compile(mlir, compile_options_);
  add_elapsed(metrics_, start);
  metrics_.compiles.fetch_add(1, std::memory_order_relaxed);
  return loaded;
}

size_t ExecutableCache::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return entries_.size();
}

}  // namespace torch_pjrt::engine
