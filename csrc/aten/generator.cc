#include "aten/generator.h"

#include <ATen/core/GeneratorForPrivateuseone.h>
#include <ATen/core/Tensor.h>
#include <ATen/ops/empty.h>
#include <c10/core/TensorImpl.h>

#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <random>

#include "aten/runtime_access.h"

namespace torch_pjrt::aten {

namespace {

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

}  // namespace

TpuGenerator::TpuGenerator(c10::DeviceIndex device, uint64_t seed)
    : c10::GeneratorImpl(c10::Device(c10::DeviceType::PrivateUse1, device),
                         c10::DispatchKeySet(c10::DispatchKey::PrivateUse1)),
      seed_(seed) {}

void TpuGenerator::set_current_seed(uint64_t seed) {
  seed_ = seed;
  offset_ = 0;
}

uint64_t TpuGenerator::seed() {
  set_current_seed(std::random_device{}() | (uint64_t{std::random_device{}()} << 32));
  return seed_;
}

std::array<uint64_t, 2> TpuGenerator::next_key() {
  // Distinct keys per (seed, call) give independent Threefry streams; the
  // counter word starts at zero for every op.
  uint64_t key = splitmix64(seed_ ^ splitmix64(offset_++));
  return {key, 0};
}

void TpuGenerator::set_state(const c10::TensorImpl& new_state) {
  TORCH_CHECK(new_state.numel() == 16 && new_state.dtype() == caffe2::TypeMeta::Make<uint8_t>(),
              "tpu generator state must be a uint8 tensor of 16 bytes (seed, offset)");
  const auto* bytes = static_cast<const uint8_t*>(new_state.data());
  std::memcpy(&seed_, bytes, 8);
  std::memcpy(&offset_, bytes + 8, 8);
}

c10::intrusive_ptr<c10::TensorImpl> TpuGenerator::get_state() const {
  at::Tensor state = at::empty({16}, at::TensorOptions().dtype(at::kByte));
  auto* bytes = state.data_ptr<uint8_t>();
  std::memcpy(bytes, &seed_, 8);
  std::memcpy(bytes + 8, &offset_, 8);
  return state.getIntrusivePtr();
}

TpuGenerator* TpuGenerator::clone_impl() const {
  auto* copy = new TpuGenerator(device().index(), seed_);
  copy->offset_ = offset_;
  return copy;
}

namespace {

// One generator per device, created on first use and kept for the process
// (like CUDA's default generators); deque keeps references stable. A seed set
// for all devices before a device's generator exists applies when it is made,
// so torch.manual_seed does not have to start the plugin.
struct DefaultGenerators {
  std::mutex mutex;
  std::deque<at::Generator> generators;
  std::optional<uint64_t> seed_for_new;
};

DefaultGenerators& default_generators() {
  static auto* instance = new DefaultGenerators();
  return *instance;
}

}  // namespace

const at::Generator& default_generator(c10::DeviceIndex device) {
  auto& state = default_generators();
  std::lock_guard<std::mutex> lock(state.mutex);
  TORCH_CHECK(device >= 0 && device < runtime().device_count(), "tpu:", static_cast<int>(device),
              " does not exist");
  while (static_cast<int>(state.generators.size()) <= device) {
    auto index = static_cast<c10::DeviceIndex>(state.generators.size());
    state.generators.push_back(state.seed_for_new
                                   ? at::make_generator<TpuGenerator>(index, *state.seed_for_new)
                                   : at::make_generator<TpuGenerator>(index));
  }
  return state.generators[device];
}

void manual_seed_all(uint64_t seed) {
  auto& state = default_generators();
  std::lock_guard<std::mutex> lock(state.mutex);
  state.seed_for_new = seed;
  for (auto& generator : state.generators) {
    std::lock_guard<std::mutex> generator_lock(generator.mutex());
    generator.set_current_seed(seed);
  }
}

}  // namespace torch_pjrt::aten
