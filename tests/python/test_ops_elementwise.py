"""Elementwise arithmetic and math against PyTorch on CPU: type promotion with
Python numbers and 0-d tensors, broadcasting, exact integer division and
remainders, in-place forms (through views too), out= and the errors CPU raises."""
import math

import pytest
import torch

from op_testing import (ALL_DTYPES, DEVICE, FLOAT_DTYPES, INT_DTYPES, NUMERIC_DTYPES, assert_same,
                        check, check_op, check_raises, make, to_device)


def nonzero(t):
    """t with zeros replaced by a nonzero value of its dtype (integer division)."""
    t = t.clone()
    t[t == 0] = 3
    return t


# ---------------------------------------------------------------- binary ops

BINARY_OPS = {
    "add": torch.add,
    "sub": torch.sub,
    "mul": torch.mul,
    "div": torch.div,
    "div_trunc": lambda x, y: torch.div(x, y, rounding_mode="trunc"),
    "div_floor": lambda x, y: torch.div(x, y, rounding_mode="floor"),
    "floor_divide": torch.floor_divide,
    "true_divide": torch.true_divide,
    "remainder": torch.remainder,
    "fmod": torch.fmod,
    "rsub": torch.rsub,
    "add_alpha": lambda x, y: torch.add(x, y, alpha=2),
    "sub_alpha": lambda x, y: torch.sub(x, y, alpha=3),
}
DIVIDING = {"div", "div_trunc", "div_floor", "floor_divide", "true_divide", "remainder", "fmod"}


def operand_pair(name, dtype, shape_x=(3, 4), shape_y=(3, 4)):
    x = make(shape_x, dtype, seed=1)
    y = make(shape_y, dtype, seed=2)
    if name in DIVIDING and not dtype.is_floating_point:
        y = nonzero(y)  # integer division by zero raises on CPU only
    return x, y


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
@pytest.mark.parametrize("name", list(BINARY_OPS))
def test_binary_same_dtype(name, dtype):
    check(BINARY_OPS[name], *operand_pair(name, dtype))


@pytest.mark.parametrize("dtypes", [
    (torch.float32, torch.bfloat16), (torch.int32, torch.float32), (torch.bool, torch.int64),
    (torch.int32, torch.int64), (torch.bfloat16, torch.float64), (torch.uint8, torch.int8),
    (torch.float16, torch.bfloat16), (torch.int16, torch.bool),
], ids=str)
@pytest.mark.parametrize("name", ["add", "mul", "div", "div_floor", "remainder", "sub_alpha"])
def test_binary_mixed_dtypes(name, dtypes):
    x = make((2, 3), dtypes[0], seed=1, low=1 if dtypes[0] == torch.uint8 else None)
    y = make((2, 3), dtypes[1], seed=2, low=1 if dtypes[1] == torch.uint8 else None)
    if name in DIVIDING and not y.dtype.is_floating_point:
        y = nonzero(y)
    check(BINARY_OPS[name], x, y)


@pytest.mark.parametrize("shapes", [
    ((2, 3, 4), (3, 1)), ((), (2, 3)), ((2, 3), ()), ((0, 3), (3,)), ((1, 0), (4, 1)), ((), ()),
    ((4, 1, 2), (1, 5, 1)),
], ids=str)
@pytest.mark.parametrize("name", ["add", "mul", "div_floor", "remainder", "pow"])
def test_binary_broadcast(name, shapes):
    fn = BINARY_OPS.get(name, torch.pow)
    x = make(shapes[0], torch.float32, seed=1, low=0.5)
    y = make(shapes[1], torch.float32, seed=2)
    check_op(fn, x, y)


def test_zero_dim_tensor_does_not_promote_a_dimensioned_one():
    check_op(torch.add, make((3,), torch.float32), torch.tensor(2.5, dtype=torch.float64))
    check_op(torch.mul, make((3,), torch.int32), torch.tensor(7, dtype=torch.int64))
    check_op(torch.mul, make((3,), torch.int32), torch.tensor(1.5, dtype=torch.float64))
    check_op(torch.add, make((3,), torch.bfloat16), torch.tensor(1.5, dtype=torch.float32))
    check_op(torch.add, torch.tensor(3, dtype=torch.int64), torch.tensor(0.5, dtype=torch.bfloat16))


@pytest.mark.parametrize("number", [2, -3, 2.5, True, False], ids=repr)
@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
def test_python_numbers(dtype, number):
    x = make((2, 3), dtype)
    check(lambda t: t + number, x)
    check(lambda t: number - t, x)
    check(lambda t: t * number, x)
    check(lambda t: t / number if number else t / 7, x)
    if number:
        check(lambda t: t // number, x)
        check(lambda t: t % number, x)


@pytest.mark.parametrize("dtype", [torch.float32, torch.int64, torch.bool], ids=str)
def test_scalar_overloads(dtype):
    x = make((4,), dtype)
    check(torch.ops.aten.add.Scalar, x, 3, 2)
    check(torch.ops.aten.sub.Scalar, x, 1.5)
    check(torch.ops.aten.mul.Scalar, x, True)
    check(torch.ops.aten.div.Scalar, x, 4)
    check(torch.ops.aten.div.Scalar_mode, x, -3, rounding_mode="floor")
    check(torch.ops.aten.remainder.Scalar, x, -3)
    divisor = nonzero(x) if dtype != torch.bool else torch.ones(4, dtype=torch.bool)
    check(torch.ops.aten.remainder.Scalar_Tensor, 7, divisor)
    check(torch.ops.aten.rsub.Scalar, x, 2.5)


def test_integer_division_rounds_like_python():
    x = torch.tensor([7, -7, 7, -7, 6, -6, 0, 1, -1, 9], dtype=torch.int64)
    y = torch.tensor([2, 2, -2, -2, -3, 4, 5, -7, 7, 10], dtype=torch.int64)
    for dtype in [torch.int64, torch.int32, torch.int8]:
        a, b = x.to(dtype), y.to(dtype)
        check_op(torch.div, a, b, rounding_mode="floor")
        check_op(torch.div, a, b, rounding_mode="trunc")
        check_op(torch.floor_divide, a, b)
        check_op(torch.remainder, a, b)
        check_op(torch.fmod, a, b)
        check_op(torch.div, a, b)
    u = torch.tensor([7, 200, 0, 255], dtype=torch.uint8)
    v = torch.tensor([2, 3, 5, 16], dtype=torch.uint8)
    check_op(torch.div, u, v, rounding_mode="floor")
    check_op(torch.remainder, u, v)


def test_float_division_special_values():
    inf, nan = math.inf, math.nan
    x = torch.tensor([7.5, -7.5, 1.0, -1.0, 0.0, -0.0, 0.0, inf, -inf, nan, 5.0, 0.3, -0.3, 1e30])
    y = torch.tensor([2.0, 2.0, 0.0, 0.0, 0.0, 3.0, -3.0, 2.0, 2.0, 1.0, inf, 0.1, 0.1, 1e-30])
    for dtype in FLOAT_DTYPES:
        a, b = x.to(dtype), y.to(dtype)
        check_op(torch.div, a, b, rounding_mode="floor")
        check_op(torch.div, a, b, rounding_mode="trunc")
        check_op(torch.div, a, b)
        check_op(torch.remainder, a, b)
        check_op(torch.fmod, a, b)


def test_pow():
    base = make((3, 4), torch.float32, low=0.1, high=3)
    check_op(torch.pow, base, make((3, 4), torch.float32))
    check_op(torch.pow, base, 2)
    check_op(torch.pow, base, 0.5)
    check_op(torch.pow, base, -1.5)
    check_op(torch.pow, make((3, 4), torch.bfloat16, low=0.1), 3)
    check_op(torch.pow, make((3, 4), torch.float64), make((3, 4), torch.int64, low=-3, high=4))
    check_op(torch.pow, 2.0, make((5,), torch.float32))
    check_op(torch.pow, 2, make((5,), torch.int32, low=0, high=10))
    check_op(torch.pow, 2.5, make((5,), torch.int64, low=-3, high=4))
    check_op(torch.pow, torch.tensor([-2.0, -8.0, 0.0, 0.0]), torch.tensor([0.5, 1 / 3, 0.0, -1.0]))
    # Integer powers: exact, wrapping, negative exponents of a tensor.
    check_op(torch.pow, torch.tensor([1, -1, -1, 2, 3, -3, 0, 7]),
             torch.tensor([-3, -3, -2, -1, 4, 3, 0, 30]))
    check_op(torch.pow, make((6,), torch.int32), 3)
    check_op(torch.pow, make((6,), torch.bool), 2)
    check_op(torch.pow, make((6,), torch.int64), 1.5)
    check_raises(torch.pow, make((3,), torch.bool), make((3,), torch.bool))


def test_add_alpha_and_bool_rules():
    b1, b2 = make((5,), torch.bool, seed=1), make((5,), torch.bool, seed=2)
    check_op(torch.add, b1, b2)
    check_op(torch.add, b1, b2, alpha=2)
    check_op(torch.add, b1, b2, alpha=False)
    check_op(torch.mul, b1, b2)
    check_op(torch.add, make((5,), torch.int32), make((5,), torch.int32), alpha=-4)
    check_op(torch.add, make((5,), torch.bfloat16), make((5,), torch.bfloat16), alpha=0.5)
    check_op(torch.rsub, make((5,), torch.int64), make((5,), torch.int64), alpha=2)
    check_op(torch.add, torch.ones(3, dtype=torch.int8), 1000)  # the number wraps into int8
    check_raises(torch.add, make((5,), torch.int32), make((5,), torch.int32), alpha=1.5)
    check_raises(torch.add, make((5,), torch.float32), make((5,), torch.float32), alpha=True)
    check_raises(torch.sub, b1, b2)
    check_raises(torch.sub, make((5,), torch.float32), True)
    check_raises(torch.sub, b1, 1)
    check_raises(torch.rsub, b1, 1)


def test_binary_errors():
    check_raises(torch.add, make((2, 3), torch.float32), make((4,), torch.float32))
    check_raises(torch.mul, make((2, 3), torch.float32), make((3, 2), torch.float32))
    check_raises(torch.div, make((3,), torch.float32), make((3,), torch.float32), rounding_mode="up")
    check_raises(torch.div, make((3,), torch.bool), make((3,), torch.bool), rounding_mode="floor")
    check_raises(torch.remainder, make((3,), torch.bool), make((3,), torch.bool))
    check_raises(torch.fmod, make((3,), torch.bool), make((3,), torch.bool))


# ---------------------------------------------------------------- in-place and out=


def test_inplace_forms():
    check_op(lambda x, y: x.add_(y), make((3, 4), torch.float32), make((4,), torch.float32))
    check_op(lambda x, y: x.sub_(y, alpha=2), make((3, 4), torch.int32), make((3, 4), torch.int64))
    check_op(lambda x: x.mul_(2.5), make((3, 4), torch.bfloat16))
    check_op(lambda x, y: x.div_(y, rounding_mode="floor"), make((3, 4), torch.int64),
             nonzero(make((3, 4), torch.int64, seed=2)))
    check_op(lambda x: x.remainder_(3), make((5,), torch.int32))
    check_op(lambda x: x.pow_(2), make((5,), torch.float64))
    check_op(lambda x: x.neg_(), make((5,), torch.int32))
    check_op(lambda x: x.exp_(), make((5,), torch.float32))
    check_op(lambda x: x.floor_(), make((5,), torch.float32))
    # Writing through views updates the base.
    check_op(lambda x: x[:, 1:3].mul_(2), make((3, 4), torch.float32))
    check_op(lambda x: x.t().add_(1), make((3, 4), torch.int64))
    check_op(lambda x, y: x[1].sub_(y), make((3, 4), torch.float32), make((4,), torch.float32))
    check_op(lambda x: x[::2].sqrt_(), make((6, 2), torch.float32, low=0))
    # The result type must cast to self's dtype.
    check_raises(lambda x: x.add_(1.5), make((3,), torch.int64))
    check_raises(lambda x, y: x.mul_(y), make((3,), torch.int32), make((3,), torch.float32))
    check_raises(lambda x, y: x.div_(y), make((3,), torch.int64), make((3,), torch.int64))
    check_raises(lambda x: x.exp_(), make((3,), torch.int64))
    check_raises(lambda x, y: x.add_(y), make((3,), torch.float32), make((2, 3), torch.float32))


def test_out_forms():
    x, y = make((3, 4), torch.float32), make((4,), torch.float32, seed=2)
    check_op(lambda x, y, out: torch.add(x, y, out=out), x, y, torch.empty(3, 4))
    check_op(lambda x, y, out: torch.mul(x, y, out=out), x, y, torch.empty(3, 4, dtype=torch.float64))
    check_op(lambda x, y, out: torch.div(x, y, rounding_mode="trunc", out=out), x, y,
             torch.empty(0))
    check_op(lambda x, out: torch.exp(x, out=out), x, torch.empty(3, 4))
    check_op(lambda x, out: torch.sqrt(x, out=out), make((3,), torch.int32, low=0),
             torch.empty(3))
    check_op(lambda x, out: torch.pow(x, 2, out=out), x, torch.empty(3, 4))
    check_op(lambda x, y, out: torch.add(x, y, out=out[:, ::2]), x, y, torch.zeros(3, 8))
    check_raises(lambda x, y, out: torch.add(x, y, out=out), x, y, torch.empty(3, 4, dtype=torch.int64))
    check_raises(lambda x, out: torch.div(x, 2, out=out), make((3,), torch.int64),
                 torch.empty(3, dtype=torch.int64))


def test_noncontiguous_inputs():
    x = make((4, 6), torch.float32, noncontiguous=True)
    y = make((6, 4), torch.float32, seed=3).t()
    check_op(torch.add, x, y)
    check_op(torch.div, x, y, rounding_mode="floor")
    check_op(torch.exp, y)
    check_op(torch.mul, make((1, 6), torch.int32).expand(4, 6), make((4, 6), torch.int32, noncontiguous=True))
    check_op(torch.lerp, x, y, 0.3)
    check_op(torch.addcmul, x, y, make((4, 1), torch.float32).expand(4, 6), value=0.5)


# ---------------------------------------------------------------- unary ops

# op -> (fn, low, high): inputs inside the op's domain.
UNARY_FLOAT_OPS = {
    "exp": (torch.exp, -3, 3),
    "exp2": (torch.exp2, -3, 3),
    "expm1": (torch.expm1, -3, 3),
    "log": (torch.log, 0.1, 9),
    "log2": (torch.log2, 0.1, 9),
    "log10": (torch.log10, 0.1, 9),
    "log1p": (torch.log1p, -0.9, 9),
    "sqrt": (torch.sqrt, 0, 9),
    "rsqrt": (torch.rsqrt, 0.1, 9),
    "sin": (torch.sin, -3, 3),
    "cos": (torch.cos, -3, 3),
    "tan": (torch.tan, -1.4, 1.4),
    "tanh": (torch.tanh, -3, 3),
    "sigmoid": (torch.sigmoid, -5, 5),
    "erf": (torch.erf, -3, 3),
    "erfinv": (torch.erfinv, -0.95, 0.95),
    "erfc": (torch.erfc, -3, 5),
    "asin": (torch.asin, -0.95, 0.95),
    "acos": (torch.acos, -0.95, 0.95),
    "atan": (torch.atan, -9, 9),
    "sinh": (torch.sinh, -3, 3),
    "cosh": (torch.cosh, -3, 3),
    "asinh": (torch.asinh, -9, 9),
    "acosh": (torch.acosh, 1, 9),
    "atanh": (torch.atanh, -0.95, 0.95),
    "lgamma": (torch.lgamma, -4.5, 9),
    "digamma": (torch.digamma, 0.1, 9),
    "reciprocal": (torch.reciprocal, 0.5, 9),
}


def unary_input(shape, dtype, low, high, **kwargs):
    if dtype.is_floating_point:
        return make(shape, dtype, low=low, high=high, **kwargs)
    if dtype == torch.bool:
        return make(shape, dtype, **kwargs)
    return make(shape, dtype, low=math.ceil(low), high=max(math.ceil(low) + 1, int(high)), **kwargs)


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
@pytest.mark.parametrize("name", list(UNARY_FLOAT_OPS))
def test_unary_math(name, dtype):
    fn, low, high = UNARY_FLOAT_OPS[name]
    check_op(fn, unary_input((3, 4), dtype, low, high))


@pytest.mark.parametrize("name", list(UNARY_FLOAT_OPS))
def test_unary_math_shapes_and_out_of_domain(name):
    fn, low, high = UNARY_FLOAT_OPS[name]
    check_op(fn, unary_input((), torch.float32, low, high))
    check_op(fn, make((0, 3), torch.float32))
    check_op(fn, unary_input((3, 4), torch.float32, low, high, noncontiguous=True))
    special = torch.tensor([0.0, -0.0, math.inf, -math.inf, math.nan, -1.0, 1.0, 2.0])
    check_op(fn, special)


def test_unary_math_default_dtype_float64():
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        check_op(torch.exp, make((3,), torch.int32))
        check_op(torch.div, make((3,), torch.int32), 7)
        check_op(lambda x: x + 0.5, make((3,), torch.int64))
    finally:
        torch.set_default_dtype(old)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16, torch.float16], ids=str)
def test_erfinv_tails_and_their_gradient(dtype):
    # Near +-1 erfinv grows like sqrt(-log(1 - |x|)) and its gradient like
    # exp(erfinv(x)^2): a few ulps of error there become visible in both.
    g = torch.Generator().manual_seed(0)
    gaps = torch.cat([torch.rand(200, generator=g, dtype=torch.float64) * 0.1,
                      2.0 ** -torch.arange(1, 25, dtype=torch.float64)])
    x = torch.cat([1 - gaps, gaps - 1, torch.tensor([1.0, -1.0, 1.5, -0.0, 1e-30])]).to(dtype)
    check_op(torch.erfinv, x)
    inside = x[x.abs() < 1].clone().requires_grad_()
    device_inside = to_device(inside.detach()).requires_grad_()
    torch.erfinv(inside).sum().backward()
    torch.erfinv(device_inside).sum().backward()
    # CPU's float32 gradient is itself 1.2e-6 off the exact one at worst.
    rtol = 3e-6 if dtype == torch.float32 else None
    assert_same(device_inside.grad, inside.grad, rtol=rtol)


EXACT_UNARY_OPS = {
    "neg": torch.neg,
    "abs": torch.abs,
    "sign": torch.sign,
    "sgn": torch.sgn,
    "floor": torch.floor,
    "ceil": torch.ceil,
    "trunc": torch.trunc,
    "round": torch.round,
    "frac": torch.frac,
    "square": torch.square,
}


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
@pytest.mark.parametrize("name", list(EXACT_UNARY_OPS))
def test_unary_exact(name, dtype):
    check(EXACT_UNARY_OPS[name], make((3, 4), dtype))


@pytest.mark.parametrize("name", list(EXACT_UNARY_OPS))
def test_unary_exact_special_values(name):
    fn = EXACT_UNARY_OPS[name]
    x = torch.tensor([0.5, 1.5, 2.5, -0.5, -2.5, -0.0, 0.0, math.inf, -math.inf, math.nan, -3.7, 1e20])
    for dtype in FLOAT_DTYPES:
        check_op(fn, x.to(dtype))
    check_op(fn, torch.tensor(-2.5))
    check_op(fn, torch.empty(0, 2))


def test_integer_edge_values():
    check_op(torch.abs, torch.tensor([-128, -5, 127], dtype=torch.int8))
    check_op(torch.neg, torch.tensor([0, 3, 255], dtype=torch.uint8))
    check_op(torch.sign, torch.tensor([0, 3, 255], dtype=torch.uint8))
    check_op(torch.abs, torch.tensor([0, 3, 255], dtype=torch.uint8))


def test_round_decimals():
    x = make((10,), torch.float32, low=-100, high=100)
    for decimals in [0, 1, 2, -1]:
        check_op(torch.round, x, decimals=decimals)
    check_op(torch.round, make((4,), torch.float64), decimals=3)
    check_raises(torch.round, make((4,), torch.int64), decimals=1)


def test_unary_errors():
    check_raises(torch.neg, make((3,), torch.bool))
    check_raises(torch.abs, make((3,), torch.bool))
    check_raises(torch.floor, make((3,), torch.bool))
    check_raises(torch.frac, make((3,), torch.int64))


def test_sgn_complex():
    x = torch.tensor([3 + 4j, 0j, -1j, -2 + 0j], dtype=torch.complex64)
    check_op(torch.sgn, x)
    check_raises(torch.sign, x)


# ---------------------------------------------------------------- lerp, addcmul, addcdiv


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=str)
def test_lerp(dtype):
    start, end = make((3, 4), dtype, seed=1), make((4,), dtype, seed=2)
    for weight in [0.0, 0.3, 0.5, 0.7, 1.0, -1.5, 2]:
        check_op(torch.lerp, start, end, weight)
    check_op(torch.lerp, start, end, make((3, 1), dtype, low=-0.5, high=1.5, seed=3))
    check_op(torch.lerp, make((), dtype), make((), dtype, seed=4), make((2, 2), dtype, seed=5))
    check_op(torch.lerp, make((0, 4), dtype), end, 0.5)
    check_op(lambda s, e: s.lerp_(e, 0.25), start, make((3, 4), dtype, seed=6))


def test_lerp_errors():
    f, d = make((3,), torch.float32), make((3,), torch.float64)
    check_raises(torch.lerp, f, d, 0.5)
    check_raises(torch.lerp, f, f, d)
    check_raises(torch.lerp, make((3,), torch.int64), make((3,), torch.int64), 0.5)
    check_raises(torch.lerp, f, make((2,), torch.float32), 0.5)


@pytest.mark.parametrize("dtype", NUMERIC_DTYPES, ids=str)
def test_addcmul_addcdiv(dtype):
    s, a, b = make((3, 4), dtype, seed=1), make((4,), dtype, seed=2), make((3, 1), dtype, seed=3)
    check_op(torch.addcmul, s, a, b)
    check_op(torch.addcmul, s, a, b, value=2)
    check(torch.addcmul, s, a, b, value=0.5)
    if dtype.is_floating_point:
        check_op(torch.addcdiv, s, a, make((3, 1), dtype, low=0.5, seed=3))
        check_op(torch.addcdiv, s, a, make((3, 1), dtype, low=0.5, seed=3), value=-1.5)
        check_op(lambda s, a, b: s.addcdiv_(a, b, value=0.1), s, a, make((3, 1), dtype, low=0.5))
    else:
        check_raises(torch.addcdiv, s, a, b)
    check_op(lambda s, a, b: s.addcmul_(a, b), s, a, b)


def test_addcmul_promotion_and_errors():
    check_op(torch.addcmul, make((3,), torch.float32), make((3,), torch.int32), make((3,), torch.int64))
    check_op(torch.addcdiv, make((3,), torch.float32), make((3,), torch.int32),
             make((3,), torch.float64, low=1))
    check_op(torch.addcmul, make((), torch.float32), make((2,), torch.float32), make((0, 1), torch.float32))
    check_raises(torch.addcdiv, make((3,), torch.float32), make((3,), torch.int32), nonzero(make((3,), torch.int32)))
    check_raises(torch.addcmul, make((3,), torch.bool), make((3,), torch.bool), make((3,), torch.bool))
    check_raises(torch.addcmul, make((3,), torch.float32), make((2,), torch.float32), make((3,), torch.float32))
    check_raises(torch.addcmul, make((3,), torch.float32), make((3,), torch.float32),
                 make((3,), torch.float32), value=2j)


@pytest.mark.skipif(DEVICE == "cpu", reason="needs the torch_pjrt backend")
def test_results_live_on_the_device():
    x = to_device(make((3,), torch.float32))
    assert (x + 1).device.type == DEVICE
    assert torch.exp(x).device.type == DEVICE


COMPLEX_OPS = {
    "add": lambda a, b: a + b, "sub_alpha": lambda a, b: torch.sub(a, b, alpha=2), "mul": torch.mul,
    "div": torch.div, "pow": torch.pow, "add_number": lambda a, b: a + 1j, "lerp": lambda a, b: torch.lerp(a, b, 0.3),
    "exp": lambda a, b: torch.exp(a), "log": lambda a, b: torch.log(a), "sqrt": lambda a, b: torch.sqrt(a),
    "neg": lambda a, b: -a, "abs": lambda a, b: a.abs(), "tanh": lambda a, b: torch.tanh(a),
    "reciprocal": lambda a, b: torch.reciprocal(a), "addcmul": lambda a, b: torch.addcmul(a, a, b, value=2),
}


@pytest.mark.parametrize("name", list(COMPLEX_OPS))
def test_complex64(name):
    z = torch.complex(make((5,), torch.float32), make((5,), torch.float32, seed=1))
    w = torch.complex(make((5,), torch.float32, seed=2), make((5,), torch.float32, seed=3))
    check_op(COMPLEX_OPS[name], z, w, atol=1e-5, rtol=1.3e-6)
