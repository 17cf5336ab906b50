// Matrix products: mm, bmm, addmm, addmv, addbmm, baddbmm, mv, dot, vdot.
// matmul and linear are CompositeImplicit in PyTorch and reach us as these.
//
// Every product is one stablehlo.dot_general. Half types multiply with an f32
// result and round once, as PyTorch's CPU gemm accumulates in float; f32/f64 ask
// for the highest precision so a TPU matches CPU instead of taking one bf16 pass.
// The `add*` forms compute alpha * (a @ b) + beta * self, with self ignored
// (NaN included) when beta is 0; beta and alpha are run-time scalars.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lowering/broadcast.h"
#include "lowering/promotion.h"
#include "lowering/dtype_names.h"
#include "lowering/op_call.h"
#include "lowering/rule_table.h"

namespace torch_pjrt::lowering {
namespace {

using stablehlo::BinaryOp;
using stablehlo::ComparisonDirection;
using stablehlo::DotDimensions;
using stablehlo::Precision;
using stablehlo::UnaryOp;

std::string name_of(ElementType type) { return std::string(scalar_type_name(type)); }

std::string shape_text(const std::vector<int64_t>& dims, std::string_view separator) {
  std::string text;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i > 0) text += separator;
    text += std::to_string(dims[i]);
  }
  return text;
}

// PyTorch's CPU kernels have no bool matrix products (NotImplementedError).
void check_not_bool(std::string_view kernel, ElementType type) {
  if (type == ElementType::kPred)
    throw Unsupported("\"" + std::string(kernel) + "\" not implemented for 'Bool'");
}

void check_rank(Value v, const Builder& b, int64_t rank, const std::string& message) {
  if (b.rank(v) != rank) throw InvalidArgument(message);
}

// a (x) b contracted as `dims`, in the accumulation type of a's element type.
Value product(Builder& b, const OpCall& call, Value lhs, Value rhs, const DotDimensions& dims) {
  const ElementType type = b.element_type(lhs);
  const ElementType acc = opmath_type(type);
  Precision precision = acc == type ? Precision::kHighest : Precision::kDefault;
  if (type == ElementType::kF32) precision = call.f32_matmul_precision;
  return b.dot_general(lhs, rhs, dims, acc, precision);
}

// self expanded to `target` as Tensor.expand would, with its error message.
Value expand_to(Builder& b, Value self, const std::vector<int64_t>& target) {
  const std::vector<int64_t>& dims = b.dims(self);
  const auto offset = static_cast<int64_t>(target.size()) - static_cast<int64_t>(dims.size());
  if (offset < 0) {
    throw InvalidArgument("expand: the number of sizes provided (" + std::to_string(target.size()) +
                          ") must be greater or equal to the number of dimensions in the tensor (" +
                          std::to_string(dims.size()) + ")");
  }
  for (int64_t i = 0; i < static_cast<int64_t>(dims.size()); ++i) {
    if (dims[i] != 1 && dims[i] != target[offset + i]) {
      throw InvalidArgument(
          "The expanded size of the tensor (" + std::to_string(target[offset + i]) +
          ") must match the existing size (" + std::to_string(dims[i]) +
          ") at non-singleton dimension " + std::to_string(offset + i) + ".  Target sizes: [" +
          shape_text(target, ", ") + "].  Tensor sizes: [" + shape_text(dims, ", ") + "]");
    }
  }
  return broadcast_to(b, self, target);
}

// alpha * product + beta * self in the accumulation type, rounded to `type`
// once. beta == 0 drops self entirely (its NaNs too), decided at run time.
Value scale_and_add(Builder& b, Value product_acc, Value self, const OpCall& call, size_t beta_at,
                    ElementType type) {
  const ElementType acc = b.element_type(product_acc);
  const std::vector<int64_t> dims = b.dims(product_acc);
  auto scalar = [&](size_t i) -> std::optional<Value> {
    if (i >= call.size() || call.is_none(i)) return std::nullopt;
    return call.tensor(i).value;
  };
  // A Scalar arrives as the 0-d value; for integer results PyTorch casts it to
  // the integer type (0.5 -> 0) before use, which convert also does.
  auto as_acc = [&](Value scalar_value) {
    Value in_type = b.convert(scalar_value, type);
    return broadcast_to(b, b.convert(in_type, acc), dims);
  };
  Value result = product_acc;
  if (auto alpha = scalar(beta_at + 1)) result = b.mul(as_acc(*alpha), result);
  Value addend = b.convert(expand_to(b, self, dims), acc);
  if (auto beta = scalar(beta_at)) {
    const ElementType beta_type = b.element_type(*beta);
    Value is_zero = b.compare(
        ComparisonDirection::kEQ, *beta,
        beta_type == ElementType::kPred ? b.constant_int(0, beta_type) : b.constant(0, beta_type));
    Value scaled = b.mul(as_acc(*beta), addend);
    addend = b.select(broadcast_to(b, is_zero, dims), b.zeros(b.type(scaled)), scaled);
  }
  return b.convert(b.add(result, addend), type);
}

// --- matrix @ matrix -------------------------------------------------------------

const DotDimensions kMatrixProduct{{}, {}, {1}, {0}};
const DotDimensions kBatchedProduct{{0}, {0}, {2}, {1}};

void check_matrices(Builder& b, Value mat1, Value mat2, bool from_mm) {
  if (from_mm) {
    check_rank(mat1, b, 2, "self must be a matrix");
    check_rank(mat2, b, 2, "mat2 must be a matrix");
  } else {
    check_rank(mat1, b, 2,
               "mat1 must be a matrix, got " + std::to_string(b.rank(mat1)) + "-D tensor");
    check_rank(mat2, b, 2,
               "mat2 must be a matrix, got " + std::to_string(b.rank(mat2)) + "-D tensor");
  }
  const auto& d1 = b.dims(mat1);
  const auto& d2 = b.dims(mat2);
  if (d1[1] != d2[0]) {
    throw InvalidArgument("mat1 and mat2 shapes cannot be multiplied (" + shape_text(d1, "x") +
                          " and " + shape_text(d2, "x") + ")");
  }
  const ElementType t1 = b.element_type(mat1), t2 = b.element_type(mat2);
  if (t1 != t2) {
    throw InvalidArgument(
        "expected m1 and m2 to have the same dtype, but got: " + std::string(type_meta_name(t1)) +
        " != " + std::string(type_meta_name(t2)));
  }
  check_not_bool("addmm_impl_cpu_", t1);
}

// The out_dtype of mm.dtype / bmm.dtype (CUDA-only overloads) when present.
std::optional<ElementType> out_dtype_at(const OpCall& call, size_t i) {
  if (i < call.size() && std::holds_alternative<ElementType>(call.args[i]))
    return std::get<ElementType>(call.args[i]);
  return std::nullopt;
}

std::vector<Value> mm_rule(Builder& b, const OpCall& call) {
  const Value mat1 = call.tensor(0).value, mat2 = call.tensor(1).value;
  check_matrices(b, mat1, mat2, /*from_mm=*/true);
  const ElementType type = out_dtype_at(call, 2).value_or(b.element_type(mat1));
  return {b.convert(product(b, call, mat1, mat2, kMatrixProduct), type)};
}

std::vector<Value> addmm_rule(Builder& b, const OpCall& call) {
  const Value self = call.tensor(0).value, mat1 = call.tensor(1).value, mat2 = call.tensor(2).value;
  check_rank(mat1, b, 2,
             "mat1 must be a matrix, got " + std::to_string(b.rank(mat1)) + "-D tensor");
  check_rank(mat2, b, 2,
             "mat2 must be a matrix, got " + std::to_string(b.rank(mat2)) + "-D tensor");
  if (b.element_type(self) != b.element_type(mat2)) {
    throw InvalidArgument("self and mat2 must have the same dtype, but got " +
                          name_of(b.element_type(self)) + " and " + name_of(b.element_type(mat2)));
  }
  check_matrices(b, mat1, mat2, /*from_mm=*/false);
  const std::optional<ElementType> out_dtype = out_dtype_at(call, 3);
  const size_t beta_at = out_dtype ? 4 : 3;
  Value result = scale_and_add(b, product(b, call, mat1, mat2, kMatrixProduct), self, call, beta_at,
                               b.element_type(mat1));
  return {b.convert(result, out_dtype.value_or(b.element_type(mat1)))};
}

// --- batched -----------------------------------------------------------------------

void check_batches(Builder& b, Value batch1, Value batch2, bool from_addbmm) {
  check_rank(batch1, b, 3, "batch1 must be a 3D tensor");
  check_rank(batch2, b, 3, "batch2 must be a 3D tensor");
  const auto& d1 = b.dims(batch1);
  const auto& d2 = b.dims(batch2);
  if (from_addbmm) {
    if (d1[0] != d2[0]) {
      throw InvalidArgument("batch1 and batch2 must have same number of batches, got " +
                            std::to_string(d1[0]) + " and " + std::to_string(d2[0]));
    }
    if (d1[2] != d2[1]) {
      throw InvalidArgument("Incompatible matrix sizes for bmm (" + std::to_string(d1[1]) + "x" +
                            std::to_string(d1[2]) + " and " + std::to_string(d2[1]) + "x" +
                            std::to_string(d2[2]) + ")");
    }
  } else if (d2[0] != d1[0] || d2[1] != d1[2]) {
    throw InvalidArgument("Expected size for first two dimensions of batch2 tensor to be: [" +
                          std::to_string(d1[0]) + ", " + std::to_string(d1[2]) + "] but got: [" +
                          std::to_string(d2[0]) + ", " + std::to_string(d2[1]) + "].");
  }
  const ElementType t1 = b.element_type(batch1), t2 = b.element_type(batch2);
  if (t1 != t2)
    throw InvalidArgument("expected scalar type " + name_of(t1) + " but found " + name_of(t2));
  check_not_bool("bmm", t1);
}

std::vector<Value> bmm_rule(Builder& b, const OpCall& call) {
  const Value batch1 = call.tensor(0).value, batch2 = call.tensor(1).value;
  check_batches(b, batch1, batch2, false);
  const ElementType type = out_dtype_at(call, 2).value_or(b.element_type(batch1));
  return {b.convert(product(b, call, batch1, batch2, kBatchedProduct), type)};
}

std::vector<Value> baddbmm_rule(Builder& b, const OpCall& call) {
  const Value self = call.tensor(0).value, batch1 = call.tensor(1).value,
              batch2 = call.tensor(2).value;
  const ElementType type = b.element_type(self);
  if (type != b.element_type(batch1) || type != b.element_type(batch2)) {
    throw InvalidArgument("Input dtypes must be the same, got: input " +
                          std::string(type_meta_name(type)) +
                          ", batch1: " + std::string(type_meta_name(b.element_type(batch1))) +
                          ", batch2: " + std::string(type_meta_name(b.element_type(batch2))));
  }
  check_batches(b, batch1, batch2, false);
  const std::optional<ElementType> out_dtype = out_dtype_at(call, 3);
  Value result = scale_and_add(b, product(b, call, batch1, batch2, kBatchedProduct), self, call,
                               out_dtype ? 4 : 3, type);
  return {b.convert(result, out_dtype.value_or(type))};
}

// Sum over the batch of batch1[i] @ batch2[i]: one contraction over (batch, k).
std::vector<Value> addbmm_rule(Builder& b, const OpCall& call) {
  const Value self = call.tensor(0).value, batch1 = call.tensor(1).value,
              batch2 = call.tensor(2).value;
  check_batches(b, batch1, batch2, true);
  const ElementType type = b.element_type(batch1);
  if (b.element_type(self) != type) {
    throw InvalidArgument("self and mat2 must have the same dtype, but got " +
                          name_of(b.element_type(self)) + " and " + name_of(type));
  }
  const DotDimensions summed_batches{{}, {}, {0, 2}, {0, 1}};
  return {scale_and_add(b, product(b, call, batch1, batch2, summed_batches), self, call, 3, type)};
}

// --- vectors ---------------------------------------------------------------------

void check_matrix_vector(Builder& b, std::optional<Value> self, Value mat, Value vec) {
  const int64_t self_rank = self ? b.rank(*self) : 1;
  if (b.rank(mat) != 2 || b.rank(vec) != 1 || self_rank > 1) {
    throw InvalidArgument("vector + matrix @ vector expected, got " + std::to_string(self_rank) +
                          ", " + std::to_string(b.rank(mat)) + ", " + std::to_string(b.rank(vec)));
  }
  const auto& md = b.dims(mat);
  const int64_t n = self ? (self_rank == 0 ? 1 : b.dims(*self)[0]) : md[0];
  if (md[1] != b.dims(vec)[0] || (n != md[0] && n != 1)) {
    throw InvalidArgument("size mismatch, got input (" + std::to_string(n) + "), mat (" +
                          shape_text(md, "x") + "), vec (" + std::to_string(b.dims(vec)[0]) + ")");
  }
  const ElementType st = self ? b.element_type(*self) : b.element_type(mat);
  const ElementType mt = b.element_type(mat), vt = b.element_type(vec);
  if (st != mt || mt != vt) {
    throw InvalidArgument("addmv input tensors must have the same dtype, but got " + name_of(st) +
                          ", " + name_of(mt) + ", and " + name_of(vt));
  }
  check_not_bool("addmv_impl_cpu", mt);
}

const DotDimensions kMatrixVector{{}, {}, {1}, {0}};

std::vector<Value> mv_rule(Builder& b, const OpCall& call) {
  const Value mat = call.tensor(0).value, vec = call.tensor(1).value;
  check_matrix_vector(b, std::nullopt, mat, vec);
  return {b.convert(product(b, call, mat, vec, kMatrixVector), b.element_type(mat))};
}

std::vector<Value> addmv_rule(Builder& b, const OpCall& call) {
  const Value self = call.tensor(0).value, mat = call.tensor(1).value, vec = call.tensor(2).value;
  check_matrix_vector(b, self, mat, vec);
  return {scale_and_add(b, product(b, call, mat, vec, kMatrixVector), self, call, 3,
                        b.element_type(mat))};
}

void check_vectors(Builder& b, std::string_view op, Value x, Value y) {
  if (b.rank(x) != 1 || b.rank(y) != 1) {
    throw InvalidArgument("1D tensors expected, but got " + std::to_string(b.rank(x)) + "D and " +
                          std::to_string(b.rank(y)) + "D tensors");
  }
  const ElementType tx = b.element_type(x), ty = b.element_type(y);
  if (tx != ty) {
    throw InvalidArgument("dot : expected both vectors to have same dtype, but found " +
                          name_of(tx) + " and " + name_of(ty));
  }
  const int64_t nx = b.dims(x)[0], ny = b.dims(y)[0];
  if (nx != ny) {
    throw InvalidArgument("inconsistent tensor size, expected tensor [" + std::to_string(nx) +
                          "] and src [" + std::to_string(ny) +
                          "] to have the same number of elements, but got " + std::to_string(nx) +
                          " and " + std::to_string(ny) + " elements respectively");
  }
  check_not_bool(op, tx);
}

const DotDimensions kInnerProduct{{}, {}, {0}, {0}};

std::vector<Value> dot_rule(Builder& b, const OpCall& call) {
  const Value x = call.tensor(0).value, y = call.tensor(1).value;
  check_vectors(b, "dot", x, y);
  return {b.convert(product(b, call, x, y, kInnerProduct), b.element_type(x))};
}

// conj(x) . y; the same as dot for real types.
std::vector<Value> vdot_rule(Builder& b, const OpCall& call) {
  Value x = call.tensor(0).value;
  const Value y = call.tensor(1).value;
  check_vectors(b, "vdot", x, y);
  if (stablehlo::is_complex(b.element_type(x))) {
    Value imag = b.unary(UnaryOp::kImag, x);
    x = b.binary(BinaryOp::kComplex, b.unary(UnaryOp::kReal, x), b.unary(UnaryOp::kNegate, imag));
  }
  return {b.convert(product(b, call, x, y, kInnerProduct), b.element_type(x))};
}

}  // namespace

void add_linalg_rules(RuleTable& table) {
  table.add("mm", {&mm_rule, {}});
  table.add("bmm", {&bmm_rule, {}});
  table.add("addmm", {&addmm_rule, {}});
  table.add("baddbmm", {&baddbmm_rule, {}});
  table.add("addbmm", {&addbmm_rule, {}});
  table.add("mv", {&mv_rule, {}});
  table.add("addmv", {&addmv_rule, {}});
  table.add("dot", {&dot_rule, {}});
  table.add("vdot", {&vdot_rule, {}});
}

}  // namespace torch_pjrt::lowering
