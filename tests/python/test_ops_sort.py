"""Sorting and searching against PyTorch on CPU: sort (stable, descending, NaN
largest), argsort, msort, topk, kthvalue, median/nanmedian (the lower median, NaN
handling), mode, cummax/cummin, logcumsumexp, searchsorted/bucketize (right, side,
sorter, batched sequences, NaN), histc; every dtype CPU supports among
float32/bfloat16/float64/int64/int32/bool, 0-d, empty and non-contiguous inputs,
bad dims and arguments, and gradients where autograd has them."""
import math

import pytest
import torch

from op_testing import DEVICE, check_op, check_raises, make, to_device

DTYPES = [torch.float32, torch.bfloat16, torch.float64, torch.int64, torch.int32, torch.bool]
NUMERIC = [d for d in DTYPES if d != torch.bool]
FLOATS = [torch.float32, torch.bfloat16, torch.float64]
needs_backend = pytest.mark.skipif(DEVICE == "cpu", reason="compares device gradients against CPU")


def distinct(shape, dtype, seed=0, noncontiguous=False):
    """Values without ties (so every index is determined), in a shuffled order."""
    n = math.prod(shape) * (2 if noncontiguous and shape else 1)
    g = torch.Generator().manual_seed(seed)
    span = 2 if dtype == torch.bool else n
    values = (torch.randperm(n, generator=g) - n // 2) if dtype != torch.bool else torch.arange(n)
    t = values[:n].to(torch.float64) / (1 if dtype != torch.bfloat16 else max(1, n // 64))
    t = t.to(dtype) if dtype != torch.bool else (values % span).bool()
    full = list(shape)
    if noncontiguous and full:
        full[-1] *= 2
    t = t.reshape(full)
    return t[..., ::2] if noncontiguous and full else t


def with_nans(shape, seed=0):
    x = make(shape, torch.float32, seed=seed)
    mask = make(shape, torch.bool, seed=seed + 100)
    return torch.where(mask & (x > 1), torch.nan, x)


def check_grads(fn, x, atol=1e-6, rtol=1e-6):
    cpu = x.clone().requires_grad_()
    dev = to_device(x).detach().requires_grad_()
    for leaf in (cpu, dev):
        out = fn(leaf)
        out = out if isinstance(out, torch.Tensor) else out[0]
        weights = torch.linspace(-1.0, 2.0, out.numel()).reshape(out.shape).to(out.dtype)
        (out * weights.to(out.device)).sum().backward()
    torch.testing.assert_close(dev.grad.cpu(), cpu.grad, atol=atol, rtol=rtol)


# ---------------------------------------------------------------- sort

@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("descending", [False, True])
def test_sort_every_dtype(dtype, descending):
    # Ties everywhere (small value range): only the stable order fixes the indices.
    x = make((4, 7), dtype, low=-2, high=3, seed=1)
    check_op(lambda t: torch.sort(t, dim=1, descending=descending, stable=True), x)
    check_op(lambda t: torch.sort(t, dim=0, descending=descending, stable=True), x)
    check_op(lambda t: torch.argsort(t, dim=-1, descending=descending, stable=True), x)


@pytest.mark.parametrize("dtype", [torch.float16, torch.int8, torch.uint8], ids=str)
def test_stable_sort_ties_of_narrow_dtypes(dtype):
    # Many equal values in a long row: the stable order fixes every index.
    x = make((600,), dtype, low=0, high=5, seed=6)
    for descending in (False, True):
        check_op(lambda t: torch.sort(t, descending=descending, stable=True), x)
        check_op(lambda t: torch.argsort(t, descending=descending, stable=True), x)


def test_stable_sort_ties_with_nan():
    x = make((40,), torch.float16, low=-2, high=2, seed=7).round()
    x[::7] = math.nan
    for descending in (False, True):
        check_op(lambda t: torch.sort(t, descending=descending, stable=True), x)


@pytest.mark.parametrize("dtype", NUMERIC, ids=str)
def test_unstable_sort_and_msort(dtype):
    x = distinct((5, 6), dtype, seed=2)
    check_op(lambda t: torch.sort(t), x)
    check_op(lambda t: torch.sort(t, 0, True), x)
    check_op(torch.msort, x)
    check_op(lambda t: torch.argsort(t, dim=0), x)


def test_sort_nan_sorts_largest_and_special_shapes():
    x = torch.tensor([[3.0, math.nan, -math.inf, 1.0, math.nan, math.inf, -0.0, 0.0]])
    for descending in (False, True):
        check_op(lambda t: torch.sort(t, descending=descending, stable=True), x)
    check_op(lambda t: torch.sort(t, 0), torch.tensor(2.5))
    check_op(lambda t: torch.sort(t, -1), torch.tensor(2.5))
    check_op(lambda t: torch.sort(t, 1), torch.empty(3, 0))
    check_op(lambda t: torch.sort(t, 0), torch.empty(0, 3))
    check_op(lambda t: torch.sort(t, dim=1, stable=True), make((3, 4), torch.float32, noncontiguous=True))
    check_op(lambda t: torch.sort(t.t(), dim=1, stable=True), make((4, 3), torch.int32))
    values, indices = torch.empty(0), torch.empty(0, dtype=torch.long)
    check_op(lambda t, v, i: torch.sort(t, stable=True, out=(v, i)), make((2, 5), torch.float32),
             values, indices)


def test_sort_errors():
    x = make((2, 3), torch.float32)
    error = check_raises(lambda t: torch.sort(t, dim=2), x)
    if DEVICE != "cpu":
        assert "sort" in str(error)
    check_raises(lambda t: torch.sort(t, dim=1), torch.tensor(1.0))
    check_raises(lambda t: torch.topk(t, 4), x)
    check_raises(lambda t: torch.topk(t, -1), x)
    check_raises(lambda t: torch.topk(t, 1), torch.tensor([True, False]))
    check_raises(lambda t: torch.topk(t, 1, dim=3), x)
    check_raises(lambda t: torch.kthvalue(t, 0), x)
    check_raises(lambda t: torch.kthvalue(t, 4), x)
    check_raises(lambda t: torch.kthvalue(t, 1), torch.tensor([True]))
    check_raises(lambda t: torch.median(t, 0), torch.empty(0, 3))
    check_raises(lambda t: torch.median(t), torch.tensor([True]))
    check_raises(lambda t: torch.mode(t, 0), torch.empty(0, 3))
    check_raises(lambda t: torch.mode(t, 5), x)


@needs_backend
def test_sort_gradients():
    x = distinct((3, 5), torch.float32, seed=3)
    check_grads(lambda t: torch.sort(t, 1)[0], x)
    check_grads(lambda t: torch.sort(t, 0, descending=True)[0], x)
    check_grads(lambda t: torch.topk(t, 2, 1)[0], x)
    check_grads(lambda t: torch.kthvalue(t, 2, 1)[0], x)
    check_grads(lambda t: torch.median(t, 1, keepdim=True)[0], x)
    check_grads(lambda t: torch.median(t), x)
    check_grads(lambda t: torch.nanmedian(t), x)
    check_grads(lambda t: torch.msort(t), x)


# ---------------------------------------------------------------- topk, kthvalue

@pytest.mark.parametrize("dtype", NUMERIC, ids=str)
@pytest.mark.parametrize("largest", [True, False])
def test_topk(dtype, largest):
    x = distinct((4, 6), dtype, seed=4)
    check_op(lambda t: torch.topk(t, 3, largest=largest), x)
    check_op(lambda t: torch.topk(t, 2, dim=0, largest=largest), x)
    check_op(lambda t: torch.topk(t, 6, largest=largest), x)
    check_op(lambda t: torch.topk(t, 0, largest=largest), x)
    check_op(lambda t: torch.topk(t, 3, largest=largest), distinct((2, 4), dtype, noncontiguous=True))
    # sorted=False: CPU's order is unspecified, the set is not.
    cpu = torch.topk(x, 3, largest=largest, sorted=False)[0].sort(-1)[0]
    dev = torch.topk(to_device(x), 3, largest=largest, sorted=False)[0].sort(-1)[0]
    torch.testing.assert_close(dev.cpu(), cpu)


def test_topk_nan_and_special_shapes():
    x = torch.tensor([1.0, math.nan, 3.0, -math.inf, 2.0])
    check_op(lambda t: torch.topk(t, 2), x)
    check_op(lambda t: torch.topk(t, 2, largest=False), x)
    check_op(lambda t: torch.topk(t, 1), torch.tensor(5.0))
    check_op(lambda t: torch.topk(t, 0), torch.tensor(5.0))
    check_op(lambda t: torch.topk(t, 0, dim=0), torch.empty(0, 3))


@pytest.mark.parametrize("dtype", NUMERIC, ids=str)
def test_kthvalue(dtype):
    x = distinct((3, 7), dtype, seed=5)
    for k in (1, 4, 7):
        check_op(lambda t: torch.kthvalue(t, k), x)
    check_op(lambda t: torch.kthvalue(t, 2, dim=0, keepdim=True), x)
    check_op(lambda t: torch.kthvalue(t, 2), distinct((3, 4), dtype, noncontiguous=True))
    check_op(lambda t: torch.kthvalue(t, 1), torch.tensor(3, dtype=dtype))
    check_op(lambda t: torch.kthvalue(t, 1, dim=1), torch.empty(0, 3, dtype=dtype))
    check_op(lambda t: torch.kthvalue(t, 3), torch.tensor([2.0, math.nan, 1.0, 0.5]))


@pytest.mark.parametrize("dtype", [torch.float32, torch.int64, torch.uint8], ids=str)
def test_kthvalue_ties_pick_cpus_index(dtype):
    # Few distinct values: the index among equal ones is whichever CPU's
    # quickselect leaves at position k - 1.
    x = make((5, 40), dtype, low=0, high=4, seed=8)
    if dtype.is_floating_point:
        x[:, ::9] = math.nan
    for k in (1, 23):
        check_op(lambda t: torch.kthvalue(t, k), x)
    check_op(lambda t: torch.kthvalue(t, 3, dim=0, keepdim=True), x)
    check_op(lambda t: torch.kthvalue(t, 2), make((4, 2), dtype, low=0, high=2, seed=9))
    check_op(lambda t: torch.kthvalue(t, 5), make((3, 6), dtype, low=0, high=3, seed=10, noncontiguous=True))


# ---------------------------------------------------------------- median, mode

@pytest.mark.parametrize("dtype", NUMERIC, ids=str)
def test_median(dtype):
    # Few distinct values: ties decide the index, by input order as on CPU.
    for shape in [(3, 6), (4, 5)]:
        x = make(shape, dtype, low=-3, high=3, seed=6)
        check_op(torch.median, x)
        check_op(lambda t: torch.median(t, 1), x)
        check_op(lambda t: torch.median(t, 0, keepdim=True), x)
        check_op(torch.nanmedian, x)
        check_op(lambda t: torch.nanmedian(t, -1), x)
    check_op(lambda t: torch.median(t, 1), make((3, 4), dtype, noncontiguous=True))
    if dtype in (torch.float32, torch.int64):
        check_op(torch.median, torch.tensor(4, dtype=dtype))
        check_op(lambda t: torch.median(t, 0), torch.tensor(4, dtype=dtype))
        check_op(lambda t: torch.median(t, 1), torch.empty(0, 3, dtype=dtype))


def test_median_nan_and_empty():
    x = torch.tensor([[1.0, math.nan, 3.0, 2.0, math.nan], [4.0, 1.0, 0.0, 2.0, 2.0],
                      [math.nan, math.nan, math.nan, math.nan, math.nan],
                      [5.0, math.nan, -1.0, 7.0, 1.0]])
    for fn in (torch.median, torch.nanmedian):
        check_op(fn, x)
        check_op(lambda t: fn(t, 0), x)
        check_op(fn, x[1])
        check_op(fn, torch.empty(0))
    check_op(lambda t: torch.median(t, 1), x)
    # nanmedian of an all-NaN row: NaN, at an index CPU's nth_element picks arbitrarily.
    check_op(lambda t: torch.nanmedian(t, 1), x[[0, 1, 3]])
    assert torch.nanmedian(to_device(x), 1).values.cpu()[2].isnan()
    check_op(torch.median, torch.empty(0, dtype=torch.long))


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_mode(dtype):
    x = make((5, 8), dtype, low=-2, high=3, seed=7)
    check_op(torch.mode, x)
    check_op(lambda t: torch.mode(t, 0), x)
    check_op(lambda t: torch.mode(t, 1, keepdim=True), x)
    check_op(lambda t: torch.mode(t, 1), make((3, 4), dtype, low=0, high=2, noncontiguous=True))
    if dtype == torch.float32:
        check_op(torch.mode, torch.tensor(1, dtype=dtype))
        check_op(lambda t: torch.mode(t, 1), torch.empty(0, 3, dtype=dtype))


@needs_backend
def test_mode_gradient():
    check_grads(lambda t: torch.mode(t, 1)[0], torch.tensor([[1.0, 2.0, 2.0, 3.0], [0.5, 0.5, 1.0, 1.0]]))


# ---------------------------------------------------------------- cumulative

@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("fn", [torch.cummax, torch.cummin], ids=["cummax", "cummin"])
def test_cummax_cummin(fn, dtype):
    x = make((3, 9), dtype, low=-3, high=4, seed=8)  # ties: the later index wins
    check_op(lambda t: fn(t, 1), x)
    check_op(lambda t: fn(t, -2), make((5, 2), dtype, noncontiguous=True))
    if dtype == torch.float32:  # shapes do not depend on the dtype
        check_op(lambda t: fn(t, 0), torch.tensor(1, dtype=dtype))
        check_op(lambda t: fn(t, 0), torch.empty(0, 3, dtype=dtype))
        check_op(lambda t: fn(t, 0), make((300,), dtype, low=-20, high=20, seed=9))


def test_cummax_nan_and_errors():
    x = torch.tensor([1.0, math.nan, 3.0, math.nan, 0.5, math.inf, -math.inf])
    check_op(lambda t: torch.cummax(t, 0), x)
    check_op(lambda t: torch.cummin(t, 0), x)
    check_raises(lambda t: torch.cummax(t, 2), make((2, 3), torch.float32))


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
def test_logcumsumexp(dtype):
    tol = dict(atol=2e-2, rtol=2e-2) if dtype == torch.bfloat16 else dict(atol=1e-5, rtol=1e-5)
    x = make((3, 7), dtype, seed=10)
    check_op(lambda t: torch.logcumsumexp(t, 0), x, **tol)
    check_op(lambda t: torch.logcumsumexp(t, 1), make((2, 4), dtype, noncontiguous=True), **tol)
    if dtype == torch.float32:
        check_op(lambda t: torch.logcumsumexp(t, 0), torch.tensor(1.5, dtype=dtype))
        check_op(lambda t: torch.logcumsumexp(t, 0), torch.empty(0, 2, dtype=dtype))
        check_op(lambda t: torch.logcumsumexp(t, 0), make((100,), dtype, seed=11), **tol)


def test_logcumsumexp_special_values_and_errors():
    x = torch.tensor([-math.inf, -math.inf, 1.0, math.inf, math.inf, 2.0, math.nan, 1.0])
    check_op(lambda t: torch.logcumsumexp(t, 0), x)
    check_op(lambda t: torch.logcumsumexp(t, 0), torch.tensor([1000.0, 1000.0, -1000.0]))
    check_raises(lambda t: torch.logcumsumexp(t, 0), torch.tensor([1, 2]))
    check_raises(lambda t: torch.logcumsumexp(t, 1), torch.tensor([1.0, 2.0]))


@needs_backend
def test_cumulative_gradients():
    x = make((3, 6), torch.float32, seed=12)
    check_grads(lambda t: torch.cummax(t, 1)[0], x)
    check_grads(lambda t: torch.cummin(t, 0)[0], x)
    check_grads(lambda t: torch.logcumsumexp(t, 1), x, atol=1e-5, rtol=1e-5)


# ---------------------------------------------------------------- searchsorted, bucketize

@pytest.mark.parametrize("dtype", NUMERIC, ids=str)
@pytest.mark.parametrize("right", [False, True])
def test_searchsorted(dtype, right):
    seq = make((9,), dtype, low=-5, high=6, seed=13).sort()[0]
    values = make((3, 4), dtype, low=-6, high=7, seed=14)
    check_op(lambda s, v: torch.searchsorted(s, v, right=right), seq, values)
    check_op(lambda s, v: torch.searchsorted(s, v, side="right" if right else "left"), seq, values)
    check_op(lambda s, v: torch.searchsorted(s, v, right=right, out_int32=True), seq, values)
    check_op(lambda v, s: torch.bucketize(v, s, right=right), values, seq)
    check_op(lambda v, s: torch.bucketize(v, s, right=right, out_int32=True), values, seq)
    # One sorted row per leading index.
    rows = make((3, 5), dtype, low=-5, high=6, seed=15).sort(-1)[0]
    check_op(lambda s, v: torch.searchsorted(s, v, right=right), rows, values)
    # sorter: the sequence unsorted, with the permutation that sorts it.
    unsorted = make((7,), dtype, low=-5, high=6, seed=16)
    check_op(lambda s, v, p: torch.searchsorted(s, v, right=right, sorter=p), unsorted, values,
             torch.argsort(unsorted, stable=True))
    check_op(lambda s, v, p: torch.searchsorted(s, v, sorter=p), rows.flip(-1), values,
             torch.argsort(rows.flip(-1), dim=-1, stable=True))


def test_searchsorted_scalars_shapes_and_nan():
    seq = torch.tensor([1.0, 2.0, 2.0, 4.0])
    check_op(lambda s: torch.searchsorted(s, 2.0), seq)
    check_op(lambda s: torch.searchsorted(s, 2, right=True), seq)
    check_op(lambda s: torch.searchsorted(s, 1.5), torch.tensor([1, 2, 3]))
    check_op(lambda s, v: torch.searchsorted(s, v), torch.tensor([1, 2, 3]), torch.tensor([1.5, 3.0]))
    check_op(lambda s: torch.bucketize(3.0, s), seq)
    check_op(lambda s, v: torch.searchsorted(s, v), seq, torch.tensor(2.0))
    check_op(lambda s, v: torch.searchsorted(s, v), seq, torch.empty(0))
    check_op(lambda s, v: torch.searchsorted(s, v), torch.empty(0), torch.tensor([1.0, 2.0]))
    check_op(lambda s, v: torch.searchsorted(s, v), seq, make((2, 3), torch.float32, noncontiguous=True))
    check_op(lambda s, v: torch.searchsorted(s, v), make((2, 6), torch.float32, noncontiguous=True).sort(-1)[0],
             make((2, 3), torch.float32, seed=3))
    with_nan = torch.tensor([1.0, 2.0, 3.0, math.nan, math.nan])
    values = torch.tensor([math.nan, 0.5, 2.0, 2.5, 10.0])
    for right in (False, True):
        check_op(lambda s, v: torch.searchsorted(s, v, right=right), with_nan, values)


def test_searchsorted_errors():
    seq = torch.tensor([1.0, 2.0, 3.0])
    values = torch.tensor([1.5])
    for fn in [lambda s, v: torch.searchsorted(s[0], v),
               lambda s, v: torch.searchsorted(s.expand(2, 3), v.expand(3, 1)),
               lambda s, v: torch.searchsorted(s, v, side="middle"),
               lambda s, v: torch.searchsorted(s, v, side="left", right=True),
               lambda s, v: torch.searchsorted(s, v, sorter=torch.tensor([0, 1, 2], dtype=torch.int32,
                                                                         device=s.device)),
               lambda s, v: torch.searchsorted(s, v, sorter=torch.tensor([0, 1], device=s.device)),
               lambda s, v: torch.searchsorted(s > 1, v > 1),
               lambda s, v: torch.bucketize(v, s.expand(2, 3))]:
        error = check_raises(fn, seq, values)
        if DEVICE != "cpu":
            assert "searchsorted" in str(error) or "bucketize" in str(error)


# ---------------------------------------------------------------- histc

@pytest.mark.parametrize("dtype", FLOATS, ids=str)
def test_histc(dtype):
    x = make((40,), dtype, seed=17)
    check_op(lambda t: torch.histc(t), x)
    check_op(lambda t: torch.histc(t, bins=7, min=-2, max=2), x)
    check_op(lambda t: torch.histc(t, bins=4, min=1, max=1), x)  # equal bounds: the data's range
    check_op(lambda t: torch.histc(t, bins=5), make((4, 6), dtype, noncontiguous=True))
    if dtype == torch.float32:
        check_op(lambda t: torch.histc(t, bins=3), torch.tensor(1.0, dtype=dtype))
        check_op(lambda t: torch.histc(t, bins=3), torch.full((5,), 2.0, dtype=dtype))
        check_op(lambda t: torch.histc(t, bins=3), torch.empty(0, dtype=dtype))
    # Edges land in the bin CPU's arithmetic picks; the top edge in the last bin.
    check_op(lambda t: torch.histc(t, bins=4, min=0, max=1),
             torch.tensor([0.0, 0.25, 0.5, 0.75, 1.0, 1.5, -0.5, math.nan]).to(dtype))


def test_histc_errors():
    x = make((5,), torch.float32)
    for fn in [lambda t: torch.histc(t, bins=0), lambda t: torch.histc(t, min=2, max=1),
               lambda t: torch.histc(t, min=0, max=math.inf)]:
        error = check_raises(fn, x)
        if DEVICE != "cpu":
            assert "histc" in str(error)
    check_raises(torch.histc, torch.tensor([1, 2]))


def test_float16_through_every_op():
    x = distinct((3, 8), torch.float16, seed=18)
    check_op(lambda t: torch.sort(t, dim=1, descending=True, stable=True), x)
    check_op(lambda t: torch.topk(t, 3), x)
    check_op(lambda t: torch.kthvalue(t, 2, 0), x)
    check_op(lambda t: torch.median(t, 1), x)
    check_op(lambda t: torch.mode(t, 1), x.round())
    check_op(lambda t: torch.cummax(t, 1), x)
    check_op(lambda t: torch.logcumsumexp(t, 1), x / 4, atol=1e-2, rtol=1e-2)
    check_op(lambda s, v: torch.searchsorted(s, v), x.sort(1)[0], x)
    check_op(lambda t: torch.histc(t, bins=5), x)


def test_selection_keeps_the_sign_of_zero():
    x = torch.tensor([[-0.0, 1.0, -2.0], [3.0, -0.0, 2.0]])
    for fn in (lambda t: torch.median(t, 1)[0], lambda t: torch.kthvalue(t, 2, 1)[0],
               lambda t: torch.mode(t, 1)[0], torch.median):
        assert torch.equal(fn(to_device(x)).cpu().signbit(), fn(x).signbit())
