"""Padding (reflect, replicate, circular), upsampling (nearest, nearest-exact,
linear, bilinear, trilinear, bicubic; align_corners both ways) and grid sampling
against PyTorch on CPU: values over dtypes, gradients through torch.autograd,
non-contiguous and unbatched inputs, and the errors CPU raises. Every op here
runs natively (no CPU fallback)."""
import pytest
import torch
import torch.nn.functional as F

from op_testing import DEVICE, check_op, check_raises, make
from window_testing import FLOATS, _TOL, check, check_grads, no_fallbacks, tol  # noqa: F401

pytestmark = pytest.mark.skipif(DEVICE == "cpu", reason="compares device results against CPU")


# ---------------------------------------------------------------- padding

PAD_CASES = [
    ("reflect", 2, (1, 2, 3, 0)), ("reflect", 3, (1, 0, 2, 1, 1, 1)),
    ("reflect", 2, (-1, 2, 1, -1)), ("replicate", 1, (0, 3)), ("replicate", 3, (1, 0, 2, 1, 1, 1)),
    ("replicate", 2, (-1, 2, 1, -1)),
    ("circular", 1, (2, 1)), ("circular", 2, (1, 2, 3, 0)),
]


@pytest.mark.parametrize("mode,dims,pad", PAD_CASES, ids=str)
def test_pad_modes(mode, dims, pad):
    x = make((2, 3) + (4, 5, 6)[:dims], torch.float32)
    check_grads(lambda x: F.pad(x, pad, mode=mode), x)
    check(lambda x: F.pad(x, pad, mode=mode), x[0])  # unbatched


@pytest.mark.parametrize("dtype", FLOATS + [torch.int64, torch.int32, torch.bool], ids=str)
@pytest.mark.parametrize("mode", ["reflect", "replicate"])
def test_pad_dtypes_and_noncontiguous(dtype, mode):
    check(lambda x: F.pad(x, (1, 2), mode=mode), make((2, 3, 5), dtype, noncontiguous=True))
    check(lambda x: F.pad(x, (1, 2, 2, 1), mode=mode), make((3, 4, 5), dtype).transpose(1, 2))


def test_pad_errors():
    x = make((1, 2, 3), torch.float32)
    check_raises(lambda x: F.pad(x, (3, 0), mode="reflect"), x)
    check_raises(lambda x: F.pad(x, (-2, -2), mode="replicate"), x)
    check_raises(lambda x: torch.ops.aten.reflection_pad2d(x, [1, 1]), x)
    check_raises(lambda x: torch.ops.aten.replication_pad1d(x, [1, 1]), make((2,), torch.float32))


# ---------------------------------------------------------------- upsampling

UPSAMPLE_CASES = [
    ("nearest", 1, {"scale_factor": 2}),
    ("nearest", 2, {"scale_factor": (2, 3)}), ("nearest", 2, {"size": (3, 11)}),
    ("nearest", 3, {"size": (5, 3, 7)}),
    ("nearest-exact", 1, {"size": 7}), ("nearest-exact", 2, {"scale_factor": 0.6}),
    ("linear", 1, {"size": 9, "align_corners": False}),
    ("bilinear", 2, {"size": (7, 3), "align_corners": False}),
    ("bilinear", 2, {"scale_factor": 1.5, "align_corners": False}),
    ("trilinear", 3, {"size": (3, 7, 5), "align_corners": False}),
    ("bicubic", 2, {"size": (7, 9), "align_corners": False}),
    ("bicubic", 2, {"scale_factor": 0.5, "align_corners": True}),
]


@pytest.mark.parametrize("mode,dims,kwargs", UPSAMPLE_CASES, ids=str)
def test_interpolate(mode, dims, kwargs):
    x = make((2, 3) + (4, 5, 3)[:dims], torch.float32)
    check_grads(lambda x: F.interpolate(x, mode=mode, **kwargs), x)


# Bytes through bilinear/bicubic (CPU's fixed-point image path) are checked
# bit for bit in test_ops_antialias_histogram.py.
@pytest.mark.parametrize("dtype,mode", [(d, m) for m in ["nearest", "bilinear", "bicubic"]
                                        for d in FLOATS + [torch.int64]] + [(torch.uint8, "nearest")],
                         ids=str)
def test_interpolate_dtypes(dtype, mode):
    x = make((2, 3, 4, 5), dtype, noncontiguous=True)
    check(lambda x: F.interpolate(x, scale_factor=2, mode=mode), x,
          **tol(dtype) if dtype in _TOL else {})


def test_upsample_modules_and_errors():
    x = make((1, 2, 3, 4), torch.float32)
    check_op(torch.nn.Upsample(scale_factor=2), x)
    check_op(torch.nn.UpsamplingBilinear2d(size=(5, 5)), x, **tol(torch.float32))
    check_raises(lambda x: F.interpolate(x, size=(0, 2)), x)
    check_raises(lambda x: torch.ops.aten.upsample_bilinear2d(x, [4], False), x)


# ---------------------------------------------------------------- grid sampling

@pytest.mark.parametrize("mode,padding_mode,align_corners", [
    ("bilinear", "zeros", False), ("bilinear", "zeros", True), ("bilinear", "border", False),
    ("bilinear", "reflection", False), ("bilinear", "reflection", True),
    ("nearest", "zeros", False), ("nearest", "reflection", True),
], ids=str)
def test_grid_sample(mode, padding_mode, align_corners):
    x = make((2, 3, 5, 6), torch.float32)
    grid = make((2, 4, 7, 2), torch.float32, low=-1.4, high=1.4, seed=3)  # reaches outside
    fn = lambda x, g: F.grid_sample(x, g, mode=mode, padding_mode=padding_mode,  # noqa: E731
                                    align_corners=align_corners)
    check_grads(fn, x, grid, wrt=(0, 1) if mode == "bilinear" else (0,))


def test_grid_sample_dtypes_affine_grid_and_errors():
    for dtype in [torch.float64, torch.bfloat16, torch.float16]:
        check_op(lambda x, g: F.grid_sample(x, g, align_corners=False), make((1, 2, 4, 4), dtype),
                 make((1, 3, 3, 2), dtype, low=-1, high=1), **tol(dtype))
    theta = torch.tensor([[[0.8, -0.2, 0.1], [0.3, 1.1, -0.2]]])
    check_grads(lambda x, t: F.grid_sample(x, F.affine_grid(t, [1, 2, 6, 5], align_corners=False),
                                           align_corners=False),
                make((1, 2, 4, 4), torch.float32), theta, wrt=(0, 1))
    x = make((1, 2, 4, 4), torch.float32)
    check_raises(lambda x, g: F.grid_sample(x, g, align_corners=False), x, torch.zeros(1, 3, 3, 3))
    check_raises(lambda x, g: F.grid_sample(x, g, align_corners=False), x,
                 torch.zeros(1, 3, 3, 2, dtype=torch.float64))
