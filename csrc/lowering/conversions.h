#pragma once

#include "lowering/rule_table.h"

namespace torch_pjrt::lowering {

// fill, zero, masked_fill, copy, clone, _to_copy and the copying identity ops.
// Registered by add_factory_rules, so rule_table.h keeps one entry per family.
void add_conversion_rules(RuleTable& table);

}  // namespace torch_pjrt::lowering
