"""fill_, zero_, masked_fill, device-to-device copy_, clone and dtype
conversions against PyTorch on CPU: every dtype, Python numbers and 0-d
tensors as values, writes through views, broadcasting, and the errors CPU
raises."""
import pytest
import torch

from op_testing import ALL_DTYPES, DEVICE, assert_same, check_op, check_raises, make, to_device

NAN = float("nan")
DTYPES = ALL_DTYPES + [torch.float16, torch.uint8, torch.int8, torch.int16]


# ---------------------------------------------------------------- fill_ / zero_

@pytest.mark.parametrize("value", [2, -3.7, True, 0.5], ids=repr)
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_fill_python_numbers(dtype, value):
    if dtype == torch.uint8 and value == -3.7:
        value = 3.7  # negative floats into uint8 are undefined behaviour on CPU
    check_op(lambda x: x.fill_(value), make((3, 4), dtype))


@pytest.mark.parametrize("dtype", [torch.float32, torch.int64, torch.bool, torch.bfloat16], ids=str)
def test_fill_zero_shapes_and_views(dtype):
    check_op(lambda x: x.fill_(1), make((), dtype))
    check_op(lambda x: x.fill_(1), make((0, 3), dtype))
    check_op(lambda x: x[:, 1:3].fill_(1), make((3, 4), dtype))
    check_op(lambda x: x.t().fill_(1), make((3, 4), dtype))
    check_op(lambda x: x[::2].zero_(), make((4, 3), dtype))
    check_op(lambda x: x.zero_(), make((4, 6), dtype, noncontiguous=True))
    check_op(torch.zeros_like, make((2, 3), dtype))
    check_op(lambda x: torch.full_like(x, 7), make((2, 3), dtype))


@pytest.mark.parametrize("value_dtype", [torch.float64, torch.int64, torch.bool, torch.float32],
                         ids=str)
@pytest.mark.parametrize("dtype", [torch.float32, torch.int32, torch.bfloat16, torch.bool], ids=str)
def test_fill_with_0d_tensor(dtype, value_dtype):
    check_op(lambda x, v: x.fill_(v), make((3, 4), dtype), make((), value_dtype, seed=5))
    check_op(lambda x, v: x[1].fill_(v), make((3, 4), dtype), make((), value_dtype, seed=6))


def test_fill_special_values_and_errors():
    check_op(lambda x: x.fill_(NAN), make((3,), torch.float32))
    check_op(lambda x: x.fill_(float("-inf")), make((3,), torch.bfloat16))
    check_op(lambda x: x.fill_(2**40), make((3,), torch.int64))
    check_raises(lambda x, v: x.fill_(v), make((3,), torch.float32), make((1,), torch.float32))
    check_raises(lambda x, v: x.fill_(v), make((3,), torch.float32), make((3,), torch.float32))


@pytest.mark.parametrize("case", [
    ("uint8 fill_", lambda x: x.byte().fill_(300)),
    ("int8 fill_ below", lambda x: x.to(torch.int8).fill_(-129)),
    ("int32 fill_ nan", lambda x: x.int().fill_(float("nan"))),
    ("float16 fill_", lambda x: x.half().fill_(1e6)),
    ("float32 fill_", lambda x: x.fill_(1e300)),
    ("uint8 masked_fill", lambda x: x.byte().masked_fill(x > 0, 256)),
    ("uint8 index_fill", lambda x: x.byte().index_fill(0, torch.tensor([1], device=x.device), 256)),
    ("uint8 clamp", lambda x: x.byte().clamp(0, 300)),
    ("int8 clamp_min", lambda x: x.to(torch.int8).clamp_min(-200)),
], ids=lambda case: case[0])
def test_a_scalar_that_does_not_fit_the_dtype_raises_as_on_cpu(case):
    # CPU converts these ops' Scalars to the tensor's dtype with an overflow
    # check; XLA would wrap the value silently (uint8 fill_(300) gives 44).
    _, fn = case
    error = check_raises(fn, make((4,), torch.float32))
    assert "without overflow" in str(error)


def test_scalars_at_the_edges_of_the_dtype_fit():
    check_op(lambda x: x.byte().fill_(255), make((3,), torch.float32))
    check_op(lambda x: x.to(torch.int8).fill_(-128), make((3,), torch.float32))
    check_op(lambda x: x.bool().fill_(2.5), make((3,), torch.float32))
    check_op(lambda x: x.long().fill_(2**62), make((3,), torch.float32))
    check_op(lambda x: x.byte().clamp(0, 255), make((3,), torch.float32))
    # Negative values wrap into unsigned types, as in C and on CPU.
    check_op(lambda x: x.byte().clamp(-1, 2), make((3,), torch.float32))
    check_op(lambda x: x.byte().index_fill(0, torch.tensor([1], device=x.device), -1),
             make((3,), torch.float32))
    # Float bounds of an integer tensor compute in float: nothing to overflow.
    check_op(lambda x: x.byte().clamp(-1.5, 300.5), make((3,), torch.float32))
    check_op(lambda x: x.int().masked_fill(x > 0, -2**31), make((3,), torch.float32))


# ---------------------------------------------------------------- masked_fill

@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_masked_fill_dtypes(dtype):
    mask = make((3, 4), torch.bool, seed=9)
    check_op(lambda x, m: x.masked_fill(m, 1), make((3, 4), dtype), mask)
    check_op(lambda x, m: x.masked_fill_(m, 0.75), make((3, 4), dtype), mask)
    check_op(lambda x, m: x.masked_fill(m, True), make((3, 4), dtype), mask)


@pytest.mark.parametrize("shapes", [((3, 4), (4,)), ((3, 4), (3, 1)), ((3, 4), ()), ((0, 4), (4,)),
                                    ((), ()), ((4,), (3, 4))], ids=str)
def test_masked_fill_broadcasts_the_mask(shapes):
    x = make(shapes[0], torch.float32)
    mask = make(shapes[1], torch.bool, seed=9)
    check_op(lambda a, m: a.masked_fill(m, -1.0), x, mask)
    if len(shapes[1]) <= len(shapes[0]):
        check_op(lambda a, m: a.masked_fill_(m, -1.0), x, mask)
    else:  # in place the result cannot grow
        check_raises(lambda a, m: a.masked_fill_(m, -1.0), x, mask)


def test_masked_fill_tensor_value_views_and_nan():
    x = make((3, 4), torch.float32)
    mask = make((3, 4), torch.bool, seed=9)
    check_op(lambda a, m, v: a.masked_fill(m, v), x, mask, torch.tensor(2.5))
    check_op(lambda a, m, v: a.masked_fill_(m, v), x, mask, torch.tensor(3, dtype=torch.int64))
    check_op(lambda a, m, v: a.masked_fill(m, v), make((3,), torch.int64), mask[0, :3],
             torch.tensor(2.7))
    check_op(lambda a, m: a[:, 1:3].masked_fill_(m, NAN), x, mask[:, :2])
    check_op(lambda a, m: a.t().masked_fill_(m, 9), x, mask.t())
    check_op(lambda a, m: a.masked_fill_(m, 0), make((4, 6), torch.int32, noncontiguous=True),
             make((4, 6), torch.bool, noncontiguous=True))
    check_op(lambda a, m: torch.masked_fill(a, m, 1), x, mask)


def test_masked_fill_errors():
    x = make((3,), torch.float32)
    check_raises(lambda a, m: a.masked_fill(m, 1), x, torch.tensor([1, 0, 1]))
    check_raises(lambda a, m: a.masked_fill(m, 1), x, torch.tensor([1, 0, 1], dtype=torch.uint8))
    check_raises(lambda a, m, v: a.masked_fill(m, v), x, torch.tensor([True, False, True]),
                 torch.tensor([1.0]))
    check_raises(lambda a, m: a.masked_fill(m, 1), x, torch.tensor([True, False]))


# ---------------------------------------------------------------- copy_

@pytest.mark.parametrize("src_dtype", DTYPES, ids=str)
@pytest.mark.parametrize("dst_dtype", [torch.float32, torch.bfloat16, torch.int64, torch.bool,
                                       torch.float64, torch.int32], ids=str)
def test_copy_between_dtypes(dst_dtype, src_dtype):
    src = make((3, 4), src_dtype, seed=3)
    if src_dtype.is_floating_point and dst_dtype in (torch.int64, torch.int32):
        src = src.trunc()  # float -> int of fractional values agrees anyway, but keep it exact
    check_op(lambda d, s: d.copy_(s), make((3, 4), dst_dtype), src)


def test_copy_broadcast_views_and_noncontiguous():
    check_op(lambda d, s: d.copy_(s), make((3, 4), torch.float32), make((4,), torch.float32, seed=1))
    check_op(lambda d, s: d.copy_(s), make((3, 4), torch.float32), make((), torch.int64, seed=1))
    check_op(lambda d, s: d[:, 1:3].copy_(s), make((3, 4), torch.float32), make((3, 2), torch.float64))
    check_op(lambda d, s: d.t().copy_(s), make((3, 4), torch.int32), make((4, 3), torch.int32, seed=1))
    check_op(lambda d, s: d.copy_(s), make((4, 3), torch.float32),
             make((3, 4), torch.float32, seed=1).t())
    check_op(lambda d, s: d.copy_(s), make((4, 6), torch.float32, noncontiguous=True),
             make((4, 6), torch.bfloat16, seed=2, noncontiguous=True))
    check_op(lambda d, s: d.copy_(s), make((0, 3), torch.float32), make((0, 3), torch.int64))
    check_op(lambda d, s: d.copy_(s), make((), torch.float32), make((), torch.float32, seed=1))
    check_op(lambda d, s: d.copy_(s), make((3,), torch.float32),
             torch.tensor([1.0, NAN, float("inf")]))


def test_copy_from_complex_and_errors():
    import warnings
    z = torch.tensor([1 + 2j, 0j, 0.5j])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Casting complex values to real discards..."
        check_op(lambda d, s: d.copy_(s), make((3,), torch.float32), z)
        check_op(lambda d, s: d.copy_(s), make((3,), torch.bool), z)
    check_raises(lambda d, s: d.copy_(s), make((3,), torch.float32), make((4,), torch.float32))
    check_raises(lambda d, s: d.copy_(s), make((3,), torch.float32), make((2, 3), torch.float32))


# ---------------------------------------------------------------- clone / to

@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_clone(dtype):
    x = make((3, 4), dtype)
    check_op(torch.clone, x)
    out = check_op(lambda a: a.t().clone(), x)
    assert out.is_contiguous() or out.stride() == x.t().clone().stride()
    check_op(lambda a: a.clone(memory_format=torch.contiguous_format), x.t())
    check_op(torch.clone, make((0,), dtype))
    check_op(torch.clone, make((), dtype))
    # A clone is a new storage: writing to it leaves the source alone.
    dev = to_device(x)
    c = dev.clone()
    c.zero_()
    assert_same(dev, x)


@pytest.mark.parametrize("dst", DTYPES + [torch.complex64], ids=str)
@pytest.mark.parametrize("src", [torch.float32, torch.bfloat16, torch.int64, torch.bool], ids=str)
def test_to_dtype_on_device(src, dst):
    x = make((3, 4), src)
    if src.is_floating_point and not (dst.is_floating_point or dst.is_complex):
        x = x.trunc()
    check_op(lambda a: a.to(dst), x)
    check_op(lambda a: a.to(dtype=dst, copy=True), x.t())
    check_op(lambda a: a.type(dst), x)


def test_to_same_dtype_and_detach():
    x = make((3, 4), torch.float32)
    dev = to_device(x)
    assert dev.to(torch.float32) is dev
    y = dev.to(torch.float32, copy=True)
    y.fill_(0)
    assert_same(dev, x)
    check_op(lambda a: a.detach().clone(), x)
    check_op(lambda a: a.double().float(), x)
    check_op(lambda a: a.half().float(), x)
    check_op(lambda a: a.bool().int(), x)


# ---------------------------------------------------------------- full / zeros / ones / empty

@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_constant_factories(dtype):
    for fn in (lambda device: torch.zeros(2, 3, dtype=dtype, device=device),
               lambda device: torch.ones((4,), dtype=dtype, device=device),
               lambda device: torch.full((2, 2), 3, dtype=dtype, device=device),
               lambda device: torch.full((), True, dtype=dtype, device=device),
               lambda device: torch.zeros(0, 3, dtype=dtype, device=device)):
        assert_same(fn(DEVICE), fn("cpu"))
    e = torch.empty(2, 3, dtype=dtype, device=DEVICE)
    assert e.shape == (2, 3) and e.dtype == dtype and e.device.type == DEVICE


def test_full_infers_dtype():
    for value in (2, 2.5, True, NAN):
        assert_same(torch.full((3,), value, device=DEVICE), torch.full((3,), value))
    assert_same(torch.ones(2, 3, device=DEVICE).new_full((2,), 4), torch.ones(2, 3).new_full((2,), 4))
    assert_same(torch.zeros(2, device=DEVICE).new_zeros(3, dtype=torch.int32),
                torch.zeros(2).new_zeros(3, dtype=torch.int32))
    x = make((2, 3), torch.bfloat16)
    assert_same(torch.ones_like(to_device(x)), torch.ones_like(x))
    assert_same(torch.full_like(to_device(x), 2.5, dtype=torch.float64),
                torch.full_like(x, 2.5, dtype=torch.float64))
