#pragma once

#include <ATen/core/Tensor.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace torch_pjrt::aten {

// torch.compile(backend="tpu"): a compiled graph's first call runs its ops
// through the kernels, which trace them; the ops they added to the pending
// trace are recorded with where each read value came from (an input's
// storage, a host scalar input, a constant, an RNG key) and what the graph
// left where (outputs, inputs written in place). A later call with the same
// input key appends that record to the trace and binds the outputs, with no
// dispatch or rule per op: the program is the same, found in the cache.
//
// Inputs are the graph's arguments as the recorder sees them: tpu tensors,
// 0-d CPU tensors (host scalars) and undefined tensors for anything else.
struct GraphRecording;
// What Python holds for a recorded graph.
struct RecordedGraph {
  std::shared_ptr<const GraphRecording> recording;
};

// The part of a call's key that the inputs make: each tensor's device,
// dtype, sizes, strides, offset, storage size and which earlier input shares
// its storage, plus the settings the rules read. Calls with equal keys add
// the same ops.
std::string graph_input_key(const std::vector<at::Tensor>& inputs);

// Starts recording the ops the graph adds, at most `most_ops` (its node
// count); false (nothing recorded) when its tpu inputs are on more than one
// device.
bool begin_graph_recording(const std::vector<at::Tensor>& inputs, int64_t most_ops);
// Ends it with the graph's outputs (undefined for None and non-tensors). A
// graph that cannot be replayed gives null and says why in `why`.
std::shared_ptr<const GraphRecording> end_graph_recording(const std::vector<at::Tensor>& outputs,
                                                          std::string& why);
// Ends a recording whose graph raised.
void abort_graph_recording();
// For TracedCall: the input a 0-d host tensor is, while a recording runs
// (-1 when none runs or it is not an input).
int recorded_host_input(const at::Tensor& tensor);

// Appends the recorded ops for a call with the recording's key and returns
// the outputs; nullopt when they cannot be appended (two inputs that held
// one value no longer do), and the caller runs the graph instead.
std::optional<std::vector<at::Tensor>> replay_graph(const GraphRecording& recording,
                                                    const std::vector<at::Tensor>& inputs);

}  // namespace torch_pjrt::aten
