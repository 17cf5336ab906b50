#pragma once

#include "lowering/op_call.h"

namespace torch_pjrt::lowering {

// table [rows, n] read at s64 index [rows, m], each index row in its own table
// row: the [rows, m] result of table[r, index[r, k]].
Value take_rows(Builder& b, Value table, Value index);

}  // namespace torch_pjrt::lowering
