#pragma once

// The factorizations of qr.cc, lu.cc and svd.cc, for rules that build on them
// (lstsq.cc, matrix_exp.cc). Operands are flattened batches [B, rows, cols].

#include "lowering/op_call.h"

namespace torch_pjrt::lowering::matrix {

// geqrf: reflectors and R packed as LAPACK stores them, and tau [B, min(m, n)].
std::pair<Value, Value> householder_qr(Builder& b, Value a);
// Applies Q = H_0 ... H_{k-1} of (reflectors [B, q, c], tau [B, k]), or Q^H,
// to target from the left ([B, q, p]) or the right ([B, p, q]).
Value apply_householder(Builder& b, Value reflectors, Value tau, Value target, bool left,
                        bool adjoint);
// X with A X = rhs for square A [B, n, n], by LU with partial pivoting.
Value solve(Builder& b, Value a, Value rhs);

struct SvdFactors {
  Value u;   // [B, m, k], k = min(m, n); columns of zero singular values are zero
  Value s;   // real [B, k], descending
  Value vh;  // [B, k, n]
};
// Thin SVD of a [B, m, n] with B, m, n > 0; u and vh only when compute_uv.
SvdFactors thin_svd(Builder& b, Value a, bool compute_uv);

}  // namespace torch_pjrt::lowering::matrix
