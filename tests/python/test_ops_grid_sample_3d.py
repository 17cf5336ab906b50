"""F.grid_sample on 5-D inputs (grid_sampler_3d and its backward) against CPU,
for every interpolation and padding mode, with and without align_corners."""
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


MODES = [(m, p, a) for m in ("bilinear", "nearest") for p in ("zeros", "border", "reflection")
         for a in (False, True)]


@pytest.mark.parametrize("mode,padding,align", MODES)
def test_grid_sample_3d(mode, padding, align):
    x = make((2, 3, 4, 5, 3), torch.float64)
    grid = make((2, 2, 3, 4, 3), torch.float64, low=-1.3, high=1.3, seed=1)
    fn = lambda v, g: F.grid_sample(v, g, mode=mode, padding_mode=padding, align_corners=align)
    check_op(fn, x, grid)
    check_op(fn, x.float(), grid.float(), atol=1e-5, rtol=1e-5)
    cpu = [x.clone().requires_grad_(), grid.clone().requires_grad_()]
    dev = [t.to(DEVICE).requires_grad_() for t in (x, grid)]
    weight = make((2, 3, 2, 3, 4), torch.float64, seed=2)
    (fn(*cpu) * weight).sum().backward()
    (fn(*dev) * weight.to(DEVICE)).sum().backward()
    for d, c in zip(dev, cpu):
        assert_same(d.grad, c.grad, atol=1e-9, rtol=1e-7)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_grid_sample_half_types_round_as_cpu(dtype):
    # CPU computes in the input's type; the results agree exactly.
    for shape, grid_shape in [((2, 3, 5, 6), (2, 4, 5, 2)), ((2, 3, 4, 5, 6), (2, 3, 4, 5, 3))]:
        x = make(shape, dtype)
        grid = make(grid_shape, dtype, low=-1.2, high=1.2, seed=1)
        for mode in ("bilinear", "nearest"):
            check_op(lambda v, g: F.grid_sample(v, g, mode=mode, align_corners=True), x, grid,
                     atol=0, rtol=0)


def test_grid_sample_3d_errors():
    x, grid = make((1, 1, 2, 2, 2), torch.float32), make((1, 1, 1, 1, 3), torch.float32)
    check(lambda v, g: F.grid_sample(v, g, mode="bicubic", align_corners=False), x, grid)
    check(lambda v, g: F.grid_sample(v, g, align_corners=False), x, grid.double())
