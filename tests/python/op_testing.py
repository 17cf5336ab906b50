"""Shared helpers: run an op on the device under test and on CPU, compare."""
import os

import torch

DEVICE = os.environ.get("TORCH_PJRT_TEST_DEVICE", "tpu")
# Fused eager mode (the default) runs gathered programs, not one per op:
# tests that count per-op executions say what they expect there.
FUSED = DEVICE == "tpu" and __import__("torch_pjrt")._C._eager_mode() == "fused"

# Every dtype the first op set claims.
ALL_DTYPES = [torch.float32, torch.bfloat16, torch.float64, torch.int64, torch.int32, torch.bool]
FLOAT_DTYPES = [torch.float32, torch.bfloat16, torch.float64]
INT_DTYPES = [torch.int64, torch.int32]
NUMERIC_DTYPES = FLOAT_DTYPES + INT_DTYPES

_TOLERANCE = {
    torch.float32: (1.3e-6, 1e-5),
    torch.float64: (1e-12, 1e-10),
    torch.bfloat16: (1.6e-2, 1e-2),
    torch.float16: (1e-3, 1e-3),
}


def to_device(x, device=None):
    """Moves every tensor inside x (tuples, lists, dicts) to the device, keeping
    strides: a non-contiguous CPU input becomes the same view on the device."""
    device = device or DEVICE
    if isinstance(x, torch.Tensor):
        if x.is_contiguous() or x.numel() == 0:
            return x.to(device)
        # Rebuild the same strided view over a copy of the whole storage.
        base = torch.empty(0, dtype=x.dtype)
        base.set_(x.untyped_storage(), 0, (x.untyped_storage().nbytes() // x.element_size(),), (1,))
        dev_base = base.to(device)
        return dev_base.as_strided(x.shape, x.stride(), x.storage_offset())
    if isinstance(x, (list, tuple)):
        return type(x)(to_device(v, device) for v in x)
    if isinstance(x, dict):
        return {k: to_device(v, device) for k, v in x.items()}
    return x


def assert_same(actual, expected, *, atol=None, rtol=None, check_stride=False):
    """actual (device) equals expected (CPU): dtype, shape and values; NaN == NaN."""
    if isinstance(expected, (list, tuple)):
        assert isinstance(actual, (list, tuple)) and len(actual) == len(expected), (actual, expected)
        for a, e in zip(actual, expected):
            assert_same(a, e, atol=atol, rtol=rtol, check_stride=check_stride)
        return
    if not isinstance(expected, torch.Tensor):
        assert actual == expected or (actual != actual and expected != expected), (actual, expected)
        return
    assert isinstance(actual, torch.Tensor), f"expected a tensor, got {type(actual)}"
    assert actual.device.type == DEVICE, f"result on {actual.device}, expected {DEVICE}"
    assert actual.dtype == expected.dtype, f"dtype {actual.dtype} != {expected.dtype}"
    assert actual.shape == expected.shape, f"shape {tuple(actual.shape)} != {tuple(expected.shape)}"
    if check_stride:
        assert actual.stride() == expected.stride(), f"stride {actual.stride()} != {expected.stride()}"
    default_rtol, default_atol = _TOLERANCE.get(expected.dtype, (0, 0))
    torch.testing.assert_close(
        actual.cpu(), expected,
        rtol=default_rtol if rtol is None else rtol,
        atol=default_atol if atol is None else atol,
        equal_nan=True, check_dtype=True,
    )


def check_op(fn, *args, atol=None, rtol=None, **kwargs):
    """fn(*args, **kwargs) on the device equals fn on CPU, including how fn
    mutated its inputs (in-place ops, out=, writes through views)."""
    cpu_args = [a.clone() if isinstance(a, torch.Tensor) else a for a in args]
    dev_args = to_device(list(args))
    dev_kwargs = to_device(kwargs)
    expected = fn(*cpu_args, **kwargs)
    actual = fn(*dev_args, **dev_kwargs)
    assert_same(actual, expected, atol=atol, rtol=rtol)
    for d, c in zip(dev_args, cpu_args):
        if isinstance(c, torch.Tensor):
            assert_same(d, c, atol=atol, rtol=rtol)
    for k, v in kwargs.items():
        if isinstance(v, torch.Tensor):
            assert_same(dev_kwargs[k], v, atol=atol, rtol=rtol)
    return actual


def check_raises(fn, *args, **kwargs):
    """If fn raises on CPU, it raises the same exception type on the device
    (never a crash); returns the device exception for message checks."""
    try:
        fn(*args, **kwargs)
    except Exception as cpu_error:  # noqa: BLE001
        expected_type = type(cpu_error)
    else:
        raise AssertionError("fn does not raise on CPU")
    try:
        fn(*to_device(list(args)), **to_device(kwargs))
    except expected_type as error:
        return error
    raise AssertionError(f"fn did not raise {expected_type.__name__} on {DEVICE}")


def check(fn, *args, **kwargs):
    """check_op when CPU accepts the call, else check_raises (same exception)."""
    try:
        fn(*[a.clone() if isinstance(a, torch.Tensor) else a for a in args], **kwargs)
    except Exception:  # noqa: BLE001
        return check_raises(fn, *args, **kwargs)
    return check_op(fn, *args, **kwargs)


def make(shape, dtype, *, low=None, high=None, seed=0, noncontiguous=False):
    """A deterministic CPU tensor; non-contiguous ones are every other element."""
    g = torch.Generator().manual_seed(seed)
    full_shape = list(shape)
    if noncontiguous and full_shape:
        full_shape[-1] *= 2
    if dtype == torch.bool:
        t = torch.randint(0, 2, full_shape, generator=g).bool()
    elif dtype.is_floating_point or dtype.is_complex:
        lo = -3.0 if low is None else low
        hi = 3.0 if high is None else high
        t = (torch.rand(full_shape, generator=g, dtype=torch.float64) * (hi - lo) + lo).to(dtype)
    else:
        lo = -9 if low is None else low
        hi = 10 if high is None else high
        t = torch.randint(lo, hi, full_shape, generator=g).to(dtype)
    if noncontiguous and full_shape:
        t = t[..., ::2]
    return t
