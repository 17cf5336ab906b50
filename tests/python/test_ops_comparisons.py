"""Comparisons, logical and bitwise ops, where, clamp, maximum/minimum, the
floating-point predicates and torch.equal against PyTorch on CPU: promotion
with Python numbers and 0-d tensors, broadcasting, NaN, in-place forms (through
views too), out= and the errors CPU raises."""
import pytest
import torch

from op_testing import ALL_DTYPES, DEVICE, FLOAT_DTYPES, INT_DTYPES, check, check_op, check_raises, make

NAN = float("nan")
INF = float("inf")


def with_ties(shape, dtype, seed):
    """Operands drawn from few values, so equal elements are common."""
    if dtype == torch.bool:
        return make(shape, dtype, seed=seed)
    return make(shape, torch.int64, low=-2, high=3, seed=seed).to(dtype)


def special_floats(dtype):
    return torch.tensor([0.0, -0.0, 1.5, -2.0, INF, -INF, NAN, 3.0], dtype=dtype)


# ---------------------------------------------------------------- comparisons

COMPARISONS = {
    "eq": torch.eq, "ne": torch.ne, "lt": torch.lt, "le": torch.le, "gt": torch.gt, "ge": torch.ge,
}


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
@pytest.mark.parametrize("name", list(COMPARISONS))
def test_compare_same_dtype(name, dtype):
    check_op(COMPARISONS[name], with_ties((3, 4), dtype, 1), with_ties((3, 4), dtype, 2))


@pytest.mark.parametrize("name", list(COMPARISONS))
def test_compare_nan_and_infinities(name):
    x = special_floats(torch.float32)
    check_op(COMPARISONS[name], x, x.flip(0))
    check_op(COMPARISONS[name], x, NAN)
    check_op(COMPARISONS[name], x, INF)


@pytest.mark.parametrize("other", [2, 2.5, True, -1, 300], ids=repr)
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.int32, torch.uint8,
                                   torch.bool], ids=str)
@pytest.mark.parametrize("name", ["eq", "lt", "ge"])
def test_compare_python_numbers(name, dtype, other):
    # Integer numbers convert into the tensor's dtype (300 wraps in uint8, as on CPU).
    x = with_ties((5,), dtype, 3) if dtype != torch.uint8 else torch.tensor([0, 2, 44, 255, 3],
                                                                            dtype=torch.uint8)
    check(COMPARISONS[name], x, other)
    check(lambda a: getattr(a, name)(other), x)


@pytest.mark.parametrize("dtypes", [
    (torch.int32, torch.float32), (torch.bool, torch.int64), (torch.bfloat16, torch.float64),
    (torch.uint8, torch.int8), (torch.float16, torch.bfloat16), (torch.int64, torch.bool),
], ids=str)
@pytest.mark.parametrize("name", ["eq", "lt", "ge"])
def test_compare_mixed_dtypes(name, dtypes):
    check_op(COMPARISONS[name], with_ties((2, 3), dtypes[0], 4), with_ties((2, 3), dtypes[1], 5))


@pytest.mark.parametrize("shapes", [
    ((2, 3, 4), (3, 1)), ((), (2, 3)), ((2, 3), ()), ((0, 3), (3,)), ((), ()), ((4, 1, 2), (1, 5, 1)),
], ids=str)
def test_compare_broadcast_and_0d(shapes):
    check_op(torch.lt, with_ties(shapes[0], torch.float32, 1), with_ties(shapes[1], torch.float32, 2))
    # A 0-d tensor of a higher category still promotes.
    check_op(torch.eq, with_ties(shapes[0], torch.int64, 1), torch.tensor(1.0))


def test_compare_noncontiguous():
    x = make((4, 6), torch.float32, noncontiguous=True)
    y = make((6, 4), torch.float32, seed=1).t()
    check_op(torch.le, x, y)
    check_op(torch.gt, x, y[:, :1].expand(4, 6))


def test_compare_in_place_and_out():
    x = with_ties((3, 4), torch.float32, 1)
    y = with_ties((3, 4), torch.float32, 2)
    check_op(lambda a, b: a.lt_(b), x, y)
    check_op(lambda a, b: a[:, 1:3].eq_(b[:, :2]), x, y)
    check_op(lambda a, b, o: torch.ge(a, b, out=o), x, y, torch.empty(3, 4, dtype=torch.bool))
    check_op(lambda a, b, o: torch.ne(a, b, out=o), x, y, torch.empty(3, 4, dtype=torch.float32))
    check_raises(lambda a, b: a.lt_(b), x[:1], y)


def test_compare_complex_ordering_raises():
    z = torch.tensor([1 + 1j, 2 - 1j])
    check_op(torch.eq, z, z.conj())
    check_raises(torch.lt, z, z)


def test_compare_shape_mismatch_raises():
    check_raises(torch.eq, make((3,), torch.float32), make((4,), torch.float32))


# ---------------------------------------------------------------- logical / bitwise

LOGICAL = {"logical_and": torch.logical_and, "logical_or": torch.logical_or,
           "logical_xor": torch.logical_xor}


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
@pytest.mark.parametrize("name", list(LOGICAL))
def test_logical_binary(name, dtype):
    x = with_ties((3, 4), dtype, 1)
    check_op(LOGICAL[name], x, with_ties((4,), dtype, 2))
    check_op(LOGICAL[name], x, with_ties((), torch.float32, 3))


@pytest.mark.parametrize("name", list(LOGICAL))
def test_logical_nan_in_place_out(name):
    x = special_floats(torch.float32)
    y = torch.tensor([1, 0, 0, 2, 0, 1, 0, 0], dtype=torch.int32)
    check_op(LOGICAL[name], x, y)
    check_op(lambda a, b: getattr(a, name + "_")(b), x, y)  # result written back as 1.0 / 0.0
    check_op(lambda a, b, o: LOGICAL[name](a, b, out=o), x, y, torch.empty(8, dtype=torch.int64))
    check_op(lambda a, b: getattr(a[2:6], name + "_")(b[:4]), y, x)


@pytest.mark.parametrize("dtype", ALL_DTYPES + [torch.complex64], ids=str)
def test_logical_not(dtype):
    x = special_floats(torch.float32).to(dtype) if dtype.is_floating_point or dtype.is_complex \
        else with_ties((3, 4), dtype, 1)
    check_op(torch.logical_not, x)
    check_op(lambda a: a.logical_not_(), x)
    check_op(torch.logical_not, torch.tensor(0.0, dtype=torch.float32))
    check_op(torch.logical_not, make((0, 2), torch.float32))


BITWISE = {"and": torch.bitwise_and, "or": torch.bitwise_or, "xor": torch.bitwise_xor,
           "op_and": lambda a, b: a & b, "op_or": lambda a, b: a | b, "op_xor": lambda a, b: a ^ b}


@pytest.mark.parametrize("dtype", [torch.int64, torch.int32, torch.uint8, torch.int8, torch.bool,
                                   torch.float32], ids=str)
@pytest.mark.parametrize("name", list(BITWISE))
def test_bitwise_binary(name, dtype):
    x = make((3, 4), dtype, seed=1)
    check(BITWISE[name], x, make((4,), dtype, seed=2))
    check(BITWISE[name], x, 6)
    check(BITWISE[name], x, True)


@pytest.mark.parametrize("name", ["and", "or", "xor"])
def test_bitwise_mixed_in_place_out(name):
    fn = BITWISE[name]
    a = make((2, 3), torch.int32, seed=1)
    b = make((2, 3), torch.int64, seed=2)
    check_op(fn, a, b)
    check_op(fn, make((2, 3), torch.bool), b)
    check_op(lambda x, y: getattr(x, f"bitwise_{name}_")(y), b, a)
    check_op(lambda x, y: getattr(x[:, 1:], f"bitwise_{name}_")(y[:, :2]), b, a)
    check_op(lambda x, y, o: fn(x, y, out=o), a, b, torch.empty(2, 3, dtype=torch.int64))
    check_raises(lambda x, y: getattr(x, f"bitwise_{name}_")(y), a, 2.5)
    check_raises(fn, make((2,), torch.float32), make((2,), torch.float32))


@pytest.mark.parametrize("dtype", [torch.int64, torch.int32, torch.uint8, torch.bool, torch.float32],
                         ids=str)
def test_bitwise_not(dtype):
    x = make((3, 4), dtype)
    check(torch.bitwise_not, x)
    check(lambda a: ~a, x)
    check(lambda a: a[:, ::2].bitwise_not_(), x)


# ---------------------------------------------------------------- where

@pytest.mark.parametrize("dtypes", [
    (torch.float32, torch.float32), (torch.int32, torch.float32), (torch.bool, torch.int64),
    (torch.bfloat16, torch.float64), (torch.int64, torch.int64), (torch.bool, torch.bool),
], ids=str)
def test_where_dtypes(dtypes):
    cond = make((3, 4), torch.bool, seed=7)
    check_op(torch.where, cond, make((3, 4), dtypes[0], seed=1), make((3, 4), dtypes[1], seed=2))


@pytest.mark.parametrize("shapes", [((3, 1), (4,), (3, 4)), ((), (2, 3), ()), ((0, 3), (3,), (1,)),
                                    ((2, 1, 3), (4, 1), ())], ids=str)
def test_where_broadcast(shapes):
    check_op(torch.where, make(shapes[0], torch.bool, seed=7), make(shapes[1], torch.float32, seed=1),
             make(shapes[2], torch.float32, seed=2))


def test_where_scalars_and_nan():
    cond = make((5,), torch.bool, seed=3)
    x = special_floats(torch.float32)[:5]
    check_op(torch.where, cond, x, 2.5)
    check_op(torch.where, cond, 1.5, x)
    check_op(torch.where, cond, make((5,), torch.int32), 2)
    check_op(torch.where, cond, make((5,), torch.int32), 2.5)
    check_op(lambda c, a: a.where(c, NAN), cond, x)
    check_op(lambda c, a, o: torch.where(c, a, torch.tensor(0.0), out=o), cond, x, torch.empty(5))
    check_op(torch.where, make((4, 6), torch.bool, noncontiguous=True),
             make((6, 4), torch.float32).t(), make((4, 6), torch.float32, noncontiguous=True))


def test_where_condition_must_be_bool():
    x = make((3,), torch.float32)
    check_raises(torch.where, torch.tensor([1, 0, 1]), x, x)
    check_raises(torch.where, torch.tensor([1.0, 0.0, 1.0]), x, x)
    check_raises(torch.where, torch.tensor([True, False]), x, x)
    # uint8 is deprecated but still accepted.
    with pytest.warns(UserWarning) if DEVICE == "cpu" else _maybe_warns():
        check_op(torch.where, torch.tensor([1, 0, 2], dtype=torch.uint8), x, -x)


class _maybe_warns:
    """The deprecation warning comes from CPU's kernel; ours may stay silent."""

    def __enter__(self):
        import warnings
        self._catch = warnings.catch_warnings()
        self._catch.__enter__()
        warnings.simplefilter("ignore")

    def __exit__(self, *exc):
        return self._catch.__exit__(*exc)


# ---------------------------------------------------------------- clamp

@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float64, torch.int64,
                                   torch.int32, torch.uint8], ids=str)
def test_clamp_scalar_bounds(dtype):
    x = make((3, 4), dtype, low=0 if dtype == torch.uint8 else None, high=20 if dtype == torch.uint8 else None)
    check_op(torch.clamp, x, -1, 2)
    check_op(torch.clamp, x, min=1)
    check_op(torch.clamp, x, max=0)
    check_op(torch.clamp, x, 2, -1)  # min > max gives max
    check_op(torch.clamp, x, -1.5, 2.5)  # integer tensors with float bounds compute in float
    check_op(torch.clamp_min, x, 0.5)
    check_op(torch.clamp_max, x, 1)
    check_op(lambda a: a.clamp_(-1, 1), x)
    check_op(lambda a: a[1:, ::2].clamp_(min=0), x)


def test_clamp_nan():
    x = special_floats(torch.float32)
    check_op(torch.clamp, x, -1, 1)
    check_op(torch.clamp, x, NAN, 1)
    check_op(torch.clamp, x, -1, NAN)
    check_op(torch.clamp, x, min=torch.tensor([NAN, 0, 0, 0, 0, 0, 0, 0]),
             max=torch.tensor([1, 1, 1, 1, NAN, 1, 1, 1.0]))
    check_op(torch.clamp_min, x, torch.tensor(NAN))
    check_op(torch.clamp_max, x, NAN)


@pytest.mark.parametrize("dtypes", [
    (torch.float32, torch.float32, torch.float32), (torch.int32, torch.int64, torch.int64),
    (torch.int64, torch.float32, None), (torch.bfloat16, torch.float64, torch.float32),
    (torch.float32, None, torch.int32), (torch.bool, torch.int64, None),
], ids=str)
def test_clamp_tensor_bounds(dtypes):
    x = make((3, 4), dtypes[0], seed=1)
    lo = None if dtypes[1] is None else make((4,), dtypes[1], seed=2, low=-5, high=0)
    hi = None if dtypes[2] is None else make((3, 1), dtypes[2], seed=3, low=0, high=5)
    check(torch.clamp, x, lo, hi)
    check(torch.clamp, x, min=torch.tensor(1) if lo is None else lo[0])


def test_clamp_broadcasts_bounds_and_out():
    x = make((4,), torch.float32)
    check_op(torch.clamp, x, torch.zeros(2, 4), None)
    check_op(lambda a, o: torch.clamp(a, -1, 1, out=o), x, torch.empty(4))
    check_op(torch.clamp, make((), torch.float32), -0.5, 0.5)
    check_op(torch.clamp, make((0, 3), torch.int64), -1, 1)
    check_op(torch.clamp, make((4, 6), torch.float32, noncontiguous=True), -1, 1)


def test_clamp_errors():
    x = make((3,), torch.int32)
    check_raises(torch.clamp, make((3,), torch.float32))
    check_raises(lambda a: a.clamp_(0.5), x)  # float result into an int tensor
    check_raises(lambda a: a.clamp_(torch.tensor(0.5)), x)
    check_raises(torch.clamp, torch.tensor([1 + 1j]), 0, 1)
    check_raises(torch.clamp, torch.tensor([True, False]), True)
    check_raises(torch.clamp, make((3,), torch.float32), make((4,), torch.float32))


# ---------------------------------------------------------------- maximum / minimum

@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
@pytest.mark.parametrize("fn", [torch.maximum, torch.minimum, torch.max],
                         ids=["maximum", "minimum", "max_binary"])
def test_maximum_minimum(fn, dtype):
    check_op(fn, with_ties((3, 4), dtype, 1), with_ties((4,), dtype, 2))


@pytest.mark.parametrize("fn", [torch.maximum, torch.minimum], ids=["maximum", "minimum"])
def test_maximum_minimum_nan_mixed_out(fn):
    x = special_floats(torch.float32)
    check_op(fn, x, x.flip(0))
    check_op(fn, x.flip(0), x)
    check_op(fn, make((3,), torch.int64), torch.tensor(0.5))
    check_op(fn, make((3,), torch.int32), make((3,), torch.bfloat16))
    check_op(lambda a, b, o: fn(a, b, out=o), x, x.flip(0), torch.empty(8, dtype=torch.float64))
    check_op(fn, make((), torch.float32), make((0, 2), torch.float32))
    check_raises(fn, torch.tensor([1 + 1j]), torch.tensor([1j]))
    check_raises(fn, make((3,), torch.float32), make((2,), torch.float32))


# ---------------------------------------------------------------- predicates

PREDICATES = {"isnan": torch.isnan, "isinf": torch.isinf, "isposinf": torch.isposinf,
              "isneginf": torch.isneginf, "isfinite": torch.isfinite, "signbit": torch.signbit}


@pytest.mark.parametrize("dtype", FLOAT_DTYPES + [torch.float16], ids=str)
@pytest.mark.parametrize("name", list(PREDICATES))
def test_predicates_floats(name, dtype):
    x = special_floats(dtype)
    check_op(PREDICATES[name], x)
    check_op(PREDICATES[name], -x)
    check_op(PREDICATES[name], x.reshape(2, 4).t())
    check_op(PREDICATES[name], x[0])
    if name in ("isposinf", "isneginf", "signbit"):  # the others have no out= form
        check_op(lambda a, o: PREDICATES[name](a, out=o), x, torch.empty(8, dtype=torch.bool))


@pytest.mark.parametrize("dtype", INT_DTYPES + [torch.uint8, torch.bool], ids=str)
@pytest.mark.parametrize("name", list(PREDICATES))
def test_predicates_integers(name, dtype):
    check_op(PREDICATES[name], make((3, 4), dtype))
    check_op(PREDICATES[name], make((0,), dtype))


# isinf and isfinite of complex decompose in PyTorch through view_as_real before
# reaching the device's kernels; isposinf, isneginf and signbit reject complex.
@pytest.mark.parametrize("name", ["isnan", "isposinf", "isneginf", "signbit"])
def test_predicates_complex(name):
    z = torch.complex(special_floats(torch.float32), special_floats(torch.float32).flip(0))
    check(PREDICATES[name], z)


# ---------------------------------------------------------------- torch.equal

def test_equal():
    x = make((3, 4), torch.float32)
    dev = lambda t: t.to(DEVICE)  # noqa: E731
    assert torch.equal(dev(x), dev(x.clone()))
    assert not torch.equal(dev(x), dev(x + 1))
    assert not torch.equal(dev(x), dev(x[:2]))  # different shapes: False, no error
    assert not torch.equal(dev(x), dev(x.reshape(4, 3)))
    assert torch.equal(dev(torch.empty(0, 3)), dev(torch.empty(0, 3)))
    assert torch.equal(dev(torch.tensor(2.0)), dev(torch.tensor(2.0)))
    nan = torch.tensor([1.0, NAN])
    assert torch.equal(dev(nan), dev(nan)) == torch.equal(nan, nan)
    y = make((4, 6), torch.int64, noncontiguous=True)
    assert torch.equal(dev(y), dev(y.contiguous()))
    assert torch.equal(dev(y.t()), dev(y.t().contiguous()))
    b = make((5,), torch.bool)
    assert torch.equal(dev(b), dev(b.clone()))
    assert torch.equal(dev(x.bfloat16()), dev(x.bfloat16()))
    assert torch.equal(dev(x), dev(x.double())) == torch.equal(x, x.double())


# ---------------------------------------------------------------- isin


@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("invert", [False, True])
def test_isin(dtype, invert):
    elements = with_ties((3, 4), dtype, seed=1)
    tests = with_ties((5,), dtype, seed=2)
    check(torch.isin, elements, tests, invert=invert)
    check(torch.isin, elements.t(), tests.reshape(1, 5), invert=invert)  # non-contiguous, 2-d tests


def test_isin_edges():
    x = make((2, 3), torch.float32, seed=3)
    check(torch.isin, x, special_floats(torch.float32))  # NaN is never found
    check(torch.isin, x, torch.empty(0))  # nothing to find
    check(torch.isin, torch.empty(0, 3), x)
    check(torch.isin, torch.tensor(2), torch.tensor([1, 2]))  # 0-d elements
    check(torch.isin, x, 0.5)  # a Python number as the test element
    check(torch.isin, 2, torch.tensor([1, 2, 3]))  # a Python number as the element
    check(torch.isin, with_ties((4,), torch.int64, 4), torch.tensor([1.0, -1.5]))  # promotion
    out = torch.empty(2, 3, dtype=torch.bool)
    check(lambda a, b, out: torch.isin(a, b, out=out), x, x[0], out)
