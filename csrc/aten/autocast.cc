// torch.autocast("tpu"): PyTorch leaves the cast policy of a PrivateUse1
// device to its backend. We take PyTorch's own op lists (the ones its CUDA
// policy is built from, kept in ATen/autocast_mode.h), so an autocast region
// on "tpu" casts exactly the ops it casts on CUDA: matmuls, convolutions and
// attention run in the autocast dtype, numerically sensitive ops in f32, and
// mixed-dtype ops promote. The default autocast dtype for the device is set
// from Python (bfloat16, the TPU's native type).
#include <ATen/autocast_mode.h>
#include <torch/library.h>

namespace torch_pjrt::aten {

namespace {

at::Tensor binary_cross_entropy_refused(const at::Tensor&, const at::Tensor&,
                                        const std::optional<at::Tensor>&, int64_t) {
  TORCH_CHECK(false,
              "torch.nn.functional.binary_cross_entropy and torch.nn.BCELoss are unsafe to "
              "autocast (their inputs are probabilities, which lose too much precision in a "
              "lower precision type). Use binary_cross_entropy_with_logits / BCEWithLogitsLoss, "
              "which are safe, or run the loss outside the autocast region.");
}

}  // namespace

// PyTorch's signature lists name these types unqualified.
using at::IntArrayRef;
using at::Scalar;
using at::ScalarType;
using at::Tensor;

// Ops without a policy run unchanged.
TORCH_LIBRARY_IMPL(_, AutocastPrivateUse1, m) { m.fallback(torch::CppFunction::makeFallthrough()); }

TORCH_LIBRARY_IMPL(aten, AutocastPrivateUse1, m) {
#define TORCH_PJRT_LOWER_PRECISION(...) KERNEL_PRIVATEUSEONE(__VA_ARGS__, lower_precision_fp)
#define TORCH_PJRT_FP32(...) KERNEL_PRIVATEUSEONE(__VA_ARGS__, fp32)
#define TORCH_PJRT_FP32_SET_OPT_DTYPE(...) KERNEL_PRIVATEUSEONE(__VA_ARGS__, fp32_set_opt_dtype)
#define TORCH_PJRT_PROMOTE(...) KERNEL_PRIVATEUSEONE(__VA_ARGS__, promote)
  AT_FORALL_LOWER_PRECISION_FP(TORCH_PJRT_LOWER_PRECISION)
  AT_FORALL_FP32(TORCH_PJRT_FP32)
  AT_FORALL_FP32_SET_OPT_DTYPE(TORCH_PJRT_FP32_SET_OPT_DTYPE)
  AT_FORALL_DIFFERENT_REDISPATCH_SIGNATURE(KERNEL_DIFFERENT_REDISPATCH_SIGNATURE_PRIVATEUSEONE)
  AT_FORALL_PROMOTE(TORCH_PJRT_PROMOTE)
#undef TORCH_PJRT_LOWER_PRECISION
#undef TORCH_PJRT_FP32
#undef TORCH_PJRT_FP32_SET_OPT_DTYPE
#undef TORCH_PJRT_PROMOTE
  m.impl(TORCH_SELECTIVE_NAME("aten::binary_cross_entropy"),
         TORCH_FN(binary_cross_entropy_refused));
}

}  // namespace torch_pjrt::aten
