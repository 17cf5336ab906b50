#include "stablehlo/builder.h"
#include "stablehlo/builder_impl.h"
#include "stablehlo/literal.h"

namespace torch_pjrt::stablehlo {
namespace {

constexpr std::string_view kConstant = "stablehlo.constant";

void check_type(const TensorType& type) {
  for (int64_t d : type.dims) {
    if (d < 0) detail::fail(kConstant, "negative dimension in " + type.to_string());
  }
}

void append_type_suffix(std::string& attr, const TensorType& type) {
  attr += "> : ";
  attr += type.mlir();
}

// MLIR wants the literal nested like the shape: [[1, 2], [3, 4]].
template <class T>
void append_nested(std::string& out, const std::vector<T>& values, const TensorType& type,
                   size_t dim, size_t& next) {
  if (dim == type.dims.size()) {
    append_literal(out, values[next++], type.element);
    return;
  }
  out += '[';
  for (int64_t i = 0; i < type.dims[dim]; ++i) {
    if (i) out += ", ";
    append_nested(out, values, type, dim + 1, next);
  }
  out += ']';
}

}  // namespace

Value Builder::constant(double value, ElementType type) { return splat(value, {type, {}}); }

Value Builder::constant_int(int64_t value, ElementType type) {
  std::string attr = "value = dense<";
  append_literal(attr, value, type);
  append_type_suffix(attr, {type, {}});
  return impl_->append1(kConstant, {}, {type, {}}, std::move(attr));
}

Value Builder::splat(double value, const TensorType& type) {
  check_type(type);
  std::string attr = "value = dense<";
  // An empty tensor has no element to splat.
  if (type.numel() != 0) append_literal(attr, value, type.element);
  append_type_suffix(attr, type);
  return impl_->append1(kConstant, {}, type, std::move(attr));
}

template <class T>
Value Builder::Impl::dense(const std::vector<T>& values, const TensorType& type) {
  check_type(type);
  if (static_cast<int64_t>(values.size()) != type.numel()) {
    detail::fail(kConstant,
                 std::to_string(values.size()) + " values do not fill " + type.to_string());
  }
  std::string attr = "value = dense<";
  if (!values.empty()) {
    size_t next = 0;
    append_nested(attr, values, type, 0, next);
  }
  append_type_suffix(attr, type);
  return append1(kConstant, {}, type, std::move(attr));
}

Value Builder::constant_ints(const std::vector<int64_t>& values, const TensorType& type) {
  return impl_->dense(values, type);
}

Value Builder::constant_doubles(const std::vector<double>& values, const TensorType& type) {
  return impl_->dense(values, type);
}

Value Builder::splat_complex(double real, double imag, const TensorType& type) {
  check_type(type);
  if (!is_complex(type.element)) {
    detail::fail(kConstant, "splat_complex needs a complex type, got " + type.to_string());
  }
  std::string attr = "value = dense<";
  if (type.numel() != 0) {
    const ElementType part = real_part_type(type.element);
    attr += '(';
    append_literal(attr, real, part);
    attr += ", ";
    append_literal(attr, imag, part);
    attr += ')';
  }
  append_type_suffix(attr, type);
  return impl_->append1(kConstant, {}, type, std::move(attr));
}

Value Builder::iota(const TensorType& type, int64_t iota_dimension) {
  constexpr std::string_view kOp = "stablehlo.iota";
  if (type.rank() == 0) detail::fail(kOp, "result must have rank >= 1, got " + type.to_string());
  if (iota_dimension < 0 || iota_dimension >= type.rank()) {
    detail::fail(kOp, "iota_dimension " + std::to_string(iota_dimension) + " out of range for " +
                          type.to_string());
  }
  if (type.element == ElementType::kPred) detail::fail(kOp, "pred result is not supported");
  for (int64_t d : type.dims) {
    if (d < 0) detail::fail(kOp, "negative dimension in " + type.to_string());
  }
  return impl_->append1(kOp, {}, type,
                        "iota_dimension = " + std::to_string(iota_dimension) + " : i64");
}

}  // namespace torch_pjrt::stablehlo
