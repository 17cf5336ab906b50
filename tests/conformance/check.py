"""One conformance row: an OpInfo at one dtype, run on "tpu" and on CPU.

check_row returns (passed, reason). It raises nothing: every failure becomes a
one-line reason naming the phase (forward, noncontiguous, grad) and the sample.
"""
import re

import torch
from torch.testing._internal.opinfo.core import SampleInput
from torch.testing._internal.common_device_type import precisionOverride, toleranceOverride
from torch.utils._python_dispatch import TorchDispatchMode

DEVICE = "tpu"

DTYPES = {
    "float32": torch.float32,
    "bfloat16": torch.bfloat16,
    "float16": torch.float16,
    "float64": torch.float64,
    "int64": torch.int64,
    "int32": torch.int32,
    "int8": torch.int8,
    "uint8": torch.uint8,
    "bool": torch.bool,
    "complex64": torch.complex64,
}

# Ops whose result is uninitialized memory: only shape, dtype and device can agree.
UNINITIALIZED_RESULT = {"empty", "empty_like", "new_empty", "new_empty_strided", "empty_strided",
                        "empty_permuted"}

# Ops whose order among equal elements PyTorch leaves open (sort and argsort
# with stable=False, topk): CPU's comes from libstdc++'s introsort and
# nth_element, ours is the stable order. Any order of ties is right, so the
# values must equal CPU's and the indices must point at them.
TIES_IN_ANY_ORDER = {"sort", "argsort", "topk"}

# Arguments PyTorch requires on the CPU whatever the device of the others.
CPU_ARGUMENTS = {"tensor_split": 0}  # tensor_indices_or_sections, first positional arg


class Mismatch(Exception):
    pass


class Unsupported(Exception):
    pass


def one_line(text, limit=300):
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe(error):
    if isinstance(error, Mismatch):
        return one_line(str(error))
    message = str(error)
    missing = re.search(r"operator '(aten::[^']+)' is not implemented for the tpu device", message)
    if isinstance(error, NotImplementedError) and missing:
        return f"NotImplementedError: no lowering rule for {missing.group(1)}"
    return one_line(f"{type(error).__name__}: {message.strip().splitlines()[0] if message.strip() else ''}")


def tolerance(op, dtype):
    """(rtol, atol): assert_close's defaults for the dtype, widened by the OpInfo's own
    toleranceOverride / precisionOverride decorators for that dtype, where it has any."""
    rtol = atol = None
    for info in getattr(op, "decorators", ()) or ():
        decorators = getattr(info, "decorators", [info])
        dtypes = getattr(info, "dtypes", None)
        if dtypes is not None and dtype not in dtypes:
            continue
        for decorator in decorators:
            if isinstance(decorator, toleranceOverride) and dtype in decorator.d:
                t = decorator.d[dtype]
                rtol, atol = max(rtol or 0, t.rtol), max(atol or 0, t.atol)
            elif isinstance(decorator, precisionOverride) and dtype in decorator.d:
                atol = max(atol or 0, decorator.d[dtype])
    if rtol is None and atol is None:
        return None, None
    default_rtol, default_atol = torch.testing._comparison.default_tolerances(dtype)
    return max(rtol or 0, default_rtol), max(atol or 0, default_atol)


def to_device(x):
    """Moves tensors to the device keeping their strides (a non-contiguous CPU tensor
    becomes the same view over a device copy of its whole storage)."""
    if not isinstance(x, torch.Tensor):
        return x
    if x.layout != torch.strided:
        raise Unsupported(f"{x.layout} input: XLA buffers are dense arrays")
    # A tensor that is not its whole storage keeps the rest of it too: as_strided
    # reads storage the view does not show (a 1-element view at offset 1 is
    # "contiguous" but as_strided(..., storage_offset=0) reads element 0).
    whole_storage = x.storage_offset() == 0 and x.untyped_storage().nbytes() == x.numel() * x.element_size()
    if x.numel() == 0 or (x.is_contiguous() and whole_storage):
        y = x.detach().to(DEVICE)
    else:
        base = torch.empty(0, dtype=x.dtype)
        base.set_(x.untyped_storage(), 0, (x.untyped_storage().nbytes() // x.element_size(),), (1,))
        y = base.detach().to(DEVICE).as_strided(x.shape, x.stride(), x.storage_offset())
    if x.requires_grad:
        y.requires_grad_(True)
    return y


def on_device(x):
    """Factory arguments name CPU (the samples are made for it): name the device instead."""
    if isinstance(x, torch.device) and x.type == "cpu":
        return torch.device(DEVICE)
    if isinstance(x, str) and x == "cpu":
        return DEVICE
    if isinstance(x, (list, tuple)) and not isinstance(x, torch.Size):
        return type(x)(on_device(v) for v in x)
    return x


def sample_to_device(sample, op_name=None):
    moved = sample.transform(to_device)
    moved.args = tuple(on_device(a) for a in moved.args)
    if op_name in CPU_ARGUMENTS and len(sample.args) > CPU_ARGUMENTS[op_name]:
        position = CPU_ARGUMENTS[op_name]
        moved.args = moved.args[:position] + (sample.args[position],) + moved.args[position + 1:]
    moved.kwargs = {k: on_device(v) for k, v in moved.kwargs.items()}
    return moved


def tensors_in(x):
    if isinstance(x, torch.Tensor):
        yield x
    elif isinstance(x, (list, tuple)):
        for v in x:
            yield from tensors_in(v)
    elif isinstance(x, dict):
        for v in x.values():
            yield from tensors_in(v)


def call(op, sample):
    return op(sample.input, *sample.args, **sample.kwargs)


def compare(actual, expected, rtol, atol, where="result"):
    if isinstance(expected, torch.Tensor):
        if not isinstance(actual, torch.Tensor):
            raise Mismatch(f"{where}: expected a tensor, got {type(actual).__name__}")
        if expected.layout != torch.strided:
            raise Unsupported(f"{expected.layout} result: XLA buffers are dense arrays")
        if actual.device.type != DEVICE and expected.device.type == "cpu":
            raise Mismatch(f"{where}: result on {actual.device}, expected on {DEVICE}")
        try:
            torch.testing.assert_close(actual.detach().cpu(), expected.detach(), rtol=rtol, atol=atol,
                                       equal_nan=True, check_device=False, check_layout=False)
        except AssertionError as e:
            lines = [l.strip() for l in str(e).splitlines() if l.strip()]
            raise Mismatch(f"{where}: " + "; ".join(lines[:3])) from None
        return
    if isinstance(expected, (list, tuple)):
        if not isinstance(actual, (list, tuple)) or len(actual) != len(expected):
            raise Mismatch(f"{where}: expected a sequence of {len(expected)}, got {type(actual).__name__}")
        for i, (a, e) in enumerate(zip(actual, expected)):
            compare(a, e, rtol, atol, f"{where}[{i}]")
        return
    if isinstance(expected, (bool, int, float, complex)) and not isinstance(expected, bool):
        try:
            torch.testing.assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=True)
        except (AssertionError, TypeError) as e:
            raise Mismatch(f"{where}: {one_line(e, 150)}") from None
        return
    if actual != expected:
        raise Mismatch(f"{where}: {actual!r} != {expected!r}")


def shapes_only(x):
    """The structure of a result with tensors reduced to (shape, dtype)."""
    if isinstance(x, torch.Tensor):
        return (tuple(x.shape), x.dtype)
    if isinstance(x, (list, tuple)):
        return [shapes_only(v) for v in x]
    return x


class _SeededOps(TorchDispatchMode):
    """Notes whether a call reaches an ATen op tagged nondeterministic_seeded."""

    def __init__(self):
        super().__init__()
        self.seeded = False

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if torch.Tag.nondeterministic_seeded in getattr(func, "tags", ()):
            self.seeded = True
        return func(*args, **(kwargs or {}))


def is_random(op, sample):
    """True for an RNG op, whose values cannot match CPU's (our generator is not
    CPU's); then only shapes and dtypes are compared. Two CPU runs under
    different seeds disagree, or, where the OpInfo seeds the op itself
    (wrapper_set_seed), the call reaches an op ATen tags nondeterministic_seeded."""
    results = []
    for seed in (0, 1):
        torch.manual_seed(seed)
        results.append(call(op, sample))
    try:
        compare_cpu(results[0], results[1])
    except Exception:
        return True
    with _SeededOps() as mode:
        call(op, sample)
    return mode.seeded


def compare_cpu(a, b):
    if isinstance(b, torch.Tensor):
        torch.testing.assert_close(a, b, equal_nan=True, rtol=0, atol=0)
    elif isinstance(b, (list, tuple)):
        for x, y in zip(a, b):
            compare_cpu(x, y)


def stable_order_expected(op, sample):
    """CPU's result of sort/argsort with its ties in their stable order."""
    return op(sample.input, *sample.args, **{**sample.kwargs, "stable": True})


def check_topk_ties(actual, sample):
    """topk's indices point at its values, which must equal CPU's."""
    values, indices = actual
    dim = sample.args[1] if len(sample.args) > 1 else sample.kwargs.get("dim", -1)
    gathered = sample.input.detach().gather(dim, indices.cpu()) if sample.input.dim() else sample.input
    torch.testing.assert_close(gathered, values.detach().cpu(), rtol=0, atol=0, equal_nan=True)


def check_forward(op, sample, rtol, atol, where):
    device_sample = sample_to_device(sample, op.name)
    try:
        expected = call(op, sample)
    except Exception as cpu_error:
        try:
            call(op, device_sample)
        except Exception:
            return False  # both reject the sample
        raise Mismatch(f"{where}: CPU raised {type(cpu_error).__name__}, tpu did not")
    for t in tensors_in(expected):
        if t.layout != torch.strided:
            raise Unsupported(f"{t.layout} result: XLA buffers are dense arrays")
    actual = call(op, device_sample)
    if op.name in UNINITIALIZED_RESULT:
        if shapes_only(actual) != shapes_only(expected):
            raise Mismatch(f"{where}: {shapes_only(actual)} != {shapes_only(expected)}")
        return True
    try:
        compare(actual, expected, rtol, atol, where)
    except Mismatch:
        if op.name in TIES_IN_ANY_ORDER and not sample.kwargs.get("stable"):
            if op.name == "topk":
                compare(actual[0], expected[0], rtol, atol, f"{where} values")
                try:
                    check_topk_ties(actual, sample)
                except AssertionError as e:
                    raise Mismatch(f"{where}: indices do not point at the values: {one_line(e, 150)}") from None
            else:
                compare(actual, stable_order_expected(op, sample), rtol, atol, f"{where} (ties in stable order)")
            return True
        if not is_random(op, sample):
            raise
        if shapes_only(actual) != shapes_only(expected):
            raise Mismatch(f"{where} (random op): {shapes_only(actual)} != {shapes_only(expected)}")
        return True
    # In-place ops and ops that write through their input: the input must agree too.
    if isinstance(sample.input, torch.Tensor) and sample.input.layout == torch.strided:
        compare(device_sample.input, sample.input, rtol, atol, f"{where} input after the op")
    return True


def differentiable_sum(result):
    total = None
    for t in tensors_in(result):
        if not t.requires_grad:
            continue
        part = (t.real.sum() + t.imag.sum()) if t.is_complex() else t.sum()
        total = part if total is None else total + part
    return total


def grads(op, sample):
    inputs = [t for t in tensors_in([sample.input, sample.args, sample.kwargs]) if t.requires_grad]
    loss = differentiable_sum(call(op, sample))
    if loss is None or not inputs:
        return None
    return torch.autograd.grad(loss, inputs, allow_unused=True)


def check_grad(op, sample, rtol, atol, where):
    try:
        expected = grads(op, sample)
    except Exception:
        return  # CPU cannot differentiate this sample either
    if expected is None:
        return
    actual = grads(op, sample_to_device(sample, op.name))
    if actual is None:
        raise Mismatch(f"{where}: tpu result is not differentiable")
    for i, (a, e) in enumerate(zip(actual, expected)):
        if e is None:
            continue
        if a is None:
            raise Mismatch(f"{where}: gradient {i} is None on tpu")
        try:
            compare(a, e, rtol, atol, f"{where} gradient {i}")
        except Mismatch:
            # The gradient of an RNG op (a dropout mask) follows its random values.
            if not is_random(op, sample) or shapes_only(a) != shapes_only(e):
                raise


def check_row(op, dtype_name, max_samples=None):
    """Returns (state, reason, samples_checked, samples_total); state is "pass",
    "fail" or "unsupported"."""
    dtype = DTYPES[dtype_name]
    rtol, atol = tolerance(op, dtype)
    phase, index = "sample_inputs", 0
    checked = total = 0
    try:
        torch.manual_seed(0)
        samples = list(op.sample_inputs("cpu", dtype, requires_grad=False))
        total = len(samples)
        if not samples:
            return "fail", "the OpInfo generates no sample inputs for this dtype", 0, 0
        if max_samples:
            samples = samples[:max_samples]
        compared = 0
        for index, sample in enumerate(samples):
            phase = "forward"
            compared += check_forward(op, sample, rtol, atol, f"forward #{index}")
            phase = "noncontiguous"
            check_forward(op, sample.noncontiguous(), rtol, atol, f"noncontiguous #{index}")
            checked += 1
        if not compared:
            # Both sides refusing every sample proves nothing about the op.
            try:
                call(op, samples[0])
            except Exception as cpu_error:  # noqa: BLE001
                if "only supported on CUDA" in str(cpu_error):
                    return ("unsupported", "a CUDA-only OpInfo (jiterator): CPU cannot run it, so "
                            "there is no reference", checked, total)
                return ("fail", f"CPU rejects every sample, so nothing was compared "
                        f"(forward #0: {describe(cpu_error)})", checked, total)
        if dtype == torch.float32 and op.supports_autograd:
            phase, index = "grad sample_inputs", 0
            torch.manual_seed(0)
            grad_samples = list(op.sample_inputs("cpu", dtype, requires_grad=True))
            if max_samples:
                grad_samples = grad_samples[:max_samples]
            for index, sample in enumerate(grad_samples):
                phase = "grad"
                check_grad(op, sample, rtol, atol, f"grad #{index}")
        torch.tpu.synchronize()
    except Unsupported as e:
        return "unsupported", one_line(str(e)), checked, total
    except TypeError as e:
        if "ComplexHalf is not supported" in str(e):
            return ("unsupported", "ComplexHalf (complex32): StableHLO's complex types have f32 or "
                    "f64 parts only", checked, total)
        reason = f"{phase} #{index}: {describe(e)}"
        return "fail", reason, checked, total
    except Exception as e:
        reason = describe(e)
        if not isinstance(e, Mismatch):
            reason = f"{phase} #{index}: {reason}"
        return "fail", reason, checked, total
    return "pass", "", checked, total


def is_not_implemented(reason):
    return "NotImplementedError" in reason


def missing_rule(reason):
    found = re.search(r"no lowering rule for (aten::\S+)", reason)
    return found.group(1) if found else None


__all__ = ["check_row", "DTYPES", "SampleInput", "missing_rule", "is_not_implemented"]
