"""torch.special's orthogonal polynomials, Bessel functions, erfcx, ndtri,
log_ndtr and airy_ai against PyTorch on CPU: edge values (signed zeros,
infinities, NaN, negative arguments, large arguments), dtypes (integers and
bool compute in the default float type, half types in f32 where CPU has a
kernel), broadcasting of (x, n), Python numbers, out= and gradients."""
import math

import pytest
import torch

from op_testing import DEVICE, assert_same, check, check_op, check_raises, make, to_device

S = torch.special
INF, NAN = math.inf, math.nan

POLYNOMIALS = {
    "chebyshev_t": S.chebyshev_polynomial_t,
    "chebyshev_u": S.chebyshev_polynomial_u,
    "chebyshev_v": S.chebyshev_polynomial_v,
    "chebyshev_w": S.chebyshev_polynomial_w,
    "shifted_chebyshev_t": S.shifted_chebyshev_polynomial_t,
    "shifted_chebyshev_u": S.shifted_chebyshev_polynomial_u,
    "shifted_chebyshev_v": S.shifted_chebyshev_polynomial_v,
    "shifted_chebyshev_w": S.shifted_chebyshev_polynomial_w,
    "hermite_h": S.hermite_polynomial_h,
    "hermite_he": S.hermite_polynomial_he,
    "laguerre_l": S.laguerre_polynomial_l,
    "legendre_p": S.legendre_polynomial_p,
}

# CPU's kernels leave the result of NaN x undefined for some degrees (they
# return whatever was in a register), so the grids have no NaN x.
POLY_X = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 0.25, 0.75, 0.999, -0.3, 1.5, -2.0, 3.0, 1e-8, INF, -INF]
POLY_N = [-3.0, -1.0, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 7.0, 8.0, 9.0, 10.0, 13.0, 2.7, -0.5, NAN, INF,
          -INF, 1e30]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
@pytest.mark.parametrize("name", list(POLYNOMIALS))
def test_polynomial_grid(name, dtype):
    """Every x against every n (a column against a row), fractional and
    non-finite degrees included."""
    x = torch.tensor(POLY_X, dtype=dtype).view(-1, 1)
    n = torch.tensor(POLY_N, dtype=dtype).view(1, -1)
    check_op(POLYNOMIALS[name], x, n)


@pytest.mark.parametrize("name", list(POLYNOMIALS))
def test_polynomial_high_degree(name):
    """Degrees where CPU switches to closed forms, and a long recurrence."""
    x = torch.tensor([-0.9, -0.4, 0.1, 0.6, 0.95, 1.0, -1.0, 0.0], dtype=torch.float64)
    for n in (20, 57, 200):
        check_op(POLYNOMIALS[name], x, n, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("name", list(POLYNOMIALS))
def test_polynomial_integer_inputs(name):
    """Integers and bool give the default float type."""
    fn = POLYNOMIALS[name]
    check_op(fn, make((3, 4), torch.int64, seed=1), make((3, 4), torch.int32, seed=2))
    if name in ("chebyshev_w", "hermite_h", "legendre_p"):
        check_op(fn, make((4,), torch.bool, seed=1), make((4,), torch.uint8, low=0, seed=2))


@pytest.mark.parametrize("name", list(POLYNOMIALS))
def test_polynomial_broadcasting(name):
    x = make((2, 3, 4), torch.float32, low=-1.2, high=1.2, noncontiguous=True)
    n = make((3, 1), torch.int64, low=-2, high=12, seed=3)
    check_op(POLYNOMIALS[name], x, n)


@pytest.mark.parametrize("name", ["chebyshev_t", "shifted_chebyshev_v", "hermite_he", "laguerre_l"])
def test_polynomial_scalars_and_layouts(name):
    """All twelve share these paths; four of them are checked."""
    fn = POLYNOMIALS[name]
    x = make((2, 3, 4), torch.float32, low=-1.2, high=1.2, noncontiguous=True)
    n = make((3, 1), torch.int64, low=-2, high=12, seed=3)
    check_op(fn, x.double(), n.float())  # float64 x float32: float64
    check_op(fn, x, 6)  # Python int n
    check_op(fn, x, 4.5)
    check_op(fn, 0.3, n)  # Python float x: default dtype
    check_op(fn, make((), torch.float64), torch.tensor(3))
    check_op(fn, torch.empty(0, 4), torch.empty(1, 4))
    out = torch.empty(2, 3, 4)
    check_op(lambda a, b, o: fn(a, b, out=o), x, n, out)


@pytest.mark.parametrize("name", ["chebyshev_t", "hermite_h", "legendre_p"])
def test_polynomial_unsupported_dtypes(name):
    """CPU has no float16, bfloat16 or complex kernels."""
    n = torch.tensor([2, 3])
    for dtype in (torch.float16, torch.bfloat16, torch.complex64):
        error = check_raises(POLYNOMIALS[name], torch.ones(2, dtype=dtype), n)
        assert "not implemented for" in str(error)


UNARY = {
    "i0": torch.i0,
    "i0e": S.i0e,
    "i1": S.i1,
    "i1e": S.i1e,
    "modified_bessel_i0": S.modified_bessel_i0,
    "modified_bessel_i1": S.modified_bessel_i1,
    "modified_bessel_k0": S.modified_bessel_k0,
    "modified_bessel_k1": S.modified_bessel_k1,
    "scaled_modified_bessel_k0": S.scaled_modified_bessel_k0,
    "scaled_modified_bessel_k1": S.scaled_modified_bessel_k1,
    "bessel_j0": S.bessel_j0,
    "bessel_j1": S.bessel_j1,
    "bessel_y0": S.bessel_y0,
    "bessel_y1": S.bessel_y1,
    "spherical_bessel_j0": S.spherical_bessel_j0,
    "airy_ai": S.airy_ai,
    "erfcx": S.erfcx,
    "ndtri": S.ndtri,
    "log_ndtr": S.log_ndtr,
}
# The functions CPU also computes for float16 and bfloat16.
HALVES = {"i0", "i0e", "i1", "i1e"}

EDGES = [0.0, -0.0, 1e-30, -1e-30, 1e-5, -1e-5, 0.3, -0.3, 1.0, -1.0, 1.9, 2.0, 2.1, -2.0, 2.9, 3.0,
         3.1, -3.0, 7.9, 8.0, 8.1, -8.0, -8.1, 9.5, 10.0, 10.5, 15.0, -15.0, 27.0, 40.0, -40.0, 90.0,
         700.0, -700.0, 1e4, INF, -INF, NAN]
# CPU's float64 kernels for these are accurate to about 1e-6 (against
# mpmath), ours to about 1e-15: compare within CPU's error.
CPU_ABSOLUTE_ERROR = {"bessel_j0": 1e-6, "bessel_j1": 1e-6, "bessel_y0": 1e-6, "bessel_y1": 1e-6,
                      "airy_ai": 5e-6}
PROBABILITIES = [0.0, -0.0, 1.0, -0.5, 1.5, 1e-300, 1e-100, 1e-30, 1e-10, 1e-3, 0.01, 0.0749, 0.075,
                 0.0751, 0.1, 0.3, 0.5, 0.7, 0.9, 0.925, 0.93, 0.999, 1 - 1e-10, INF, -INF, NAN]


def edge_values(name, dtype):
    values = PROBABILITIES if name == "ndtri" else EDGES
    return torch.tensor(values, dtype=torch.float64).to(dtype)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
@pytest.mark.parametrize("name", list(UNARY))
def test_unary_edges(name, dtype):
    atol = CPU_ABSOLUTE_ERROR.get(name)
    check_op(UNARY[name], edge_values(name, dtype), atol=atol, rtol=None if atol is None else 1e-6)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
@pytest.mark.parametrize("name", list(UNARY))
def test_unary_random_values(name, dtype):
    """A dense sweep over each approximation's pieces."""
    if name == "ndtri":
        # XLA:CPU flushes subnormals to zero (log of one is -inf there, as
        # torch.log's is), so the smallest probabilities are normal ones.
        smallest = -300 if dtype == torch.float64 else -37
        x = torch.cat([make((200,), torch.float64, low=0, high=1, seed=5),
                       torch.logspace(smallest, -1, 60, dtype=torch.float64)])
    else:
        x = make((300,), torch.float64, low=-30, high=30, seed=5)
        x = torch.cat([x, x / 10])
    x = x.to(dtype)
    atol = CPU_ABSOLUTE_ERROR.get(name)
    if dtype == torch.float32:
        check_op(UNARY[name], x, rtol=1e-5, atol=atol or 1e-6)
    else:
        check_op(UNARY[name], x, rtol=1e-6 if atol else 1e-10, atol=atol or 1e-12)


@pytest.mark.parametrize("name", list(UNARY))
def test_unary_dtypes(name):
    """Integers and bool compute in the default float type; half types in
    f32 where CPU has a kernel; otherwise CPU's "not implemented"."""
    dtypes = [torch.float16, torch.bfloat16, torch.int64, torch.bool]
    if name in ("i0", "bessel_y1", "ndtri"):
        dtypes += [torch.int32, torch.uint8, torch.complex64]
    for dtype in dtypes:
        x = make((3, 4), dtype, seed=1, low=0 if dtype == torch.uint8 else None)
        if name == "ndtri" and dtype.is_floating_point:
            x = x.abs() / 3
        check(UNARY[name], x)


@pytest.mark.parametrize("name", list(UNARY))
def test_unary_layouts_and_out(name):
    fn = UNARY[name]
    x = make((3, 4), torch.float32, seed=2, noncontiguous=True)
    if name == "ndtri":
        x = x.abs() / 3
    check_op(fn, x)
    check_op(fn, make((), torch.float64, seed=3).abs() / 3)
    check_op(fn, torch.empty(0, 2))
    out = torch.empty(3, 4)
    check_op(lambda a, o: fn(a, out=o), x, out)


@pytest.mark.parametrize("name", ["i0", "i0e", "i1", "i1e", "erfcx", "ndtri", "log_ndtr"])
def test_unary_gradients(name):
    """Autograd on the device against CPU (i0's gradient is i1, i1's uses i0)."""
    fn = UNARY[name]
    x = make((7,), torch.float64, seed=4)
    x[0] = 0.5 if name == "i0e" else 0.0
    if name == "ndtri":
        x = x.abs() / 3.5
    grad = make((7,), torch.float64, seed=5)
    cpu = x.clone().requires_grad_()
    fn(cpu).backward(grad)
    dev = to_device(x).requires_grad_()
    fn(dev).backward(to_device(grad))
    assert_same(dev.grad, cpu.grad)


def test_i0_inplace():
    x = make((4,), torch.float32)
    check_op(lambda a: a.i0_(), x)


GAMMA_EDGES = [0.0, -0.0, -1.0, 1e-3, 0.5, 1.0, 2.5, 3.0, 9.0, 20.0, 150.0, INF, NAN]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
@pytest.mark.parametrize("fn", [torch.igamma, torch.igammac], ids=["igamma", "igammac"])
def test_incomplete_gamma_edges(fn, dtype):
    """Every (a, x) pair of edge values: the series and continued-fraction
    regions, a or x zero, negative, infinite or NaN."""
    a = torch.tensor(GAMMA_EDGES, dtype=dtype).view(-1, 1)
    x = torch.tensor(GAMMA_EDGES, dtype=dtype).view(1, -1)
    # At a = x = 150 CPU's uniform asymptotic expansion is off by 3e-10
    # (against mpmath); ours agrees with mpmath to 1e-16.
    check_op(fn, a, x, rtol=1e-5 if dtype == torch.float32 else 1e-9)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
@pytest.mark.parametrize("fn", [torch.igamma, torch.igammac], ids=["igamma", "igammac"])
def test_incomplete_gamma_values(fn, dtype):
    a = make((4, 50), torch.float64, low=0, high=12, seed=6).to(dtype)
    x = make((50,), torch.float64, low=0, high=15, seed=7).to(dtype)
    check_op(fn, a, x, atol=1e-5 if dtype == torch.float32 else None)
    if dtype != torch.float32:
        return
    check_op(fn, a.t(), x.view(-1, 1))  # non-contiguous
    out = torch.empty(4, 50, dtype=dtype)
    check_op(lambda p, q, o: fn(p, q, out=o), a, x, out)
    check_op(lambda p, q: p.clone().igamma_(q) if fn is torch.igamma else p.clone().igammac_(q),
             a, x)


def test_incomplete_gamma_dtypes():
    """Mixed float types promote; integers have no kernel on CPU."""
    a = make((6,), torch.float32, low=0, high=5)
    check_op(torch.igamma, a, a.double() + 1)
    check_op(torch.igammac, a.half(), a.bfloat16())  # float16 and bfloat16 give float32
    check_op(torch.igamma, a.bfloat16(), a.bfloat16() * 2)
    check_op(torch.igammac, a.half(), a.half() + 0.5)
    error = check_raises(torch.igamma, torch.tensor([1, 2]), torch.tensor([1, 2]))
    assert "igamma_cpu" in str(error)


def test_incomplete_gamma_gradient():
    """PyTorch defines the gradient with respect to x only."""
    a = make((5,), torch.float64, low=0.5, high=4, seed=8)
    x = make((5,), torch.float64, low=0.1, high=6, seed=9)
    for fn in (torch.igamma, torch.igammac):
        cpu = x.clone().requires_grad_()
        fn(a, cpu).sum().backward()
        dev = to_device(x).requires_grad_()
        fn(to_device(a), dev).sum().backward()
        assert_same(dev.grad, cpu.grad)
