"""The "tpu" device as users meet it: the torch.tpu module, device strings,
Tensor.tpu()/is_tpu, autoloading with `import torch`, and several devices."""
import os
import subprocess
import sys
import tempfile
import textwrap
import warnings

import pytest
import torch
from torch import nn

from op_testing import DEVICE, assert_same, make

# Everything here is about the backend itself; there is nothing to compare CPU with.
pytestmark = pytest.mark.skipif(DEVICE == "cpu", reason="needs the torch_pjrt backend")


def run_python(code, **env):
    """Runs code in a fresh interpreter: the environment is read once, at start-up."""
    # Run from a neutral directory, as a user script would be: a checkout's
    # torch_pjrt/ in the working directory would shadow the installed package.
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env={**os.environ, **env},
                          cwd=tempfile.gettempdir(), capture_output=True, text=True, timeout=180)


def assert_succeeds(result):
    assert result.returncode == 0, f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    return result.stdout


def plugin_is_xla_cpu():
    return os.environ.get("TORCH_PJRT_PLUGIN", "cpu") == "cpu" and "TPU" not in torch.tpu.get_device_name().upper()


# ---------------------------------------------------------------- torch.tpu


def test_is_available_and_device_count():
    assert torch.tpu.is_available() is True
    assert isinstance(torch.tpu.device_count(), int) and torch.tpu.device_count() >= 1


def test_current_and_set_device():
    assert torch.tpu.current_device() == 0
    torch.tpu.set_device(0)
    assert torch.tpu.current_device() == 0
    torch.tpu.set_device("tpu:0")
    torch.tpu.set_device(torch.device("tpu", 0))
    assert torch.tpu.current_device() == 0


def test_synchronize_waits_for_queued_work():
    x = torch.ones(256, 256, device=DEVICE)
    for _ in range(5):
        x = x @ x / 256
    assert torch.tpu.synchronize() is None
    assert torch.equal(x.cpu(), torch.ones(256, 256))


def test_get_device_name_names_the_plugin():
    name = torch.tpu.get_device_name()
    assert isinstance(name, str) and name
    assert torch.tpu.get_device_name(0) == name
    if plugin_is_xla_cpu():
        assert "cpu" in name.lower()


@pytest.mark.parametrize("seed_fn", ["manual_seed", "manual_seed_all"])
def test_manual_seed_makes_random_ops_repeat(seed_fn):
    seed = getattr(torch.tpu, seed_fn)
    seed(1234)
    first = (torch.rand(100, device=DEVICE), torch.randn(7, 3, device=DEVICE), torch.randint(0, 50, (20,), device=DEVICE))
    seed(1234)
    second = (torch.rand(100, device=DEVICE), torch.randn(7, 3, device=DEVICE), torch.randint(0, 50, (20,), device=DEVICE))
    seed(4321)
    other = torch.rand(100, device=DEVICE)
    for a, b in zip(first, second):
        assert torch.equal(a.cpu(), b.cpu())
    assert not torch.equal(first[0].cpu(), other.cpu())


def test_torch_manual_seed_also_seeds_the_device():
    # torch.manual_seed reaches custom devices only through the device module's
    # manual_seed_all and _is_in_bad_fork; without them PyTorch warns.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        torch.manual_seed(7)
    first = torch.randn(50, device=DEVICE).cpu()
    torch.manual_seed(7)
    assert torch.equal(torch.randn(50, device=DEVICE).cpu(), first)


def test_dropout_follows_the_seed():
    torch.tpu.manual_seed(3)
    first = nn.functional.dropout(torch.ones(1000, device=DEVICE), 0.5)
    torch.tpu.manual_seed(3)
    second = nn.functional.dropout(torch.ones(1000, device=DEVICE), 0.5)
    assert torch.equal(first.cpu(), second.cpu())
    kept = (first.cpu() != 0).float().mean().item()
    assert 0.4 < kept < 0.6 and set(first.cpu().unique().tolist()) <= {0.0, 2.0}


def test_memory_allocated_follows_tensors():
    torch.tpu.synchronize()
    start = torch.tpu.memory_allocated()
    big = torch.ones(1024, 1024, device=DEVICE)  # 4 MiB
    torch.tpu.synchronize()
    assert torch.tpu.memory_allocated() >= start + big.nbytes
    assert torch.tpu.max_memory_allocated() >= torch.tpu.memory_allocated()
    peak = torch.tpu.max_memory_allocated()
    del big
    torch.tpu.synchronize()
    assert torch.tpu.memory_allocated() <= start
    assert torch.tpu.max_memory_allocated() == peak  # a high-water mark never falls


def test_accelerator_api_sees_the_device():
    assert torch.accelerator.is_available()
    assert torch.accelerator.current_accelerator() == torch.device("tpu")
    assert torch.accelerator.device_count() == torch.tpu.device_count()


# ---------------------------------------------------------------- device strings


# Built lazily: torch.device("tpu") only parses once the backend is loaded.
DEVICE_SPECS = {
    "string": lambda: "tpu",
    "string_with_index": lambda: "tpu:0",
    "device": lambda: torch.device("tpu"),
    "device_with_index": lambda: torch.device("tpu", 0),
    "device_from_string_with_index": lambda: torch.device("tpu:0"),
}


@pytest.mark.parametrize("spec", DEVICE_SPECS.values(), ids=DEVICE_SPECS.keys())
def test_device_specs_name_device_zero(spec):
    x = torch.zeros(3, device=spec())
    assert x.device == torch.device("tpu", 0)
    assert x.device.type == "tpu" and x.device.index == 0 and str(x.device) == "tpu:0"
    assert torch.device(str(x.device)) == x.device  # round trip through the string


def test_device_objects():
    assert torch.device("tpu").type == "tpu" and torch.device("tpu").index is None
    assert torch.device("tpu:0") == torch.device("tpu", 0)
    assert repr(torch.device("tpu", 0)) == "device(type='tpu', index=0)"


@pytest.mark.parametrize("dtype", [torch.float32, torch.int64, torch.bool], ids=str)
def test_to_and_back(dtype):
    cpu = make((3, 4), dtype)
    for target in ("tpu", "tpu:0", torch.device("tpu"), torch.device("tpu", 0)):
        dev = cpu.to(target)
        assert dev.device == torch.device("tpu", 0)
        back = dev.to("cpu")
        assert back.device.type == "cpu" and torch.equal(back, cpu)
        assert torch.equal(dev.cpu(), cpu)


def test_tensor_tpu_method_and_is_tpu():
    cpu = make((2, 3), torch.float32)
    assert cpu.is_tpu is False
    dev = cpu.tpu()
    assert dev.is_tpu is True and dev.device == torch.device("tpu", 0)
    assert cpu.tpu(0).device == torch.device("tpu", 0)
    assert dev.tpu() is dev  # like .cuda(): already there, nothing to do
    assert_same(dev, cpu)


def test_storage_lives_on_the_device():
    dev = torch.ones(4, device=DEVICE)
    assert dev.untyped_storage().device == dev.device
    assert dev.untyped_storage().nbytes() == 16


def test_module_to_device():
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    model.to("tpu")
    assert all(p.device == torch.device("tpu", 0) for p in model.parameters())
    assert model(torch.ones(3, 4, device="tpu")).device == torch.device("tpu", 0)


def test_results_stay_on_the_device():
    a, b = torch.ones(3, device=DEVICE), torch.arange(3.0, device=DEVICE)
    for result in (a + b, a * 2, torch.sin(b), b.sum(), b[1:], torch.stack([a, b])):
        assert result.device == torch.device("tpu", 0)


# ---------------------------------------------------------------- fresh processes


def test_import_torch_alone_autoloads_the_backend():
    out = assert_succeeds(run_python("""
        import torch
        x = torch.ones(2, device='tpu')
        print(x.device)
        print(torch.tpu.is_available())
    """))
    assert out.split() == ["tpu:0", "True"]


def test_autoload_can_be_switched_off():
    result = run_python("""
        import torch
        torch.ones(2, device='tpu')
    """, TORCH_DEVICE_BACKEND_AUTOLOAD="0")
    assert result.returncode == 1 and "tpu" in result.stderr
    # ...and importing torch_pjrt explicitly still works.
    assert_succeeds(run_python("""
        import torch, torch_pjrt
        assert torch.ones(2, device='tpu').sum().item() == 2
    """, TORCH_DEVICE_BACKEND_AUTOLOAD="0"))


def test_two_xla_cpu_devices():
    out = assert_succeeds(run_python("""
        import torch, torch_pjrt
        from torch import nn
        assert torch.tpu.device_count() == 2, torch.tpu.device_count()

        # Work placed explicitly on the second device.
        x = torch.arange(6.0, device="tpu:1")
        assert x.device == torch.device("tpu", 1)
        assert torch.equal((x * 2 + 1).cpu(), torch.arange(6.0) * 2 + 1)
        assert (x * 2).device == torch.device("tpu", 1)
        model = nn.Linear(6, 2).to("tpu:1")
        assert model(x).device == torch.device("tpu", 1)

        # Copies between devices.
        y = x.to("tpu:0")
        assert y.device.index == 0 and torch.equal(y.cpu(), torch.arange(6.0))
        z = torch.zeros(6, device="tpu:0")
        z.copy_(x[::1] + 1)
        assert torch.equal(z.cpu(), torch.arange(6.0) + 1)

        # Two devices in one op is an error, as with CUDA.
        try:
            x + y
        except RuntimeError as error:
            print("mixed devices:", error)
        else:
            raise AssertionError("tpu:0 + tpu:1 did not raise")

        # The current device decides where "tpu" and .tpu() go.
        torch.tpu.set_device(1)
        assert torch.tpu.current_device() == 1
        assert torch.zeros(2, device="tpu").device.index == 1
        assert torch.ones(2).tpu().device.index == 1
        print("OK")
    """, TORCH_PJRT_PLUGIN="cpu", TORCH_PJRT_CPU_DEVICES="2"))
    assert out.rstrip().endswith("OK")
