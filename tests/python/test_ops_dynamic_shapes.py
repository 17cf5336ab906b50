"""Ops whose result size depends on the data (nonzero, masked_select, unique,
unique_consecutive, bincount) and the static-size ops they are built from
(nonzero_static, masked_scatter): all run on the device, no CPU fallback."""
import pytest
import torch

import torch_pjrt
from op_testing import ALL_DTYPES, DEVICE, INT_DTYPES, assert_same, check, check_op, make, to_device

DTYPES = ALL_DTYPES + [torch.float16, torch.complex64]
SORTABLE = [t for t in DTYPES if not t.is_complex]


@pytest.fixture(autouse=True)
def no_cpu_fallback():
    torch_pjrt.reset_metrics()
    yield
    assert torch_pjrt.metrics()["cpu_fallbacks"] == 0


def sparse(shape, dtype, seed=0, noncontiguous=False):
    """Mostly zeros, so that nonzero/unique see repeats and all-false rows."""
    x = make(shape, dtype, seed=seed, noncontiguous=noncontiguous)
    keep = make(shape, torch.bool, seed=seed + 1, noncontiguous=noncontiguous)
    return x * keep if dtype != torch.bool else x & keep


@pytest.mark.parametrize("dtype", DTYPES)
def test_nonzero(dtype):
    check_op(torch.nonzero, sparse((2, 3, 4), dtype))
    check_op(lambda t: torch.nonzero(t, as_tuple=True), sparse((3, 4), dtype))


@pytest.mark.parametrize("shape", [(), (0,), (5,), (2, 0, 3)])
def test_nonzero_shapes(shape):
    for dtype in (torch.float32, torch.bool):
        check_op(torch.nonzero, sparse(shape, dtype))
        check_op(lambda t: torch.nonzero(t, as_tuple=True), sparse(shape, dtype))


def test_nonzero_all_false_noncontiguous_and_out():
    check_op(torch.nonzero, torch.zeros(3, 4))
    check_op(torch.nonzero, sparse((3, 4), torch.float32, noncontiguous=True))
    check_op(torch.nonzero, sparse((4, 3), torch.int32).t())
    check_op(lambda t, out: torch.nonzero(t, out=out), sparse((3, 4), torch.float32),
             torch.empty(0, dtype=torch.long))
    check_op(lambda t: torch.argwhere(t), sparse((3, 4), torch.int64))


@pytest.mark.parametrize("size,fill", [(0, -1), (3, -1), (20, 7)])
def test_nonzero_static(size, fill):
    for x in [sparse((3, 4), torch.float32), torch.zeros(2, 2), sparse((0, 3), torch.int64)]:
        check_op(lambda t: torch.nonzero_static(t, size=size, fill_value=fill), x)
    check(lambda t: torch.nonzero_static(t, size=-1), torch.ones(2))


@pytest.mark.parametrize("dtype", DTYPES)
def test_masked_select(dtype):
    x = make((3, 4), dtype)
    check_op(torch.masked_select, x, make((3, 4), torch.bool, seed=2))
    check_op(torch.masked_select, x, make((4,), torch.bool, seed=3))  # broadcast mask
    check_op(torch.masked_select, make((4,), dtype), make((3, 4), torch.bool))  # broadcast self


def test_masked_select_edges():
    check_op(torch.masked_select, make((3, 4), torch.float32), torch.zeros(3, 4, dtype=torch.bool))
    check_op(torch.masked_select, torch.tensor(2.0), torch.tensor(True))
    check_op(torch.masked_select, torch.empty(0, 3), torch.empty(0, 3, dtype=torch.bool))
    check_op(torch.masked_select, make((3, 4), torch.float32, noncontiguous=True),
             make((3, 4), torch.bool, noncontiguous=True, seed=1))
    check_op(lambda x, m, out: torch.masked_select(x, m, out=out), make((3, 4), torch.float32),
             make((3, 4), torch.bool), torch.empty(0))
    err = check(torch.masked_select, torch.ones(3), torch.ones(3))
    assert "expected BoolTensor for mask" in str(err)


def test_masked_select_gradient():
    x = make((3, 4), torch.float32).requires_grad_()
    mask = make((3, 4), torch.bool, seed=1)
    dx = x.detach().to(DEVICE).requires_grad_()
    g = make((int(mask.sum()),), torch.float32, seed=4)
    torch.masked_select(x, mask).backward(g)
    torch.masked_select(dx, mask.to(DEVICE)).backward(g.to(DEVICE))
    assert_same(dx.grad, x.grad)


@pytest.mark.parametrize("dtype", DTYPES)
def test_masked_scatter(dtype):
    x = make((3, 4), dtype)
    mask = make((3, 4), torch.bool, seed=1)
    source = make((12,), dtype, seed=2)
    check_op(torch.masked_scatter, x, mask, source)
    check_op(torch.masked_scatter, x, make((4,), torch.bool, seed=3), source.view(3, 4))
    check_op(torch.Tensor.masked_scatter_, x, mask, source)


def test_masked_scatter_edges():
    x = make((3, 4), torch.float32)
    check_op(torch.masked_scatter, x, torch.zeros(3, 4, dtype=torch.bool), torch.empty(0))
    check_op(torch.masked_scatter, torch.empty(0, 4), torch.empty(0, 4, dtype=torch.bool),
             torch.ones(2))
    check_op(torch.masked_scatter, torch.tensor(1.0), torch.tensor(True), torch.tensor([5.0, 6.0]))
    check_op(torch.masked_scatter, make((3, 4), torch.float32, noncontiguous=True),
             make((3, 4), torch.bool, noncontiguous=True, seed=5),
             make((3, 4), torch.float32, noncontiguous=True, seed=6))
    err = check(torch.masked_scatter, x, torch.ones(3, 4), torch.ones(12))
    assert "only supports boolean masks" in str(err)
    err = check(torch.masked_scatter, x, torch.ones(3, 4, dtype=torch.bool),
                torch.ones(12, dtype=torch.float64))
    assert "same dtypes" in str(err)


def test_masked_scatter_gradient():
    mask = make((3, 4), torch.bool, seed=1)
    x, source = make((3, 4), torch.float64), make((2, 6), torch.float64, seed=2)
    cpu = [x.clone().requires_grad_(), source.clone().requires_grad_()]
    dev = [t.to(DEVICE).requires_grad_() for t in (x, source)]
    g = make((3, 4), torch.float64, seed=3)
    torch.masked_scatter(cpu[0], mask, cpu[1]).backward(g)
    torch.masked_scatter(dev[0], mask.to(DEVICE), dev[1]).backward(g.to(DEVICE))
    assert_same(dev[0].grad, cpu[0].grad)
    assert_same(dev[1].grad, cpu[1].grad)


def with_specials(dtype):
    x = make((2, 6), dtype, low=-3, high=3)
    if dtype.is_floating_point:
        x = torch.cat([x.round(), torch.tensor([[float("nan"), -0.0, 0.0, float("inf"), 1.0,
                                                 float("nan")]], dtype=dtype)])
    return x


@pytest.mark.parametrize("dtype", SORTABLE)
def test_unique(dtype):
    x = with_specials(dtype)
    for kwargs in [{}, {"return_inverse": True}, {"return_counts": True},
                   {"return_inverse": True, "return_counts": True, "sorted": False}]:
        check_op(lambda t: torch.unique(t, **kwargs), x)
        consecutive = {k: v for k, v in kwargs.items() if k != "sorted"}
        check_op(lambda t: torch.unique_consecutive(t, **consecutive), x.flatten().sort()[0])
        check_op(lambda t: torch.unique_consecutive(t, **consecutive), x)
    check_op(lambda t: torch.ops.aten._unique(t, True, True), x)


@pytest.mark.parametrize("shape", [(), (0,), (0, 3), (4, 3)])
def test_unique_shapes(shape):
    x = make(shape, torch.int64, low=0, high=3, noncontiguous=True)
    check_op(lambda t: torch.unique(t, return_inverse=True, return_counts=True), x)
    check_op(lambda t: torch.unique_consecutive(t, return_inverse=True, return_counts=True), x)


@pytest.mark.parametrize("dtype", [torch.float32, torch.int64, torch.bool])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_unique_dim(dtype, dim):
    x = make((5, 2), dtype, low=0, high=2)
    x = torch.cat([x, x.flip(0)], 0)
    for fn in (torch.unique, torch.unique_consecutive):
        check_op(lambda t: fn(t, dim=dim, return_inverse=True, return_counts=True), x)
        check_op(lambda t: fn(t, dim=dim), x)


def test_unique_errors():
    err = check(torch.unique, torch.tensor([1j]))
    assert "not implemented for 'ComplexFloat'" in str(err)
    for dim in (0, 1):
        check(lambda t: torch.unique(t, dim=dim), torch.zeros(0, 3))
    check(lambda t: torch.unique(t, dim=0), torch.zeros(0, 0))


@pytest.mark.parametrize("dtype", INT_DTYPES + [torch.uint8, torch.int16])
def test_bincount(dtype):
    x = make((9,), dtype, low=0, high=6)
    check_op(torch.bincount, x)
    check_op(lambda t: torch.bincount(t, minlength=10), x)
    for wtype in (torch.float32, torch.float64, torch.int64, torch.float16):
        check_op(torch.bincount, x, make((9,), wtype, seed=1))
    check_op(torch.bincount, make((9,), dtype, low=0, high=6, noncontiguous=True))


def test_bincount_edges_and_errors():
    check_op(torch.bincount, torch.empty(0, dtype=torch.long))
    check_op(lambda t: torch.bincount(t, minlength=3), torch.empty(0, dtype=torch.long))
    for bad in [torch.tensor([-1, 2]), torch.tensor([[1]]), torch.tensor(1)]:
        err = check(torch.bincount, bad)
        assert "non-negative integral" in str(err)
    check(torch.bincount, torch.tensor([1.0]))
    check(torch.bincount, torch.tensor([True]))
    check(lambda t: torch.bincount(t, minlength=-1), torch.tensor([1]))
    err = check(torch.bincount, torch.tensor([1]), torch.tensor([1.0, 2.0]))
    assert "same length" in str(err)


def test_histogram_style_use_stays_on_device():
    x = to_device(make((30,), torch.int64, low=0, high=5))
    assert_same(torch.bincount(x), torch.bincount(x.cpu()))
    assert_same(x.unique(), x.cpu().unique())
