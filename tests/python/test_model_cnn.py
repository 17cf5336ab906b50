"""A small ResNet-style CNN (conv, batch norm, relu, max pool, residual add,
adaptive average pool, linear) trains on the device as on CPU: losses, parameters
and running statistics after a few SGD steps with momentum, and eval-mode outputs,
with no operator falling back to the CPU."""
import pytest
import torch
import torch.nn.functional as F

import torch_pjrt
from op_testing import DEVICE

pytestmark = pytest.mark.skipif(DEVICE == "cpu", reason="compares device results against CPU")


class Block(torch.nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = torch.nn.BatchNorm2d(channels)
        self.conv2 = torch.nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = torch.nn.BatchNorm2d(channels)

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        return F.relu(x + self.bn2(self.conv2(y)))


def small_resnet():
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, stride=2, padding=1), torch.nn.BatchNorm2d(8), torch.nn.ReLU(),
        torch.nn.MaxPool2d(3, stride=2, padding=1), Block(8),
        torch.nn.Conv2d(8, 16, 1, stride=2), Block(16),
        torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(16, 10))


def test_small_resnet_trains_like_cpu():
    torch_pjrt.reset_metrics()
    cpu_model = small_resnet()
    dev_model = small_resnet().to(DEVICE)
    cpu_opt = torch.optim.SGD(cpu_model.parameters(), lr=0.1, momentum=0.9)
    dev_opt = torch.optim.SGD(dev_model.parameters(), lr=0.1, momentum=0.9)
    g = torch.Generator().manual_seed(1)
    for step in range(3):
        x = torch.randn(4, 3, 16, 16, generator=g)
        y = torch.randint(0, 10, (4,), generator=g)
        losses = []
        for model, opt, device in [(cpu_model, cpu_opt, "cpu"), (dev_model, dev_opt, DEVICE)]:
            opt.zero_grad()
            loss = F.cross_entropy(model(x.to(device)), y.to(device))
            loss.backward()
            opt.step()
            losses.append(loss.detach().cpu())
        torch.testing.assert_close(losses[1], losses[0], atol=1e-4, rtol=1e-4)
    for (name, p), q in zip(cpu_model.named_parameters(), dev_model.parameters()):
        torch.testing.assert_close(q.detach().cpu(), p.detach(), atol=1e-4, rtol=1e-4, msg=name)
    for p, q in zip(cpu_model.buffers(), dev_model.buffers()):
        torch.testing.assert_close(q.cpu(), p, atol=1e-4, rtol=1e-4)
    dev_model.eval()
    cpu_model.eval()
    x = torch.randn(2, 3, 16, 16, generator=g)
    torch.testing.assert_close(dev_model(x.to(DEVICE)).detach().cpu(), cpu_model(x).detach(),
                               atol=1e-4, rtol=1e-4)
    assert torch_pjrt.metrics()["cpu_fallbacks"] == 0
