"""torch_pjrt: TPUs (and any PJRT plugin) as a native PyTorch device, "tpu".

    import torch, torch_pjrt
    model.to("tpu")

Settings (environment, read at import):
  TORCH_PJRT_PLUGIN        cpu | tpu | cuda | /path/to/plugin.so
  TORCH_PJRT_CPU_DEVICES   how many devices XLA:CPU shows (default 1)
  TORCH_PJRT_EAGER_MODE    fused (default: ops gather into one program per flush)
                           | strict (one program per op, asynchronous) | debug (waits per op)
  TORCH_PJRT_FUSED_MAX_OPS fused mode: most ops a pending program holds (default 4096)
  TORCH_PJRT_CPU_FALLBACK  1: unsupported ops run on the CPU instead of raising
  TORCH_PJRT_CACHE_DIR     compiled executables on disk (default ~/.cache/torch_pjrt; 0: off)
  TORCH_PJRT_CACHE_MAX_BYTES  bound of that directory (default 2 GiB, least recently used go)
  TORCH_PJRT_XLA_FLAGS     "--xla_flag=value ..." passed to every compile
  TORCH_PJRT_GRAPH_REPLAY  0: torch.compile graphs run their ops on every call (default 1:
                           later calls replay the first call's record)
  TORCH_PJRT_DEBUG         recompile: one line on stderr per compile saying why;
                           replay: one line per compiled graph that is not replayed, saying why
"""
import os

import torch

from . import _C, _plugin
from . import device_module as _device_module
from .metrics import metrics, metrics_report, reset_metrics

__all__ = ["metrics", "metrics_report", "reset_metrics"]


def _env_int(name, default):
    value = os.environ.get(name, "")
    try:
        return int(value) if value else default
    except ValueError:
        raise RuntimeError(f"{name} must be an integer, got {value!r}") from None


_DEBUG_TOPICS = ("recompile", "replay")


def _cache_dir():
    value = os.environ.get("TORCH_PJRT_CACHE_DIR")
    if value is None:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        return os.path.join(base, "torch_pjrt")
    value = value.strip()
    return "" if value in ("", "0") else os.path.expanduser(value)


def _debug_topics():
    words = os.environ.get("TORCH_PJRT_DEBUG", "").replace(",", " ").split()
    unknown = [w for w in words if w not in _DEBUG_TOPICS]
    if unknown:
        raise RuntimeError(f"TORCH_PJRT_DEBUG: unknown topic(s) {', '.join(unknown)}; "
                           f"known: {', '.join(_DEBUG_TOPICS)}")
    return set(words)


def _register():
    # XLA logs its start-up at INFO level on stderr; keep that for those who ask.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
    if torch._C._get_privateuse1_backend_name() != "tpu":
        torch.utils.rename_privateuse1_backend("tpu")
        torch._register_device_module("tpu", _device_module)
        torch.utils.generate_methods_for_privateuse1_backend(
            for_tensor=True, for_module=True, for_packed_sequence=True, for_storage=True)
    name, path = _plugin.resolve()
    _C._configure(
        path,
        name,
        _env_int("TORCH_PJRT_CPU_DEVICES", 1),
        os.environ.get("TORCH_PJRT_EAGER_MODE", "fused").strip() or "fused",
        os.environ.get("TORCH_PJRT_CPU_FALLBACK", "0").strip() not in ("", "0"),
        _env_int("TORCH_PJRT_FUSED_MAX_OPS", 4096),
    )
    # torch.autocast("tpu") without a dtype means bfloat16, the TPU's native
    # type (PyTorch's default for a PrivateUse1 device is float16).
    torch.set_autocast_dtype("tpu", torch.bfloat16)
    _C._configure_executables(
        _cache_dir(),
        _env_int("TORCH_PJRT_CACHE_MAX_BYTES", 2 << 30),
        os.environ.get("TORCH_PJRT_XLA_FLAGS", ""),
        "recompile" in _debug_topics(),
    )


_register()
