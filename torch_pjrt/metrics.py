"""Counters of what the backend did: compiles, cache hits, transfers, fallbacks."""
from . import _C


def metrics() -> dict:
    """A flat dict: int counters (compiles, cache_hits, disk_cache_hits,
    disk_cache_misses, executions, bytes_to_device, bytes_from_device,
    cpu_fallbacks, and one "cpu_fallback::<op>" per op that fell back), the
    states live_buffers, live_bytes, peak_live_bytes and disk_cache_bytes (the
    size of the on-disk executable cache), and compile_seconds (compiling and
    loading executables from the disk cache). Fused mode adds flushes
    (programs its pending traces ran), one "flush::<reason>" per reason
    (host_read, host_scalar, data_dependent, host_write, resize, synchronize,
    loop, max_ops) and ops_per_flush (their mean size). traced_ops counts the
    ops whose lowering rule ran, graph_replays the torch.compile graph calls
    that replayed their first call's recording instead."""
    return dict(_C._metrics())


def reset_metrics() -> None:
    """Zeroes the counters; live_buffers, live_bytes and disk_cache_bytes
    describe what exists now and are kept."""
    _C._reset_metrics()


def metrics_report() -> str:
    values = metrics()
    width = max(len(name) for name in values)
    lines = []
    for name in sorted(values):
        value = values[name]
        shown = f"{value:.3f}" if isinstance(value, float) else f"{value:,}"
        lines.append(f"{name:<{width}}  {shown}")
    return "\n".join(lines)
