"""Helpers the window-op tests share (convolution, pooling, padding, upsampling,
grid sampling): tolerances, CPU-or-raises checks, gradient checks, and a fixture
that fails a test whose ops fell back to the CPU."""
import pytest
import torch

import torch_pjrt
from op_testing import DEVICE, check, to_device  # noqa: F401 (check is re-exported)

FLOATS = [torch.float32, torch.float64, torch.bfloat16, torch.float16]
_TOL = {torch.float32: (1e-4, 1e-4), torch.float64: (1e-10, 1e-10),
        torch.bfloat16: (5e-2, 5e-2), torch.float16: (5e-3, 5e-3)}


def tol(dtype):
    atol, rtol = _TOL[dtype]
    return {"atol": atol, "rtol": rtol}


@pytest.fixture(autouse=True)
def no_fallbacks():
    torch_pjrt.reset_metrics()
    yield
    assert torch_pjrt.metrics()["cpu_fallbacks"] == 0


def check_grads(fn, *args, wrt=(0,), atol=1e-4, rtol=1e-4):
    """fn's value and the gradients of a weighted sum of it w.r.t. args[i] for
    i in wrt equal CPU's."""
    def run(tensors):
        leaves = [t.requires_grad_() if i in wrt else t for i, t in enumerate(tensors)]
        out = fn(*leaves)
        weights = torch.linspace(0.5, 1.5, out.numel()).reshape(out.shape).to(out.dtype)
        (out * to_device(weights, out.device.type)).sum().backward()
        return [out.detach()] + [leaves[i].grad for i in wrt]

    cpu_args = [a.clone() if isinstance(a, torch.Tensor) else a for a in args]
    dev_args = [to_device(a).detach() if isinstance(a, torch.Tensor) else a for a in args]
    for c, d in zip(run(cpu_args), run(dev_args)):
        assert d.device.type == DEVICE
        torch.testing.assert_close(d.cpu(), c, atol=atol, rtol=rtol)
