#pragma once

#include <ATen/core/Tensor.h>

namespace torch_pjrt::aten {

// A contiguous CPU copy of a tpu tensor's view (blocks until it is there). In
// fused mode a pending value is flushed first, counted as flush::<reason>.
at::Tensor to_host_contiguous(const at::Tensor& src, const char* reason = "host_read");

at::Tensor& copy_(at::Tensor& self, const at::Tensor& src, bool non_blocking);

}  // namespace torch_pjrt::aten
