#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "stablehlo/builder.h"

namespace torch_pjrt::lowering {

using stablehlo::Builder;
using stablehlo::Value;

// DESIGN.md, "Errors only the device can see": XLA clamps out-of-range
// gathers and drops out-of-range scatters, so a rule whose result is only
// right for valid data (indices in range, class targets, integer divisors)
// says what "valid" means as a check the program computes alongside.
enum class CheckKind {
  kIndex,    // IndexError, as CPU raises for most out-of-range indices
  kRuntime,  // RuntimeError (gather/scatter bounds, ZeroDivisionError)
};

// What the host needs to report a failed check: no program values.
struct CheckSite {
  CheckKind kind = CheckKind::kIndex;
  // CPU's message; "{}" stands for the offending value the device reports.
  std::string message;
};

struct DeviceCheck {
  CheckSite site;
  Value failed;  // pred[]: the data violates the op's precondition
  Value detail;  // s64[]: the offending value, for the message
};

// The message of a failed check, its "{}" replaced by the offending value.
std::string describe_failure(const CheckSite& site, int64_t detail);

// A check that every element of integer `index` lies in [low, high), except
// those equal to `exempt` (nll_loss's ignore_index); the offending value
// reported is the largest one out of range.
DeviceCheck check_in_range(Builder& b, Value index, int64_t low, int64_t high, CheckSite site,
                           std::optional<int64_t> exempt = std::nullopt);
// A check that no element of integer `divisor` is zero.
DeviceCheck check_nonzero_divisor(Builder& b, Value divisor);

// The first failing check of a program, as its extra output: code 0 when none
// failed, else the position of the failing check among the program's checks
// plus one; and that check's offending value. Folded op by op, so a fused
// program of many ops still returns one word.
struct ErrorWord {
  Value code;    // s64[]
  Value detail;  // s64[]
};
ErrorWord fold_checks(Builder& b, std::optional<ErrorWord> earlier,
                      const std::vector<DeviceCheck>& checks, int64_t first_code);
// The word as the program returns it: s64[2] = {code, detail}.
Value pack_error_word(Builder& b, const ErrorWord& word);

}  // namespace torch_pjrt::lowering
