#pragma once

#include "lowering/op_call.h"

namespace torch_pjrt::lowering {

// log(exp(x) + exp(y)) of complex x, y as CPU's logaddexp and logcumsumexp
// compute it: shifted by the operand of larger real part, NaN in either part
// of either operand giving NaN + NaN i, equal infinite real parts giving the
// lower operand (-inf) or the unshifted sum (+inf).
Value complex_log_add_exp(Builder& b, Value x, Value y);

}  // namespace torch_pjrt::lowering
