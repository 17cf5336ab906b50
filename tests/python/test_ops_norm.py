"""Layer, group and instance normalization against PyTorch on CPU: outputs and the
mean/rstd statistics (shapes and dtypes as CPU gives them, f32 statistics for
half inputs with f32 parameters), with and without weight/bias, edge
shapes (empty batches, empty normalized dims), non-contiguous inputs, the errors
CPU raises, and gradients of input, weight and bias."""
import copy

import pytest
import torch
import torch.nn.functional as F

from op_testing import DEVICE, check_op, check_raises, make, to_device

FLOATS = [torch.float32, torch.bfloat16, torch.float64, torch.float16]
needs_backend = pytest.mark.skipif(DEVICE == "cpu", reason="compares device gradients against CPU")
native_layer_norm = torch.ops.aten.native_layer_norm
native_group_norm = torch.ops.aten.native_group_norm


def half_tolerance(dtype):
    return dict(atol=2e-2, rtol=2e-2) if dtype in (torch.bfloat16, torch.float16) else {}


def check_grads(fn, *args, wrt, atol=1e-5, rtol=1e-5):
    """Gradients of a weighted sum of fn(*args) w.r.t. args[i] for i in wrt equal CPU's."""
    def run(tensors):
        leaves = [t.requires_grad_() if i in wrt else t for i, t in enumerate(tensors)]
        out = fn(*leaves)
        weights = torch.linspace(-1.0, 2.0, out.numel()).reshape(out.shape).to(out.dtype)
        (out * to_device(weights, out.device.type)).sum().backward()
        return [leaves[i].grad for i in wrt]

    cpu_args = [a.clone() if isinstance(a, torch.Tensor) else a for a in args]
    dev_args = [to_device(a).detach() if isinstance(a, torch.Tensor) else a for a in args]
    for c, d in zip(run(cpu_args), run(dev_args)):
        assert d.device.type == DEVICE
        torch.testing.assert_close(d.cpu(), c, atol=atol, rtol=rtol)


# ---------------------------------------------------------------- layer norm

@pytest.mark.parametrize("dtype", FLOATS, ids=str)
@pytest.mark.parametrize("affine", [False, True])
def test_native_layer_norm(dtype, affine):
    x = make((2, 3, 4), dtype, seed=1)
    w = make((3, 4), dtype, seed=2) if affine else None
    bias = make((3, 4), dtype, seed=3) if affine else None
    check_op(lambda x, w, b: native_layer_norm(x, [3, 4], w, b, 1e-5), x, w, bias,
             **half_tolerance(dtype))
    check_op(lambda x: native_layer_norm(x, [4], None, None, 1e-3), x, **half_tolerance(dtype))


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16], ids=str)
def test_layer_norm_half_input_with_float_parameters(dtype):
    x = make((3, 5), dtype, seed=4)
    w, bias = make((5,), torch.float32, seed=5), make((5,), torch.float32, seed=6)
    out = check_op(lambda x, w, b: native_layer_norm(x, [5], w, b, 1e-5), x, w, bias, atol=2e-2,
                   rtol=2e-2)
    assert out[1].dtype == torch.float32 and out[0].dtype == dtype


def test_layer_norm_module_shapes_and_layouts():
    check_op(lambda x: F.layer_norm(x, (6,)), make((4, 6), torch.float32, noncontiguous=True))
    check_op(lambda x: F.layer_norm(x.transpose(0, 1), (3,)), make((3, 5), torch.float32))
    check_op(lambda x: F.layer_norm(x, (5,)), make((5,), torch.float32))
    check_op(lambda x: native_layer_norm(x, [4], None, None, 1e-5), torch.empty(0, 4))
    # An empty normalized dim: CPU gives mean 0 and rstd NaN.
    check_op(lambda x: native_layer_norm(x, [0], None, None, 1e-5), torch.empty(2, 0))
    check_op(lambda x: F.layer_norm(x, (2, 3), eps=0.1), torch.full((4, 2, 3), 7.0))


def test_layer_norm_errors():
    x = make((2, 4), torch.float32)
    for fn in [lambda x: native_layer_norm(x, [5], None, None, 1e-5),
               lambda x: native_layer_norm(x, [], None, None, 1e-5),
               lambda x: native_layer_norm(x, [2, 2, 4], None, None, 1e-5),
               lambda x: native_layer_norm(x, [4], torch.ones(3, device=x.device), None, 1e-5),
               lambda x: native_layer_norm(x.double(), [4], torch.ones(4, device=x.device), None,
                                           1e-5)]:
        error = check_raises(fn, x)
        if DEVICE != "cpu":
            assert "native_layer_norm" in str(error)
    check_raises(lambda x: native_layer_norm(x, [4], None, None, 1e-5), x.long())


@needs_backend
@pytest.mark.parametrize("affine", [False, True])
def test_layer_norm_gradients(affine):
    x = make((3, 2, 5), torch.float32, seed=7)
    w = make((2, 5), torch.float32, seed=8)
    bias = make((2, 5), torch.float32, seed=9)
    if affine:
        check_grads(lambda x, w, b: F.layer_norm(x, (2, 5), w, b), x, w, bias, wrt=(0, 1, 2))
    else:
        check_grads(lambda x: F.layer_norm(x, (5,)), x, wrt=(0,))
    check_grads(lambda x, w: F.layer_norm(x, (5,), w[0]), x, w, wrt=(0, 1))


@needs_backend
def test_layer_norm_backward_op_promotes_and_keeps_dtypes():
    g = make((2, 3), torch.bfloat16, seed=10)
    x = make((2, 3), torch.bfloat16, seed=11)
    w = make((3,), torch.float32, seed=12)
    _, mean, rstd = native_layer_norm(x, [3], w, None, 1e-5)
    bias = make((3,), torch.float32, seed=13)
    check_op(lambda g, x, m, r, w, b: torch.ops.aten.native_layer_norm_backward(
        g, x, [3], m, r, w, b, [True, True, True]), g, x, mean, rstd, w, bias, atol=3e-2,
        rtol=3e-2)


@needs_backend
def test_transformer_block_trains_like_cpu():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.LayerNorm(8), torch.nn.GELU(),
                                torch.nn.Linear(8, 2))
    x = make((5, 6), torch.float32, seed=13)
    cpu_model = model
    dev_model = copy.deepcopy(model).to(DEVICE)
    for m, data in ((cpu_model, x), (dev_model, x.to(DEVICE))):
        m(data).square().sum().backward()
    for c, d in zip(cpu_model.parameters(), dev_model.parameters()):
        torch.testing.assert_close(d.grad.cpu(), c.grad, atol=1e-5, rtol=1e-5)


# ---------------------------------------------------------------- group norm

@pytest.mark.parametrize("dtype", FLOATS, ids=str)
@pytest.mark.parametrize("affine", [False, True])
def test_native_group_norm(dtype, affine):
    x = make((2, 6, 3, 2), dtype, seed=14)
    w = make((6,), dtype, seed=15) if affine else None
    bias = make((6,), dtype, seed=16) if affine else None
    check_op(lambda x, w, b: native_group_norm(x, w, b, 2, 6, 6, 3, 1e-5), x, w, bias,
             **half_tolerance(dtype))
    check_op(lambda x: F.group_norm(x, 2), x, **half_tolerance(dtype))


def test_group_norm_shapes_and_layouts():
    check_op(lambda x: F.group_norm(x, 3), make((2, 6), torch.float32))
    check_op(lambda x: F.group_norm(x, 1), make((2, 4, 5), torch.float32, noncontiguous=True))
    check_op(lambda x: F.group_norm(x.transpose(2, 3), 2), make((1, 4, 3, 2), torch.float32))
    check_op(lambda x: native_group_norm(x, None, None, 0, 6, 1, 3, 1e-5), torch.empty(0, 6))
    check_op(lambda x: native_group_norm(x, None, None, 2, 6, 0, 3, 1e-5), torch.empty(2, 6, 0))
    x, w = make((2, 4, 3), torch.bfloat16, seed=17), make((4,), torch.float32, seed=18)
    out = check_op(lambda x, w: native_group_norm(x, w, None, 2, 4, 3, 2, 1e-5), x, w, atol=2e-2,
                   rtol=2e-2)
    assert out[1].dtype == torch.float32


def test_group_norm_errors():
    x = make((2, 6, 3), torch.float32)
    error = check_raises(lambda x: native_group_norm(x, None, None, 2, 6, 3, 4, 1e-5), x)
    if DEVICE != "cpu":
        assert "native_group_norm" in str(error)
    check_raises(lambda x: native_group_norm(x, None, None, 2, 6, 3, 3, 1e-5), x.long())
    check_raises(lambda x: F.group_norm(x, 2, torch.ones(5, device=x.device)), x)


def test_native_group_norm_wants_a_dense_input():
    # CPU's kernel reads the input as one dense buffer in its suggested memory
    # format; group_norm makes it so first, a direct call must bring it so.
    call = lambda x: native_group_norm(x, None, None, 2, 6, 6, 3, 1e-5)
    for x in [make((2, 6, 6), torch.float32, noncontiguous=True),
              make((2, 6, 6), torch.float32).transpose(1, 2).contiguous().transpose(1, 2)]:
        error = check_raises(call, x)
        if DEVICE != "cpu":
            assert "native_group_norm: expected the input to be contiguous" in str(error)
    channels_last = make((2, 6, 3, 2), torch.float32).contiguous(memory_format=torch.channels_last)
    check_op(call, channels_last)


@needs_backend
@pytest.mark.parametrize("affine", [False, True])
def test_group_norm_gradients(affine):
    x = make((3, 4, 5), torch.float32, seed=19)
    w, bias = make((4,), torch.float32, seed=20), make((4,), torch.float32, seed=21)
    if affine:
        check_grads(lambda x, w, b: F.group_norm(x, 2, w, b), x, w, bias, wrt=(0, 1, 2))
    else:
        check_grads(lambda x: F.group_norm(x, 4), x, wrt=(0,))
    check_grads(lambda x: F.group_norm(x, 1), make((2, 3, 2, 2), torch.float64, seed=22), wrt=(0,),
                atol=1e-10, rtol=1e-10)


# ---------------------------------------------------------------- instance norm

def test_instance_norm_goes_through_batch_norm():
    x = make((2, 3, 4, 5), torch.float32, seed=23)
    check_op(lambda x: F.instance_norm(x), x)
    w, bias = make((3,), torch.float32, seed=24), make((3,), torch.float32, seed=25)
    check_op(lambda x, w, b: F.instance_norm(x, weight=w, bias=b), x, w, bias)
    rm, rv = torch.zeros(3), torch.ones(3)
    check_op(lambda x, rm, rv: F.instance_norm(x, rm, rv, use_input_stats=True, momentum=0.3),
             x, rm, rv)
    check_op(lambda x, rm, rv: F.instance_norm(x, rm, rv, use_input_stats=False), x,
             make((3,), torch.float32, seed=26), make((3,), torch.float32, seed=27, low=0.5))


@needs_backend
def test_instance_norm_gradients():
    x = make((2, 3, 6), torch.float32, seed=28)
    w, bias = make((3,), torch.float32, seed=29), make((3,), torch.float32, seed=30)
    check_grads(lambda x, w, b: F.instance_norm(x, weight=w, bias=b), x, w, bias, wrt=(0, 1, 2))


@needs_backend
def test_backward_ops_leave_unrequested_results_undefined():
    # CPU returns None where output_mask is false; so must the device.
    x = make((2, 4, 3), torch.float32, seed=20)
    w = make((3,), torch.float32, seed=21)
    g = make((2, 4, 3), torch.float32, seed=22)
    _, mean, rstd = native_layer_norm(x, [3], w, None, 1e-5)
    check_op(lambda g, x, m, r, w: torch.ops.aten.native_layer_norm_backward(
        g, x, [3], m, r, w, None, [True, False, False]), g, x, mean, rstd, w)
    gamma = make((4,), torch.float32, seed=24)
    _, mean, rstd = torch.ops.aten.native_group_norm(x, gamma, None, 2, 4, 3, 2, 1e-5)
    for mask in ([True, False, True], [False, True, True]):
        check_op(lambda g, x, m, r, w: torch.ops.aten.native_group_norm_backward(
            g, x, m, r, w, 2, 4, 3, 2, mask), g, x, mean, rstd, gamma)
    # CPU's oneDNN path (batch > 1 here) returns an unrequested grad_weight
    # anyway; its reference path (batch 1) leaves it undefined, as the device does.
    x1 = make((1, 4, 7), torch.float32, seed=25)
    weight = make((5, 4, 2), torch.float32, seed=23)
    out = torch.ops.aten.convolution(x1, weight, None, [1], [0], [2], False, [0], 1)
    check_op(lambda go, x, w: torch.ops.aten.convolution_backward(
        go, x, w, [5], [1], [0], [2], False, [0], 1, [True, False, True]), torch.ones_like(out), x1, weight)
