// The Tensor-lengths overloads of _ctc_loss and _ctc_loss_backward. The
// lowering rule needs the lengths as numbers (they decide which time steps and
// target positions each sample has), so, as CPU's kernel does, these read the
// two small length tensors on the host and call the int[] overloads, which run
// on the device through the rule.
#include <ATen/ATen.h>
#include <torch/library.h>

#include <tuple>
#include <vector>

#include "aten/copy.h"

namespace torch_pjrt::aten {

namespace {

std::vector<int64_t> read_lengths(const at::Tensor& lengths, const char* name) {
  TORCH_CHECK(at::isIntegralType(lengths.scalar_type(), /*includeBool=*/false), name,
              " must be integral");
  at::Tensor wide = lengths.to(at::kLong);
  at::Tensor host = wide.device().type() == c10::DeviceType::PrivateUse1
                        ? to_host_contiguous(wide, "data_dependent")
                        : wide.contiguous();
  const int64_t* data = host.const_data_ptr<int64_t>();
  return std::vector<int64_t>(data, data + host.numel());
}

std::tuple<at::Tensor, at::Tensor> ctc_loss_tensor_lengths(const at::Tensor& log_probs,
                                                           const at::Tensor& targets,
                                                           const at::Tensor& input_lengths,
                                                           const at::Tensor& target_lengths,
                                                           int64_t blank, bool zero_infinity) {
  const std::vector<int64_t> il = read_lengths(input_lengths, "input_lengths");
  const std::vector<int64_t> tl = read_lengths(target_lengths, "target_lengths");
  return at::_ctc_loss(log_probs, targets, il, tl, blank, zero_infinity);
}

at::Tensor ctc_loss_backward_tensor_lengths(const at::Tensor& grad, const at::Tensor& log_probs,
                                            const at::Tensor& targets,
                                            const at::Tensor& input_lengths,
                                            const at::Tensor& target_lengths,
                                            const at::Tensor& neg_log_likelihood,
                                            const at::Tensor& log_alpha, int64_t blank,
                                            bool zero_infinity) {
  const std::vector<int64_t> il = read_lengths(input_lengths, "input_lengths");
  const std::vector<int64_t> tl = read_lengths(target_lengths, "target_lengths");
  return at::_ctc_loss_backward(grad, log_probs, targets, il, tl, neg_log_likelihood, log_alpha,
                                blank, zero_infinity);
}

}  // namespace

TORCH_LIBRARY_IMPL(aten, PrivateUse1, m) {
  m.impl("_ctc_loss.Tensor", TORCH_FN(ctc_loss_tensor_lengths));
  m.impl("_ctc_loss_backward.Tensor", TORCH_FN(ctc_loss_backward_tensor_lengths));
}

}  // namespace torch_pjrt::aten
