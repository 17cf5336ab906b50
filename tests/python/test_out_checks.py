"""out= calls are refused exactly where CPU refuses them (#6 item 3).

Structured ops take CPU's checks from torch's own C++ meta functions, so the
exception and its words equal CPU's; other ops keep CPU's exception type.
"""
import gc
import warnings

import pytest
import torch

from op_testing import DEVICE

needs_backend = pytest.mark.skipif(DEVICE == "cpu", reason="needs the torch_pjrt backend")

x = torch.linspace(-2, 2, 6).reshape(2, 3)
m = torch.linspace(-1, 1, 9).reshape(3, 3)
ix = torch.tensor([2, 0])

# name -> (call with out=, the out= dtypes to try)
CALLS = {
    "softplus": lambda a, out: torch._C._nn.softplus(a, out=out),
    "clamp": lambda a, out: torch.clamp(a, -1, 1, out=out),
    "clamp_tensor": lambda a, out: torch.clamp(a, a * 0, out=out),
    "add": lambda a, out: torch.add(a, 1, out=out),
    "mul_int": lambda a, out: torch.mul(a.long(), 2, out=out),
    "sin": lambda a, out: torch.sin(a, out=out),
    "eq": lambda a, out: torch.eq(a, 0, out=out),
    "sum": lambda a, out: torch.sum(a, 1, out=out),
    "amax": lambda a, out: torch.amax(a, 1, out=out),
    "argmax": lambda a, out: torch.argmax(a, 1, out=out),
    "cumsum": lambda a, out: torch.cumsum(a, 1, out=out),
    "mm": lambda a, out: torch.mm(a, a.T, out=out),
    "addmm": lambda a, out: torch.addmm(a[:, :2], a, a.T[:, :2], out=out),
    "softmax": lambda a, out: torch.softmax(a, 1, out=out),
    "log_softmax": lambda a, out: torch.log_softmax(a, 1, out=out),
    "gelu": lambda a, out: torch._C._nn.gelu(a, out=out),
    "where": lambda a, out: torch.where(a > 0, a, 0.0, out=out),
    "index_select": lambda a, out: torch.index_select(a, 1, ix.to(a.device), out=out),
    "take": lambda a, out: torch.take(a, ix.to(a.device), out=out),
    "nan_to_num": lambda a, out: torch.nan_to_num(a, out=out),
    "logcumsumexp": lambda a, out: torch.logcumsumexp(a, 1, out=out),
    "searchsorted": lambda a, out: torch.searchsorted(a[0].sort().values, a, out=out),
    "topk": lambda a, out: torch.topk(a, 2, out=(out, torch.empty(0, dtype=torch.long, device=a.device))),
    "sort_indices": lambda a, out: torch.sort(a, out=(torch.empty(0, device=a.device), out)),
    "kthvalue_values": lambda a, out: torch.kthvalue(a, 2, out=(out, torch.empty(0, dtype=torch.long, device=a.device))),
    "median_indices": lambda a, out: torch.median(a, 1, out=(torch.empty(0, device=a.device), out)),
    "mode_values": lambda a, out: torch.mode(a, 1, out=(out, torch.empty(0, dtype=torch.long, device=a.device))),
    "cummax_indices": lambda a, out: torch.cummax(a, 1, out=(torch.empty(0, device=a.device), out)),
    "cat": lambda a, out: torch.cat([a, a], out=out),
    "linalg_vector_norm": lambda a, out: torch.linalg.vector_norm(a, out=out),
}
DTYPES = [torch.float32, torch.float64, torch.float16, torch.int64, torch.bool, torch.complex64]


def outcome(fn, device, dtype):
    out = torch.empty(0, dtype=dtype, device=device)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fn(x.to(device), out)
        if device != "cpu":
            torch.tpu.synchronize()
        return ("ok", out.cpu())
    except Exception as error:  # noqa: BLE001
        return (type(error), str(error).split("\n")[0])


@needs_backend
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("name", sorted(CALLS))
def test_out_dtype_is_accepted_or_refused_as_on_cpu(name, dtype):
    expected = outcome(CALLS[name], "cpu", dtype)
    if expected[0] is NotImplementedError:
        pytest.skip("CPU has no kernel for this dtype; the device computes it")
    actual = outcome(CALLS[name], DEVICE, dtype)
    if expected[0] == "ok":
        assert actual[0] == "ok", actual
        torch.testing.assert_close(actual[1], expected[1], equal_nan=True)
    else:
        assert actual[0] is expected[0], (expected, actual)


# Structured ops: the words are CPU's own, since the same meta function runs.
@needs_backend
@pytest.mark.parametrize(
    "call, message",
    [
        (lambda a, o: torch._C._nn.softplus(a, out=o), "Found dtype Double but expected Float"),
        (lambda a, o: torch.clamp(a, 0, 1, out=o), "Found dtype Double but expected Float"),
        (lambda a, o: torch.mm(a, a.T, out=o), "Expected out tensor to have dtype float, but got double"),
        (lambda a, o: torch.softmax(a, 1, out=o), "Expected out tensor to have dtype float, but got double"),
    ],
    ids=["softplus", "clamp", "mm", "softmax"],
)
def test_structured_ops_raise_cpus_words(call, message):
    for device in ("cpu", DEVICE):
        with pytest.raises(RuntimeError, match=message):
            call(x.to(device), torch.empty(2, 3, dtype=torch.float64, device=device))


@needs_backend
def test_out_overlapping_an_input_raises_as_on_cpu():
    for device in ("cpu", DEVICE):
        base = torch.ones(4, device=device)
        with pytest.raises(RuntimeError, match="unsupported operation: some elements of the input"):
            torch.add(base[:3], 1, out=base[1:])
    # Exactly the same memory is fine (an in-place update spelled with out=).
    base = torch.arange(4.0, device=DEVICE)
    torch.add(base, 1, out=base)
    assert base.cpu().tolist() == [1.0, 2.0, 3.0, 4.0]


@needs_backend
def test_resizing_a_nonempty_out_warns_once_as_on_cpu():
    for device in ("cpu", DEVICE):
        out = torch.empty(5, device=device)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            torch.add(x.to(device), 1, out=out)
        resized = [w for w in caught if "was resized" in str(w.message)]
        assert len(resized) == 1, (device, [str(w.message) for w in caught])
        assert out.shape == (2, 3)


@needs_backend
def test_refused_out_calls_leak_nothing_and_leave_out_untouched():
    import torch_pjrt

    out = torch.full((2, 3), 7.0, dtype=torch.float64, device=DEVICE)
    gc.collect()
    torch.tpu.synchronize()
    start = torch_pjrt.metrics()["live_buffers"]
    for _ in range(3):
        with pytest.raises(RuntimeError):
            torch.mm(x.to(DEVICE), x.to(DEVICE).T, out=out)
    gc.collect()
    torch.tpu.synchronize()
    assert torch_pjrt.metrics()["live_buffers"] == start
    assert out.shape == (2, 3) and bool((out.cpu() == 7).all())


# Linear algebra ops run kernels of ours that take their arguments unboxed;
# they make the same checks.
spd = torch.tensor([[4.0, 1.0], [1.0, 3.0]])
LINALG_CALLS = {
    "inv": lambda a, out: torch.linalg.inv(a, out=out),
    "cholesky": lambda a, out: torch.linalg.cholesky(a, out=out),
    "legacy_cholesky": lambda a, out: torch.cholesky(a, out=out),
    "det": lambda a, out: torch.linalg.det(a, out=out),
    "solve": lambda a, out: torch.linalg.solve(a, a[:, :1], out=out),
    "cholesky_inverse": lambda a, out: torch.cholesky_inverse(a, out=out),
}


@needs_backend
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.int64], ids=str)
@pytest.mark.parametrize("name", sorted(LINALG_CALLS))
def test_linalg_out_dtype_is_accepted_or_refused_as_on_cpu(name, dtype):
    def outcome_of(device):
        out = torch.empty(0, dtype=dtype, device=device)
        try:
            LINALG_CALLS[name](spd.to(device), out)
            return ("ok", out.cpu())
        except Exception as error:  # noqa: BLE001
            return (type(error), str(error).split("\n")[0])

    expected, actual = outcome_of("cpu"), outcome_of(DEVICE)
    if expected[0] == "ok":
        assert actual[0] == "ok", actual
        torch.testing.assert_close(actual[1], expected[1])
    else:
        # Structured ones (inv, cholesky, det, solve) say CPU's words; the
        # legacy cholesky ops have Python meta functions with words of their own.
        assert actual[0] is expected[0], (expected, actual)
        if name not in ("legacy_cholesky", "cholesky_inverse"):
            assert actual[1] == expected[1]


# Ops that read their inputs while they write out= refuse an out= sharing
# memory with an input, as CPU does; those that start from a copy of self may
# write into self.
index = torch.tensor([[0, 1, 0], [1, 0, 1]])
OVERLAP_CALLS = {
    "gather": lambda a: torch.gather(a, 0, index.to(a.device), out=a),
    "index_select": lambda a: torch.index_select(a, 0, index[0, :2].to(a.device), out=a),
    "take": lambda a: torch.take(a, index.to(a.device), out=a),
    "masked_select": lambda a: torch.masked_select(a, a > 1, out=a.view(-1)),
    "cat": lambda a: torch.cat([a, a], out=a),
    "index_add_source": lambda a: torch.index_add(a, 0, index[0, :2].to(a.device), a, out=a),
    "scatter_source": lambda a: torch.scatter(a, 0, index.to(a.device), a, out=a),
    "index_add_into_self": lambda a: torch.index_add(a, 0, index[0, :2].to(a.device), a.clone(), out=a),
    "scatter_into_self": lambda a: torch.scatter(a, 0, index.to(a.device), a.clone(), out=a),
    "gather_into_expanded": lambda a: torch.gather(a, 0, index.to(a.device), out=a[:1].expand(2, 3)),
    "take_into_expanded": lambda a: torch.take(a, index[0].to(a.device), out=a[0, :1].expand(3)),
}


@needs_backend
@pytest.mark.parametrize("name", sorted(OVERLAP_CALLS))
def test_out_sharing_an_input_is_refused_as_on_cpu(name):
    def outcome_of(device):
        a = torch.arange(6.0).reshape(2, 3).to(device)
        try:
            OVERLAP_CALLS[name](a)
            return ("ok", a.cpu())
        except RuntimeError as error:
            return ("raised", str(error).split("\n")[0])

    expected, actual = outcome_of("cpu"), outcome_of(DEVICE)
    assert actual[0] == expected[0], (expected, actual)
    if expected[0] == "ok":
        torch.testing.assert_close(actual[1], expected[1])
    else:
        assert actual[1] == expected[1]
