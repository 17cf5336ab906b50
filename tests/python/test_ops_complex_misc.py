"""complex, polar, frexp, renorm, cross / linalg.cross and channel_shuffle on the
device against CPU."""
import pytest
import torch

from op_testing import FLOAT_DTYPES, assert_same, check, check_op, check_raises, make, to_device


def check_grad(fn, *inputs, atol=None, rtol=None):
    cpu = [t.clone().requires_grad_() for t in inputs]
    dev = [to_device(t).detach().requires_grad_() for t in inputs]
    expected = fn(*cpu)
    upstream = make(expected.shape, expected.dtype, seed=7)
    if expected.dtype.is_complex:
        upstream = upstream + 1j * make(expected.shape, torch.float64, seed=8).to(expected.dtype)
    expected.backward(upstream)
    actual = fn(*dev)
    actual.backward(to_device(upstream))
    assert_same(actual.detach(), expected.detach(), atol=atol, rtol=rtol)
    for d, c in zip(dev, cpu):
        assert_same(d.grad, c.grad, atol=atol, rtol=rtol)


# ------------------------------------------------------------ complex / polar


@pytest.mark.parametrize("fn", [torch.complex, torch.polar])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_complex_polar(fn, dtype):
    check(fn, make((3, 4), dtype), make((3, 4), dtype, seed=1))
    check(fn, make((3, 1), dtype), make((4,), dtype, seed=1))  # broadcast
    check(fn, make((), dtype), make((), dtype, seed=1))
    check(fn, make((0, 2), dtype), make((2,), dtype, seed=1))
    check(fn, make((3, 4), dtype, noncontiguous=True), make((3, 4), dtype, seed=1))
    out = to_device(torch.empty(3, 4, dtype=torch.complex64 if dtype == torch.float32 else
                                torch.complex128))
    x, y = make((3, 4), dtype), make((3, 4), dtype, seed=1)
    fn(to_device(x), to_device(y), out=out)
    assert_same(out, fn(x, y))


def test_polar_special_values():
    inf, nan = float("inf"), float("nan")
    check(torch.polar, torch.tensor([inf, 1.0, -1.0, 0.0, 2.0]),
          torch.tensor([0.0, inf, 1.0, nan, -0.0]))


@pytest.mark.parametrize("fn", [torch.complex, torch.polar])
def test_complex_polar_errors_and_gradients(fn):
    check_raises(fn, make((3,), torch.float32), make((3,), torch.float64))
    check_raises(fn, make((3,), torch.int64), make((3,), torch.int64))
    check_raises(fn, make((3,), torch.float32), make((4,), torch.float32))
    check_grad(fn, make((3, 4), torch.float64), make((3, 4), torch.float64, seed=1),
               atol=1e-10, rtol=1e-10)
    check_grad(fn, make((3, 4), torch.float32), make((4,), torch.float32, seed=1))


# ---------------------------------------------------------------------- frexp

SPECIAL = [0.0, -0.0, 1.0, 0.5, 3.0, -5.0, 1e-40, -1e-45, 3.4e38, 1e-310, 6e-5, 1e-6,
           float("inf"), -float("inf"), float("nan")]


@pytest.mark.parametrize("dtype", FLOAT_DTYPES + [torch.float16])
def test_frexp(dtype):
    check(torch.frexp, torch.tensor(SPECIAL, dtype=torch.float64).to(dtype))
    check(torch.frexp, make((3, 5), dtype, low=-1e4, high=1e4, noncontiguous=True))
    check(torch.frexp, make((), dtype))
    check(torch.frexp, make((0, 3), dtype))


def test_frexp_out_and_errors():
    x = make((4,), torch.float32)
    mantissa, exponent = to_device(torch.empty(4)), to_device(torch.empty(4, dtype=torch.int32))
    torch.frexp(to_device(x), out=(mantissa, exponent))
    expected = torch.frexp(x)
    assert_same(mantissa, expected.mantissa)
    assert_same(exponent, expected.exponent)
    for dtype in (torch.int64, torch.bool, torch.complex64):
        error = check_raises(torch.frexp, make((3,), dtype))
        assert "floating-point" in str(error)


# --------------------------------------------------------------------- renorm


@pytest.mark.parametrize("p", [1, 2, 3.5, float("inf")])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16, torch.complex64])
def test_renorm(p, dtype):
    x = make((3, 4, 2), dtype)
    if dtype.is_complex:
        x = x + 1j * make((3, 4, 2), torch.float32, seed=3)
    tol = {torch.bfloat16: dict(atol=2e-2, rtol=2e-2),
           torch.complex64: dict(atol=1e-5, rtol=1.3e-6)}.get(dtype, {})
    check(lambda t: torch.renorm(t, p, 0, 5.0), x, **tol)
    check(lambda t: torch.renorm(t, p, -1, 4.0), x, **tol)
    check(lambda t: t.renorm_(p, 1, 3.0), x.clone(), **tol)


def test_renorm_noncontiguous_errors_gradients():
    check(lambda t: torch.renorm(t, 2, 1, 1.0), make((4, 5), torch.float32, noncontiguous=True))
    check(lambda t: torch.renorm(t, 2, 1, 0.0), make((4, 5), torch.float32))
    x = make((4, 5), torch.float32)
    for args in ((0, 0, 1.0), (-1, 0, 1.0), (2, 0, -1.0), (2, 2, 1.0)):
        check_raises(lambda t: torch.renorm(t, *args), x)
    check_raises(lambda t: torch.renorm(t, 2, 0, 1.0), make((4,), torch.float32))
    check_raises(lambda t: torch.renorm(t, 2, 0, 1.0), make((4, 5), torch.int64))
    check_grad(lambda t: torch.renorm(t, 2, 0, 4.0), make((3, 5), torch.float64),
               atol=1e-10, rtol=1e-10)


# ---------------------------------------------------------------------- cross


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16, torch.float16,
                                   torch.int64, torch.int32, torch.complex64])
def test_cross(dtype):
    a, b = make((4, 3), dtype), make((4, 3), dtype, seed=1)
    check(torch.linalg.cross, a, b)
    check(torch.cross, a, b, dim=1)
    check(lambda x, y: torch.linalg.cross(x, y, dim=0), make((3, 2), dtype),
          make((3, 1), dtype, seed=1))
    check(torch.linalg.cross, make((2, 1, 3), dtype), make((1, 4, 3), dtype, seed=1))


def test_cross_layouts_out_errors_gradients():
    check(torch.linalg.cross, make((3, 3), torch.float32, noncontiguous=True),
          make((3, 3), torch.float32, seed=1).t())
    check(torch.linalg.cross, make((0, 3), torch.float32), make((0, 3), torch.float32))
    a, b = make((5, 3), torch.float32), make((5, 3), torch.float32, seed=1)
    out = to_device(torch.empty(5, 3))
    torch.linalg.cross(to_device(a), to_device(b), out=out)
    assert_same(out, torch.linalg.cross(a, b))
    check_raises(torch.linalg.cross, make((2,), torch.float32), make((2,), torch.float32))
    check_raises(torch.linalg.cross, make((3,), torch.float32), make((3,), torch.float64))
    check_raises(torch.linalg.cross, make((2, 3), torch.float32), make((4, 1, 3), torch.float32))
    check_raises(lambda x, y: torch.linalg.cross(x, y, dim=2), a, b)
    check_raises(torch.linalg.cross, make((3,), torch.bool), make((3,), torch.bool))
    check_grad(torch.linalg.cross, make((4, 3), torch.float64), make((1, 3), torch.float64, seed=2),
               atol=1e-10, rtol=1e-10)


# ------------------------------------------------------------ channel_shuffle


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.int64, torch.bool,
                                   torch.complex64])
def test_channel_shuffle(dtype):
    fn = torch.nn.functional.channel_shuffle
    check(fn, make((2, 6, 3), dtype), 3)
    check(fn, make((2, 6, 3, 2), dtype, noncontiguous=True), 2)
    check(fn, make((1, 4, 2, 2, 2), dtype), 4)
    check(fn, make((0, 4, 3), dtype), 2)


def test_channel_shuffle_errors_and_gradients():
    fn = torch.nn.functional.channel_shuffle
    check_raises(fn, make((2, 4, 3), torch.float32), 0)
    check_raises(fn, make((2, 4, 3), torch.float32), 3)
    check_raises(fn, make((2, 4), torch.float32), 2)
    check_grad(lambda t: fn(t, 2), make((2, 6, 4), torch.float32))
    check_op(lambda t: torch.nn.ChannelShuffle(3)(t), make((1, 6, 2, 2), torch.float32))


# ------------------------------------------------------------ complex log-sum-exp family


C64 = {"atol": 1e-5, "rtol": 1e-5}


def complex_values(shape, seed=0):
    return torch.complex(make(shape, torch.float32, seed=seed), make(shape, torch.float32, seed=seed + 1))


def test_complex_logsumexp_logcumsumexp_logaddexp():
    x = complex_values((3, 5))
    check_op(lambda x: torch.logsumexp(x, 1), x, **C64)
    check_op(lambda x: torch.logsumexp(x, (0, 1), keepdim=True), x, **C64)
    check_op(lambda x: torch.logcumsumexp(x, 0), x, **C64)
    check_op(lambda x: torch.logcumsumexp(x, 1), x.t(), **C64)
    check_op(torch.logaddexp, x, complex_values((3, 5), seed=4), **C64)
    check_op(torch.logaddexp, x, complex_values((5,), seed=6), **C64)


def test_complex_logaddexp_special_values():
    inf, nan = float("inf"), float("nan")
    a = torch.tensor([complex(-inf, 0), complex(inf, 1), complex(nan, 0), complex(1, nan),
                      complex(2, 3), complex(-inf, 2), complex(0, 0)])
    b = torch.tensor([complex(-inf, 1), complex(inf, 2), complex(1, 1), complex(0, 0),
                      complex(-inf, 0), complex(3, 1), complex(0, 0)])
    check_op(torch.logaddexp, a, b, **C64)


def test_complex_silu_and_ramps():
    check_op(torch.nn.functional.silu, complex_values((4, 3)), **C64)
    anchor = torch.zeros(0)  # says where the factories create their result
    for steps in (0, 1, 2, 7, 16):
        check_op(lambda t: torch.linspace(1 + 2j, -3 + 0.5j, steps, dtype=torch.complex64,
                                          device=t.device), anchor, **C64)
        check_op(lambda t: torch.logspace(0.5 - 1j, 2 + 1j, steps, dtype=torch.complex64,
                                          device=t.device), anchor, **C64)
    check_op(lambda t: torch.linspace(-1, 2, 5, dtype=torch.complex64, device=t.device), anchor, **C64)
