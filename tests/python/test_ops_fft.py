"""torch.fft, stft and istft on the device against CPU: the _fft_r2c, _fft_c2c and
_fft_c2r rules, forward and backward, and the conjugate views ihfft and hfft make."""
import pytest
import torch

from op_testing import assert_same, check, check_raises, make, to_device

COMPLEX_OF = {torch.float32: torch.complex64, torch.float64: torch.complex128}
TOLERANCE = {torch.float32: dict(atol=1e-4, rtol=1e-4), torch.float64: dict(atol=1e-10, rtol=1e-10)}
TOLERANCE[torch.complex64] = TOLERANCE[torch.float32]
TOLERANCE[torch.complex128] = TOLERANCE[torch.float64]


def signal(shape, dtype, seed=0, noncontiguous=False):
    """Random values; complex ones with both parts random."""
    if not dtype.is_complex:
        return make(shape, dtype, seed=seed, noncontiguous=noncontiguous)
    part = torch.float32 if dtype == torch.complex64 else torch.float64
    full = list(shape)
    if noncontiguous and full:
        full[-1] *= 2
    z = torch.complex(make(full, part, seed=seed), make(full, part, seed=seed + 100))
    return z[..., ::2] if noncontiguous and full else z


def check_fft(fn, x, **kwargs):
    return check(lambda t: fn(t, **kwargs), x, **TOLERANCE.get(x.dtype, TOLERANCE[torch.float32]))


ONE_DIM = ["fft", "ifft", "rfft", "irfft", "hfft", "ihfft"]


@pytest.mark.parametrize("name", ONE_DIM)
@pytest.mark.parametrize("dtype", [torch.float32, torch.complex64])
@pytest.mark.parametrize("norm", [None, "forward", "ortho"])
def test_one_dim(name, dtype, norm):
    x = signal((3, 8), dtype)
    check_fft(getattr(torch.fft, name), x, norm=norm)


@pytest.mark.parametrize("name", ONE_DIM)
@pytest.mark.parametrize("n", [1, 5, 7, 12])
def test_one_dim_lengths_f64(name, n):
    # Odd and even sizes, truncation and zero padding by n, double precision.
    dtype = torch.float64 if name in ("rfft", "ihfft") else torch.complex128
    x = signal((2, 7), dtype, seed=n)
    check_fft(getattr(torch.fft, name), x, n=n, dim=-1)


@pytest.mark.parametrize("name", ONE_DIM)
def test_one_dim_inner_dim_and_noncontiguous(name):
    dtype = torch.float32 if name in ("rfft", "ihfft") else torch.complex64
    x = signal((4, 6, 5), dtype, noncontiguous=True)
    check_fft(getattr(torch.fft, name), x, dim=1)
    check_fft(getattr(torch.fft, name), x.transpose(0, 2), dim=0, n=6)


MULTI_DIM = ["fft2", "ifft2", "rfft2", "irfft2", "hfft2", "ihfft2",
             "fftn", "ifftn", "rfftn", "irfftn", "hfftn", "ihfftn"]


@pytest.mark.parametrize("name", MULTI_DIM)
@pytest.mark.parametrize("dtype", [torch.float32, torch.complex128])
def test_multi_dim(name, dtype):
    fn = getattr(torch.fft, name)
    if dtype.is_complex and name.startswith(("rfft", "ihfft")):
        dtype = torch.float64
    x = signal((2, 5, 6), dtype)
    check_fft(fn, x)
    check_fft(fn, x, dim=(0, 2), norm="ortho")
    check_fft(fn, x, s=(4, 7), dim=(-1, 1), norm="forward")


@pytest.mark.parametrize("name", ["fftn", "ifftn", "rfftn", "irfftn", "hfftn", "ihfftn"])
def test_more_than_three_dims(name):
    # stablehlo.fft transforms at most three dims at a time.
    dtype = torch.float32 if name in ("rfftn", "ihfftn") else torch.complex64
    x = signal((2, 3, 4, 5, 4), dtype)
    check_fft(getattr(torch.fft, name), x, dim=(4, 0, 1, 3, 2))
    check_fft(getattr(torch.fft, name), x, dim=(1, 2, 3, 4))


def test_real_and_integer_inputs_promote():
    check_fft(torch.fft.fft, make((4, 6), torch.int64))
    check_fft(torch.fft.fft2, make((4, 6), torch.bool))
    check_fft(torch.fft.rfft, make((4, 6), torch.int32))
    check_fft(torch.fft.fft, make((4, 6), torch.float64))


@pytest.mark.parametrize("fn", [torch.fft.fft, torch.fft.rfft, torch.fft.ifft, torch.fft.irfft])
def test_out_and_scalar_like_inputs(fn):
    x = signal((5,), torch.float32)
    expected = fn(x)
    out = torch.empty(expected.shape, dtype=expected.dtype, device=to_device(x).device)
    fn(to_device(x), out=out)
    assert_same(out, expected, **TOLERANCE[torch.float32])


def test_errors():
    for dtype in (torch.float16, torch.bfloat16):
        check_raises(torch.fft.fft, make((4,), dtype))
        check_raises(torch.fft.rfft, make((4,), dtype))
    check_raises(torch.fft.fft, make((0,), torch.float32))
    check_raises(lambda t: torch.fft.fft(t, n=0), make((3,), torch.float32))
    # CPU's FFT rejects empty batches too.
    check_raises(torch.fft.fft, signal((0, 4), torch.complex64))
    check_raises(torch.fft.rfft, make((0, 4), torch.float32))
    check_raises(lambda t: torch.fft.rfft(t), signal((3,), torch.complex64))
    check_raises(lambda t: torch.fft.fft(t, dim=2), signal((3, 4), torch.complex64))
    x = to_device(make((4, 6), torch.int32))
    with pytest.raises(RuntimeError, match="floating-point dtypes"):
        torch._fft_r2c(x, [1], 0, True)
    with pytest.raises(RuntimeError, match="complex dtypes"):
        torch._fft_c2c(to_device(make((4, 6), torch.float32)), [1], 0, True)
    with pytest.raises(RuntimeError, match="complex dtypes"):
        torch._fft_c2r(to_device(make((4, 6), torch.float32)), [1], 0, 10)


def test_primitives_directly():
    x = signal((3, 4, 6), torch.float32)
    z = signal((3, 4, 6), torch.complex64)
    tol = TOLERANCE[torch.float32]
    for norm in (0, 1, 2):
        check(lambda t: torch._fft_r2c(t, [0, 2], norm, False), x, **tol)
        check(lambda t: torch._fft_r2c(t, [2, 0], norm, True), x, **tol)
        check(lambda t: torch._fft_c2c(t, [1, 2], norm, False), z, **tol)
        check(lambda t: torch._fft_c2r(t, [0, 2], norm, 10), z, **tol)
        check(lambda t: torch._fft_c2r(t, [2, 1], norm, 7), z[:, :, :5].contiguous(), **tol)
    # A dim listed twice is transformed twice, as on CPU.
    check(lambda t: torch._fft_c2c(t, [1, 1], 0, True), z, **tol)
    check(lambda t: torch._fft_c2c(t, [], 2, True), z, **tol)


def check_grad(fn, x):
    cpu = x.clone().requires_grad_()
    dev = to_device(x).detach().requires_grad_()
    expected = fn(cpu)
    upstream = signal(expected.shape, expected.dtype, seed=7)
    expected.backward(upstream)
    actual = fn(dev)
    actual.backward(to_device(upstream))
    tol = TOLERANCE[torch.float64 if x.dtype in (torch.float64, torch.complex128) else torch.float32]
    assert_same(actual.detach(), expected.detach(), **tol)
    assert_same(dev.grad, cpu.grad, **tol)


@pytest.mark.parametrize("name", ONE_DIM + MULTI_DIM)
def test_gradients(name):
    fn = getattr(torch.fft, name)
    dtype = torch.float64 if name.startswith(("rfft", "ihfft")) else torch.complex128
    x = signal((4, 5, 6), dtype)
    if name in ONE_DIM:
        check_grad(lambda t: fn(t, n=7, norm="ortho"), x)
    else:
        check_grad(lambda t: fn(t, s=(3, 8), dim=(0, 2)), x)


def test_gradients_float32_real_input():
    check_grad(torch.fft.fft, signal((3, 8), torch.float32))
    check_grad(lambda t: torch.fft.rfft2(t, norm="forward"), signal((3, 8), torch.float32))


def test_stft_istft():
    tol = TOLERANCE[torch.float32]
    x = signal((2, 64), torch.float32)
    window = torch.hann_window(16)
    stft = lambda t, w: torch.stft(t, 16, hop_length=4, window=w, return_complex=True)  # noqa: E731
    check(stft, x, window, **tol)
    check(lambda t: torch.stft(t, 16, return_complex=True, onesided=False), x, **tol)
    spectrum = torch.stft(x, 16, hop_length=4, window=window, return_complex=True)
    check(lambda s, w: torch.istft(s, 16, hop_length=4, window=w, length=64), spectrum, window,
          **tol)
    check_grad(lambda s: torch.istft(s, 16, hop_length=4, window=torch.hann_window(
        16, dtype=torch.float64, device=s.device)), spectrum.to(torch.complex128))
    cx = signal((50,), torch.complex64)
    check(lambda t: torch.stft(t, 8, return_complex=True), cx, **tol)
    check_grad(lambda t: torch.stft(t, 16, hop_length=4, window=torch.hann_window(
        16, dtype=t.dtype, device=t.device), return_complex=True), signal((40,), torch.float64))


def test_conjugate_views():
    z = signal((2, 3), torch.complex64)
    d = to_device(z)
    assert_same(d.conj(), z.conj())
    assert d.conj().is_conj()
    assert_same(d.conj().clone(), z.conj().clone())
    assert_same(d.conj().resolve_conj(), z.conj().resolve_conj())
    assert_same(d.conj() + 1, z.conj() + 1)
    assert_same(d.conj() @ d.T, z.conj() @ z.T, atol=1e-5, rtol=1e-5)
    assert_same(torch.conj_physical(d), torch.conj_physical(z))
    assert d.conj()[0, 1].item() == z.conj()[0, 1].item()
    # Writing into a conjugate view stores the conjugate of the value.
    target, expected = to_device(torch.zeros(2, 3, dtype=torch.complex64)), torch.zeros(
        2, 3, dtype=torch.complex64)
    target.conj().copy_(d)
    expected.conj().copy_(z)
    assert_same(target, expected)
    target.conj().mul_(2)
    expected.conj().mul_(2)
    assert_same(target, expected)
    assert_same(z.conj().to(d.device), z.conj())
    # Negative views (the imaginary part of a conjugate view is one).
    assert_same(d.conj().imag, z.conj().imag)
    assert_same(d.conj().imag * 1, z.conj().imag * 1)
    assert_same(torch._neg_view(d).clone(), torch._neg_view(z).clone())
    assert_same(torch.view_as_real(d.conj().resolve_conj()), torch.view_as_real(z.conj().resolve_conj()))


@pytest.mark.parametrize("shape,dim,size,step", [((10,), 0, 3, 2), ((4, 9, 2), 1, 4, 1),
                                                 ((4, 9), 0, 2, 3), ((), 0, 1, 1),
                                                 ((5, 3), 1, 3, 5), ((0, 4), 1, 2, 1)])
def test_unfold_backward(shape, dim, size, step):
    # istft's overlap-add is unfold_backward.
    check_grad(lambda t: t.unfold(dim, size, step), make(shape, torch.float64))
