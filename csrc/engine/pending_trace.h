#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "engine/device_buffer.h"
#include "engine/device_checks.h"
#include "engine/storage_value.h"
#include "engine/trace_segment.h"
#include "stablehlo/builder.h"

namespace torch_pjrt::engine {

class Runtime;
struct Executable;

// Fused eager mode (DESIGN.md, "One lowering path, three ways to run it"):
// ops of one device are traced into this one function instead of being run.
// Their results are deferred values; flush() finishes the function with the
// deferred values that live storages still hold as its outputs, compiles it
// through the executable cache (so a repeated step finds its program) and
// runs it. Not thread-safe by itself: callers hold mutex() across an op.
class PendingTrace {
 public:
  PendingTrace(Runtime& runtime, int device_index);
  PendingTrace(const PendingTrace&) = delete;
  PendingTrace& operator=(const PendingTrace&) = delete;

  std::recursive_mutex& mutex() { return mutex_; }
  stablehlo::Builder& builder() { return *builder_; }
  int device_index() const { return device_index_; }
  size_t op_count() const { return op_names_.size(); }

  // The trace's value of a storage: its deferred value, a parameter bound to
  // its buffer (one per buffer), or zeros when it was never written.
  stablehlo::Value storage_value(const StorageValue& storage, stablehlo::ElementType fallback);
  stablehlo::Value buffer_parameter(const std::shared_ptr<DeviceBuffer>& buffer);
  // A small host value (scalar, RNG key, view offset) sent at run time, so
  // that it never shapes the program. `source` says where a recorded segment
  // finds it on a later call.
  stablehlo::Value host_parameter(const stablehlo::TensorType& type, const void* bytes, size_t size,
                                  HostSource source = {});
  // A new deferred value computed by `value`.
  std::shared_ptr<DeferredValue> defer(stablehlo::Value value);

  // Marks where an op starts; rollback() undoes a failed op completely.
  struct Mark {
    stablehlo::Builder::Checkpoint builder;
    size_t inputs = 0;
  };
  Mark mark() const;
  void rollback(const Mark& mark);

  // The checks on the data an op just recorded made (sites[i] is checks[i]'s):
  // folded into the trace's one error word, which the flush returns.
  void add_checks(const CheckedSites& sites, const std::vector<lowering::DeviceCheck>& checks);

  // Records one finished op: its name for messages and its signature for the
  // loop detector. Flushes at the size bound; notes when the op closed a loop
  // iteration (see closes_loop).
  void finish_op(std::string_view name, std::string_view signature);
  // Called before an op joins the trace (before builder() is taken): a loop
  // iteration closed by the last op is flushed here, not at that op, so the
  // temporaries of the code that ran it (an optimizer's locals) are dead by
  // then and every iteration's program has the same outputs.
  void begin_op();

  // Fused mode: a compiled graph's ops joined this trace (they are not cut
  // apart by the loop detector); its end is where a step made of graphs (a
  // compiled forward, backward and optimizer update) can close an iteration,
  // so such a step runs as one program like an eager one.
  void graph_ended();

  // Runs what is pending (nothing when nothing is); `reason` is counted as
  // flush::<reason>. A failure marks the pending values failed and throws.
  void flush(const std::string& reason);

  // A compiled graph's first call records the ops it adds between these, so
  // that later calls append them again (append_segment) instead of running
  // each op's rule. What the segment reads from outside itself is logged as
  // it is read: storages through storage_value(), host values with their
  // source. A flush inside it, a buffer uploaded from the host or a host
  // value of unknown source makes it unreplayable (TraceSegment says why).
  void begin_segment();
  TraceSegment end_segment();
  // Appends a recorded segment. `externals` holds this call's value of each
  // of its externals, read in the recorded order (storage_value and
  // host_parameter, which create parameters in the same order as the
  // recording did, so the program is the same). Returns the value of every
  // local id. The caller checks first that the ops fit under the size bound.
  std::vector<stablehlo::Value> append_segment(const TraceSegment& segment,
                                               std::vector<stablehlo::Value> externals);

 private:
  // One parameter of the function: a materialized buffer, or host bytes.
  struct Input {
    std::shared_ptr<DeviceBuffer> buffer;
    stablehlo::TensorType type;
    std::array<uint8_t, 16> bytes{};
    stablehlo::Value value;
  };
  // A program this trace ran, remembered by its body (Function::BodyKey).
  struct Program {
    std::vector<int32_t> results;
    std::vector<int32_t> aliases;
    std::shared_ptr<const Executable> executable;
  };
  void reset();
  // finish_op without its flush at the size bound: whether the op closed a
  // loop iteration.
  bool note_op(std::string_view name, uint64_t signature_hash);
  // What a segment being recorded logged (begin_segment .. end_segment).
  struct SegmentLog {
    uint64_t generation = 0;
    size_t first_op = 0;
    std::vector<TraceSegment::External> externals;
    std::vector<int32_t> external_values;           // their ids in the builder
    std::unordered_set<int32_t> logged;             // the same, as a set
    std::unordered_set<const DeferredValue*> made;  // deferred values it made
    struct Fold {
      size_t begin = 0, end = 0;  // the ops add_checks appended
      CheckedSites sites;
      std::vector<lowering::DeviceCheck> checks;
    };
    std::vector<Fold> folds;
    std::vector<std::string> names;
    std::vector<uint64_t> hashes;
    std::string unreplayable;
  };
  SegmentLog* segment_log();  // null unless recording in this builder
  stablehlo::Value parameter_for_buffer(const std::shared_ptr<DeviceBuffer>& buffer);
  // The executable for `function`, and where each of its results is among
  // the executable's outputs. A flush of ops already run with more live
  // results (a step flushed by synchronize() keeps its gradients; the same
  // step closed by the loop detector has dropped them) reuses that program
  // and drops the extra outputs instead of compiling the same ops again.
  std::shared_ptr<const Executable> program_for(const stablehlo::Function& function,
                                                const std::vector<bool>& dead_inputs,
                                                std::vector<size_t>& positions);
  // Whether the op just finished closes a loop iteration (see finish_op).
  bool closes_loop(uint64_t signature_hash);
  // The loop tests of closes_loop for the last op, whose position is recorded.
  bool iteration_ends_here(uint64_t signature_hash);
  uint64_t range_hash(size_t begin, size_t end) const;
  // A trace flushed for another reason than a closed iteration (a host read
  // once per epoch) that ends in a repetition: its period becomes the known
  // iteration, so the next epoch runs one program per step instead of all
  // its steps unrolled into one program, slow to compile.
  void remember_tail_iteration();
  // The latest `period` ops are the loop's iteration (closes_loop checks it).
  void learn_iteration(size_t period);
  static std::string describe_ops(const std::vector<std::string>& names);

  Runtime& runtime_;
  int device_index_;
  std::recursive_mutex mutex_;
  std::unique_ptr<stablehlo::Builder> builder_;
  uint64_t generation_ = 0;
  std::vector<Input> inputs_;  // by parameter index
  std::unordered_map<const DeviceBuffer*, size_t> input_of_buffer_;
  std::vector<std::weak_ptr<DeferredValue>> deferred_;
  std::vector<std::string> op_names_;
  std::optional<lowering::ErrorWord> error_word_;
  std::shared_ptr<CheckedSites> check_sites_;
  // Polynomial prefix hashes of the op signatures since the last flush, and
  // the powers of their base, for an O(1) "is this a square" test per op.
  std::vector<uint64_t> prefix_hashes_{0};
  std::vector<uint64_t> powers_{1};
  std::unordered_map<uint64_t, std::vector<size_t>> positions_;  // signature hash -> op indices
  bool loop_closed_ = false;          // the last op closed a loop iteration
  uint64_t last_signature_hash_ = 0;  // of the last op recorded inside a graph
  // The op count and sequence hash of the last flushed trace.
  size_t previous_ops_ = 0;
  uint64_t previous_hash_ = 0;
  // The op count and sequence hash of the last loop iteration found by
  // repetition (closes_loop, remember_tail_iteration).
  size_t iteration_ops_ = 0;
  uint64_t iteration_hash_ = 0;
  std::unordered_map<uint64_t, std::vector<Program>> programs_;  // by body hash
  std::optional<SegmentLog> segment_;
};

}  // namespace torch_pjrt::engine
