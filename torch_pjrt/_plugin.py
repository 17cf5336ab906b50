"""Which PJRT plugin serves the "tpu" device (TORCH_PJRT_PLUGIN)."""
import glob
import importlib.util
import os


def _package_dir(module):
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    return list(spec.submodule_search_locations)[0]


def _cpu_plugin():
    directory = _package_dir("xla_plugins.xla_cpu_pjrt")
    if directory is None:
        raise RuntimeError(
            "TORCH_PJRT_PLUGIN=cpu needs the XLA:CPU plugin: pip install xla-cpu-pjrt")
    return os.path.join(directory, "xla_cpu_pjrt.so")


def _tpu_plugin():
    directory = _package_dir("libtpu")
    if directory is None:
        return None
    path = os.path.join(directory, "libtpu.so")
    return path if os.path.exists(path) else None


def _cuda_plugin():
    for module in ("jax_plugins.xla_cuda13", "jax_plugins.xla_cuda12"):
        try:
            directory = _package_dir(module)
        except ModuleNotFoundError:
            directory = None
        if directory:
            candidates = glob.glob(os.path.join(directory, "xla_cuda_plugin*.so"))
            if candidates:
                return candidates[0]
    return None


def _tpu_present():
    # TPU VMs expose the chips as /dev/accel* (v2-v4) or vfio devices (v5+).
    return bool(glob.glob("/dev/accel*")) or bool(glob.glob("/dev/vfio/[0-9]*"))


def resolve():
    """Returns (name, path) of the plugin to load."""
    choice = os.environ.get("TORCH_PJRT_PLUGIN", "").strip()
    if not choice:
        tpu = _tpu_plugin()
        if tpu is not None and _tpu_present():
            return "tpu", tpu
        return "cpu", _cpu_plugin()
    if choice == "cpu":
        return "cpu", _cpu_plugin()
    if choice == "tpu":
        path = _tpu_plugin()
        if path is None:
            raise RuntimeError("TORCH_PJRT_PLUGIN=tpu needs the TPU plugin: pip install libtpu")
        return "tpu", path
    if choice == "cuda":
        path = _cuda_plugin()
        if path is None:
            raise RuntimeError(
                "TORCH_PJRT_PLUGIN=cuda needs the XLA:GPU plugin: pip install jax-cuda13-pjrt")
        return "cuda", path
    return "custom", choice
