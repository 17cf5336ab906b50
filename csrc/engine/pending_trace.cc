#include "engine/pending_trace.h"

#include <cstring>
#include <functional>
#include <stdexcept>

#include "engine/executable_cache.h"
#include "engine/runtime.h"

namespace torch_pjrt::engine {

namespace {

// Shortest repeated sequence the loop detector acts on: shorter loops (one
// in-place op per iteration) gather iterations until the sequence is this long,
// so tiny loops do not run one program per iteration.
constexpr size_t kMinLoopOps = 16;
constexpr uint64_t kHashBase = 0x100000001B3ull;
constexpr size_t kNamesInMessages = 12;
// Bodies remembered for reuse with fewer results, and variants per body: a
// loop has a few flush patterns, not many.
constexpr size_t kRememberedBodies = 64;
constexpr size_t kVariantsPerBody = 4;

}  // namespace

PendingTrace::PendingTrace(Runtime& runtime, int device_index)
    : runtime_(runtime), device_index_(device_index) {
  reset();
}

void PendingTrace::reset() {
  builder_ = std::make_unique<stablehlo::Builder>();
  ++generation_;
  inputs_.clear();
  input_of_buffer_.clear();
  deferred_.clear();
  op_names_.clear();
  error_word_.reset();
  check_sites_ = std::make_shared<CheckedSites>();
  prefix_hashes_.assign(1, 0);
  positions_.clear();
  loop_closed_ = false;
}

stablehlo::Value PendingTrace::storage_value(const StorageValue& storage,
                                             stablehlo::ElementType fallback) {
  SegmentLog* log = segment_log();
  stablehlo::Value value;
  const void* held = nullptr;
  if (const auto& deferred = storage.deferred()) {
    if (!deferred->error.empty()) throw std::runtime_error(deferred->error);
    if (deferred->generation != generation_ || deferred->device_index != device_index_) {
      throw std::logic_error("torch_pjrt: a deferred value outlived its fused trace");
    }
    // A value the segment computed is its own, not something it read.
    if (log && log->made.count(deferred.get())) return deferred->value;
    value = deferred->value;
    held = deferred.get();
  } else if (const auto& buffer = storage.buffer()) {
    value = parameter_for_buffer(buffer);
    held = buffer.get();
  } else {
    if (log) log->unreplayable = "it reads a tensor that was never written";
    return builder_->zeros(storage.type_or(fallback));
  }
  if (log && log->logged.insert(value.id).second) {
    TraceSegment::External external;
    external.from_storage = true;
    external.type = builder_->type(value);
    external.held = held;
    log->externals.push_back(std::move(external));
    log->external_values.push_back(value.id);
  }
  return value;
}

stablehlo::Value PendingTrace::buffer_parameter(const std::shared_ptr<DeviceBuffer>& buffer) {
  if (SegmentLog* log = segment_log()) log->unreplayable = "it copies host data to the device";
  return parameter_for_buffer(buffer);
}

stablehlo::Value PendingTrace::parameter_for_buffer(const std::shared_ptr<DeviceBuffer>& buffer) {
  auto found = input_of_buffer_.find(buffer.get());
  if (found != input_of_buffer_.end()) return inputs_[found->second].value;
  Input input;
  input.buffer = buffer;
  input.type = buffer->type();
  input.value = builder_->parameter(input.type);
  input_of_buffer_.emplace(buffer.get(), inputs_.size());
  inputs_.push_back(std::move(input));
  return inputs_.back().value;
}

stablehlo::Value PendingTrace::host_parameter(const stablehlo::TensorType& type, const void* bytes,
                                              size_t size, HostSource source) {
  Input input;
  input.type = type;
  std::memcpy(input.bytes.data(), bytes, size);
  input.value = builder_->parameter(type);
  if (SegmentLog* log = segment_log()) {
    if (source.kind == HostSource::Kind::kUnknown) {
      log->unreplayable = "it sends a host value of unknown origin";
    } else {
      TraceSegment::External external;
      external.type = type;
      external.bytes = input.bytes;
      external.source = source;
      log->externals.push_back(std::move(external));
      log->external_values.push_back(input.value.id);
      log->logged.insert(input.value.id);
    }
  }
  inputs_.push_back(std::move(input));
  return inputs_.back().value;
}

std::shared_ptr<DeferredValue> PendingTrace::defer(stablehlo::Value value) {
  auto deferred = std::make_shared<DeferredValue>();
  deferred->type = builder_->type(value);
  deferred->value = value;
  deferred->generation = generation_;
  deferred->device_index = device_index_;
  deferred_.push_back(deferred);
  if (SegmentLog* log = segment_log()) log->made.insert(deferred.get());
  return deferred;
}

void PendingTrace::add_checks(const CheckedSites& sites,
                              const std::vector<lowering::DeviceCheck>& checks) {
  const int64_t first_code = static_cast<int64_t>(check_sites_->size()) + 1;
  const size_t first_op = builder_->operation_count();
  error_word_ = lowering::fold_checks(*builder_, error_word_, checks, first_code);
  check_sites_->insert(check_sites_->end(), sites.begin(), sites.end());
  if (SegmentLog* log = segment_log()) {
    log->folds.push_back(SegmentLog::Fold{first_op, builder_->operation_count(), sites, checks});
  }
}

PendingTrace::Mark PendingTrace::mark() const {
  return Mark{builder_->checkpoint(), inputs_.size()};
}

void PendingTrace::rollback(const Mark& mark) {
  // Its log may name parameters the rollback removes.
  if (SegmentLog* log = segment_log()) log->unreplayable = "an op in it failed";
  builder_->rollback(mark.builder);
  for (size_t i = mark.inputs; i < inputs_.size(); ++i) {
    if (inputs_[i].buffer) input_of_buffer_.erase(inputs_[i].buffer.get());
  }
  inputs_.resize(mark.inputs);
}

uint64_t PendingTrace::range_hash(size_t begin, size_t end) const {
  return prefix_hashes_[end] - prefix_hashes_[begin] * powers_[end - begin];
}

bool PendingTrace::closes_loop(uint64_t signature_hash) {
  positions_[signature_hash].push_back(op_names_.size() - 1);
  return iteration_ends_here(signature_hash);
}

void PendingTrace::graph_ended() {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  if (op_names_.empty() || loop_closed_) return;
  if (iteration_ends_here(last_signature_hash_)) loop_closed_ = true;
}

bool PendingTrace::iteration_ends_here(uint64_t signature_hash) {
  const size_t n = op_names_.size();
  const size_t position = n - 1;
  const std::vector<size_t>& seen = positions_[signature_hash];
  if (n < kMinLoopOps) return false;
  // The ops since the last flush are those the last flush ran: the next
  // iteration of a loop whose previous one ended in a flush (a host read, a
  // synchronize), so its program is found in the cache.
  if (n == previous_ops_ && range_hash(0, n) == previous_hash_) return true;
  // They are one iteration of the loop found earlier, whose first program
  // ran several iterations: from then on, one program per iteration. A few
  // ops may come first (an epoch's `total = torch.zeros(())` before its
  // first step); only near the start of a trace, so a short repetition taken
  // for the iteration (two identical parameter updates) never cuts a step.
  if (iteration_ops_ > 0 && n >= iteration_ops_ && n - iteration_ops_ <= kMinLoopOps &&
      range_hash(n - iteration_ops_, n) == iteration_hash_) {
    return true;
  }
  auto found_iteration = [&](size_t period) {
    learn_iteration(period);
    return true;
  };
  // They are one sequence twice: the loop's iterations start where the last
  // flush was.
  if (n % 2 == 0 && range_hash(0, n / 2) == range_hash(n / 2, n)) return found_iteration(n / 2);
  // Or the latest ops are, after other work (the first iteration of a
  // training loop differs: optimizer state is created). Only long
  // repetitions count, spanning at least half of a trace that is a quarter
  // of the size bound: an inner loop (a model's identical blocks, an
  // optimizer's per-parameter updates) repeats long before the step around
  // it does, and cutting there would split every step into many programs.
  const size_t bound = static_cast<size_t>(runtime_.options().fused_max_ops);
  if (n < bound / 4) return false;
  for (size_t earlier : seen) {
    const size_t period = position - earlier;
    if (period == 0 || 4 * period < n) break;
    if (2 * period > n) continue;
    if (range_hash(n - period, n) == range_hash(n - 2 * period, n - period)) {
      return found_iteration(period);
    }
  }
  return false;
}

void PendingTrace::remember_tail_iteration() {
  const size_t n = op_names_.size();
  if (loop_closed_ || n < 2 * kMinLoopOps) return;
  const uint64_t last = prefix_hashes_[n] - prefix_hashes_[n - 1] * kHashBase;
  const auto found = positions_.find(last);
  if (found == positions_.end()) return;
  const std::vector<size_t>& seen = found->second;
  // The shortest period first: the loop's own iteration, not a run of them.
  for (auto earlier = seen.rbegin(); earlier != seen.rend(); ++earlier) {
    const size_t period = n - 1 - *earlier;
    if (period < kMinLoopOps) continue;
    if (2 * period > n) return;
    if (range_hash(n - period, n) == range_hash(n - 2 * period, n - period)) {
      learn_iteration(period);
      return;
    }
  }
}

void PendingTrace::learn_iteration(size_t period) {
  const size_t n = op_names_.size();
  iteration_ops_ = period;
  iteration_hash_ = range_hash(n - period, n);
}

void PendingTrace::finish_op(std::string_view name, std::string_view signature) {
  const bool loop = note_op(name, std::hash<std::string_view>{}(signature));
  if (static_cast<int64_t>(op_names_.size()) >= runtime_.options().fused_max_ops) {
    flush("max_ops");
  } else if (loop) {
    loop_closed_ = true;
  }
}

bool PendingTrace::note_op(std::string_view name, uint64_t signature_hash) {
  if (SegmentLog* log = segment_log()) {
    log->names.emplace_back(name);
    log->hashes.push_back(signature_hash);
  }
  op_names_.emplace_back(name);
  prefix_hashes_.push_back(prefix_hashes_.back() * kHashBase + signature_hash);
  while (powers_.size() < prefix_hashes_.size()) powers_.push_back(powers_.back() * kHashBase);
  // A loop iteration never ends inside a compiled graph: its ops are only
  // recorded, and graph_ended() asks at the graph's last op.
  if (!runtime_.in_graph()) return closes_loop(signature_hash);
  positions_[signature_hash].push_back(op_names_.size() - 1);
  last_signature_hash_ = signature_hash;
  return false;
}

void PendingTrace::begin_op() {
  if (loop_closed_) flush("loop");
}

std::string PendingTrace::describe_ops(const std::vector<std::string>& names) {
  std::string text;
  const size_t n = names.size();
  for (size_t i = 0; i < n; ++i) {
    if (n > kNamesInMessages && i == kNamesInMessages / 2) {
      text += ", ... " + std::to_string(n - kNamesInMessages) + " more";
      i = n - kNamesInMessages / 2;
    }
    text += (text.empty() ? "" : ", ") + names[i];
  }
  return text;
}

void PendingTrace::flush(const std::string& reason) {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  if (op_names_.empty()) return;
  std::vector<std::shared_ptr<DeferredValue>> targets;
  std::vector<stablehlo::Value> results;
  for (const auto& weak : deferred_) {
    if (auto value = weak.lock()) {
      results.push_back(value->value);
      targets.push_back(std::move(value));
    }
  }
  // The checks run even when nobody holds a result: an error is never dropped.
  std::shared_ptr<const CheckedSites> check_sites;
  if (error_word_) {
    results.push_back(lowering::pack_error_word(*builder_, *error_word_));
    check_sites = check_sites_;
  }
  previous_ops_ = op_names_.size();
  previous_hash_ = prefix_hashes_.back();
  remember_tail_iteration();
  const std::vector<std::string> names = std::move(op_names_);
  const int64_t ops = static_cast<int64_t>(names.size());
  std::unique_ptr<stablehlo::Builder> builder = std::move(builder_);
  std::vector<Input> inputs = std::move(inputs_);
  reset();
  runtime_.metrics().count_flush(reason, ops);
  if (results.empty()) return;  // nobody holds a result: nothing to run

  try {
    stablehlo::Function function = builder->finish(results);
    builder.reset();
    // A buffer only this trace still holds (its storages were rebound to new
    // values) is donated, so a step that updates parameters and optimizer
    // state in place never holds two copies of them: first to the new value
    // of the storage that held it, then to any output of its type.
    function.parameter_aliases.assign(inputs.size(), -1);
    std::vector<bool> taken(results.size(), false);
    bool any_alias = false;
    auto donate = [&](size_t input, size_t result) {
      function.parameter_aliases[input] = static_cast<int32_t>(result);
      taken[result] = true;
      any_alias = true;
    };
    std::vector<bool> dead_inputs(inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i) {
      dead_inputs[i] = inputs[i].buffer && inputs[i].buffer.use_count() == 1;
    }
    auto donatable = [&](size_t i) { return dead_inputs[i] && function.parameter_aliases[i] < 0; };
    std::unordered_map<const DeviceBuffer*, size_t> input_of;
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (donatable(i)) input_of.emplace(inputs[i].buffer.get(), i);
    }
    for (size_t j = 0; j < targets.size(); ++j) {
      auto found = input_of.find(targets[j]->replaces.lock().get());
      if (found == input_of.end() || function.type(results[j]) != inputs[found->second].type) {
        continue;
      }
      donate(found->second, j);
      input_of.erase(found);
    }
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (!donatable(i)) continue;
      for (size_t j = 0; j < results.size(); ++j) {
        if (!taken[j] && function.type(results[j]) == inputs[i].type) {
          donate(i, j);
          break;
        }
      }
    }
    if (!any_alias) function.parameter_aliases.clear();
    std::vector<size_t> positions;
    auto executable = program_for(function, dead_inputs, positions);
    std::vector<std::shared_ptr<DeviceBuffer>> uploaded;
    std::vector<DeviceBuffer*> arguments;
    arguments.reserve(inputs.size());
    for (const Input& input : inputs) {
      if (input.buffer) {
        arguments.push_back(input.buffer.get());
      } else {
        uploaded.push_back(runtime_.to_device(input.bytes.data(), input.type, device_index_));
        arguments.push_back(uploaded.back().get());
      }
    }
    std::vector<std::shared_ptr<DeviceBuffer>> outputs =
        runtime_.execute(*executable, arguments, device_index_);
    // Not moved: two results may be one value (a rule that returns the same
    // value for two outputs), which a reused program gives as one output.
    for (size_t j = 0; j < targets.size(); ++j) targets[j]->result = outputs[positions[j]];
    if (check_sites) {
      runtime_.checks().add(std::move(outputs[positions[targets.size()]]), check_sites);
    }
  } catch (const std::exception& e) {
    std::string message = "torch_pjrt: the fused program of " + std::to_string(ops) + " op(s) [" +
                          describe_ops(names) + "] failed (flushed for " + reason +
                          "): " + e.what();
    for (auto& target : targets) target->error = message;
    throw std::runtime_error(message);
  }
}

std::shared_ptr<const Executable> PendingTrace::program_for(const stablehlo::Function& function,
                                                            const std::vector<bool>& dead_inputs,
                                                            std::vector<size_t>& positions) {
  stablehlo::Function::BodyKey key = function.body_key();
  if (programs_.size() >= kRememberedBodies && !programs_.count(key.hash)) programs_.clear();
  std::vector<Program>& programs = programs_[key.hash];
  // A program of these ops whose outputs include this flush's results (the
  // same program, or one with more) runs without a compile or a second walk
  // of the function to hash it, if its donations consume only dead buffers.
  for (const Program& program : programs) {
    bool donations_safe = true;
    for (size_t i = 0; i < program.aliases.size() && donations_safe; ++i) {
      donations_safe = program.aliases[i] < 0 || dead_inputs[i];
    }
    if (!donations_safe) continue;
    std::unordered_map<int32_t, size_t> output_of;
    for (size_t k = 0; k < program.results.size(); ++k) output_of.emplace(program.results[k], k);
    positions.clear();
    for (int32_t result : key.results) {
      auto found = output_of.find(result);
      if (found == output_of.end()) break;
      positions.push_back(found->second);
    }
    if (positions.size() != key.results.size()) continue;
    runtime_.metrics().cache_hits.fetch_add(1, std::memory_order_relaxed);
    return program.executable;
  }
  positions.resize(key.results.size());
  for (size_t j = 0; j < positions.size(); ++j) positions[j] = j;
  auto executable = runtime_.executables().get_or_compile(function, "fused trace");
  if (programs.size() >= kVariantsPerBody) programs.erase(programs.begin());
  programs.push_back(Program{key.results, function.parameter_aliases, executable});
  return executable;
}

}  // namespace torch_pjrt::engine

namespace torch_pjrt::engine {

PendingTrace::SegmentLog* PendingTrace::segment_log() {
  return segment_ && segment_->generation == generation_ ? &*segment_ : nullptr;
}

void PendingTrace::begin_segment() {
  segment_.emplace();
  segment_->generation = generation_;
  segment_->first_op = builder_->operation_count();
}

TraceSegment PendingTrace::end_segment() {
  TraceSegment segment;
  if (!segment_) {
    segment.unreplayable = "no segment was being recorded";
    return segment;
  }
  SegmentLog log = std::move(*segment_);
  segment_.reset();
  if (log.generation != generation_) {
    segment.unreplayable = "the pending ops were flushed inside it";
    return segment;
  }
  if (!log.unreplayable.empty()) {
    segment.unreplayable = std::move(log.unreplayable);
    return segment;
  }
  segment.op_names = std::move(log.names);
  segment.op_hashes = std::move(log.hashes);
  std::unordered_map<int32_t, int32_t>& local = segment.local_of;
  auto define = [&](stablehlo::Value v) {
    const auto id = static_cast<int32_t>(segment.types.size());
    local.emplace(v.id, id);
    segment.types.push_back(builder_->type(v));
    return stablehlo::Value{id};
  };
  for (size_t i = 0; i < log.externals.size(); ++i) {
    define(stablehlo::Value{log.external_values[i]});
  }
  segment.externals = std::move(log.externals);
  auto renumber = [&](stablehlo::Value v) {
    auto found = local.find(v.id);
    if (found == local.end()) {
      throw std::logic_error("value %" + std::to_string(v.id) + " comes from outside the segment");
    }
    return stablehlo::Value{found->second};
  };
  try {
    size_t fold = 0;
    const size_t end = builder_->operation_count();
    for (size_t i = log.first_op; i < end; ++i) {
      // The ops that folded an op's checks into the trace's error word are
      // not copied: they chain to the word of the trace they were made in,
      // and add_checks makes them again when the segment is appended.
      while (fold < log.folds.size() && log.folds[fold].begin == i) {
        SegmentLog::Fold& folded = log.folds[fold];
        TraceSegment::Checks checks{segment.operations.size(), std::move(folded.sites), {}};
        for (lowering::DeviceCheck check : folded.checks) {
          check.failed = renumber(check.failed);
          check.detail = renumber(check.detail);
          checks.checks.push_back(std::move(check));
        }
        segment.checks.push_back(std::move(checks));
        i = folded.end;
        ++fold;
      }
      if (i >= end) break;
      segment.operations.push_back(stablehlo::renumbered(builder_->operation(i), renumber, define));
    }
  } catch (const std::logic_error& e) {
    segment.unreplayable = e.what();
  }
  return segment;
}

std::vector<stablehlo::Value> PendingTrace::append_segment(
    const TraceSegment& segment, std::vector<stablehlo::Value> externals) {
  std::vector<stablehlo::Value> values = std::move(externals);
  values.resize(segment.types.size());
  const stablehlo::Operation* ops = segment.operations.data();
  size_t done = 0;
  for (const TraceSegment::Checks& checks : segment.checks) {
    builder_->append_copies(ops + done, ops + checks.position, segment.types, values);
    done = checks.position;
    std::vector<lowering::DeviceCheck> renumbered = checks.checks;
    for (lowering::DeviceCheck& check : renumbered) {
      check.failed = values.at(check.failed.id);
      check.detail = values.at(check.detail.id);
    }
    add_checks(checks.sites, renumbered);
  }
  builder_->append_copies(ops + done, ops + segment.operations.size(), segment.types, values);
  for (size_t i = 0; i < segment.op_names.size(); ++i) {
    note_op(segment.op_names[i], segment.op_hashes[i]);
  }
  return values;
}

}  // namespace torch_pjrt::engine
