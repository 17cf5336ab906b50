// Ops on the vectors along one dimension: linalg_cross (3-vectors, broadcast)
// and renorm (each slice along `dim` scaled down to a maximum p-norm).
#include <cmath>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "lowering/broadcast.h"
#include "lowering/dtype_names.h"
#include "lowering/promotion.h"
#include "lowering/rule_table.h"

namespace torch_pjrt::lowering {
namespace {

using stablehlo::ComparisonDirection;
using stablehlo::is_complex;
using stablehlo::is_floating;
using stablehlo::UnaryOp;

// linalg_cross(self, other, dim): both of one dtype and rank, broadcast
// against each other, with 3 entries along dim.
std::vector<Value> linalg_cross_rule(Builder& b, const OpCall& call) {
  Value x = call.tensor(0).value;
  Value y = call.tensor(1).value;
  const int64_t requested_dim = call.int_at(2);
  const ElementType type = b.element_type(x);
  if (b.element_type(y) != type) {
    throw InvalidArgument("expected scalar type " + std::string(scalar_type_name(type)) +
                          " but found " + std::string(scalar_type_name(b.element_type(y))));
  }
  if (b.rank(x) != b.rank(y)) {
    throw InvalidArgument("linalg.cross: inputs must have the same number of dimensions.");
  }
  const int64_t dim = wrap_dim(requested_dim, b.rank(x));
  if (b.dims(x)[dim] != 3 || b.dims(y)[dim] != 3) {
    throw InvalidArgument("linalg.cross: inputs dimension " + std::to_string(requested_dim) +
                          " must have length 3. Got " + std::to_string(b.dims(x)[dim]) + " and " +
                          std::to_string(b.dims(y)[dim]));
  }
  if (type == ElementType::kPred) throw_no_kernel("cross", type);
  const std::vector<int64_t> shape = broadcast_shapes(b.dims(x), b.dims(y));
  x = broadcast_to(b, x, shape);
  y = broadcast_to(b, y, shape);
  auto component = [&](Value v, int64_t i) {
    std::vector<int64_t> start(shape.size(), 0);
    std::vector<int64_t> limit = shape;
    start[dim] = i;
    limit[dim] = i + 1;
    return b.slice(v, start, limit);
  };
  auto term = [&](int64_t i, int64_t j) {
    return b.sub(b.mul(component(x, i), component(y, j)), b.mul(component(x, j), component(y, i)));
  };
  return {b.concatenate({term(1, 2), term(2, 0), term(0, 1)}, dim)};
}

double to_double(const StaticScalar& s) {
  if (const auto* v = std::get_if<bool>(&s)) return *v ? 1.0 : 0.0;
  if (const auto* v = std::get_if<int64_t>(&s)) return static_cast<double>(*v);
  if (const auto* v = std::get_if<double>(&s)) return *v;
  throw InvalidArgument("renorm: expected a real number, got a complex one");
}

Value sum(Builder& b, Value x, const std::vector<int64_t>& dims) {
  return b.reduce(x, b.constant(0.0, b.element_type(x)), dims,
                  [](Builder& r, const std::vector<Value>& a) -> std::vector<Value> {
                    return {r.add(a[0], a[1])};
                  });
}

// renorm(self, p, dim, maxnorm): slices whose p-norm exceeds maxnorm are
// multiplied by maxnorm / (norm + 1e-7). p and maxnorm are compile-time values
// (RuleInfo::static_scalar_args): p picks the norm's formula.
std::vector<Value> renorm_rule(Builder& b, const OpCall& call) {
  Value x = call.tensor(0).value;
  const double p = to_double(call.static_scalar(1));
  const int64_t dim_arg = call.int_at(2);
  const double maxnorm = to_double(call.static_scalar(3));
  const ElementType type = b.element_type(x);
  if (!(p > 0)) throw InvalidArgument("renorm: non-positive-norm not supported");
  if (!(maxnorm >= 0)) {
    throw InvalidArgument("renorm: expected maxnorm to be >= 0 but got " + format_double(maxnorm));
  }
  const int64_t rank = b.rank(x);
  if (rank < 2) {
    throw InvalidArgument("renorm: input needs at least 2 dimensions, got " + std::to_string(rank) +
                          " dimensions");
  }
  if (!is_floating(type) && !is_complex(type)) {
    throw InvalidArgument(
        "linalg.vector_norm: Expected a floating point or complex tensor as input. Got " +
        std::string(scalar_type_name(type)));
  }
  const int64_t dim = wrap_dim(dim_arg, rank);
  const ElementType compute = opmath_type(type);
  // |x| in the real type the norm accumulates in.
  Value magnitude = b.unary(UnaryOp::kAbs, b.convert(x, compute));
  const ElementType norm_type = b.element_type(magnitude);
  std::vector<int64_t> reduced;
  for (int64_t d = 0; d < rank; ++d) {
    if (d != dim) reduced.push_back(d);
  }
  Value norm;
  if (std::isinf(p)) {
    norm = b.reduce(magnitude, b.constant(0.0, norm_type), reduced,
                    [](Builder& r, const std::vector<Value>& a) -> std::vector<Value> {
                      return {r.max(a[0], a[1])};
                    });
  } else if (p == 1.0) {
    norm = sum(b, magnitude, reduced);
  } else if (p == 2.0) {
    norm = b.unary(UnaryOp::kSqrt, sum(b, b.mul(magnitude, magnitude), reduced));
  } else {
    const TensorType& t = b.type(magnitude);
    Value powered = b.binary(stablehlo::BinaryOp::kPower, magnitude, b.splat(p, t));
    Value total = sum(b, powered, reduced);
    norm = b.binary(stablehlo::BinaryOp::kPower, total, b.splat(1.0 / p, b.type(total)));
  }
  const TensorType& norm_shape = b.type(norm);
  Value limit = b.splat(maxnorm, norm_shape);
  Value scale =
      b.select(b.compare(ComparisonDirection::kGT, norm, limit),
               b.div(limit, b.add(norm, b.splat(1e-7, norm_shape))), b.splat(1.0, norm_shape));
  scale = b.broadcast_in_dim(scale, b.dims(x), {dim});
  return {b.convert(b.mul(b.convert(x, compute), b.convert(scale, compute)), type)};
}

}  // namespace

void add_vector_rules(RuleTable& table) {
  table.add("linalg_cross", RuleInfo{&linalg_cross_rule, {}});
  RuleInfo renorm{&renorm_rule, {1, 3}};
  table.add("renorm", renorm);
}

}  // namespace torch_pjrt::lowering
