"""Shape and indexing ops against PyTorch on CPU: cat/stack (type promotion, the
legacy skip of 1-D empty inputs, out=), flip/roll/repeat/pad/tril/triu,
advanced indexing reads and writes (x[i], x[:, i], x[i, j], x[i] = v,
x[mask] = v), index_select/index_add, gather/scatter, nn.Embedding forward and
backward, and the errors CPU raises.

Out-of-range index values are not checked on the device (that needs a sync):
those tests only require that the device does not crash."""
import copy

import pytest
import torch
import torch.nn.functional as F

from op_testing import (ALL_DTYPES, DEVICE, FLOAT_DTYPES, check_op, check_raises, make,
                        to_device)

INDEX_DTYPES = [torch.int64, torch.int32]


def index(values, dtype=torch.int64):
    return torch.tensor(values, dtype=dtype)


def unique_positions(shape, dim, size, seed=0):
    """An index tensor of `shape` whose entries along `dim` are distinct values
    in [0, size), so scatter (without reduction) is deterministic."""
    g = torch.Generator().manual_seed(seed)
    moved = list(shape)
    moved.append(moved.pop(dim))
    rows = torch.stack([torch.randperm(size, generator=g)[:moved[-1]]
                        for _ in range(max(1, int(torch.tensor(moved[:-1]).prod())))])
    return rows.reshape(moved).movedim(-1, dim).contiguous()


def raises_by_the_next_sync(fn, *args):
    """For inputs CPU rejects by looking at index values: only the device sees
    them, so its check raises CPU's exception type at the latest when the
    result is read (test_device_errors.py covers every such op)."""
    expected = check_raises_on_cpu(fn, *args)
    with pytest.raises(type(expected)):
        result = fn(*to_device(list(args)))
        if isinstance(result, torch.Tensor):
            result.cpu()
        else:
            torch.tpu.synchronize()


def check_raises_on_cpu(fn, *args):
    try:
        fn(*[a.clone() if isinstance(a, torch.Tensor) else a for a in args])
    except (IndexError, RuntimeError) as error:
        return error
    raise AssertionError("CPU accepts the input")


# ---------------------------------------------------------------- cat / stack

@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cat(dtype, dim):
    check_op(lambda a, b, c: torch.cat([a, b, c], dim),
             make((2, 3), dtype, seed=1), make((2, 3), dtype, seed=2), make((2, 3), dtype, seed=3))


@pytest.mark.parametrize("dtypes", [
    (torch.float32, torch.int64), (torch.bool, torch.bfloat16), (torch.int32, torch.int64),
    (torch.bfloat16, torch.float16), (torch.uint8, torch.int8), (torch.bool, torch.bool),
], ids=str)
def test_cat_promotes(dtypes):
    check_op(lambda a, b: torch.cat([a, b], 1), make((2, 3), dtypes[0], seed=1),
             make((2, 1), dtypes[1], seed=2))


@pytest.mark.parametrize("shapes", [
    ((0,), (2, 3)),      # legacy: a 1-D empty tensor is skipped whatever the others' rank
    ((2, 3), (0,), (1, 3)),
    ((0,), (0,)),
    ((0, 3), (2, 3)),
    ((2, 0), (2, 0)),
], ids=str)
def test_cat_empty_inputs(shapes):
    tensors = [make(s, torch.float32, seed=i) for i, s in enumerate(shapes)]
    check_op(lambda *ts: torch.cat(ts), *tensors)


def test_cat_empty_skipped_tensor_still_promotes():
    check_op(lambda a, b: torch.cat([a, b], dim=1), make((2, 3), torch.int32),
             torch.zeros(0, dtype=torch.float64))


def test_cat_noncontiguous():
    check_op(lambda a, b: torch.cat([a, b], 0), make((3, 4), torch.float32, noncontiguous=True),
             make((4, 4), torch.float32).t())
    check_op(lambda a, b: torch.cat([a, b], 1), make((1, 4), torch.float32).expand(3, 4),
             make((3, 2), torch.float32, noncontiguous=True))


@pytest.mark.parametrize("out_dtype", [torch.float32, torch.float64])
def test_cat_out(out_dtype):
    out = torch.empty(5, 3, dtype=out_dtype)
    check_op(lambda a, b, o: torch.cat([a, b], 0, out=o), make((2, 3), torch.float32, seed=1),
             make((3, 3), torch.float32, seed=2), out)


@pytest.mark.parametrize("case", [
    lambda: ([make((2, 3), torch.float32), make((3,), torch.float32)], 0),
    lambda: ([make((2, 3), torch.float32), make((2, 4), torch.float32)], 0),
    lambda: ([make((2, 3), torch.float32)], 2),
    lambda: ([make((), torch.float32), make((2,), torch.float32)], 0),
], ids=["ranks", "sizes", "dim", "zero_dim"])
def test_cat_errors(case):
    tensors, dim = case()
    check_raises(lambda *ts: torch.cat(ts, dim), *tensors)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.int64, torch.bool],
                         ids=str)
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_stack(dtype, dim):
    check_op(lambda a, b: torch.stack([a, b], dim), make((2, 3), dtype, seed=1),
             make((2, 3), dtype, seed=2))


def test_stack_promotes_and_edges():
    check_op(lambda a, b: torch.stack([a, b]), make((3,), torch.int32), make((3,), torch.float32))
    check_op(lambda a, b: torch.stack([a, b]), make((), torch.float64), make((), torch.float64))
    check_op(lambda a, b: torch.stack([a, b], 1), make((0,), torch.float32),
             make((0,), torch.float32))
    check_op(lambda a, b: torch.stack([a, b], 1), make((2, 3), torch.float32).t(),
             make((3, 2), torch.float32, noncontiguous=True))
    check_raises(lambda a, b: torch.stack([a, b]), make((2,), torch.float32),
                 make((3,), torch.float32))
    check_raises(lambda a: torch.stack([a], 2), make((2,), torch.float32))


# ---------------------------------------------------------------- flip / roll / repeat / pad / tril

@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
def test_rearrangements(dtype):
    x = make((3, 4), dtype)
    check_op(lambda t: torch.flip(t, [0, -1]), x)
    check_op(lambda t: torch.roll(t, [1, -5], [0, 1]), x)
    check_op(lambda t: torch.roll(t, 5), x)
    check_op(lambda t: t.repeat(2, 1, 3), x)
    check_op(lambda t: torch.tril(t, -1), x)
    check_op(lambda t: torch.triu(t, 1), x)


@pytest.mark.parametrize("case", [
    lambda t: torch.flip(t, [1]),
    lambda t: torch.roll(t, 2, 1),
    lambda t: t.repeat(1, 2),
    lambda t: torch.tril(t),
    lambda t: F.pad(t, (1, 2, 0, 1), value=1.5),
], ids=["flip", "roll", "repeat", "tril", "pad"])
def test_rearrangements_noncontiguous(case):
    check_op(case, make((4, 3), torch.float32).t())
    check_op(case, make((2, 3), torch.float32, noncontiguous=True))


def test_rearrangement_edges():
    scalar = make((), torch.float32)
    check_op(lambda t: torch.flip(t, [0]), scalar)
    check_op(lambda t: torch.roll(t, 3), scalar)
    check_op(lambda t: t.repeat(2, 3), scalar)
    empty = make((0, 3), torch.float32)
    check_op(lambda t: torch.roll(t, 1, 0), empty)
    check_op(lambda t: torch.flip(t, [0]), empty)
    check_op(lambda t: torch.triu(t), empty)
    check_op(lambda t: t.repeat(2, 0), make((2, 3), torch.float32))
    check_op(lambda t: torch.tril(t, 2), make((2, 3, 4), torch.float32))
    check_op(lambda t: t.tril_(), make((3, 3), torch.float32))
    check_op(lambda t: t.triu_(-1), make((3, 3), torch.int64))


def test_rearrangement_errors():
    x = make((3, 4), torch.float32)
    check_raises(lambda t: torch.flip(t, [0, 0]), x)
    check_raises(lambda t: torch.flip(t, [2]), x)
    check_raises(lambda t: torch.roll(t, [1, 2], [0]), x)
    check_raises(lambda t: torch.roll(t, 1, 0), make((), torch.float32))
    check_raises(lambda t: t.repeat(2), x)
    check_raises(lambda t: t.repeat(2, -1), x)
    check_raises(lambda t: torch.tril(t), make((3,), torch.float32))


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
def test_constant_pad(dtype):
    x = make((2, 3, 4), dtype)
    check_op(lambda t: F.pad(t, (1, 2)), x)
    check_op(lambda t: F.pad(t, (1, 0, 2, 1, 0, 1), value=1), x)
    check_op(lambda t: F.pad(t, (-1, 2, 1, -2)), x)  # negative amounts crop
    if dtype.is_floating_point:
        check_op(lambda t: F.pad(t, (1, 1), value=-2.5), x)


def test_constant_pad_edges_and_errors():
    check_op(lambda t: F.pad(t, (1, 1), value=2.7), make((2, 3), torch.int64))  # truncated
    check_op(lambda t: torch.constant_pad_nd(t, []), make((), torch.float32))
    check_op(lambda t: F.pad(t, (0, 0, 1, 1)), make((0, 3), torch.float32))
    check_raises(lambda t: torch.constant_pad_nd(t, [1, 2, 3]), make((2, 3), torch.float32))
    check_raises(lambda t: torch.constant_pad_nd(t, [1] * 6), make((2, 3), torch.float32))
    check_raises(lambda t: torch.constant_pad_nd(t, [-3, -2]), make((2, 3), torch.float32))


# ---------------------------------------------------------------- advanced indexing (reads)

@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
def test_index_read(dtype):
    x = make((4, 5, 3), dtype)
    i = index([0, 3, -1, 1])
    check_op(lambda t, i: t[i], x, i)
    check_op(lambda t, i: t[:, i], x, i)
    check_op(lambda t, i, j: t[i, j], x, i, index([4, 0, -2, 2]))


@pytest.mark.parametrize("index_dtype", INDEX_DTYPES, ids=str)
def test_index_read_patterns(index_dtype):
    x = make((4, 5, 6), torch.float32)
    i = index([[0, 3], [-1, 1]], index_dtype)
    j = index([2, -4], index_dtype)
    check_op(lambda t, i: t[i], x, i)                      # 2-d index
    check_op(lambda t, i, j: t[i, j], x, i, j)             # broadcast index tensors
    check_op(lambda t, i, j: t[i, :, j], x, i, j)          # separated: index dims first
    check_op(lambda t, i, j: t[:, i, j], x, i, j)
    check_op(lambda t, i: t[..., i], x, j)
    check_op(lambda t, i: t[i, 1:3], x, j)                 # index + slice view
    check_op(lambda t, i: t[i], x, index(2, index_dtype))  # 0-d index tensor
    check_op(lambda t, i: t[i], x, index([], index_dtype))  # empty index
    check_op(lambda t, i: t[i], make((0, 3), torch.float32), index([], index_dtype))


def test_index_read_noncontiguous():
    check_op(lambda t, i: t[i], make((5, 4), torch.float32).t(), index([3, 0, 0]))
    check_op(lambda t, i: t[:, i], make((3, 4), torch.float32, noncontiguous=True), index([1, 2]))
    check_op(lambda t, i: t[i], make((1, 4), torch.float32).expand(3, 4), index([2, 0]))
    check_op(lambda t, i: t[i], make((4,), torch.float32), index([3, 1, 3, 0])[::2])


def test_index_read_errors():
    x = make((3, 4), torch.float32)
    check_raises(lambda t, i: t[i], x, torch.tensor([0.0, 1.0]))
    check_raises(lambda t, i: t[i], x, index([0, 1], torch.int16))
    check_raises(lambda t, i, j: t[i, j], x, index([0, 1]), index([0, 1, 2]))
    check_raises(lambda t, i: t[i, i, i], x, index([0]))
    raises_by_the_next_sync(lambda t, i: t[i], x, index([3]))
    raises_by_the_next_sync(lambda t, i: t[i], x, index([-4]))


def test_index_read_bool_mask():
    """A boolean mask read has a data-dependent shape: either it works (CPU
    fallback) or it raises NotImplementedError, never a wrong answer."""
    x = make((3, 4), torch.float32)
    mask = x > 0
    try:
        check_op(lambda t, m: t[m], x, mask)
    except NotImplementedError:
        pass


# ---------------------------------------------------------------- advanced indexing (writes)

@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
def test_index_put(dtype):
    x = make((4, 5), dtype)
    i = index([0, 3, -1])

    def put_rows(t, i, v):
        t[i] = v
        return t

    def put_columns(t, i, v):
        t[:, i] = v
        return t

    def put_points(t, i, j, v):
        t[i, j] = v
        return t

    check_op(put_rows, x, i, make((3, 5), dtype, seed=1))
    check_op(put_rows, x, i, make((5,), dtype, seed=2))       # broadcast values
    check_op(put_columns, x, i, make((4, 1), dtype, seed=3))
    check_op(put_points, x, index([1, 2]), index([4, -5]), make((), dtype, seed=4))


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.int64, torch.bool],
                         ids=str)
def test_index_put_accumulate(dtype):
    # Duplicate indices all add up.
    check_op(lambda t, i, v: t.index_put_((i,), v, accumulate=True), make((5, 3), dtype),
             index([0, 2, 0, -1, 2]), make((5, 3), dtype, seed=1))
    check_op(lambda t, i, j, v: torch.index_put(t, (i, j), v, accumulate=True),
             make((5, 3), dtype), index([1, 1, 4]), index([2, 2, 0]), make((3,), dtype, seed=2))


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16], ids=str)
def test_index_put_accumulate_rounds_each_addition(dtype):
    # CPU adds duplicates one at a time in the tensor's own type.
    rows = torch.randint(0, 5, (10, 1), generator=torch.Generator().manual_seed(0))
    cols = torch.randint(0, 5, (1, 10), generator=torch.Generator().manual_seed(1))
    check_op(lambda t, i, j, v: torch.index_put(t, (i, j), v, accumulate=True),
             make((5, 5), dtype), rows, cols, make((10, 10), dtype, seed=2), atol=0, rtol=0)


def test_index_put_python_scalar_and_views():
    def set_scalar(t, i):
        t[i] = 7
        return t

    def set_through_view(t, i, v):
        t[1:, ::2][i] = v
        return t

    check_op(set_scalar, make((4, 3), torch.float32), index([1, 3]))
    check_op(set_scalar, make((4, 3), torch.int32), index([0]))
    check_op(set_through_view, make((4, 6), torch.float32), index([2, 0]),
             make((2, 3), torch.float32, seed=1))


@pytest.mark.parametrize("dtype", [torch.float32, torch.int64, torch.bool], ids=str)
def test_index_put_bool_mask(dtype):
    x = make((3, 4), dtype)
    mask = make((3, 4), torch.bool, seed=5)

    def set_where(t, m, v):
        t[m] = v
        return t

    check_op(set_where, x, mask, make((), dtype, seed=1))
    check_op(set_where, x, mask[:, 0], make((4,), dtype, seed=2))   # same row for every hit
    check_op(lambda t, m, v: t.index_put_((m,), v, accumulate=True), x, mask,
             make((), dtype, seed=3))


def test_index_put_errors():
    x = make((3, 4), torch.float32)
    check_raises(lambda t, i, v: t.index_put_((i,), v), x, index([0, 1]),
                 make((4,), torch.float64))
    check_raises(lambda t, i, v: t.index_put_((i,), v), x, index([0, 1]), make((3,), torch.float32))
    check_raises(lambda t, i, v: t.index_put_((i,), v), x, torch.tensor([0.0]),
                 make((4,), torch.float32))
    raises_by_the_next_sync(lambda t, i, v: t.index_put_((i,), v), x, index([5]),
                          make((4,), torch.float32))


# ---------------------------------------------------------------- index_select / index_add

@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
@pytest.mark.parametrize("index_dtype", INDEX_DTYPES, ids=str)
def test_index_select(dtype, index_dtype):
    x = make((3, 4), dtype)
    check_op(lambda t, i: torch.index_select(t, 1, i), x, index([3, 0, 3], index_dtype))
    check_op(lambda t, i: t.index_select(-2, i), x, index(2, index_dtype))


def test_index_select_edges_and_errors():
    check_op(lambda t, i: t.index_select(0, i), make((), torch.float32), index(0))
    check_op(lambda t, i: t.index_select(0, i), make((0, 3), torch.float32), index([]))
    check_op(lambda t, i: t.index_select(0, i), make((4, 3), torch.float32).t(), index([1, 0]))
    out = torch.empty(2, 4)
    check_op(lambda t, i, o: torch.index_select(t, 0, i, out=o), make((3, 4), torch.float32),
             index([2, 1]), out)
    x = make((3, 4), torch.float32)
    check_raises(lambda t, i: t.index_select(0, i), x, index([0], torch.int16))
    check_raises(lambda t, i: t.index_select(0, i), x, index([[0]]))
    check_raises(lambda t, i: t.index_select(2, i), x, index([0]))
    raises_by_the_next_sync(lambda t, i: t.index_select(0, i), x, index([3]))


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
def test_index_add(dtype):
    x = make((4, 3), dtype)
    src = make((5, 3), dtype, seed=1)
    i = index([0, 3, 0, 1, 3])
    check_op(lambda t, i, s: t.index_add_(0, i, s), x, i, src)
    check_op(lambda t, i, s: torch.index_add(t, 1, i, s), x, index([2, 2], torch.int32),
             make((4, 2), dtype, seed=2))
    if dtype != torch.bool:
        check_op(lambda t, i, s: t.index_add(0, i, s, alpha=2), x, i, src)
    if dtype.is_floating_point:
        check_op(lambda t, i, s: t.index_add(0, i, s, alpha=-0.5), x, i, src)


def test_index_add_edges_and_errors():
    check_op(lambda t, i, s: t.index_add(0, i, s), make((), torch.float32), index(0),
             make((), torch.float32, seed=1))
    check_op(lambda t, i, s: t.index_add(0, i, s), make((3, 2), torch.float32), index([]),
             make((0, 2), torch.float32))
    check_op(lambda t, i, s: t.index_add_(1, i, s), make((4, 3), torch.float32).t(),
             index([1, 1]), make((2, 3), torch.float32, noncontiguous=True).t())
    x = make((3, 4), torch.float32)
    check_raises(lambda t, i, s: t.index_add(0, i, s), x, torch.tensor([0.0]),
                 make((1, 4), torch.float32))
    check_raises(lambda t, i, s: t.index_add(0, i, s), x, index([0]), make((1, 4), torch.float64))
    check_raises(lambda t, i, s: t.index_add(0, i, s), x, index([0, 1]),
                 make((3, 4), torch.float32))
    check_raises(lambda t, i, s: t.index_add(0, i, s), x, index([0]), make((1, 5), torch.float32))


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
def test_index_copy_fill_take_put(dtype):
    x = make((4, 3), dtype)
    check_op(lambda t, i, s: t.index_copy(0, i, s), x, index([3, 0]), make((2, 3), dtype, seed=1))
    check_op(lambda t, i, s: t.index_copy_(1, i, s), x, index(2), make((4, 1), dtype, seed=2))
    check_op(lambda t, i: t.index_fill(1, i, 1), x, index([0, -1]))
    check_op(lambda t, i, v: t.index_fill_(0, i, v), x, index([2]), make((), dtype, seed=3))
    check_op(lambda t, i: t.take(i), x, index([[0, -1], [5, 11]]))
    check_op(lambda t, i, s: t.put(i, s), x, index([1, -2, 7]), make((3,), dtype, seed=4))
    if dtype != torch.bool:
        check_op(lambda t, i, s: t.put_(i, s, accumulate=True), x, index([1, -1, 1]),
                 make((3,), dtype, seed=5))


def test_index_copy_fill_take_put_edges_and_errors():
    check_op(lambda t, i, s: t.index_copy(0, i, s), make((), torch.float32), index([0]),
             make((), torch.float32, seed=1))
    check_op(lambda t, i: t.index_fill(0, i, 2.5), make((3, 2), torch.int64), index([1]))
    check_op(lambda t, i: t.take(i), make((3, 4), torch.float32).t(), index(5))
    check_op(lambda t, i: t.take(i), make((0,), torch.float32), index([]))
    check_op(lambda t, i, s: t.put(i, s), make((2, 3), torch.float32, noncontiguous=True),
             index([[0, 5]]), make((2,), torch.float32, seed=1))
    x = make((3, 4), torch.float32)
    check_raises(lambda t, i, s: t.index_copy(0, i, s), x, index([1], torch.int32),
                 make((1, 4), torch.float32))
    check_raises(lambda t, i, s: t.index_copy(0, i, s), x, index([1]), make((2, 4), torch.float32))
    check_raises(lambda t, i, s: t.index_copy(0, i, s), x, index([1]), make((1, 4), torch.float64))
    check_raises(lambda t, i: t.index_fill(0, i, 1.0), x, index([1], torch.int32))
    check_raises(lambda t, i, v: t.index_fill(0, i, v), x, index([1]), make((1,), torch.float32))
    check_raises(lambda t, i: t.take(i), x, index([1], torch.int32))
    check_raises(lambda t, i, s: t.put(i, s), x, index([1, 2]), make((3,), torch.float32))
    check_raises(lambda t, i, s: t.put(i, s), x, index([1]), make((1,), torch.float64))
    raises_by_the_next_sync(lambda t, i: t.take(i), x, index([12]))
    raises_by_the_next_sync(lambda t, i: t.index_fill(1, i, 0.0), x, index([4]))


# ---------------------------------------------------------------- gather / scatter

@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_gather(dtype, dim):
    x = make((3, 4), dtype)
    size = x.shape[dim]
    i = torch.randint(0, size, (2, 3), generator=torch.Generator().manual_seed(1))
    check_op(lambda t, i: torch.gather(t, dim, i), x, i)


def test_gather_edges_and_errors():
    check_op(lambda t, i: torch.gather(t, 0, i), make((), torch.float32), index(0))
    check_op(lambda t, i: torch.gather(t, 0, i), make((), torch.float32), index([0, 0]))
    check_op(lambda t, i: torch.gather(t, 1, i), make((3, 4), torch.float32),
             index([[0, 3], [1, 1]], torch.int32))
    check_op(lambda t, i: torch.gather(t, 1, i), make((3, 4), torch.float32), index([[]] * 2))
    check_op(lambda t, i: torch.gather(t, 0, i), make((4, 3), torch.float32).t(),
             index([[2, 0, 1], [2, 2, 2]]))
    x = make((3, 4), torch.float32)
    check_raises(lambda t, i: torch.gather(t, 1, i), x, index([0, 1]))
    check_raises(lambda t, i: torch.gather(t, 0, i), x, torch.zeros(2, 5, dtype=torch.int64))
    check_raises(lambda t, i: torch.gather(t, 0, i), x, torch.zeros(2, 2))
    raises_by_the_next_sync(lambda t, i: torch.gather(t, 1, i), x, index([[4]]))


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
@pytest.mark.parametrize("dim", [0, 1])
def test_scatter(dtype, dim):
    x = make((4, 5), dtype)
    shape = (2, 3) if dim == 1 else (3, 2)
    i = unique_positions(shape, dim, x.shape[dim])
    src = make((4, 4), dtype, seed=1)  # larger than index: only the leading part is read
    check_op(lambda t, i, s: torch.scatter(t, dim, i, s), x, i, src)
    check_op(lambda t, i: t.scatter(dim, i, 2), x, i)  # value overload
    check_op(lambda t, i, s: t.scatter_(dim, i, s), x, i, src)


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
def test_scatter_add(dtype):
    x = make((4, 5), dtype)
    i = torch.randint(0, 4, (6, 5), generator=torch.Generator().manual_seed(2))
    src = make((6, 5), dtype, seed=1)
    check_op(lambda t, i, s: torch.scatter_add(t, 0, i, s), x, i, src)
    check_op(lambda t, i, s: t.scatter_add_(1, i[:4], s[:4]), x, i.clamp(max=3), src)


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("dtype", [torch.float32, torch.int64], ids=str)
def test_scatter_reduce(reduce, include_self, dtype):
    x = make((3, 4), dtype, low=-4, high=5) if dtype == torch.float32 else make((3, 4), dtype)
    i = torch.randint(0, 4, (3, 6), generator=torch.Generator().manual_seed(3))
    src = make((3, 6), dtype, seed=1, low=-2, high=3)
    check_op(lambda t, i, s: t.scatter_reduce(1, i, s, reduce, include_self=include_self), x, i,
             src)


def test_scatter_legacy_reduce_and_edges():
    x = make((3, 4), torch.float32)
    i = torch.randint(0, 3, (2, 4), generator=torch.Generator().manual_seed(4))
    src = make((2, 4), torch.float32, seed=1)
    check_op(lambda t, i, s: t.scatter(0, i, s, reduce="add"), x, i, src)
    check_op(lambda t, i, s: t.scatter(0, i, s, reduce="multiply"), x, i, src)
    check_op(lambda t, i: t.scatter(0, i, 1.5, reduce="add"), x, i)
    check_op(lambda t, i: t.scatter(0, i, 2.5), make((3, 4), torch.int64), i)  # value truncated
    check_op(lambda t, i, s: torch.scatter(t, 0, i, s), make((), torch.float32), index(0),
             make((), torch.float32, seed=1))
    check_op(lambda t, i, s: torch.scatter(t, 0, i, s), x, index([[]]), make((1, 0), torch.float32))
    check_op(lambda t, i, s: t.scatter_(1, i, s), make((4, 3), torch.float32).t(),
             unique_positions((2, 3), 1, 4), make((2, 3), torch.float32, noncontiguous=True))
    check_raises(lambda t, i, s: torch.scatter(t, 0, i, s), x, i, src.double())
    check_raises(lambda t, i, s: torch.scatter(t, 0, i, s), x, i.float(), src)
    check_raises(lambda t, i, s: torch.scatter(t, 0, i, s), x, i, src[:1])
    check_raises(lambda t, i, s: t.scatter(0, i, s, reduce="mean"), x, i, src)
    check_raises(lambda t, i, s: t.scatter_reduce(0, i, s, "maximum"), x, i, src)
    check_op(lambda t, i, s: t.scatter_reduce(0, i, s, "max"), x, i, src)  # undocumented alias


# ---------------------------------------------------------------- embedding

@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=str)
@pytest.mark.parametrize("index_dtype", INDEX_DTYPES, ids=str)
def test_embedding_forward(dtype, index_dtype):
    weight = make((10, 4), dtype)
    indices = index([[1, 9, 1], [0, 4, 9]], index_dtype)
    check_op(lambda w, i: F.embedding(i, w), weight, indices)
    check_op(lambda w, i: F.embedding(i, w), weight, index(3, index_dtype))
    check_op(lambda w, i: F.embedding(i, w), weight, index([], index_dtype))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=str)
@pytest.mark.parametrize("padding_idx,scale", [(None, False), (1, False), (-1, True),
                                               (None, True)])
def test_embedding_backward(dtype, padding_idx, scale):
    torch.manual_seed(0)
    cpu = torch.nn.Embedding(10, 4, padding_idx=padding_idx, scale_grad_by_freq=scale,
                             dtype=dtype)
    dev = copy.deepcopy(cpu).to(DEVICE)
    indices = index([[1, 9, 1, 0], [0, 4, 9, 1]])
    grad = make((2, 4, 4), dtype, seed=1)
    cpu(indices).backward(grad)
    out = dev(indices.to(DEVICE))
    out.backward(grad.to(DEVICE))
    torch.testing.assert_close(out.cpu(), cpu(indices).detach())
    tolerance = {"atol": 2e-2, "rtol": 2e-2} if dtype == torch.bfloat16 else {}
    torch.testing.assert_close(dev.weight.grad.cpu(), cpu.weight.grad, **tolerance)


def test_embedding_dense_backward_direct():
    grad = make((2, 3, 4), torch.float32)
    indices = index([[1, 1, 5], [0, 5, 5]])
    for padding_idx, scale in [(-1, False), (5, True), (0, True)]:
        check_op(lambda g, i: torch.ops.aten.embedding_dense_backward(g, i, 7, padding_idx, scale),
                 grad, indices)


def test_embedding_errors():
    weight = make((10, 4), torch.float32)
    check_raises(lambda w, i: F.embedding(i, w), weight, torch.tensor([1.0]))
    check_raises(lambda w, i: torch.embedding(w, i), make((10,), torch.float32), index([1]))
    raises_by_the_next_sync(lambda w, i: F.embedding(i, w), weight, index([10]))


# ---------------------------------------------------------------- the less common dtypes

@pytest.mark.parametrize("dtype", [torch.float16, torch.uint8, torch.int8, torch.int16,
                                   torch.complex64], ids=str)
def test_other_dtypes(dtype):
    x = make((3, 4), dtype)
    i = index([2, 0, 2])

    def put(t, i, v):
        t[i] = v
        return t

    check_op(lambda a, b: torch.cat([a, b], 1), x, make((3, 2), dtype, seed=1))
    check_op(lambda t: torch.roll(torch.flip(t, [1]), 1, 0), x)
    check_op(lambda t: torch.tril(F.pad(t, (1, 1), value=2)), x)
    check_op(lambda t, i: t[:, i], x, i)
    check_op(put, x, i, make((4,), dtype, seed=2))
    check_op(lambda t, i: torch.gather(t, 0, i), x, index([[2, 0, 1, 1]]))
    check_op(lambda t, i, s: t.index_add(0, i, s), x, i, make((3, 4), dtype, seed=3))
    check_op(lambda t, i, s: t.scatter_add(1, i, s), x, index([[3, 3], [0, 1], [2, 2]]),
             make((3, 2), dtype, seed=4))
