#include "engine/runtime.h"

#include <algorithm>
#include <exception>
#include <stdexcept>

#include "stablehlo/pjrt_type.h"

namespace torch_pjrt::engine {

namespace {

std::map<std::string, pjrt::NamedValue> client_options(const RuntimeOptions& options) {
  std::map<std::string, pjrt::NamedValue> result;
  if (options.plugin_name == "cpu") result["cpu_device_count"] = options.cpu_device_count;
  return result;
}

}  // namespace

// Executions still running are kept so synchronize() can wait for them, and
// failed ones so it can raise their error; the others are dropped as we go so
// the list stays short.
void Runtime::drop_finished() {
  std::erase_if(pending_, [](const InFlight& run) { return !run.running() && !run.done->error(); });
}

Runtime::Runtime(const RuntimeOptions& options)
    : options_(options), checks_(options.mode == EagerMode::kDebug) {
  auto plugin = pjrt::Plugin::load(options.plugin_path);
  client_ = pjrt::Client::create(plugin, client_options(options));
  executables_ = std::make_unique<ExecutableCache>(*client_, metrics_, options.executables);
}

Runtime::~Runtime() = default;

int Runtime::device_count() const {
  return static_cast<int>(client_->addressable_devices().size());
}

const pjrt::Device& Runtime::device(int index) const {
  const auto& devices = client_->addressable_devices();
  if (index < 0 || index >= static_cast<int>(devices.size())) {
    throw std::out_of_range("tpu device index " + std::to_string(index) +
                            " is out of range: this process has " + std::to_string(devices.size()) +
                            " device(s)");
  }
  return devices[index];
}

std::string Runtime::device_name(int index) const {
  std::string platform = client_->platform_name();
  for (auto& c : platform) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return "XLA:" + platform + " (" + device(index).kind() + ")";
}

std::shared_ptr<DeviceBuffer> Runtime::to_device(const void* data,
                                                 const stablehlo::TensorType& type,
                                                 int device_index) {
  auto buffer = client_->buffer_from_host(data, stablehlo::to_pjrt_type(type.element), type.dims,
                                          device(device_index));
  auto result = std::make_shared<DeviceBuffer>(std::move(buffer), type, metrics_);
  metrics_.bytes_to_device.fetch_add(result->nbytes(), std::memory_order_relaxed);
  return result;
}

void Runtime::to_host(const DeviceBuffer& buffer, void* destination) {
  if (buffer.nbytes() == 0) return;
  buffer.pjrt().to_host(destination, static_cast<size_t>(buffer.nbytes()));
  metrics_.bytes_from_device.fetch_add(buffer.nbytes(), std::memory_order_relaxed);
}

std::vector<std::shared_ptr<DeviceBuffer>> Runtime::execute(
    const Executable& executable, std::span<DeviceBuffer* const> inputs, int device_index,
    std::span<const int64_t> non_donatable) {
  std::vector<pjrt::Buffer*> arguments;
  arguments.reserve(inputs.size());
  for (DeviceBuffer* input : inputs) arguments.push_back(&input->pjrt());
  pjrt::ExecuteOptions execute_options;
  execute_options.non_donatable_input_indices.assign(non_donatable.begin(), non_donatable.end());
  auto result = executable.loaded->execute(arguments, device(device_index), execute_options);
  metrics_.executions.fetch_add(1, std::memory_order_relaxed);
  // Before the outputs are counted, so a donated input and the output that
  // reuses its memory are never counted together.
  InFlight run{std::move(result.done), {}};
  for (DeviceBuffer* input : inputs) {
    if (auto handle = input->take_if_donated()) run.donated.push_back(std::move(handle));
  }
  if (options_.mode == EagerMode::kDebug) {
    run.done->wait();
  } else {
    std::shared_ptr<pjrt::Event> oldest;
    {
      std::lock_guard<std::mutex> lock(pending_mutex_);
      drop_finished();
      pending_.push_back(std::move(run));
      // Failed runs stay listed for synchronize(); the wait is for the oldest
      // one still running.
      if (pending_.size() > kMaxInFlight) {
        auto running = std::find_if(pending_.begin(), pending_.end(),
                                    [](const InFlight& r) { return r.running(); });
        if (running != pending_.end()) oldest = running->done;
      }
    }
    // The host may run ahead of the device, but only so far: what a queued
    // execution holds (its outputs, donated handles) stays bounded. A failure
    // is not raised here but by synchronize(), which still holds the event.
    if (oldest) {
      try {
        oldest->wait();
      } catch (const pjrt::Error&) {
      }
    }
  }
  std::vector<std::shared_ptr<DeviceBuffer>> outputs;
  outputs.reserve(result.outputs.size());
  for (size_t i = 0; i < result.outputs.size(); ++i) {
    outputs.push_back(std::make_shared<DeviceBuffer>(std::move(result.outputs[i]),
                                                     executable.output_types.at(i), metrics_));
  }
  return outputs;
}

int64_t Runtime::executions_in_flight() {
  std::lock_guard<std::mutex> lock(pending_mutex_);
  return std::count_if(pending_.begin(), pending_.end(),
                       [](const InFlight& run) { return run.running(); });
}

PendingTrace& Runtime::pending(int device_index) {
  device(device_index);  // checks the index
  std::lock_guard<std::mutex> lock(traces_mutex_);
  if (traces_.size() <= static_cast<size_t>(device_index)) traces_.resize(device_index + 1);
  auto& trace = traces_[device_index];
  if (!trace) trace = std::make_unique<PendingTrace>(*this, device_index);
  return *trace;
}

std::vector<PendingTrace*> Runtime::all_traces() {
  std::vector<PendingTrace*> traces;
  std::lock_guard<std::mutex> lock(traces_mutex_);
  for (auto& trace : traces_) {
    if (trace) traces.push_back(trace.get());
  }
  return traces;
}

void Runtime::flush_all(const std::string& reason) {
  for (PendingTrace* trace : all_traces()) trace->flush(reason);
}

void Runtime::begin_graph() {
  if (options_.mode != EagerMode::kFused) flush_all("graph_start");
  ++graph_scopes_;
}

void Runtime::end_graph() {
  if (options_.mode == EagerMode::kFused) {
    if (--graph_scopes_ == 0) {
      for (PendingTrace* trace : all_traces()) trace->graph_ended();
    }
    return;
  }
  // The scope ends even when the graph's program fails, so later ops run as
  // the eager mode says.
  struct Leave {
    std::atomic<int>& scopes;
    ~Leave() { --scopes; }
  } leave{graph_scopes_};
  flush_all("graph");
}

void Runtime::synchronize() {
  flush_all("synchronize");
  std::vector<InFlight> pending;
  {
    std::lock_guard<std::mutex> lock(pending_mutex_);
    pending.swap(pending_);
  }
  // Every execution is waited for, so that none is still running when a
  // failure is raised; the first one enqueued that failed is raised.
  std::exception_ptr first_failure;
  for (auto& run : pending) {
    try {
      run.done->wait();
    } catch (const pjrt::Error&) {
      if (!first_failure) first_failure = std::current_exception();
    }
  }
  if (first_failure) std::rethrow_exception(first_failure);
}

}  // namespace torch_pjrt::engine
