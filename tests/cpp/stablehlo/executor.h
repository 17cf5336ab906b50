#pragma once

// Compiles and runs Functions on the XLA:CPU plugin: the execution tests are
// what proves the printed text is what the plugin accepts and means.

#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "pjrt/pjrt.h"
#include "stablehlo/function.h"
#include "stablehlo/pjrt_type.h"

namespace torch_pjrt::stablehlo::testing {

struct HostTensor {
  TensorType type;
  std::vector<uint8_t> bytes;  // dense row-major

  template <class T>
  static HostTensor of(ElementType element, std::vector<int64_t> dims,
                       const std::vector<T>& values) {
    HostTensor t{{element, std::move(dims)}, {}};
    t.bytes.resize(values.size() * sizeof(T));
    std::memcpy(t.bytes.data(), values.data(), t.bytes.size());
    return t;
  }

  template <class T>
  std::vector<T> as() const {
    std::vector<T> values(bytes.size() / sizeof(T));
    std::memcpy(values.data(), bytes.data(), values.size() * sizeof(T));
    return values;
  }
};

namespace detail {

inline const pjrt::Client& client() {
  static const std::unique_ptr<pjrt::Client> instance =
      pjrt::Client::create(pjrt::Plugin::load(TORCH_PJRT_TEST_CPU_PLUGIN));
  return *instance;
}

}  // namespace detail

// Runs `fn` on the first CPU device; the plugin and client are created once
// per process.
inline std::vector<HostTensor> run(const Function& fn,
                                   const std::vector<HostTensor>& arguments = {}) {
  const pjrt::Client& c = detail::client();
  const pjrt::Device& device = c.addressable_devices().at(0);
  auto executable = c.compile(fn.to_mlir());
  std::vector<std::unique_ptr<pjrt::Buffer>> inputs;
  std::vector<pjrt::Buffer*> raw;
  for (const HostTensor& a : arguments) {
    inputs.push_back(
        c.buffer_from_host(a.bytes.data(), to_pjrt_type(a.type.element), a.type.dims, device));
    raw.push_back(inputs.back().get());
  }
  pjrt::ExecuteResult result = executable->execute(raw, device);
  std::vector<TensorType> types = fn.result_types();
  std::vector<HostTensor> outputs;
  for (size_t i = 0; i < result.outputs.size(); ++i) {
    HostTensor out{types.at(i), {}};
    out.bytes.resize(result.outputs[i]->host_size());
    result.outputs[i]->to_host(out.bytes.data(), out.bytes.size());
    outputs.push_back(std::move(out));
  }
  return outputs;
}

}  // namespace torch_pjrt::stablehlo::testing
