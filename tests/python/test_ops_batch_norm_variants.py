"""The functional batch norm variants export and AOTAutograd produce
(_native_batch_norm_legit, its no_stats and no_training forms,
_batch_norm_with_update), including their running-statistics writes."""
import pytest
import torch

import torch_pjrt
from op_testing import DEVICE, assert_same, check_op, make

aten = torch.ops.aten


@pytest.fixture(autouse=True)
def no_cpu_fallback():
    torch_pjrt.reset_metrics()
    yield
    assert torch_pjrt.metrics()["cpu_fallbacks"] == 0


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16])
@pytest.mark.parametrize("training", [True, False])
def test_native_batch_norm_legit(dtype, training):
    x = make((4, 3, 5), dtype, noncontiguous=True)
    w, b = make((3,), dtype, seed=1), make((3,), dtype, seed=2)
    mean, var = make((3,), dtype, seed=3), make((3,), dtype, low=0.5, high=2, seed=4)
    check_op(lambda *a: aten._native_batch_norm_legit(*a, training, 0.1, 1e-5), x, w, b, mean,
             var, atol=2e-2 if dtype == torch.bfloat16 else None, rtol=2e-2 if dtype == torch.bfloat16 else None)
    check_op(lambda *a: aten._native_batch_norm_legit.no_stats(*a, True, 0.1, 1e-5), x, w, b,
             atol=2e-2 if dtype == torch.bfloat16 else None, rtol=2e-2 if dtype == torch.bfloat16 else None)
    check_op(lambda *a: aten._native_batch_norm_legit_no_training(*a, 0.1, 1e-5), x, None, b,
             mean, var, atol=2e-2 if dtype == torch.bfloat16 else None, rtol=2e-2 if dtype == torch.bfloat16 else None)


def test_batch_norm_with_update():
    x = make((4, 3, 2, 2), torch.float32)
    mean, var = make((3,), torch.float32, seed=3), make((3,), torch.float32, low=0.5, high=2)
    check_op(lambda *a: aten._batch_norm_with_update(*a, 0.1, 1e-5), x, None, None, mean, var)


def test_batch_norm_with_update_gradient():
    x, w, b = make((4, 3, 5), torch.float64), make((3,), torch.float64, seed=1), make(
        (3,), torch.float64, seed=2)
    g = make((4, 3, 5), torch.float64, seed=5)
    grads = []
    for device in ("cpu", DEVICE):
        inputs = [t.detach().to(device).requires_grad_() for t in (x, w, b)]
        stats = [torch.zeros(3, dtype=torch.float64, device=device),
                 torch.ones(3, dtype=torch.float64, device=device)]
        out = aten._batch_norm_with_update(*inputs, *stats, 0.1, 1e-5)[0]
        (out * g.to(device)).sum().backward()
        grads.append([t.grad for t in inputs])
    for d, c in zip(grads[1], grads[0]):
        assert_same(d, c)


# bf16/f16 with same-type parameters: CPU rounds the saved mean and invstd (and,
# for bf16, every step of the statistics and running averages) to the input's
# type; the outputs and the running statistics match it exactly.
@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
@pytest.mark.parametrize("shape", [(5, 5, 5), (3, 4, 6, 2), (8, 2, 33)], ids=str)
def test_reduced_precision_statistics_match_exactly(dtype, shape):
    x = make(shape, dtype)
    channels = shape[1]
    w, b = make((channels,), dtype, seed=1), make((channels,), dtype, seed=2)
    mean = make((channels,), dtype, seed=3)
    var = make((channels,), dtype, low=0.5, high=2, seed=4)
    check_op(lambda *a: aten.native_batch_norm(*a, True, 0.1, 1e-5), x, w, b, mean, var,
             atol=0, rtol=0)
    check_op(lambda *a: aten._batch_norm_with_update(*a, 0.1, 1e-5)[:3], x, w, b, mean, var,
             atol=0, rtol=0)
    check_op(lambda x: torch.nn.functional.instance_norm(x), x, atol=0, rtol=0)
