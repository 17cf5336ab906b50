"""torch.autocast("tpu") casts as PyTorch's CUDA policy does, and
torch.amp.GradScaler("tpu") scales, unscales, skips and schedules exactly as
GradScaler("cpu") does with PyTorch's CPU kernels."""
import copy

import pytest
import torch
from torch import nn

import torch_pjrt
from op_testing import DEVICE

pytestmark = pytest.mark.skipif(DEVICE == "cpu", reason="the tpu autocast policy")


def test_autocast_is_available_and_defaults_to_bfloat16():
    assert torch.amp.is_autocast_available("tpu")
    assert torch.get_autocast_dtype("tpu") == torch.bfloat16
    with torch.autocast("tpu"):
        assert torch.is_autocast_enabled("tpu")
        assert torch.get_autocast_dtype("tpu") == torch.bfloat16


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_cast_policy(dtype):
    a = torch.randn(4, 4)
    b = torch.randn(4, 4)
    x, y = a.to(DEVICE), b.to(DEVICE)
    with torch.autocast("tpu", dtype=dtype):
        mm = x @ y
        linear = nn.functional.linear(x, y)
        added = x + y  # no policy: unchanged
        soft = torch.softmax(mm, -1)  # f32 (fp32_set_opt_dtype)
        exp = torch.exp(mm)  # f32 (fp32)
        promoted = torch.addcmul(x, mm, mm)  # widest input type (promote)
    assert mm.dtype == dtype and linear.dtype == dtype
    assert added.dtype == torch.float32
    assert soft.dtype == torch.float32 and exp.dtype == torch.float32
    assert promoted.dtype == torch.float32
    torch.testing.assert_close(mm.cpu(), a.to(dtype) @ b.to(dtype))
    torch.testing.assert_close(soft.cpu(), torch.softmax((a.to(dtype) @ b.to(dtype)).float(), -1))
    # Outside the region nothing is cast.
    assert (x @ y).dtype == torch.float32


def test_autocast_refuses_binary_cross_entropy():
    p = torch.rand(3, device=DEVICE)
    with torch.autocast("tpu"):
        with pytest.raises(RuntimeError, match="unsafe to autocast"):
            nn.functional.binary_cross_entropy(p, p)
        nn.functional.binary_cross_entropy_with_logits(p, p)


def test_autocast_disabled_region_and_backward():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4)).to(DEVICE)
    x = torch.randn(5, 8, device=DEVICE)
    with torch.autocast("tpu"):
        hidden = model[0](x)
        with torch.autocast("tpu", enabled=False):
            assert (hidden.float() @ hidden.float().t()).dtype == torch.float32
        out = model[2](model[1](hidden))
    assert out.dtype == torch.bfloat16
    out.float().square().sum().backward()
    # Gradients arrive in the parameters' own dtype.
    assert all(p.grad.dtype == torch.float32 for p in model.parameters())


def _scaler_run(device, grads_per_step, growth_interval=2):
    param = nn.Parameter(torch.ones(3, device=device))
    optimizer = torch.optim.SGD([param], lr=0.5)
    scaler = torch.amp.GradScaler(device, init_scale=8.0, growth_factor=2.0, backoff_factor=0.25,
                                  growth_interval=growth_interval)
    history = []
    for grad in grads_per_step:
        optimizer.zero_grad()
        scaler.scale((param * torch.tensor(grad, device=device)).sum()).backward()
        scaler.step(optimizer)
        scaler.update()
        history.append((scaler.get_scale(), param.detach().cpu().clone()))
    return history


def test_grad_scaler_follows_cpu():
    inf, nan = float("inf"), float("nan")
    steps = [[1.0, 2.0, 3.0], [1.0, 1.0, 1.0], [inf, 1.0, 1.0], [1.0, nan, 1.0],
             [0.5, 0.5, 0.5], [1.0, 2.0, 1.0], [1.0, 1.0, 1.0]]
    torch_pjrt.reset_metrics()
    ours = _scaler_run(DEVICE, steps)
    expected = _scaler_run("cpu", steps)
    for (scale, param), (cpu_scale, cpu_param) in zip(ours, expected):
        assert scale == cpu_scale
        torch.testing.assert_close(param, cpu_param)
    assert torch_pjrt.metrics()["cpu_fallbacks"] == 0


def test_unscale_checks_every_gradient():
    grads = [torch.ones(2, device=DEVICE), torch.tensor([1.0, float("inf")], device=DEVICE)]
    found = torch.zeros(1, device=DEVICE)
    torch._amp_foreach_non_finite_check_and_unscale_(grads, found,
                                                     torch.full((1,), 0.5, device=DEVICE))
    assert found.item() == 1.0
    torch.testing.assert_close(grads[0].cpu(), torch.full((2,), 0.5))
    with pytest.raises(RuntimeError, match="inv_scale must be a 1-element tensor"):
        torch._amp_foreach_non_finite_check_and_unscale_(grads, found,
                                                         torch.ones(2, device=DEVICE))


def test_mixed_precision_training_follows_an_f32_run_closely():
    torch.manual_seed(1)
    model = nn.Sequential(nn.Linear(6, 32), nn.GELU(), nn.Linear(32, 3))
    amp_model = copy.deepcopy(model).to(DEVICE)
    optimizer = torch.optim.AdamW(amp_model.parameters(), lr=1e-2)
    scaler = torch.amp.GradScaler("tpu")
    x, y = torch.randn(16, 6), torch.randint(0, 3, (16,))
    losses = []
    for _ in range(15):
        optimizer.zero_grad()
        with torch.autocast("tpu"):
            loss = nn.functional.cross_entropy(amp_model(x.to(DEVICE)), y.to(DEVICE))
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        losses.append(loss.item())
    assert losses[-1] < 0.7 * losses[0]
    assert all(p.dtype == torch.float32 for p in amp_model.parameters())
