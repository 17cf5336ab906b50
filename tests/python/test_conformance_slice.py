"""A fixed slice of the OpInfo conformance sweep (tests/conformance): the rows that pass
today must keep passing, and every row must end in exactly one state."""
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "conformance"))

import run  # noqa: E402

SLICE_OPS = {
    "add", "mul", "div.no_rounding_mode", "abs", "exp", "sin", "tanh", "sigmoid", "pow", "clamp", "where",
    "eq", "maximum", "sum", "argmax", "cumsum", "softmax", "matmul", "cat", "transpose", "flip", "gather",
    "index_select", "nn.functional.relu", "nn.functional.linear", "special.zeta", "to_sparse",
}
SLICE_DTYPES = {"float32"}
MAX_SAMPLES = 2

# (name, variant, dtype) rows that pass natively today.
NATIVE = {(name, variant, "float32") for name, variant in [
    ("add", ""), ("mul", ""), ("div", "no_rounding_mode"), ("abs", ""), ("exp", ""), ("sin", ""),
    ("tanh", ""), ("sigmoid", ""), ("pow", ""), ("clamp", ""), ("where", ""), ("eq", ""), ("maximum", ""),
    ("sum", ""), ("argmax", ""), ("cumsum", ""), ("softmax", ""), ("softmax", "with_dtype"), ("matmul", ""),
    ("cat", ""), ("transpose", ""), ("flip", ""), ("gather", ""), ("index_select", ""),
    ("nn.functional.relu", ""), ("nn.functional.linear", ""),
]}

# Rows that today pass only through the CPU fallback (their rule is missing).
FALLBACK = {("special.zeta", "", "float32")}

UNSUPPORTED = {("to_sparse", "", "float32")}


@pytest.fixture(scope="module")
def result():
    if os.environ.get("TORCH_PJRT_TEST_DEVICE", "tpu") != "tpu":
        pytest.skip("the conformance slice compares the tpu device with CPU")
    return run.sweep(SLICE_OPS, dtype_filter=SLICE_DTYPES, workers=2, core=False, max_samples=MAX_SAMPLES,
                     quiet=True)


def rows_by_key(result):
    return {(r["name"], r["variant"], r["dtype"]): r for r in result["opinfo"]}


def test_every_row_has_one_state_and_failures_say_why(result):
    rows = result["opinfo"]
    assert len(rows) == len(rows_by_key(result)), "a row was reported twice"
    assert {(r["name"], r["variant"]) for r in rows} >= {(k[0], k[1]) for k in NATIVE | FALLBACK | UNSUPPORTED}
    for row in rows:
        assert row["state"] in ("native", "fallback", "fail", "unsupported"), row
        if row["state"] != "native":
            assert row["reason"], row


def test_rows_that_pass_today_keep_passing(result):
    rows = rows_by_key(result)
    regressed = {k: rows[k]["state"] + ": " + rows[k]["reason"] for k in NATIVE if rows[k]["state"] != "native"}
    assert not regressed


def test_missing_rules_pass_through_the_cpu_fallback(result):
    rows = rows_by_key(result)
    for key in FALLBACK:
        assert rows[key]["state"] in ("fallback", "native"), rows[key]
        if rows[key]["state"] == "fallback":
            assert "no lowering rule for aten::" in rows[key]["reason"], rows[key]


def test_sparse_layouts_are_unsupported_with_a_reason(result):
    rows = rows_by_key(result)
    for key in UNSUPPORTED:
        assert rows[key]["state"] == "unsupported" and "dense" in rows[key]["reason"], rows[key]
