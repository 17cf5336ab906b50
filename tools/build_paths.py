"""Prints KEY=value lines CMake needs from the Python environment."""
import os

# The build must never load installed backends (ours included, half-built).
os.environ["TORCH_DEVICE_BACKEND_AUTOLOAD"] = "0"

import torch  # noqa: E402
import xla_plugins.xla_cpu_pjrt as cpu_plugin  # noqa: E402

plugin_dir = os.path.dirname(cpu_plugin.__file__)
print(f"TORCH_VERSION={torch.__version__}")
print(f"TORCH_DIR={os.path.dirname(torch.__file__)}")
print(f"TORCH_CXX11_ABI={int(torch._C._GLIBCXX_USE_CXX11_ABI)}")
print(f"PJRT_INCLUDE_DIR={os.path.join(plugin_dir, 'include')}")
print(f"PJRT_CPU_PLUGIN={os.path.join(plugin_dir, 'xla_cpu_pjrt.so')}")
