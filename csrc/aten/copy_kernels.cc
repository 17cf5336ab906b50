// Copies between the host and the device and within the device, and .item().
#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/ops/_neg_view.h>
#include <ATen/ops/empty.h>
#include <torch/library.h>

#include "aten/copy.h"
#include "aten/dtype.h"
#include "aten/op_dispatch.h"
#include "aten/program.h"
#include "aten/runtime_access.h"
#include "aten/storage.h"
#include "engine/offset_window.h"
#include "engine/view_prologue.h"
#include "stablehlo/builder.h"

namespace torch_pjrt::aten {

namespace {

constexpr int64_t kWholeStorageReadBytes = int64_t{1} << 20;

bool is_tpu(const at::Tensor& t) { return t.device().type() == c10::DeviceType::PrivateUse1; }

// The storage's value, or zeros of its size if nothing was written yet.
stablehlo::Value storage_input(stablehlo::Builder& b, const engine::StorageValue& storage,
                               const engine::ViewLayout& layout,
                               std::vector<engine::DeviceBuffer*>& inputs) {
  materialize(storage, "host_write");
  stablehlo::TensorType type = storage.type_or(layout.element);
  if (!storage.is_materialized()) return b.zeros(type);
  inputs.push_back(storage.buffer().get());
  return b.parameter(type);
}

// A view's offset as a run-time input (see engine/contiguous_block.h).
std::shared_ptr<engine::DeviceBuffer> offset_buffer(const engine::ViewLayout& layout, int device) {
  const int64_t offset = layout.offset;
  return runtime().to_device(&offset, stablehlo::TensorType{stablehlo::ElementType::kS64, {}},
                             device);
}

// Fused mode: the write joins the pending trace, so what was pending stays so.
void record_write_through_view(engine::StorageValue& storage, const engine::ViewLayout& layout,
                               const std::shared_ptr<engine::DeviceBuffer>& value) {
  engine::PendingTrace& trace = runtime().pending(storage.device_index());
  std::lock_guard<std::recursive_mutex> lock(trace.mutex());
  trace.begin_op();
  stablehlo::Builder& b = trace.builder();
  const engine::PendingTrace::Mark mark = trace.mark();
  stablehlo::Value result;
  std::string signature = "copy_from_host";
  try {
    const stablehlo::TensorType storage_type = storage.type_or(layout.element);
    stablehlo::Value base = trace.storage_value(storage, layout.element);
    stablehlo::Value update = trace.buffer_parameter(value);
    if (engine::has_runtime_offset(storage_type, layout)) {
      const int64_t offset = layout.offset;
      stablehlo::Value start = trace.host_parameter(
          stablehlo::TensorType{stablehlo::ElementType::kS64, {}}, &offset, sizeof(offset));
      result = engine::write_window(b, base, start, layout, update);
      signature += 'B';
    } else {
      result = engine::write_view(b, base, layout, update);
      signature += std::to_string(layout.offset);
    }
    signature += storage_type.to_string() + value->type().to_string();
    for (int64_t stride : layout.strides) signature += "," + std::to_string(stride);
  } catch (...) {
    trace.rollback(mark);
    throw;
  }
  storage.bind_deferred(trace.defer(result));
  trace.finish_op("aten::copy_ (from the host)", signature);
}

// Writes a value that already has the view's sizes and dtype through the view.
void write_through_view(const at::Tensor& self, std::shared_ptr<engine::DeviceBuffer> value) {
  engine::StorageValue& storage = storage_value(self);
  engine::ViewLayout layout = view_layout(self);
  if (engine::covers_storage(storage.type_or(layout.element), layout)) {
    storage.bind(std::move(value));
    return;
  }
  TORCH_CHECK(!engine::has_internal_overlap(layout),
              "unsupported operation: more than one element of the written-to tensor refers to a "
              "single memory location. Please clone() the tensor before performing the operation.");
  if (runtime().fusing()) {
    record_write_through_view(storage, layout, value);
    return;
  }
  stablehlo::Builder b;
  std::vector<engine::DeviceBuffer*> inputs;
  stablehlo::Value base = storage_input(b, storage, layout, inputs);
  stablehlo::Value update = b.parameter(value->type());
  inputs.push_back(value.get());
  std::shared_ptr<engine::DeviceBuffer> offset;
  stablehlo::Value result;
  if (engine::has_runtime_offset(storage.type_or(layout.element), layout)) {
    offset = offset_buffer(layout, storage.device_index());
    inputs.push_back(offset.get());
    result = engine::write_window(b, base, b.parameter(offset->type()), layout, update);
  } else {
    result = engine::write_view(b, base, layout, update);
  }
  storage.bind(run_program(b.finish({result}), inputs, storage.device_index()).at(0));
}

void copy_host_to_device(const at::Tensor& self, const at::Tensor& src) {
  TORCH_CHECK(src.device().is_cpu(), "copy_: cannot copy from ", src.device(), " to ",
              self.device());
  // The storage holds the raw form of self's values: conjugated or negated
  // when self is a conjugate or negative view.
  at::Tensor host = src.to(self.scalar_type()).expand(self.sizes());
  if (self.is_conj()) host = host.conj();
  if (self.is_neg()) host = at::_neg_view(host);
  host = host.resolve_conj().resolve_neg().contiguous();
  stablehlo::TensorType type{to_element_type(self.scalar_type()),
                             std::vector<int64_t>(self.sizes().begin(), self.sizes().end())};
  write_through_view(
      self, runtime().to_device(host.const_data_ptr(), type, storage_value(self).device_index()));
}

void copy_on_device(const at::Tensor& self, const at::Tensor& src, bool non_blocking) {
  if (self.scalar_type() == src.scalar_type() && self.sizes() == src.sizes() &&
      self.is_conj() == src.is_conj() && self.is_neg() == src.is_neg()) {
    // Buffers are immutable, so a whole-storage copy shares the source's buffer.
    engine::StorageValue& destination = storage_value(self);
    engine::StorageValue& source = storage_value(src);
    engine::ViewLayout destination_layout = view_layout(self);
    const engine::ViewLayout source_layout = view_layout(src);
    if (source.is_written() && destination.nbytes() == source.nbytes() &&
        engine::covers_storage(destination.type_or(destination_layout.element),
                               destination_layout) &&
        engine::covers_storage(source.type_or(source_layout.element), source_layout)) {
      if (const auto& deferred = source.deferred()) {
        destination.bind_deferred(deferred);
      } else {
        destination.bind(source.buffer());
      }
      return;
    }
  }
  static const c10::OperatorHandle copy_op =
      c10::Dispatcher::singleton().findSchemaOrThrow("aten::copy_", "");
  torch::jit::Stack stack{self, src, non_blocking};
  call_boxed_fallback(copy_op, &stack);
}

}  // namespace

namespace {

at::Tensor to_host_raw(const at::Tensor& src, const char* reason) {
  at::Tensor host = at::empty(src.sizes(), src.options().device(c10::kCPU));
  if (src.numel() == 0) return host;
  engine::StorageValue& storage = storage_value(src);
  materialize(storage, reason);
  if (!storage.is_materialized()) return host.zero_();
  engine::ViewLayout layout = view_layout(src);
  std::shared_ptr<engine::DeviceBuffer> buffer;
  if (engine::covers_storage(storage.buffer()->type(), layout)) {
    buffer = storage.buffer();
  } else if (!(engine::has_runtime_offset(storage.buffer()->type(), layout) &&
               engine::elements_are_consecutive(layout)) &&
             storage.nbytes() <= kWholeStorageReadBytes &&
             storage.nbytes() % src.element_size() == 0) {
    // A small storage comes over whole and the view is taken on the host:
    // one transfer instead of a program per layout (printing reads strided
    // elements and rows, each at its own offset).
    at::Tensor bytes = at::empty({storage.nbytes()}, at::TensorOptions().dtype(at::kByte));
    runtime().to_host(*storage.buffer(), bytes.mutable_data_ptr());
    return bytes.view(src.scalar_type())
        .as_strided(src.sizes(), src.strides(), src.storage_offset())
        .contiguous();
  } else {
    stablehlo::Builder b;
    std::vector<engine::DeviceBuffer*> inputs;
    stablehlo::Value base = storage_input(b, storage, layout, inputs);
    std::shared_ptr<engine::DeviceBuffer> offset;
    stablehlo::Value view;
    if (engine::has_runtime_offset(storage.buffer()->type(), layout)) {
      offset = offset_buffer(layout, storage.device_index());
      inputs.push_back(offset.get());
      view = engine::read_window(b, base, b.parameter(offset->type()), layout);
    } else {
      view = engine::read_view(b, base, layout);
    }
    buffer = run_program(b.finish({view}), inputs, storage.device_index()).at(0);
  }
  runtime().to_host(*buffer, host.mutable_data_ptr());
  return host;
}

}  // namespace

at::Tensor to_host_contiguous(const at::Tensor& src, const char* reason) {
  // The raw values, marked as a conjugate or negative view as src is, so the
  // host tensor's values are src's.
  at::Tensor host = to_host_raw(src, reason);
  if (src.is_conj()) host._set_conj(true);
  if (src.is_neg()) host._set_neg(true);
  // The host waited for the device: checks of the programs run so far report here.
  raise_device_errors();
  return host;
}

at::Tensor& copy_(at::Tensor& self, const at::Tensor& src, bool non_blocking) {
  TORCH_CHECK(self.defined() && src.defined(), "copy_: undefined tensor");
  if (self.numel() == 0) return self;
  if (is_tpu(self) && is_tpu(src)) {
    if (self.device() == src.device()) {
      copy_on_device(self, src, non_blocking);
    } else {
      copy_host_to_device(self, to_host_contiguous(src));
    }
  } else if (is_tpu(self)) {
    copy_host_to_device(self, src);
  } else {
    self.copy_(to_host_contiguous(src), non_blocking);
  }
  return self;
}

namespace {

at::Tensor copy_from(const at::Tensor& self, const at::Tensor& dst, bool non_blocking) {
  at::Tensor result = dst;
  copy_(result, self, non_blocking);
  return dst;
}

at::Tensor copy_from_and_resize(const at::Tensor& self, const at::Tensor& dst) {
  dst.resize_(self.sizes());
  at::Tensor result = dst;
  copy_(result, self, false);
  return dst;
}

c10::Scalar local_scalar_dense(const at::Tensor& self) {
  TORCH_CHECK(self.numel() == 1, "a Tensor with ", self.numel(),
              " elements cannot be converted to Scalar");
  return to_host_contiguous(self).item();
}

}  // namespace

TORCH_LIBRARY_IMPL(aten, PrivateUse1, m) {
  m.impl("copy_", TORCH_FN(copy_));
  m.impl("_copy_from", TORCH_FN(copy_from));
  m.impl("_copy_from_and_resize", TORCH_FN(copy_from_and_resize));
  m.impl("_local_scalar_dense", TORCH_FN(local_scalar_dense));
}

}  // namespace torch_pjrt::aten
