"""Errors only the device can see (DESIGN.md): out-of-range indices, class targets
and integer division by zero raise what CPU raises, never a silently clamped or
dropped result. The program computes a check beside the op; debug mode raises at
the op, strict and fused mode at the latest at the next synchronization (as CUDA
reports a device-side assert), and the process goes on working."""
import gc

import pytest
import torch
import torch.nn.functional as F

from op_testing import DEVICE, FUSED
from test_errors import run_python

needs_backend = pytest.mark.skipif(DEVICE == "cpu", reason="needs the torch_pjrt backend")
# Debug mode raises at the op itself: the tests of a later report skip there.
DEBUG = DEVICE != "cpu" and __import__("torch_pjrt")._C._eager_mode() == "debug"
reported_later = pytest.mark.skipif(DEBUG, reason="debug mode raises at the op")


def x23():
    return torch.arange(6.0).reshape(2, 3)


def idx(*values):
    return torch.tensor(values)


def logits(*shape):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(0)).log_softmax(1)


# name: (fn, CPU tensors). fn returns a tensor computed from the bad input.
BAD_CALLS = {
    "index_select": (lambda x, i: torch.index_select(x, 0, i), (x23(), idx(0, 5))),
    "index_select_negative": (lambda x, i: torch.index_select(x, 1, i), (x23(), idx(-1))),
    "gather": (lambda x, i: torch.gather(x, 1, i), (x23(), idx([0, 7], [1, 1]))),
    "gather_negative": (lambda x, i: torch.gather(x, 1, i), (x23(), idx([0, -1], [1, 1]))),
    "scatter": (lambda x, i: x.scatter_(1, i, 1.0), (x23(), idx([0, 7]))),
    "scatter_add": (lambda x, i, s: x.scatter_add_(1, i, s), (x23(), idx([0, 7]), torch.ones(1, 2))),
    "scatter_reduce": (lambda x, i, s: x.scatter_reduce(0, i, s, "amax"),
                       (x23(), idx([0, 2, 1]), torch.ones(1, 3))),
    "embedding": (lambda i, w: F.embedding(i, w), (idx(0, 9), x23())),
    "embedding_negative": (lambda i, w: F.embedding(i, w), (idx(0, -1), x23())),
    "index": (lambda x, i: x[i], (x23(), idx(0, 4))),
    "index_negative": (lambda x, i: x[i], (x23(), idx(0, -3))),
    "index_two_tensors": (lambda x, i, j: x[i, j], (x23(), idx(0, 1), idx(2, 3))),
    "index_put": (lambda x, i: x.index_put_((i,), torch.tensor(1.0)), (x23(), idx(0, 4))),
    "index_put_accumulate": (lambda x, i, v: x.index_put_((i,), v, accumulate=True),
                             (x23(), idx(2), torch.ones(3))),
    "setitem": (lambda x, i: x.__setitem__(i, 1.0) or x, (x23(), idx(3))),
    "index_add": (lambda x, i, s: x.index_add_(0, i, s), (x23(), idx(3), torch.ones(1, 3))),
    "index_copy": (lambda x, i, s: x.index_copy_(0, i, s), (x23(), idx(-1), torch.ones(1, 3))),
    "index_fill": (lambda x, i: x.index_fill_(0, i, 1.0), (x23(), idx(-3))),
    "take": (lambda x, i: torch.take(x, i), (x23(), idx(10))),
    "put": (lambda x, i, s: x.put_(i, s), (x23(), idx(-7), torch.ones(1))),
    "nll_loss": (lambda p, t: F.nll_loss(p, t), (logits(2, 3), idx(0, 3))),
    "nll_loss_negative": (lambda p, t: F.nll_loss(p, t, reduction="none"), (logits(2, 3), idx(0, -5))),
    "nll_loss_2d": (lambda p, t: F.nll_loss(p, t), (logits(1, 3, 2, 2), idx([[0, 3], [1, 1]]))),
    "cross_entropy": (lambda p, t: F.cross_entropy(p, t), (logits(4, 3), idx(0, 1, 2, 3))),
    "masked_scatter": (lambda x, m, s: x.masked_scatter(m, s),
                       (torch.zeros(4), torch.tensor([True, True, True, False]), torch.ones(2))),
    "masked_scatter_empty_source": (lambda x, m, s: x.masked_scatter_(m, s),
                                    (torch.zeros(2), torch.tensor([False, True]), torch.ones(0))),
    "index_reduce": (lambda x, i, s: x.index_reduce(0, i, s, "prod"),
                     (torch.zeros(3, 2), idx(5), torch.ones(1, 2))),
    "max_unpool2d": (lambda x, i: F.max_unpool2d(x, i, 2),
                     (torch.ones(1, 1, 2, 2), idx([[[[0, 1], [2, 99]]]]))),
    "max_unpool1d_negative": (lambda x, i: F.max_unpool1d(x, i, 2), (torch.ones(1, 1, 2), idx([[[0, -1]]]))),
    "multi_margin_loss": (lambda x, t: F.multi_margin_loss(x, t), (x23(), idx(0, 5))),
    "multilabel_margin_loss": (lambda x, t: F.multilabel_margin_loss(x, t), (x23(), idx([0, 3, -1], [1, -1, 0]))),
    "multilabel_margin_loss_after_the_end": (lambda x, t: F.multilabel_margin_loss(x, t),
                                             (x23(), idx([0, -1, 2], [1, -1, 7]))),
    "floor_divide": (lambda a, b: a // b, (idx(1, 2), idx(1, 0))),
    "floor_divide_scalar": (lambda a: a // 0, (idx(1, 2),)),
    "div_trunc": (lambda a, b: torch.div(a, b, rounding_mode="trunc"), (idx(1, 2), idx(1, 0))),
    "div_floor_int32": (lambda a, b: torch.div(a, b, rounding_mode="floor"),
                        (idx(1, 2).int(), idx(0, 1).int())),
    "remainder": (lambda a, b: a % b, (idx(5, 2), idx(0, 3))),
    "remainder_scalar": (lambda a: a % 0, (idx(1, 2),)),
    "fmod_uint8": (lambda a, b: torch.fmod(a, b), (idx(1, 2).to(torch.uint8), idx(1, 0).to(torch.uint8))),
}

# The same ops with data CPU accepts: no check may fire.
GOOD_CALLS = {
    "index_select_last": (lambda x, i: torch.index_select(x, 0, i), (x23(), idx(1, 0))),
    "gather": (lambda x, i: torch.gather(x, 1, i), (x23(), idx([0, 2], [1, 1]))),
    "index_negative": (lambda x, i: x[i], (x23(), idx(-2, -1))),
    "take_negative": (lambda x, i: torch.take(x, i), (x23(), idx(-6, 5))),
    "index_fill_negative": (lambda x, i: x.index_fill_(0, i, 1.0), (x23(), idx(-2))),
    "nll_loss_ignore_index": (lambda p, t: F.nll_loss(p, t), (logits(2, 3), idx(0, -100))),
    "nll_loss_custom_ignore": (lambda p, t: F.nll_loss(p, t, ignore_index=7), (logits(2, 3), idx(7, 2))),
    "empty_index": (lambda x, i: x[i], (x23(), torch.tensor([], dtype=torch.int64))),
    "masked_scatter_exact_source": (lambda x, m, s: x.masked_scatter(m, s),
                                    (torch.zeros(3), torch.tensor([True, False, True]), torch.ones(2))),
    "multilabel_margin_loss": (lambda x, t: F.multilabel_margin_loss(x, t), (x23(), idx([0, -1, 2], [2, 1, -1]))),
    "float_divide_by_zero": (lambda a, b: a / b, (idx(1, 2), idx(1, 0))),
    "float_floor_divide_by_zero": (lambda a, b: a // b, (idx(1, 2).float(), idx(1, 0).float())),
}


def cpu_error(fn, args):
    try:
        fn(*[a.clone() for a in args])
    except Exception as error:  # noqa: BLE001
        return error
    raise AssertionError("the call does not raise on CPU")


def run_then_sync(fn, args, sync):
    result = fn(*[a.to(DEVICE) for a in args])
    if sync == "cpu":
        result.cpu()
    elif sync == "item":
        result.reshape(-1)[0].item()
    else:
        torch.tpu.synchronize()


@needs_backend
@pytest.mark.parametrize("sync", ["cpu", "item", "synchronize"])
@pytest.mark.parametrize("name", BAD_CALLS)
def test_bad_data_raises_cpus_error_by_the_next_synchronization(name, sync):
    fn, args = BAD_CALLS[name]
    expected = cpu_error(fn, args)
    with pytest.raises(type(expected)) as info:
        run_then_sync(fn, args, sync)
    message = str(info.value)
    # CPU's own words, the op, and where the error was found.
    assert str(expected).split(" (")[0] in message, (message, str(expected))
    assert "aten::" in message
    # Nothing is left to raise later.
    torch.tpu.synchronize()


@needs_backend
def test_a_two_dimensional_index_names_the_offending_value():
    x = x23().to(DEVICE)
    with pytest.raises(IndexError, match=r"index 4 is out of bounds for dimension 1 with size 3"):
        x[:, torch.tensor([0, 4], device=DEVICE)].cpu()


@needs_backend
@pytest.mark.parametrize("name", GOOD_CALLS)
def test_valid_data_raises_nothing_and_matches_cpu(name):
    fn, args = GOOD_CALLS[name]
    expected = fn(*[a.clone() for a in args])
    actual = fn(*[a.to(DEVICE) for a in args])
    torch.tpu.synchronize()
    torch.testing.assert_close(actual.cpu(), expected, equal_nan=True)


def live_buffers():
    import torch_pjrt

    gc.collect()
    torch.tpu.synchronize()
    return torch_pjrt.metrics()["live_buffers"]


@needs_backend
def test_after_a_device_error_nothing_leaks_and_the_device_keeps_working():
    kept = torch.arange(6.0, device=DEVICE)
    start = live_buffers()
    for _ in range(2):
        for name, (fn, args) in BAD_CALLS.items():
            with pytest.raises((IndexError, RuntimeError)):
                run_then_sync(fn, args, "synchronize")
    assert live_buffers() == start
    assert torch.equal((kept * 2).cpu(), torch.arange(6.0) * 2)


@needs_backend
@reported_later
def test_only_the_first_failure_is_reported_and_later_ones_start_clean():
    x = x23().to(DEVICE)
    first = torch.gather(x, 1, torch.tensor([[0, 7], [1, 1]], device=DEVICE))
    second = torch.tensor([1, 2], device=DEVICE) // torch.tensor([0, 0], device=DEVICE)
    with pytest.raises(RuntimeError, match="index 7 is out of bounds"):
        torch.tpu.synchronize()
    del first, second
    torch.tpu.synchronize()  # the second failure was part of the same report
    assert torch.index_select(x, 0, torch.tensor([1], device=DEVICE)).cpu().tolist() == [[3.0, 4.0, 5.0]]


@needs_backend
@reported_later
def test_a_long_loop_without_synchronization_still_reports_its_failure():
    # Hundreds of checked ops with no host read in between: the pending error
    # words stay bounded, and the failure in the middle is still reported.
    x = x23().to(DEVICE)
    good = torch.tensor([1, 0], device=DEVICE)
    bad = torch.tensor([0, 5], device=DEVICE)
    total = torch.zeros(2, 3, device=DEVICE)
    for step in range(600):
        total = total + torch.index_select(x, 0, bad if step == 300 else good)
    with pytest.raises(IndexError, match="index 5"):
        total.cpu()
    assert torch.index_select(x, 0, good).cpu().tolist() == [[3.0, 4.0, 5.0], [0.0, 1.0, 2.0]]


@needs_backend
@reported_later
def test_a_bad_target_in_a_training_loop_is_reported_at_that_steps_read():
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 3).to(DEVICE)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    inputs = torch.randn(8, 4).to(DEVICE)
    targets = [torch.randint(0, 3, (8,)) for _ in range(6)]
    targets[4][5] = 3
    losses = []
    for step, target in enumerate(targets):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(inputs), target.to(DEVICE))
        loss.backward()
        optimizer.step()
        if step == 4:
            with pytest.raises(IndexError, match="Target 3 is out of bounds"):
                loss.item()
        else:
            losses.append(loss.item())
    assert len(losses) == 5 and all(v == v for v in losses)


@needs_backend
def test_compiled_graph_checks_its_indices_too():
    def pick(x, i):
        return torch.index_select(x, 0, i) * 2

    compiled = torch.compile(pick, backend="tpu")
    x = x23().to(DEVICE)
    assert compiled(x, torch.tensor([1], device=DEVICE)).cpu().tolist() == [[6.0, 8.0, 10.0]]
    with pytest.raises(IndexError, match="index out of range in self"):
        compiled(x, torch.tensor([2], device=DEVICE)).cpu()


@needs_backend
def test_debug_mode_raises_at_the_op_itself():
    # Debug mode waits for every op, so the error surfaces at the failing line.
    result = run_python(
        """
        import torch, torch_pjrt
        x = torch.arange(6.0).reshape(2, 3).to("tpu")
        try:
            torch.gather(x, 1, torch.tensor([[0, 7]], device="tpu"))
        except RuntimeError as e:
            print("raised at the op:", e)
        t = torch.tensor([1, 2], device="tpu")
        try:
            t // torch.tensor([1, 0], device="tpu")
        except RuntimeError as e:
            print("raised at the op:", e)
        print("still working:", (x * 2).sum().item())
        """,
        TORCH_PJRT_EAGER_MODE="debug",
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("raised at the op: aten::gather: index 7 is out of bounds"), lines
    assert "reported at the first synchronization" not in lines[0]
    assert lines[1] == "raised at the op: aten::floor_divide: ZeroDivisionError", lines
    assert lines[2] == "still working: 30.0"


@needs_backend
@pytest.mark.skipif(not FUSED, reason="fused mode only")
def test_fused_program_with_no_live_result_still_runs_its_checks():
    x = x23().to(DEVICE)
    torch.index_select(x, 0, torch.tensor([9], device=DEVICE))  # result dropped at once
    with pytest.raises(IndexError, match="index 9"):
        torch.tpu.synchronize()
