"""Everyday Tensor behaviour on the device: item(), printing, equal, resize_,
set_, factories, clone/contiguous and the autograd basics, compared with CPU."""
import math
import re

import pytest
import torch

from op_testing import DEVICE, assert_same, make

ITEM_DTYPES = [
    torch.float32, torch.bfloat16, torch.float16, torch.float64,
    torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8,
    torch.bool, torch.complex64,
]


def make_any(shape, dtype, seed=0):
    if dtype.is_complex:
        return torch.complex(make(shape, torch.float32, seed=seed), make(shape, torch.float32, seed=seed + 1))
    if dtype == torch.uint8:
        return make(shape, dtype, low=0, high=255, seed=seed)
    return make(shape, dtype, seed=seed)


def same_storage(a, b):
    return a.untyped_storage().data_ptr() == b.untyped_storage().data_ptr()


# ---------------------------------------------------------------- item


@pytest.mark.parametrize("dtype", ITEM_DTYPES, ids=str)
@pytest.mark.parametrize("shape", [(), (1,), (1, 1)], ids=str)
def test_item(dtype, shape):
    cpu = make_any(shape, dtype, seed=5)
    value = cpu.to(DEVICE).item()
    assert type(value) is type(cpu.item())
    assert value == cpu.item()


@pytest.mark.parametrize("special", [float("nan"), float("inf"), -0.0])
def test_item_special_floats(special):
    value = torch.tensor(special, device=DEVICE).item()
    assert (math.isnan(value) and math.isnan(special)) or (value == special and math.copysign(1, value) == math.copysign(1, special))


def test_item_of_a_view_and_after_in_place():
    cpu = make((3, 4), torch.float32)
    dev = cpu.to(DEVICE, copy=True)  # a separate tensor even when DEVICE is cpu
    assert dev[2, 1].item() == cpu[2, 1].item()
    assert dev.t()[3, 0].item() == cpu.t()[3, 0].item()
    dev.add_(1)
    assert dev[1, 1].item() == (cpu + 1)[1, 1].item()


def test_item_of_many_elements_raises():
    with pytest.raises(RuntimeError):
        torch.ones(2, device=DEVICE).item()


def test_tolist_and_python_conversions():
    cpu = make((2, 3), torch.float32)
    dev = cpu.to(DEVICE)
    assert dev.tolist() == cpu.tolist()
    assert float(dev[0, 0]) == float(cpu[0, 0])
    assert int(dev[1, 2].to(torch.int64)) == int(cpu[1, 2].to(torch.int64))
    assert bool(dev[0, 1] > 0) == bool(cpu[0, 1] > 0)


# ---------------------------------------------------------------- printing

PRINT_CASES = {
    "scalar_float": lambda: torch.tensor(3.25),
    "scalar_int8": lambda: torch.tensor(-7, dtype=torch.int8),
    "empty": lambda: torch.empty(0),
    "empty_2d_int32": lambda: torch.zeros(2, 0, dtype=torch.int32),
    "float_matrix": lambda: make((3, 4), torch.float32),
    "float_wide_range": lambda: torch.tensor([1e-8, 1.0, 1e8, -3.5]),
    "float_specials": lambda: torch.tensor([float("nan"), float("inf"), float("-inf"), 0.0, 1.5]),
    "bfloat16": lambda: make((2, 3), torch.bfloat16),
    "float64": lambda: make((4,), torch.float64),
    "int64": lambda: make((2, 5), torch.int64),
    "uint8": lambda: make((6,), torch.uint8, low=0, high=255),
    "bool": lambda: make((3, 3), torch.bool),
    "complex64": lambda: make_any((2, 2), torch.complex64),
    "3d": lambda: make((2, 2, 3), torch.float32),
    "large_summarized_1d": lambda: torch.arange(5000, dtype=torch.float32),
    "large_summarized_2d": lambda: make((100, 120), torch.float32),
    "large_summarized_int": lambda: torch.arange(3000).view(30, 100),
    "noncontiguous": lambda: make((5, 4), torch.float32).t()[:, ::2],
}

_DEVICE_SUFFIX = re.compile(r",\s*device='[a-z]+:\d+'")


def printed_without_device(text):
    """The printout minus the device suffix, with line breaks normalised: the
    suffix can push later suffixes onto a new line."""
    return re.sub(r"\s+", " ", _DEVICE_SUFFIX.sub("", text))


@pytest.mark.parametrize("case", PRINT_CASES.values(), ids=PRINT_CASES.keys())
def test_print_matches_cpu(case, capsys):
    cpu = case()
    dev = cpu.to(DEVICE)
    if DEVICE != "cpu":
        assert f"device='{dev.device}'" in repr(dev)
    assert printed_without_device(repr(dev)) == printed_without_device(repr(cpu))
    assert printed_without_device(str(dev)) == printed_without_device(str(cpu))
    print(dev)
    assert printed_without_device(capsys.readouterr().out) == printed_without_device(str(cpu) + "\n")


def test_print_with_autograd_suffixes():
    cpu_leaf = torch.ones(3, requires_grad=True)
    dev_leaf = torch.ones(3, device=DEVICE, requires_grad=True)
    assert printed_without_device(repr(dev_leaf)) == printed_without_device(repr(cpu_leaf))
    assert printed_without_device(repr(dev_leaf * 2)) == printed_without_device(repr(cpu_leaf * 2))


# ---------------------------------------------------------------- equal

def with_element(a, index, value):
    changed = a.clone()
    changed[index] = value
    return changed


EQUAL_CASES = {
    "same": lambda a: (a, a.clone()),
    "one_element_differs": lambda a: (a, with_element(a, 2, 100.0)),
    "different_shape": lambda a: (a, a[:3]),
    "same_values_as_view": lambda a: (a[1:3], a.clone()[1:3]),
    "transposed_vs_contiguous": lambda a: (a.view(2, 3).t(), a.view(2, 3).t().contiguous()),
    "with_nan": lambda a: (a.clone().fill_(float("nan")), a.clone().fill_(float("nan"))),
    "different_dtype": lambda a: (a, a.to(torch.float64)),
}


@pytest.mark.parametrize("pair", EQUAL_CASES.values(), ids=EQUAL_CASES.keys())
def test_equal(pair):
    cpu = make((6,), torch.float32)
    assert torch.equal(*pair(cpu.to(DEVICE))) == torch.equal(*pair(cpu))


# ---------------------------------------------------------------- resize_ and set_


def test_resize_grow_keeps_prefix():
    cpu = make((6,), torch.float32)
    dev = cpu.to(DEVICE, copy=True)
    dev.resize_(4, 5)
    assert dev.shape == (4, 5) and dev.is_contiguous()
    assert_same(dev.view(-1)[:6], cpu)
    dev.fill_(2)  # the grown storage is usable
    assert_same(dev, torch.full((4, 5), 2.0))


def test_resize_shrink_then_grow_back_keeps_storage():
    cpu = make((6,), torch.float32)
    dev = cpu.to(DEVICE, copy=True)
    for x in (cpu, dev):
        x.resize_(2, 2)
    assert_same(dev, cpu)
    for x in (cpu, dev):
        x.resize_(6)  # a shrink never frees storage: the old tail is back
    assert_same(dev, cpu)


def test_resize_as_and_resize_to_empty():
    dev = make((3, 4), torch.int32).to(DEVICE)
    dev.resize_as_(torch.empty(2, 2))
    assert dev.shape == (2, 2)
    dev.resize_(0)
    assert dev.shape == (0,) and dev.numel() == 0 and dev.device.type == DEVICE


def test_set_with_no_arguments_empties():
    dev = torch.ones(3, 3, device=DEVICE)
    dev.set_()
    assert dev.shape == (0,) and dev.device.type == DEVICE and dev.dtype == torch.float32


def test_set_storage():
    src = make((3, 4), torch.float32).to(DEVICE)
    target = torch.empty(0, device=DEVICE)
    target.set_(src.untyped_storage())
    assert target.shape == (12,) and same_storage(target, src)
    assert_same(target, src.cpu().view(-1))
    target[5] = -1  # shared: src sees the write
    assert src[1, 1].item() == -1


def test_set_storage_offset_size_stride():
    cpu_src = make((3, 4), torch.float32)
    dev_src = cpu_src.to(DEVICE, copy=True)
    cpu, dev = torch.empty(0), torch.empty(0, device=DEVICE)
    cpu.set_(cpu_src.untyped_storage(), 2, (2, 3), (1, 4))
    dev.set_(dev_src.untyped_storage(), 2, (2, 3), (1, 4))
    assert (dev.shape, dev.stride(), dev.storage_offset()) == (cpu.shape, cpu.stride(), cpu.storage_offset())
    assert_same(dev, cpu)
    cpu.mul_(10)
    dev.mul_(10)
    assert_same(dev_src, cpu_src)


def test_set_tensor():
    cpu_src = make((4, 5), torch.float32).t()
    dev_src = make((4, 5), torch.float32).to(DEVICE).t()
    cpu, dev = torch.empty(0), torch.empty(0, device=DEVICE)
    cpu.set_(cpu_src)
    dev.set_(dev_src)
    assert (dev.shape, dev.stride(), dev.storage_offset()) == (cpu.shape, cpu.stride(), cpu.storage_offset())
    assert same_storage(dev, dev_src)
    dev[0].zero_()
    cpu[0].zero_()
    assert_same(dev_src, cpu_src)


# ---------------------------------------------------------------- factories


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.int64, torch.int32, torch.bool], ids=str)
def test_constant_factories(dtype):
    for factory in (torch.zeros, torch.ones):
        assert_same(factory(2, 3, dtype=dtype, device=DEVICE), factory(2, 3, dtype=dtype))
    assert_same(torch.full((3, 2), 1, dtype=dtype, device=DEVICE), torch.full((3, 2), 1, dtype=dtype))
    empty = torch.empty(4, 5, dtype=dtype, device=DEVICE)
    assert (empty.shape, empty.dtype, empty.device.type) == ((4, 5), dtype, DEVICE)


@pytest.mark.parametrize("fill", [7, 2.5, True, -3], ids=repr)
def test_full_infers_dtype(fill):
    assert_same(torch.full((2, 2), fill, device=DEVICE), torch.full((2, 2), fill))


def test_empty_strided():
    dev = torch.empty_strided((2, 3), (1, 2), device=DEVICE)
    assert dev.shape == (2, 3) and dev.stride() == (1, 2) and dev.device.type == DEVICE
    dev.copy_(torch.arange(6.0).view(2, 3))
    assert_same(dev, torch.arange(6.0).view(2, 3))


LIKE_FACTORIES = {
    "zeros_like": torch.zeros_like,
    "ones_like": torch.ones_like,
    "full_like": lambda x: torch.full_like(x, 4),
    "zeros_like_dtype": lambda x: torch.zeros_like(x, dtype=torch.int32),
    "ones_like_contiguous": lambda x: torch.ones_like(x, memory_format=torch.contiguous_format),
}


@pytest.mark.parametrize("factory", LIKE_FACTORIES.values(), ids=LIKE_FACTORIES.keys())
@pytest.mark.parametrize("layout", ["contiguous", "transposed", "sliced"])
def test_like_factories_follow_input(factory, layout):
    cpu = {"contiguous": lambda x: x, "transposed": lambda x: x.t(), "sliced": lambda x: x[::2]}[layout](
        make((4, 6), torch.float32))
    expected = factory(cpu)
    actual = factory(cpu.to(DEVICE))
    assert_same(actual, expected, check_stride=True)


def test_empty_like_keeps_layout():
    cpu = make((4, 6), torch.float32).t()
    dev = torch.empty_like(cpu.to(DEVICE))
    expected = torch.empty_like(cpu)
    assert (dev.shape, dev.stride(), dev.dtype, dev.device.type) == (expected.shape, expected.stride(), expected.dtype, DEVICE)


def test_sequence_factories():
    assert_same(torch.arange(10, device=DEVICE), torch.arange(10))
    assert_same(torch.arange(1.0, 3.0, 0.25, device=DEVICE), torch.arange(1.0, 3.0, 0.25))
    assert_same(torch.linspace(-1, 1, 9, device=DEVICE), torch.linspace(-1, 1, 9))
    assert_same(torch.eye(3, 4, device=DEVICE), torch.eye(3, 4))
    assert_same(torch.tensor([[1, 2], [3, 4]], device=DEVICE), torch.tensor([[1, 2], [3, 4]]))
    assert_same(torch.tensor(2.5, device=DEVICE), torch.tensor(2.5))


def test_random_factories_shape_dtype_range():
    uniform = torch.rand(1000, device=DEVICE)
    normal = torch.randn(20, 50, device=DEVICE, dtype=torch.float64)
    ints = torch.randint(3, 9, (500,), device=DEVICE)
    assert uniform.device.type == DEVICE and uniform.dtype == torch.float32
    assert 0 <= uniform.min().item() and uniform.max().item() < 1
    assert normal.shape == (20, 50) and normal.dtype == torch.float64 and abs(normal.mean().item()) < 0.2
    assert ints.dtype == torch.int64 and 3 <= ints.min().item() and ints.max().item() < 9


# ---------------------------------------------------------------- clone and contiguous


@pytest.mark.parametrize("layout", ["contiguous", "transposed", "sliced", "expanded"])
def test_clone(layout):
    view = {"contiguous": lambda x: x, "transposed": lambda x: x.t(),
            "sliced": lambda x: x[::2, 1:], "expanded": lambda x: x[:1].expand(3, 6)}[layout]
    cpu = view(make((4, 6), torch.float32))
    dev_source = view(make((4, 6), torch.float32).to(DEVICE))
    dev = dev_source.clone()
    assert_same(dev, cpu.clone(), check_stride=True)
    assert not same_storage(dev, dev_source)
    dev.fill_(0)  # writes to the clone leave the source alone
    assert_same(dev_source, cpu)


def test_contiguous():
    cpu = make((4, 6), torch.float32)
    dev = cpu.to(DEVICE)
    assert dev.contiguous() is dev
    result = dev.t().contiguous()
    assert result.is_contiguous() and not same_storage(result, dev)
    assert_same(result, cpu.t().contiguous(), check_stride=True)
    assert_same(dev[:, ::2].contiguous(), cpu[:, ::2].contiguous(), check_stride=True)


# ---------------------------------------------------------------- autograd basics


def test_requires_grad_and_backward():
    cpu = make((3, 4), torch.float32).requires_grad_()
    dev = cpu.detach().to(DEVICE).requires_grad_()
    assert dev.is_leaf and dev.requires_grad and dev.grad is None
    results = []
    for x in (cpu, dev):
        y = (x * x).sum()
        results.append(y)
        y.backward()
        (x.sin().mean()).backward()  # gradients accumulate
    assert type(results[1].grad_fn).__name__ == type(results[0].grad_fn).__name__
    assert dev.grad.device == dev.device
    assert_same(dev.grad, cpu.grad)


def test_no_grad_and_detach():
    dev = torch.ones(3, device=DEVICE, requires_grad=True)
    with torch.no_grad():
        assert not (dev * 2).requires_grad
    detached = dev.detach()
    assert not detached.requires_grad and same_storage(detached, dev)
    assert (dev * 2).requires_grad and not dev.requires_grad_(False).requires_grad


def test_gradient_flows_back_across_devices():
    # A CPU leaf moved to the device: its gradient comes back to CPU.
    leaf = make((5,), torch.float32).requires_grad_()
    on_device = leaf.to(DEVICE)
    if DEVICE != "cpu":
        assert not on_device.is_leaf and type(on_device.grad_fn).__name__ == "ToCopyBackward0"
    (on_device * torch.arange(5.0, device=DEVICE)).sum().backward()
    assert leaf.grad.device.type == "cpu"
    assert torch.equal(leaf.grad, torch.arange(5.0))


def test_parameter_on_device():
    param = torch.nn.Parameter(torch.zeros(2, 3, device=DEVICE))
    assert isinstance(param, torch.nn.Parameter) and param.requires_grad and param.device.type == DEVICE
    (param + 1).pow(2).sum().backward()
    assert_same(param.grad, torch.full((2, 3), 2.0))
