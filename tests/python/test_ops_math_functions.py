"""Floating-point math beyond arithmetic against PyTorch on CPU: the binary
functions (atan2, hypot, copysign, logaddexp, fmax, ...), the gamma family,
special functions, nan_to_num, with the edge values users hit (signed zeros,
infinities, NaN, poles), dtypes, broadcasting, in-place and out= forms,
gradients and the errors CPU raises."""
import math

import pytest
import torch

from op_testing import (ALL_DTYPES, DEVICE, FLOAT_DTYPES, INT_DTYPES, assert_same, check, check_op,
                        check_raises, make, to_device)

SPECIAL = torch.tensor([0.0, -0.0, math.inf, -math.inf, math.nan, -1.0, 1.0, 2.0, 0.5, -2.5,
                        1e-20, 3.0, 1e30, -7.25])


BINARY = {
    "atan2": torch.atan2,
    "copysign": torch.copysign,
    "hypot": torch.hypot,
    "logaddexp": torch.logaddexp,
    "logaddexp2": torch.logaddexp2,
    "fmax": torch.fmax,
    "fmin": torch.fmin,
    "nextafter": torch.nextafter,
    "xlog1py": torch.special.xlog1py,
    "heaviside": torch.heaviside,
}


@pytest.mark.parametrize("name", list(BINARY))
def test_binary_special_values(name):
    """Every pair of edge values, broadcast as a column against a row."""
    fn = BINARY[name]
    check_op(fn, SPECIAL.view(-1, 1), SPECIAL.view(1, -1))
    check_op(fn, SPECIAL.double().view(-1, 1), SPECIAL.double().view(1, -1))


@pytest.mark.parametrize("dtype", ALL_DTYPES + [torch.float16], ids=str)
@pytest.mark.parametrize("name", list(BINARY))
def test_binary_dtypes(name, dtype):
    """Integers compute in the default float type where CPU does (atan2,
    copysign, xlog1py) and raise where CPU has no kernel (hypot, logaddexp,
    nextafter)."""
    x = make((3, 4), dtype, seed=1)
    y = make((3, 4), dtype, seed=2)
    if name == "xlog1py" and dtype.is_floating_point:
        y = y.abs()
    check(BINARY[name], x, y)


@pytest.mark.parametrize("name", list(BINARY))
def test_binary_shapes_and_layouts(name):
    fn = BINARY[name]
    x = make((4, 6), torch.float32, noncontiguous=True)
    y = make((6, 4), torch.float32, seed=3).t().abs()
    check_op(fn, x, y)
    check_op(fn, make((), torch.float32), make((5,), torch.float32, seed=4).abs())
    check_op(fn, torch.empty(0, 3), torch.empty(1, 3))


def test_binary_mixed_dtypes_and_python_numbers():
    x = make((5,), torch.float32)
    check_op(torch.atan2, x, make((5,), torch.float64, seed=2))
    check_op(torch.atan2, make((5,), torch.int32), x.bfloat16())
    check_op(torch.copysign, x, -1.0)
    check_op(torch.copysign, make((5,), torch.int64), -2)
    check_op(torch.fmax, make((5,), torch.int32), x)
    check_op(torch.fmin, make((5,), torch.int64), torch.tensor(2.5))
    check_op(torch.logaddexp, x.bfloat16(), x.flip(0))
    check_op(torch.special.xlog1py, 2.0, x.abs())
    check_op(torch.special.xlog1py, x, 3)
    check_op(torch.hypot, x.half(), x.flip(0))


def test_binary_inplace_and_out():
    x = make((3, 4), torch.float32)
    y = make((3, 4), torch.float32, seed=2)
    check_op(lambda a, b: a.atan2_(b), x, y)
    check_op(lambda a, b: a[:, 1:3].hypot_(b[:, :2]), x, y)
    check_op(lambda a, b: a.t().copysign_(b.t()), x, y)
    check_op(lambda a, b: torch.logaddexp(a, b, out=torch.empty(0, device=a.device)), x, y)
    check_op(lambda a, b, out: torch.fmax(a, b, out=out), x, y, torch.empty(3, 4))
    check_op(lambda a, b, out: torch.nextafter(a, b, out=out), x, y, torch.empty(3, 4))
    check_raises(lambda a, b: a.view(torch.int32).copysign_(b), x, y)


def test_binary_errors():
    x = make((3,), torch.float32)
    check_raises(torch.heaviside, x, x.double())
    check_raises(torch.heaviside, x.to(torch.complex64), x.to(torch.complex64))
    check_raises(torch.fmax, x.to(torch.complex64), x.to(torch.complex64))
    check_raises(torch.hypot, make((3,), torch.int64), make((3,), torch.int64))
    check_raises(torch.atan2, x, make((4,), torch.float32))
    # Results are not written into another device's tensor, as on CUDA.
    with pytest.raises(RuntimeError, match="out tensor to be on the tpu device"):
        torch.atan2(to_device(x), to_device(x), out=torch.empty(3))


def check_grad(fn, *inputs, atol=None, rtol=None):
    cpu = [t.clone().requires_grad_() for t in inputs]
    dev = [to_device(t).detach().requires_grad_() for t in inputs]
    expected = fn(*cpu)
    upstream = make(expected.shape, expected.dtype, seed=7)
    expected.backward(upstream)
    actual = fn(*dev)
    actual.backward(to_device(upstream))
    assert_same(actual.detach(), expected.detach(), atol=atol, rtol=rtol)
    for d, c in zip(dev, cpu):
        assert_same(d.grad, c.grad, atol=atol, rtol=rtol)


@pytest.mark.parametrize("name", ["atan2", "hypot", "logaddexp", "logaddexp2", "fmax", "fmin",
                                  "copysign", "xlog1py"])
def test_binary_gradients(name):
    x = make((4, 5), torch.float32)
    y = make((4, 5), torch.float32, seed=2)
    if name == "xlog1py":
        y = y.abs()
    check_grad(BINARY[name], x, y)


# ---------------------------------------------------------------- gamma family

def test_lgamma_digamma_poles():
    """lgamma is inf at 0 and the negative integers; digamma is -inf at +0,
    inf at -0 and NaN at the negative integers, as Cephes gives on CPU."""
    x = torch.tensor([0.0, -0.0, -1.0, -2.0, -2.5, 0.5, math.inf, -math.inf, math.nan])
    check_op(torch.lgamma, x)
    check_op(torch.digamma, x)
    check_op(torch.special.psi, x)
    check_op(torch.lgamma, make((6,), torch.int64))
    check_raises(torch.lgamma, make((3,), torch.float32).to(torch.complex64))


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4])
def test_polygamma(n):
    x = make((20,), torch.float64, low=0.05, high=8)
    # XLA's polygamma series is good to about 1e-9 in double (Cephes's to 1e-15).
    check_op(torch.polygamma, n, x, rtol=1e-8)
    check_op(torch.polygamma, n, x.float(), rtol=1e-4)
    check_op(lambda t: t.polygamma_(n), x.clone(), rtol=1e-8)
    check_op(torch.polygamma, n, make((5,), torch.int32, low=1, high=9), rtol=1e-5)
    # Poles and the infinities; trigamma near the negative integers is CPU's
    # large finite value (sin(pi x) is not exactly 0 there).
    edges = torch.tensor([0.0, -0.0, 1.0, math.inf, math.nan, 2.5, -2.5, -1.0, -3.0, -math.inf])
    check_op(torch.polygamma, n, make((12,), torch.float32, low=-9, high=-0.1), rtol=1e-3)
    check_op(torch.polygamma, n, torch.arange(-5, 5, dtype=torch.int8), rtol=1e-4)
    # At negative x the series loses digits as n grows (5e-4 relative at n=4, x=-2.5).
    check_op(torch.polygamma, n, edges, rtol=1e-3)


def test_polygamma_errors_and_gradient():
    check_raises(torch.polygamma, -1, make((3,), torch.float32))
    check_grad(lambda t: torch.polygamma(1, t), make((5,), torch.float64, low=0.5, high=4), rtol=1e-8)
    check_grad(torch.lgamma, make((5,), torch.float32, low=0.5, high=4))
    check_grad(torch.digamma, make((5,), torch.float64, low=0.5, high=4), rtol=1e-8)


def test_zeta():
    x = torch.tensor([1.0, 1.5, 2.0, 3.5, 0.5, 10.0]).view(-1, 1)
    q = torch.tensor([1.0, 2.0, 0.5, -1.0, -1.5, 0.0, 3.0, 100.0]).view(1, -1)
    check_op(torch.special.zeta, x, q, rtol=1e-4)
    check_op(torch.special.zeta, x.double(), q.double(), rtol=1e-9)
    check_op(torch.special.zeta, 2.0, q.abs() + 1, rtol=1e-4)
    check_op(torch.special.zeta, x + 1, 2, rtol=1e-4)
    check_op(torch.special.zeta, make((4,), torch.int64, low=2, high=5), make((4,), torch.int64, low=1, high=4),
             rtol=1e-5)
    # Negative q: CPU's series adds the terms below 0 one by one.
    check_op(torch.special.zeta, torch.tensor([2.0, 3.0, 4.0, 2.5]), torch.tensor([-8.4784, -2.5, -0.3, -1.5]),
             rtol=1e-4)
    check_op(torch.special.zeta, make((2, 2), torch.bool), make((2, 2), torch.bool, seed=1))


# ---------------------------------------------------------------- unary special functions

UNARY = {
    "sinc": torch.sinc,
    "logit": torch.logit,
    "logit_eps": lambda x: torch.logit(x, 0.1),
    "entr": torch.special.entr,
    "angle": torch.angle,
    "nan_to_num": torch.nan_to_num,
    "nan_to_num_values": lambda x: torch.nan_to_num(x, nan=1.5, posinf=100.0, neginf=-7.0),
}


@pytest.mark.parametrize("dtype", ALL_DTYPES + [torch.float16], ids=str)
@pytest.mark.parametrize("name", list(UNARY))
def test_unary_dtypes(name, dtype):
    low, high = (0.02, 0.98) if name.startswith("logit") else (-3, 3)
    x = make((3, 4), dtype, low=low if dtype.is_floating_point else None,
             high=high if dtype.is_floating_point else None)
    check(UNARY[name], x)


@pytest.mark.parametrize("name", list(UNARY))
def test_unary_special_values_and_shapes(name):
    fn = UNARY[name]
    check_op(fn, SPECIAL)
    check_op(fn, SPECIAL.double())
    check_op(fn, SPECIAL.half())
    check_op(fn, torch.tensor(0.5))
    check_op(fn, torch.empty(0, 3))
    check_op(fn, make((4, 6), torch.float32, low=0.05, high=0.95, noncontiguous=True))


@pytest.mark.parametrize("name", ["sinc", "angle", "nan_to_num"])
def test_unary_complex(name):
    x = torch.complex(SPECIAL, SPECIAL.flip(0))
    if name == "sinc":
        x = make((6,), torch.float32).to(torch.complex64) + 0.5j
    check_op(UNARY[name], x, rtol=1e-6, atol=1e-6)


def test_unary_inplace_out_and_errors():
    x = make((3, 4), torch.float32, low=0.05, high=0.95)
    check_op(lambda t: t.logit_(), x)
    check_op(lambda t: t[:, ::2].sinc_(), x)
    check_op(lambda t: t.nan_to_num_(posinf=1.0), torch.tensor([math.inf, math.nan, 2.0]))
    check_op(lambda t, out: torch.special.entr(t, out=out), x, torch.empty(0))
    check_raises(torch.logit, x.to(torch.complex64))
    check_raises(torch.special.entr, x.to(torch.complex64))


@pytest.mark.parametrize("name", ["sinc", "logit", "logit_eps", "entr"])
def test_unary_gradients(name):
    x = make((4, 5), torch.float64, low=0.02, high=0.98)
    check_grad(UNARY[name], x)
    check_grad(UNARY[name], x.float(), rtol=1e-4, atol=1e-4)


def test_logit_backward_edges():
    x = torch.tensor([-0.5, 0.0, 0.05, 0.5, 1.0, 1.5, math.nan])
    grad = torch.ones_like(x)
    check_op(torch.ops.aten.logit_backward, grad, x)
    check_op(torch.ops.aten.logit_backward, grad, x, 0.1)


@pytest.mark.parametrize("name", ["asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh",
                                  "atanh", "erfc"])
def test_inverse_trig_complex_and_gradients(name):
    fn = getattr(torch, name)
    z = make((6,), torch.float32, low=-0.9, high=0.9).to(torch.complex64) + 0.3j
    check_op(fn, z, rtol=1e-5, atol=1e-5) if name != "erfc" else check_raises(fn, z)
    low, high = (1.1, 4) if name == "acosh" else (-0.9, 0.9)
    check_grad(fn, make((4, 5), torch.float64, low=low, high=high))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.complex64], ids=str)
def test_sgn_gradient_is_an_efficient_zero_tensor_on_the_device(dtype):
    # autograd builds sgn's gradient with _efficientzerotensor.
    x = make((3, 4), dtype)
    cpu = x.clone().requires_grad_()
    dev = x.to(DEVICE).requires_grad_()
    torch.sgn(cpu).abs().sum().backward()
    torch.sgn(dev).abs().sum().backward()
    # A complex sgn has a real gradient, zero up to rounding here.
    assert_same(dev.grad, cpu.grad, atol=1e-6, rtol=1e-5)
    zeros = torch.ops.aten._efficientzerotensor([2, 0, 3], dtype=dtype, device=DEVICE)
    assert zeros.dtype == dtype and zeros.shape == (2, 0, 3)
