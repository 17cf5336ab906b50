"""Convolution and pooling against PyTorch on CPU: values over dtypes and window
arguments (stride, padding, dilation, groups, transposed with output_padding,
ceil_mode, count_include_pad, divisor_override, adaptive sizes), gradients through torch.autograd, non-contiguous and empty inputs, and the
errors CPU raises. Every op here runs natively (no CPU fallback)."""
import pytest
import torch
import torch.nn.functional as F

from op_testing import DEVICE, check_op, check_raises, make
from window_testing import FLOATS, _TOL, check, check_grads, no_fallbacks, tol  # noqa: F401

pytestmark = pytest.mark.skipif(DEVICE == "cpu", reason="compares device results against CPU")


# ---------------------------------------------------------------- convolution

CONV_CASES = [
    # (dims, in_channels, out_channels, kernel, kwargs)
    (1, 4, 6, 3, {}),
    (1, 4, 6, 3, {"stride": 2, "padding": 1, "dilation": 2}),
    (2, 3, 4, 3, {}),
    (2, 3, 4, (3, 2), {"stride": (2, 1), "padding": (1, 2)}),
    (2, 4, 6, 3, {"groups": 2, "dilation": 2, "padding": 2}),
    (2, 4, 4, 3, {"groups": 4, "stride": 3}),
    (2, 3, 4, 1, {"padding": 0}),
    (3, 2, 4, 2, {"stride": 2, "padding": 1}),
]


def conv_fn(dims):
    return {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[dims]


def conv_input(dims, channels, dtype=torch.float32, batch=2, seed=0, noncontiguous=False):
    return make((batch, channels) + (7,) * dims, dtype, seed=seed, noncontiguous=noncontiguous)


@pytest.mark.parametrize("case", range(len(CONV_CASES)))
def test_conv_forward_and_backward(case):
    dims, cin, cout, k, kwargs = CONV_CASES[case]
    bias = case % 2 == 0
    groups = kwargs.get("groups", 1)
    ks = (k,) * dims if isinstance(k, int) else k
    x = conv_input(dims, cin)
    w = make((cout, cin // groups) + ks, torch.float32, seed=1)
    b = make((cout,), torch.float32, seed=2) if bias else None
    fn = conv_fn(dims)
    check_grads(lambda x, w, b: fn(x, w, b, **kwargs), x, w, b,
                wrt=(0, 1, 2) if bias else (0, 1))


TRANSPOSED_CASES = [
    (1, 4, 6, 3, {"stride": 2, "padding": 1, "output_padding": 1}),
    (2, 3, 4, 3, {}),
    (2, 4, 6, 3, {"stride": 2, "padding": 1, "output_padding": 1, "groups": 2}),
    (2, 2, 3, (3, 2), {"stride": (3, 2), "padding": (2, 0), "dilation": (1, 2),
                       "output_padding": (2, 1)}),
    (2, 2, 3, 2, {"padding": 3}),  # padding beyond the kernel's reach crops
    (3, 2, 2, 2, {"stride": 2}),
]


@pytest.mark.parametrize("dims,cin,cout,k,kwargs", TRANSPOSED_CASES)
def test_conv_transpose_forward_and_backward(dims, cin, cout, k, kwargs):
    groups = kwargs.get("groups", 1)
    ks = (k,) * dims if isinstance(k, int) else k
    x = conv_input(dims, cin)
    w = make((cin, cout // groups) + ks, torch.float32, seed=1)
    b = make((cout,), torch.float32, seed=2)
    fn = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}[dims]
    check_grads(lambda x, w, b: fn(x, w, b, **kwargs), x, w, b, wrt=(0, 1, 2))


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
def test_conv_dtypes(dtype):
    x = conv_input(2, 4, dtype)
    w = make((6, 2, 3, 3), dtype, seed=1)
    b = make((6,), dtype, seed=2)
    check_op(lambda x, w, b: F.conv2d(x, w, b, padding=1, groups=2), x, w, b, **tol(dtype))
    check_grads(lambda x, w: F.conv2d(x, w, stride=2, groups=2), x, w, wrt=(0, 1), **tol(dtype))


@pytest.mark.parametrize("dtype", [torch.int64, torch.int32], ids=str)
def test_conv_integers(dtype):
    x, w = make((2, 4, 6, 5), dtype), make((6, 2, 3, 2), dtype, seed=1)
    check_op(lambda x, w, b: F.conv2d(x, w, b, stride=(1, 2), padding=1, groups=2), x, w,
             make((6,), dtype, seed=2))
    check(lambda x, w: F.conv_transpose1d(x, w, stride=2), make((1, 3, 4), dtype),
          make((3, 2, 3), dtype, seed=1))  # CPU: int64 only


def test_conv_noncontiguous_unbatched_empty_and_strided_layouts():
    w = make((5, 3, 3, 3), torch.float32, seed=1)
    check_op(lambda x, w: F.conv2d(x, w), conv_input(2, 3, noncontiguous=True), w, **tol(torch.float32))
    check_op(lambda x, w: F.conv2d(x, w), make((3, 6, 6), torch.float32), w, **tol(torch.float32))
    check_op(lambda x, w: F.conv2d(x, w), conv_input(2, 3, batch=0), w)
    check_op(lambda x, w: F.conv2d(x.permute(0, 3, 1, 2), w), make((2, 6, 6, 3), torch.float32),
             w.permute(0, 1, 3, 2), **tol(torch.float32))
    check_op(lambda x, w: F.conv2d(x, w, padding="same"), conv_input(2, 3), w, **tol(torch.float32))
    check_op(lambda x, w: F.conv2d(x, w, padding="same", dilation=2), conv_input(2, 3), w[..., :2],
             **tol(torch.float32))


def test_conv_modules_train():
    torch.manual_seed(0)
    for module in [torch.nn.Conv1d(3, 4, 3, padding=1), torch.nn.Conv2d(3, 4, 3, padding="same"),
                   torch.nn.ConvTranspose2d(3, 4, 3, stride=2), torch.nn.Conv3d(3, 2, 2)]:
        dims = {torch.nn.Conv1d: 1, torch.nn.Conv3d: 3}.get(type(module), 2)
        x = conv_input(dims, 3, batch=1)
        dev = type(module)(3, module.out_channels, module.kernel_size, stride=module.stride,
                           padding=module.padding).to(DEVICE)
        dev.load_state_dict(module.state_dict())
        module(x).square().sum().backward()
        dev(x.to(DEVICE)).square().sum().backward()
        for p, q in zip(module.parameters(), dev.parameters()):
            torch.testing.assert_close(q.grad.cpu(), p.grad, atol=1e-3, rtol=1e-4)


def test_conv_errors():
    x = conv_input(2, 3)
    w = make((4, 3, 3, 3), torch.float32)
    for fn, args in [
        (lambda x, w: F.conv2d(x, w), (x, make((4, 2, 3, 3), torch.float32))),  # channels
        (lambda x, w: F.conv2d(x, w), (make((1, 3, 2, 2), torch.float32), w)),  # kernel too big
        (lambda x, w: F.conv2d(x, w, groups=2), (make((1, 4, 5, 5), torch.float32), w[:3, :2])),
        (lambda x, w: F.conv2d(x, w, stride=0), (x, w)),
        (lambda x, w: F.conv2d(x, w, padding=-1), (x, w)),
        (lambda x, w: F.conv2d(x, w), (x, w.double())),
        (lambda x, w: F.conv2d(x, w), (x.bool(), w.bool())),
        (lambda x, w: F.conv2d(x, w, torch.zeros(3)), (x, w)),
        (lambda x, w: F.conv_transpose2d(x, w, stride=2, output_padding=2), (x, w.transpose(0, 1))),
    ]:
        check_raises(fn, *args)


# ---------------------------------------------------------------- pooling

MAX_POOL_CASES = [
    {"kernel_size": 2},
    {"kernel_size": 3, "stride": 2, "padding": 1},
    {"kernel_size": (3, 2), "stride": (1, 2), "dilation": (2, 1)},
    {"kernel_size": 3, "stride": 2, "ceil_mode": True},
    {"kernel_size": 2, "stride": 3, "padding": 1, "ceil_mode": True},
]


@pytest.mark.parametrize("kwargs", MAX_POOL_CASES, ids=str)
def test_max_pool2d(kwargs):
    x = make((2, 3, 9, 8), torch.float32)
    check_op(lambda x: F.max_pool2d(x, return_indices=True, **kwargs), x)
    check_grads(lambda x: F.max_pool2d(x, **kwargs), x)


@pytest.mark.parametrize("dtype", FLOATS + [torch.int64, torch.int32, torch.bool], ids=str)
def test_max_pool_dtypes(dtype):
    x = make((2, 6, 6), dtype)
    check(lambda x: F.max_pool2d(x, 2, return_indices=True), x)
    if dtype.is_floating_point:  # CPU's 1-d kernel (not the 2-d one it wraps) takes floats only
        check(lambda x: F.max_pool1d(x, 3, stride=2, padding=1), x)
    check(lambda x: F.max_pool3d(x.unsqueeze(0), 2, return_indices=True), x)


def test_max_pool_ties_nan_inf_noncontiguous():
    x = torch.tensor([[[[1.0, 1.0, float("nan"), 2.0], [1.0, float("-inf"), 3.0, float("nan")],
                        [float("-inf"), float("-inf"), 0.0, 0.0], [float("-inf"), float("-inf"), 0.0, 0.0]]]])
    check_op(lambda x: F.max_pool2d(x, 2, return_indices=True), x)
    check_op(lambda x: F.max_pool2d(x, 3, stride=1, padding=1, return_indices=True), x)
    check_op(lambda x: F.max_pool2d(x, 2, return_indices=True), make((2, 3, 6, 4), torch.float32,
                                                                     noncontiguous=True))
    check_grads(lambda x: F.max_pool2d(x, 3, stride=1), torch.zeros(1, 1, 5, 5))  # all tied


@pytest.mark.parametrize("kwargs", [{"kernel_size": 2}, {"kernel_size": 3, "stride": 2, "padding": 1},
                                    {"kernel_size": 2, "dilation": 2, "ceil_mode": True}], ids=str)
def test_max_pool3d_and_1d(kwargs):
    x = make((2, 2, 6, 7, 5), torch.float32)
    check_op(lambda x: F.max_pool3d(x, return_indices=True, **kwargs), x)
    check_grads(lambda x: F.max_pool3d(x, **kwargs), x)
    check_grads(lambda x: F.max_pool1d(x, **kwargs), make((2, 3, 11), torch.float32))


AVG_POOL_CASES = [
    {"kernel_size": 2},
    {"kernel_size": 3, "stride": 2, "padding": 1},
    {"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False},
    {"kernel_size": 3, "stride": 2, "ceil_mode": True},
    {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False},
    {"kernel_size": (2, 3), "stride": (1, 2), "divisor_override": 5},
]


@pytest.mark.parametrize("kwargs", AVG_POOL_CASES, ids=str)
def test_avg_pool(kwargs):
    check_grads(lambda x: F.avg_pool2d(x, **kwargs), make((2, 3, 8, 7), torch.float32))
    if kwargs.get("padding") == 1:
        check_grads(lambda x: F.avg_pool3d(x, **kwargs), make((1, 2, 5, 8, 7), torch.float32))
    if "divisor_override" not in kwargs and kwargs.get("ceil_mode"):
        one_d = {k: (v[0] if isinstance(v, tuple) else v) for k, v in kwargs.items()}
        check_grads(lambda x: F.avg_pool1d(x, **one_d), make((2, 3, 9), torch.float32))


@pytest.mark.parametrize("dtype", FLOATS + [torch.int64, torch.int32, torch.bool], ids=str)
def test_avg_pool_dtypes(dtype):
    x = make((2, 3, 7, 6), dtype)
    check(lambda x: F.avg_pool2d(x, 3, stride=2, padding=1), x, **tol(dtype) if dtype in _TOL else {})
    check(lambda x: F.avg_pool2d(x, 2, divisor_override=3), x, **tol(dtype) if dtype in _TOL else {})


@pytest.mark.parametrize("size", [(1, 1), (4, 5), (2, None)], ids=str)
def test_adaptive_pools(size):
    x = make((2, 3, 7, 6), torch.float32)
    check_grads(lambda x: F.adaptive_avg_pool2d(x, size), x)
    check_grads(lambda x: F.adaptive_max_pool2d(x, size), x)
    check_op(lambda x: F.adaptive_max_pool2d(x, size, return_indices=True), x)
    check_op(lambda x: F.adaptive_avg_pool2d(x, size), make((3, 7, 6), torch.float32,
                                                            noncontiguous=True))


# CPU's f16 transposed 2-d convolution rounds its column products and every
# overlapping addition to f16; the device matches it exactly.
@pytest.mark.parametrize("stride,padding,output_padding,dilation,groups", [
    ((2, 2), 2, (1, 1), 1, 1), ((3, 2), (1, 2), (2, 3), (4, 4), 2), ((1, 2), (2, 0), 0, 1, 1),
], ids=str)
def test_conv_transpose2d_half_exact(stride, padding, output_padding, dilation, groups):
    x = make((2, 2 * groups, 4, 5), torch.float16)
    w = make((2 * groups, 3, 3, 2), torch.float16, seed=1)
    b = make((3 * groups,), torch.float16, seed=2)
    fn = lambda x, w, b: F.conv_transpose2d(x, w, b, stride=stride, padding=padding,  # noqa: E731
                                            output_padding=output_padding, groups=groups,
                                            dilation=dilation)
    check_op(fn, x, w, b, atol=0, rtol=0)
    check_op(lambda x, w: fn(x, w, None), x[0], w, atol=0, rtol=0)


def test_adaptive_pools_1d_3d_dtypes_and_inf():
    check_grads(lambda x: F.adaptive_avg_pool1d(x, 4), make((2, 3, 9), torch.float32))
    check_grads(lambda x: F.adaptive_max_pool1d(x, 4), make((2, 3, 9), torch.float32))
    x3 = make((1, 2, 5, 4, 6), torch.float32)
    check_grads(lambda x: F.adaptive_avg_pool3d(x, (2, 3, 4)), x3)
    check_grads(lambda x: F.adaptive_max_pool3d(x, (2, 3, 4)), x3)
    check_op(lambda x: F.adaptive_max_pool3d(x, 3, return_indices=True), x3)
    x = make((1, 2, 5, 5), torch.float32)
    x[0, 0, 0, 0] = float("inf")
    x[0, 1, 4, 4] = float("nan")
    check_op(lambda x: F.adaptive_avg_pool2d(x, 2), x)
    check_op(lambda x: F.adaptive_max_pool2d(x, 3, return_indices=True), x)
    for dtype in [torch.float64, torch.bfloat16, torch.float16, torch.int64]:
        check(lambda x: F.adaptive_avg_pool2d(x, 3), make((2, 5, 4), dtype), **tol(dtype) if dtype in _TOL else {})
        check(lambda x: F.adaptive_max_pool2d(x, 3), make((2, 5, 4), dtype))
    # CPU's 3-d kernel sums and divides bf16/f16 windows in their own type.
    for dtype in [torch.bfloat16, torch.float16]:
        check_op(lambda x: F.adaptive_avg_pool3d(x, (2, 3, 4)), make((2, 3, 5, 6, 7), dtype),
                 atol=0, rtol=0)
        check_op(lambda x: F.adaptive_avg_pool3d(x, (3, 2, 2)), make((4, 3, 4, 5), dtype,
                                                                     noncontiguous=True),
                 atol=0, rtol=0)


def test_pool_errors():
    x = make((1, 2, 4, 4), torch.float32)
    check_raises(lambda x: F.max_pool2d(x, 2, padding=2), x)
    check_raises(lambda x: F.max_pool2d(x, 3, dilation=2, padding=2), make((1, 1, 9, 9), torch.float32))
    check_raises(lambda x: F.max_pool2d(x, 0), x)
    check_raises(lambda x: F.max_pool2d(x, 5), x)
    check_raises(lambda x: F.avg_pool2d(x, 2, divisor_override=0), x)
    check_raises(lambda x: F.avg_pool2d(x, 2, stride=0), x)
    check_raises(lambda x: F.max_pool2d(x, 2), make((4,), torch.float32))
    check_raises(lambda x: F.adaptive_avg_pool2d(x, (1, 2, 3)), x)


# Which empty dims each pooling accepts is CPU's: plain pooling refuses any
# empty dim but the batch (channels of an unbatched input too), adaptive max
# pooling any but the first, adaptive average pooling only empty spatial dims.
EMPTY_POOL_SHAPES = [(0, 3, 3), (2, 0, 3, 3), (0, 3, 3, 3), (1, 0, 2, 2, 2), (0, 2, 2, 2), (2, 2, 0, 3)]
EMPTY_POOLS = {
    "max_pool2d": lambda x: F.max_pool2d(x, 1),
    "max_pool3d": lambda x: F.max_pool3d(x, 1),
    "avg_pool3d": lambda x: F.avg_pool3d(x, 1),
    "adaptive_max_pool2d": lambda x: F.adaptive_max_pool2d(x, 1),
    "adaptive_max_pool3d": lambda x: F.adaptive_max_pool3d(x, 1),
    "adaptive_avg_pool2d": lambda x: F.adaptive_avg_pool2d(x, 1),
}


@pytest.mark.parametrize("shape", EMPTY_POOL_SHAPES, ids=str)
@pytest.mark.parametrize("name", sorted(EMPTY_POOLS))
def test_pooling_empty_dims_as_on_cpu(name, shape):
    check(EMPTY_POOLS[name], torch.zeros(shape))
