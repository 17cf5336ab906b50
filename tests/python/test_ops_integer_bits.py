"""Integer ops on bits against PyTorch on CPU: gcd and lcm (signs, zeros, the most
negative value, wrap-around of narrow types), bitwise shifts (counts past the bit
width and negative counts, Scalar forms, operators), tril_indices/triu_indices,
hash_tensor (bit-exact), clamp_min/clamp_max with bool tensors and
native_dropout_backward's result dtype."""
import pytest
import torch

from op_testing import check, check_op, check_raises, make

INTS = [torch.int64, torch.int32, torch.int8, torch.uint8]
EXTREMES = {torch.int64: (-2**63, 2**63 - 1), torch.int32: (-2**31, 2**31 - 1), torch.int8: (-128, 127),
            torch.uint8: (0, 255)}


def with_extremes(dtype, n=12, seed=0):
    low, high = EXTREMES[dtype]
    x = make((n,), dtype, low=max(low, -40), high=min(high, 40), seed=seed)
    x[0], x[1], x[2] = low, high, 0
    return x


@pytest.mark.parametrize("dtype", INTS, ids=str)
@pytest.mark.parametrize("op", [torch.gcd, torch.lcm], ids=["gcd", "lcm"])
def test_gcd_lcm(op, dtype):
    a = with_extremes(dtype)
    b = torch.cat([with_extremes(dtype, seed=1)[:6], a[:6]])
    check_op(op, a, b)
    check_op(op, a.reshape(3, 4), b[:4])  # broadcast
    check_op(op, make((3, 4), dtype, seed=2, noncontiguous=True), make((3, 4), dtype, seed=3))
    check_op(op, torch.tensor(12, dtype=dtype), torch.tensor(18, dtype=dtype))
    check_op(op, torch.empty(0, dtype=dtype), torch.empty(0, dtype=dtype))
    check_op(lambda x, y: getattr(x, op.__name__ + "_")(y), a.clone(), b)
    check_op(lambda x, y, o: op(x, y, out=o), a, b, torch.empty(12, dtype=dtype))


def test_gcd_lcm_mixed_dtypes_and_errors():
    check_op(torch.gcd, make((5,), torch.int8, seed=4), make((5,), torch.int64, seed=5))
    check_op(torch.lcm, torch.tensor([100, -100], dtype=torch.int8), torch.tensor([99, 99], dtype=torch.int8))
    for x in (torch.ones(3), torch.ones(3, dtype=torch.bool)):
        error = check_raises(torch.gcd, x, x)
        assert "gcd_cpu" in str(error)
        assert "lcm_cpu" in str(check_raises(torch.lcm, x, x))


@pytest.mark.parametrize("dtype", INTS, ids=str)
@pytest.mark.parametrize("op", [torch.bitwise_left_shift, torch.bitwise_right_shift], ids=["left", "right"])
def test_shifts(op, dtype):
    bits = torch.iinfo(dtype).bits
    x = with_extremes(dtype, n=16)
    counts = torch.tensor([0, 1, 3, bits - 1, bits, bits + 1, 2 * bits, 100, 5, 2, 7, 1, 0, 4, 6, 3])
    if dtype.is_signed:
        counts[-4:] = torch.tensor([-1, -2, -100, -bits])
    counts = counts.clamp(*EXTREMES[dtype]).to(dtype)
    check_op(op, x, counts)
    check_op(op, x.reshape(4, 4), counts[:4])
    check_op(op, make((3, 4), dtype, seed=2, noncontiguous=True), counts[:4])
    check_op(op, x, 3)  # Tensor_Scalar
    check_op(op, 5, counts)  # Scalar_Tensor
    check_op(op, torch.tensor(-7 if dtype.is_signed else 7, dtype=dtype), torch.tensor(2, dtype=dtype))
    check_op(op, torch.empty(0, 3, dtype=dtype), torch.empty(0, 3, dtype=dtype))
    check_op(lambda a, b, o: op(a, b, out=o), x, counts, torch.empty(16, dtype=dtype))
    name = "bitwise_left_shift_" if op is torch.bitwise_left_shift else "bitwise_right_shift_"
    check_op(lambda a, b: getattr(a, name)(b), x.clone(), counts)


def test_shift_operators_promotion_and_errors():
    x = make((6,), torch.int32, seed=6)
    check_op(lambda a: a << 3, x)
    check_op(lambda a: a >> 2, x)
    check_op(lambda a, b: a << b, make((6,), torch.int8, seed=7), torch.tensor([1, 2, 9, 0, 3, 1]))
    check_op(lambda a, b: a >> b, make((6,), torch.int8, seed=7), torch.tensor([1, 2, 9, 0, 3, 1]))
    for op, kernel in ((torch.bitwise_left_shift, "lshift_cpu"), (torch.bitwise_right_shift, "rshift_cpu")):
        assert kernel in str(check_raises(op, torch.ones(3), torch.ones(3)))
        assert kernel in str(check_raises(op, torch.ones(3, dtype=torch.bool), torch.ones(3, dtype=torch.bool)))
        assert kernel in str(check_raises(op, torch.ones(3, dtype=torch.int64), 1.5))


@pytest.mark.parametrize("dtype", [torch.int64, torch.int32])
@pytest.mark.parametrize("op", [torch.tril_indices, torch.triu_indices], ids=["tril", "triu"])
def test_triangle_indices(op, dtype):
    for row, col, offset in ((3, 4, 0), (4, 3, 1), (5, 5, -2), (1, 6, 3), (6, 2, -7), (3, 4, 9),
                             (0, 3, 0), (3, 0, 0), (7, 9, -3)):
        expected = op(row, col, offset, dtype=dtype)
        actual = op(row, col, offset, dtype=dtype, device="tpu")
        assert actual.device.type == "tpu" and actual.dtype == dtype
        torch.testing.assert_close(actual.cpu(), expected)


def test_triangle_indices_errors():
    for op in (torch.tril_indices, torch.triu_indices):
        for args, kwargs, error in (((-1, 3), {}, RuntimeError), ((3, -2), {}, RuntimeError),
                                    ((3, 3), {"dtype": torch.float32}, NotImplementedError),
                                    ((3, 3), {"dtype": torch.int8}, NotImplementedError)):
            with pytest.raises(error) as cpu:
                op(*args, **kwargs)
            with pytest.raises(error) as dev:
                op(*args, **kwargs, device="tpu")
            assert str(cpu.value).splitlines()[0] in str(dev.value)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16, torch.float16, torch.int64,
                                   torch.int32, torch.int8, torch.uint8, torch.bool], ids=str)
def test_hash_tensor(dtype):
    x = make((3, 4, 5), dtype, seed=8)
    if dtype.is_floating_point:
        x[0, 0, :3] = torch.tensor([float("nan"), -0.0, float("inf")])
    check_op(torch.hash_tensor, x)
    check_op(lambda t: torch.hash_tensor(t, dim=1), x)
    check_op(lambda t: torch.hash_tensor(t, dim=(0, -1), keepdim=True), x)
    check_op(lambda t: torch.hash_tensor(t, dim=2), make((3, 4), dtype, seed=9, noncontiguous=True).unsqueeze(-1))
    check_op(torch.hash_tensor, x[0, 0, 0])
    check_op(lambda t: torch.hash_tensor(t, dim=0), torch.empty(2, 0, dtype=dtype))


def test_hash_tensor_errors():
    check_raises(torch.hash_tensor, torch.empty(0, 3))
    check_raises(lambda t: torch.hash_tensor(t, dim=0), torch.empty(0, 3))
    check_raises(lambda t: torch.hash_tensor(t, dim=(0, 0)), torch.ones(3, 2))
    check_raises(lambda t: torch.hash_tensor(t, mode=1), torch.ones(3))
    check_raises(torch.hash_tensor, torch.ones(3, dtype=torch.complex64))


def test_clamp_min_max_bool_tensors():
    a, b = make((4, 5), torch.bool, seed=10), make((5,), torch.bool, seed=11)
    check_op(torch.clamp_min, a, b)
    check_op(torch.clamp_max, a, b)
    check_op(lambda x, y: x.clamp_min_(y), a.clone(), b)
    check_op(lambda x, y, o: torch.clamp_max(x, y, out=o), a, b, torch.empty(4, 5, dtype=torch.bool))
    check_op(torch.clamp_min, a, make((4, 5), torch.int64, seed=12))  # promotes to int64
    for op in (torch.clamp_min, torch.clamp_max):
        check(op, a, True)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16, torch.int64, torch.int32,
                                   torch.int8, torch.uint8, torch.bool], ids=str)
def test_native_dropout_backward_dtype(dtype):
    grad = make((4, 6), dtype, seed=13)
    mask = make((4, 6), torch.bool, seed=14)
    for scale in (1 / 0.7, 2.0, 0.0):
        check_op(torch.ops.aten.native_dropout_backward, grad, mask, scale)
