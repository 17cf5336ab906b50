#pragma once

#include <ATen/core/Tensor.h>

namespace torch_pjrt::aten {

// Grows or shrinks a tpu storage in place (same StorageValue, so every alias
// follows); existing bytes are kept as a prefix, new bytes are zero.
void resize_storage_bytes(const c10::Storage& storage, int64_t new_bytes);

const at::Tensor& resize_tensor(const at::Tensor& self, c10::IntArrayRef size,
                                std::optional<c10::MemoryFormat> memory_format);

}  // namespace torch_pjrt::aten
