"""multi_margin_loss and multilabel_margin_loss against CPU: values for each
reduction, weights, p, and gradients."""
import pytest
import torch
import torch.nn.functional as F

import torch_pjrt
from op_testing import DEVICE, assert_same, check, check_op, make


@pytest.fixture(autouse=True)
def no_cpu_fallback():
    torch_pjrt.reset_metrics()
    yield
    assert torch_pjrt.metrics()["cpu_fallbacks"] == 0


def grads(fn, x, seed=9):
    cpu = x.clone().requires_grad_()
    dev = x.to(DEVICE).requires_grad_()
    out = fn(cpu, "cpu")
    weight = make(out.shape, out.dtype, seed=seed)
    (out * weight).sum().backward()
    (fn(dev, DEVICE) * weight.to(DEVICE)).sum().backward()
    assert_same(dev.grad, cpu.grad)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_multi_margin_loss(reduction, p, dtype):
    x = make((4, 5), dtype)
    target = torch.tensor([0, 4, 2, 2])
    weight = make((5,), dtype, low=0, high=2, seed=3)
    check_op(lambda t, y: F.multi_margin_loss(t, y, p=p, margin=0.7, reduction=reduction), x,
             target)
    check_op(lambda t, y, w: F.multi_margin_loss(t, y, p=p, weight=w, reduction=reduction), x,
             target, weight)
    check_op(lambda t, y: F.multi_margin_loss(t, y, reduction=reduction), x[0], target[1])
    grads(lambda t, dev: F.multi_margin_loss(t, target.to(dev), p=p, weight=weight.double().to(dev),
                                             reduction=reduction), x.double())


def test_margin_losses_of_a_0d_input():
    x, y = torch.tensor(0.5), torch.tensor(0)
    for reduction in ["none", "mean", "sum"]:
        check_op(lambda t, c: F.multi_margin_loss(t, c, reduction=reduction), x, y)
        check_op(lambda t, c: torch.ops.aten.multilabel_margin_loss_forward(t, c, 0), x, y)


def test_multi_margin_loss_errors():
    x = make((3, 4), torch.float32)
    loss = lambda **kw: lambda t, y: F.multi_margin_loss(t, y, **kw)
    assert "only p == 1 and p == 2" in str(
        check(lambda t, y: torch.ops.aten.multi_margin_loss(t, y, 3), x, torch.tensor([1, 2, 3])))
    assert "target tensor should be 1-D" in str(check(loss(), x, torch.tensor([1, 2])))
    assert "inconsistent weight size" in str(
        check(lambda t, y, w: F.multi_margin_loss(t, y, weight=w), x, torch.tensor([1, 2, 3]),
              torch.ones(3)))
    check(loss(), x.half(), torch.tensor([1, 2, 3]))
    check(loss(), torch.ones(2, 0), torch.tensor([0, 0]))


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_multilabel_margin_loss(reduction, dtype):
    x = make((3, 4), dtype)
    target = torch.tensor([[1, -1, 0, 0], [3, 0, 3, -1], [0, 1, 2, 3]])
    check_op(lambda t, y: F.multilabel_margin_loss(t, y, reduction=reduction), x, target)
    check_op(lambda t, y: torch.ops.aten.multilabel_margin_loss_forward(t, y, 1), x, target)
    check_op(lambda t, y: F.multilabel_margin_loss(t, y, reduction=reduction), x[1], target[1])
    grads(lambda t, dev: F.multilabel_margin_loss(t, target.to(dev), reduction=reduction),
          x.double())


def test_multilabel_margin_loss_errors():
    x = make((3, 4), torch.float32)
    loss = lambda t, y: F.multilabel_margin_loss(t, y)
    assert "inconsistent target size" in str(check(loss, x, torch.zeros(2, 4, dtype=torch.long)))
    check(loss, x.half(), torch.zeros(3, 4, dtype=torch.long))
