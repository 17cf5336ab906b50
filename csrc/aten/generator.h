#pragma once

#include <ATen/core/Generator.h>
#include <c10/core/GeneratorImpl.h>

#include <array>
#include <cstdint>

namespace torch_pjrt::aten {

// The device RNG state is a seed and a call counter on the host. Each random
// op takes a fresh 128-bit key derived from both (see next_key), so no state
// lives on the device and a changing counter never recompiles anything.
class TpuGenerator final : public c10::GeneratorImpl {
 public:
  explicit TpuGenerator(c10::DeviceIndex device, uint64_t seed = 67280421310721ULL);

  void set_current_seed(uint64_t seed) override;
  uint64_t current_seed() const override { return seed_; }
  uint64_t seed() override;
  void set_offset(uint64_t offset) override { offset_ = offset; }
  uint64_t get_offset() const override { return offset_; }
  void set_state(const c10::TensorImpl& new_state) override;
  c10::intrusive_ptr<c10::TensorImpl> get_state() const override;
  static c10::DeviceType device_type() { return c10::DeviceType::PrivateUse1; }

  // The rng_bit_generator state for one random op; advances the counter.
  std::array<uint64_t, 2> next_key();

 private:
  TpuGenerator* clone_impl() const override;
  uint64_t seed_;
  uint64_t offset_ = 0;
};

const at::Generator& default_generator(c10::DeviceIndex device);
// Seeds every device's generator, including those not created yet.
void manual_seed_all(uint64_t seed);

}  // namespace torch_pjrt::aten
