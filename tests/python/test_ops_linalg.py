"""Matrix products against PyTorch on CPU: mm/bmm/addmm/addmv/addbmm/baddbmm/mv/
dot/vdot over dtypes (integers too), matmul and linear in every rank
combination they decompose into, beta/alpha (beta == 0 ignores NaN in self),
empty and non-contiguous operands, out= and in-place forms, the errors CPU
raises, and gradients through linear."""
import math

import pytest
import torch
import torch.nn.functional as F

from op_testing import DEVICE, check, check_op, check_raises, make, to_device

DTYPES = [torch.float32, torch.bfloat16, torch.float64, torch.float16, torch.int64, torch.int32,
          torch.int8, torch.complex64]
# bf16/f16 results of longer contractions: CPU and device round the f32 sum once,
# but the sums themselves may differ in the last f32 bits.
HALF_TOLERANCE = dict(atol=2e-2, rtol=2e-2)


def tolerance(dtype):
    if dtype in (torch.bfloat16, torch.float16):
        return HALF_TOLERANCE
    if dtype == torch.complex64:  # op_testing compares complex exactly
        return dict(atol=1e-5, rtol=1.3e-6)
    return {}


def mats(dtype, *shapes, seed=0):
    # Small integers keep integer products exact and far from overflow.
    low, high = (-3, 4) if not (dtype.is_floating_point or dtype.is_complex) else (None, None)
    return [make(s, dtype, seed=seed + i, low=low, high=high) for i, s in enumerate(shapes)]


PRODUCTS = {
    "mm": (torch.mm, [(2, 3), (3, 4)]),
    "bmm": (torch.bmm, [(2, 2, 3), (2, 3, 4)]),
    "mv": (torch.mv, [(2, 3), (3,)]),
    "dot": (torch.dot, [(5,), (5,)]),
    "vdot": (torch.vdot, [(5,), (5,)]),
    "addmm": (torch.addmm, [(4,), (2, 3), (3, 4)]),
    "addmv": (torch.addmv, [(2,), (2, 3), (3,)]),
    "addbmm": (torch.addbmm, [(2, 4), (3, 2, 3), (3, 3, 4)]),
    "baddbmm": (torch.baddbmm, [(1, 4), (3, 2, 3), (3, 3, 4)]),
    "matmul": (torch.matmul, [(2, 3), (3, 4)]),
    "outer": (torch.outer, [(3,), (4,)]),
}


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("name", list(PRODUCTS))
def test_products(name, dtype):
    fn, shapes = PRODUCTS[name]
    check(fn, *mats(dtype, *shapes), **tolerance(dtype))


@pytest.mark.parametrize("name", list(PRODUCTS))
def test_bool_products_raise_like_cpu(name):
    fn, shapes = PRODUCTS[name]
    check(fn, *mats(torch.bool, *shapes))


@pytest.mark.parametrize("name", ["addmm", "addmv", "addbmm", "baddbmm"])
@pytest.mark.parametrize("beta,alpha", [(1, 1), (0.5, 2), (0, 1), (2, 0), (0.0, -1.5), (True, 1)],
                         ids=str)
def test_beta_alpha(name, beta, alpha):
    fn, shapes = PRODUCTS[name]
    args = mats(torch.float32, *shapes, seed=2)
    check(lambda *a: fn(*a, beta=beta, alpha=alpha), *args)


@pytest.mark.parametrize("name", ["addmm", "addmv", "addbmm", "baddbmm"])
def test_zero_beta_ignores_nan_and_inf_in_self(name):
    fn, shapes = PRODUCTS[name]
    self, *rest = mats(torch.float32, *shapes, seed=3)
    self.view(-1)[0] = math.nan
    self.view(-1)[-1] = math.inf
    check(lambda *a: fn(*a, beta=0), self, *rest)
    check(lambda *a: fn(*a, beta=0.0, alpha=3), self, *rest)
    check(lambda *a: fn(*a, beta=1), self, *rest)  # NaN kept when beta != 0


@pytest.mark.parametrize("beta,alpha", [(2, 3), (0.5, 1.5)], ids=str)
def test_integer_add_products_cast_scalars(beta, alpha):
    self, a, b = mats(torch.int64, (4,), (2, 3), (3, 4), seed=4)
    check(lambda *t: torch.addmm(*t, beta=beta, alpha=alpha), self, a, b)


def test_changing_scalars_reuse_the_program():
    self, a, b = mats(torch.float32, (2, 4), (2, 3), (3, 4), seed=5)
    for beta, alpha in ((1.0, 1.0), (0.25, 3.0), (0.0, 2.0), (-1.0, 0.5)):
        check(lambda *t: torch.addmm(*t, beta=beta, alpha=alpha), self, a, b)


# ---------------------------------------------------------------- matmul and linear

MATMUL_SHAPES = [
    ((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)), ((5, 2, 3), (3, 4)),
    ((2, 3), (5, 3, 4)), ((5, 2, 3), (5, 3, 4)), ((5, 2, 3), (1, 3, 4)), ((2, 1, 2, 3), (4, 3, 2)),
    ((3,), (5, 3, 4)), ((5, 2, 3), (3,)), ((0, 3), (3, 4)), ((2, 0), (0, 4)), ((4, 0, 3), (3, 2)),
]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul_ranks(shapes):
    check(torch.matmul, *mats(torch.float32, *shapes, seed=6))


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.int64], ids=str)
def test_matmul_operator_and_methods(dtype):
    a, b = mats(dtype, (4, 3), (3, 5), seed=7)
    check(lambda x, y: x @ y, a, b, **tolerance(dtype))
    check(lambda x, y: x.mm(y), a, b, **tolerance(dtype))
    check(lambda x, y: x.matmul(y.t().contiguous().t()), a, b, **tolerance(dtype))


@pytest.mark.parametrize("input_shape", [(4, 6), (2, 3, 6), (6,), (0, 6)], ids=str)
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=str)
def test_linear(input_shape, bias, dtype):
    x, w, b = mats(dtype, input_shape, (5, 6), (5,), seed=8)
    check(lambda x, w, b: F.linear(x, w, b if bias else None), x, w, b, **tolerance(dtype))


# ---------------------------------------------------------------- layouts and forms

def test_noncontiguous_operands():
    a = make((3, 2), torch.float32, seed=9)
    b = make((4, 3), torch.float32, seed=10)
    check(lambda x, y: torch.mm(x.t(), y.t()), a, b)
    check(lambda x, y: torch.mm(x[::2], y[:, ::2]), make((4, 3), torch.float32), b)
    check(lambda x, y: torch.bmm(x.transpose(1, 2), y), make((2, 3, 2), torch.float32),
          make((2, 3, 4), torch.float32))
    check(lambda x, y: torch.mv(x.t(), y[::2]), make((3, 2), torch.float32), make((6,), torch.float32))
    check(lambda x, y: torch.dot(x[::2], y[1::2]), make((6,), torch.float32), make((6,), torch.float32))
    check(lambda s, x, y: torch.addmm(s.expand(2, 4), x, y), make((4,), torch.float32),
          make((2, 3), torch.float32), make((3, 4), torch.float32))
    check(torch.mm, make((2, 3), torch.float32, noncontiguous=True),
          make((3, 4), torch.float32, noncontiguous=True))


def test_out_and_inplace_forms():
    a, b = mats(torch.float32, (2, 3), (3, 4), seed=11)
    check(lambda x, y, o: torch.mm(x, y, out=o), a, b, torch.empty(2, 4))
    check(lambda x, y, o: torch.matmul(x, y, out=o), a, b, torch.empty(2, 4))
    check(lambda s, x, y, o: torch.addmm(s, x, y, beta=0.5, out=o), torch.ones(4), a, b,
          torch.empty(2, 4))
    check(lambda s, x, y: s.addmm_(x, y, alpha=2), make((2, 4), torch.float32), a, b)
    check(lambda s, x, y: s.baddbmm_(x, y), make((2, 2, 4), torch.float32),
          make((2, 2, 3), torch.float32), make((2, 3, 4), torch.float32))
    check(lambda s, x, y: s.addmv_(x, y), make((2,), torch.float32), a, make((3,), torch.float32))
    check(lambda x, y, o: torch.bmm(x, y, out=o), make((2, 2, 3), torch.float32),
          make((2, 3, 4), torch.float32), torch.empty(2, 2, 4))
    check(lambda x, y, o: torch.dot(x, y, out=o), make((3,), torch.float32),
          make((3,), torch.float32), torch.empty(()))
    # In place through a view: the result lands in a column block of a bigger tensor.
    check(lambda big, x, y: big[:, 1:].addmm_(x, y), make((2, 5), torch.float32), a, b)


# ---------------------------------------------------------------- errors

def ones(*shape, dtype=torch.float32):
    return torch.ones(shape, dtype=dtype)


F64, HALF = torch.float64, torch.float16
ERRORS = {
    "mm_shapes": (torch.mm, ones(2, 3), ones(4, 5)),
    "mm_dtypes": (torch.mm, ones(2, 3), ones(3, 5, dtype=F64)),
    "mm_vector": (torch.mm, ones(2, 3), ones(3)),
    "mm_half_float": (torch.mm, ones(2, 3, dtype=HALF), ones(3, 5)),
    "bmm_batches": (torch.bmm, ones(2, 2, 3), ones(3, 3, 5)),
    "bmm_inner": (torch.bmm, ones(2, 2, 3), ones(2, 4, 5)),
    "bmm_rank": (torch.bmm, ones(2, 3), ones(2, 3, 5)),
    "addmm_self": (torch.addmm, ones(3), ones(2, 3), ones(3, 4)),
    "addmm_dtype": (torch.addmm, ones(4, dtype=F64), ones(2, 3), ones(3, 4)),
    "addbmm_batches": (torch.addbmm, ones(2, 5), ones(4, 2, 3), ones(3, 3, 5)),
    "baddbmm_inner": (torch.baddbmm, ones(5), ones(4, 2, 3), ones(4, 4, 5)),
    "mv_size": (torch.mv, ones(2, 3), ones(4)),
    "mv_rank": (torch.mv, ones(2, 3), ones(3, 1)),
    "dot_size": (torch.dot, ones(3), ones(4)),
    "dot_dtype": (torch.dot, ones(3), ones(3, dtype=F64)),
    "dot_rank": (torch.dot, ones(3, 1), ones(3)),
    "matmul_size": (torch.matmul, ones(2, 3), ones(4)),
    "matmul_batch": (torch.matmul, ones(2, 2, 3), ones(3, 3, 4)),
    "linear_size": (F.linear, ones(2, 3), ones(4, 5)),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors(name):
    fn, *args = ERRORS[name]
    check_raises(fn, *args)


def test_shape_error_message():
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x5\)"):
        torch.mm(to_device(torch.ones(2, 3)), to_device(torch.ones(4, 5)))
    with pytest.raises(RuntimeError, match="expected m1 and m2 to have the same dtype"):
        torch.mm(to_device(torch.ones(2, 3)), to_device(torch.ones(3, 5, dtype=torch.float64)))


# ---------------------------------------------------------------- autograd

@pytest.mark.skipif(DEVICE == "cpu", reason="compares device gradients against CPU")
@pytest.mark.parametrize("input_shape", [(4, 6), (2, 3, 6)], ids=str)
def test_linear_gradients(input_shape):
    x, w, b = mats(torch.float32, input_shape, (5, 6), (5,), seed=12)
    cpu = [t.clone().requires_grad_() for t in (x, w, b)]
    dev = [to_device(t).detach().requires_grad_() for t in (x, w, b)]
    for tensors in (cpu, dev):
        out = F.linear(*tensors)
        (out * out).sum().backward()
    for c, d in zip(cpu, dev):
        torch.testing.assert_close(d.grad.cpu(), c.grad, rtol=1e-5, atol=1e-5)


@pytest.mark.skipif(DEVICE == "cpu", reason="compares device gradients against CPU")
def test_matmul_and_bmm_gradients():
    a, b = mats(torch.float32, (3, 2, 4), (4, 5), seed=13)
    cpu = [t.clone().requires_grad_() for t in (a, b)]
    dev = [to_device(t).detach().requires_grad_() for t in (a, b)]
    for x, y in (cpu, dev):
        (torch.matmul(x, y).sin()).sum().backward()
    for c, d in zip(cpu, dev):
        torch.testing.assert_close(d.grad.cpu(), c.grad, rtol=1e-5, atol=1e-5)


@pytest.mark.skipif(DEVICE == "cpu", reason="counts device compiles")
def test_float32_matmul_precision_is_part_of_the_program():
    import torch_pjrt

    a = torch.randn(8, 8)
    x = a.to(DEVICE)
    before = torch.get_float32_matmul_precision()
    try:
        results = {}
        compiles = []
        for precision in ("highest", "high", "medium", "highest"):
            torch.set_float32_matmul_precision(precision)
            torch_pjrt.reset_metrics()
            results[precision] = (x @ x).cpu()
            compiles.append(torch_pjrt.metrics()["compiles"])
        # A new setting is a new program (a TPU computes it with fewer bf16
        # passes); coming back to one already used compiles nothing.
        assert compiles[1:] == [1, 1, 0]
        # XLA:CPU computes every precision in f32; a TPU would differ within bf16 error.
        for value in results.values():
            torch.testing.assert_close(value, a @ a, rtol=1e-2, atol=1e-2)
        # f64 ignores the setting, as on CPU and CUDA.
        y = x.double()
        torch.tpu.synchronize()  # fused mode: both products then read y's buffer
        torch.set_float32_matmul_precision("medium")
        (y @ y).cpu()
        torch_pjrt.reset_metrics()
        torch.set_float32_matmul_precision("highest")
        (y @ y).cpu()
        assert torch_pjrt.metrics()["compiles"] == 0
    finally:
        torch.set_float32_matmul_precision(before)
