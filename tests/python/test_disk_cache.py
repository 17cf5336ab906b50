"""The on-disk executable cache across processes (TORCH_PJRT_CACHE_DIR), its
refusal of damaged and foreign entries, and TORCH_PJRT_DEBUG=recompile."""
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time

import pytest

from op_testing import DEVICE, FUSED

pytestmark = pytest.mark.skipif(DEVICE == "cpu", reason="the executable cache belongs to the torch_pjrt backend")

# A small training-like step: several programs, a result to compare with CPU,
# and the time of the first step (what a warm cache shortens). Its host reads
# make it four programs or more in fused mode too.
STEP = """
import json, time, torch, torch_pjrt
def step(device):
    torch.manual_seed(0)
    w = torch.randn(16, 8).to(device)
    x = torch.randn(4, 16).to(device)
    h = torch.relu(x @ w)
    scale = float(h.mean())
    h = h * 0.5 + scale
    peak = h.max().item()
    count = int((h > peak / 2).sum())
    return torch.cat([(h.sum(0) / peak).cpu(), torch.tensor([scale, peak, count])])
start = time.perf_counter()
got = step("tpu")
first_step = time.perf_counter() - start
m = torch_pjrt.metrics()
assert torch.allclose(got, step("cpu"), rtol=1e-5, atol=1e-5), (got, step("cpu"))
print(json.dumps({k: m[k] for k in ("compiles", "disk_cache_hits", "disk_cache_misses",
                                    "disk_cache_bytes")} | {"first_step": first_step}))
"""


def run_python(code, **env):
    # From a neutral directory, as a user script runs; a checkout's torch_pjrt/
    # in the working directory would shadow the installed package.
    environment = {**os.environ, **env}
    for name, value in env.items():
        if value is None:
            del environment[name]
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=environment,
                          cwd=tempfile.gettempdir(), capture_output=True, text=True, timeout=180)


def run_step(cache_dir, **env):
    result = run_python(STEP, TORCH_PJRT_CACHE_DIR=str(cache_dir), **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1]), result.stderr


def entries(directory):
    return sorted(os.path.join(directory, name) for name in os.listdir(directory))


def warnings_in(stderr):
    return [line for line in stderr.splitlines() if "warning: executable cache" in line]


def flip_last_bytes(path):
    with open(path, "r+b") as f:
        f.seek(-3, os.SEEK_END)
        byte = f.read(1)
        f.seek(-3, os.SEEK_END)
        f.write(bytes([byte[0] ^ 0xFF]))


def claim_another_plugin_version(path):
    with open(path, "rb") as f:
        data = f.read()
    at = data.index(b"platform_version=") + len(b"platform_version=")
    data = data[:at] + (b"8" if data[at:at + 1] == b"9" else b"9") + data[at + 1:]
    with open(path, "wb") as f:
        f.write(data)


def test_second_process_compiles_nothing_and_bad_entries_are_recompiled(tmp_path):
    cold, cold_err = run_step(tmp_path)
    assert cold["compiles"] >= 4
    assert cold["disk_cache_misses"] == cold["compiles"] and cold["disk_cache_hits"] == 0
    assert cold["disk_cache_bytes"] == sum(os.path.getsize(p) for p in entries(tmp_path))
    assert len(entries(tmp_path)) == cold["compiles"]
    warm, warm_err = run_step(tmp_path)
    assert warm["compiles"] == 0, warm_err
    assert warm["disk_cache_hits"] == cold["compiles"] and warm["disk_cache_misses"] == 0
    assert warm["disk_cache_bytes"] == cold["disk_cache_bytes"]
    assert not warnings_in(cold_err + warm_err)
    print(f"first step: cold cache {cold['first_step'] * 1e3:.1f} ms, warm {warm['first_step'] * 1e3:.1f} ms")

    # Two corrupt payloads (one warning for both), an entry whose header names
    # another plugin version, and a truncated one.
    files = entries(tmp_path)
    flip_last_bytes(files[0])
    flip_last_bytes(files[1])
    claim_another_plugin_version(files[2])
    os.truncate(files[3], os.path.getsize(files[3]) // 2)
    damaged, stderr = run_step(tmp_path)
    warned = warnings_in(stderr)
    assert len(warned) == 3, stderr
    corrupt = [w for w in warned if "checksum" in w]
    assert len(corrupt) == 1 and (files[0] in corrupt[0] or files[1] in corrupt[0]), warned
    assert [w for w in warned if "another plugin" in w and files[2] in w], warned
    assert [w for w in warned if "truncated" in w and files[3] in w], warned
    assert damaged["compiles"] == 4 and damaged["disk_cache_hits"] == cold["compiles"] - 4
    # The recompiled executables replaced the bad entries.
    again, again_err = run_step(tmp_path)
    assert again["compiles"] == 0 and not warnings_in(again_err), again_err


def test_max_bytes_bounds_the_directory(tmp_path):
    # Old entries (their content does not matter for eviction) over the bound.
    old = time.time() - 3600
    for i in range(3):
        path = tmp_path / f"{i:016x}.pjrtx"
        path.write_bytes(b"x" * 100_000)
        os.utime(path, (old + i, old + i))
    bound = 250_000
    bounded, _ = run_step(tmp_path, TORCH_PJRT_CACHE_MAX_BYTES=str(bound))
    assert not (tmp_path / f"{0:016x}.pjrtx").exists(), "the least recently used entry stays"
    assert bounded["disk_cache_bytes"] <= bound
    assert sum(os.path.getsize(p) for p in entries(tmp_path)) == bounded["disk_cache_bytes"]


def test_default_directory_honours_xdg_cache_home(tmp_path):
    result = run_python(STEP, TORCH_PJRT_CACHE_DIR=None, XDG_CACHE_HOME=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert len(entries(tmp_path / "torch_pjrt")) == json.loads(result.stdout.splitlines()[-1])["compiles"]


def test_debug_recompile_explains_each_compile_and_zero_turns_the_disk_off(tmp_path):
    code = """
        import torch, torch_pjrt
        for shape, dtype in (((3,), torch.float32), ((5,), torch.float32), ((5,), torch.float64)):
            a = torch.ones(shape, dtype=dtype).to("tpu")
            (a + a).cpu()
        m = torch_pjrt.metrics()
        assert m["compiles"] > 0 and m["disk_cache_misses"] == m["disk_cache_hits"] == 0, m
    """
    result = run_python(code, TORCH_PJRT_DEBUG="recompile", TORCH_PJRT_CACHE_DIR="0",
                        XDG_CACHE_HOME=str(tmp_path), HOME=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert os.listdir(tmp_path) == [], "the disk cache was off"
    lines = [l for l in result.stderr.splitlines() if l.startswith("torch_pjrt recompile:")]
    # Fused mode runs each add as the program of a pending trace.
    label = "fused trace" if FUSED else "aten::add.Tensor"
    adds = [l for l in lines if label in l]
    assert adds[0] == f"torch_pjrt recompile: first compile of {label}", lines
    assert "input 0 shape f32[5] (was f32[3])" in adds[1], lines
    assert "input 0 dtype f64 (was f32)" in adds[2], lines
    assert len(adds) == 3, lines


def test_bad_settings_are_clear_errors(monkeypatch):
    import torch_pjrt
    from torch_pjrt import _C

    with pytest.raises(ValueError, match="TORCH_PJRT_XLA_FLAGS.*xla_cpu_enable_fast_math=true"):
        _C._configure_executables("", 1 << 30, "xla_cpu_enable_fast_math=true", False)
    with pytest.raises(RuntimeError, match="TORCH_PJRT_CACHE_MAX_BYTES"):
        _C._configure_executables("", -5, "", False)
    monkeypatch.setenv("TORCH_PJRT_DEBUG", "recompiles")
    with pytest.raises(RuntimeError, match="TORCH_PJRT_DEBUG.*recompiles"):
        torch_pjrt._debug_topics()
    monkeypatch.setenv("TORCH_PJRT_DEBUG", "recompile,")
    assert torch_pjrt._debug_topics() == {"recompile"}


def test_cache_dir_setting(monkeypatch, tmp_path):
    import torch_pjrt

    for off in ("0", "", " "):
        monkeypatch.setenv("TORCH_PJRT_CACHE_DIR", off)
        assert torch_pjrt._cache_dir() == ""
    monkeypatch.setenv("TORCH_PJRT_CACHE_DIR", str(tmp_path))
    assert torch_pjrt._cache_dir() == str(tmp_path)
    monkeypatch.delenv("TORCH_PJRT_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert torch_pjrt._cache_dir() == str(tmp_path / "torch_pjrt")
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert torch_pjrt._cache_dir() == str(tmp_path / ".cache" / "torch_pjrt")


def test_xla_flags_reach_the_compiler():
    code = """
        import torch, torch_pjrt
        (torch.ones(3, device="tpu") * 2).cpu()
    """
    result = run_python(code, TORCH_PJRT_XLA_FLAGS="--xla_torch_pjrt_no_such_flag=1",
                        TORCH_PJRT_CACHE_DIR="0")
    assert result.returncode != 0 and "xla_torch_pjrt_no_such_flag" in result.stderr, result.stderr
