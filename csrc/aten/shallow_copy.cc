// Whether one tensor's TensorImpl may adopt another's data in place
// (`param.data = other`, and so Module.to / .tpu() / .cpu()).
//
// PyTorch answers this in TensorImpl::has_compatible_shallow_copy_type from a
// fixed list of dense backends (CPU, CUDA, XPU, ...) that has no PrivateUse1.
// Without this kernel Module._apply therefore wraps every moved parameter in a
// new Parameter: tied weights come apart, and optimizers or hooks created
// before the move keep the old CPU tensors. Answering as CUDA does — any two
// dense strided tensors of CPU and tpu are compatible — keeps Parameter
// identity across moves.
#include <torch/library.h>

namespace torch_pjrt::aten {

namespace {

bool is_dense_cpu_or_tpu(const at::Tensor& t) {
  const c10::DeviceType type = t.device().type();
  return t.layout() == c10::kStrided &&
         (type == c10::DeviceType::CPU || type == c10::DeviceType::PrivateUse1);
}

bool has_compatible_shallow_copy_type(const at::Tensor& self, const at::Tensor& from) {
  if (is_dense_cpu_or_tpu(self) && is_dense_cpu_or_tpu(from)) return true;
  // Anything else (sparse, another backend) keeps PyTorch's own answer.
  return self.unsafeGetTensorImpl()->has_compatible_shallow_copy_type(from.key_set());
}

}  // namespace

// The op is CompositeImplicitAutograd, so the autograd key of the call is
// where a tpu argument (on either side) routes it.
TORCH_LIBRARY_IMPL(aten, AutogradPrivateUse1, m) {
  m.impl("_has_compatible_shallow_copy_type", &has_compatible_shallow_copy_type);
}

}  // namespace torch_pjrt::aten
