"""Writes the sweep's result as report.json and report.md."""
import collections
import json
import os
import re

STATES = ["native", "fallback", "fail", "unsupported"]
CORE_STATES = ["native", "fail", "unsupported", "not_probed"]
DTYPE_ORDER = ["float32", "bfloat16", "float16", "float64", "int64", "int32", "int8", "uint8", "bool",
               "complex64"]

HOW = """\
How rows are checked (tests/conformance/check.py): for each OpInfo in
`torch.testing._internal.common_methods_invocations.op_db` and each dtype it supports on
CPU among the ten columns below, each of the first `--max-samples` samples (default 2, 0
for all; see the header) of `op.sample_inputs("cpu", dtype)` runs on CPU and, copied with
its strides and storage, on "tpu" (a `device="cpu"` argument becomes "tpu"); results (and the input, for ops that write
it) are compared with `torch.testing.assert_close` at the dtype's default tolerances,
widened by the OpInfo's own `toleranceOverride`/`precisionOverride` where it has them.
Each sample is run again as `sample.noncontiguous()`. At float32, for OpInfos that
support autograd, `torch.autograd.grad` of the sum of the differentiable outputs against
the inputs that require grad is compared too. The first failure ends the row. Ops whose
CPU results change with the seed, or whose calls reach an ATen op tagged
`nondeterministic_seeded` (RNG ops, also where the OpInfo seeds them itself), and `empty*`
ops are compared by shape and dtype only (values and gradients). A row whose every sample
CPU rejects fails: nothing was compared. Unstable `sort`/`argsort` and `topk`, which PyTorch lets order equal elements
either way, are compared with CPU's stable order (sort, argsort) or by checking that the
indices point at CPU's values (topk). `tensor_split`'s index tensor stays on the CPU, as
PyTorch requires. Tensors move with their whole storage, which `as_strided` reads. A
sample that CPU rejects must be rejected on "tpu" too.

States: `native` passes with the CPU fallback off; `fallback` failed natively with
NotImplementedError and passes with `TORCH_PJRT_CPU_FALLBACK=1` (second pass; the reason
names the missing rule); `fail` (first failure); `unsupported` (what XLA cannot
express: sparse layouts, as XLA buffers are dense, and ComplexHalf, as StableHLO has no
complex type with 16-bit parts; and the CUDA-only jiterator OpInfos, which CPU cannot run). Each row runs in a worker subprocess with a per-row timeout; a
hang or a crash fails the row with "timeout" or "crashed".

Core ATen probe (tests/conformance/core_aten.py): for every overload tagged
`torch.Tag.core`, the arguments of the first call that reached it while running the
first samples of every OpInfo on CPU (under a dispatch mode) are replayed directly on
the overload on CPU and on "tpu" (fallback off) and compared; an overload that no sample
reaches gets small arguments generated from its schema. It says whether the overload
runs natively on one input, not that it is correct everywhere.
"""


def missing_rule(reason):
    found = re.search(r"no lowering rule for (aten::\S+)", reason or "")
    if found:
        return found.group(1)
    # Kernels PyTorch itself leaves to backends say so in their own words.
    found = re.search(r"NotImplementedError: (\w+) not implemented", reason or "")
    return f"aten::{found.group(1)}" if found else None


def reason_kind(reason):
    """A failure reason without the sample number and numbers, so that alike ones count together."""
    text = re.sub(r"#\d+", "#N", reason or "")
    text = re.sub(r"\b\d+(\.\d+)?(e[-+]?\d+)?\b", "N", text)
    return text.split(" | ")[0][:160]


def summary(result):
    table = collections.defaultdict(collections.Counter)
    for row in result["opinfo"]:
        table[row["state"]][row["dtype"]] += 1
    return table


def top_missing(result, count=30):
    blocked = collections.Counter()
    for row in result["opinfo"]:
        rule = missing_rule(row["reason"]) if row["state"] in ("fail", "fallback") else None
        if rule:
            blocked[rule] += 1
    return blocked.most_common(count)


def top_reasons(result, count=30):
    kinds = collections.Counter()
    for row in result["opinfo"]:
        if row["state"] == "fail" and not missing_rule(row["reason"]):
            kinds[reason_kind(row["reason"])] += 1
    return kinds.most_common(count)


def summary_markdown(result):
    table = summary(result)
    dtypes = [d for d in DTYPE_ORDER if any(table[s][d] for s in STATES)]
    lines = ["| state | " + " | ".join(dtypes) + " | all |", "|---|" + "---:|" * (len(dtypes) + 1)]
    for state in STATES:
        cells = [str(table[state][d]) for d in dtypes]
        lines.append(f"| {state} | " + " | ".join(cells) + f" | {sum(table[state].values())} |")
    totals = [str(sum(table[s][d] for s in STATES)) for d in dtypes]
    lines.append("| all | " + " | ".join(totals) + f" | {len(result['opinfo'])} |")
    return "\n".join(lines)


def summary_text(result):
    parts = [f"Sweep took {result['seconds'] / 60:.1f} min with {result['workers']} workers.", "",
             summary_markdown(result), "", "Missing rules by OpInfo rows blocked:"]
    parts += [f"  {n:4d}  {rule}" for rule, n in top_missing(result)]
    if result["core_aten"]:
        core = collections.Counter(r["state"] for r in result["core_aten"])
        parts += ["", "Core ATen overloads: " + ", ".join(f"{s} {core[s]}" for s in CORE_STATES if core[s])]
    return "\n".join(parts)


def escape(text):
    return (text or "").replace("|", "\\|").replace("\n", " ")


def write(result, folder):
    with open(os.path.join(folder, "report.json"), "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    lines = ["# OpInfo conformance of the \"tpu\" device", "",
             f"torch {result['torch_version']}; generated by `make conformance` "
             f"(tests/conformance/run.py) in {result['seconds'] / 60:.1f} min with {result['workers']} workers"
             + (f", at most {result['max_samples']} samples per row" if result.get("max_samples") else "")
             + ".", ""] + ([result["note"], ""] if result.get("note") else []) + [HOW, "## Summary (rows = OpInfo x variant x dtype)", "", summary_markdown(result), ""]
    if result["opinfo_without_checked_dtype"]:
        lines += ["OpInfos with no dtype among the ten on CPU, so no rows: "
                  + ", ".join(f"`{n}`" for n in result["opinfo_without_checked_dtype"]) + ".", ""]
    lines += ["## Missing rules, by OpInfo rows they block", "", "| rows | operator |", "|---:|---|"]
    lines += [f"| {n} | `{rule}` |" for rule, n in top_missing(result)]
    lines += ["", "## Other failure reasons, most common first", "", "| rows | reason |", "|---:|---|"]
    lines += [f"| {n} | {escape(kind)} |" for kind, n in top_reasons(result)]
    if result["core_aten"]:
        core = collections.Counter(r["state"] for r in result["core_aten"])
        lines += ["", "## Core ATen overloads (torch.Tag.core)", "",
                  ", ".join(f"{s}: {core[s]}" for s in CORE_STATES if core[s]) + f" of {len(result['core_aten'])}.",
                  "", "| overload | state | how probed / reason |", "|---|---|---|"]
        lines += [f"| `{r['op']}` | {r['state']} | {escape(r['reason'])} |" for r in result["core_aten"]]
    lines += ["", "## Per OpInfo", "", "Cells: state per dtype (`-`: not supported on CPU). Reasons: the first "
              "failure per dtype (dtypes with the same reason are listed together).", ""]
    by_op = collections.OrderedDict()
    for row in result["opinfo"]:
        by_op.setdefault((row["name"], row["variant"]), {})[row["dtype"]] = row
    short = {"native": "native", "fallback": "fallback", "fail": "**fail**", "unsupported": "unsupported"}
    lines += ["| OpInfo | " + " | ".join(DTYPE_ORDER) + " | reasons |", "|---|" + "---|" * (len(DTYPE_ORDER) + 1)]
    for (name, variant), cells in by_op.items():
        reasons = collections.OrderedDict()
        for dtype in DTYPE_ORDER:
            row = cells.get(dtype)
            if row and row["reason"]:
                reasons.setdefault(row["reason"], []).append(dtype)
        text = "; ".join(f"{','.join(ds)}: {escape(r)}" for r, ds in reasons.items())
        label = name + (f" ({variant})" if variant else "")
        states = [short[cells[d]["state"]] if d in cells else "-" for d in DTYPE_ORDER]
        lines.append(f"| `{label}` | " + " | ".join(states) + f" | {text} |")
    with open(os.path.join(folder, "report.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
