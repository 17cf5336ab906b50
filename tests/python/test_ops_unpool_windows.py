"""max_unpool2d/3d, nn.functional.unfold/fold (im2col/col2im) and
unfold_backward against CPU, values and gradients."""
import pytest
import torch
import torch.nn.functional as F

import torch_pjrt
from op_testing import DEVICE, FLOAT_DTYPES, assert_same, check, check_op, make


@pytest.fixture(autouse=True)
def no_cpu_fallback():
    torch_pjrt.reset_metrics()
    yield
    assert torch_pjrt.metrics()["cpu_fallbacks"] == 0


def grads(fn, x, seed=9):
    cpu = x.clone().requires_grad_()
    dev = x.to(DEVICE).requires_grad_()
    out = fn(cpu)
    weight = make(out.shape, out.dtype, seed=seed)
    (out * weight).sum().backward()
    (fn(dev) * weight.to(DEVICE)).sum().backward()
    assert_same(dev.grad, cpu.grad)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES + [torch.float16])
@pytest.mark.parametrize("batched", [True, False])
def test_max_unpool2d(dtype, batched):
    x = make((2, 3, 6, 5) if batched else (3, 6, 5), dtype)
    for kernel, stride in [(2, 2), (3, 1)]:
        pooled, index = F.max_pool2d(x, kernel, stride, return_indices=True)
        check_op(lambda v, i: F.max_unpool2d(v, i, kernel, stride, output_size=x.shape[-2:]),
                 pooled, index)


def test_max_unpool1d_3d_and_gradient():
    x = make((2, 3, 8), torch.float32)
    pooled, index = F.max_pool1d(x, 2, return_indices=True)
    check_op(lambda v, i: F.max_unpool1d(v, i, 2), pooled, index)
    x3 = make((1, 2, 4, 4, 6), torch.float64)
    pooled, index = F.max_pool3d(x3, 2, return_indices=True)
    check_op(lambda v, i: F.max_unpool3d(v, i, 2), pooled, index)
    check_op(lambda v, i: F.max_unpool3d(v, i, 2), pooled[0], index[0])
    grads(lambda v: F.max_unpool3d(v, index.to(v.device), 2), pooled)
    pooled, index = F.max_pool2d(make((2, 2, 4, 4), torch.float64), 2, return_indices=True)
    grads(lambda v: F.max_unpool2d(v, index.to(v.device), 2), pooled)


def test_max_unpool_errors():
    v, i = torch.ones(1, 2, 2, 2), torch.zeros(1, 2, 2, 2, dtype=torch.long)
    assert "int64" in str(check(lambda a, b: torch.ops.aten.max_unpool2d(a, b, [4, 4]), v,
                                i.float()))
    check(lambda a, b: torch.ops.aten.max_unpool2d(a, b, [4, 4]), v, i[:, :1])
    check(lambda a, b: torch.ops.aten.max_unpool2d(a, b, [4, 4, 4]), v, i)
    check(lambda a, b: torch.ops.aten.max_unpool2d(a, b, [4, 4]), v[0, 0], i[0, 0])
    check(lambda a, b: torch.ops.aten.max_unpool2d(a, b, [4, 4]), v.int(), i)
    check(lambda a, b: torch.ops.aten.max_unpool3d(a, b, [1, 4, 4], [1, 0, 1], [0, 0, 0]),
          v[None], i[None])
    check_op(lambda a, b: torch.ops.aten.max_unpool2d(a, b, [4, 4]), torch.ones(0, 1, 2, 2),
             torch.zeros(0, 1, 2, 2, dtype=torch.long))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES + [torch.complex64, torch.bool])
def test_unfold_fold(dtype):
    x = make((2, 3, 5, 6), dtype)
    for args in [dict(kernel_size=2), dict(kernel_size=(2, 3), dilation=(1, 2), padding=1,
                                           stride=(2, 1))]:
        cols = check_op(lambda t: F.unfold(t, **args), x)
        check_op(lambda t: F.unfold(t, **args), x[0])
        check_op(lambda t: F.fold(t, (5, 6), **args), cols.cpu())
        check_op(lambda t: F.fold(t, (5, 6), **args), cols.cpu()[0])


def test_unfold_fold_gradients_and_errors():
    x = make((2, 2, 4, 5), torch.float64, noncontiguous=True)
    grads(lambda t: F.unfold(t, 2, padding=1, stride=2), x)
    cols = make((2, 8, 12), torch.float64)
    grads(lambda t: F.fold(t, (4, 5), 2), cols)
    check(lambda t: F.unfold(t, 7), make((1, 1, 3, 3), torch.float32))
    check(lambda t: F.unfold(t, 0), make((1, 1, 3, 3), torch.float32))
    check(lambda t: F.fold(t, (4, 5), 2), make((2, 7, 12), torch.float32))
    check(lambda t: F.fold(t, (4, 5), 2), make((2, 8, 11), torch.float32))
    check(lambda t: F.unfold(t, 2), make((1, 1, 3, 3), torch.int64))
    check(lambda t: F.fold(t, (4, 5), 2), make((2, 8, 12), torch.int32))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES + [torch.complex64])
def test_unfold_backward(dtype):
    x = make((4, 7), dtype)
    for dim, size, step in [(1, 3, 2), (0, 2, 1), (1, 2, 3), (-1, 7, 1)]:
        windows = x.unfold(dim, size, step)
        grad = make(windows.shape, dtype, seed=3)
        check_op(lambda g: torch.ops.aten.unfold_backward(g, x.shape, dim, size, step), grad)
    grads(lambda t: t.unfold(1, 3, 2), make((4, 7), torch.float64))
    check_op(lambda g: torch.ops.aten.unfold_backward(g, [], 0, 1, 1), torch.ones(1))
