"""Factories and random sampling on the device.

arange, linspace and eye are deterministic: compared against CPU. Random
values cannot match CPU's generator, so their tests check what PyTorch
promises instead: dtype, shape, range, resolution, the moments of 10^5
samples, that torch.manual_seed makes them repeat and that consecutive calls
differ; plus in-place sampling through views and the errors CPU raises."""
import math

import pytest
import torch

from op_testing import DEVICE, FLOAT_DTYPES, assert_same, check_raises, make, to_device

N = 100_000


def both(fn):
    """fn(device) on the device equals fn("cpu")."""
    assert_same(fn(DEVICE), fn("cpu"))


def raises_like_cpu(fn):
    """fn("cpu") raises and fn(DEVICE) raises the same exception type."""
    try:
        fn("cpu")
    except Exception as cpu_error:  # noqa: BLE001
        expected = type(cpu_error)
    else:
        raise AssertionError("fn does not raise on CPU")
    with pytest.raises(expected):
        fn(DEVICE)


# ---------------------------------------------------------------- arange

@pytest.mark.parametrize("args", [(5,), (1, 10, 2), (10, 0, -3), (-3, 4), (3, 3), (0, 1, 0.1),
                                  (-3.5, 2, 0.5), (1, 2.5, 0.25), (0.5, 5), (-0.5, 5, 1.5),
                                  (0, 2.9), (2.7, 0, -1.0),
                                  (2**40, 2**40 + 5)], ids=str)
@pytest.mark.parametrize("dtype", [None, torch.float32, torch.bfloat16, torch.float64, torch.int64,
                                   torch.int32, torch.float16], ids=str)
def test_arange(args, dtype):
    if dtype == torch.int64 and 0 < abs(args[-1]) < 1:
        pytest.skip("a step truncating to 0 in int64: see test_arange_errors")
    if dtype in (torch.int32, torch.float16, torch.bfloat16) and max(map(abs, args)) > 2**30:
        pytest.skip("out of the dtype's range")
    both(lambda device: torch.arange(*args, dtype=dtype, device=device))


def test_arange_long_and_small_types():
    both(lambda device: torch.arange(N, device=device))
    both(lambda device: torch.arange(0, 10, 0.001, device=device))
    both(lambda device: torch.arange(200, dtype=torch.uint8, device=device))
    both(lambda device: torch.arange(-100, 100, 3, dtype=torch.int8, device=device))
    both(lambda device: torch.arange(-5, 5, dtype=torch.int16, device=device))


def test_arange_out_resizes():
    out = torch.empty(2, 2, device=DEVICE)
    torch.arange(1, 7, out=out)
    assert_same(out, torch.arange(1.0, 7.0))
    out_int = torch.empty(0, dtype=torch.int32, device=DEVICE)
    torch.arange(0, 9, 2, out=out_int)
    assert_same(out_int, torch.arange(0, 9, 2, dtype=torch.int32))


def test_arange_errors():
    raises_like_cpu(lambda device: torch.arange(0, 5, 0, device=device))
    raises_like_cpu(lambda device: torch.arange(0, -5, 1, device=device))
    raises_like_cpu(lambda device: torch.arange(0, 5, -1, device=device))
    raises_like_cpu(lambda device: torch.arange(0, float("inf"), device=device))
    raises_like_cpu(lambda device: torch.arange(float("nan"), 5, device=device))
    raises_like_cpu(lambda device: torch.arange(5, dtype=torch.bool, device=device))
    # CPU raises ValueError here; lowering rules have no ValueError to raise.
    with pytest.raises((ValueError, RuntimeError), match="step must be nonzero"):
        torch.arange(0, 1, 0.1, dtype=torch.int64, device=DEVICE)


# ---------------------------------------------------------------- linspace / eye

@pytest.mark.parametrize("args", [(0, 1, 5), (-3, 10, 7), (10, -10, 11), (0.5, 10.7, 7), (2, 2, 4),
                                  (1, 5, 1), (1, 5, 0), (0, 1, 2), (-1e3, 1e3, 1001)], ids=str)
@pytest.mark.parametrize("dtype", [None, torch.float32, torch.bfloat16, torch.float64, torch.int64,
                                   torch.int32, torch.uint8], ids=str)
def test_linspace(args, dtype):
    if dtype == torch.uint8 and min(args[:2]) < 0:
        pytest.skip("negative bounds into uint8 wrap through undefined float->uint8 casts")
    both(lambda device: torch.linspace(*args, dtype=dtype, device=device))


def test_linspace_out_and_errors():
    out = torch.empty(3, device=DEVICE, dtype=torch.float64)
    torch.linspace(0, 1, 6, out=out)
    assert_same(out, torch.linspace(0, 1, 6, dtype=torch.float64))
    both(lambda device: torch.linspace(-3, 10, 7, dtype=torch.uint8, device=device))
    raises_like_cpu(lambda device: torch.linspace(0, 1, -1, device=device))
    raises_like_cpu(lambda device: torch.linspace(0, 1, 3, dtype=torch.bool, device=device))


@pytest.mark.parametrize("args", [(0, 3, 4), (-1.5, 3, 7), (3, -2, 6), (2, 2, 3), (1, 5, 1),
                                  (1, 5, 0), (0, 1, 2)], ids=str)
@pytest.mark.parametrize("base", [10.0, 2.0, 2.5, 0.5], ids=str)
@pytest.mark.parametrize("dtype", [None, torch.float32, torch.bfloat16, torch.float64, torch.int64,
                                   torch.int32], ids=str)
def test_logspace(args, base, dtype):
    """Integer results take the power of the untruncated exponent (logspace(0,
    3, 4, base=2) is 1, 2, 4, 8 in int32), as CPU computes it."""
    both(lambda device: torch.logspace(*args, base=base, dtype=dtype, device=device))


def test_logspace_out_and_errors():
    out = torch.empty(2, device=DEVICE, dtype=torch.float64)
    torch.logspace(0, 2, 5, base=3, out=out)
    assert_same(out, torch.logspace(0, 2, 5, base=3, dtype=torch.float64))
    raises_like_cpu(lambda device: torch.logspace(0, 1, -1, device=device))
    raises_like_cpu(lambda device: torch.logspace(0, 1, 3, dtype=torch.bool, device=device))


@pytest.mark.parametrize("dtype", [None, torch.float32, torch.bfloat16, torch.int64, torch.int32,
                                   torch.bool, torch.float64], ids=str)
def test_eye(dtype):
    both(lambda device: torch.eye(4, dtype=dtype, device=device))
    both(lambda device: torch.eye(2, 5, dtype=dtype, device=device))
    both(lambda device: torch.eye(5, 2, dtype=dtype, device=device))
    both(lambda device: torch.eye(0, 3, dtype=dtype, device=device))


def test_eye_out_and_errors():
    out = torch.empty(1, device=DEVICE)
    torch.eye(3, out=out)
    assert_same(out, torch.eye(3))
    raises_like_cpu(lambda device: torch.eye(-1, device=device))
    raises_like_cpu(lambda device: torch.eye(2, -1, device=device))


# ---------------------------------------------------------------- sampling helpers

def sample(fn):
    """fn() on the device, checked to live there, returned on CPU in float64."""
    x = fn()
    assert x.device.type == DEVICE, x.device
    return x.cpu()


def moments(x):
    x = x.double()
    return x.mean().item(), x.std().item()


# ---------------------------------------------------------------- rand / randn / randint

@pytest.mark.parametrize("dtype", FLOAT_DTYPES + [torch.float16], ids=str)
def test_rand(dtype):
    x = sample(lambda: torch.rand(N, dtype=dtype, device=DEVICE))
    assert x.dtype == dtype and x.shape == (N,)
    assert 0 <= x.min().item() and x.max().item() < 1 or dtype in (torch.bfloat16, torch.float16)
    assert x.max().item() <= 1
    mean, std = moments(x)
    assert abs(mean - 0.5) < 0.01 and abs(std - 1 / math.sqrt(12)) < 0.01, (mean, std)
    # Resolution: f32 and f64 are not limited to a coarse grid.
    if dtype in (torch.float32, torch.float64):
        assert x.unique().numel() > N * 0.99


@pytest.mark.parametrize("dtype", FLOAT_DTYPES + [torch.float16], ids=str)
def test_randn(dtype):
    x = sample(lambda: torch.randn(N, dtype=dtype, device=DEVICE))
    assert x.dtype == dtype
    mean, std = moments(x)
    assert abs(mean) < 0.02 and abs(std - 1) < 0.02, (mean, std)
    assert torch.isfinite(x).all()
    # Tails exist but are not absurd.
    assert 3 < x.abs().max().item() < 7


@pytest.mark.parametrize("dtype", [torch.int64, torch.int32, torch.uint8, torch.int8, torch.float32,
                                   torch.bfloat16], ids=str)
def test_randint(dtype):
    low, high = (0, 10) if dtype in (torch.uint8,) else (-3, 7)
    x = sample(lambda: torch.randint(low, high, (N,), dtype=dtype, device=DEVICE))
    assert x.dtype == dtype
    assert x.min().item() == low and x.max().item() == high - 1
    assert set(x.unique().tolist()) == set(range(low, high))
    assert abs(x.double().mean().item() - (low + high - 1) / 2) < 0.05
    big = sample(lambda: torch.randint(2**40, (1000,), device=DEVICE))
    assert big.min().item() >= 0 and big.max().item() < 2**40 and big.max().item() > 2**38


def test_like_and_shapes():
    base = torch.empty(4, 5, dtype=torch.bfloat16, device=DEVICE)
    for fn in (torch.rand_like, torch.randn_like, lambda t: torch.randint_like(t, 3, 9)):
        y = fn(base)
        assert y.shape == (4, 5) and y.dtype == torch.bfloat16 and y.device.type == DEVICE
    assert torch.rand((), device=DEVICE).shape == ()
    assert torch.randn(0, 3, device=DEVICE).shape == (0, 3)
    assert 0 <= torch.rand((), device=DEVICE).item() < 1
    y = sample(lambda: torch.randint_like(base, 3, 9))
    assert y.min().item() >= 3 and y.max().item() <= 8


def test_seed_repeats_and_calls_differ():
    torch.manual_seed(1234)
    a = sample(lambda: torch.rand(1000, device=DEVICE))
    b = sample(lambda: torch.rand(1000, device=DEVICE))
    c = sample(lambda: torch.randn(1000, device=DEVICE))
    torch.manual_seed(1234)
    a2 = sample(lambda: torch.rand(1000, device=DEVICE))
    b2 = sample(lambda: torch.rand(1000, device=DEVICE))
    c2 = sample(lambda: torch.randn(1000, device=DEVICE))
    assert torch.equal(a, a2) and torch.equal(b, b2) and torch.equal(c, c2)
    assert not torch.equal(a, b)
    torch.manual_seed(4321)
    assert not torch.equal(sample(lambda: torch.rand(1000, device=DEVICE)), a)
    # Samples within one call are not one value repeated, nor correlated neighbours.
    x = a.double()
    assert abs(torch.corrcoef(torch.stack([x[:-1], x[1:]]))[0, 1].item()) < 0.1


# ---------------------------------------------------------------- in-place samplers

@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=str)
def test_uniform_(dtype):
    x = sample(lambda: torch.empty(N, dtype=dtype, device=DEVICE).uniform_(-2, 3))
    assert x.min().item() >= -2 and x.max().item() <= 3
    mean, std = moments(x)
    assert abs(mean - 0.5) < 0.03 and abs(std - 5 / math.sqrt(12)) < 0.03, (mean, std)
    z = sample(lambda: torch.empty(1000, dtype=torch.complex64, device=DEVICE).uniform_(0, 1))
    assert z.dtype == torch.complex64 and 0 <= z.real.min() and z.imag.max() < 1


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=str)
def test_normal_(dtype):
    x = sample(lambda: torch.empty(N, dtype=dtype, device=DEVICE).normal_(1.5, 2.0))
    mean, std = moments(x)
    assert abs(mean - 1.5) < 0.04 and abs(std - 2) < 0.04, (mean, std)
    zero_std = sample(lambda: torch.empty(10, dtype=dtype, device=DEVICE).normal_(3.0, 0.0))
    assert (zero_std == 3).all()


def test_normal_functional_forms():
    mean = torch.arange(4.0).reshape(4, 1).expand(4, N // 4)
    x = sample(lambda: torch.normal(to_device(mean), 0.5))
    assert x.shape == mean.shape and x.dtype == torch.float32
    for row in range(4):
        m, s = moments(x[row])
        assert abs(m - row) < 0.03 and abs(s - 0.5) < 0.03
    std = torch.tensor([0.0, 1.0, 3.0], dtype=torch.float64)
    y = sample(lambda: torch.normal(2.0, to_device(std).expand(N, 3)))
    assert y.dtype == torch.float64 and y.shape == (N, 3)
    assert (y[:, 0] == 2).all() and abs(y[:, 2].std().item() - 3) < 0.1
    z = sample(lambda: torch.normal(to_device(torch.zeros(3)), to_device(torch.ones(N, 1))))
    assert z.shape == (N, 3) and abs(moments(z)[1] - 1) < 0.02
    out = torch.empty(5, device=DEVICE)
    torch.normal(to_device(torch.zeros(5)), 1.0, out=out)
    assert torch.isfinite(out.cpu()).all()
    big = sample(lambda: torch.normal(0.0, 1.0, size=(N,), device=DEVICE))
    assert abs(moments(big)[1] - 1) < 0.02


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.int64, torch.bool], ids=str)
def test_bernoulli(dtype):
    x = sample(lambda: torch.empty(N, dtype=dtype, device=DEVICE).bernoulli_(0.3))
    assert x.dtype == dtype and set(x.unique().tolist()) <= {0, 1}
    assert abs(x.double().mean().item() - 0.3) < 0.01
    p = torch.tensor([0.0, 1.0, 0.5]).repeat(N // 3)
    y = sample(lambda: torch.empty(p.shape, dtype=dtype, device=DEVICE).bernoulli_(to_device(p)))
    assert (y[0::3] == 0).all() and (y[1::3] == 1).all()
    assert abs(y[2::3].double().mean().item() - 0.5) < 0.02


def test_bernoulli_functional_forms():
    p = torch.full((N,), 0.25, dtype=torch.float64)
    x = sample(lambda: torch.bernoulli(to_device(p)))
    assert x.dtype == torch.float64 and abs(x.mean().item() - 0.25) < 0.01
    y = sample(lambda: torch.bernoulli(to_device(torch.zeros(N)), 0.75))
    assert abs(y.mean().item() - 0.75) < 0.01
    # The p tensor broadcasts to self's shape.
    z = sample(lambda: torch.zeros(1000, 2, device=DEVICE).bernoulli_(to_device(torch.tensor([0.0, 1.0]))))
    assert (z[:, 0] == 0).all() and (z[:, 1] == 1).all()


@pytest.mark.parametrize("dtype", [torch.int64, torch.int32, torch.bool, torch.float16], ids=str)
def test_bernoulli_out_takes_any_dtype(dtype):
    # As on CPU, out= is filled in place in its own dtype (no float -> int cast
    # check) and takes p's shape, whatever it had.
    p = to_device(torch.tensor([0.0, 1.0]).repeat(500, 1))
    out = torch.empty(3, dtype=dtype, device=DEVICE)
    result = torch.bernoulli(p, out=out)
    assert result is out and out.dtype == dtype and out.shape == (500, 2)
    out = out.cpu()
    assert (out[:, 0] == 0).all() and (out[:, 1] == 1).all()
    half = sample(lambda: torch.bernoulli(to_device(torch.full((N,), 0.5, dtype=torch.float64)),
                                          out=torch.empty(0, dtype=dtype, device=DEVICE)))
    assert half.dtype == dtype and abs(half.double().mean().item() - 0.5) < 0.01
    raises_like_cpu(lambda d: torch.bernoulli(torch.ones(3, dtype=torch.int64, device=d),
                                              out=torch.empty(3, device=d)))


@pytest.mark.parametrize("dtype,top", [(torch.float32, 2**24), (torch.float64, 2**53),
                                       (torch.bfloat16, 2**8), (torch.int64, 2**63 - 1),
                                       (torch.int32, 2**31 - 1), (torch.uint8, 255),
                                       (torch.int8, 127), (torch.bool, 1)], ids=str)
def test_random_default_range(dtype, top):
    x = sample(lambda: torch.empty(N, dtype=dtype, device=DEVICE).random_())
    assert x.dtype == dtype
    if dtype == torch.bool:
        assert abs(x.double().mean().item() - 0.5) < 0.01
        return
    values = x.double() if dtype != torch.int64 else x
    assert values.min().item() >= 0 and values.max().item() <= top
    assert abs(x.double().mean().item() / top - 0.5) < 0.01
    if dtype.is_floating_point:
        assert (x == x.floor()).all()


@pytest.mark.parametrize("dtype", [torch.float32, torch.int64, torch.int32, torch.uint8,
                                   torch.bfloat16], ids=str)
def test_random_from_to(dtype):
    x = sample(lambda: torch.empty(N, dtype=dtype, device=DEVICE).random_(10))
    assert set(x.long().unique().tolist()) == set(range(10))
    y = sample(lambda: torch.empty(N, dtype=dtype, device=DEVICE).random_(3, 8))
    assert set(y.long().unique().tolist()) == set(range(3, 8))
    if dtype in (torch.int64, torch.int32):
        z = sample(lambda: torch.empty(N, dtype=dtype, device=DEVICE).random_(-5, 5))
        assert set(z.unique().tolist()) == set(range(-5, 5))
        w = sample(lambda: torch.empty(1000, dtype=dtype, device=DEVICE).random_(-7, None))
        assert w.min().item() >= -7 and w.max().item() > 2**29
    if dtype == torch.int64:
        full = sample(lambda: torch.empty(1000, dtype=dtype, device=DEVICE).random_(-2**63, None))
        assert full.min().item() < -2**61 and full.max().item() > 2**61


def test_exponential_log_normal_cauchy_geometric():
    e = sample(lambda: torch.empty(N, device=DEVICE).exponential_(2.0))
    assert e.min().item() >= 0 and abs(e.mean().item() - 0.5) < 0.01
    ln = sample(lambda: torch.empty(N, device=DEVICE).log_normal_(0.0, 0.5))
    assert ln.min().item() > 0 and abs(ln.log().std().item() - 0.5) < 0.01
    c = sample(lambda: torch.empty(N, device=DEVICE).cauchy_(1.0, 2.0))
    assert abs(c.median().item() - 1) < 0.05
    assert abs(((c - 1).abs() < 2).double().mean().item() - 0.5) < 0.01  # quartiles at +-sigma
    g = sample(lambda: torch.empty(N, dtype=torch.int64, device=DEVICE).geometric_(0.25))
    assert g.min().item() >= 1 and abs(g.double().mean().item() - 4) < 0.1


def test_in_place_sampling_through_views():
    x = torch.zeros(4, 6, device=DEVICE)
    x[:, 1:3].uniform_(5, 6)
    x[1].normal_()
    x[::3, 4].fill_(-1).bernoulli_(1.0)
    cpu = x.cpu()
    assert (cpu[[0, 2, 3]][:, [0, 3, 5]] == 0).all()
    assert ((cpu[[0, 2, 3], 1:3] >= 5) & (cpu[[0, 2, 3], 1:3] <= 6)).all()
    assert (cpu[::3, 4] == 1).all()
    y = torch.zeros(4, 6, dtype=torch.int64, device=DEVICE)
    y.t()[2].random_(100, 200)
    assert (y.cpu()[:, 2] >= 100).all() and (y.cpu()[:, [0, 1, 3, 4, 5]] == 0).all()
    empty = torch.empty(0, 3, device=DEVICE)
    assert empty.uniform_().shape == (0, 3) and empty.normal_().shape == (0, 3)


def test_sampling_errors():
    f = make((3,), torch.float32)
    i = make((3,), torch.int64)
    check_raises(lambda t: t.uniform_(1, 0), f)
    check_raises(lambda t: t.uniform_(-1e300, 0), f)
    check_raises(lambda t: t.uniform_(), i)
    check_raises(lambda t: t.normal_(0, -1), f)
    check_raises(lambda t: t.normal_(), i)
    check_raises(lambda t: torch.normal(t, -1.0), f)
    check_raises(lambda t: t.bernoulli_(1.5), f)
    check_raises(lambda t: torch.bernoulli(t), i)
    check_raises(lambda t: t.random_(5, 2), f)
    check_raises(lambda t: t.to(torch.int8).random_(0, 1000), i)
    check_raises(lambda t: t.bool().random_(0, 3), i)
    check_raises(lambda t: t.half().random_(0, 2**20), f)
    check_raises(lambda t: t.exponential_(0), f)
    check_raises(lambda t: t.exponential_(1), i)
    check_raises(lambda t: t.bernoulli_(torch.ones(1, 3)), f)


# ---------------------------------------------------------------- randperm

@pytest.mark.parametrize("dtype", [torch.int64, torch.int32, torch.uint8, torch.float32, torch.float16,
                                   torch.bfloat16], ids=str)
@pytest.mark.parametrize("n", [0, 1, 7, 256])
def test_randperm_is_a_permutation(n, dtype):
    result = torch.randperm(n, dtype=dtype, device=DEVICE)
    assert result.device.type == DEVICE and result.dtype == dtype and result.shape == (n,)
    assert sorted(result.cpu().long().tolist()) == list(range(n))


def test_randperm_generator_out_and_uniformity():
    g = torch.Generator(device=DEVICE)
    g.manual_seed(5)
    first = torch.randperm(50, generator=g, device=DEVICE).cpu()
    g.manual_seed(5)
    assert torch.equal(torch.randperm(50, generator=g, device=DEVICE).cpu(), first)
    assert not torch.equal(torch.randperm(50, generator=g, device=DEVICE).cpu(), first)
    out = torch.empty(3, dtype=torch.int32, device=DEVICE)
    assert torch.randperm(9, out=out) is out and out.shape == (9,)
    assert sorted(out.cpu().tolist()) == list(range(9))
    # Every value lands in every position about equally often.
    draws = torch.stack([torch.randperm(8, device=DEVICE) for _ in range(400)]).cpu()
    mean_position = draws.float().mean(0)
    assert torch.all((mean_position - 3.5).abs() < 0.6), mean_position
    counts = torch.stack([(draws == v).sum(0) for v in range(8)])
    assert counts.min() > 20, counts  # 50 expected per (value, position)


def test_randperm_errors():
    for n, dtype in [(-1, torch.int64), (300, torch.uint8), (129, torch.int8), (3000, torch.float16),
                     (3, torch.bool)]:
        try:
            torch.randperm(n, dtype=dtype)
        except Exception as error:  # noqa: BLE001
            expected = type(error)
        else:
            raise AssertionError(f"CPU accepts randperm({n}, {dtype})")
        with pytest.raises(expected):
            torch.randperm(n, dtype=dtype, device=DEVICE)
