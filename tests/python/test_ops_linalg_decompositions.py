"""Matrix decompositions against PyTorch on CPU: Cholesky (linalg.cholesky(_ex),
the legacy cholesky, cholesky_inverse, cholesky_solve), triangular solves
(linalg.solve_triangular, triangular_solve) and LU with partial pivoting
(lu_factor(_ex), linalg.lu, lu_unpack, lu_solve, inv(_ex), solve(_ex), det,
slogdet, logdet). Values, factorizations that reconstruct A, pivots chosen as
LAPACK does, batch dims, 0x0 and empty batches, non-contiguous inputs, the info
of singular / non positive-definite inputs and the errors of the non-_ex forms,
and gradients."""
import pytest
import torch

from op_testing import DEVICE, check_op, make, to_device

FLOATS = [torch.float32, torch.float64]
# One batched shape (leading dims of 2 and 1), 0x0, an empty batch: programs
# compile once per shape, which dominates the run time.
SHAPES = [(2, 1, 3, 3), (0, 0), (0, 3, 3)]


def tol(dtype):
    return dict(atol=1e-4, rtol=1e-4) if dtype == torch.float32 else dict(atol=1e-10, rtol=1e-10)


def square(shape, dtype, seed=0):
    return make(shape, dtype, seed=seed)


def positive_definite(shape, dtype, seed=0):
    a = make(shape, torch.float64, seed=seed)
    n = shape[-1]
    return (a @ a.mT + n * torch.eye(n, dtype=torch.float64)).to(dtype)


def same(actual, expected, dtype):
    if isinstance(expected, (tuple, list)):
        for a, e in zip(actual, expected):
            same(a, e, dtype)
        return
    assert actual.device.type == DEVICE
    assert actual.dtype == expected.dtype and actual.shape == expected.shape
    if expected.dtype in (torch.int32, torch.int64):
        assert torch.equal(actual.cpu(), expected)
    else:
        torch.testing.assert_close(actual.cpu(), expected, equal_nan=True, **tol(dtype))


# --- Cholesky -----------------------------------------------------------------------


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_ex(dtype, shape, upper):
    a = positive_definite(shape, dtype)
    factor, info = torch.linalg.cholesky_ex(a.to(DEVICE), upper=upper)
    same((factor, info), torch.linalg.cholesky_ex(a, upper=upper), dtype)
    same(torch.linalg.cholesky(a.to(DEVICE), upper=upper), torch.linalg.cholesky(a, upper=upper),
         dtype)
    same(torch.cholesky(a.to(DEVICE), upper=upper), torch.cholesky(a, upper=upper), dtype)


def test_cholesky_reads_one_triangle_and_noncontiguous():
    a = positive_definite((3, 4, 4), torch.float64)
    garbage = a.clone()
    garbage[..., 0, 3] = 100.0  # the upper triangle is not read for upper=False
    same(torch.linalg.cholesky(garbage.to(DEVICE)), torch.linalg.cholesky(a), torch.float64)
    noncontiguous = a.transpose(0, 2).contiguous().transpose(0, 2)
    same(torch.linalg.cholesky(to_device(noncontiguous)), torch.linalg.cholesky(a), torch.float64)


def test_cholesky_not_positive_definite():
    a = positive_definite((3, 4, 4), torch.float64)
    a[1, 2, 2] = -50.0
    a[2, 0, 0] = 0.0
    _, info = torch.linalg.cholesky_ex(a.to(DEVICE))
    assert torch.equal(info.cpu(), torch.linalg.cholesky_ex(a).info)
    with pytest.raises(RuntimeError, match=r"\(Batch element 1\): The factorization could not be "
                       r"completed because the input is not positive-definite \(the leading "
                       r"minor of order 3"):
        torch.linalg.cholesky(a.to(DEVICE))
    with pytest.raises(RuntimeError, match="cholesky: The factorization could not be completed"):
        torch.cholesky(a[1].to(DEVICE))


def test_cholesky_errors():
    with pytest.raises(RuntimeError, match="must be batches of square matrices"):
        torch.linalg.cholesky(torch.ones(2, 3, device=DEVICE))
    with pytest.raises(RuntimeError, match="Expected a floating point or complex tensor"):
        torch.linalg.cholesky(torch.ones(2, 2, dtype=torch.int64, device=DEVICE))


@pytest.mark.parametrize("dtype,upper", [(torch.float32, False), (torch.float64, True)])
def test_cholesky_inverse_and_solve(dtype, upper):
    factor = torch.linalg.cholesky(positive_definite((2, 4, 4), dtype), upper=upper)
    same(torch.cholesky_inverse(factor.to(DEVICE), upper=upper),
         torch.cholesky_inverse(factor, upper=upper), dtype)
    rhs = make((3, 1, 4, 2), dtype, seed=1)  # batch dims broadcast
    same(torch.cholesky_solve(rhs.to(DEVICE), factor.to(DEVICE), upper=upper),
         torch.cholesky_solve(rhs, factor, upper=upper), dtype)


def test_cholesky_inverse_singular_and_out():
    factor = torch.tensor([[[1.0, 0.0], [2.0, 0.0]], [[1.0, 0.0], [2.0, 3.0]]])
    with pytest.raises(RuntimeError, match=r"cholesky_inverse: \(Batch element 0\): The "
                       r"diagonal element 2 is zero"):
        torch.cholesky_inverse(factor.to(DEVICE))
    check_op(lambda x, out: torch.cholesky_inverse(x, out=out), factor[1], torch.empty(0))


def test_cholesky_gradient():
    a = positive_definite((2, 3, 3), torch.float64).requires_grad_()
    d = a.detach().to(DEVICE).requires_grad_()
    grad = make((2, 3, 3), torch.float64, seed=3)
    torch.linalg.cholesky(a).backward(grad)
    torch.linalg.cholesky(d).backward(grad.to(DEVICE))
    same(d.grad, a.grad, torch.float64)


# --- triangular solves ---------------------------------------------------------------


@pytest.mark.parametrize("dtype,upper,left,unit", [
    (torch.float32, False, True, False), (torch.float64, True, True, True),
    (torch.float64, False, False, True), (torch.float32, True, False, False)])
def test_solve_triangular(dtype, upper, left, unit):
    a = make((2, 1, 4, 4), dtype) + 4 * torch.eye(4, dtype=dtype)  # both triangles filled
    rhs = make((3, 4, 2) if left else (3, 2, 4), dtype, seed=1)
    check_op(lambda x, y: torch.linalg.solve_triangular(x, y, upper=upper, left=left,
                                                        unitriangular=unit), a, rhs, **tol(dtype))


@pytest.mark.parametrize("transpose,upper", [(False, True), (True, False)])
def test_triangular_solve(transpose, upper):
    a = make((1, 3, 3), torch.float64) + 3 * torch.eye(3, dtype=torch.float64)
    rhs = make((2, 3, 2), torch.float64, seed=1, noncontiguous=True)
    check_op(lambda y, x: torch.triangular_solve(y, x, upper=upper, transpose=transpose), rhs, a)


def test_triangular_empty_and_errors():
    check_op(lambda x, y: torch.linalg.solve_triangular(x, y, upper=True),
             make((0, 3, 3), torch.float32), make((0, 3, 1), torch.float32))
    check_op(lambda x, y: torch.linalg.solve_triangular(x, y, upper=True),
             make((0, 0), torch.float32), make((0, 2), torch.float32))
    with pytest.raises(RuntimeError, match="Incompatible shapes of A and B for the equation AX = B"):
        torch.linalg.solve_triangular(torch.eye(3, device=DEVICE), torch.ones(2, 1, device=DEVICE),
                                      upper=True)


# --- LU ---------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", SHAPES + [(2, 3, 4), (4, 3)])
def test_lu_factor_and_lu(dtype, shape):
    a = make(shape, dtype)
    lu, pivots, info = torch.linalg.lu_factor_ex(a.to(DEVICE))
    same((lu, pivots, info), torch.linalg.lu_factor_ex(a), dtype)
    p, lower, upper = torch.linalg.lu(a.to(DEVICE))
    same((p, lower, upper), torch.linalg.lu(a), dtype)
    same(p @ lower @ upper, a, dtype)
    same(torch.lu_unpack(lu, pivots), torch.lu_unpack(*torch.linalg.lu_factor(a)), dtype)


def test_lu_pivots_ties_and_singular():
    # Ties pick the first row of largest magnitude; a zero column leaves info set.
    a = torch.tensor([[[1.0, 2.0, 3.0], [-1.0, 2.0, 6.0], [1.0, 1.0, 1.0]],
                      [[0.0, 2.0, 3.0], [0.0, 4.0, 6.0], [0.0, 1.0, 1.0]],
                      [[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [3.0, 6.0, 9.0]]], dtype=torch.float64)
    same(torch.linalg.lu_factor_ex(a.to(DEVICE)), torch.linalg.lu_factor_ex(a), torch.float64)
    same(torch.linalg.inv_ex(a.to(DEVICE)).info, torch.linalg.inv_ex(a).info, torch.float64)
    with pytest.raises(RuntimeError, match=r"\(Batch element 1\): The diagonal element 1 is zero"):
        torch.linalg.inv(a.to(DEVICE))
    with pytest.raises(RuntimeError, match="The solver failed because the input matrix is singular"):
        torch.linalg.solve(a[2].to(DEVICE), torch.ones(3, 1, dtype=torch.float64, device=DEVICE))
    same(torch.linalg.det(a.to(DEVICE)), torch.linalg.det(a), torch.float64)
    same(torch.linalg.slogdet(a.to(DEVICE)), torch.linalg.slogdet(a), torch.float64)


def test_lu_unpack_flags():
    lu, pivots = torch.linalg.lu_factor(make((2, 3, 3), torch.float64))
    for data, piv in [(True, False), (False, True)]:
        same(torch.lu_unpack(lu.to(DEVICE), pivots.to(DEVICE), data, piv),
             torch.lu_unpack(lu, pivots, data, piv), torch.float64)


@pytest.mark.parametrize("dtype,left,adjoint", [
    (torch.float32, True, False), (torch.float64, True, True), (torch.float64, False, False),
    (torch.float32, False, True)])
def test_lu_solve(dtype, left, adjoint):
    lu, pivots = torch.linalg.lu_factor(make((2, 4, 4), dtype))
    rhs = make((3, 1, 4, 2) if left else (3, 1, 2, 4), dtype, seed=1)
    check_op(lambda x, p, y: torch.linalg.lu_solve(x, p, y, left=left, adjoint=adjoint),
             lu, pivots, rhs, **tol(dtype))
    if left and not adjoint:
        check_op(lambda y, x, p: torch.lu_solve(y, x, p), rhs[0], lu, pivots, **tol(dtype))


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", SHAPES)
def test_inv_det_slogdet(dtype, shape):
    a = square(shape, dtype)
    check_op(torch.linalg.inv, a, **tol(dtype))
    check_op(torch.linalg.inv_ex, a, **tol(dtype))
    check_op(torch.linalg.det, a, **tol(dtype))
    check_op(torch.linalg.slogdet, a, **tol(dtype))
    check_op(torch.logdet, a, **tol(dtype))


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("contiguous", [False, True])
def test_solve(dtype, contiguous):
    a = square((2, 4, 4), dtype)
    if not contiguous:
        a = a.mT.contiguous().mT
    check_op(torch.linalg.solve, a, make((2, 4, 3), dtype, seed=1), **tol(dtype))
    check_op(torch.linalg.solve, a, make((4,), dtype, seed=1), **tol(dtype))  # vector rhs
    check_op(torch.linalg.solve, a, make((2, 4), dtype, seed=1), **tol(dtype))
    check_op(lambda x, y: torch.linalg.solve(x, y, left=False), a, make((3, 2, 3, 4), dtype),
             **tol(dtype))
    check_op(torch.linalg.solve_ex, a, make((2, 4, 1), dtype, seed=1), **tol(dtype))
    check_op(torch.linalg.tensorsolve, make((6, 2, 3), dtype), make((6,), dtype, seed=1),
             **tol(dtype))
    check_op(lambda x: torch.linalg.tensorinv(x, ind=1), make((6, 2, 3), dtype), **tol(dtype))


@pytest.mark.parametrize("contiguous", [False, True])
def test_gradients(contiguous):
    a = square((2, 3, 3), torch.float64) + 4 * torch.eye(3, dtype=torch.float64)
    if not contiguous:
        a = a.mT.contiguous().mT
    rhs = make((2, 3, 2), torch.float64, seed=1)
    fns = [lambda x, y: torch.linalg.solve(x, y), lambda x, y: torch.linalg.inv(x) @ y,
           lambda x, y: torch.linalg.det(x)[..., None, None] * y,
           lambda x, y: torch.linalg.slogdet(x)[1][..., None, None] * y,
           lambda x, y: torch.linalg.lu_solve(*torch.linalg.lu_factor(x), y),
           lambda x, y: torch.linalg.solve_triangular(x, y, upper=True)]
    for fn in fns:
        cpu = [a.clone().requires_grad_(), rhs.clone().requires_grad_()]
        dev = [to_device(t.detach()).requires_grad_() for t in (a, rhs)]
        fn(*cpu).sum().backward()
        fn(*dev).sum().backward()
        same(dev[0].grad, cpu[0].grad, torch.float64)
        same(dev[1].grad, cpu[1].grad, torch.float64)


def test_lu_errors():
    with pytest.raises(RuntimeError, match="Expected tensor with 2 or more dimensions"):
        torch.linalg.lu_factor(torch.ones(3, device=DEVICE))
    with pytest.raises(RuntimeError, match="LU without pivoting is not implemented on the CPU"):
        torch.linalg.lu_factor(torch.eye(3, device=DEVICE), pivot=False)
    with pytest.raises(RuntimeError, match="must be batches of square matrices"):
        torch.linalg.inv(torch.ones(2, 3, device=DEVICE))
    with pytest.raises(RuntimeError, match="Expected a floating point or complex tensor"):
        torch.linalg.det(torch.ones(2, 2, dtype=torch.int64, device=DEVICE))


# --- complex64 ------------------------------------------------------------------------


def test_complex64():
    c64 = dict(atol=1e-4, rtol=1e-4)
    a = torch.complex(make((2, 3, 3), torch.float32), make((2, 3, 3), torch.float32, seed=1))
    a = a + 3 * torch.eye(3)
    pd = a @ a.mH + torch.eye(3)
    rhs = torch.complex(make((2, 3, 2), torch.float32, seed=2), make((2, 3, 2), torch.float32, seed=3))
    check_op(torch.linalg.cholesky_ex, pd, **c64)
    check_op(lambda x: torch.linalg.cholesky(x, upper=True), pd, **c64)
    check_op(lambda x, y: torch.cholesky_solve(y, torch.linalg.cholesky(x)), pd, rhs, **c64)
    check_op(lambda x: torch.cholesky_inverse(torch.linalg.cholesky(x)), pd, **c64)
    check_op(lambda x, y: torch.linalg.solve_triangular(x, y, upper=True), a, rhs, **c64)
    check_op(torch.linalg.lu_factor_ex, a, **c64)
    check_op(torch.linalg.lu, a, **c64)
    check_op(torch.linalg.inv, a, **c64)
    check_op(torch.linalg.solve, a, rhs, **c64)
    check_op(lambda x, y: torch.linalg.lu_solve(*torch.linalg.lu_factor(x), y, adjoint=True), a,
             rhs, **c64)
    check_op(torch.linalg.det, a, **c64)
    check_op(torch.linalg.slogdet, a, **c64)
    check_op(torch.linalg.qr, a, **c64)
    check_op(lambda x, y: torch.ormqr(*torch.geqrf(x), y, transpose=True), a, rhs, **c64)


# --- QR -------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", [(2, 4, 3), (3, 4), (0, 2, 2)])
def test_qr(dtype, shape):
    a = make(shape, dtype)
    check_op(torch.geqrf, a, **tol(dtype))
    for mode in ["reduced", "complete", "r"]:
        check_op(lambda x: torch.linalg.qr(x, mode=mode), a, **tol(dtype))
    if shape[-2] >= shape[-1]:
        check_op(lambda x: torch.linalg.householder_product(*torch.geqrf(x)), a, **tol(dtype))
    for left, transpose in [(True, False), (False, True)]:
        other = make((*shape[:-2], shape[-2], 2) if left else (*shape[:-2], 2, shape[-2]), dtype,
                     seed=1)
        check_op(lambda x, y: torch.ormqr(*torch.geqrf(x), y, left=left, transpose=transpose),
                 a, other, **tol(dtype))


def test_qr_gradient_and_noncontiguous():
    a = make((2, 4, 3), torch.float64, noncontiguous=True)
    check_op(torch.linalg.qr, a)
    cpu = a.clone().requires_grad_()
    dev = to_device(a).requires_grad_()
    sum(t.sum() for t in torch.linalg.qr(cpu)).backward()
    sum(t.sum() for t in torch.linalg.qr(dev)).backward()
    same(dev.grad, cpu.grad, torch.float64)


# --- eigh and SVD: values, and vectors up to sign --------------------------------------


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", [(1, 1), (2, 1, 4, 4), (0, 3, 3)])
def test_eigh(dtype, shape):
    a = make(shape, dtype)
    check_op(torch.linalg.eigvalsh, a, **tol(dtype))
    check_op(lambda x: torch.linalg.eigvalsh(x, UPLO="U"), a, **tol(dtype))
    values, vectors = torch.linalg.eigh(a.to(DEVICE))
    expected_values, expected_vectors = torch.linalg.eigh(a)
    same(values, expected_values, dtype)
    # Eigenvectors are unique up to sign (the eigenvalues here are distinct).
    same(vectors.abs(), expected_vectors.abs(), dtype)
    same((vectors * expected_vectors.to(DEVICE)).sum(-2).abs(),
         torch.ones(shape[:-1], dtype=dtype), dtype)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", [(1, 1), (2, 4, 3), (3, 4), (0, 2, 2)])
def test_svd(dtype, shape):
    a = make(shape, dtype)
    check_op(torch.linalg.svdvals, a, **tol(dtype))
    u, s, vh = torch.linalg.svd(a.to(DEVICE), full_matrices=False)
    same(s, torch.linalg.svdvals(a), dtype)
    same(u @ torch.diag_embed(s).to(u.dtype) @ vh, a, dtype)
    same(u.mT @ u, torch.eye(u.shape[-1], dtype=dtype).expand(*u.shape[:-2], -1, -1), dtype)
    check_op(torch.linalg.pinv, a, **tol(dtype))
    check_op(torch.linalg.matrix_rank, a)
    if shape[-1] == shape[-2] and shape[-1] > 0:
        check_op(torch.linalg.cond, a, **tol(dtype))


def test_eigh_svd_complex64():
    c64 = dict(atol=1e-4, rtol=1e-4)
    a = torch.complex(make((2, 4, 4), torch.float32), make((2, 4, 4), torch.float32, seed=1))
    check_op(torch.linalg.eigvalsh, a, **c64)
    check_op(lambda x: torch.linalg.eigvalsh(x, UPLO="U"), a, **c64)
    check_op(torch.linalg.svdvals, a[..., :3], **c64)
    check_op(torch.linalg.svdvals, a[..., :3, :], **c64)
    hermitian = a + a.mH
    values, vectors = torch.linalg.eigh(hermitian.to(DEVICE))
    values, vectors = values.cpu(), vectors.cpu()
    torch.testing.assert_close(vectors.abs(), torch.linalg.eigh(hermitian).eigenvectors.abs(),
                               **c64)
    torch.testing.assert_close((vectors * values[..., None, :]) @ vectors.mH,
                               hermitian, **c64)
    u, s, vh = (t.cpu() for t in torch.linalg.svd(a.to(DEVICE), full_matrices=False))
    torch.testing.assert_close((u * s[..., None, :]) @ vh, a, **c64)
