"""Softmax and losses against PyTorch on CPU: (log_)softmax over dtypes and dims
(0-d, empty, huge and -inf values), their backward, nll_loss / cross_entropy with
class weights, ignore_index and every reduction (1-D, batched and spatial
inputs), mse, smooth L1, Huber and binary cross entropy (with logits,
pos_weight), the errors CPU raises, and gradients of a small classifier equal
to CPU's."""
import math

import pytest
import torch
import torch.nn.functional as F

from op_testing import DEVICE, check, check_op, check_raises, make, to_device

FLOATS = [torch.float32, torch.bfloat16, torch.float64, torch.float16]
REDUCTIONS = ["none", "mean", "sum"]
needs_backend = pytest.mark.skipif(DEVICE == "cpu", reason="compares device gradients against CPU")


def check_grads(fn, *args, wrt=(0,), atol=1e-5, rtol=1e-5):
    """Gradients of a weighted sum of fn(*args) w.r.t. args[i] for i in wrt equal CPU's."""
    def run(tensors):
        leaves = [t.requires_grad_() if i in wrt else t for i, t in enumerate(tensors)]
        out = fn(*leaves)
        weights = torch.linspace(0.5, 1.5, out.numel()).reshape(out.shape).to(out.dtype)
        (out * to_device(weights, out.device.type)).sum().backward()
        return [leaves[i].grad for i in wrt]

    cpu_args = [a.clone() if isinstance(a, torch.Tensor) else a for a in args]
    dev_args = [to_device(a).detach() if isinstance(a, torch.Tensor) else a for a in args]
    for c, d in zip(run(cpu_args), run(dev_args)):
        torch.testing.assert_close(d.cpu(), c, atol=atol, rtol=rtol)


# ---------------------------------------------------------------- softmax

@pytest.mark.parametrize("dtype", FLOATS, ids=str)
@pytest.mark.parametrize("dim", [0, -1], ids=str)
@pytest.mark.parametrize("fn", [F.softmax, F.log_softmax], ids=["softmax", "log_softmax"])
def test_softmax(fn, dim, dtype):
    check(lambda t: fn(t, dim), make((3, 5, 4), dtype, seed=1))


@pytest.mark.parametrize("fn", [F.softmax, F.log_softmax], ids=["softmax", "log_softmax"])
def test_softmax_special_inputs(fn):
    check(lambda t: fn(t, 0), torch.tensor(1.5))
    check(lambda t: fn(t, -1), torch.tensor(1.5))
    check(lambda t: fn(t, 1), torch.empty(0, 4))
    check(lambda t: fn(t, 0), torch.empty(0, 4))
    big = torch.tensor([[1000.0, 1000.0, -1000.0], [-1e30, 0.0, 1e30], [-math.inf, 0.0, 1.0],
                        [-math.inf, -math.inf, -math.inf], [math.nan, 1.0, 2.0]])
    check(lambda t: fn(t, 1), big)
    check(lambda t: fn(t.t(), 0), make((4, 3), torch.float32))
    check(lambda t: fn(t, 1), make((3, 4), torch.float32, noncontiguous=True))


@pytest.mark.parametrize("fn", [F.softmax, F.log_softmax], ids=["softmax", "log_softmax"])
def test_softmax_dtype_argument_and_out(fn):
    check(lambda t: fn(t, 1, dtype=torch.float64), make((2, 3), torch.float32))
    check(lambda t: fn(t, 1, dtype=torch.float32), make((2, 3), torch.bfloat16))
    name = "softmax" if fn is F.softmax else "log_softmax"
    check(lambda t, o: getattr(torch, f"_{name}")(t, 1, False, out=o), make((2, 3), torch.float32),
          torch.empty(2, 3))


@pytest.mark.parametrize("fn", [F.softmax, F.log_softmax], ids=["softmax", "log_softmax"])
def test_softmax_errors(fn):
    check_raises(lambda t: fn(t, 2), make((2, 3), torch.float32))
    check_raises(lambda t: fn(t, 1), make((2, 3), torch.int64))


@needs_backend
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16], ids=str)
@pytest.mark.parametrize("fn", [F.softmax, F.log_softmax], ids=["softmax", "log_softmax"])
def test_softmax_gradients(fn, dtype):
    tol = dict(atol=2e-2, rtol=2e-2) if dtype == torch.bfloat16 else {}
    check_grads(lambda t: fn(t, 1), make((3, 5), dtype, seed=2), **tol)
    check_grads(lambda t: fn(t, 0), make((3, 5), dtype, seed=3), **tol)


@pytest.mark.parametrize("name", ["_softmax_backward_data", "_log_softmax_backward_data"])
@pytest.mark.parametrize("dtypes", [(torch.float32, torch.float32), (torch.bfloat16, torch.bfloat16),
                                    (torch.float32, torch.bfloat16), (torch.float64, torch.float64)],
                         ids=str)
def test_softmax_backward_ops(name, dtypes):
    grad_dtype, input_dtype = dtypes
    grad = make((3, 4), grad_dtype, seed=4)
    out = F.softmax(make((3, 4), torch.float32, seed=5), 1).to(grad_dtype)
    if name.startswith("_log"):
        out = out.log()
    op = getattr(torch.ops.aten, name)
    check(lambda g, o: op(g, o, 1, input_dtype), grad, out)
    check(lambda g, o: op(g, o, 0, input_dtype), grad, out)


# ---------------------------------------------------------------- nll_loss / cross_entropy

def logits_and_targets(batch=6, classes=5, seed=0, ignore=None, spatial=()):
    x = make((batch, classes, *spatial), torch.float32, seed=seed)
    g = torch.Generator().manual_seed(seed)
    t = torch.randint(0, classes, (batch, *spatial), generator=g)
    if ignore is not None:
        t.view(-1)[::3] = ignore
    return x, t


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("ignore_index", [-100, 2], ids=str)
def test_cross_entropy(reduction, weighted, ignore_index):
    x, t = logits_and_targets(ignore=ignore_index)
    w = make((5,), torch.float32, low=0.1, high=2.0) if weighted else None
    check(lambda x, t, w: F.cross_entropy(x, t, w, ignore_index=ignore_index, reduction=reduction),
          x, t, w)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float64], ids=str)
def test_nll_loss_dtypes(reduction, dtype):
    x, t = logits_and_targets(seed=1)
    check(lambda x, t: F.nll_loss(x, t, reduction=reduction), F.log_softmax(x, 1).to(dtype), t)
    check(lambda x, t: F.nll_loss(x, t, reduction=reduction), x.to(dtype), t.to(torch.uint8))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss_single_sample_and_empty_batch(reduction):
    x = make((5,), torch.float32, seed=2)
    w = make((5,), torch.float32, low=0.1, high=2.0)
    for target in (torch.tensor(3), torch.tensor([3]), torch.tensor(-100)):
        check(lambda x, t: F.nll_loss(x, t, reduction=reduction), x, target)
        check(lambda x, t, w: torch.ops.aten.nll_loss_forward(x, t, w, REDUCTIONS.index(reduction), -100),
              x, target, w)
    check(lambda x, t: F.nll_loss(x, t, reduction=reduction), torch.empty(0, 5),
          torch.empty(0, dtype=torch.int64))
    check(lambda x, t: F.nll_loss(x, t, reduction=reduction), make((3, 5), torch.float32),
          torch.tensor([-100, -100, -100]))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_spatial_cross_entropy(reduction, weighted):
    x, t = logits_and_targets(batch=2, classes=3, seed=3, ignore=-100, spatial=(4, 5))
    w = make((3,), torch.float32, low=0.1, high=2.0) if weighted else None
    check(lambda x, t, w: F.cross_entropy(x, t, w, reduction=reduction), x, t, w)


def test_cross_entropy_variants():
    x, t = logits_and_targets(seed=4)
    check(lambda x, t: F.cross_entropy(x, t, label_smoothing=0.1), x, t)
    check(lambda x, t: F.cross_entropy(x.t().contiguous().t(), t), x, t)
    check(lambda x, t: F.cross_entropy(x, t), make((6, 5), torch.float32, noncontiguous=True), t)
    check(lambda x, p: F.cross_entropy(x, p), x, F.softmax(make((6, 5), torch.float32, seed=5), 1))
    x3, t3 = logits_and_targets(batch=2, classes=4, seed=6, spatial=(3,))
    check(F.cross_entropy, x3, t3)


NLL_ERRORS = {
    "int_target": lambda x, t: F.nll_loss(x, t.int()),
    "float_target": lambda x, t: F.nll_loss(x, t.float()),
    "batch_mismatch": lambda x, t: F.nll_loss(x, t[:4]),
    "weight_size": lambda x, t: F.nll_loss(x, t, torch.ones(4)),
    "weight_dtype": lambda x, t: F.nll_loss(x, t, torch.ones(5, dtype=torch.float64)),
    "integer_input": lambda x, t: torch.ops.aten.nll_loss_forward(x.long(), t, None, 1, -100),
    "target_rank": lambda x, t: torch.ops.aten.nll_loss_forward(x, t[None], None, 1, -100),
    "input_rank": lambda x, t: torch.ops.aten.nll_loss_forward(x[None], t, None, 1, -100),
    "spatial_rank": lambda x, t: torch.ops.aten.nll_loss2d_forward(x, t, None, 1, -100),
    "softmax_int": lambda x, t: F.softmax(t, 0),
}


@pytest.mark.parametrize("name", list(NLL_ERRORS))
def test_loss_errors(name):
    check_raises(NLL_ERRORS[name], *logits_and_targets(seed=7))


# ---------------------------------------------------------------- regression and binary losses

@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtypes", [(torch.float32, torch.float32), (torch.bfloat16, torch.bfloat16),
                                    (torch.float64, torch.float64), (torch.bfloat16, torch.float32),
                                    (torch.float32, torch.float64)], ids=str)
def test_mse_loss(reduction, dtypes):
    x = make((3, 4), dtypes[0], seed=8)
    y = make((3, 4), dtypes[1], seed=9)
    check(lambda x, y: F.mse_loss(x, y, reduction=reduction), x, y)
    check(lambda x, y: F.mse_loss(x, y, reduction=reduction), torch.empty(0, 4, dtype=dtypes[0]),
          torch.empty(0, 4, dtype=dtypes[1]))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("threshold", [1.0, 0.5, 0.0], ids=str)
@pytest.mark.parametrize("fn", [F.smooth_l1_loss, F.huber_loss], ids=["smooth_l1", "huber"])
def test_smooth_l1_and_huber(fn, threshold, reduction):
    x = make((3, 4), torch.float32, seed=30)
    y = make((3, 4), torch.float32, seed=31)
    kwargs = {"beta" if fn is F.smooth_l1_loss else "delta": threshold, "reduction": reduction}
    check(lambda x, y: fn(x, y, **kwargs), x, y)


def test_smooth_l1_and_huber_dtypes_and_errors():
    for dtypes in ((torch.bfloat16, torch.bfloat16), (torch.float32, torch.float64),
                   (torch.bfloat16, torch.float32), (torch.int64, torch.int64)):
        x, y = make((2, 3), dtypes[0], seed=32), make((2, 3), dtypes[1], seed=33)
        check(F.smooth_l1_loss, x, y)
        check(F.huber_loss, x, y)
    op = torch.ops.aten
    x, y = make((2, 3), torch.float32), make((2, 3), torch.float64)
    check(lambda x, y: op.huber_loss(x, y, 1, 1.0), x, y)
    check(lambda x, y: op.smooth_l1_loss(x, y, 1, -1.0), x, y)
    check(lambda x, y: op.huber_loss(x, y, 1, 0.0), x, y)
    check(lambda g, x, y: op.smooth_l1_loss_backward(g, x, y, 1, 1.0), torch.tensor(1.0), x, y)
    check(lambda g, x, y: op.huber_loss_backward(g, x, y, 0, 0.5), torch.ones(2, 3), x, x)
    check(lambda g, x, y: op.huber_loss_backward(g, x, y, 2, 0.5), torch.tensor(1.0).double(), x, x)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float64], ids=str)
def test_binary_cross_entropy(reduction, weighted, dtype):
    x = make((3, 4), dtype, seed=10, low=0.0, high=1.0)
    x[0, 0], x[0, 1] = 0.0, 1.0  # log(0) clamps at -100
    y = make((3, 4), dtype, seed=11, low=0.0, high=1.0)
    w = make((4,), dtype, seed=12, low=0.5, high=2.0) if weighted else None
    check(lambda x, y, w: F.binary_cross_entropy(x, y, w, reduction=reduction), x, y, w)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weights", ["none", "weight", "pos_weight", "both"])
def test_binary_cross_entropy_with_logits(reduction, weights):
    x = make((3, 4), torch.float32, seed=13, low=-30, high=30)
    y = make((3, 4), torch.float32, seed=14, low=0.0, high=1.0)
    w = make((4,), torch.float32, seed=15, low=0.5, high=2.0) if weights in ("weight", "both") else None
    pw = make((4,), torch.float32, seed=16, low=0.5, high=3.0) if weights in ("pos_weight", "both") else None
    check(lambda x, y, w, pw: F.binary_cross_entropy_with_logits(x, y, w, pos_weight=pw,
                                                                 reduction=reduction), x, y, w, pw)


def test_binary_losses_mixed_dtypes_and_errors():
    x = make((3, 4), torch.bfloat16, seed=17)
    y = make((3, 4), torch.float32, seed=18, low=0.0, high=1.0)
    check(F.binary_cross_entropy, x.sigmoid().float(), y.double())
    check(F.mse_loss, x.long(), y.long())


def test_binary_cross_entropy_with_logits_promotes():
    x = make((3, 4), torch.bfloat16, seed=17)
    y = make((3, 4), torch.float32, seed=18, low=0.0, high=1.0)
    # bf16 logits go through bf16 log_sigmoid before the f32 result.
    check(F.binary_cross_entropy_with_logits, x, y, atol=1e-2, rtol=1e-2)


@needs_backend
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_loss_gradients(reduction):
    x = make((3, 4), torch.float32, seed=19)
    y = make((3, 4), torch.float32, seed=20, low=0.0, high=1.0)
    w = make((4,), torch.float32, seed=21, low=0.5, high=2.0)
    check_grads(lambda x, y: F.mse_loss(x, y, reduction=reduction), x, y, wrt=(0, 1))
    check_grads(lambda x, y: F.smooth_l1_loss(x, y, reduction=reduction, beta=0.5), x, y,
                wrt=(0, 1))
    check_grads(lambda x, y: F.huber_loss(x, y, reduction=reduction, delta=0.5), x, y, wrt=(0, 1))
    # Only w.r.t. the input: the target's gradient needs logit (elementwise family).
    check_grads(lambda x, y: F.binary_cross_entropy(x.sigmoid(), y, w.to(x.device),
                                                    reduction=reduction), x, y)
    logits, t = logits_and_targets(seed=22, ignore=1)
    class_weight = make((5,), torch.float32, seed=23, low=0.5, high=2.0)
    check_grads(lambda x: F.cross_entropy(x, t.to(x.device), class_weight.to(x.device),
                                          ignore_index=1, reduction=reduction), logits)
    sx, st = logits_and_targets(batch=2, classes=3, seed=24, ignore=-100, spatial=(2, 3))
    check_grads(lambda x: F.cross_entropy(x, st.to(x.device), reduction=reduction), sx)


@needs_backend
def test_binary_cross_entropy_with_logits_gradients():
    x = make((3, 4), torch.float32, seed=19)
    y = make((3, 4), torch.float32, seed=20, low=0.0, high=1.0)
    w = make((4,), torch.float32, seed=21, low=0.5, high=2.0)
    # With autograd on, PyTorch's composite runs (through log_sigmoid) instead of our rule.
    check_grads(lambda x, y: F.binary_cross_entropy_with_logits(
        x, y, w.to(x.device), pos_weight=w.to(x.device)), x, y, wrt=(0, 1))
    check_grads(F.logsigmoid, make((2, 7), torch.float64, seed=22, low=-30, high=30), atol=1e-12,
                rtol=1e-12)


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
def test_log_sigmoid_forward_and_backward_ops(dtype):
    x = make((3, 5), dtype, seed=23, low=-40, high=40)
    tol = dict(atol=2e-2, rtol=2e-2) if dtype in (torch.bfloat16, torch.float16) else {}
    check(F.logsigmoid, x, **tol)
    check(torch.ops.aten.log_sigmoid_forward, x, **tol)  # the buffer too: exp(-|x|), as on CPU
    _, buffer = torch.ops.aten.log_sigmoid_forward(x)
    check(torch.ops.aten.log_sigmoid_backward, make((3, 5), dtype, seed=24), x, buffer, **tol)
    check(F.logsigmoid, torch.tensor([-math.inf, math.inf, math.nan, 0.0]).to(dtype))
    check(F.logsigmoid, torch.empty(0, 3, dtype=dtype))
    check(F.logsigmoid, make((), dtype, seed=25))
    check(F.logsigmoid, make((4, 3), dtype, seed=26, noncontiguous=True), **tol)
    check(F.logsigmoid, make((3,), torch.int64))  # CPU has no integer kernel


@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
def test_composite_losses(reduction):
    """l1_loss, kl_div and cross_entropy with label smoothing or probability targets
    are PyTorch composites: values and gradients through the ops they reach."""
    x = make((4, 5), torch.float32, seed=27)
    y = make((4, 5), torch.float32, seed=28)
    probs = make((4, 5), torch.float32, seed=29).softmax(1)
    _, t = logits_and_targets(batch=4, classes=5, seed=30, ignore=-100)
    kl = lambda x, y: F.kl_div(x.log_softmax(1), y.softmax(1), reduction=reduction)
    kl_log = lambda x, y: F.kl_div(x, y, reduction=reduction, log_target=True)
    check(kl, x, y)
    check(kl_log, x, y)
    if DEVICE != "cpu":
        check_grads(kl, x, y, wrt=(0, 1))
        check_grads(kl_log, x, y, wrt=(0, 1))
    if reduction == "batchmean":
        return
    l1 = lambda x, y: F.l1_loss(x, y, reduction=reduction)
    smoothed = lambda x: F.cross_entropy(x, t.to(x.device), label_smoothing=0.1, reduction=reduction)
    class_weight = make((5,), torch.float32, seed=31, low=0.5, high=2.0)
    weighted = lambda x: F.cross_entropy(x, t.to(x.device), class_weight.to(x.device),
                                         label_smoothing=0.25, reduction=reduction)
    soft = lambda x, p: F.cross_entropy(x, p, label_smoothing=0.2, reduction=reduction)
    check(l1, x, y)
    check(l1, x.double(), y)
    check(smoothed, x)
    check(weighted, x)
    check(soft, x, probs)
    check(lambda x, p: F.cross_entropy(x, p, reduction=reduction), x, probs)
    if DEVICE != "cpu":
        check_grads(l1, x, y, wrt=(0, 1))
        check_grads(smoothed, x)
        check_grads(weighted, x)
        check_grads(soft, x, probs, wrt=(0, 1))


@needs_backend
def test_classifier_gradients_equal_cpu():
    """cross_entropy(log_softmax(linear(x))) end to end, weights and ignore_index included."""
    torch.manual_seed(0)
    x = make((8, 6), torch.float32, seed=24)
    w = make((5, 6), torch.float32, seed=25)
    b = make((5,), torch.float32, seed=26)
    class_weight = make((5,), torch.float32, seed=27, low=0.5, high=2.0)
    target = torch.tensor([0, 1, 4, -100, 2, 3, 3, 0])

    def loss(x, w, b):
        logits = F.linear(x, w, b)
        on_device = target.to(logits.device)
        return (F.nll_loss(F.log_softmax(logits, 1), on_device, class_weight.to(logits.device))
                + F.cross_entropy(logits, on_device))

    check_grads(loss, x, w, b, wrt=(0, 1, 2))


@pytest.mark.parametrize("dtypes", [(torch.float32, torch.float32), (torch.bfloat16, torch.float32),
                                    (torch.float64, torch.float64), (torch.int64, torch.int32),
                                    (torch.bool, torch.float32)], ids=str)
def test_xlogy(dtypes):
    """kl_div's composite reaches xlogy: 0 where x is 0 (even for y 0 or inf), NaN for NaN y."""
    x = torch.tensor([0.0, 0.0, 0.0, 1.0, 2.0, 0.0, 3.0, -1.0]).to(dtypes[0])
    y = torch.tensor([0.0, math.inf, 2.0, 0.0, 3.0, math.nan, math.nan, 0.5]).to(dtypes[1])
    check(torch.xlogy, x, y)
    check(torch.xlogy, x, 2.5)
    check(torch.xlogy, 3, y)
    check(torch.xlogy, make((2, 3), torch.float32), make((3,), torch.float32, low=0.1))
    check(torch.xlogy, make((2, 3), torch.float32, noncontiguous=True), make((), torch.float32, low=0.1))
    check(torch.xlogy, torch.empty(0, 2), torch.empty(0, 2))
