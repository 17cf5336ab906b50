"""Antialiased interpolation (_upsample_bilinear2d_aa, _upsample_bicubic2d_aa),
byte images through bilinear/bicubic (CPU's fixed-point path, matched bit for
bit), and histograms (histogram, histogramdd, histc) against PyTorch on CPU.
Every op here runs natively (no CPU fallback)."""
import pytest
import torch
import torch.nn.functional as F

from op_testing import DEVICE, assert_same, check_op, check_raises, make, to_device
from window_testing import check_grads, no_fallbacks, tol  # noqa: F401

pytestmark = pytest.mark.skipif(DEVICE == "cpu", reason="compares device results against CPU")


def images(shape, seed=0, noncontiguous=False):
    g = torch.Generator().manual_seed(seed)
    full = list(shape)
    if noncontiguous:
        full[-1] *= 2
    x = torch.randint(0, 256, full, generator=g, dtype=torch.uint8)
    return x[..., ::2] if noncontiguous else x


# ------------------------------------------------------------ antialiasing

AA_CASES = [
    ({"size": (3, 4)}, False), ({"size": (3, 4)}, True), ({"scale_factor": (0.3, 1.7)}, True),
    ({"size": (7, 11)}, False), ({"size": (1, 1)}, False),
]


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
@pytest.mark.parametrize("kwargs,align_corners", AA_CASES, ids=str)
def test_antialias_values_and_gradients(mode, kwargs, align_corners):
    x = make((2, 3, 8, 5), torch.float32)
    check_grads(lambda x: F.interpolate(x, mode=mode, antialias=True,
                                        align_corners=align_corners, **kwargs), x)


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
def test_antialias_float64_noncontiguous_and_ops(mode):
    x = make((1, 2, 9, 6), torch.float64, noncontiguous=True)
    check_op(lambda x: F.interpolate(x, size=(4, 5), mode=mode, antialias=True), x)
    check_grads(lambda x: F.interpolate(x, size=(5, 2), mode=mode, antialias=True), x,
                atol=1e-10, rtol=1e-10)
    op = getattr(torch.ops.aten, f"_upsample_{mode}2d_aa")
    check_op(lambda x: op(x, [3, 7], True, None, None), make((2, 1, 6, 6), torch.float32),
             **tol(torch.float32))
    check_op(lambda x: op(x, [3, 7], False, 0.5, 1.2), make((2, 1, 6, 6), torch.float32),
             **tol(torch.float32))
    backward = getattr(torch.ops.aten, f"_upsample_{mode}2d_aa_backward")
    check_op(lambda g: backward(g, [3, 7], [2, 1, 6, 6], False, None, None),
             make((2, 1, 3, 7), torch.float32), **tol(torch.float32))


def test_antialias_errors():
    x = make((1, 2, 4, 4), torch.float32)
    check_raises(lambda x: torch.ops.aten._upsample_bilinear2d_aa(x, [0, 2], False, None, None), x)
    check_raises(lambda x: torch.ops.aten._upsample_bicubic2d_aa(x, [2], False, None, None), x)
    check_raises(lambda x: F.interpolate(x, size=(2, 2), mode="bilinear", antialias=True),
                 make((1, 2, 4, 4), torch.int64))


# ------------------------------------------------------------ byte images

BYTE_CASES = [{"size": (5, 13)}, {"size": (17, 2)}, {"scale_factor": (0.45, 1.1)}]


@pytest.mark.parametrize("antialias", [False, True])
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
def test_uint8_bit_exact(mode, align_corners, antialias):
    # 3 channels take CPU's AVX image kernel, 5 its generic one: both exact.
    for kwargs in BYTE_CASES:
        for channels, seed in [(3, 0), (5, 1)]:
            x = images((2, channels, 7, 8), seed=seed)
            check_op(lambda x: F.interpolate(x, mode=mode, align_corners=align_corners,
                                             antialias=antialias, **kwargs), x, atol=0, rtol=0)


def test_uint8_noncontiguous_and_modules():
    x = images((1, 3, 6, 5), noncontiguous=True)
    check_op(lambda x: F.interpolate(x, size=(4, 9), mode="bicubic"), x, atol=0, rtol=0)
    check_op(torch.nn.UpsamplingBilinear2d(size=(5, 7)), images((2, 2, 4, 3)), atol=0, rtol=0)
    check_raises(lambda x: F.interpolate(x, size=(4,), mode="linear"), images((1, 2, 5)))


# ------------------------------------------------------------ histograms

def check_histogram(*args, **kwargs):
    expected = torch.histogram(*args, **kwargs)
    actual = torch.histogram(*to_device(list(args)), **to_device(kwargs))
    assert_same(actual.hist, expected.hist)
    assert_same(actual.bin_edges, expected.bin_edges)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("density", [False, True])
def test_histogram_bin_count(dtype, density):
    x = make((4, 5), dtype)
    check_histogram(x, 7, density=density)
    check_histogram(x, 4, range=(-1.0, 2.0), density=density)
    check_histogram(x, 3, weight=make((4, 5), dtype, low=0, high=2, seed=1), density=density)
    check_histogram(make((3, 6), dtype, noncontiguous=True), 5, density=density)


def test_histogram_edges_and_special_values():
    # Points on the edges (the last one joins the last bin), outside the range, NaN.
    x = torch.tensor([0.0, 0.25, 0.5, 0.75, 1.0, 1.5, -0.5, float("nan"), 0.1, 0.3])
    check_histogram(x, 4, range=(0.0, 1.0))
    check_histogram(x, torch.tensor([0.0, 0.25, 0.3, 1.0]))
    check_histogram(torch.tensor([0.1, 0.2, 0.3, 0.7, 0.9] * 3, dtype=torch.float64), 10)
    check_histogram(torch.tensor([2.0, 2.0, 2.0]), 3)  # equal data: the range widens
    check_histogram(torch.tensor([1.0, 2.0]), 3, range=(1.0, 1.0))
    check_histogram(torch.zeros(0), 3)
    check_histogram(torch.tensor(1.5), 2)
    x = make((50,), torch.float32, low=-1, high=1)
    check_histogram(x, torch.linspace(-1, 1, 8), weight=make((50,), torch.float32, seed=2),
                    density=True)


def test_histogram_out_and_errors():
    x = make((10,), torch.float32)
    hist, edges = torch.empty(0), torch.empty(0)
    hist_d, edges_d = to_device(hist), to_device(edges)
    torch.histogram(x, 4, out=(hist, edges))
    torch.histogram(to_device(x), 4, out=(hist_d, edges_d))
    assert_same(hist_d, hist)
    assert_same(edges_d, edges)
    assert "min should not exceed max" in str(
        check_raises(lambda x: torch.histogram(x, 3, range=(2.0, 1.0)), x))
    assert "is not finite" in str(
        check_raises(lambda x: torch.histogram(x, 3, range=(0.0, float("inf"))), x))
    check_raises(lambda x, w: torch.histogram(x, 3, weight=w), x, torch.ones(3))
    check_raises(lambda x, w: torch.histogram(x, 3, weight=w), x, torch.ones(10).double())
    assert "should have the same dtype" in str(
        check_raises(lambda x, b: torch.histogram(x, b), x, torch.tensor([0.0, 1.0]).double()))
    check_raises(lambda x, b: torch.histogram(x, b), x, torch.ones(2, 2))
    error = check_raises(lambda x: torch.histogram(x, 3), torch.arange(4))
    assert "not implemented for 'Long'" in str(error)
    error = check_raises(lambda x: torch.histogram(x, 0), x)
    assert "bins must be > 0" in str(error)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_histogramdd(dtype):
    def check_dd(*args, **kwargs):
        expected = torch.histogramdd(*args, **kwargs)
        actual = torch.histogramdd(*to_device(list(args)), **to_device(kwargs))
        assert_same(actual.hist, expected.hist)
        for a, e in zip(actual.bin_edges, expected.bin_edges):
            assert_same(a, e)

    x = make((20, 2), dtype)
    check_dd(x, [3, 4])
    check_dd(x, 3, density=True)
    check_dd(make((4, 5, 3), dtype), [2, 3, 2], range=[-1.0, 1.0, 0.0, 2.0, -3.0, 3.0],
             weight=make((4, 5), dtype, low=0, high=1, seed=1))
    check_dd(x, [torch.tensor([-3.0, 0.0, 1.0], dtype=dtype), torch.linspace(-2, 2, 5, dtype=dtype)],
             density=True)
    check_dd(make((6, 3), dtype, noncontiguous=True), [2, 2, 2])
    edges = torch.ops.aten._histogramdd_bin_edges(x, [2, 5])
    assert_same(torch.ops.aten._histogramdd_bin_edges(to_device(x), [2, 5]), edges)
    check_raises(lambda x: torch.histogramdd(x, [2]), x)
    check_raises(lambda x: torch.histogramdd(x, [2, 3], range=[0.0, 1.0]), x)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_histc_still_native(dtype):
    check_op(lambda x: torch.histc(x, 6), make((5, 4), dtype))
    check_op(lambda x: torch.histc(x, 4, min=-1, max=1), make((9,), dtype))
