"""torch_pjrt: TPUs (and any PJRT plugin) as a native PyTorch device, "tpu".

    import torch, torch_pjrt
    model.to("tpu")

Settings (environment, read at import):
  TORCH_PJRT_PLUGIN        cpu | tpu | cuda | /path/to/plugin.so
  TORCH_PJRT_CPU_DEVICES   how many devices XLA:CPU shows (default 1)
  TORCH_PJRT_EAGER_MODE    strict (default, asynchronous) | debug (waits per op)
                           | fused (ops gather into one program per flush)
  TORCH_PJRT_FUSED_MAX_OPS fused mode: most ops a pending program holds (default 4096)
  TORCH_PJRT_CPU_FALLBACK  1: unsupported ops run on the CPU instead of raising
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
        os.environ.get("TORCH_PJRT_EAGER_MODE", "strict").strip() or "strict",
        os.environ.get("TORCH_PJRT_CPU_FALLBACK", "0").strip() not in ("", "0"),
        _env_int("TORCH_PJRT_FUSED_MAX_OPS", 4096),
    )


_register()
