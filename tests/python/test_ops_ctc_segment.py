"""ctc_loss (_ctc_loss and its backward) and segment_reduce (and its backward)
against CPU."""
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


# --- ctc_loss -----------------------------------------------------------------------

def log_probs(steps, batch, classes, dtype, seed=0):
    return make((steps, batch, classes), dtype, seed=seed).log_softmax(2)


def run_ctc(lp, targets, input_lengths, target_lengths, **kwargs):
    to_dev = lambda x: x.to(DEVICE) if isinstance(x, torch.Tensor) else x
    cpu_lp = lp.clone().requires_grad_()
    dev_lp = lp.to(DEVICE).requires_grad_()
    expected = F.ctc_loss(cpu_lp, targets, input_lengths, target_lengths, **kwargs)
    actual = F.ctc_loss(dev_lp, to_dev(targets), to_dev(input_lengths), to_dev(target_lengths),
                        **kwargs)
    assert_same(actual, expected, atol=1e-5, rtol=1e-5)
    g = make(tuple(expected.shape), expected.dtype, seed=5, low=0.5, high=1.5)
    expected.backward(g)
    actual.backward(g.to(DEVICE))
    assert_same(dev_lp.grad, cpu_lp.grad, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("reduction, zero_infinity, dtype, tensor_lengths", [
    ("none", False, torch.float64, False), ("mean", True, torch.float32, True),
    ("sum", False, torch.float32, False), ("mean", False, torch.float64, True),
    ("none", True, torch.float64, True),
])
def test_ctc_loss(reduction, zero_infinity, dtype, tensor_lengths):
    lp = log_probs(7, 3, 5, dtype)
    targets = torch.tensor([[1, 2, 2, 4], [3, 1, 0, 0], [4, 4, 4, 1]])
    # The third sample cannot align 4 4 4 1 in 5 steps: an infinite loss.
    input_lengths, target_lengths = [7, 6, 5], [4, 2, 4]
    if tensor_lengths:
        targets = targets.int()
        input_lengths, target_lengths = torch.tensor(input_lengths), torch.tensor(target_lengths)
    run_ctc(lp, targets, input_lengths, target_lengths, reduction=reduction,
            zero_infinity=zero_infinity)


def test_ctc_loss_concatenated_targets_blank_and_empty():
    lp = log_probs(6, 3, 4, torch.float64)
    run_ctc(lp, torch.tensor([1, 2, 1, 1, 3]), [6, 4, 5], [3, 0, 2])
    run_ctc(lp, torch.tensor([0, 2, 0, 1]), [6, 4, 0], [2, 2, 0], blank=3)
    run_ctc(lp[:, 0], torch.tensor([1, 2]), torch.tensor(6), torch.tensor(2),
            reduction="sum")  # unbatched


def test_ctc_loss_raw_outputs():
    lp = log_probs(5, 2, 4, torch.float32)
    targets = torch.tensor([[1, 2, 2], [3, 1, 0]])
    cpu = torch.ops.aten._ctc_loss(lp, targets, [5, 3], [3, 2], 0, False)
    dev = torch.ops.aten._ctc_loss(lp.to(DEVICE), targets.to(DEVICE), [5, 3], [3, 2], 0, False)
    assert_same(dev[0], cpu[0], atol=1e-5, rtol=1e-5)
    # CPU leaves log_alpha unwritten past each sample's input and target.
    alpha_cpu, alpha_dev = cpu[1], dev[1].cpu()
    for n, (steps, length) in enumerate([(5, 3), (3, 2)]):
        torch.testing.assert_close(alpha_dev[n, :steps, :2 * length + 1],
                                   alpha_cpu[n, :steps, :2 * length + 1], atol=1e-5, rtol=1e-5)


def test_ctc_loss_bad_arguments():
    lp = log_probs(5, 2, 4, torch.float32)
    targets = torch.tensor([[1, 2, 2], [3, 1, 0]])
    call = lambda lp, t, il, tl, blank=0: torch.ops.aten._ctc_loss(lp, t, il, tl, blank, False)
    check(call, lp, targets, [6, 3], [3, 2])
    check(call, lp, targets, [5, 3], [4, 2])
    check(call, lp, targets, [5], [3, 2])
    check(call, lp, targets, [5, 3], [3, 2], 4)
    check(call, lp.half(), targets, [5, 3], [3, 2])
    check(call, lp[0], targets, [5, 3], [3, 2])
    check(call, lp, targets.float(), [5, 3], [3, 2])
    check(call, lp, torch.tensor([1, 2, 2, 3]), [5, 3], [3, 2])


# --- segment_reduce ----------------------------------------------------------------

REDUCTIONS = ["sum", "mean", "max", "min", "prod"]


@pytest.mark.parametrize("reduce", REDUCTIONS)
def test_segment_reduce(reduce):
    data = make((6, 3), torch.float32)
    run = lambda d, initial=None, **kw: torch.segment_reduce(d, reduce, initial=initial, **kw)
    check_op(lambda d, l: run(d, lengths=l), data, torch.tensor([2, 0, 1, 3]))
    check_op(lambda d, o: run(d, offsets=o, initial=2.0), data, torch.tensor([0, 2, 2, 3, 6]))
    check_op(lambda d, l: run(d, lengths=l, axis=1),
             make((2, 5), torch.float32, noncontiguous=True),
             torch.tensor([[2, 0, 3], [1, 1, 3]]).int())
    check_op(lambda d, l: run(d, lengths=l, axis=-2, unsafe=True, initial=-1),
             make((2, 6, 2), torch.float32), torch.tensor([[2, 3], [0, 1]]))


@pytest.mark.parametrize("reduce", ["mean", "max", "prod"])
@pytest.mark.parametrize("dtype", [torch.float64, torch.bfloat16, torch.float16])
def test_segment_reduce_dtypes(reduce, dtype):
    check_op(lambda d, l: torch.segment_reduce(d, reduce, lengths=l, initial=2), make((6, 2), dtype),
             torch.tensor([2, 0, 1, 3]))


def test_segment_reduce_specials():
    nan = float("nan")
    data = torch.tensor([1.0, nan, 3.0, 0.0, 5.0, -2.0])
    for reduce in REDUCTIONS:
        check_op(lambda d, l: torch.segment_reduce(d, reduce, lengths=l), data,
                 torch.tensor([2, 0, 1, 3]))
    # Offsets need not start at 0 nor end at the data's end.
    check_op(lambda d, o: torch.segment_reduce(d, "max", offsets=o), data,
             torch.tensor([1, 2, 2, 3, 5]))
    check_op(lambda d, l: torch.segment_reduce(d, "sum", lengths=l), torch.ones(0),
             torch.tensor([0, 0]))


@pytest.mark.parametrize("reduce", REDUCTIONS)
@pytest.mark.parametrize("initial, bounds", [
    (None, dict(lengths=torch.tensor([2, 0, 1, 3]))),
    (2.0, dict(offsets=torch.tensor([0, 2, 2, 3, 6]))),
])
def test_segment_reduce_gradient(reduce, initial, bounds):
    # Ties (for max/min), zeros (for prod) and a NaN share segments; the
    # gradient has both signs (CPU splits only positive ones among ties).
    nan = float("nan")
    data = torch.tensor([[2.0, 1.0, 0.0], [2.0, 0.0, 1.0], [3.0, 0.0, 2.0], [0.0, 4.0, nan],
                         [0.0, 4.0, 3.0], [1.5, 2.0, 0.0]], dtype=torch.float64)
    cpu = data.clone().requires_grad_()
    dev = data.to(DEVICE).requires_grad_()
    expected = torch.segment_reduce(cpu, reduce, initial=initial, **bounds)
    actual = torch.segment_reduce(dev, reduce, initial=initial,
                                  **{k: v.to(DEVICE) for k, v in bounds.items()})
    assert_same(actual, expected)
    g = make(tuple(expected.shape), torch.float64, seed=2)
    expected.backward(g)
    actual.backward(g.to(DEVICE))
    assert_same(dev.grad, cpu.grad)


def test_segment_reduce_bad_arguments():
    data = make((6,), torch.float32)
    lengths = torch.tensor([2, 0, 1, 3])
    check(lambda d, l: torch.segment_reduce(d, "foo", lengths=l), data, lengths)
    check(lambda d: torch.segment_reduce(d, "sum"), data)
    check(lambda d, l: torch.segment_reduce(d, "sum", indices=l), data, lengths)
    check(lambda d, l: torch.segment_reduce(d, "sum", lengths=l), data.long(), lengths)
    check(lambda d, l: torch.segment_reduce(d, "sum", lengths=l), data, lengths.float())
    check(lambda d, l: torch.segment_reduce(d, "sum", lengths=l, axis=1), data.view(2, 3),
          torch.tensor([1, 2]))


@pytest.mark.parametrize("lengths, unsafe, message", [
    ([2, 1], False, "Expected all rows of lengths along axis to sum"),
    ([2, -1, 5], False, "lengths contains negative value"),
    ([2, -1, 5], True, "Expected segment_length >= 0"),
])
def test_segment_reduce_bad_lengths_raise_at_the_next_synchronization(lengths, unsafe, message):
    data = make((6,), torch.float32).to(DEVICE)
    with pytest.raises(RuntimeError, match=message):
        torch.segment_reduce(data, "sum", lengths=torch.tensor(lengths).to(DEVICE),
                             unsafe=unsafe).cpu()
    torch.tpu.synchronize()
