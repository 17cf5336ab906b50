"""torch.compile(model, backend="tpu").

Dynamo captures the Python program, AOTAutograd turns each captured piece
into functional ATen graphs (a forward and, when gradients are needed, a
backward). Each graph runs through the same kernels and lowering rules as
eager mode, inside a graph scope of the runtime: its ops join a pending trace
instead of running one by one. In strict and debug mode the scope's end runs
that trace as one program, so a compiled forward is one execution; in fused
mode the trace goes on after the scope like fused eager's, so the graphs of a
training step and the eager ops between them run as one program per step.
Programs are compiled once and found by their structural hash on later calls
(and, across processes, in the on-disk cache). Run-time values (RNG keys, scalars) stay program
inputs, so the same seed gives the same numbers as eager mode.

A graph's first call with a given input key (dtypes, shapes, strides,
storage sharing) records the ops its kernels added; later calls with that key
append the record to the pending trace and bind the outputs, with no
dispatcher call or lowering rule per op (`graph_replays` in the metrics
counts them). The graph's host part (the CPU scalar math of an optimizer's
step counts) runs first as its own small FX graph, and its values are the
device part's inputs.

Guards, graph breaks, `dynamic=`, `mark_dynamic` and `torch.compiler.reset()`
are Dynamo's, as with Inductor; a graph whose shapes change compiles one
program per shape set.
"""
import functools
import os
import sys
from typing import NamedTuple

import torch
from torch._dynamo.backends.common import aot_autograd
from torch._functorch.aot_autograd import make_boxed_func

from . import _C, _debug_topics

# Input keys recorded per graph: a graph called with ever new layouts (a
# growing cache's views) stops recording and runs its ops each time.
_MAX_RECORDINGS_PER_GRAPH = 8
# Tries to record one input key: a recording fails for good (a host read
# inside the graph) or by chance (the pending ops reached their size bound).
_RECORDING_ATTEMPTS = 3
_MAX_KEYS_TRIED = 64
_REPLAY = os.environ.get("TORCH_PJRT_GRAPH_REPLAY", "1").strip() not in ("", "0")
_EXPLAIN = "replay" in _debug_topics()


def _explain(graph_module, why):
    if _EXPLAIN:
        nodes = sum(1 for n in graph_module.graph.nodes if n.op == "call_function")
        print(f"torch_pjrt replay: a compiled graph of {nodes} ops runs its ops on every call "
              f"with these inputs: {why}", file=sys.stderr)


class graph_scope:
    """Ops inside join one pending trace; the loop detector never cuts it."""

    def __enter__(self):
        _C._begin_graph()
        return self

    def __exit__(self, *exc):
        _C._end_graph()
        return False


def _tensors_in(value):
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (list, tuple)):
        return [t for item in value for t in _tensors_in(item)]
    return []


def _split_host_part(graph_module):
    """The graph as (host part, device part) — (None, the graph) when it has
    no host part — or None when they cannot be separated. The host part holds the nodes that compute CPU values from
    inputs and other CPU values (an optimizer's step counts and bias
    corrections); it returns those the device part uses, which become extra
    inputs of the device part. None when a CPU value depends on a device
    value, a node has no recorded value to tell, or the device part reads an
    input the host part writes in place (it would see the written value)."""
    graph = graph_module.graph

    def on_device(node):
        if node.op == "call_function":
            return node not in host
        return any(t.device.type != "cpu" for t in _tensors_in(node.meta.get("val")))

    host = set()
    for node in graph.nodes:
        if node.op != "call_function":
            continue
        if "val" not in node.meta:
            return None
        tensors = _tensors_in(node.meta["val"])
        reads_device = any(on_device(n) for n in node.all_input_nodes)
        if tensors and all(t.device.type == "cpu" for t in tensors):
            if reads_device:
                return None
            host.add(node)
        elif not tensors and not reads_device and node.all_input_nodes:
            host.add(node)  # a size or a scalar of CPU values
    if not host:
        return None, graph_module
    written = set()
    for node in host:
        schema = getattr(node.target, "_schema", None)
        if schema is None:
            continue
        for argument, value in zip(schema.arguments, node.args):
            if argument.is_write and isinstance(value, torch.fx.Node) and value.op == "placeholder":
                written.add(value)
    device_nodes = [n for n in graph.nodes if n.op == "call_function" and n not in host]
    if any(n in written for d in device_nodes for n in d.all_input_nodes):
        return None
    used = [n for n in graph.nodes if n in host and any(
        user not in host for user in n.users)]

    host_graph = torch.fx.Graph()
    env = {}
    for node in graph.nodes:
        if node.op == "placeholder":
            env[node] = host_graph.placeholder(node.name)
        elif node.op == "get_attr" or node in host:
            env[node] = host_graph.node_copy(node, lambda n: env[n])
    host_graph.output(tuple(env[n] for n in used))

    device_graph = torch.fx.Graph()
    env = {}
    placeholders = [n for n in graph.nodes if n.op == "placeholder"]
    for node in placeholders:
        env[node] = device_graph.placeholder(node.name)
    for node in used:
        env[node] = device_graph.placeholder(f"host_{node.name}")
    for node in graph.nodes:
        if node.op == "placeholder" or node in host:
            continue
        env[node] = device_graph.node_copy(node, lambda n: env[n])
    return (torch.fx.GraphModule(graph_module, host_graph),
            torch.fx.GraphModule(graph_module, device_graph))


class _Recorded(NamedTuple):
    recording: object  # _C._RecordedGraph
    constants: dict  # output position -> the int, float or bool it returned
    output_type: type  # tuple or list, as the graph returned its outputs


class _CompiledGraph:
    """One AOTAutograd graph: runs it, records it, replays the records."""

    def __init__(self, graph_module):
        self.graph_module = graph_module
        split = _split_host_part(graph_module) if _REPLAY else None
        self.replayable = split is not None
        self.host_part, self.device_part = split if split else (None, graph_module)
        if _REPLAY and split is None:
            _explain(graph_module, "its CPU values depend on device values, or its device part "
                     "reads an input its CPU part writes")
        # Tensor constants the graph reads: inputs of its recording too.
        self.constants = [getattr(graph_module, n.target) for n in graph_module.graph.nodes
                          if n.op == "get_attr"
                          and isinstance(getattr(graph_module, n.target, None), torch.Tensor)]
        self.op_count = sum(1 for n in self.device_part.graph.nodes if n.op == "call_function")
        self.recordings = {}  # input key -> _Recorded
        self.attempts = {}  # input key -> recordings tried
        self.explained = set()

    def __call__(self, *args):
        if not self.replayable:
            with graph_scope():
                return self.graph_module(*args)
        host_values = self.host_part(*args) if self.host_part is not None else ()
        inputs = [*args, *host_values, *self.constants]
        key = _C._graph_call_key(inputs)
        with graph_scope():
            recorded = self.recordings.get(key)
            if recorded is not None:
                outputs = _C._replay_graph(recorded.recording, inputs)
                if outputs is not None:
                    for position, value in recorded.constants.items():
                        outputs[position] = value
                    return recorded.output_type(outputs)
                # Inputs that shared a value when it was recorded no longer
                # do: it records again.
                del self.recordings[key]
            if self._may_record(key):
                self.attempts[key] = self.attempts.get(key, 0) + 1
                return self._record(key, inputs, args, host_values)
            return self.device_part(*args, *host_values)

    def _may_record(self, key):
        if key is None:
            self._explain_once("an argument is neither a tensor nor a number")
            return False
        if self.attempts.get(key, 0) >= _RECORDING_ATTEMPTS:
            return False
        if len(self.recordings) >= _MAX_RECORDINGS_PER_GRAPH or \
                len(self.attempts) >= _MAX_KEYS_TRIED:
            self._explain_once("it was recorded for too many input layouts already")
            return False
        return True

    def _explain_once(self, why):
        if why not in self.explained:
            self.explained.add(why)
            _explain(self.graph_module, why)

    def _record(self, key, inputs, args, host_values):
        if not _C._begin_graph_recording(inputs, self.op_count):
            self.attempts[key] = _RECORDING_ATTEMPTS
            _explain(self.graph_module, "its inputs are on more than one device")
            return self.device_part(*args, *host_values)
        try:
            outputs = self.device_part(*args, *host_values)
        except BaseException:
            _C._abort_graph_recording()
            raise
        constants = {}
        for position, value in enumerate(outputs):
            if value is not None and not isinstance(value, torch.Tensor):
                if not isinstance(value, (bool, int, float)):
                    _C._abort_graph_recording()
                    self.attempts[key] = _RECORDING_ATTEMPTS
                    _explain(self.graph_module, f"it returns a {type(value).__name__}")
                    return outputs
                constants[position] = value
        recording, why = _C._end_graph_recording(
            [v if isinstance(v, torch.Tensor) else None for v in outputs])
        if recording is None:
            _explain(self.graph_module, why)
        else:
            self.recordings[key] = _Recorded(recording, constants, type(outputs))
        return outputs


def _graph_compiler(graph_module, example_inputs):
    compiled = _CompiledGraph(graph_module)

    @functools.wraps(graph_module.forward)
    def run(*args):
        return compiled(*args)

    run.compiled_graph = compiled
    return make_boxed_func(run)


tpu_backend = aot_autograd(
    fw_compiler=_graph_compiler,
    bw_compiler=_graph_compiler,
    inference_compiler=_graph_compiler,
    # In-place updates of inputs (an optimizer's parameters and state, batch
    # norm's running stats) stay in the graph, so they join its program rather
    # than running as copies after it.
    keep_inference_input_mutations=True,
)
