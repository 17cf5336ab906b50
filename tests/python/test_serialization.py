"""torch.save / torch.load of device tensors and modules: values, devices and
storage sharing survive the round trip, whichever map_location is asked for."""
import copy
import io

import pytest
import torch
from torch import nn

from op_testing import DEVICE, assert_same, make

# Where torch.load puts the tensors: None restores them where they were saved.
MAP_LOCATIONS = {
    "saved_device": (None, DEVICE),
    "device_string": (DEVICE, DEVICE),
    "device_object": (torch.device(DEVICE, 0) if DEVICE != "cpu" else torch.device("cpu"), DEVICE),
    "cpu": ("cpu", "cpu"),
}


def round_trip(obj, map_location=None):
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    buffer.seek(0)
    return torch.load(buffer, map_location=map_location)


def assert_on(tensor, device_type, expected):
    assert tensor.device.type == device_type, f"loaded onto {tensor.device}"
    assert tensor.dtype == expected.dtype and tensor.shape == expected.shape
    assert torch.equal(tensor.cpu(), expected)


def same_storage(a, b):
    return a.untyped_storage().data_ptr() == b.untyped_storage().data_ptr()


@pytest.mark.parametrize("map_location,loaded_on", MAP_LOCATIONS.values(), ids=MAP_LOCATIONS.keys())
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.int64, torch.bool, torch.complex64], ids=str)
def test_tensor_round_trip(dtype, map_location, loaded_on):
    if dtype.is_complex:
        cpu = torch.complex(make((3, 5), torch.float32), make((3, 5), torch.float32, seed=1))
    else:
        cpu = make((3, 5), dtype)
    loaded = round_trip(cpu.to(DEVICE), map_location)
    assert_on(loaded, loaded_on, cpu)


@pytest.mark.parametrize("map_location,loaded_on", MAP_LOCATIONS.values(), ids=MAP_LOCATIONS.keys())
def test_saved_views_keep_sharing_one_storage(map_location, loaded_on):
    cpu = make((4, 6), torch.float32)
    base = cpu.to(DEVICE)
    loaded = round_trip({"base": base, "row": base[1], "transposed": base.t(), "cols": base[:, 2:5:2]}, map_location)
    for name, expected in {"base": cpu, "row": cpu[1], "transposed": cpu.t(), "cols": cpu[:, 2:5:2]}.items():
        assert_on(loaded[name], loaded_on, expected)
        assert loaded[name].stride() == expected.stride() and loaded[name].storage_offset() == expected.storage_offset()
        assert same_storage(loaded[name], loaded["base"]), f"{name} no longer shares the base's storage"
    loaded["row"].fill_(-1)  # still aliases after loading: the base sees the write
    assert torch.equal(loaded["base"][1].cpu(), torch.full((6,), -1.0))


def test_saved_view_alone_keeps_its_layout():
    cpu = make((4, 6), torch.float32)
    loaded = round_trip(cpu.to(DEVICE)[1:, ::2].t(), DEVICE)
    expected = cpu[1:, ::2].t()
    assert_on(loaded, DEVICE, expected)
    assert loaded.stride() == expected.stride() and loaded.storage_offset() == expected.storage_offset()


def test_save_to_file(tmp_path):
    cpu = make((8,), torch.float64)
    path = tmp_path / "tensor.pt"
    torch.save(cpu.to(DEVICE), path)
    assert_on(torch.load(path, map_location=DEVICE), DEVICE, cpu)
    assert_on(torch.load(path, map_location="cpu"), "cpu", cpu)


def small_model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(8, 16), nn.BatchNorm1d(16), nn.GELU(), nn.Linear(16, 3))


def test_state_dict_round_trip_into_device_model():
    model = small_model().to(DEVICE)
    model.train()
    model(make((5, 8), torch.float32).to(DEVICE))  # moves BatchNorm's running stats
    state = round_trip(model.state_dict(), DEVICE)
    for name, tensor in state.items():
        assert tensor.device.type == DEVICE, f"{name} loaded onto {tensor.device}"
        assert_same(tensor, model.state_dict()[name].cpu())

    fresh = copy.deepcopy(small_model()).to(DEVICE)
    fresh.load_state_dict(state)
    model.eval()
    fresh.eval()
    x = make((4, 8), torch.float32, seed=7).to(DEVICE)
    with torch.no_grad():
        assert torch.equal(fresh(x).cpu(), model(x).cpu())


def test_state_dict_moves_between_cpu_and_device():
    cpu_model = small_model()
    with torch.no_grad():
        for p in cpu_model.parameters():
            p.mul_(-2)
    # Saved on CPU, loaded into a device model: load_state_dict copies CPU -> device.
    device_model = small_model().to(DEVICE)
    device_model.load_state_dict(round_trip(cpu_model.state_dict()))
    for name, tensor in device_model.state_dict().items():
        assert tensor.device.type == DEVICE
        assert torch.equal(tensor.cpu(), cpu_model.state_dict()[name])
    # Saved on the device, loaded onto CPU into a CPU model.
    back = small_model()
    back.load_state_dict(round_trip(device_model.state_dict(), "cpu"))
    for name, tensor in back.state_dict().items():
        assert torch.equal(tensor, cpu_model.state_dict()[name])


def test_optimizer_state_round_trip():
    model = small_model().to(DEVICE)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    x = make((6, 8), torch.float32).to(DEVICE)
    model(x).square().mean().backward()
    optimizer.step()

    state = round_trip(optimizer.state_dict(), DEVICE)
    restored = torch.optim.AdamW(model.parameters(), lr=1e-2)
    restored.load_state_dict(state)
    for param in model.parameters():
        for key in ("exp_avg", "exp_avg_sq"):
            saved, loaded = optimizer.state[param][key], restored.state[param][key]
            assert loaded.device == param.device
            assert torch.equal(loaded.cpu(), saved.cpu())
