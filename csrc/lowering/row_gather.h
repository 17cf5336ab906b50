#pragma once

#include "lowering/op_call.h"

namespace torch_pjrt::lowering {

// table [rows, n] read at s64 index [rows, m], each index row in its own table
// row: the [rows, m] result of table[r, index[r, k]].
Value take_rows(Builder& b, Value table, Value index);

// Binary search of each sorted row of table [rows, n] for values [rows, m]:
// the s64 [rows, m] position of the first entry above the value (`right`) or
// not below it (otherwise), n where there is none.
Value search_rows(Builder& b, Value table, Value values, bool right);

}  // namespace torch_pjrt::lowering
