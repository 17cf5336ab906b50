"""Reductions against PyTorch on CPU: result dtypes (integer sums widen to
int64, uint8 all/any stay uint8), dims (negative, lists, keepdim, empty list),
0-d and empty inputs (identities, or the errors CPU raises), NaN propagation and
first-occurrence indices, non-contiguous inputs, dtype= and out= forms, the long
cumulative scan, vector norms of every order and clip_grad_norm_."""
import math

import pytest
import torch

from op_testing import DEVICE, assert_same, check, check_op, check_raises, make, to_device

# var/std with correction >= N warn on CPU as on the device; the result is inf/nan.
pytestmark = pytest.mark.filterwarnings("ignore:.*degrees of freedom is <= 0")

REDUCTION_DTYPES = [torch.float32, torch.bfloat16, torch.float64, torch.float16, torch.int64,
                    torch.int32, torch.int8, torch.uint8, torch.bool]
FLOATS = [torch.float32, torch.bfloat16, torch.float64, torch.float16]


# Each op as a user calls it without a dim, then with one (dim=1).
WHOLE = {
    "sum": torch.sum,
    "prod": torch.prod,
    "mean": torch.mean,
    "amax": torch.amax,
    "amin": torch.amin,
    "max": torch.max,
    "min": torch.min,
    "argmax": torch.argmax,
    "argmin": torch.argmin,
    "all": torch.all,
    "any": torch.any,
    "count_nonzero": torch.count_nonzero,
    "var": torch.var,
    "std": torch.std,
    "var_mean": torch.var_mean,
    "std_mean": torch.std_mean,
    "logsumexp": lambda x: torch.logsumexp(x, (0, 1)),
    "norm": torch.linalg.vector_norm,
    "nansum": torch.nansum,
    "aminmax": torch.aminmax,
}
ALONG = {
    "sum": lambda x: torch.sum(x, 1),
    "prod": lambda x: torch.prod(x, 1),
    "mean": lambda x: torch.mean(x, 1),
    "amax": lambda x: torch.amax(x, 1),
    "amin": lambda x: torch.amin(x, 1),
    "max": lambda x: torch.max(x, 1),
    "min": lambda x: torch.min(x, 1),
    "argmax": lambda x: torch.argmax(x, 1),
    "argmin": lambda x: torch.argmin(x, 1),
    "all": lambda x: torch.all(x, 1),
    "any": lambda x: torch.any(x, 1),
    "count_nonzero": lambda x: torch.count_nonzero(x, 1),
    "var": lambda x: torch.var(x, 1),
    "std": lambda x: torch.std(x, 1),
    "var_mean": lambda x: torch.var_mean(x, 1),
    "std_mean": lambda x: torch.std_mean(x, 1),
    "logsumexp": lambda x: torch.logsumexp(x, 1),
    "norm": lambda x: torch.linalg.vector_norm(x, dim=1),
    "cumsum": lambda x: torch.cumsum(x, 1),
    "cumprod": lambda x: torch.cumprod(x, 1),
    "nansum": lambda x: torch.nansum(x, 1),
    "aminmax": lambda x: torch.aminmax(x, dim=1),
}


# Ops whose result dtype depends on the input's (widening, uint8, errors) run
# over every dtype; the rest over one of each kind.
EVERY_DTYPE = {"sum", "prod", "mean", "amax", "max", "argmax", "all", "var", "norm", "cumsum"}
FEW_DTYPES = [torch.float32, torch.bfloat16, torch.int32]


def dtype_cases(names):
    return [(n, d) for n in names for d in (REDUCTION_DTYPES if n in EVERY_DTYPE else FEW_DTYPES)]


@pytest.mark.parametrize("name,dtype", dtype_cases(WHOLE), ids=str)
def test_whole_tensor(name, dtype):
    check(WHOLE[name], make((3, 4), dtype))


@pytest.mark.parametrize("name,dtype", dtype_cases(ALONG), ids=str)
def test_along_one_dim(name, dtype):
    check(ALONG[name], make((3, 5), dtype, seed=1))


DIM_CASES = [(-1, False), (0, True), ((0, 2), False), ((-1, 0), True), ([], False), ((), True),
             (None, True)]


@pytest.mark.parametrize("dim,keepdim", DIM_CASES, ids=str)
@pytest.mark.parametrize("name", ["sum", "mean", "amax", "amin", "all", "any", "var", "std_mean",
                                  "logsumexp", "norm", "count_nonzero"])
def test_dims_and_keepdim(name, dim, keepdim):
    dtype = torch.int32 if name in ("sum", "amax", "all") else torch.float32
    x = make((2, 3, 4), dtype)
    fns = {
        "sum": lambda t: torch.sum(t, dim, keepdim=keepdim),
        "mean": lambda t: torch.mean(t, dim, keepdim=keepdim),
        "amax": lambda t: torch.amax(t, () if dim is None else dim, keepdim=keepdim),
        "amin": lambda t: torch.amin(t, () if dim is None else dim, keepdim=keepdim),
        "all": lambda t: torch.all(t, dim, keepdim=keepdim),
        "any": lambda t: torch.any(t, dim, keepdim=keepdim),
        "var": lambda t: torch.var(t, dim, keepdim=keepdim),
        "std_mean": lambda t: torch.std_mean(t, dim, keepdim=keepdim),
        "logsumexp": lambda t: torch.logsumexp(t, (0, 1, 2) if dim is None else dim,
                                               keepdim=keepdim),
        "norm": lambda t: torch.linalg.vector_norm(t, 2, dim, keepdim=keepdim),
        "count_nonzero": lambda t: torch.count_nonzero(t, dim),
    }
    if name == "mean" and dtype == torch.int32:
        x = x.float()
    if name in ("var", "std_mean", "norm") and dtype == torch.int32:
        x = x.double()
    if name == "logsumexp" and dim in ([], ()):
        pytest.skip("CPU's logsumexp rejects an empty dim list with a resize error")
    if name == "count_nonzero" and dim is None:
        dim = ()
    check(fns[name], x)


@pytest.mark.parametrize("name", ["max", "min", "argmax", "argmin", "prod", "cumsum", "cumprod",
                                  "all", "any"])
@pytest.mark.parametrize("dim,keepdim", [(0, False), (-1, True), (2, False)], ids=str)
def test_single_dim_ops(name, dim, keepdim):
    x = make((3, 4, 2), torch.float32, seed=3)
    fn = getattr(torch, name)
    if name in ("cumsum", "cumprod"):
        check(lambda t: fn(t, dim), x)
    else:
        check(lambda t: fn(t, dim, keepdim=keepdim), x)


# ---------------------------------------------------------------- 0-d and empty

def along(name, dim):
    """The op of ALONG with another dim."""
    if name == "norm":
        return lambda t: torch.linalg.vector_norm(t, dim=dim)
    if name == "aminmax":
        return lambda t: torch.aminmax(t, dim=dim, keepdim=True)
    return lambda t: getattr(torch, name)(t, dim)


@pytest.mark.parametrize("name", list(ALONG))
def test_zero_dim_input(name):
    x = torch.tensor(2.5)
    if name in WHOLE:
        check(WHOLE[name] if name != "logsumexp" else lambda t: torch.logsumexp(t, ()), x)
    # dim=0 and dim=-1 both name the only "dim" of a 0-d tensor.
    for dim in (0, -1):
        check(along(name, dim), x)
    check(along(name, 1), x)


EMPTY_CASES = {
    "sum": lambda t: torch.sum(t, 0),
    "sum_all": torch.sum,
    "prod": lambda t: torch.prod(t, 0),
    "mean": lambda t: torch.mean(t, 0),
    "mean_all": torch.mean,
    "amax_kept_dim": lambda t: torch.amax(t, 1),
    "amax_empty_dim": lambda t: torch.amax(t, 0),
    "amax_all": torch.amax,
    "max_all": torch.max,
    "max_dim": lambda t: torch.max(t, 0),
    "max_kept_dim": lambda t: torch.max(t, 1),
    "argmax_all": torch.argmax,
    "argmin_dim": lambda t: torch.argmin(t, 0),
    "argmin_kept_dim": lambda t: torch.argmin(t, 1),
    "all": torch.all,
    "any": lambda t: torch.any(t, 0),
    "var": lambda t: torch.var(t, 0),
    "logsumexp": lambda t: torch.logsumexp(t, 0),
    "cumsum": lambda t: torch.cumsum(t, 0),
    "cumprod": lambda t: torch.cumprod(t, 1),
    "norm2": torch.linalg.vector_norm,
    "norm0": lambda t: torch.linalg.vector_norm(t, 0),
    "norm_inf": lambda t: torch.linalg.vector_norm(t, math.inf),
    "norm_neg": lambda t: torch.linalg.vector_norm(t, -1),
    "norm_inf_empty_dim": lambda t: torch.linalg.vector_norm(t, math.inf, dim=0),
    "norm_inf_kept_dim": lambda t: torch.linalg.vector_norm(t, math.inf, dim=1),
    "count_nonzero": torch.count_nonzero,
    "nansum": lambda t: torch.nansum(t, 0),
    "aminmax_all": torch.aminmax,
    "aminmax_empty_dim": lambda t: torch.aminmax(t, dim=0),
    "aminmax_kept_dim": lambda t: torch.aminmax(t, dim=1),
}


@pytest.mark.parametrize("name", list(EMPTY_CASES))
def test_empty_input(name):
    check(EMPTY_CASES[name], torch.empty(0, 3))


# ---------------------------------------------------------------- NaN and ties

def with_nans():
    x = make((3, 5), torch.float32, seed=4)
    x[0, 1] = math.nan
    x[0, 3] = math.nan
    x[2, 4] = math.nan
    x[1, 2] = x[1, 0] = 100.0  # a tie for max
    x[1, 3] = x[1, 4] = -100.0  # a tie for min
    return x


@pytest.mark.parametrize("name", ["max", "min", "amax", "amin", "argmax", "argmin", "max_dim",
                                  "min_dim", "argmax_dim", "argmin_dim", "amax_dim", "logsumexp",
                                  "sum", "cumsum", "nansum", "aminmax"])
def test_nan_propagation_and_first_index(name):
    fns = {
        "max": torch.max, "min": torch.min, "amax": torch.amax, "amin": torch.amin,
        "argmax": torch.argmax, "argmin": torch.argmin,
        "max_dim": lambda t: torch.max(t, 1), "min_dim": lambda t: torch.min(t, 1),
        "argmax_dim": lambda t: torch.argmax(t, 1), "argmin_dim": lambda t: torch.argmin(t, 1),
        "amax_dim": lambda t: torch.amax(t, 1), "logsumexp": lambda t: torch.logsumexp(t, 1),
        "sum": lambda t: torch.sum(t, 1), "cumsum": lambda t: torch.cumsum(t, 1),
        "nansum": lambda t: torch.nansum(t, 1), "aminmax": lambda t: torch.aminmax(t, dim=1),
    }
    check(fns[name], with_nans())


def test_ties_without_nans_give_first_index():
    x = torch.tensor([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 2.0, 2.0], [-1.0, -5.0, 7.0, -5.0]])
    for fn in (lambda t: torch.max(t, 1), lambda t: torch.min(t, 1), lambda t: torch.argmax(t, 1),
               lambda t: torch.argmin(t, 1), lambda t: torch.max(t, 0), torch.argmax):
        check(fn, x)
    check(lambda t: torch.max(t, 0), torch.tensor([True, False, True]))
    check(lambda t: torch.argmax(t, 0), torch.tensor([-math.inf, -math.inf]))
    check(lambda t: torch.max(t, 0), torch.tensor([5, 9, 9, -3], dtype=torch.int32))


def test_infinities():
    x = torch.tensor([[-math.inf, -math.inf], [math.inf, 1.0], [math.inf, -math.inf], [3.0, 4.0]])
    for fn in (lambda t: torch.logsumexp(t, 1), lambda t: torch.amax(t, 1),
               lambda t: torch.argmin(t, 1), lambda t: torch.sum(t, 1)):
        check(fn, x)


# ---------------------------------------------------------------- layouts

@pytest.mark.parametrize("name", ["sum", "max", "argmax", "var", "cumsum", "norm", "all", "mean"])
def test_noncontiguous_inputs(name):
    fns = {
        "sum": lambda t: torch.sum(t, 0), "max": lambda t: torch.max(t, 1),
        "argmax": lambda t: torch.argmax(t, 0), "var": lambda t: torch.var(t, 1),
        "cumsum": lambda t: torch.cumsum(t, 0), "norm": lambda t: torch.linalg.vector_norm(t, dim=0),
        "all": lambda t: torch.all(t, 0), "mean": lambda t: torch.mean(t, (0, 1)),
    }
    base = make((4, 6), torch.float32, seed=5)
    check(lambda t: fns[name](t.t()), base)
    check(lambda t: fns[name](t[1:, ::2]), base)
    check(fns[name], make((3, 4), torch.float32, noncontiguous=True))
    check(lambda t: fns[name](t.expand(3, 4)), make((1, 4), torch.float32))


# ---------------------------------------------------------------- dtype= and out=

@pytest.mark.parametrize("source,dtype", [
    (torch.int32, torch.float64), (torch.float32, torch.float64), (torch.bool, torch.int32),
    (torch.float32, torch.bfloat16), (torch.bfloat16, torch.float32), (torch.int64, torch.int8),
], ids=str)
def test_dtype_argument(source, dtype):
    x = make((3, 4), source, seed=6)
    check(lambda t: torch.sum(t, dtype=dtype), x)
    check(lambda t: torch.sum(t, 1, dtype=dtype), x)
    check(lambda t: torch.prod(t, 0, dtype=dtype), x)
    check(lambda t: torch.cumsum(t, 1, dtype=dtype), x)
    check(lambda t: torch.cumprod(t, 0, dtype=dtype), x)
    check(lambda t: torch.mean(t, 1, dtype=dtype), x)
    check(lambda t: torch.linalg.vector_norm(t, dtype=dtype), x)


def test_out_forms():
    x = make((3, 4), torch.float32, seed=7)
    check(lambda t, o: torch.sum(t, 1, out=o), x, torch.empty(3))
    check(lambda t, o: torch.sum(t, 1, out=o), x, torch.empty(3, dtype=torch.float64))
    check(lambda t, o: torch.mean(t, 0, keepdim=True, out=o), x, torch.empty(1, 4))
    check(lambda t, o: torch.amax(t, 0, out=o), x, torch.empty(4))
    check(lambda t, v, i: torch.max(t, 1, out=(v, i)), x, torch.empty(3),
          torch.empty(3, dtype=torch.int64))
    check(lambda t, o: torch.argmin(t, 0, out=o), x, torch.empty(4, dtype=torch.int64))
    check(lambda t, o: torch.cumsum(t, 0, out=o), x, torch.empty(3, 4))
    check(lambda t, o: torch.var(t, 1, out=o), x, torch.empty(3))
    check(lambda t, o: torch.all(t, 1, out=o), x, torch.empty(3, dtype=torch.bool))
    check(lambda t, o: torch.prod(t, 1, out=o), x, torch.empty(3))
    check(lambda t, o: torch.logsumexp(t, 1, out=o), x, torch.empty(3))
    check(lambda t, o: torch.linalg.vector_norm(t, out=o), x, torch.empty(()))
    # PyTorch computes these in the out tensor's dtype (float -> int64 included).
    wide = make((3, 100), torch.float32, seed=7)
    for out_dtype in (torch.float64, torch.int64, torch.bfloat16):
        for fn in (lambda t, o: torch.sum(t, 1, out=o), lambda t, o: torch.prod(t[:, :8], 1, out=o),
                   lambda t, o: torch.mean(t, 1, out=o), lambda t, o: torch.var(t, 1, out=o)):
            check(fn, wide, torch.empty(3, dtype=out_dtype))
    # CPU's logsumexp takes exp in the input's dtype before summing into a double
    # out; we stay in double throughout.
    check(lambda t, o: torch.logsumexp(t, 1, out=o), wide, torch.empty(3, dtype=torch.float64),
          atol=1e-7, rtol=1e-8)
    check(lambda t, o: torch.cumsum(t, 1, out=o), wide, torch.empty(3, 100, dtype=torch.float64))
    check(lambda t, o: torch.cumsum(t, 1, out=o), wide, torch.empty(3, 100, dtype=torch.int32))
    # Writing the result through a view of a bigger tensor.
    check(lambda t, o: torch.sum(t, 0, out=o[1]), x, torch.zeros(2, 4))


def test_inplace_cumulative():
    check(lambda t: t.cumsum_(0), make((3, 4), torch.float32))
    check(lambda t: t.cumprod_(1), make((3, 4), torch.int64))
    check(lambda t: t[:, 1:].cumsum_(1), make((3, 4), torch.float32))


# ---------------------------------------------------------------- var / std corrections

CORRECTIONS = [dict(correction=0), dict(correction=1), dict(correction=2.5), dict(unbiased=False),
               dict(correction=7)]


@pytest.mark.parametrize("kwargs,dtype", [(k, torch.float32) for k in CORRECTIONS] + [
    (dict(), torch.bfloat16), (dict(correction=0), torch.float64), (dict(), torch.complex64)],
    ids=str)
def test_variance_corrections(kwargs, dtype):
    x = make((3, 4), dtype, seed=8)
    tol = dict(atol=1e-6, rtol=1.3e-6) if dtype.is_complex else {}  # op_testing: complex exact
    for fn in (torch.var, torch.std, torch.var_mean, torch.std_mean):
        check(lambda t: fn(t, 1, **kwargs), x, **tol)
        check(lambda t: fn(t, **kwargs), x, **tol)


def test_variance_changing_correction_does_not_break():
    x = make((4, 5), torch.float32, seed=9)
    for correction in (0, 1, 2, 0.5):
        check(lambda t: torch.var(t, 0, correction=correction), x)


# ---------------------------------------------------------------- all / any

@pytest.mark.parametrize("dtype", [torch.uint8, torch.bool, torch.float32, torch.int64,
                                   torch.complex64], ids=str)
def test_all_any_result_types(dtype):
    x = make((3, 4), dtype, seed=10, low=0, high=2)
    for fn in (torch.all, torch.any, lambda t: torch.all(t, 0), lambda t: torch.any(t, (0, 1)),
               lambda t: torch.all(t, dim=())):
        check(fn, x)
    check(torch.all, torch.tensor([math.nan, 1.0]))


# ---------------------------------------------------------------- cumulative

@pytest.mark.parametrize("n,dtype", [(1, torch.float32), (7, torch.int64), (256, torch.float32),
                                     (300, torch.int64), (1000, torch.float32),
                                     (1000, torch.bfloat16)], ids=str)
def test_long_cumulative_sums(n, dtype):
    x = make((2, n), dtype, seed=11)
    atol = 0.5 if dtype == torch.bfloat16 else 1e-3
    check(lambda t: torch.cumsum(t, 1), x, atol=atol, rtol=1e-2)
    check(lambda t: torch.cumsum(t, 0), x.t().contiguous(), atol=atol, rtol=1e-2)
    ones = torch.ones(n, dtype=dtype)
    ones[::7] = -1
    check(lambda t: torch.cumprod(t, 0), ones)


# ---------------------------------------------------------------- norms

@pytest.mark.parametrize("ord,dtype", [(o, torch.float32) for o in (2, 1, math.inf, -math.inf, 0, 3,
                                                                    0.5, -2)]
                         + [(o, d) for o in (2, math.inf, 3)
                            for d in (torch.bfloat16, torch.float64, torch.complex64)], ids=str)
def test_vector_norm_orders(ord, dtype):
    x = make((3, 4), dtype, seed=12)
    x[1, 2] = 0
    check(lambda t: torch.linalg.vector_norm(t, ord), x)
    check(lambda t: torch.linalg.vector_norm(t, ord, dim=(1,), keepdim=True), x)


def test_norm_spellings():
    x = make((3, 4), torch.float32, seed=13)
    check(torch.norm, x)
    check(lambda t: torch.norm(t, p=1, dim=1), x)
    check(lambda t: torch.norm(t, p="fro", dim=(0, 1)), x)
    check(lambda t: torch.norm(t, p=math.inf), x)
    check(lambda t: t.norm(3, dim=0, keepdim=True), x)
    check(lambda t: torch.norm(t, dim=1, dtype=torch.float64), x)
    check(lambda t: torch.linalg.norm(t), x)
    check(lambda t: torch.linalg.norm(t, dim=0), x)
    check(lambda t: torch.nn.functional.normalize(t, dim=1), x)


@pytest.mark.skipif(DEVICE == "cpu", reason="compares a device module against CPU")
@pytest.mark.parametrize("norm_type", [2.0, math.inf], ids=str)
def test_clip_grad_norm(norm_type):
    torch.manual_seed(0)
    cpu = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.Linear(5, 3))
    dev = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.Linear(5, 3))
    dev.load_state_dict(cpu.state_dict())
    dev = dev.to(DEVICE)
    x = make((4, 6), torch.float32)
    for model, inp in ((cpu, x), (dev, to_device(x))):
        (model(inp) ** 2).sum().backward()
    total_cpu = torch.nn.utils.clip_grad_norm_(cpu.parameters(), 0.5, norm_type)
    total_dev = torch.nn.utils.clip_grad_norm_(dev.parameters(), 0.5, norm_type)
    torch.testing.assert_close(total_dev.cpu(), total_cpu, rtol=1e-5, atol=1e-6)
    for p_cpu, p_dev in zip(cpu.parameters(), dev.parameters()):
        torch.testing.assert_close(p_dev.grad.cpu(), p_cpu.grad, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- autograd

@pytest.mark.skipif(DEVICE == "cpu", reason="compares device gradients against CPU")
@pytest.mark.parametrize("name", ["sum", "mean", "amax", "max_dim", "var", "std", "logsumexp",
                                  "norm", "cumsum", "prod"])
def test_gradients(name):
    fns = {
        "sum": lambda t: t.sum(1), "mean": lambda t: t.mean(), "amax": lambda t: t.amax(0),
        "max_dim": lambda t: t.max(1).values, "var": lambda t: t.var(0),
        "std": lambda t: t.std(), "logsumexp": lambda t: t.logsumexp(1),
        "norm": lambda t: torch.linalg.vector_norm(t, dim=1), "cumsum": lambda t: t.cumsum(1),
        "prod": lambda t: t.prod(1),
    }
    x = make((3, 4), torch.float32, seed=14)
    cpu = x.clone().requires_grad_()
    dev = to_device(x).detach().requires_grad_()
    for t in (cpu, dev):
        out = fns[name](t)
        # A non-uniform upstream gradient, so each output element's share shows.
        weights = torch.arange(1.0, 1.0 + out.numel()).reshape(out.shape)
        (out * to_device(weights, t.device.type)).sum().backward()
    torch.testing.assert_close(dev.grad.cpu(), cpu.grad, rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------- errors

ERRORS = {
    "sum_bad_dim": lambda t: torch.sum(t, 2),
    "sum_repeated_dim": lambda t: torch.sum(t, (0, -2)),
    "max_bad_dim": lambda t: torch.max(t, -3),
    "argmax_bad_dim": lambda t: torch.argmax(t, 5),
    "cumsum_bad_dim": lambda t: torch.cumsum(t, 2),
    "var_bad_dim": lambda t: torch.var(t, 3),
    "amax_bad_dim": lambda t: torch.amax(t, (0, 4)),
    "mean_of_ints": lambda t: torch.mean(t.long()),
    "mean_int_dtype": lambda t: torch.mean(t, dtype=torch.int64),
    "var_of_ints": lambda t: torch.var(t.long()),
    "argmax_bool": lambda t: torch.argmax(t > 0),
    "norm_of_ints": lambda t: torch.linalg.vector_norm(t.long()),
    "norm_int_dtype": lambda t: torch.linalg.vector_norm(t, dtype=torch.int64),
    "max_of_empty": lambda t: torch.max(t[:0]),
    "amax_of_empty_dim": lambda t: torch.amax(t[:0], 0),
    "argmax_of_empty": lambda t: torch.argmax(t[:0]),
    "inf_norm_of_empty": lambda t: torch.linalg.vector_norm(t[:0], math.inf),
    "zero_dim_bad_dim": lambda t: torch.sum(t[0, 0], 1),
    "max_complex": lambda t: torch.max(t.to(torch.complex64)),
    "max_dim_complex": lambda t: torch.max(t.to(torch.complex64), 0),
    "amin_complex": lambda t: torch.amin(t.to(torch.complex64), 1),
    "argmax_complex": lambda t: torch.argmax(t.to(torch.complex64)),
    "aminmax_complex": lambda t: torch.aminmax(t.to(torch.complex64)),
    "norm_narrowing_dtype": lambda t: torch.linalg.vector_norm(t, dtype=torch.bfloat16),
    "norm_half_dtypes": lambda t: torch.linalg.vector_norm(t.half(), dtype=torch.bfloat16),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors(name):
    check_raises(ERRORS[name], make((2, 3), torch.float32))


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float64, torch.int64,
                                   torch.int32, torch.int8, torch.uint8], ids=str)
def test_trace(dtype):
    """The diagonal's sum of a square, wide or tall matrix; integers widen to int64."""
    for shape in [(4, 4), (3, 5), (5, 2), (0, 3), (1, 1)]:
        check_op(torch.trace, make(shape, dtype))
    check_op(torch.trace, make((4, 3), dtype).t())


def test_trace_errors_and_gradient():
    check_raises(torch.trace, make((3,), torch.float32))
    check_raises(torch.trace, make((2, 2, 2), torch.float32))
    check_raises(torch.trace, make((2, 2), torch.bool))
    x = make((3, 4), torch.float32)
    cpu, dev = x.clone().requires_grad_(), to_device(x).requires_grad_()
    torch.trace(cpu).backward()
    torch.trace(dev).backward()
    assert_same(dev.grad, cpu.grad)
