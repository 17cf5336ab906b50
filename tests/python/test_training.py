"""The acceptance test: an unchanged PyTorch training loop runs on the device,
gives CPU's losses, stops compiling once the loop is warm, and leaves no
device buffers behind."""
import copy
import gc

import pytest
import torch
from torch import nn

from op_testing import DEVICE

needs_backend = pytest.mark.skipif(DEVICE == "cpu", reason="needs the torch_pjrt backend")

STEPS = 20


def make_mlp():
    torch.manual_seed(0)  # the same initial weights for the CPU and the device copy
    return nn.Sequential(
        nn.Linear(32, 64), nn.ReLU(),
        nn.Linear(64, 64), nn.GELU(),
        nn.Linear(64, 10),
    )


def make_dataset():
    """Labels are a fixed function of the inputs, so the loss can fall."""
    g = torch.Generator().manual_seed(1)
    inputs = torch.randn(128, 32, generator=g)
    labels = (inputs @ torch.randn(32, 10, generator=g)).argmax(dim=1)
    return inputs, labels


OPTIMIZERS = {
    "adamw": lambda params: torch.optim.AdamW(params, lr=1e-2, weight_decay=1e-2),
    "sgd_momentum": lambda params: torch.optim.SGD(params, lr=0.2, momentum=0.9),
}

# A learning rate that changes every step: it reaches the device as a new Python
# scalar each time and must not cause a recompile.
SCHEDULERS = {
    "adamw": lambda opt: torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=STEPS),
    "sgd_momentum": lambda opt: torch.optim.lr_scheduler.LambdaLR(opt, lambda step: 1.0 / (1 + 0.1 * step)),
}


def train(model, optimizer_name, inputs, labels, steps=STEPS, after_step=None):
    """A plain training loop, as users write it; returns the loss of each step."""
    optimizer = OPTIMIZERS[optimizer_name](model.parameters())
    scheduler = SCHEDULERS[optimizer_name](optimizer)
    losses = []
    for step in range(steps):
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(inputs), labels)
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
        if after_step:
            after_step(step)
    return losses


@pytest.mark.parametrize("optimizer_name", OPTIMIZERS)
def test_training_matches_cpu(optimizer_name):
    cpu_model = make_mlp()
    device_model = copy.deepcopy(cpu_model).to(DEVICE)
    inputs, labels = make_dataset()

    cpu_losses = train(cpu_model, optimizer_name, inputs, labels)
    device_losses = train(device_model, optimizer_name, inputs.to(DEVICE), labels.to(DEVICE))

    assert cpu_losses[-1] < 0.8 * cpu_losses[0], "the reference run does not learn: the test is broken"
    torch.testing.assert_close(torch.tensor(device_losses), torch.tensor(cpu_losses), rtol=1e-4, atol=1e-5)
    for (name, device_param), cpu_param in zip(device_model.named_parameters(), cpu_model.parameters()):
        assert device_param.device.type == DEVICE and device_param.grad.device.type == DEVICE, name
        torch.testing.assert_close(device_param.detach().cpu(), cpu_param.detach(), rtol=1e-3, atol=1e-4,
                                   msg=lambda m, name=name: f"{name}: {m}")


@needs_backend
@pytest.mark.parametrize("optimizer_name", OPTIMIZERS)
def test_training_stops_compiling_after_second_step(optimizer_name):
    import torch_pjrt

    model = make_mlp().to(DEVICE)
    inputs, labels = make_dataset()
    snapshot = {}

    def after_step(step):
        # Step 1 creates the optimizer state; from step 2 on every step is the same program set.
        if step == 1:
            snapshot.update(torch_pjrt.metrics())

    train(model, optimizer_name, inputs.to(DEVICE), labels.to(DEVICE), after_step=after_step)
    final = torch_pjrt.metrics()
    assert final["compiles"] == snapshot["compiles"], (
        f"{final['compiles'] - snapshot['compiles']} compiles after step 2 of {STEPS}:\n"
        + torch_pjrt.metrics_report())
    assert final["executions"] > snapshot["executions"]


def train_and_drop_everything(steps):
    model = make_mlp().to(DEVICE)
    inputs, labels = make_dataset()
    train(model, "adamw", inputs.to(DEVICE), labels.to(DEVICE), steps=steps)


def settled_live_buffers():
    import torch_pjrt

    gc.collect()
    torch.tpu.synchronize()
    metrics = torch_pjrt.metrics()
    return metrics["live_buffers"], metrics["live_bytes"]


@needs_backend
def test_training_leaves_no_live_buffers():
    # A first run fills the caches that live for the whole process; the second
    # run must then give back every buffer it made.
    train_and_drop_everything(steps=3)
    before = settled_live_buffers()
    train_and_drop_everything(steps=5)
    assert settled_live_buffers() == before


@pytest.mark.parametrize("optimizer_name", OPTIMIZERS)
def test_trained_model_predicts_like_cpu(optimizer_name):
    cpu_model = make_mlp()
    device_model = copy.deepcopy(cpu_model).to(DEVICE)
    inputs, labels = make_dataset()
    train(cpu_model, optimizer_name, inputs, labels, steps=5)
    train(device_model, optimizer_name, inputs.to(DEVICE), labels.to(DEVICE), steps=5)
    cpu_model.eval()
    device_model.eval()
    with torch.no_grad():
        cpu_logits = cpu_model(inputs)
        device_logits = device_model(inputs.to(DEVICE))
    torch.testing.assert_close(device_logits.cpu(), cpu_logits, rtol=1e-3, atol=1e-4)
    assert torch.equal(device_logits.argmax(dim=1).cpu(), cpu_logits.argmax(dim=1))


@needs_backend
@pytest.mark.parametrize("update", ["mul_", "add_", "addcdiv_"])
@pytest.mark.parametrize("read", ["x @ w", "x @ w.t().t()", "torch.addmm(b, x, w)", "x @ w[:, :128]"])
def test_matmul_after_an_in_place_weight_update_sees_the_new_weight(update, read):
    # An in-place update donates the weight's buffer, so the new value is
    # written at the same address; a matmul that read the weight before must
    # not reuse anything it derived from the old contents (XLA:CPU's XNNPACK
    # dots did, for operands of 256x256 and up). Every step's product is new.
    torch.manual_seed(0)
    x, w, b = torch.randn(256, 256), torch.randn(256, 256), torch.randn(256)
    xd, wd, bd = x.to("tpu"), w.to("tpu"), b.to("tpu")
    product = eval(f"lambda x, w, b: {read}")
    for step in range(3):
        torch.testing.assert_close(product(xd, wd, bd).cpu(), product(x, w, b), rtol=1e-4,
                                   atol=1e-3, msg=lambda m: f"step {step}: {m}")
        with torch.no_grad():
            for weight in (w, wd):
                if update == "addcdiv_":
                    weight.addcdiv_(torch.ones_like(weight), torch.full_like(weight, 4.0))
                else:
                    getattr(weight, update)(2.0)


@pytest.mark.parametrize("optimizer_name", ["sgd_momentum", "adamw"])
def test_training_step_holds_one_copy_of_parameters_and_state(optimizer_name):
    # In-place updates of parameters and optimizer state donate the old buffer
    # to the new value, so a step needs about what its tensors hold at rest.
    # One large weight dominates, so a second copy of it would show.
    import torch_pjrt

    if optimizer_name == "adamw" and torch_pjrt._C._eager_mode() != "fused":
        pytest.skip("AdamW's update makes full-size temporaries (sqrt of the second moment) "
                    "that only fused mode keeps inside one program")
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(1024, 1024), nn.ReLU(), nn.Linear(1024, 4)).to(DEVICE)
    inputs, labels = torch.randn(2, 1024).to(DEVICE), torch.tensor([1, 3]).to(DEVICE)
    optimizer = OPTIMIZERS[optimizer_name](model.parameters())

    def step():
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(inputs), labels).backward()
        optimizer.step()

    for _ in range(2):  # optimizer state exists from the first step on
        step()
    gc.collect()
    torch.tpu.synchronize()
    at_rest = torch.tpu.memory_allocated()
    torch.tpu.reset_peak_memory_stats()
    step()
    torch.tpu.synchronize()
    peak = torch.tpu.max_memory_allocated()
    assert peak <= 1.2 * at_rest, f"a step peaked at {peak / at_rest:.2f}x the {at_rest} bytes its tensors hold"
