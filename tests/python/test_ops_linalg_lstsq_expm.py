"""Least squares (linalg.lstsq, every CPU driver), the matrix exponential
(linalg.matrix_exp / matrix_exp), the LDL factorization with Bunch-Kaufman
pivots and its solve (linalg.ldl_factor(_ex), linalg.ldl_solve),
full_matrices=True SVD of non-square input and check_errors=True of
linalg.cholesky_ex / lu_factor_ex / inv_ex, against
PyTorch on CPU: values, output shapes (which outputs each driver leaves empty),
batch broadcasting, empty shapes, non-contiguous input, out=, gradients and the
errors of bad input. Shapes are few: every shape compiles a program with
while-loops."""
import math

import pytest
import torch

from op_testing import DEVICE, check_op, make, to_device

DRIVERS = ["gels", "gelsy", "gelsd", "gelss"]


def tol(dtype):
    if dtype in (torch.float64, torch.complex128):
        return dict(atol=1e-10, rtol=1e-10)
    return dict(atol=1e-4, rtol=1e-4)


def same(actual, expected, **tolerance):
    for a, e in zip(actual, expected):
        assert a.device.type == DEVICE
        assert a.dtype == e.dtype and a.shape == e.shape, (a.dtype, a.shape, e.dtype, e.shape)
        if e.dtype == torch.int64:
            assert torch.equal(a.cpu(), e)
        else:
            torch.testing.assert_close(a.cpu(), e, equal_nan=True, **tolerance)


# --- linalg.lstsq -------------------------------------------------------------------


@pytest.mark.parametrize("driver", DRIVERS)
def test_lstsq_drivers(driver):
    # Tall with A's batch broadcast against B's, then wide (minimum-norm solution).
    t = tol(torch.float64)
    a, b = make((1, 5, 3), torch.float64), make((2, 5, 2), torch.float64, seed=1)
    same(torch.linalg.lstsq(a.to(DEVICE), b.to(DEVICE), driver=driver),
         torch.linalg.lstsq(a, b, driver=driver), **t)
    a, b = make((3, 5), torch.float64, seed=2), make((3, 2), torch.float64, seed=3)
    same(torch.linalg.lstsq(a.to(DEVICE), b.to(DEVICE), driver=driver),
         torch.linalg.lstsq(a, b, driver=driver), **t)


def test_lstsq_default_float32_vector_noncontiguous():
    a = make((2, 4, 3), torch.float32, noncontiguous=True)
    b = make((2, 4), torch.float32, seed=1)
    same(torch.linalg.lstsq(a.to(DEVICE), b.to(DEVICE)), torch.linalg.lstsq(a, b),
         **tol(torch.float32))
    same(torch.linalg.lstsq(a.to(DEVICE), b.to(DEVICE), driver="gelsd"),
         torch.linalg.lstsq(a, b, driver="gelsd"), **tol(torch.float32))


def test_lstsq_complex64():
    a = make((4, 3), torch.complex64)
    b = make((4, 2), torch.complex64, seed=1)
    for driver in ("gels", "gelss"):
        same(torch.linalg.lstsq(a.to(DEVICE), b.to(DEVICE), driver=driver),
             torch.linalg.lstsq(a, b, driver=driver), **tol(torch.complex64))


def test_lstsq_rank_deficient():
    # Two equal columns: rank 2 of 3, the minimum-norm solution, and (gelsd,
    # gelss) no residuals, as CPU drops them below full rank.
    a = make((5, 3), torch.float64)
    a[:, 2] = a[:, 1]
    b = make((5, 2), torch.float64, seed=1)
    for driver in ("gelsy", "gelsd"):
        same(torch.linalg.lstsq(a.to(DEVICE), b.to(DEVICE), driver=driver),
             torch.linalg.lstsq(a, b, driver=driver), **tol(torch.float64))
    # rcond decides the rank.
    same(torch.linalg.lstsq(a.to(DEVICE), b.to(DEVICE), rcond=0.5, driver="gelsd"),
         torch.linalg.lstsq(a, b, rcond=0.5, driver="gelsd"), **tol(torch.float64))


@pytest.mark.parametrize("shape_a,shape_b", [((0, 3), (0, 2)), ((3, 0), (3, 2)), ((0, 3, 3), (0, 3, 1))])
def test_lstsq_empty(shape_a, shape_b):
    a, b = make(shape_a, torch.float32), make(shape_b, torch.float32, seed=1)
    for driver in ("gels", "gelsd"):
        same(torch.linalg.lstsq(a.to(DEVICE), b.to(DEVICE), driver=driver),
             torch.linalg.lstsq(a, b, driver=driver))


def test_lstsq_out():
    a, b = make((4, 2), torch.float64), make((4, 3), torch.float64, seed=1)
    outs = [torch.empty(0, dtype=torch.float64, device=DEVICE) for _ in range(2)]
    outs.insert(2, torch.empty(0, dtype=torch.int64, device=DEVICE))
    outs.append(torch.empty(0, dtype=torch.float64, device=DEVICE))
    torch.linalg.lstsq(a.to(DEVICE), b.to(DEVICE), driver="gelss", out=tuple(outs))
    same(outs, torch.linalg.lstsq(a, b, driver="gelss"), **tol(torch.float64))


def test_lstsq_grad():
    a = make((2, 4, 3), torch.float64).requires_grad_()
    b = make((2, 4, 2), torch.float64, seed=1).requires_grad_()
    weights = make((2, 3, 2), torch.float64, seed=2)

    def loss(a, b, weights):
        solution, residuals, _, _ = torch.linalg.lstsq(a, b, driver="gels")
        return (solution * weights).sum() + residuals.sum()

    expected = torch.autograd.grad(loss(a, b, weights), (a, b))
    a_dev = a.detach().to(DEVICE).requires_grad_()
    b_dev = b.detach().to(DEVICE).requires_grad_()
    actual = torch.autograd.grad(loss(a_dev, b_dev, weights.to(DEVICE)), (a_dev, b_dev))
    same(actual, expected, atol=1e-8, rtol=1e-8)


def test_lstsq_errors():
    f32 = torch.float32
    cases = [
        ((make((5,), f32), make((5, 2), f32)), {}, "input must have at least 2 dimensions"),
        ((make((5, 3), f32), make((5, 2), torch.float64)), {}, "Expected input and other to have the same dtype"),
        ((make((5, 3), torch.float16), make((5, 2), torch.float16)), {}, "other than float and double"),
        ((make((5, 3), f32), make((3, 5, 2), f32)), {}, r"input.dim\(\) must be greater or equal"),
        ((make((5, 3), f32), make((4, 2), f32)), {}, r"input.size\(-2\) should match other.size\(-2\)"),
        ((make((5, 3), f32), make((5, 2), f32)), {"driver": "foo"}, "parameter `driver` should be one of"),
    ]
    for args, kwargs, message in cases:
        with pytest.raises(RuntimeError, match=message):
            torch.linalg.lstsq(*args, **kwargs)
        with pytest.raises(RuntimeError, match=message):
            torch.linalg.lstsq(*to_device(list(args)), **kwargs)


# --- linalg.matrix_exp --------------------------------------------------------------


def spread_norms(shape, dtype):
    """A batch whose matrices span every Padé degree and some squarings."""
    a = make(shape, torch.float64 if not dtype.is_complex else torch.complex128)
    scales = torch.tensor([1e-3, 0.05, 0.4, 1.0, 8.0, 60.0], dtype=torch.float64)[: shape[0]]
    a = a / a.abs().sum(-2).amax(-1, keepdim=True)[..., None] * scales[:, None, None]
    return a.to(dtype)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.complex64])
def test_matrix_exp(dtype):
    a = spread_norms((6, 3, 3), dtype)
    # Relative to the result's size: exp of the largest norms is large.
    expected = torch.linalg.matrix_exp(a)
    actual = torch.linalg.matrix_exp(a.to(DEVICE)).cpu()
    scale = expected.abs().amax((-2, -1), keepdim=True)
    rel = 1e-5 if dtype != torch.float64 else 1e-12
    assert actual.dtype == dtype
    assert ((actual - expected).abs() <= rel * scale).all()


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_matrix_exp_low_precision(dtype):
    # CPU evaluates these in their own precision, where its polynomial
    # overflows to inf (even for 0.1 I); this computes in float32 and rounds.
    a = make((2, 3, 3), dtype, low=-1, high=1)
    actual = torch.matrix_exp(a.to(DEVICE)).cpu()
    assert actual.dtype == dtype
    torch.testing.assert_close(actual, torch.matrix_exp(a.float()).to(dtype), atol=1e-2, rtol=1e-2)


def test_matrix_exp_shapes_and_specials():
    check_op(torch.linalg.matrix_exp, make((2, 0, 0), torch.float32))
    check_op(torch.linalg.matrix_exp, make((0, 2, 2), torch.float32))
    check_op(torch.linalg.matrix_exp, make((1, 1), torch.float64), atol=1e-12, rtol=1e-12)
    check_op(torch.linalg.matrix_exp, make((2, 3, 3), torch.float32, noncontiguous=True),
             atol=1e-4, rtol=1e-4)
    special = torch.eye(2).repeat(3, 1, 1)
    special[0, 0, 1] = math.inf
    special[1, 1, 0] = math.nan
    check_op(torch.linalg.matrix_exp, special)
    out = torch.empty(0, device=DEVICE)
    a = make((2, 2), torch.float32)
    torch.ops.aten.linalg_matrix_exp.out(a.to(DEVICE), out=out)
    torch.testing.assert_close(out.cpu(), torch.linalg.matrix_exp(a))


def test_matrix_exp_grad():
    a = spread_norms((3, 3, 3), torch.float64).requires_grad_()
    weights = make((3, 3, 3), torch.float64, seed=1)
    expected = torch.autograd.grad((torch.linalg.matrix_exp(a) * weights).sum(), a)[0]
    a_dev = a.detach().to(DEVICE).requires_grad_()
    actual = torch.autograd.grad((torch.linalg.matrix_exp(a_dev) * weights.to(DEVICE)).sum(),
                                 a_dev)[0]
    torch.testing.assert_close(actual.cpu(), expected, atol=1e-10, rtol=1e-10)


def test_matrix_exp_errors():
    for bad, message in [(torch.ones(3), "at least 2 dimensions"),
                         (torch.ones(3, 2), "A must be batches of square matrices"),
                         (torch.ones(2, 2, dtype=torch.int64), "Expected a floating point or complex tensor")]:
        with pytest.raises(RuntimeError, match=message):
            torch.linalg.matrix_exp(bad)
        with pytest.raises(RuntimeError, match=message):
            torch.linalg.matrix_exp(bad.to(DEVICE))


# --- linalg.svd(full_matrices=True) of non-square input ------------------------------


@pytest.mark.parametrize("dtype,shape", [(torch.float64, (2, 4, 2)), (torch.complex64, (3, 5))])
def test_svd_full_matrices(dtype, shape):
    a = make(shape, dtype)
    m, n = shape[-2:]
    k = min(m, n)
    u, s, vh = (t.cpu() for t in torch.linalg.svd(a.to(DEVICE), full_matrices=True))
    eu, es, evh = torch.linalg.svd(a, full_matrices=True)
    assert u.shape == eu.shape and vh.shape == evh.shape and u.dtype == eu.dtype
    t = tol(dtype)
    torch.testing.assert_close(s, es, **t)
    eye = torch.eye(m, dtype=dtype), torch.eye(n, dtype=dtype)
    torch.testing.assert_close(u.mH @ u, eye[0].expand_as(u), **t)
    torch.testing.assert_close(vh @ vh.mH, eye[1].expand_as(vh), **t)
    torch.testing.assert_close((u[..., :k] * s[..., None, :].to(dtype)) @ vh[..., :k, :], a, **t)


def test_svd_full_matrices_rank_deficient():
    # A zero singular value still gets a unit singular vector.
    a = torch.zeros(4, 2, dtype=torch.float64)
    a[0, 0] = 2.0
    u, s, vh = (t.cpu() for t in torch.linalg.svd(a.to(DEVICE), full_matrices=True))
    torch.testing.assert_close(u.mT @ u, torch.eye(4, dtype=torch.float64))
    torch.testing.assert_close((u[:, :2] * s) @ vh, a)


# --- check_errors=True ---------------------------------------------------------------


@pytest.mark.parametrize("batched", [False, True])
def test_check_errors(batched):
    singular = torch.zeros(2, 2)
    indefinite = -torch.eye(2)
    if batched:
        singular, indefinite = singular.expand(2, 2, 2), indefinite.expand(2, 2, 2)
    calls = [(torch.linalg.cholesky_ex, indefinite, "not positive-definite"),
             (torch.linalg.lu_factor_ex, singular, r"U\[1,1\] is zero"),
             (torch.linalg.inv_ex, singular, "input matrix is singular")]
    for fn, a, message in calls:
        with pytest.raises(RuntimeError) as cpu_error:
            fn(a, check_errors=True)
        with pytest.raises(type(cpu_error.value), match=message) as error:
            fn(a.to(DEVICE), check_errors=True)
        assert str(error.value) == str(cpu_error.value)
    # Valid input passes, functional and out=.
    good = torch.eye(2) * 2
    same(torch.linalg.inv_ex(good.to(DEVICE), check_errors=True),
         torch.linalg.inv_ex(good, check_errors=True))
    factor = torch.empty(0, device=DEVICE)
    info = torch.empty(0, dtype=torch.int32, device=DEVICE)
    torch.linalg.cholesky_ex(good.to(DEVICE), check_errors=True, out=(factor, info))
    torch.testing.assert_close(factor.cpu(), torch.linalg.cholesky(good))
    with pytest.raises(RuntimeError, match=r"U\[1,1\] is zero"):
        torch.linalg.lu_factor_ex(singular.to(DEVICE), check_errors=True,
                                  out=(torch.empty(0, device=DEVICE),
                                       torch.empty(0, dtype=torch.int32, device=DEVICE),
                                       torch.empty(0, dtype=torch.int32, device=DEVICE)))


# --- linalg.ldl_factor(_ex) and linalg.ldl_solve -------------------------------------


def symmetric_indefinite(shape, dtype, hermitian, seed=0):
    a = make(shape, dtype, seed=seed)
    a = a + (a.mH if hermitian else a.mT)
    # Small diagonals force 2x2 pivot blocks and interchanges.
    a.diagonal(0, -2, -1).mul_(0.05)
    return a


@pytest.mark.parametrize("dtype,hermitian", [(torch.float64, False), (torch.float32, False),
                                             (torch.complex64, False), (torch.complex64, True)])
def test_ldl_factor_and_solve(dtype, hermitian):
    a = symmetric_indefinite((3, 5, 5), dtype, hermitian)
    t = tol(dtype)
    ld, pivots, info = torch.linalg.ldl_factor_ex(a.to(DEVICE), hermitian=hermitian)
    e_ld, e_pivots, e_info = torch.linalg.ldl_factor_ex(a, hermitian=hermitian)
    assert torch.equal(pivots.cpu(), e_pivots) and torch.equal(info.cpu(), e_info)
    assert (e_pivots < 0).any()  # the samples exercise 2x2 blocks
    torch.testing.assert_close(ld.cpu(), e_ld, **t)
    b = make((3, 5, 2), dtype, seed=1)
    x = torch.linalg.ldl_solve(ld, pivots, b.to(DEVICE), hermitian=hermitian)
    torch.testing.assert_close(x.cpu(), torch.linalg.ldl_solve(e_ld, e_pivots, b, hermitian=hermitian),
                               **(t if dtype == torch.float64 else dict(atol=1e-3, rtol=1e-3)))


def test_ldl_special_inputs():
    # Zero columns set info (CPU reports them, and its check_errors=True
    # raises an internal assert on them, reproduced as such).
    zero = torch.zeros(2, 3, 3)
    zero[1] = torch.eye(3)
    same(torch.linalg.ldl_factor_ex(zero.to(DEVICE)), torch.linalg.ldl_factor_ex(zero))
    with pytest.raises(RuntimeError, match="Unknown error code: 1"):
        torch.linalg.ldl_factor(zero.to(DEVICE))
    empty = torch.zeros(0, 4, 4)
    same(torch.linalg.ldl_factor_ex(empty.to(DEVICE)), torch.linalg.ldl_factor_ex(empty))
    a = symmetric_indefinite((4, 4), torch.float64, False)
    # Only the lower triangle is read; non-contiguous input; out=.
    a_noisy = a.clone()
    a_noisy.triu(1).fill_(7.0)
    ld_out = torch.empty(0, dtype=torch.float64, device=DEVICE)
    pivots_out = torch.empty(0, dtype=torch.int32, device=DEVICE)
    torch.linalg.ldl_factor(a_noisy.mT.contiguous().mT.to(DEVICE), out=(ld_out, pivots_out))
    same((ld_out, pivots_out), torch.linalg.ldl_factor(a_noisy), **tol(torch.float64))


def test_ldl_errors():
    for fn, args, message in [
            (torch.linalg.ldl_factor_ex, (torch.ones(3),), "at least 2 dimensions"),
            (torch.linalg.ldl_factor_ex, (torch.ones(3, 2),), "must be batches of square matrices"),
            (torch.linalg.ldl_factor_ex, (torch.ones(3, 3, dtype=torch.int64),), "Expected a floating point"),
            (torch.linalg.ldl_solve, (torch.eye(3), torch.ones(2, dtype=torch.int32), torch.ones(3, 1)),
             "Expected LD.shape"),
            (torch.linalg.ldl_solve, (torch.eye(3), torch.ones(3, dtype=torch.int32), torch.ones(4, 1)),
             "Incompatible matrix sizes"),
            (torch.linalg.ldl_solve, (torch.eye(3), torch.ones(3, dtype=torch.int32),
                                      torch.ones(3, 1, dtype=torch.float64)), "Expected b and A to have the same dtype")]:
        with pytest.raises(RuntimeError, match=message):
            fn(*args)
        with pytest.raises(RuntimeError, match=message):
            fn(*to_device(list(args)))
