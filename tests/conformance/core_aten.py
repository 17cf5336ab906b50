"""Probes every overload tagged torch.Tag.core in torch.ops.aten on "tpu".

How: (1) `capture` runs the first samples of every OpInfo in op_db on CPU under a
dispatch mode and keeps, for each core overload, the arguments of the first call that
reached it. (2) `probe` calls that overload directly with those arguments on CPU and
on "tpu" (CPU fallback off) and compares. An overload that no op_db sample reaches gets
hand-written arguments from core_inputs.INPUTS where it has some, else arguments
generated from its schema (small float32 tensors, 1 for ints, ...); when CPU rejects
those too, the overload is recorded as `not_probed`, with that reason.
"""
import os
import sys
import warnings

import torch
from torch.utils._python_dispatch import TorchDispatchMode

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check  # noqa: E402
import core_inputs  # noqa: E402

SAMPLES_PER_OP = 3


def core_overloads():
    names = []
    for packet_name in sorted(torch.ops.aten):
        packet = getattr(torch.ops.aten, packet_name, None)
        if not isinstance(packet, torch._ops.OpOverloadPacket):
            continue
        for overload in packet.overloads():
            if torch.Tag.core in getattr(packet, overload).tags:
                names.append(f"{packet_name}.{overload}")
    return names


def resolve(name):
    packet, overload = name.rsplit(".", 1)
    return getattr(getattr(torch.ops.aten, packet), overload)


class FirstCalls(TorchDispatchMode):
    def __init__(self, wanted):
        super().__init__()
        self.wanted = wanted
        self.calls = {}
        self.source = {}
        self.current = ""

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        name = f"{func._schema.name.split('::')[1]}.{func._overloadname}"
        if name in self.wanted and name not in self.calls:
            try:
                saved = torch.utils._pytree.tree_map(
                    lambda x: x.detach().clone() if isinstance(x, torch.Tensor) else x, (args, kwargs))
                self.calls[name] = saved
                self.source[name] = self.current
            except Exception:
                pass
        return func(*args, **kwargs)


def capture(path):
    from torch.testing._internal.common_methods_invocations import op_db
    warnings.simplefilter("ignore")
    mode = FirstCalls(set(core_overloads()))
    for op in op_db:
        dtypes = [d for d in check.DTYPES.values() if d in op.supported_dtypes("cpu")]
        if not dtypes:
            continue
        mode.current = op.name + (f".{op.variant_test_name}" if op.variant_test_name else "")
        try:
            torch.manual_seed(0)
            samples = list(op.sample_inputs("cpu", dtypes[0]))[:SAMPLES_PER_OP]
            with mode:
                for sample in samples:
                    try:
                        check.call(op, sample)
                    except Exception:
                        pass
        except Exception:
            pass
    kept = {}
    for name, call in mode.calls.items():
        try:
            torch.save(call, os.devnull)  # keep only what can be saved
            kept[name] = (call, mode.source[name])
        except Exception:
            pass
    torch.save(kept, path)


GENERATED_SHAPES = [(3, 4), (2, 3, 4, 5), (4,)]


def generated_arguments(op, shape):
    """Arguments from the schema, tensors of the given shape; None when a required
    argument has no simple value."""
    args = []
    for a in op._schema.arguments:
        if a.kwarg_only or a.has_default_value():
            break
        t = str(a.type)
        index = "index" in a.name or "indices" in a.name
        make = (lambda: torch.zeros(shape, dtype=torch.long)) if index else (lambda: torch.randn(shape))
        if t.startswith("Tensor") and "[]" not in t:
            args.append(make())
        elif t.startswith("Tensor[]") or t.startswith("List[Tensor]"):
            args.append([make(), make()])
        elif t in ("int", "SymInt"):
            args.append(1)
        elif t in ("int[]", "SymInt[]", "List[int]", "List[SymInt]"):
            args.append([1] * (len(shape) - 2 if len(shape) > 2 else 1))
        elif t in ("float", "Scalar", "number"):
            args.append(1.0)
        elif t == "bool":
            args.append(False)
        elif t == "ScalarType":
            args.append(torch.float32)
        elif t.endswith("?"):
            args.append(None)
        else:
            return None
    # Factories: name CPU here, as op_db samples do; the device run names "tpu" instead.
    kwargs = {"device": torch.device("cpu")} if any(a.name == "device" for a in op._schema.arguments) else {}
    return args, kwargs


def first_generated_input(op):
    """The first generated input CPU accepts, as (args, kwargs, expected), or a reason."""
    reason = "its schema has no simple generated input"
    for shape in GENERATED_SHAPES:
        generated = generated_arguments(op, shape)
        if generated is None:
            break
        args, kwargs = generated
        try:
            torch.manual_seed(0)
            expected = op(*_clone(args), **_clone(kwargs))
            return args, kwargs, expected
        except Exception as e:
            reason = f"CPU rejects the generated inputs ({type(e).__name__}: {e})"
    return reason


def _clone(x):
    return torch.utils._pytree.tree_map(lambda v: v.clone() if isinstance(v, torch.Tensor) else v, x)


_captured = {}


def probe(name, captures_path):
    if captures_path not in _captured:
        _captured[captures_path] = torch.load(captures_path, weights_only=False)
    captured = _captured[captures_path]
    op = resolve(name)
    if name in captured:
        (args, kwargs), source = captured[name]
        how = f"op_db sample of {source}"
        try:
            torch.manual_seed(0)
            expected = op(*_clone(args), **_clone(kwargs))
        except Exception as e:
            return "not_probed", check.one_line(f"CPU rejects the replayed {how}: {type(e).__name__}: {e}")
        return _probe_call(op, args, kwargs, expected, how)
    if name in core_inputs.INPUTS:
        torch.manual_seed(0)
        calls = core_inputs.INPUTS[name]()
        for i, (args, kwargs) in enumerate(calls):
            how = f"hand-written input #{i}"
            try:
                torch.manual_seed(0)
                expected = op(*_clone(args), **_clone(kwargs))
            except Exception as e:
                return "not_probed", check.one_line(f"CPU rejects the {how}: {type(e).__name__}: {e}")
            state, reason = _probe_call(op, args, kwargs, expected, how, core_inputs.VERIFY.get(name))
            if state != "native":
                return state, reason
        return "native", f"{len(calls)} hand-written inputs"
    generated = first_generated_input(op)
    if isinstance(generated, str):
        return "not_probed", check.one_line(f"no op_db sample reaches it and {generated}")
    args, kwargs, expected = generated
    return _probe_call(op, args, kwargs, expected, "generated input")


def _probe_call(op, args, kwargs, expected, how, verify=None):
    """Runs one call on the device and compares it with CPU's `expected`, or, for a
    random op with a `verify` function, checks the device result against its inputs."""
    cpu_args, cpu_kwargs = _clone((args, kwargs))
    try:
        move = lambda x: check.to_device(x) if isinstance(x, torch.Tensor) else check.on_device(x)  # noqa: E731
        dev_args, dev_kwargs = torch.utils._pytree.tree_map(move, (args, kwargs))
        torch.manual_seed(0)
        actual = op(*dev_args, **dev_kwargs)
        torch.tpu.synchronize()
        if verify is not None:
            verify(actual, cpu_args)
            return "native", how
        try:
            check.compare(actual, expected, None, None)
        except check.Mismatch:
            # Uninitialized results (empty_strided) and random ones match by shape and dtype only.
            uninitialized = op._schema.name.split("::")[-1] in check.UNINITIALIZED_RESULT
            if check.shapes_only(actual) != check.shapes_only(expected) or not (
                    uninitialized or _random(op, cpu_args, cpu_kwargs)):
                raise
    except check.Unsupported as e:
        return "unsupported", f"{e} ({how})"
    except Exception as e:
        return "fail", check.one_line(f"{how}: {check.describe(e)}")
    return "native", how


def _random(op, args, kwargs):
    results = []
    for seed in (0, 1):
        torch.manual_seed(seed)
        results.append(op(*args, **kwargs))
    try:
        check.compare_cpu(results[0], results[1])
        return False
    except Exception:
        return True


if __name__ == "__main__":
    if sys.argv[1] == "capture":
        capture(sys.argv[2])
