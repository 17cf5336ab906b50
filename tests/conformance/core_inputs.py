"""Hand-written inputs for core ATen overloads that no op_db sample reaches and whose
schema the generic generator cannot fill (lists of a fixed length, statistics that
must come from a forward call, integer-only Scalars, ...).

INPUTS maps an overload ("avg_pool2d_backward.default") to a function that builds,
on CPU, a list of calls (args, kwargs); core_aten.probe runs every call on CPU and
on the device and compares. VERIFY maps a random overload to a function that checks
one device result against its own CPU-side inputs instead of against CPU's draw.
"""
import torch


def _randn(*shape, dtype=torch.float32):
    return torch.randn(*shape, dtype=dtype)


def _ints(*shape, dtype=torch.int64, low=-20, high=20):
    return torch.randint(low, high, shape, dtype=torch.int64).to(dtype)


def _embedding_bag():
    weight = _randn(10, 3)
    indices = torch.tensor([1, 2, 4, 5, 4, 3, 2, 9])
    offsets = torch.tensor([0, 3, 3, 6])
    return [((weight, indices, offsets, False, mode), {}) for mode in (0, 1, 2)]


def _batch_norm_no_stats():
    x = _randn(2, 3, 4, 4)
    return [((x, _randn(3), _randn(3), True, 0.1, 1e-5), {}),
            ((x, None, None, True, 0.1, 1e-3), {})]


def _batch_norm_no_training():
    x = _randn(2, 3, 4, 4)
    mean, var = _randn(3), torch.rand(3) + 0.5
    return [((x, _randn(3), _randn(3), mean, var, 0.1, 1e-5), {}),
            ((x, None, None, mean, var, 0.1, 1e-5), {})]


def _atan2_out():
    a, b = _randn(3, 4), _randn(3, 4)
    b[0, 0] = 0.0
    return [((a, b), {"out": torch.empty(3, 4)}),
            ((a.double(), _randn(4, dtype=torch.float64)), {"out": torch.empty(3, 4, dtype=torch.float64)})]


def _avg_pool2d_backward():
    calls = []
    for kernel, stride, padding, ceil_mode, include_pad, divisor in (
            ([2, 2], [2, 2], [0, 0], False, True, None),
            ([3, 3], [2, 2], [1, 1], True, False, None),
            ([3, 2], [1, 2], [1, 0], False, True, 5)):
        x = _randn(2, 3, 6, 7)
        out = torch.ops.aten.avg_pool2d(x, kernel, stride, padding, ceil_mode, include_pad, divisor)
        calls.append(((_randn(*out.shape), x, kernel, stride, padding, ceil_mode, include_pad, divisor), {}))
    return calls


def _bitwise_scalar():
    return [((_ints(3, 4), 5), {}), ((_ints(3, 4, dtype=torch.int32), -6), {}),
            ((_ints(5, dtype=torch.uint8, low=0, high=255), 0x5A), {}),
            ((torch.tensor([True, False, True]), True), {}), ((torch.tensor([True, False]), False), {})]


def _col2im():
    calls = []
    for size, kernel, dilation, padding, stride in (
            ([4, 5], [2, 2], [1, 1], [0, 0], [1, 1]),
            ([5, 6], [3, 2], [1, 2], [1, 1], [2, 1])):
        image = _randn(2, 2, *size)
        columns = torch.nn.functional.unfold(image, kernel, dilation, padding, stride)
        calls.append(((_randn(*columns.shape), size, kernel, dilation, padding, stride), {}))
    return calls


def _convolution_backward():
    calls = []
    for x_shape, w_shape, stride, padding, dilation, transposed, out_padding, groups, mask in (
            ((2, 4, 5, 5), (6, 2, 3, 3), [2, 2], [1, 1], [1, 1], False, [0, 0], 2, [True, True, True]),
            ((1, 3, 7), (4, 3, 2), [1], [0], [2], False, [0], 1, [True, False, True]),
            ((2, 4, 4, 4), (4, 3, 3, 3), [2, 2], [1, 1], [1, 1], True, [1, 1], 1, [True, True, False])):
        x, w = _randn(*x_shape), _randn(*w_shape)
        bias = _randn(w_shape[1] * groups if transposed else w_shape[0])
        out = torch.ops.aten.convolution(x, w, bias, stride, padding, dilation, transposed, out_padding, groups)
        calls.append(((_randn(*out.shape), x, w, [bias.numel()], stride, padding, dilation, transposed,
                       out_padding, groups, mask), {}))
    return calls


def _div_scalar_mode():
    x = _randn(3, 4) * 5
    return [((x, 3.0), {"rounding_mode": "floor"}), ((x, -0.7), {"rounding_mode": "trunc"}),
            ((x, 2.0), {"rounding_mode": None}), ((_ints(3, 4), -3), {"rounding_mode": "floor"}),
            ((_ints(3, 4, dtype=torch.int32), 4), {"rounding_mode": "trunc"})]


def _embedding_dense_backward():
    indices = torch.tensor([[0, 2, 2], [5, 0, 1]])
    grad = _randn(2, 3, 4)
    return [((grad, indices, 6, -1, False), {}), ((grad, indices, 6, 2, False), {}),
            ((grad, indices, 7, -1, True), {})]


def _native_dropout():
    x = _randn(4, 5)
    return [((x, 0.0, True), {}), ((x, 1.0, True), {}), ((x, 0.5, False), {}), ((x, 0.3, None), {}),
            ((x, 0.4, True), {})]


def _verify_native_dropout(actual, args):
    """A device draw cannot equal CPU's: the output must be the input where the mask
    keeps it, scaled by 1/(1-p), and zero elsewhere."""
    x, p, train = args
    out, mask = (t.cpu() for t in actual)
    if train is False:
        p = 0.0
    if out.shape != x.shape or mask.shape != x.shape or out.dtype != x.dtype or mask.dtype != torch.bool:
        raise AssertionError(f"native_dropout: got {out.shape}/{out.dtype} and mask {mask.shape}/{mask.dtype}")
    scale = 0.0 if p == 1 else 1.0 / (1.0 - p)
    torch.testing.assert_close(out, x * mask * scale)


def _group_norm_backward():
    calls = []
    for n, c, spatial, groups, mask, with_weight in ((2, 6, (3, 3), 3, [True, True, True], True),
                                                     (1, 4, (5,), 2, [True, False, False], False)):
        x = _randn(n, c, *spatial)
        weight = _randn(c) if with_weight else None
        hw = x[0, 0].numel()
        _, mean, rstd = torch.ops.aten.native_group_norm(x, weight, None, n, c, hw, groups, 1e-5)
        calls.append(((_randn(*x.shape), x, mean, rstd, weight, n, c, hw, groups, mask), {}))
    return calls


def _layer_norm_backward():
    calls = []
    for shape, normalized, mask, affine in (((2, 3, 4), [4], [True, True, True], True),
                                            ((3, 2, 5), [2, 5], [True, False, True], True),
                                            ((4, 3), [3], [True, False, False], False)):
        x = _randn(*shape)
        weight = _randn(*normalized) if affine else None
        bias = _randn(*normalized) if affine else None
        _, mean, rstd = torch.ops.aten.native_layer_norm(x, normalized, weight, bias, 1e-5)
        calls.append(((_randn(*shape), x, normalized, mean, rstd, weight, bias, mask), {}))
    return calls


def _upsample_bilinear2d():
    x = _randn(1, 2, 3, 4)
    return [((x, [6, 7], False, None), {}), ((x, None, True, [1.5, 2.0]), {}), ((x, [2, 3], True, None), {})]


def _upsample_nearest2d():
    x = _randn(1, 2, 3, 4)
    return [((x, [5, 7], None), {}), ((x, None, [2.0, 1.5]), {})]


def _var_dim():
    x = _randn(3, 4, 5)
    return [((x, [1], True, False), {}), ((x, [0, 2], False, True), {}), ((x, None, True, False), {}),
            ((x.double(), [-1], True, True), {})]


INPUTS = {
    "_embedding_bag.default": _embedding_bag,
    "_native_batch_norm_legit.no_stats": _batch_norm_no_stats,
    "_native_batch_norm_legit_no_training.default": _batch_norm_no_training,
    "atan2.out": _atan2_out,
    "avg_pool2d_backward.default": _avg_pool2d_backward,
    "bitwise_and.Scalar": _bitwise_scalar,
    "bitwise_or.Scalar": _bitwise_scalar,
    "bitwise_xor.Scalar": _bitwise_scalar,
    "col2im.default": _col2im,
    "convolution_backward.default": _convolution_backward,
    "div.Scalar_mode": _div_scalar_mode,
    "embedding_dense_backward.default": _embedding_dense_backward,
    "native_dropout.default": _native_dropout,
    "native_group_norm_backward.default": _group_norm_backward,
    "native_layer_norm_backward.default": _layer_norm_backward,
    "reflection_pad2d.default": lambda: [((_randn(1, 2, 4, 5), [1, 2, 2, 1]), {}), ((_randn(2, 3, 3), [2, 0, 1, 2]), {})],
    "reflection_pad3d.default": lambda: [((_randn(1, 2, 3, 4, 5), [1, 2, 1, 2, 2, 1]), {})],
    "replication_pad3d.default": lambda: [((_randn(1, 2, 3, 4, 5), [1, 2, 0, 3, 2, 1]), {}),
                                          ((_randn(2, 2, 3, 2), [2, 2, 1, 0, 1, 1]), {})],
    "upsample_bilinear2d.vec": _upsample_bilinear2d,
    "upsample_nearest2d.vec": _upsample_nearest2d,
    "var.dim": _var_dim,
}

VERIFY = {"native_dropout.default": _verify_native_dropout}
