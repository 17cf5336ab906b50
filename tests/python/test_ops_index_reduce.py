"""index_reduce (prod, mean, amax, amin; include_self or not) against CPU."""
import pytest
import torch

import torch_pjrt
from op_testing import DEVICE, assert_same, check, check_op, make

REDUCES = ["prod", "mean", "amax", "amin"]


@pytest.fixture(autouse=True)
def no_cpu_fallback():
    torch_pjrt.reset_metrics()
    yield
    assert torch_pjrt.metrics()["cpu_fallbacks"] == 0


@pytest.mark.parametrize("reduce", REDUCES)
@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16, torch.int64,
                                   torch.int32])
def test_index_reduce(reduce, include_self, dtype):
    x = make((5, 3), dtype, low=-4, high=5)
    index = torch.tensor([0, 4, 0, 2, 4])
    source = make((5, 3), dtype, seed=1, low=-4, high=5)
    check_op(lambda s, i, v: s.index_reduce(0, i, v, reduce, include_self=include_self), x,
             index, source)
    check_op(lambda s, i, v: s.index_reduce_(1, i, v, reduce, include_self=include_self),
             make((3, 5), dtype, noncontiguous=True), index.int(), source.t())


def test_index_reduce_specials_and_errors():
    nan = float("nan")
    x = torch.tensor([1.0, 7.0, 9.0])
    reduce = lambda op: lambda s, i, v: s.index_reduce(0, i, v, op)
    check_op(reduce("amax"), x, torch.tensor([0, 0, 2]), torch.tensor([nan, 4.0, 4.0]))
    check_op(reduce("prod"), x, torch.tensor([], dtype=torch.long), torch.ones(0))
    check_op(reduce("mean"), torch.tensor([-5, 7, 9]), torch.tensor([0, 0, 2]),
             torch.tensor([2, 3, 4]))
    check(reduce("sum"), x, torch.tensor([0]), torch.ones(1))
    check(reduce("prod"), x, torch.tensor([0.0]), torch.ones(1))
    check(reduce("prod"), x, torch.tensor([0]), torch.ones(1).double())
    check(reduce("prod"), x, torch.tensor([0, 1]), torch.ones(1))
    check(reduce("prod"), x, torch.tensor([[0]]), torch.ones(1))


@pytest.mark.parametrize("reduce", REDUCES)
def test_index_reduce_gradient(reduce):
    x = make((4, 3), torch.float64)
    source = make((5, 3), torch.float64, seed=1)
    index = torch.tensor([0, 3, 0, 2, 1])
    cpu = [x.clone().requires_grad_(), source.clone().requires_grad_()]
    dev = [t.to(DEVICE).requires_grad_() for t in (x, source)]
    cpu[0].index_reduce(0, index, cpu[1], reduce).sum().backward()
    dev[0].index_reduce(0, index.to(DEVICE), dev[1], reduce).sum().backward()
    for d, c in zip(dev, cpu):
        assert_same(d.grad, c.grad)
