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

Guards, graph breaks, `dynamic=`, `mark_dynamic` and `torch.compiler.reset()`
are Dynamo's, as with Inductor; a graph whose shapes change compiles one
program per shape set.
"""
import functools

from torch._dynamo.backends.common import aot_autograd
from torch._functorch.aot_autograd import make_boxed_func

from . import _C


class graph_scope:
    """Ops inside join one pending trace; the loop detector never cuts it."""

    def __enter__(self):
        _C._begin_graph()
        return self

    def __exit__(self, *exc):
        _C._end_graph()
        return False


def _graph_compiler(graph_module, example_inputs):
    @functools.wraps(graph_module.forward)
    def run(*args):
        with graph_scope():
            return graph_module(*args)

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
