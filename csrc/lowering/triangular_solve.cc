// Triangular systems: linalg_solve_triangular (A X = B or X A = B) and the
// older triangular_solve (op(A) X = b, returning a copy of A as well). Both
// broadcast the batch dims of their operands and are one
// stablehlo.triangular_solve, which XLA expands itself.

#include <string>
#include <vector>

#include "lowering/batched_matrix.h"
#include "lowering/broadcast.h"
#include "lowering/dtype_names.h"
#include "lowering/rule_table.h"

namespace torch_pjrt::lowering {
namespace {

struct Broadcast {
  Value a, rhs;
};

Broadcast broadcast_batches(Builder& b, Value a, Value rhs) {
  const std::vector<int64_t> batch =
      broadcast_shapes(matrix::batch_dims(b, a), matrix::batch_dims(b, rhs));
  const std::vector<int64_t>& ad = b.dims(a);
  const std::vector<int64_t>& rd = b.dims(rhs);
  return {broadcast_to(b, a, matrix::with_matrix(batch, ad[ad.size() - 2], ad.back())),
          broadcast_to(b, rhs, matrix::with_matrix(batch, rd[rd.size() - 2], rd.back()))};
}

// linalg_solve_triangular(A, B, *, upper, left=True, unitriangular=False)
std::vector<Value> solve_triangular_rule(Builder& b, const OpCall& call) {
  constexpr const char* kOp = "linalg.solve_triangular";
  const Value a = call.tensor(0).value, rhs = call.tensor(1).value;
  const bool upper = call.bool_at(2), left = call.bool_at(3), unit = call.bool_at(4);
  matrix::check_square(b, a, kOp, "A");
  matrix::check_is_matrix(b, rhs, kOp, "B");
  const std::vector<int64_t>& ad = b.dims(a);
  const std::vector<int64_t>& rd = b.dims(rhs);
  const int64_t n = ad.back();
  if ((left ? rd[rd.size() - 2] : rd.back()) != n) {
    throw InvalidArgument(std::string(kOp) + ": Incompatible shapes of A and B for the equation " +
                          (left ? "AX = B" : "XA = B") + " (" + std::to_string(n) + "x" +
                          std::to_string(n) + " and " + std::to_string(rd[rd.size() - 2]) + "x" +
                          std::to_string(rd.back()) + ")");
  }
  if (b.element_type(a) != b.element_type(rhs)) {
    throw InvalidArgument(std::string(kOp) +
                          ": Expected A and B to have the same dtype, but found " +
                          std::string(scalar_type_name(b.element_type(a))) + " and " +
                          std::string(scalar_type_name(b.element_type(rhs))));
  }
  matrix::check_floating_or_complex(b, a, kOp);
  Broadcast operands = broadcast_batches(b, a, rhs);
  return {matrix::triangular_solve(b, operands.a, operands.rhs, left, !upper, unit,
                                   matrix::Transpose::kNone)};
}

// triangular_solve(self, A, upper=True, transpose=False, unitriangular=False)
//   -> (solution, cloned_coefficient)
std::vector<Value> triangular_solve_rule(Builder& b, const OpCall& call) {
  const Value rhs = call.tensor(0).value, a = call.tensor(1).value;
  const bool upper = call.bool_at(2), transpose = call.bool_at(3), unit = call.bool_at(4);
  if (b.rank(rhs) < 2) {
    throw InvalidArgument(
        "torch.triangular_solve: Expected b to have at least 2 dimensions, but "
        "it has " +
        std::to_string(b.rank(rhs)) + " dimensions instead");
  }
  if (b.rank(a) < 2) {
    throw InvalidArgument(
        "torch.triangular_solve: Expected A to have at least 2 dimensions, but "
        "it has " +
        std::to_string(b.rank(a)) + " dimensions instead");
  }
  if (b.element_type(a) != b.element_type(rhs)) {
    throw InvalidArgument("Expected b and A to have the same dtype, but found b of type " +
                          std::string(scalar_type_name(b.element_type(rhs))) + " and A of type " +
                          std::string(scalar_type_name(b.element_type(a))) + " instead.");
  }
  const std::vector<int64_t>& ad = b.dims(a);
  const std::vector<int64_t>& rd = b.dims(rhs);
  const int64_t n = ad.back();
  if (ad[ad.size() - 2] != n) {
    throw InvalidArgument("A must be batches of square matrices, but they are " +
                          std::to_string(ad[ad.size() - 2]) + " by " + std::to_string(n) +
                          " matrices");
  }
  if (rd[rd.size() - 2] != n) {
    throw InvalidArgument("Incompatible matrix sizes for triangular_solve: each A matrix is " +
                          std::to_string(n) + " by " + std::to_string(n) +
                          " but each b matrix is " + std::to_string(rd[rd.size() - 2]) + " by " +
                          std::to_string(rd.back()));
  }
  matrix::check_floating_or_complex(b, a, "triangular_solve");
  Broadcast operands = broadcast_batches(b, a, rhs);
  Value solution = matrix::triangular_solve(
      b, operands.a, operands.rhs, true, !upper, unit,
      transpose ? matrix::Transpose::kTranspose : matrix::Transpose::kNone);
  return {solution, operands.a};
}

}  // namespace

void add_triangular_solve_rules(RuleTable& table) {
  table.add("linalg_solve_triangular", {&solve_triangular_rule, {}});
  table.add("triangular_solve", {&triangular_solve_rule, {}});
}

}  // namespace torch_pjrt::lowering
