"""cdist and pdist (_cdist_forward/_cdist_backward, _pdist_forward/_pdist_backward)
against CPU, values and gradients, for every p kind (0, 1, 2, inf, other)."""
import pytest
import torch

import torch_pjrt
from op_testing import DEVICE, assert_same, check, check_op, make

P_VALUES = [0.0, 1.0, 2.0, 0.5, 3.0, float("inf")]


@pytest.fixture(autouse=True)
def no_cpu_fallback():
    torch_pjrt.reset_metrics()
    yield
    assert torch_pjrt.metrics()["cpu_fallbacks"] == 0


def grads(fn, *inputs, seed=9):
    """Gradients of fn's output (weighted by a fixed tensor) on CPU and device."""
    cpu = [t.clone().requires_grad_() for t in inputs]
    dev = [t.to(DEVICE).requires_grad_() for t in inputs]
    out = fn(*cpu)
    weight = make(out.shape, out.dtype, seed=seed)
    (out * weight).sum().backward()
    (fn(*dev) * weight.to(DEVICE)).sum().backward()
    for d, c in zip(dev, cpu):
        assert_same(d.grad, c.grad, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("p", P_VALUES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_cdist(p, dtype):
    x1, x2 = make((2, 4, 3), dtype), make((2, 5, 3), dtype, seed=1)
    check_op(lambda a, b: torch.cdist(a, b, p=p), x1, x2, atol=1e-5, rtol=1e-5)
    check_op(lambda a, b: torch.cdist(a, b, p=p), make((4, 3), dtype, noncontiguous=True),
             make((1, 2, 3), dtype, seed=2), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("p", P_VALUES)
def test_cdist_gradient(p):
    x1, x2 = make((2, 4, 3), torch.float64), make((2, 5, 3), torch.float64, seed=1)
    x2[0, 0] = x1[0, 0]  # a zero distance: the derivative's special case
    grads(lambda a, b: torch.cdist(a, b, p=p), x1, x2)


def test_cdist_product_form_and_edges():
    x1, x2 = make((30, 3), torch.float32), make((27, 3), torch.float32, seed=1)
    check_op(torch.cdist, x1, x2, atol=1e-4, rtol=1e-4)
    for mode in ["use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist"]:
        check_op(lambda a, b: torch.cdist(a, b, compute_mode=mode), x1[:4], x2[:5], atol=1e-4,
                 rtol=1e-4)
    check_op(lambda a, b: torch.ops.aten._cdist_forward(a, b, 2.0, 1), x1[:4], x2[:5], atol=1e-4,
             rtol=1e-4)
    check_op(torch.cdist, torch.empty(0, 3), x2)
    check_op(torch.cdist, x1, torch.empty(0, 3))
    check_op(torch.cdist, torch.empty(2, 0), torch.empty(3, 0))
    check(torch.cdist, x1, torch.ones(3, 4))
    check(lambda a, b: torch.cdist(a, b, p=-1.0), x1, x2)


@pytest.mark.parametrize("p", P_VALUES)
def test_pdist(p):
    x = make((5, 3), torch.float64)
    x[3] = x[1]
    check_op(lambda t: torch.nn.functional.pdist(t, p=p), x)
    check_op(lambda t: torch.nn.functional.pdist(t, p=p), make((4, 3), torch.float32,
                                                              noncontiguous=True), atol=1e-5)
    grads(lambda t: torch.nn.functional.pdist(t, p=p), x)


def test_pdist_edges():
    check_op(torch.nn.functional.pdist, torch.ones(1, 3))
    check_op(torch.nn.functional.pdist, torch.ones(3, 0))
    check(torch.nn.functional.pdist, torch.ones(3))
