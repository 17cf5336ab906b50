"""Activation functions against PyTorch on CPU: forward over dtypes and shapes,
in-place forms (through views too), the backward ops autograd calls (checked
through x.grad and called directly with mixed dtypes), and the errors CPU raises."""
import math

import pytest
import torch
import torch.nn.functional as F

from op_testing import DEVICE, FLOAT_DTYPES, INT_DTYPES, assert_same, check_op, check_raises, make, to_device

ACTIVATIONS = {
    "relu": torch.relu,
    "gelu": F.gelu,
    "gelu_tanh": lambda x: F.gelu(x, approximate="tanh"),
    "silu": F.silu,
    "mish": F.mish,
    "leaky_relu": F.leaky_relu,
    "leaky_relu_0.2": lambda x: F.leaky_relu(x, 0.2),
    "hardtanh": F.hardtanh,
    "hardtanh_bounds": lambda x: F.hardtanh(x, -0.5, 2.0),
    "relu6": F.relu6,
    "threshold": lambda x: F.threshold(x, 0.1, 20.0),
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "elu": F.elu,
    "elu_params": lambda x: F.elu(x, alpha=0.5),
    "selu": F.selu,
    "celu": lambda x: F.celu(x, alpha=2.0),
    "softplus": F.softplus,
    "softplus_params": lambda x: F.softplus(x, beta=2.0, threshold=1.0),
    "hardsigmoid": F.hardsigmoid,
    "hardswish": F.hardswish,
    "hardshrink": F.hardshrink,
    "hardshrink_2": lambda x: F.hardshrink(x, 2.0),
    "softshrink": F.softshrink,
    "softshrink_1.5": lambda x: F.softshrink(x, 1.5),
}


def inputs(shape, dtype, **kwargs):
    """Values on both sides of every activation's kinks (-3, 0, 3) and beyond."""
    return make(shape, dtype, low=-5, high=5, **kwargs)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=str)
@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_forward(name, dtype):
    check_op(ACTIVATIONS[name], inputs((4, 5), dtype))


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_forward_shapes_and_special_values(name):
    fn = ACTIVATIONS[name]
    check_op(fn, inputs((), torch.float32))
    check_op(fn, torch.empty(0, 3))
    check_op(fn, inputs((4, 6), torch.float32, noncontiguous=True))
    check_op(fn, inputs((3, 4), torch.float32).t())
    special = [0.0, -0.0, math.inf, -math.inf, math.nan, -3.0, 3.0, 20.0, 0.1, 1.0, -1.0]
    if name == "gelu":
        special = special[:2] + special[4:]  # CPU's vectorized erf turns +-inf into NaN
    check_op(fn, torch.tensor(special))


@pytest.mark.parametrize("dtype", INT_DTYPES + [torch.bool], ids=str)
@pytest.mark.parametrize("name", ["relu", "gelu", "silu", "leaky_relu", "hardtanh", "hardtanh_bounds",
                                  "threshold", "elu", "softplus", "hardsigmoid", "hardswish", "mish",
                                  "hardshrink", "softshrink"])
def test_forward_integers_and_bool(name, dtype):
    """relu, hardtanh and threshold work on integers; the others raise as on CPU."""
    x = make((5,), dtype)
    try:
        ACTIVATIONS[name](x.clone())
    except Exception:  # noqa: BLE001
        check_raises(ACTIVATIONS[name], x)
    else:
        check_op(ACTIVATIONS[name], x)


def test_inplace_forms():
    check_op(lambda x: F.relu(x, inplace=True), inputs((3, 4), torch.float32))
    check_op(lambda x: F.leaky_relu(x, 0.1, inplace=True), inputs((3, 4), torch.bfloat16))
    check_op(lambda x: F.hardtanh(x, -1.0, 1.0, inplace=True), inputs((3, 4), torch.float64))
    check_op(lambda x: F.elu(x, inplace=True), inputs((3, 4), torch.float32))
    check_op(lambda x: F.threshold(x, 0.5, -1.0, inplace=True), inputs((3, 4), torch.float32))
    check_op(lambda x: F.silu(x, inplace=True), inputs((3, 4), torch.float32))
    check_op(lambda x: F.hardswish(x, inplace=True), inputs((3, 4), torch.float32))
    check_op(lambda x: F.hardsigmoid(x, inplace=True), inputs((3, 4), torch.float32))
    check_op(lambda x: F.mish(x, inplace=True), inputs((3, 4), torch.float32))
    check_op(lambda x: x.sigmoid_(), inputs((3, 4), torch.float32))
    check_op(lambda x: torch.relu_(x), inputs((3, 4), torch.int64))
    # Through views: the base sees the write.
    check_op(lambda x: x[:, 1:3].relu_(), inputs((3, 4), torch.float32))
    check_op(lambda x: F.gelu(x.t()[1:], approximate="tanh"), inputs((3, 4), torch.float32))
    check_op(lambda x: F.leaky_relu_(x[::2], 0.3), inputs((6, 2), torch.float32))


def test_out_forms():
    x = inputs((3, 4), torch.float32)
    check_op(lambda x, out: torch.ops.aten.gelu.out(x, out=out), x, torch.empty(3, 4))
    check_op(lambda x, out: torch.ops.aten.silu.out(x, out=out), x, torch.empty(0))
    check_op(lambda x, out: torch.ops.aten.hardtanh.out(x, -2.0, 2.0, out=out), x, torch.empty(3, 4))


def test_errors():
    check_raises(F.gelu, inputs((3,), torch.float32), approximate="fast")
    check_raises(torch.relu, make((3,), torch.bool))
    check_raises(F.hardtanh, make((3,), torch.bool))
    check_raises(F.gelu, make((3,), torch.int64))
    check_raises(torch.ops.aten.gelu_backward, make((3,), torch.int64), make((3,), torch.int64))
    check_raises(torch.ops.aten.sigmoid_backward, make((3,), torch.float32), make((2,), torch.float32))
    check_raises(lambda x: F.elu(x, inplace=True), make((3,), torch.int64))


@pytest.mark.parametrize("lambd", [-1.0, -1e-30, math.nan, math.inf, 1e5])
def test_softshrink_lambda_out_of_range(lambd):
    # CPU wants 0 <= lambda <= the largest value of the input's dtype.
    for dtype in [torch.float32, torch.float16, torch.bfloat16, torch.float64]:
        x = make((3,), dtype)
        try:
            F.softshrink(x, lambd)
        except RuntimeError:
            error = check_raises(F.softshrink, x, lambd)
            if DEVICE != "cpu":
                assert "softshrink: lambda must be in range [0, " in str(error)
            check_raises(lambda x, out: torch._C._nn.softshrink(x, lambd, out=out), x, torch.empty(3, dtype=dtype))
        else:
            check_op(F.softshrink, x, lambd)
    check_op(F.softshrink, make((3,), torch.float32), -0.0)


# ---------------------------------------------------------------- backward


def check_grad(fn, x, *, atol=None, rtol=None):
    """x.grad from fn on the device equals x.grad on CPU, for a non-uniform
    upstream gradient."""
    cpu = x.clone().requires_grad_()
    dev = to_device(x).detach().requires_grad_()
    expected = fn(cpu)
    upstream = make(expected.shape, expected.dtype, seed=7)
    expected.backward(upstream)
    actual = fn(dev)
    actual.backward(to_device(upstream))
    assert_same(actual.detach(), expected.detach(), atol=atol, rtol=rtol)
    assert_same(dev.grad, cpu.grad, atol=atol, rtol=rtol)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=str)
@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_autograd(name, dtype):
    check_grad(ACTIVATIONS[name], inputs((4, 5), dtype))


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_autograd_special_shapes(name):
    check_grad(ACTIVATIONS[name], inputs((), torch.float32))
    check_grad(ACTIVATIONS[name], torch.empty(0, 3))
    check_grad(ACTIVATIONS[name], torch.tensor([-3.0, 0.0, 3.0, 20.0, 0.1, -1.0, 1.0, -0.5, 2.0]))


def test_autograd_inplace_uses_the_result():
    # In-place activations make autograd call the backward with is_result / self_is_result.
    check_grad(lambda x: F.elu(x * 1, inplace=True), inputs((4, 5), torch.float32))
    check_grad(lambda x: F.leaky_relu(x * 1, 0.1, inplace=True), inputs((4, 5), torch.float32))
    check_grad(lambda x: torch.relu_(x * 1), inputs((4, 5), torch.float32))
    check_grad(lambda x: (x * 1).sigmoid_(), inputs((4, 5), torch.float32))


BACKWARD_CALLS = {
    "gelu_backward": lambda g, x: torch.ops.aten.gelu_backward(g, x),
    "gelu_backward_tanh": lambda g, x: torch.ops.aten.gelu_backward(g, x, approximate="tanh"),
    "silu_backward": torch.ops.aten.silu_backward,
    "mish_backward": torch.ops.aten.mish_backward,
    "leaky_relu_backward": lambda g, x: torch.ops.aten.leaky_relu_backward(g, x, 0.2, False),
    "hardtanh_backward": lambda g, x: torch.ops.aten.hardtanh_backward(g, x, -1.0, 2.0),
    "threshold_backward": lambda g, x: torch.ops.aten.threshold_backward(g, x, 0.5),
    "sigmoid_backward": torch.ops.aten.sigmoid_backward,
    "tanh_backward": torch.ops.aten.tanh_backward,
    "elu_backward": lambda g, x: torch.ops.aten.elu_backward(g, 1.5, 1.0, 2.0, False, x),
    "elu_backward_result": lambda g, x: torch.ops.aten.elu_backward(g, 1.5, 1.0, 2.0, True, x),
    "softplus_backward": lambda g, x: torch.ops.aten.softplus_backward(g, x, 2.0, 3.0),
    "hardsigmoid_backward": torch.ops.aten.hardsigmoid_backward,
    "hardswish_backward": torch.ops.aten.hardswish_backward,
    "hardshrink_backward": lambda g, x: torch.ops.aten.hardshrink_backward(g, x, 1.0),
    "softshrink_backward": lambda g, x: torch.ops.aten.softshrink_backward(g, x, 1.0),
}


@pytest.mark.parametrize("dtypes", [
    (torch.float32, torch.float64), (torch.bfloat16, torch.float32),
], ids=str)
@pytest.mark.parametrize("name", list(BACKWARD_CALLS))
def test_backward_ops_promote(name, dtypes):
    check_op(BACKWARD_CALLS[name], make((3, 4), dtypes[0], seed=1), inputs((3, 4), dtypes[1]))


@pytest.mark.xfail(DEVICE != "cpu", strict=False,
                   reason="silu_backward and mish_backward are CompositeImplicitAutograd: the "
                          "dispatcher decomposes them in the input's half type before torch_pjrt's "
                          "boxed fallback (and so the rule) is reached")
@pytest.mark.parametrize("name", ["silu_backward", "mish_backward"])
def test_composite_backward_ops_compute_in_the_common_type(name):
    check_op(BACKWARD_CALLS[name], make((3, 4), torch.float64, seed=1), inputs((3, 4), torch.float16))


@pytest.mark.parametrize("name", list(BACKWARD_CALLS))
def test_backward_ops_broadcast_and_empty(name):
    fn = BACKWARD_CALLS[name]
    if name != "gelu_backward":  # CPU's oneDNN kernel fails to broadcast
        check_op(fn, make((3, 4), torch.float32, seed=1), inputs((4,), torch.float32))
    check_op(fn, make((0, 4), torch.float32), make((0, 4), torch.float32))
    check_op(fn, make((), torch.float32), inputs((), torch.float32))


def test_threshold_backward_with_integers():
    check_op(torch.ops.aten.threshold_backward, make((5,), torch.float32), make((5,), torch.int64), 0)
    check_op(torch.ops.aten.threshold_backward, make((5,), torch.int32), make((5,), torch.float32), 0)


# ---------------------------------------------------------------- glu and prelu

@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=str)
def test_glu(dtype):
    x = inputs((4, 6), dtype)
    check_op(F.glu, x)
    check_op(F.glu, x, 0)
    check_op(F.glu, inputs((2, 3, 8), dtype, noncontiguous=True), -1)
    check_grad(F.glu, x)
    check_grad(lambda t: F.glu(t, 0), x)
    check_op(F.glu, torch.empty(0, 4))


def test_glu_errors():
    check_raises(F.glu, inputs((4, 5), torch.float32))
    check_raises(F.glu, inputs((4, 6), torch.float32), 2)
    check_raises(F.glu, make((4, 6), torch.int64))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=str)
def test_prelu(dtype):
    x = inputs((2, 3, 5), dtype)
    for weight in [torch.tensor([0.25]), torch.tensor([0.1, -0.5, 2.0])]:
        w = weight.to(dtype)
        check_op(F.prelu, x, w)
        cpu_x, cpu_w = x.clone().requires_grad_(), w.clone().requires_grad_()
        dev_x, dev_w = to_device(x).requires_grad_(), to_device(w).requires_grad_()
        upstream = make(x.shape, dtype, seed=5)
        F.prelu(cpu_x, cpu_w).backward(upstream)
        F.prelu(dev_x, dev_w).backward(to_device(upstream))
        assert_same(dev_x.grad, cpu_x.grad)
        assert_same(dev_w.grad, cpu_w.grad, atol=1e-4 if dtype == torch.float32 else None)
