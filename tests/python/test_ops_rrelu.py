"""rrelu_with_noise (functional, in-place, out= and _functional forms) and its
backward. Eval mode is deterministic and must equal CPU; training draws from the
device's generator, so it is checked by what must hold: each element <= 0 is
scaled by its noise in [lower, upper], noise is 1 elsewhere, and the gradient
is grad * noise."""
import re

import pytest
import torch
import torch.nn.functional as F

import torch_pjrt
from op_testing import DEVICE, assert_same, check, check_op, check_raises, make

P = torch.ops.aten
DTYPES = [torch.float32, torch.float64, torch.bfloat16, torch.float16]
SPECIAL = [-2.0, -0.0, 0.0, 1.5, float("nan"), float("-inf"), float("inf")]


@pytest.fixture(autouse=True)
def no_cpu_fallback():
    torch_pjrt.reset_metrics()
    yield
    assert torch_pjrt.metrics()["cpu_fallbacks"] == 0


def inputs(dtype, noncontiguous=False):
    x = make((4, 9), dtype, noncontiguous=noncontiguous)
    x[0, : len(SPECIAL)] = torch.tensor(SPECIAL, dtype=dtype)
    return x


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bounds", [(0.1, 0.3), (1 / 8, 1 / 3), (0, 1), (-0.5, 0.2)])
def test_eval_equals_cpu(dtype, bounds):
    lower, upper = bounds
    x = inputs(dtype)
    check_op(lambda v: F.rrelu(v, lower, upper, training=False), x)
    # The noise is left alone.
    check_op(lambda v, n: P.rrelu_with_noise(v, n, lower, upper, False), x, torch.full_like(x, 7))
    check_op(lambda v, n: P.rrelu_with_noise_functional(v, n, lower, upper, False), x,
             torch.full_like(x, 7))
    check_op(lambda v: F.rrelu(v, lower, upper, training=False, inplace=True), x)


def test_eval_noncontiguous_empty_and_0d():
    check_op(lambda v: F.rrelu(v, 0.1, 0.3), inputs(torch.float32, noncontiguous=True))
    check_op(lambda v: F.rrelu(v, 0.1, 0.3), make((0, 3), torch.float32))
    check_op(lambda v: F.rrelu(v, 0.1, 0.3), torch.tensor(-2.0))


def relations(x, noise, out, lower, upper):
    """What a training-mode result must satisfy, on CPU copies."""
    x, noise, out = x.cpu(), noise.cpu(), out.cpu()
    assert out.dtype == x.dtype and noise.dtype == x.dtype and out.shape == x.shape
    scaled = x <= 0
    assert torch.all(noise[~scaled] == 1)
    drawn = noise[scaled].double()
    assert torch.all((drawn >= lower) & (drawn <= upper)), drawn
    exact = dict(rtol=0, atol=0, equal_nan=True)
    torch.testing.assert_close(out[~scaled], x[~scaled], **exact)
    expected = (x.double() * noise.double()).to(x.dtype)
    if x.dtype in (torch.float32, torch.float64):
        torch.testing.assert_close(out, expected, **exact)
    else:  # CPU multiplies by the draw before it is rounded to the noise's dtype
        torch.testing.assert_close(out, expected, equal_nan=True)
    # -0 stays -0 and 0 stays 0.
    assert torch.equal(torch.signbit(out[x == 0]), torch.signbit(x[x == 0]))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("noncontiguous", [False, True])
def test_training_relations(dtype, noncontiguous):
    lower, upper = 0.1, 0.3
    x = inputs(dtype, noncontiguous).to(DEVICE)
    noise = torch.zeros(x.shape, dtype=dtype).to(DEVICE)
    out = P.rrelu_with_noise(x, noise, lower, upper, True)
    relations(x, noise, out, lower, upper)
    out, fresh = P.rrelu_with_noise_functional(x, torch.zeros_like(noise), lower, upper, True)
    relations(x, fresh, out, lower, upper)
    kept = torch.zeros_like(noise)
    written = torch.empty(0, dtype=dtype).to(DEVICE)
    P.rrelu_with_noise.out(x, kept, lower, upper, True, None, out=written)
    relations(x, kept, written, lower, upper)
    y = x.clone()
    P.rrelu_with_noise_(y, noise, lower, upper, True)
    relations(x, noise, y, lower, upper)


def test_training_draws_are_uniform_and_seeded():
    lower, upper = 0.2, 0.6
    x = -torch.ones(20000).to(DEVICE)
    torch.manual_seed(3)
    first = F.rrelu(x, lower, upper, training=True).cpu() / -1
    torch.manual_seed(3)
    again = F.rrelu(x, lower, upper, training=True).cpu() / -1
    other = F.rrelu(x, lower, upper, training=True).cpu() / -1
    assert torch.equal(first, again) and not torch.equal(first, other)
    assert first.min() >= lower and first.max() <= upper
    assert abs(first.mean().item() - (lower + upper) / 2) < 0.005
    # Uniform: standard deviation (upper - lower) / sqrt(12).
    assert abs(first.std().item() - (upper - lower) / 12 ** 0.5) < 0.005
    assert len(first.unique()) > 19000


def test_training_in_place_and_empty():
    x = make((4, 9), torch.float32).to(DEVICE)
    y = x.clone()
    assert F.rrelu(y, 0.1, 0.3, training=True, inplace=True) is y
    positive = x.cpu() > 0
    assert torch.equal(y.cpu()[positive], x.cpu()[positive])
    ratio = y.cpu()[x.cpu() < 0] / x.cpu()[x.cpu() < 0]
    assert torch.all((ratio >= 0.1) & (ratio <= 0.3))
    empty = torch.zeros(0, 4).to(DEVICE)
    assert F.rrelu(empty, training=True).shape == (0, 4)


@pytest.mark.parametrize("dtype", DTYPES)
def test_gradients(dtype):
    x = make((4, 9), dtype)
    x[0, :2] = torch.tensor([0.0, -0.0])
    weight = make(x.shape, dtype, seed=4)
    # Eval: leaky_relu's gradient with the mean slope, as CPU.
    cpu = x.clone().requires_grad_()
    dev = x.to(DEVICE).requires_grad_()
    (F.rrelu(cpu, 0.1, 0.3) * weight).sum().backward()
    (F.rrelu(dev, 0.1, 0.3) * weight.to(DEVICE)).sum().backward()
    assert_same(dev.grad, cpu.grad)
    # Training: grad * noise.
    dev = x.to(DEVICE).requires_grad_()
    noise = torch.zeros(x.shape, dtype=dtype).to(DEVICE)
    (P.rrelu_with_noise(dev, noise, 0.1, 0.3, True) * weight.to(DEVICE)).sum().backward()
    assert torch.equal(dev.grad.cpu(), weight * noise.cpu())


@pytest.mark.parametrize("training", [True, False])
def test_backward_op(training):
    g = make((3, 5), torch.float32, seed=1)
    x = make((3, 5), torch.float32, seed=2)
    noise = make((3, 5), torch.float32, low=0.1, high=0.3, seed=3)
    for lower, upper in [(0.1, 0.3), (0.2, 0.2), (0, 1)]:
        check(P.rrelu_with_noise_backward, g, x, noise, lower, upper, training, False)
        check(P.rrelu_with_noise_backward, g, x, noise, lower, upper, training, True)
    # Promotion and broadcasting as noise * grad / leaky_relu_backward.
    check(P.rrelu_with_noise_backward, g.double(), x, noise, 0.1, 0.3, training, False)
    check(P.rrelu_with_noise_backward, g.bfloat16(), x, noise, 0.1, 0.3, training, False)
    check(P.rrelu_with_noise_backward, g, x, noise[:1], 0.1, 0.3, training, False)
    check(P.rrelu_with_noise_backward, g.long(), x, noise, 0.1, 0.3, training, False)


def test_bad_arguments():
    x = make((2, 3), torch.float32)
    for training in (True, False):
        error = check_raises(P.rrelu_with_noise, x, torch.zeros(3), 0.1, 0.3, training)
        assert "noise tensor shape must match self tensor shape" in str(error)
    error = check_raises(P.rrelu_with_noise, x, torch.zeros(2, 3, dtype=torch.float64), 0.1, 0.3,
                         True)
    assert "expected scalar type Float but found Double" in str(error)
    check(P.rrelu_with_noise, x, torch.zeros(2, 3, dtype=torch.float64), 0.1, 0.3, False)
    error = check_raises(P.rrelu_with_noise, x.int(), torch.zeros(2, 3).int(), 0.1, 0.3, True)
    assert isinstance(error, NotImplementedError) and "rrelu_with_noise_out_cpu" in str(error)
    error = check_raises(P.rrelu_with_noise, x.int(), torch.zeros(2, 3).int(), 0.1, 0.3, False)
    assert isinstance(error, NotImplementedError) and "leaky_relu_cpu" in str(error)
    error = check_raises(F.rrelu, x, 0.5, 0.1)
    assert "Lower bound should be less than or equal to the upper bound" in str(error)


@pytest.mark.parametrize("lower, upper, message", [
    (0.5, 0.1, "Expected from <= to to be true"),
    (float("nan"), 0.1, "Expected from <= to to be true"),
    (0.1, float("inf"), re.escape("Expected to - from <= std::numeric_limits<T>::max()")),
])
def test_bad_bounds_raise_when_drawing(lower, upper, message):
    # CPU checks the bounds only when some element needs a draw.
    positive = (make((2, 3), torch.float32, low=1, high=2)).to(DEVICE)
    noise = torch.zeros(2, 3).to(DEVICE)
    P.rrelu_with_noise(positive, noise, lower, upper, True).cpu()
    with pytest.raises(RuntimeError, match=message):
        P.rrelu_with_noise(-positive, noise, lower, upper, True).cpu()
    torch.tpu.synchronize()


def test_in_place_backward_with_negative_slope_raises():
    g, x = torch.ones(3).to(DEVICE), torch.ones(3).to(DEVICE)
    with pytest.raises(RuntimeError, match="In-place leakyReLu backward calculation is triggered"):
        P.rrelu_with_noise_backward(g, x, x, -0.5, -0.1, False, True).cpu()
    torch.tpu.synchronize()
