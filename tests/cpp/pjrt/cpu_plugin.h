#pragma once

// The XLA:CPU plugin and a two-device client, shared by every test of the
// binary: the plugin is 250 MB and PJRT plugins are loaded once per process.

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "pjrt/pjrt.h"

namespace torch_pjrt::pjrt::testing {

inline const std::shared_ptr<Plugin>& cpu_plugin() {
  static const std::shared_ptr<Plugin> plugin = Plugin::load(TORCH_PJRT_TEST_CPU_PLUGIN);
  return plugin;
}

inline const Client& cpu_client() {
  static const std::unique_ptr<Client> client =
      Client::create(cpu_plugin(), {{"cpu_device_count", int64_t{2}}});
  return *client;
}

inline const Device& device(int index) { return cpu_client().addressable_devices().at(index); }

template <typename T>
std::unique_ptr<Buffer> upload(const std::vector<T>& values, PJRT_Buffer_Type type,
                               std::vector<int64_t> dims, int device_index = 0) {
  return cpu_client().buffer_from_host(values.data(), type, dims, device(device_index));
}

template <typename T>
std::vector<T> download(const Buffer& buffer) {
  std::vector<T> values(buffer.host_size() / sizeof(T));
  buffer.to_host(values.data(), values.size() * sizeof(T));
  return values;
}

}  // namespace torch_pjrt::pjrt::testing
