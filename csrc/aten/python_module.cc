// torch_pjrt._C: what the Python package needs from the C++ core.
#include <torch/csrc/autograd/python_variable.h>
#include <torch/csrc/utils/pybind.h>

#include "aten/generator.h"
#include "aten/graph_replay.h"
#include "aten/op_dispatch.h"
#include "aten/runtime_access.h"
#include "aten/storage.h"
#include "engine/compile_settings.h"

namespace torch_pjrt::aten {

void register_hooks();

namespace {

namespace py = pybind11;

// A compiled graph's arguments as the recorder sees them: tensors, and
// undefined ones for everything else.
std::vector<at::Tensor> graph_tensors(const py::list& items) {
  std::vector<at::Tensor> tensors;
  tensors.reserve(items.size());
  for (const py::handle item : items) {
    tensors.push_back(THPVariable_Check(item.ptr()) ? THPVariable_Unpack(item.ptr())
                                                    : at::Tensor());
  }
  return tensors;
}

// graph_input_key plus the values of the non-tensor arguments (Dynamo's
// specialized ints and floats, None); None for an argument of another kind.
py::object graph_call_key(const py::list& items) {
  std::string key = graph_input_key(graph_tensors(items));
  for (const py::handle item : items) {
    if (THPVariable_Check(item.ptr())) continue;
    if (item.is_none()) {
      key.push_back('N');
    } else if (PyBool_Check(item.ptr())) {
      key.push_back(item.ptr() == Py_True ? 't' : 'f');
    } else if (PyLong_Check(item.ptr())) {
      const int64_t v = item.cast<int64_t>();
      key.push_back('i');
      key.append(reinterpret_cast<const char*>(&v), sizeof(v));
    } else if (PyFloat_Check(item.ptr())) {
      const double v = item.cast<double>();
      key.push_back('d');
      key.append(reinterpret_cast<const char*>(&v), sizeof(v));
    } else {
      return py::none();
    }
  }
  return py::bytes(key);
}

py::dict metrics() {
  engine::Metrics& m = runtime().metrics();
  py::dict result;
  result["compiles"] = m.compiles.load();
  result["cache_hits"] = m.cache_hits.load();
  result["disk_cache_hits"] = m.disk_cache_hits.load();
  result["disk_cache_misses"] = m.disk_cache_misses.load();
  result["disk_cache_bytes"] = m.disk_cache_bytes.load();
  result["executions"] = m.executions.load();
  result["traced_ops"] = m.traced_ops.load();
  result["graph_replays"] = m.graph_replays.load();
  result["executions_in_flight"] = runtime().executions_in_flight();
  result["bytes_to_device"] = m.bytes_to_device.load();
  result["bytes_from_device"] = m.bytes_from_device.load();
  result["cpu_fallbacks"] = m.cpu_fallbacks.load();
  result["live_buffers"] = m.live_buffers.load();
  result["live_bytes"] = m.live_bytes.load();
  result["peak_live_bytes"] = m.peak_live_bytes.load();
  result["compile_seconds"] = static_cast<double>(m.compile_nanoseconds.load()) * 1e-9;
  const int64_t flushes = m.flushes.load();
  result["flushes"] = flushes;
  result["ops_per_flush"] =
      flushes == 0 ? 0.0 : static_cast<double>(m.fused_ops.load()) / static_cast<double>(flushes);
  for (const auto& [reason, count] : m.flush_counts()) result[("flush::" + reason).c_str()] = count;
  for (const auto& [op, count] : m.fallback_counts())
    result[("cpu_fallback::" + op).c_str()] = count;
  return result;
}

void configure(const std::string& plugin_path, const std::string& plugin_name,
               int64_t cpu_device_count, const std::string& mode, bool cpu_fallback,
               int64_t fused_max_ops) {
  engine::RuntimeOptions options;
  options.plugin_path = plugin_path;
  options.plugin_name = plugin_name;
  options.cpu_device_count = cpu_device_count;
  TORCH_CHECK(mode == "strict" || mode == "debug" || mode == "fused",
              "TORCH_PJRT_EAGER_MODE must be 'strict', 'debug' or 'fused', got '", mode, "'");
  options.mode = mode == "debug"   ? engine::EagerMode::kDebug
                 : mode == "fused" ? engine::EagerMode::kFused
                                   : engine::EagerMode::kStrict;
  TORCH_CHECK(fused_max_ops >= 1, "TORCH_PJRT_FUSED_MAX_OPS must be at least 1, got ",
              fused_max_ops);
  options.fused_max_ops = fused_max_ops;
  options.cpu_fallback = cpu_fallback;
  configure_runtime(options);
}

void configure_executable_cache(const std::string& cache_dir, int64_t cache_max_bytes,
                                const std::string& xla_flags, bool explain_recompiles) {
  TORCH_CHECK(cache_max_bytes > 0, "TORCH_PJRT_CACHE_MAX_BYTES must be positive, got ",
              cache_max_bytes);
  try {
    engine::parse_xla_flags(xla_flags);
  } catch (const std::invalid_argument& e) {
    TORCH_CHECK_VALUE(false, e.what());
  }
  engine::ExecutableCacheOptions options;
  options.disk_directory = cache_dir;
  options.disk_max_bytes = cache_max_bytes;
  options.xla_flags = xla_flags;
  options.explain_recompiles = explain_recompiles;
  aten::configure_executables(options);
}

py::dict plugin_attributes() {
  py::dict result;
  for (const auto& [name, value] : runtime().client().plugin()->attributes()) {
    std::visit([&](const auto& v) { result[name.c_str()] = v; }, value);
  }
  return result;
}

}  // namespace

PYBIND11_MODULE(_C, m) {
  register_hooks();
  c10::SetAllocator(c10::DeviceType::PrivateUse1, tpu_allocator());
  register_rule_kernels();
  m.def("_configure", &configure);
  m.def("_configure_executables", &configure_executable_cache);
  m.def("_started", &runtime_started);
  m.def("_device_count", [] { return runtime().device_count(); });
  m.def("_current_device", [] { return static_cast<int>(current_device()); });
  m.def("_set_device", [](int index) { set_current_device(static_cast<c10::DeviceIndex>(index)); });
  m.def("_device_name", [](int index) { return runtime().device_name(index); });
  m.def("_platform_version", [] { return runtime().client().platform_version(); });
  m.def("_plugin_attributes", &plugin_attributes);
  m.def("_synchronize", [] {
    {
      py::gil_scoped_release no_gil;
      runtime().synchronize();
    }
    raise_device_errors();
  });
  m.def("_metrics", &metrics);
  m.def("_eager_mode", [] {
    switch (runtime().mode()) {
      case engine::EagerMode::kDebug:
        return "debug";
      case engine::EagerMode::kFused:
        return "fused";
      case engine::EagerMode::kStrict:
        break;
    }
    return "strict";
  });

  m.def("_begin_graph", [] { runtime().begin_graph(); });
  m.def("_end_graph", [] {
    py::gil_scoped_release no_gil;
    runtime().end_graph();
  });
  // torch.compile's graph replay (aten/graph_replay.h).
  py::class_<RecordedGraph>(m, "_RecordedGraph");
  m.def("_graph_call_key", &graph_call_key);
  m.def("_begin_graph_recording", [](const py::list& inputs, int64_t most_ops) {
    return begin_graph_recording(graph_tensors(inputs), most_ops);
  });
  m.def("_end_graph_recording", [](const py::list& outputs) -> py::tuple {
    std::string why;
    auto recording = end_graph_recording(graph_tensors(outputs), why);
    if (!recording) return py::make_tuple(py::none(), why);
    return py::make_tuple(RecordedGraph{std::move(recording)}, py::none());
  });
  m.def("_abort_graph_recording", &abort_graph_recording);
  m.def("_replay_graph", [](const RecordedGraph& graph, const py::list& inputs) -> py::object {
    std::optional<std::vector<at::Tensor>> outputs =
        replay_graph(*graph.recording, graph_tensors(inputs));
    if (!outputs) return py::none();
    py::list result;
    for (at::Tensor& t : *outputs) {
      if (t.defined()) {
        result.append(py::reinterpret_steal<py::object>(THPVariable_Wrap(std::move(t))));
      } else {
        result.append(py::none());
      }
    }
    return result;
  });
  m.def("_reset_metrics", [] { runtime().metrics().reset(); });
  m.def("_memory_allocated", [] { return runtime().metrics().live_bytes.load(); });
  m.def("_max_memory_allocated", [] { return runtime().metrics().peak_live_bytes.load(); });
  m.def("_reset_peak_memory", [] {
    auto& metrics = runtime().metrics();
    metrics.peak_live_bytes = metrics.live_bytes.load();
  });
  m.def("_manual_seed", [](int index, uint64_t seed) {
    at::Generator generator = default_generator(static_cast<c10::DeviceIndex>(index));
    std::lock_guard<std::mutex> lock(generator.mutex());
    generator.set_current_seed(seed);
  });
  m.def("_manual_seed_all", &manual_seed_all);
  m.def("_initial_seed", [](int index) {
    return default_generator(static_cast<c10::DeviceIndex>(index)).current_seed();
  });
  // torch.random.fork_rng and activation checkpointing save and restore the
  // device's generator through these.
  m.def("_get_rng_state", [](int index) {
    at::Generator generator = default_generator(static_cast<c10::DeviceIndex>(index));
    std::lock_guard<std::mutex> lock(generator.mutex());
    return generator.get_state();
  });
  m.def("_set_rng_state", [](int index, const at::Tensor& state) {
    at::Generator generator = default_generator(static_cast<c10::DeviceIndex>(index));
    std::lock_guard<std::mutex> lock(generator.mutex());
    generator.set_state(state);
  });
}

}  // namespace torch_pjrt::aten
