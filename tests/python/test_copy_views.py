"""Copies between CPU and the device, and views: a view is metadata only and
shares its base's storage, and a write through any view is seen by every alias,
exactly as on CPU."""
import pytest
import torch

from op_testing import DEVICE, assert_same, make, to_device

needs_backend = pytest.mark.skipif(DEVICE == "cpu", reason="needs the torch_pjrt backend")

# Every dtype a copy must carry bit for bit.
COPY_DTYPES = [
    torch.float32, torch.bfloat16, torch.float16, torch.float64,
    torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8,
    torch.bool, torch.complex64,
]

# Floating-point bit patterns that arithmetic would disturb but a copy must not.
SPECIAL_FLOATS = [0.0, -0.0, float("inf"), float("-inf"), float("nan"), 1e-40, 3.0e38, -2.5, 1.0 / 3.0]
SAME_SIZE_INT = {torch.float32: torch.int32, torch.float64: torch.int64,
                 torch.bfloat16: torch.int16, torch.float16: torch.int16}


def synchronize():
    if DEVICE != "cpu":
        torch.tpu.synchronize()


def make_any(shape, dtype, seed=0):
    """make() for every dtype; complex values get a non-zero imaginary part."""
    if dtype.is_complex:
        real = make(shape, torch.float32, seed=seed)
        imag = make(shape, torch.float32, seed=seed + 1)
        return torch.complex(real, imag).to(dtype)
    if dtype == torch.uint8:
        return make(shape, dtype, low=0, high=255, seed=seed)
    return make(shape, dtype, seed=seed)


def assert_bitwise_equal(actual_cpu, expected):
    """Equal bit patterns: NaN payloads, -0.0 and denormals included."""
    assert actual_cpu.dtype == expected.dtype and actual_cpu.shape == expected.shape
    if expected.dtype in SAME_SIZE_INT:
        bits = SAME_SIZE_INT[expected.dtype]
        assert torch.equal(actual_cpu.view(bits), expected.view(bits))
    elif expected.dtype.is_complex:
        assert torch.equal(torch.view_as_real(actual_cpu).view(torch.int32),
                           torch.view_as_real(expected).view(torch.int32))
    else:
        assert torch.equal(actual_cpu, expected)


# ---------------------------------------------------------------- copies


@pytest.mark.parametrize("dtype", COPY_DTYPES, ids=str)
@pytest.mark.parametrize("shape", [(), (0,), (7,), (3, 5), (2, 3, 4)], ids=str)
def test_round_trip_is_bit_exact(dtype, shape):
    cpu = make_any(shape, dtype)
    dev = cpu.to(DEVICE)
    assert dev.device.type == DEVICE and dev.dtype == dtype and dev.shape == cpu.shape
    assert_bitwise_equal(dev.cpu(), cpu)


@pytest.mark.parametrize("dtype", list(SAME_SIZE_INT), ids=str)
def test_round_trip_keeps_special_float_bits(dtype):
    cpu = torch.tensor(SPECIAL_FLOATS, dtype=torch.float64).to(dtype)
    assert_bitwise_equal(cpu.to(DEVICE).cpu(), cpu)


NONCONTIGUOUS_SOURCES = {
    "transposed": lambda x: x.t(),
    "sliced_with_step": lambda x: x[::2, 1::3],
    "expanded": lambda x: x[:1].expand(5, -1),
    "row_of_transposed": lambda x: x.t()[2],
    "offset_slice": lambda x: x[1:3, 2:],
}


@pytest.mark.parametrize("dtype", COPY_DTYPES, ids=str)
@pytest.mark.parametrize("view", NONCONTIGUOUS_SOURCES.values(), ids=NONCONTIGUOUS_SOURCES.keys())
def test_noncontiguous_cpu_to_device(view, dtype):
    src = view(make_any((4, 6), dtype))
    dev = src.to(DEVICE)
    assert_same(dev, src)
    if DEVICE != "cpu":  # on CPU, .to("cpu") returns src itself
        # .to(device) keeps strides where clone() would (memory_format=preserve).
        assert dev.stride() == src.clone().stride()


@pytest.mark.parametrize("dtype", COPY_DTYPES, ids=str)
@pytest.mark.parametrize("view", NONCONTIGUOUS_SOURCES.values(), ids=NONCONTIGUOUS_SOURCES.keys())
def test_noncontiguous_device_to_cpu(view, dtype):
    cpu = make_any((4, 6), dtype)
    dev = cpu.to(DEVICE)
    assert_bitwise_equal(view(dev).cpu().contiguous(), view(cpu).contiguous())


CONVERSIONS = [
    (torch.float32, torch.float64), (torch.float64, torch.float32),
    (torch.float32, torch.bfloat16), (torch.float32, torch.float16), (torch.bfloat16, torch.float32),
    (torch.float32, torch.int32), (torch.float32, torch.int64),  # truncates toward zero
    (torch.float32, torch.bool), (torch.bool, torch.float32), (torch.bool, torch.int64),
    (torch.int64, torch.int32), (torch.int32, torch.int8),  # narrowing wraps around
    (torch.int8, torch.uint8), (torch.uint8, torch.int64), (torch.int64, torch.float32),
    (torch.float32, torch.complex64),
]


def conversion_source(src_dtype, dst_dtype):
    # Keep float -> integer conversions in range: out-of-range casts are undefined in C++.
    if dst_dtype == torch.uint8 and src_dtype.is_floating_point:
        return make((5, 7), src_dtype, low=0, high=200)
    if src_dtype == torch.int32 and dst_dtype == torch.int8:
        return make((5, 7), src_dtype, low=-1000, high=1000)
    return make_any((5, 7), src_dtype)


@pytest.mark.parametrize("src_dtype,dst_dtype", CONVERSIONS, ids=lambda d: str(d).replace("torch.", ""))
def test_dtype_conversion_on_device(src_dtype, dst_dtype):
    cpu = conversion_source(src_dtype, dst_dtype)
    assert_same(cpu.to(DEVICE).to(dst_dtype), cpu.to(dst_dtype))


@pytest.mark.parametrize("src_dtype,dst_dtype", CONVERSIONS, ids=lambda d: str(d).replace("torch.", ""))
def test_dtype_conversion_while_copying(src_dtype, dst_dtype):
    cpu = conversion_source(src_dtype, dst_dtype)
    expected = cpu.to(dst_dtype)
    assert_same(cpu.to(DEVICE, dst_dtype), expected)
    # Device -> CPU with a conversion, into an existing CPU tensor.
    out = torch.empty_like(expected)
    out.copy_(cpu.to(DEVICE))
    assert_bitwise_equal(out, expected)
    # CPU -> existing device tensor of another dtype.
    dev_out = torch.empty(cpu.shape, dtype=dst_dtype, device=DEVICE)
    dev_out.copy_(cpu)
    assert_same(dev_out, expected)


def test_copy_from_cpu_into_device_view():
    cpu = make((4, 6), torch.float32)
    dev = cpu.to(DEVICE, copy=True)  # a separate tensor even when DEVICE is cpu
    src = make((4, 2), torch.float64, seed=3)  # also converts dtype
    cpu[:, 1:3].copy_(src)
    dev[:, 1:3].copy_(src)
    assert_same(dev, cpu)


def test_copy_from_device_into_cpu_view():
    cpu_dst = torch.zeros(4, 6)
    src = make((4,), torch.float32, seed=2)
    cpu_dst.t()[3].copy_(src.to(DEVICE))
    expected = torch.zeros(4, 6)
    expected.t()[3].copy_(src)
    assert torch.equal(cpu_dst, expected)


def fill_views(base, full, row):
    base[:, 1:4].copy_(full)
    base.t()[5].copy_(row[:4])  # column 5
    base[::2, ::3].copy_(row[:2])  # broadcasts over rows
    base[3].copy_(torch.tensor(9.0))  # a 0-d CPU source is allowed everywhere
    base[0].copy_(base[2])  # source and destination share the storage, disjointly
    base[:, 0].copy_(row[:4].to(torch.int64))  # converts dtype


def test_device_to_device_copy_into_views():
    full, row = make((4, 3), torch.float32, seed=1), make((6,), torch.float32, seed=2)
    cpu = torch.zeros(4, 6)
    fill_views(cpu, full, row)
    dev = torch.zeros(4, 6, device=DEVICE)
    fill_views(dev, full.to(DEVICE), row.to(DEVICE))
    assert_same(dev, cpu)


@pytest.mark.parametrize("dtype", [torch.float32, torch.int64, torch.bool], ids=str)
def test_non_blocking_copies(dtype):
    cpu = make_any((16, 9), dtype)
    dev = cpu.to(DEVICE, non_blocking=True)
    doubled = torch.cat([dev, dev])
    back = doubled.to("cpu", non_blocking=True)
    into = torch.empty(16, 9, dtype=dtype, device=DEVICE)
    into.copy_(cpu.t().t(), non_blocking=True)
    synchronize()  # like CUDA: a non-blocking copy to CPU is only valid after a sync
    assert torch.equal(back, torch.cat([cpu, cpu]))
    assert_same(into, cpu)


# ---------------------------------------------------------------- views


def base_tensor():
    # Distinct values, so that any misplaced element shows.
    return torch.arange(24, dtype=torch.float32).view(4, 6).clone() - 5


VIEWS = {
    "view": lambda x: x.view(3, 8),
    "view_flat": lambda x: x.view(-1),
    "view_as": lambda x: x.view_as(torch.empty(6, 4)),
    "reshape": lambda x: x.reshape(2, 12),
    "flatten": lambda x: x.flatten(),
    "as_strided": lambda x: x.as_strided((3, 3), (6, 2), 1),
    "as_strided_overlapping": lambda x: x.as_strided((3, 4), (1, 1), 2),
    "transpose": lambda x: x.transpose(0, 1),
    "t": lambda x: x.t(),
    "mT": lambda x: x.mT,
    "permute_3d": lambda x: x.view(2, 2, 6).permute(2, 0, 1),
    "movedim": lambda x: x.view(2, 3, 4).movedim(0, -1),
    "slice_rows": lambda x: x[1:3],
    "slice_step": lambda x: x[::2],
    "slice_cols_step": lambda x: x[:, 1:5:2],
    "slice_negative": lambda x: x[-3:, -2:],
    "select_row": lambda x: x[1],
    "select_col": lambda x: x[:, 2],
    "expand": lambda x: x[2].expand(3, 6),
    "expand_new_dim": lambda x: x.unsqueeze(1).expand(4, 5, 6),
    "unsqueeze": lambda x: x.unsqueeze(0),
    "unsqueeze_last": lambda x: x.unsqueeze(-1),
    "squeeze_dim": lambda x: x.view(4, 1, 6).squeeze(1),
    "squeeze_all": lambda x: x.view(1, 4, 1, 6).squeeze(),
    "unfold": lambda x: x.unfold(1, 2, 2),
    "unfold_overlapping": lambda x: x.unfold(0, 2, 1),
    "diagonal": lambda x: x.diagonal(),
    "diagonal_offset": lambda x: x.diagonal(offset=1),
    "diagonal_transposed": lambda x: torch.diagonal(x, 0, 1, 0),
    "alias": lambda x: torch.ops.aten.alias(x),
    "narrow": lambda x: x.narrow(1, 2, 3),
    "chunk": lambda x: x.chunk(3, dim=1),
    "split": lambda x: x.split(3),
    "split_sizes": lambda x: x.split([1, 3], dim=0),
    "unbind": lambda x: x.unbind(1),
    "view_of_view": lambda x: x.view(2, 12)[1].view(3, 4),
    "slice_of_transpose": lambda x: x[1:].t()[::2],
    "select_of_unfold": lambda x: x.unfold(1, 3, 1)[2],
    "view_dtype_same_size": lambda x: x.view(torch.int32),
    "view_dtype_bytes": lambda x: x[1].view(torch.uint8),
}


def as_list(result):
    return list(result) if isinstance(result, (tuple, list)) else [result]


@pytest.mark.parametrize("make_view", VIEWS.values(), ids=VIEWS.keys())
def test_view_matches_cpu_and_shares_storage(make_view):
    cpu_base = base_tensor()
    dev_base = cpu_base.to(DEVICE)
    for dev, cpu in zip(as_list(make_view(dev_base)), as_list(make_view(cpu_base)), strict=True):
        assert (dev.shape, dev.stride(), dev.storage_offset()) == (cpu.shape, cpu.stride(), cpu.storage_offset())
        assert dev._is_view() == cpu._is_view()
        assert (dev._base is dev_base) == (cpu._base is cpu_base)
        assert dev.untyped_storage().data_ptr() == dev_base.untyped_storage().data_ptr()
        assert dev.data_ptr() == dev_base.data_ptr() + dev.storage_offset() * dev.element_size()
        assert_same(dev, cpu)


@needs_backend
def test_views_run_nothing_on_the_device():
    import torch_pjrt
    dev_base = base_tensor().to(DEVICE)
    torch.tpu.synchronize()
    before = torch_pjrt.metrics()
    views = [v for make_view in VIEWS.values() for v in as_list(make_view(dev_base))]
    after = torch_pjrt.metrics()
    assert len(views) > len(VIEWS)
    for counter in ("compiles", "executions", "bytes_to_device", "bytes_from_device", "live_buffers"):
        assert after[counter] == before[counter], f"creating views changed {counter}"


def test_complex_views():
    cpu = make_any((3, 4), torch.complex64)
    dev = cpu.to(DEVICE)
    for make_view in (torch.view_as_real, lambda c: c.real, lambda c: c.imag, lambda c: c[:, 1::2].real):
        assert_same(make_view(dev), make_view(cpu))
        assert make_view(dev).untyped_storage().data_ptr() == dev.untyped_storage().data_ptr()


def test_view_as_complex_shares_storage():
    cpu = make((3, 4, 2), torch.float32)
    dev = cpu.to(DEVICE, copy=True)
    assert_same(torch.view_as_complex(dev), torch.view_as_complex(cpu))
    torch.view_as_complex(cpu).mul_(1j)
    torch.view_as_complex(dev).mul_(1j)
    assert_same(dev, cpu)


# ---------------------------------------------------------------- writes through views


def aliases_of(x):
    """Views of x taken before a write; each must see the write afterwards."""
    return {
        "base": x,
        "flat": x.view(-1),
        "transposed": x.t(),
        "columns": x[:, 1:3],
        "row": x[2],
        "diagonal": x.diagonal(),
        "unsqueezed": x.unsqueeze(0),
        "strided": x[::2, ::3],
        "view_of_view": x[1:].t()[::2],
        "expanded": x[1].expand(2, 6),
    }


WRITES = {
    "mul_column_slice": lambda x: x[:, 1:3].mul_(2),
    "add_transposed": lambda x: x.t().add_(1),
    "zero_view_of_view": lambda x: x[1:][:, ::2].zero_(),
    "setitem_row": lambda x: x.__setitem__(0, 5),
    "setitem_column_from_cpu": lambda x: x.__setitem__((slice(None), 4), torch.arange(4.0)),
    "copy_cpu_into_column": lambda x: x[:, 0].copy_(torch.arange(4.0) * 10),
    "setitem_flat_view": lambda x: x.view(-1).__setitem__(3, 7),
    "add_base": lambda x: x.add_(1),
    "mul_unsqueezed": lambda x: x.unsqueeze(0).mul_(3),
    "mul_transposed_then_add_base": lambda x: (x.transpose(0, 1).mul_(3), x.add_(0.5)),
    "fill_diagonal": lambda x: x.diagonal().fill_(-1),
    "sub_as_strided": lambda x: x.as_strided((2, 2), (7, 1), 2).sub_(10),
    "index_put_through_view": lambda x: x[1:3].__setitem__((slice(None), torch.tensor([0, 2])), 0.5),
    "masked_fill_view": lambda x: x[::2].masked_fill_(x[::2] > 3, 0),
    "add_row_from_other_row": lambda x: x[0].add_(x[1]),
    "out_into_row": lambda x: torch.mul(x[0], 2, out=x[3]),
    "clamp_slice_of_transposed": lambda x: x.t()[1:4].clamp_(min=0, max=8),
    "two_writes_through_different_views": lambda x: (x[:, 2].mul_(2), x.t()[2].add_(1), x.view(-1)[::5].neg_()),
    "write_through_fresh_alias": lambda x: torch.ops.aten.alias(x)[3, 3:].fill_(42),
}


@pytest.mark.parametrize("write", WRITES.values(), ids=WRITES.keys())
def test_write_through_view_updates_every_alias(write):
    def run(x):
        aliases = aliases_of(x)
        write(x)
        return aliases

    cpu_aliases = run(base_tensor())
    dev_aliases = run(base_tensor().to(DEVICE))
    for name, cpu in cpu_aliases.items():
        dev = dev_aliases[name]
        assert (dev.shape, dev.stride(), dev.storage_offset()) == (cpu.shape, cpu.stride(), cpu.storage_offset()), name
        assert_same(dev, cpu)


def test_writes_interleaved_with_reads():
    # Reads between writes force values out mid-sequence; later writes must
    # still land on the current value, not on a stale one.
    def run(x):
        seen = []
        row = x[1]
        row.add_(1)
        seen.append(x.sum().item())
        x.t()[0].mul_(-1)
        seen.append(row.clone())
        x.view(-1)[5:9].zero_()
        seen.append(x[:, :3].clone())
        return x, seen

    cpu, cpu_seen = run(base_tensor())
    dev, dev_seen = run(base_tensor().to(DEVICE))
    assert_same(dev, cpu)
    assert dev_seen[0] == cpu_seen[0]
    assert_same(dev_seen[1:], cpu_seen[1:])


def test_storage_pointer_is_stable_across_in_place_writes():
    # Code that checks aliasing through data_ptr() (e.g. optimizers grouping
    # parameters, weight tying) must see the same pointer after a write.
    dev = base_tensor().to(DEVICE)
    view = dev[1:].t()
    pointer = dev.untyped_storage().data_ptr()
    dev.add_(1)
    view.mul_(2)
    dev[0] = 3
    assert dev.untyped_storage().data_ptr() == pointer
    assert view.untyped_storage().data_ptr() == pointer


def test_write_to_expanded_view_raises_like_cpu():
    # Several elements of an expanded tensor share one memory location: CPU refuses
    # to write through it rather than give an order-dependent result.
    cpu = base_tensor()
    dev = cpu.to(DEVICE, copy=True)
    with pytest.raises(RuntimeError, match="single memory location"):
        cpu[0].expand(3, 6).add_(1)
    with pytest.raises(RuntimeError, match="single memory location"):
        dev[0].expand(3, 6).add_(1)
    assert_same(dev, cpu)


def test_detach_and_data_share_storage():
    cpu = base_tensor().requires_grad_()
    dev = base_tensor().to(DEVICE).requires_grad_()
    for x in (cpu, dev):
        with torch.no_grad():
            x.detach()[0].fill_(1)
            x.data[1].fill_(2)
    assert_same(dev.detach(), cpu.detach())
    assert dev.detach().untyped_storage().data_ptr() == dev.untyped_storage().data_ptr()
