// The two ops torch.amp.GradScaler("tpu") calls, as compositions of ops that
// have lowering rules. Both stay on the device: the scaler never reads
// found_inf on the host between steps, as on CUDA.
#include <torch/library.h>

namespace torch_pjrt::aten {

namespace {

// Multiplies every gradient by inv_scale and sets found_inf to 1 if any of
// them holds an inf or NaN (found_inf is never reset here: the scaler zeroes it).
void non_finite_check_and_unscale(at::TensorList grads, at::Tensor& found_inf,
                                  const at::Tensor& inv_scale) {
  TORCH_CHECK(inv_scale.numel() == 1, "inv_scale must be a 1-element tensor.");
  TORCH_CHECK(found_inf.numel() == 1, "found_inf must be a 1-element tensor.");
  TORCH_CHECK(inv_scale.scalar_type() == at::kFloat, "inv_scale must be a float tensor.");
  TORCH_CHECK(found_inf.scalar_type() == at::kFloat, "found_inf must be a float tensor.");
  if (grads.empty()) return;
  std::vector<at::Tensor> any_non_finite;
  any_non_finite.reserve(grads.size());
  for (const at::Tensor& grad : grads) {
    TORCH_CHECK(grad.device() == found_inf.device(),
                "_amp_foreach_non_finite_check_and_unscale_: every gradient must be on ",
                found_inf.device(), ", got one on ", grad.device());
    TORCH_CHECK(grad.layout() == at::kStrided,
                "_amp_foreach_non_finite_check_and_unscale_: sparse gradients are not supported");
    any_non_finite.push_back(at::logical_not(at::isfinite(grad)).any().reshape({1}));
  }
  at::Tensor found = at::cat(any_non_finite).any().reshape(found_inf.sizes());
  found_inf.copy_(at::where(found, at::ones_like(found_inf), found_inf));
  for (const at::Tensor& grad : grads) grad.mul_(inv_scale.to(grad.scalar_type()));
}

// The scaler's schedule: back off on an overflow, grow after growth_interval
// clean steps in a row, as CUDA's _amp_update_scale_ kernel does.
at::Tensor& update_scale(at::Tensor& scale, at::Tensor& growth_tracker, const at::Tensor& found_inf,
                         double growth_factor, double backoff_factor, int64_t growth_interval) {
  TORCH_CHECK(growth_tracker.scalar_type() == at::kInt, "growth_tracker must be an int tensor.");
  TORCH_CHECK(scale.scalar_type() == at::kFloat, "current_scale must be a float tensor.");
  TORCH_CHECK(found_inf.scalar_type() == at::kFloat, "found_inf must be a float tensor.");
  at::Tensor overflow = found_inf.ne(0);
  at::Tensor clean_steps = growth_tracker.add(1);
  at::Tensor grow = at::logical_and(at::logical_not(overflow), clean_steps.ge(growth_interval));
  at::Tensor grown = scale.mul(growth_factor);
  // A scale that would overflow to inf stays where it is.
  grown = at::where(at::isfinite(grown), grown, scale);
  at::Tensor new_scale =
      at::where(overflow, scale.mul(backoff_factor), at::where(grow, grown, scale));
  at::Tensor new_tracker =
      at::where(at::logical_or(overflow, grow), at::zeros_like(clean_steps), clean_steps);
  scale.copy_(new_scale);
  growth_tracker.copy_(new_tracker);
  return scale;
}

}  // namespace

TORCH_LIBRARY_IMPL(aten, PrivateUse1, m) {
  m.impl("_amp_foreach_non_finite_check_and_unscale_", &non_finite_check_and_unscale);
  m.impl("_amp_update_scale_", &update_scale);
}

}  // namespace torch_pjrt::aten
