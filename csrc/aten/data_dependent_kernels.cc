// Ops whose result size depends on the data: nonzero, masked_select, unique
// and its variants, bincount. Each reads one small tensor from the device (a
// count, or bincount's bounds: the one wait it cannot avoid, a flush counted as
// flush::data_dependent in fused mode) and then runs ops of that static size,
// nonzero_static and masked_scatter among them, so everything else stays on the
// device and goes through the lowering rules like any other op.
#include <ATen/ATen.h>
#include <ATen/native/Resize.h>
#include <torch/library.h>

#include <algorithm>
#include <tuple>
#include <vector>

#include "aten/copy.h"
#include "aten/op_dispatch.h"
#include "aten/out_checks.h"

namespace torch_pjrt::aten {

namespace {

bool is_tpu(const at::Tensor& t) { return t.device().type() == c10::DeviceType::PrivateUse1; }

// The values of a small integral device tensor, on the host.
std::vector<int64_t> read_sizes(const at::Tensor& t) {
  at::Tensor host = to_host_contiguous(t.to(at::kLong), "data_dependent");
  const int64_t* data = host.const_data_ptr<int64_t>();
  return std::vector<int64_t>(data, data + host.numel());
}

int64_t count_true(const at::Tensor& t) { return read_sizes(at::count_nonzero(t)).at(0); }

// The flat positions of the true elements of a 1-d bool tensor, in order.
at::Tensor true_positions(const at::Tensor& flat_mask) {
  return at::nonzero_static(flat_mask, count_true(flat_mask), -1).view({-1});
}

at::Tensor nonzero_on_device(const at::Tensor& self) {
  return at::nonzero_static(self, count_true(self), -1);
}

at::Tensor& nonzero_out(const at::Tensor& self, at::Tensor& out) {
  TORCH_CHECK(out.scalar_type() == at::kLong,
              "nonzero: Expected out tensor to have scalar type Long but got scalar type",
              out.scalar_type());
  at::Tensor result = nonzero_on_device(self);
  at::native::resize_output(out, result.sizes());
  out.copy_(result);
  return out;
}

at::Tensor masked_select_on_device(const at::Tensor& self, const at::Tensor& mask) {
  TORCH_CHECK(mask.scalar_type() == at::kBool, "masked_select: expected BoolTensor for mask");
  const at::Device device = is_tpu(self) ? self.device() : mask.device();
  const std::vector<int64_t> sizes = at::infer_size(self.sizes(), mask.sizes());
  at::Tensor values = self.to(device).expand(sizes).reshape({-1});
  at::Tensor selected = mask.to(device).expand(sizes).reshape({-1});
  return values.index_select(0, true_positions(selected));
}

at::Tensor& masked_select_out(const at::Tensor& self, const at::Tensor& mask, at::Tensor& out) {
  check_out_arguments("aten::masked_select", "out", self, mask, out);
  at::Tensor result = masked_select_on_device(self, mask);
  TORCH_CHECK(out.scalar_type() == result.scalar_type(),
              "masked_select(): self and result must have the same scalar type");
  at::native::resize_output(out, result.sizes());
  out.copy_(result);
  return out;
}

void reject_complex(const at::Tensor& self) {
  TORCH_CHECK_NOT_IMPLEMENTED(!self.is_complex(), "\"unique\" not implemented for '",
                              self.scalar_type(), "'");
}

// Runs of equal neighbours along dim 0 of `ordered` (the rows of a unique),
// where `starts` (1-d bool) marks each run's first row and `order`, when
// defined, is the permutation that sorted the rows (ordered = rows[order]).
struct Runs {
  at::Tensor values;   // the first row of each run
  at::Tensor inverse;  // per original row: its run
  at::Tensor counts;   // per run: its length
};

Runs group_runs(const at::Tensor& ordered, const at::Tensor& starts, const at::Tensor& order,
                bool return_inverse, bool return_counts) {
  const int64_t n = ordered.size(0);
  at::Tensor first_rows = true_positions(starts);
  const int64_t runs = first_rows.size(0);
  Runs result;
  result.values = ordered.index_select(0, first_rows);
  const at::TensorOptions long_options = starts.options().dtype(at::kLong);
  result.inverse = at::empty({0}, long_options);
  result.counts = at::empty({0}, long_options);
  if (return_inverse) {
    at::Tensor run_of_ordered = at::cumsum(starts, 0, at::kLong).sub_(1);
    result.inverse = order.defined()
                         ? at::empty({n}, long_options).scatter_(0, order, run_of_ordered)
                         : run_of_ordered;
  }
  if (return_counts) {
    at::Tensor bounds = at::cat({first_rows, at::full({1}, n, long_options)});
    result.counts = bounds.slice(0, 1, runs + 1).sub(bounds.slice(0, 0, runs));
  }
  return result;
}

// True at row 0 and at every row that differs from the one before (NaN
// differs from itself, as on CPU).
at::Tensor run_starts(const at::Tensor& rows) {
  const int64_t n = rows.size(0);
  at::Tensor differs = rows.slice(0, 1, n).ne(rows.slice(0, 0, n - 1));
  if (differs.dim() > 1) differs = differs.flatten(1).any(1);
  return at::cat({at::ones({1}, differs.options()), differs});
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> unique_flat(const at::Tensor& self, bool sorted,
                                                           bool return_inverse,
                                                           bool return_counts) {
  reject_complex(self);
  at::Tensor flat = self.reshape({-1});
  const at::TensorOptions long_options = self.options().dtype(at::kLong);
  if (flat.numel() == 0) {
    const std::vector<int64_t> inverse_sizes =
        return_inverse ? self.sizes().vec() : std::vector<int64_t>{0};
    return {flat.clone(), at::empty(inverse_sizes, long_options), at::empty({0}, long_options)};
  }
  at::Tensor ordered = flat;
  at::Tensor order;
  if (sorted) std::tie(ordered, order) = at::sort(flat, /*stable=*/true, 0, false);
  Runs runs = group_runs(ordered, run_starts(ordered), order, return_inverse, return_counts);
  if (return_inverse) runs.inverse = runs.inverse.view(self.sizes());
  return {runs.values, runs.inverse, runs.counts};
}

// CPU's unique always sorts, whatever `sorted` says.
std::tuple<at::Tensor, at::Tensor, at::Tensor> unique2(const at::Tensor& self, bool /*sorted*/,
                                                       bool return_inverse, bool return_counts) {
  return unique_flat(self, true, return_inverse, return_counts);
}

std::tuple<at::Tensor, at::Tensor> unique(const at::Tensor& self, bool /*sorted*/,
                                          bool return_inverse) {
  auto [values, inverse, counts] = unique_flat(self, true, return_inverse, false);
  return {values, inverse};
}

// The slices along `dim` as rows, sorted lexicographically when `sort` is
// set (one stable sort per column, the last column first) and grouped.
std::tuple<at::Tensor, at::Tensor, at::Tensor> unique_along(const at::Tensor& self, int64_t dim,
                                                            bool sort, bool return_inverse,
                                                            bool return_counts) {
  reject_complex(self);
  dim = c10::maybe_wrap_dim(dim, self.dim());
  const at::TensorOptions long_options = self.options().dtype(at::kLong);
  const int64_t zero_sized = std::count(self.sizes().begin(), self.sizes().end(), 0);
  TORCH_CHECK(zero_sized <= 1,
              "Number of zero sized dimensions is more than one, so unique cannot be applied ");
  if (self.numel() == 0) {
    TORCH_CHECK(self.size(dim) == 0,
                "There are 0 sized dimensions, and they aren't selected, so unique cannot be "
                "applied");
    return {self.clone(), at::empty({0}, long_options), at::empty({0}, long_options)};
  }
  at::Tensor moved = self.movedim(dim, 0);
  at::Tensor rows = moved.reshape({self.size(dim), -1});
  at::Tensor ordered = rows;
  at::Tensor order;
  if (sort) {
    order = at::arange(rows.size(0), long_options);
    for (int64_t column = rows.size(1) - 1; column >= 0; --column) {
      at::Tensor key = rows.select(1, column).index_select(0, order);
      at::Tensor step = std::get<1>(at::sort(key, /*stable=*/true, 0, false));
      order = order.index_select(0, step);
    }
    ordered = rows.index_select(0, order);
  }
  Runs runs = group_runs(ordered, run_starts(ordered), order, return_inverse, return_counts);
  std::vector<int64_t> value_sizes(moved.sizes().begin(), moved.sizes().end());
  value_sizes[0] = runs.values.size(0);
  at::Tensor values = runs.values.view(value_sizes).movedim(0, dim).contiguous();
  return {values, runs.inverse, runs.counts};
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> unique_dim(const at::Tensor& self, int64_t dim,
                                                          bool /*sorted*/, bool return_inverse,
                                                          bool return_counts) {
  return unique_along(self, dim, true, return_inverse, return_counts);
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> unique_dim_consecutive(const at::Tensor& self,
                                                                      int64_t dim,
                                                                      bool return_inverse,
                                                                      bool return_counts) {
  return unique_along(self, dim, false, return_inverse, return_counts);
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> unique_consecutive(const at::Tensor& self,
                                                                  bool return_inverse,
                                                                  bool return_counts,
                                                                  std::optional<int64_t> dim) {
  if (dim.has_value()) return unique_along(self, *dim, false, return_inverse, return_counts);
  return unique_flat(self, false, return_inverse, return_counts);
}

at::Tensor bincount(const at::Tensor& self, const std::optional<at::Tensor>& weights_arg,
                    int64_t minlength) {
  TORCH_CHECK_NOT_IMPLEMENTED(at::isIntegralType(self.scalar_type(), /*includeBool=*/false),
                              "\"bincount_cpu\" not implemented for '", self.scalar_type(), "'");
  TORCH_CHECK(minlength >= 0, "minlength should be >= 0");
  TORCH_CHECK(self.dim() == 1, "bincount only supports 1-d non-negative integral inputs.");
  const bool weighted = weights_arg.has_value() && weights_arg->defined();
  TORCH_CHECK(!weighted || (weights_arg->dim() == 1 && weights_arg->size(0) == self.size(0)),
              "weights should be 1-d and have the same length as input");
  // Float weights count in float, any others in double (CPU's kernel).
  const at::ScalarType type =
      !weighted ? at::kLong : (weights_arg->scalar_type() == at::kFloat ? at::kFloat : at::kDouble);
  const at::TensorOptions options = self.options().dtype(type);
  if (self.numel() == 0) return at::zeros({minlength}, options);
  const std::vector<int64_t> bounds = read_sizes(at::stack({self.min(), self.max()}));
  TORCH_CHECK(bounds[0] >= 0, "bincount only supports 1-d non-negative integral inputs.");
  at::Tensor index = self.to(at::kLong);
  at::Tensor increments = weighted ? weights_arg->to(self.device(), type) : at::ones_like(index);
  return at::zeros({std::max(bounds[1] + 1, minlength)}, options).index_add_(0, index, increments);
}

// Indexing with boolean (or uint8) masks: x[mask] has as many rows as the
// mask has true elements, and x[mask] = values with one value per true
// element needs their positions. As CPU does, each mask becomes the index
// tensors of its true elements (one per mask dim, from nonzero), and the
// call continues as integer indexing through its lowering rule. A mask with a
// value that broadcasts over the selection (x[mask] = 0) needs no positions:
// the rule does it as a select, with no wait for the count.
bool is_mask(const std::optional<at::Tensor>& index) {
  return index.has_value() && index->defined() && index->dim() > 0 &&
         (index->scalar_type() == at::kBool || index->scalar_type() == at::kByte);
}

void index_with_masks(const c10::OperatorHandle& op, torch::jit::Stack* stack) {
  const size_t first = stack->size() - op.schema().arguments().size();
  const at::Tensor self = (*stack)[first].toTensor();
  const c10::List<std::optional<at::Tensor>> indices = (*stack)[first + 1].toOptionalTensorList();
  const bool is_put = op.schema().arguments().size() > 2;
  bool convert = false;
  for (const std::optional<at::Tensor>& index : indices) convert = convert || is_mask(index);
  if (is_put && convert) convert = (*stack)[first + 2].toTensor().numel() > 1;
  if (convert) {
    c10::List<std::optional<at::Tensor>> positions;
    int64_t dim = 0;
    for (const std::optional<at::Tensor>& index : indices) {
      if (!is_mask(index)) {
        positions.push_back(index);
        ++dim;
        continue;
      }
      const at::Tensor mask = index->to(self.device());
      for (int64_t k = 0; k < mask.dim(); ++k) {
        TORCH_CHECK_INDEX(dim + k < self.dim() && mask.size(k) == self.size(dim + k),
                          "The shape of the mask ", mask.sizes(), " at index ", k,
                          " does not match the shape of the indexed tensor ", self.sizes(),
                          " at index ", dim + k);
      }
      at::Tensor rows = nonzero_on_device(mask);
      for (int64_t k = 0; k < mask.dim(); ++k) positions.push_back(rows.select(1, k));
      dim += mask.dim();
    }
    (*stack)[first + 1] = positions;
  }
  call_boxed_fallback(op, stack);
}

}  // namespace

TORCH_LIBRARY_IMPL(aten, PrivateUse1, m) {
  for (const char* name : {"index.Tensor", "index_put", "index_put_", "_index_put_impl_"}) {
    m.impl(name, torch::CppFunction::makeFromBoxedFunction<&index_with_masks>());
  }
  m.impl("nonzero", TORCH_FN(nonzero_on_device));
  m.impl("nonzero.out", TORCH_FN(nonzero_out));
  m.impl("masked_select", TORCH_FN(masked_select_on_device));
  m.impl("masked_select.out", TORCH_FN(masked_select_out));
  m.impl("_unique2", TORCH_FN(unique2));
  m.impl("_unique", TORCH_FN(unique));
  m.impl("unique_dim", TORCH_FN(unique_dim));
  m.impl("unique_dim_consecutive", TORCH_FN(unique_dim_consecutive));
  m.impl("unique_consecutive", TORCH_FN(unique_consecutive));
  m.impl("bincount", TORCH_FN(bincount));
}

}  // namespace torch_pjrt::aten
