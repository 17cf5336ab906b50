"""Mistakes raise the Python exception PyTorch raises on CPU, with a message
that names the op, the shapes or devices involved; nothing crashes, hangs or
leaks device buffers."""
import gc
import os
import re
import subprocess
import sys
import tempfile
import textwrap

import pytest
import torch

from op_testing import DEVICE, assert_same, check_raises, make

needs_backend = pytest.mark.skipif(DEVICE == "cpu", reason="needs the torch_pjrt backend")


def run_python(code, **env):
    # Run from a neutral directory, as a user script would be: a checkout's
    # torch_pjrt/ in the working directory would shadow the installed package.
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env={**os.environ, **env},
                          cwd=tempfile.gettempdir(), capture_output=True, text=True, timeout=180)


# ---------------------------------------------------------------- shapes

# In every case below a size 3 meets a size 4; the message must show both.
CONFLICTING_SIZES = (3, 4)
SHAPE_ERRORS = {
    # op name in the message: fn, input shapes
    "add": (lambda a, b: a + b, (3,), (4,)),
    "mul": (lambda a, b: a.mul_(b), (2, 3), (2, 4)),
    "mm": (torch.mm, (2, 3), (4, 5)),
    "cat": (lambda a, b: torch.cat([a, b]), (2, 3), (2, 4)),
}


@pytest.mark.parametrize("op,fn,shape_a,shape_b",
                         [(op, *case) for op, case in SHAPE_ERRORS.items()], ids=SHAPE_ERRORS.keys())
def test_mismatched_shapes_raise_runtime_error_showing_the_sizes(op, fn, shape_a, shape_b):
    error = check_raises(fn, make(shape_a, torch.float32), make(shape_b, torch.float32))
    assert isinstance(error, RuntimeError)
    for size in CONFLICTING_SIZES:
        assert re.search(rf"(?<!\d){size}(?!\d)", str(error)), f"the message does not show size {size}: {error}"


@needs_backend
@pytest.mark.parametrize("op,fn,shape_a,shape_b",
                         [(op, *case) for op, case in SHAPE_ERRORS.items()], ids=SHAPE_ERRORS.keys())
def test_shape_error_names_the_op(op, fn, shape_a, shape_b):
    # DESIGN.md: failures name the op. PyTorch's own CPU messages do not always.
    with pytest.raises(RuntimeError) as info:
        fn(make(shape_a, torch.float32).to(DEVICE), make(shape_b, torch.float32).to(DEVICE))
    assert op in str(info.value), f"the message does not name {op}: {info.value}"


def test_invalid_view_shape():
    check_raises(lambda a: a.view(5, 5), make((4, 6), torch.float32))
    check_raises(lambda a: a.t().view(-1), make((4, 6), torch.float32))  # not viewable: needs reshape


# ---------------------------------------------------------------- devices


def cpu_and_device_operands():
    return make((2, 3), torch.float32).to(DEVICE), make((2, 3), torch.float32, seed=1)


MIXED_DEVICE_OPS = {
    "device_plus_cpu": lambda d, c: d + c,
    "cpu_plus_device": lambda d, c: c + d,
    "in_place_from_cpu": lambda d, c: d.add_(c),
    "mm": lambda d, c: torch.mm(d, c.t()),
    "where": lambda d, c: torch.where(d > 0, d, c),
    "cat": lambda d, c: torch.cat([d, c]),
}


@needs_backend
@pytest.mark.parametrize("fn", MIXED_DEVICE_OPS.values(), ids=MIXED_DEVICE_OPS.keys())
def test_mixing_device_and_cpu_tensors_raises(fn):
    dev, cpu = cpu_and_device_operands()
    before = dev.cpu()
    with pytest.raises(RuntimeError) as info:
        fn(dev, cpu)
    message = str(info.value)
    assert "cpu" in message and "tpu" in message, f"the message does not name both devices: {message}"
    assert torch.equal(dev.cpu(), before)  # a failed in-place op leaves its input alone


ZERO_DIM_CPU_OPS = {
    "device_plus_scalar_tensor": lambda d, s: d + s,
    "scalar_tensor_times_device": lambda d, s: s * d,
    "int_scalar_tensor_keeps_float": lambda d, s: d * s.to(torch.int64),
    "float_scalar_tensor_on_int": lambda d, s: d.to(torch.int32) + s,
    "double_scalar_tensor_keeps_float32": lambda d, s: d - s.to(torch.float64),
    "in_place": lambda d, s: d.mul_(s),
    "where": lambda d, s: torch.where(d > 0, d, s),
}


@pytest.mark.parametrize("fn", ZERO_DIM_CPU_OPS.values(), ids=ZERO_DIM_CPU_OPS.keys())
def test_zero_dim_cpu_tensor_is_allowed(fn):
    # Like CUDA: a 0-d CPU tensor behaves as a scalar next to device tensors,
    # with the type promotion of a 0-d tensor (it does not widen float32).
    cpu = make((2, 3), torch.float32)
    scalar = torch.tensor(1.5)
    expected = fn(cpu.clone(), scalar)
    actual = fn(cpu.to(DEVICE, copy=True), scalar)
    assert_same(actual, expected)


# ---------------------------------------------------------------- dims, dtypes

BAD_DIMS = {
    "sum": lambda a: a.sum(dim=5),
    "transpose": lambda a: a.transpose(0, 3),
    "softmax": lambda a: a.softmax(dim=2),
    "unsqueeze": lambda a: a.unsqueeze(4),
    "select": lambda a: a.select(2, 0),
    "cat": lambda a: torch.cat([a, a], dim=-3),
    "index_past_end": lambda a: a[5],
    "negative_index_past_start": lambda a: a[:, -7],
}


@pytest.mark.parametrize("fn", BAD_DIMS.values(), ids=BAD_DIMS.keys())
def test_bad_dim_or_index_raises_index_error(fn):
    error = check_raises(fn, make((3, 4), torch.float32))
    assert isinstance(error, IndexError)


DTYPE_ERRORS = {
    "mm_int_with_float": lambda a: torch.mm(a.to(torch.int64), a.t()),
    "bitwise_on_float": lambda a: a & a,
    "in_place_result_cannot_be_cast": lambda a: a.to(torch.int64).add_(1.5),
    "float_index": lambda a: a[a],
}


@pytest.mark.parametrize("fn", DTYPE_ERRORS.values(), ids=DTYPE_ERRORS.keys())
def test_dtype_errors_match_cpu(fn):
    check_raises(fn, make((3, 3), torch.float32))


@needs_backend
def test_device_index_out_of_range():
    with pytest.raises(RuntimeError):
        torch.zeros(2, device=f"tpu:{torch.tpu.device_count() + 3}")


# ---------------------------------------------------------------- unsupported ops

# The general (non-symmetric) eigendecomposition has no lowering rule yet, so it is an
# example of an op without one; linalg_eig is a real kernel (not a composite), so its
# dispatch reaches the backend.
UNSUPPORTED_OP = "linalg_eig"


def symmetric(n, seed):
    m = torch.randn(n, n, generator=torch.Generator().manual_seed(seed))
    return m @ m.T + n * torch.eye(n)


@needs_backend
@pytest.mark.skipif(os.environ.get("TORCH_PJRT_CPU_FALLBACK") == "1", reason="the CPU fallback is on")
def test_unsupported_op_names_itself_and_the_fallback_switch():
    with pytest.raises(NotImplementedError) as info:
        torch.linalg.eig(symmetric(4, 0).to(DEVICE))
    message = str(info.value)
    assert UNSUPPORTED_OP in message and "TORCH_PJRT_CPU_FALLBACK" in message, message


@needs_backend
def test_cpu_fallback_runs_unsupported_op():
    result = run_python("""
        import torch, torch_pjrt
        m = torch.randn(5, 5, generator=torch.Generator().manual_seed(0))
        a = m @ m.T + 5 * torch.eye(5)
        expected = torch.linalg.eig(a)

        values, vectors = torch.linalg.eig(a.to("tpu"))
        assert values.device.type == "tpu" and vectors.device.type == "tpu", (values.device, vectors.device)
        torch.testing.assert_close(values.cpu(), expected.eigenvalues)
        torch.testing.assert_close(vectors.cpu(), expected.eigenvectors)

        # out= tensors on the device are written (and resized) as on CPU.
        values_out = torch.empty(0, device="tpu", dtype=torch.complex64)
        vectors_out = torch.empty(0, device="tpu", dtype=torch.complex64)
        returned = torch.linalg.eig(a.to("tpu"), out=(values_out, vectors_out))
        assert returned[0] is values_out and returned[1] is vectors_out
        torch.testing.assert_close(values_out.cpu(), expected.eigenvalues)
        torch.testing.assert_close(vectors_out.cpu(), expected.eigenvectors)

        # A non-contiguous input is seen with its values, not its storage order.
        m = torch.randn(3, 5, generator=torch.Generator().manual_seed(1))
        b = (m.T @ m + 5 * torch.eye(5)).t()[::2, ::2]
        torch.testing.assert_close(torch.linalg.eig(b.to("tpu")).eigenvalues.cpu(),
                                   torch.linalg.eig(b).eigenvalues)
        print("OK")
    """, TORCH_PJRT_CPU_FALLBACK="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("OK")


# ---------------------------------------------------------------- plugins

BAD_PLUGINS = {
    "missing_file": "/nonexistent.so",
    "not_a_plugin": "/bin/ls",
    "unknown_name": "no_such_plugin",
}


@needs_backend
@pytest.mark.parametrize("plugin", BAD_PLUGINS.values(), ids=BAD_PLUGINS.keys())
def test_bad_plugin_is_a_clean_runtime_error(plugin):
    result = run_python("""
        import torch, torch_pjrt
        torch.zeros(2, device='tpu')
    """, TORCH_PJRT_PLUGIN=plugin)
    # 1 is an uncaught Python exception; a negative code would be a signal (a crash).
    assert result.returncode == 1, f"exit {result.returncode}\n{result.stderr}"
    assert "Traceback" in result.stderr and "RuntimeError" in result.stderr, result.stderr
    assert plugin in result.stderr.splitlines()[-1], f"the error does not name {plugin}: {result.stderr}"


@needs_backend
def test_plugin_loads_only_on_first_device_use():
    result = run_python("""
        import torch, torch_pjrt
        assert torch.zeros(2).sum().item() == 0  # CPU work needs no plugin
        print("imported")
    """, TORCH_PJRT_PLUGIN="/nonexistent.so")
    assert result.returncode == 0 and "imported" in result.stdout, result.stderr


# ---------------------------------------------------------------- recovery

FAILING_CALLS = [
    lambda: torch.ones(3, device=DEVICE) + torch.ones(4, device=DEVICE),
    lambda: torch.mm(torch.ones(2, 3, device=DEVICE), torch.ones(4, 5, device=DEVICE)),
    lambda: torch.ones(2, 3, device=DEVICE).sum(dim=7),
    lambda: torch.ones(2, 3, device=DEVICE) + torch.ones(2, 3),
    lambda: torch.linalg.eig(torch.eye(3, device=DEVICE)),
    lambda: torch.ones(3, device=DEVICE, dtype=torch.int64).add_(0.5),
]


def live_buffers():
    import torch_pjrt

    gc.collect()
    torch.tpu.synchronize()
    return torch_pjrt.metrics()["live_buffers"]


@needs_backend
@pytest.mark.skipif(os.environ.get("TORCH_PJRT_CPU_FALLBACK") == "1", reason="the CPU fallback is on")
def test_errors_leak_nothing_and_the_device_keeps_working():
    kept = torch.arange(6.0, device=DEVICE)
    start = live_buffers()
    for _ in range(3):
        for call in FAILING_CALLS:
            with pytest.raises((RuntimeError, IndexError, NotImplementedError)):
                call()
    assert live_buffers() == start
    assert torch.equal((kept * 2).cpu(), torch.arange(6.0) * 2)
