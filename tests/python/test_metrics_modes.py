"""torch_pjrt.metrics(): what the counters say about compiles, the cache and
transfers; the eager modes; the CPU fallback's accounting."""
import os
import subprocess
import sys
import tempfile
import textwrap

import pytest
import torch

from op_testing import DEVICE, FUSED, make

pytestmark = pytest.mark.skipif(DEVICE == "cpu", reason="metrics and modes belong to the torch_pjrt backend")

COUNTERS = ["compiles", "cache_hits", "disk_cache_hits", "disk_cache_misses", "executions",
            "bytes_to_device", "bytes_from_device", "cpu_fallbacks"]
STATES = ["live_buffers", "live_bytes", "disk_cache_bytes"]


def metrics():
    import torch_pjrt

    torch.tpu.synchronize()  # counters of enqueued work are final once it ran
    return torch_pjrt.metrics()


def delta(before, after, key):
    return after[key] - before[key]


def run_python(code, **env):
    # Run from a neutral directory, as a user script would be: a checkout's
    # torch_pjrt/ in the working directory would shadow the installed package.
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env={**os.environ, **env},
                          cwd=tempfile.gettempdir(), capture_output=True, text=True, timeout=180)


# ---------------------------------------------------------------- the dict itself


def test_metrics_keys_and_types():
    values = metrics()
    for key in COUNTERS + STATES:
        assert type(values[key]) is int and values[key] >= 0, key
    assert type(values["compile_seconds"]) is float and values["compile_seconds"] >= 0
    for key, value in values.items():
        assert isinstance(key, str)
        if key.startswith("cpu_fallback::"):
            assert key.startswith("cpu_fallback::aten::") and type(value) is int


def test_metrics_is_a_snapshot():
    first = metrics()
    first["compiles"] = -1  # the caller's copy, not the backend's state
    assert metrics()["compiles"] >= 0


def test_metrics_report_is_printable():
    import torch_pjrt

    report = torch_pjrt.metrics_report()
    assert isinstance(report, str)
    for key in COUNTERS + STATES + ["compile_seconds"]:
        assert key in report


def test_reset_zeroes_counters_and_keeps_states():
    import torch_pjrt

    kept = torch.arange(10.0, device=DEVICE) * 3
    kept.cpu()
    before = metrics()
    assert before["executions"] > 0 and before["bytes_from_device"] > 0
    torch_pjrt.reset_metrics()
    after = metrics()
    for key in COUNTERS:
        assert after[key] == 0, key
    assert after["compile_seconds"] == 0.0
    assert not any(v for k, v in after.items() if k.startswith("cpu_fallback::"))
    for key in STATES:
        assert after[key] == before[key], f"reset_metrics changed the state {key}"
    del kept


# ---------------------------------------------------------------- the executable cache


def test_repeated_op_compiles_once_then_hits_the_cache():
    # An unusual shape, so no other test has run this program in this process.
    x = torch.ones(7, 13, 3, device=DEVICE)
    y = torch.full((7, 13, 3), 2.0, device=DEVICE)
    before = metrics()
    kept = torch.mul(x, y)  # held: fused mode never runs what nobody holds
    first = metrics()
    # With the on-disk cache warm, the first call may load instead of compiling.
    assert sum(delta(before, first, k) for k in ("compiles", "cache_hits", "disk_cache_hits")) >= 1
    assert delta(before, first, "executions") >= 1
    for _ in range(10):
        kept = torch.mul(x, y)
        if FUSED:
            torch.tpu.synchronize()  # one program per op, as in the other modes
    after = metrics()
    assert delta(first, after, "compiles") == 0
    assert delta(first, after, "cache_hits") >= 10
    assert delta(first, after, "executions") >= 10
    del kept


SCALARS = [0.5 + 0.37 * i for i in range(12)]

SCALAR_OPS = {
    "mul_scalar": lambda x, y, s: x * s,
    "add_scalar": lambda x, y, s: x + s,
    "div_scalar": lambda x, y, s: x / s,
    "add_alpha": lambda x, y, s: torch.add(x, y, alpha=s),
    "add__alpha": lambda x, y, s: x.add_(y, alpha=s),
    "addcmul__value": lambda x, y, s: x.addcmul_(y, y, value=s),
    "clamp_max": lambda x, y, s: x.clamp(max=s),
    "lerp_weight": lambda x, y, s: torch.lerp(x, y, s),
}


@pytest.mark.parametrize("op", SCALAR_OPS.values(), ids=SCALAR_OPS.keys())
def test_changing_python_scalar_never_recompiles(op):
    cpu_x, cpu_y = make((5, 6), torch.float32), make((5, 6), torch.float32, seed=1)
    x, y = cpu_x.to(DEVICE), cpu_y.to(DEVICE)
    warm = op(x, y, SCALARS[0])  # compiles (or loads) the program once (held, as in the loop)
    op(cpu_x, cpu_y, SCALARS[0])
    before = metrics()
    for s in SCALARS[1:]:
        result = op(x, y, s)
        expected = op(cpu_x, cpu_y, s)
        if FUSED:
            torch.tpu.synchronize()  # the warm-up's one-op program each time
    assert delta(before, metrics(), "compiles") == 0, "a new scalar value caused a recompile"
    # ...and the scalar really was used, not baked in from the first call.
    # In-place ops repeat 11 times, so allow a few float32 roundings more than one op.
    torch.testing.assert_close(result.cpu(), expected, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(x.cpu(), cpu_x, rtol=1e-5, atol=1e-5)


def test_walking_a_tensor_slice_by_slice_compiles_once():
    # Rows and outer-dim slices are contiguous runs of their storage: their
    # offset is a run-time input, so a loop over them must not compile per step.
    cpu = make((2048, 160), torch.float32)  # over 1 MiB: no whole-storage host reads
    weight_cpu = make((160, 4), torch.float32, seed=1)
    data, weight = cpu.to(DEVICE), weight_cpu.to(DEVICE)

    def step(x, w, i):
        total = (x[i * 8:(i + 1) * 8] @ w).sum()
        x[i].mul_(2)
        row = x[i + 1].clone()
        x[i + 2] = row
        return total

    step(data, weight, 0).cpu()  # read, as in the loop
    step(cpu, weight_cpu, 0)
    before = metrics()
    for i in range(1, 12):
        result = step(data, weight, i)
        expected = step(cpu, weight_cpu, i)
        torch.testing.assert_close(result.cpu(), expected, rtol=1e-5, atol=1e-4)
    assert delta(before, metrics(), "compiles") == 0, "a new offset caused a recompile"
    assert torch.equal(data.cpu(), cpu)


def test_walking_columns_and_boxes_compiles_once():
    # Columns, strided runs and 2-D boxes keep their shape and strides as the
    # loop moves them: their offset is a run-time input too (issue #6, item 5).
    cpu = make((640, 512), torch.float32)  # over 1 MiB: no whole-storage host reads
    data = cpu.to(DEVICE)

    def step(x, j):
        column = x[:, j]
        total = column.sum() + x[j:j + 4, j:j + 8].sum() + x[j, j::16].sum()
        x[:, j + 1].add_(column)  # a write through a column
        x[j + 2:j + 5, j:j + 3] = x[j:j + 3, j + 3:j + 6] * 2  # a box from another box
        return total

    step(data, 0).cpu()
    step(cpu, 0)
    before = metrics()
    for j in range(1, 10):
        result = step(data, j)
        expected = step(cpu, j)
        torch.testing.assert_close(result.cpu(), expected, rtol=1e-5, atol=1e-3)
    assert delta(before, metrics(), "compiles") == 0, "a new offset caused a recompile"
    assert torch.equal(data.cpu(), cpu)


# ---------------------------------------------------------------- transfers


@pytest.mark.parametrize("dtype", [torch.float32, torch.int64, torch.bfloat16, torch.bool], ids=str)
def test_transfers_count_their_bytes(dtype):
    cpu = make((123, 5), dtype)
    before = metrics()
    dev = cpu.to(DEVICE)
    uploaded = metrics()
    assert delta(before, uploaded, "bytes_to_device") == cpu.nbytes
    assert delta(before, uploaded, "bytes_from_device") == 0
    back = dev.cpu()
    downloaded = metrics()
    assert delta(uploaded, downloaded, "bytes_from_device") == cpu.nbytes
    assert delta(uploaded, downloaded, "bytes_to_device") == 0
    assert torch.equal(back, cpu)


def test_item_and_device_only_work_transfer_little():
    dev = torch.arange(1000.0).to(DEVICE)
    before = metrics()
    total = (dev * 2 + 1).sum()
    computed = metrics()
    assert delta(before, computed, "bytes_from_device") == 0  # results stay on the device
    assert total.item() == 1000.0 * 999 + 1000
    assert delta(computed, metrics(), "bytes_from_device") == 4


def test_live_buffers_follow_tensors():
    before = metrics()
    tensors = [torch.ones(256, device=DEVICE) * i for i in range(4)]
    during = metrics()
    assert delta(before, during, "live_buffers") >= 4
    assert delta(before, during, "live_bytes") >= 4 * 256 * 4
    del tensors
    after = metrics()
    assert after["live_buffers"] == before["live_buffers"] and after["live_bytes"] == before["live_bytes"]


# ---------------------------------------------------------------- modes, fallback (fresh processes)

WORKLOAD = """
    import torch, torch_pjrt
    from torch import nn

    def workload(device):
        g = torch.Generator().manual_seed(0)
        x = torch.randn(16, 8, generator=g).to(device)
        y = torch.randint(0, 3, (16,), generator=g).to(device)
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(8, 32), nn.GELU(), nn.Linear(32, 3)).to(device)
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
        losses = []
        for _ in range(3):
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        view = x.t()[2:5]
        view.mul_(2)
        return losses, x.cpu(), torch.softmax(x, dim=1).cpu(), (x @ x.t()).cpu()

    cpu_losses, *cpu_tensors = workload("cpu")
    tpu_losses, *tpu_tensors = workload("tpu")
    torch.testing.assert_close(torch.tensor(tpu_losses), torch.tensor(cpu_losses), rtol=1e-4, atol=1e-5)
    for actual, expected in zip(tpu_tensors, cpu_tensors):
        torch.testing.assert_close(actual, expected, rtol=1e-4, atol=1e-5)
    print("OK")
"""


@pytest.mark.parametrize("mode", ["debug", "strict", "fused"])
def test_eager_modes_give_cpu_results(mode):
    result = run_python(WORKLOAD, TORCH_PJRT_EAGER_MODE=mode)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("OK")


def test_debug_mode_raises_at_the_failing_op():
    result = run_python("""
        import torch, torch_pjrt
        x = torch.ones(3, device="tpu")
        try:
            x + torch.ones(4, device="tpu")
        except RuntimeError as error:
            print("raised:", type(error).__name__)
        print((x * 2).sum().item())
    """, TORCH_PJRT_EAGER_MODE="debug")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["raised: RuntimeError", "6.0"]


def test_cpu_fallback_is_counted_per_op():
    result = run_python("""
        import re, torch, torch_pjrt

        def eig_fallbacks(values):
            # Counted under the op or an overload: "aten::linalg_eig[.out]".
            pattern = r"cpu_fallback::aten::linalg_eig(\\.\\w+)?"
            return sum(v for k, v in values.items() if re.fullmatch(pattern, k))

        a = (torch.eye(4) * 3 + torch.ones(4, 4)).to("tpu")
        torch.linalg.eig(a)  # warm-up, then count from zero
        torch_pjrt.reset_metrics()
        for _ in range(3):
            torch.linalg.eig(a)
        values = torch_pjrt.metrics()
        print(values["cpu_fallbacks"], eig_fallbacks(values))
        # The copies the fallback makes are transfers like any other.
        print(values["bytes_to_device"] > 0, values["bytes_from_device"] > 0)
        torch_pjrt.reset_metrics()
        print(eig_fallbacks(torch_pjrt.metrics()))
    """, TORCH_PJRT_CPU_FALLBACK="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:3] == ["3 3", "True True", "0"]


def test_no_fallbacks_counted_by_native_ops():
    before = metrics()
    (torch.ones(3, 3, device=DEVICE) @ torch.ones(3, 3, device=DEVICE)).relu().sum().cpu()
    assert delta(before, metrics(), "cpu_fallbacks") == 0
