"""fractional_max_pool2d/3d and their backward against CPU. The windows follow
from the random samples, so with the same _random_samples values, indices and
gradients must equal CPU's exactly."""
import re

import pytest
import torch
import torch.nn.functional as F

import torch_pjrt
from op_testing import DEVICE, assert_same, check, check_op, check_raises, make

P = torch.ops.aten
DTYPES = [torch.float32, torch.float64, torch.bfloat16, torch.float16]


@pytest.fixture(autouse=True)
def no_cpu_fallback():
    torch_pjrt.reset_metrics()
    yield
    assert torch_pjrt.metrics()["cpu_fallbacks"] == 0


def samples(batch, channels, spatial, dtype, seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(batch, channels, spatial, generator=g, dtype=torch.float64).to(dtype)


def pool(spatial):
    return F.fractional_max_pool2d if spatial == 2 else F.fractional_max_pool3d


def with_ties_and_nans(x):
    """Few distinct values (ties pick the first maximum), a NaN and an -inf."""
    x = x.round()
    flat = x.view(-1)
    flat[3] = float("nan")
    flat[flat.numel() // 2] = float("-inf")
    return x


# (input spatial size, kernel, output size): windows that overlap, that touch
# the input's edge, a single output position and a kernel of 1.
CASES_2D = [((9, 8), (2, 3), (5, 4)), ((7, 7), (3, 3), (5, 1)), ((6, 5), (1, 2), (6, 4))]
CASES_3D = [((6, 7, 5), (2, 3, 2), (4, 3, 3)), ((5, 5, 6), (1, 2, 3), (1, 3, 2))]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("spatial", [2, 3])
@pytest.mark.parametrize("batched", [True, False])
def test_forward_equals_cpu(dtype, spatial, batched):
    for n, (size, kernel, out) in enumerate(CASES_2D if spatial == 2 else CASES_3D):
        shape = ((2, 3) if batched else (3,)) + size
        x = make(shape, dtype, seed=n)
        if n == 0:
            x = with_ties_and_nans(x)
        rs = samples(2 if batched else 1, 3, spatial, dtype, seed=n)
        check_op(lambda v, s: pool(spatial)(v, kernel, output_size=out, return_indices=True,
                                            _random_samples=s), x, rs)


@pytest.mark.parametrize("spatial", [2, 3])
def test_noncontiguous_and_output_ratio(spatial):
    size = (8, 9) if spatial == 2 else (6, 7, 8)
    x = make((2, 3) + size, torch.float32, noncontiguous=True)
    rs = samples(3, 3, spatial, torch.float32).transpose(0, 1).contiguous().transpose(0, 1)
    assert not rs.is_contiguous()
    check_op(lambda v, s: pool(spatial)(v, 2, output_ratio=(0.5,) * spatial, return_indices=True,
                                        _random_samples=s), x, rs)


def test_rounding_of_half_precision_intervals():
    # Long rows: the interval arithmetic in bf16/f16 rounds differently from f32.
    for dtype in (torch.bfloat16, torch.float16):
        x = make((1, 4, 3, 300), dtype)
        rs = samples(1, 4, 2, dtype, seed=5)
        check_op(lambda v, s: F.fractional_max_pool2d(v, (2, 3), output_size=(2, 137),
                                                      return_indices=True, _random_samples=s),
                 x, rs)


@pytest.mark.parametrize("spatial", [2, 3])
def test_empty_batch(spatial):
    size = (5, 6) if spatial == 2 else (4, 5, 6)
    x = make((0, 2) + size, torch.float32)
    op = P.fractional_max_pool2d if spatial == 2 else P.fractional_max_pool3d
    k = [2] * spatial
    check_op(lambda v, s: op(v, k, k, s), x, samples(0, 2, spatial, torch.float32))


def test_empty_window_sizes_as_cpu():
    # kernel 0: CPU's loop never runs (-inf at the window start); output 0: empty.
    x = make((2, 3, 7, 6), torch.float32)
    rs = samples(2, 3, 2, torch.float32)
    check_op(lambda v, s: P.fractional_max_pool2d(v, [0, 2], [3, 3], s), x, rs)
    check_op(lambda v, s: P.fractional_max_pool2d(v, [2, 2], [0, 3], s), x, rs)


@pytest.mark.parametrize("spatial", [2, 3])
def test_out_form(spatial):
    size = (7, 6) if spatial == 2 else (5, 6, 7)
    x = make((2, 3) + size, torch.float64)
    rs = samples(2, 3, spatial, torch.float64)
    op = P.fractional_max_pool2d if spatial == 2 else P.fractional_max_pool3d
    k, o = [2] * spatial, [3] * spatial
    check_op(lambda v, s, a, b: op.output(v, k, o, s, output=a, indices=b), x, rs,
             torch.empty(0, dtype=torch.float64), torch.empty(0, dtype=torch.int64))


def grads(fn, x, seed=9):
    cpu = x.clone().requires_grad_()
    dev = x.to(DEVICE).requires_grad_()
    out = fn(cpu)
    weight = make(out.shape, out.dtype, seed=seed)
    (out * weight).sum().backward()
    (fn(dev) * weight.to(DEVICE)).sum().backward()
    assert_same(dev.grad, cpu.grad)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("spatial", [2, 3])
def test_gradient_equals_cpu(dtype, spatial):
    # Heavily overlapping windows over few distinct values: one input element
    # is the maximum of several windows and sums their gradients.
    size = (9, 8) if spatial == 2 else (6, 7, 5)
    kernel = (3,) * spatial
    # 3-d windows may not end at the input's edge.
    out = tuple(s - spatial for s in size)
    x = make((2, 3) + size, dtype).round()
    rs = samples(2, 3, spatial, dtype)
    grads(lambda v: pool(spatial)(v, kernel, output_size=out,
                                  _random_samples=rs.to(v.device)), x)
    grads(lambda v: pool(spatial)(v[0], kernel, output_size=out,
                                  _random_samples=rs[:1].to(v.device)), x)


@pytest.mark.parametrize("spatial", [2, 3])
def test_backward_op(spatial):
    size = (7, 6) if spatial == 2 else (6, 6, 7)
    x = make((2, 3) + size, torch.float32).round()
    op, backward = ((P.fractional_max_pool2d, P.fractional_max_pool2d_backward) if spatial == 2
                    else (P.fractional_max_pool3d, P.fractional_max_pool3d_backward))
    k, o = [2] * spatial, [4] * spatial
    _, index = op(x, k, o, samples(2, 3, spatial, torch.float32))
    grad = make(index.shape, torch.float32, seed=3)
    check(backward, grad, x, k, o, index)
    check(backward, grad[0], x[0], k, o, index[0])
    check(backward, grad.double(), x, k, o, index)  # dtype mismatch
    check(backward, grad, x, k, o, index.int())
    check(backward, grad, x, k, [4] * (spatial - 1) + [3], index)
    if spatial == 2:  # CPU's 3-d kernel reads such a gradient out of bounds
        check(backward, grad[:, :2], x, k, o, index)
    check(backward, grad.int(), x.int(), k, o, index)


def test_bad_arguments():
    x = make((2, 3, 7, 6), torch.float32)
    rs = samples(2, 3, 2, torch.float32)
    f = P.fractional_max_pool2d
    cases = [
        ((x[0, 0], [2, 2], [3, 3], rs), r"Expected 3D or 4D tensor, but got: \[7, 6\]"),
        ((x[:, :0], [2, 2], [3, 3], rs[:, :0]), "non-zero size for non-batch dimensions"),
        ((x, [2, 2], [7, 3], rs), "pool height 2 too large relative to input height 7"),
        ((x, [2, 2], [3, 6], rs), "pool width 2 too large relative to input width 6"),
        ((x, [2], [3, 3], rs), "kernel_size must either be a single Int or tuple of Ints"),
        ((x, [2, 2], [3], rs), "output_size must either be a single Int or tuple of Ints"),
        ((x, [2, 2], [-1, 3], rs), "negative dimension -1"),
        ((x, [2, 2], [3, 3], rs.double()), "same dtype as input"),
        ((x, [2, 2], [3, 3], rs[0]), "Expect _random_samples to have 3 dimensions, got 2"),
        ((x, [2, 2], [3, 3], rs[:1]), r"size\(0\) no less then input batch size"),
        ((x, [2, 2], [3, 3], rs[:, :2]), r"size\(1\) equals to input channel size"),
        ((x, [2, 2], [3, 3], samples(2, 3, 3, torch.float32)), r"size\(2\) equals to 2; got 3"),
    ]
    for args, message in cases:
        assert re.search(message, str(check_raises(f, *args)))
    error = check_raises(f, x.int(), [2, 2], [3, 3], rs.int())
    assert isinstance(error, NotImplementedError)
    assert "fractional_max_pool2d_out_frame" in str(error)
    x3 = make((2, 2, 7, 6, 6), torch.float32)
    rs3 = samples(2, 2, 3, torch.float32)
    f3 = P.fractional_max_pool3d
    cases = [
        ((x3[0, 0], [2, 2, 2], [3, 3, 3], rs3), r"Expected 4D or 5D tensor, but got: \[7, 6, 6\]"),
        ((x3, [2, 2, 2], [6, 3, 3], rs3), "pool time 2 too large relative to input time 7"),
        ((x3, [2, 2, 2], [3, 5, 5], rs3), "pool width 2 too large relative to input width 6"),
        ((x3, [2, 2, 2], [3, 5, 3], rs3), "pool height 2 too large relative to input height 6"),
        ((x3, [2, 2], [3, 3, 3], rs3), "tuple of three Ints"),
        ((x3, [2, 2, 2], [3, 3, 3], rs3[..., :2]), r"size\(2\) equals to 3; got 2"),
    ]
    for args, message in cases:
        assert re.search(message, str(check_raises(f3, *args)))


def test_window_outside_the_input_raises_on_the_device():
    # bf16 rounding of the interval arithmetic moves the last-but-one window
    # past the edge here; CPU asserts, the device reports it at the next sync.
    x = make((1, 1, 1, 2000), torch.bfloat16).to(DEVICE)
    rs = torch.tensor([[[0.0, 0.5]]], dtype=torch.bfloat16).to(DEVICE)
    with pytest.raises(RuntimeError, match="a pooling window starts at 2000, outside"):
        P.fractional_max_pool2d(x, [1, 2], [1, 1000], rs)[0].cpu()
    torch.tpu.synchronize()


def test_backward_index_out_of_range_raises_on_the_device():
    x = make((1, 2, 4, 4), torch.float32).to(DEVICE)
    index = torch.tensor([[[[0, 16]], [[3, 5]]]]).to(DEVICE)
    grad = torch.ones(1, 2, 1, 2).to(DEVICE)
    with pytest.raises(RuntimeError, match="index 16 is outside the input plane"):
        P.fractional_max_pool2d_backward(grad, x, [2, 2], [1, 2], index).cpu()
    torch.tpu.synchronize()
