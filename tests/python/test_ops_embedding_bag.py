"""embedding_bag (sum, mean, max; offsets, 2-D input, per_sample_weights,
padding_idx, empty bags) and its gradients against CPU."""
import pytest
import torch
import torch.nn.functional as F

import torch_pjrt
from op_testing import DEVICE, assert_same, check, check_op, make

MODES = ["sum", "mean", "max"]
E = torch.ops.aten._embedding_bag
E_FORWARD = torch.ops.aten._embedding_bag_forward_only


@pytest.fixture(autouse=True)
def no_cpu_fallback():
    torch_pjrt.reset_metrics()
    yield
    assert torch_pjrt.metrics()["cpu_fallbacks"] == 0


INDICES = torch.tensor([1, 2, 4, 5, 4, 3, 2, 0])
OFFSETS = torch.tensor([0, 2, 2, 5])  # bag 1 is empty
# With include_last_offset the last offset is the number of indices (CPU's
# kernels disagree among themselves where it is not).
OFFSETS_WITH_END = torch.tensor([0, 2, 2, 5, 8])


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16, torch.float16])
def test_functional(mode, dtype):
    weight = make((6, 3), dtype)
    check_op(lambda w, i, o: F.embedding_bag(i, w, o, mode=mode), weight, INDICES, OFFSETS)
    check_op(lambda w, i: F.embedding_bag(i, w, mode=mode, padding_idx=4), weight,
             INDICES.view(2, 4).int())


@pytest.mark.parametrize("mode", MODES)
def test_include_last_offset_and_noncontiguous_weight(mode):
    check_op(lambda w, i, o: F.embedding_bag(i, w, o, mode=mode, include_last_offset=True,
                                             padding_idx=2),
             make((6, 3), torch.float32, noncontiguous=True), INDICES, OFFSETS_WITH_END)


# CPU's index outputs differ by path: the float32 sum without padding_idx is
# its fast path, float64 and padding_idx take the general one.
@pytest.mark.parametrize("op", [E, E_FORWARD])
@pytest.mark.parametrize("mode, padding_idx, include_last_offset, dtype", [
    (0, -1, False, torch.float32), (0, 4, True, torch.float32), (0, -1, True, torch.float64),
    (1, -1, True, torch.float32), (1, 4, False, torch.float64),
    (2, -1, False, torch.float32), (2, 4, True, torch.float64),
])
def test_all_four_outputs(op, mode, padding_idx, include_last_offset, dtype):
    weight = make((6, 3), dtype)
    offsets = OFFSETS_WITH_END if include_last_offset else OFFSETS
    check_op(lambda w, i, o: op(w, i, o, False, mode, False, None, include_last_offset,
                                padding_idx), weight, INDICES, offsets)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_per_sample_weights_and_index_dtypes(dtype):
    weight = make((6, 3), dtype)
    psw = make((8,), dtype, seed=1)
    check_op(lambda w, i, o, p: F.embedding_bag(i, w, o, mode="sum", per_sample_weights=p), weight,
             INDICES, OFFSETS, psw)
    check_op(lambda w, i, o, p: E(w, i, o, False, 0, False, p, False, 2), weight, INDICES.int(),
             OFFSETS.int(), psw)
    check_op(lambda w, i, o: E(w, i, o, False, 2, False, None, False, -1), weight, INDICES.int(),
             OFFSETS)


def test_empty_bags_and_ties():
    weight = torch.tensor([[1.0, 2.0], [1.0, 5.0], [3.0, 2.0]])
    # All-padding bag, ties between rows, a bag after the end of the indices.
    for mode in [0, 1, 2]:
        check_op(lambda w, i, o: E(w, i, o, False, mode, False, None, False, 2), weight,
                 torch.tensor([2, 2, 0, 1, 1]), torch.tensor([0, 2, 5, 5]))
        check_op(lambda w, i, o: E(w, i, o, False, mode, False, None, False, -1), weight,
                 torch.tensor([], dtype=torch.long), torch.tensor([0, 0]))
    check_op(lambda w, i: F.embedding_bag(i, w, mode="max"), weight, torch.zeros(0, 3).long())


def test_max_with_nan():
    # CPU keeps a NaN that comes first in its bag and skips any later one.
    nan = float("nan")
    weight = torch.tensor([[1.0, nan], [nan, 5.0], [3.0, 2.0], [3.0, -1.0]])
    check_op(lambda w, i, o: E(w, i, o, False, 2, False, None, False, 3), weight,
             torch.tensor([0, 1, 2, 2, 0, 1, 1, 2, 0, 3, 1]), torch.tensor([0, 3, 6, 9]))


def run_gradient(fn, weight, *args):
    cpu_w = weight.clone().requires_grad_()
    dev_w = weight.to(DEVICE).requires_grad_()
    cpu_args = [a.clone().requires_grad_() if a.is_floating_point() else a for a in args]
    dev_args = [a.to(DEVICE).requires_grad_() if a.is_floating_point() else a.to(DEVICE)
                for a in args]
    out_cpu = fn(cpu_w, *cpu_args)
    out_dev = fn(dev_w, *dev_args)
    assert_same(out_dev, out_cpu)
    g = make(tuple(out_cpu.shape), out_cpu.dtype, seed=3)
    out_cpu.backward(g)
    out_dev.backward(g.to(DEVICE))
    assert_same(dev_w.grad, cpu_w.grad)
    for d, c in zip(dev_args, cpu_args):
        if c.is_floating_point():
            assert_same(d.grad, c.grad)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("padding_idx", [None, 4])
def test_gradient(mode, padding_idx):
    weight = make((6, 3), torch.float64)
    run_gradient(lambda w, i, o: F.embedding_bag(i, w, o, mode=mode, padding_idx=padding_idx),
                 weight, INDICES, OFFSETS)


@pytest.mark.parametrize("mode", ["sum", "mean"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_gradient_scaled_by_frequency(mode, dtype):
    run_gradient(lambda w, i, o: F.embedding_bag(i, w, o, mode=mode, scale_grad_by_freq=True,
                                                 include_last_offset=True, padding_idx=3),
                 make((6, 3), dtype), INDICES, OFFSETS_WITH_END)


@pytest.mark.parametrize("padding_idx, dtype", [(None, torch.float32), (2, torch.float64)])
def test_per_sample_weights_gradient(padding_idx, dtype):
    run_gradient(lambda w, i, o, p: F.embedding_bag(i, w, o, mode="sum", per_sample_weights=p,
                                                    padding_idx=padding_idx),
                 make((6, 3), dtype), INDICES, OFFSETS, make((8,), dtype, seed=1))


def test_embedding_bag_module():
    torch.manual_seed(0)
    bag = torch.nn.EmbeddingBag(10, 4, mode="mean")
    dev = torch.nn.EmbeddingBag(10, 4, mode="mean").to(DEVICE)
    dev.load_state_dict(bag.state_dict())
    x = torch.tensor([[1, 2, 3], [9, 9, 0]])
    bag(x).sum().backward()
    dev(x.to(DEVICE)).sum().backward()
    assert_same(dev.weight.grad, bag.weight.grad)


def test_bad_arguments():
    weight = make((6, 3), torch.float32)
    call = lambda w, i, o, *rest: E(w, i, o, False, *rest)
    check(call, weight, INDICES, OFFSETS, 3, False, None, False, -1)
    check(call, weight, INDICES, OFFSETS, 1, False, torch.ones(8), False, -1)
    check(call, weight, INDICES, OFFSETS, 0, False, torch.ones(7), False, -1)
    check(call, weight.long(), INDICES, OFFSETS, 0, False, None, False, -1)
    check(call, weight, INDICES.float(), OFFSETS, 0, False, None, False, -1)
    check(call, weight[0], INDICES, OFFSETS, 0, False, None, False, -1)
    check(call, weight, INDICES, OFFSETS.view(2, 2), 0, False, None, False, -1)


@pytest.mark.parametrize("indices, offsets, message", [
    ([1, 7, 1], [0, 2], r"takes value 7 which is not in the valid range \[0, 6\)"),
    ([1, -1, 1], [0, 2], r"takes value -1 which is not in the valid range"),
    ([1, 2, 1], [1, 2], r"offsets\[0\] has to be 0"),
    ([1, 2, 1], [0, 5], r"offsets\[-1\] can not be greater than input's length 3"),
])
def test_bad_data_raises_at_the_next_synchronization(indices, offsets, message):
    weight = make((6, 3), torch.float32).to(DEVICE)
    with pytest.raises(RuntimeError, match=message):
        out = F.embedding_bag(torch.tensor(indices).to(DEVICE), weight,
                              torch.tensor(offsets).to(DEVICE))
        out.cpu()
    torch.tpu.synchronize()
