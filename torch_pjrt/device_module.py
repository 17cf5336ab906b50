"""torch.tpu: the device module of the "tpu" device, shaped like torch.cuda."""
import torch

from . import _C


def is_available() -> bool:
    try:
        return _C._device_count() > 0
    except RuntimeError:
        return False


def is_initialized() -> bool:
    return _C._started()


def __getattr__(name):
    # torch.utils.checkpoint saves the device's RNG state only when the device
    # module says `_initialized` (torch.cuda's flag), so dropout inside a
    # checkpointed block recomputes the same mask.
    if name == "_initialized":
        return _C._started()
    raise AttributeError(f"module 'torch.tpu' has no attribute '{name}'")


def _is_in_bad_fork() -> bool:
    return False


def device_count() -> int:
    return _C._device_count()


def current_device() -> int:
    return _C._current_device()


def _index(device) -> int:
    if device is None:
        return current_device()
    if isinstance(device, int):
        return device
    device = torch.device(device)
    if device.type != "tpu":
        raise ValueError(f"expected a tpu device, got {device}")
    return current_device() if device.index is None else device.index


def set_device(device) -> None:
    _C._set_device(_index(device))


class device:
    """Context manager that changes the current tpu device."""

    def __init__(self, device):
        self.index = _index(device)
        self.previous = None

    def __enter__(self):
        self.previous = current_device()
        set_device(self.index)

    def __exit__(self, *exc):
        set_device(self.previous)
        return False


def synchronize(device=None) -> None:
    """Waits for every operation enqueued so far; raises the first failure."""
    _C._synchronize()


def get_device_name(device=None) -> str:
    return _C._device_name(_index(device))


def manual_seed(seed: int) -> None:
    _C._manual_seed(current_device(), int(seed) & ((1 << 64) - 1))


def manual_seed_all(seed: int) -> None:
    _C._manual_seed_all(int(seed) & ((1 << 64) - 1))


def seed() -> int:
    import random

    value = random.getrandbits(64)
    manual_seed(value)
    return value


def seed_all() -> int:
    import random

    value = random.getrandbits(64)
    manual_seed_all(value)
    return value


def get_rng_state(device="tpu") -> torch.Tensor:
    """The device's default generator state (a uint8 CPU tensor), as torch.cuda's."""
    return _C._get_rng_state(_index(device))


def set_rng_state(new_state: torch.Tensor, device="tpu") -> None:
    _C._set_rng_state(_index(device), new_state)


def get_rng_state_all() -> list:
    return [get_rng_state(i) for i in range(device_count())]


def set_rng_state_all(new_states) -> None:
    for index, state in enumerate(new_states):
        set_rng_state(state, index)


def initial_seed() -> int:
    return _C._initial_seed(current_device())


def memory_allocated(device=None) -> int:
    """Bytes held by live device buffers (all devices)."""
    return _C._memory_allocated()


def max_memory_allocated(device=None) -> int:
    return _C._max_memory_allocated()


def reset_peak_memory_stats(device=None) -> None:
    _C._reset_peak_memory()


def get_amp_supported_dtype():
    """The dtypes torch.autocast("tpu", dtype=...) accepts: TPUs compute in bfloat16
    natively; float16 works through XLA on every plugin."""
    return [torch.bfloat16, torch.float16]
