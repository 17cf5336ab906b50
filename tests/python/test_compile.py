"""torch.compile(backend="tpu"): compiled graphs run as one program each and
match PyTorch on the CPU."""
import copy

import pytest
import torch
from torch import nn

import torch_pjrt


def mlp():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(16, 32), nn.GELU(), nn.Linear(32, 8))


def counts():
    m = torch_pjrt.metrics()
    return m.get("executions", 0), m.get("compiles", 0)


pytestmark = pytest.mark.usefixtures("fresh_dynamo")


def test_backend_is_registered_by_name():
    assert "tpu" in torch._dynamo.list_backends()


def test_compiled_forward_matches_cpu_and_runs_as_one_program():
    model = mlp()
    x = torch.randn(4, 16)
    expected = model(x)
    device_model = copy.deepcopy(model).to("tpu")
    compiled = torch.compile(device_model, backend="tpu")
    # In fused mode a graph joins whatever eager work is pending (the model's
    # move here): run that first, so both calls trace the graph alone.
    torch.tpu.synchronize()
    with torch.no_grad():
        torch.testing.assert_close(compiled(x.to("tpu")).cpu(), expected.detach())
        xt = x.to("tpu")
        torch.tpu.synchronize()
        executions, compiles = counts()
        out = compiled(xt)
        torch.tpu.synchronize()
        after_executions, after_compiles = counts()
    assert after_compiles == compiles, "a repeated call compiled again"
    assert after_executions - executions == 1
    torch.testing.assert_close(out.cpu(), expected.detach())


def test_compiled_training_matches_cpu_for_20_steps():
    cpu_model = mlp()
    model = copy.deepcopy(cpu_model).to("tpu")
    cpu_opt = torch.optim.AdamW(cpu_model.parameters(), lr=1e-2)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    compiled = torch.compile(model, backend="tpu")
    torch.manual_seed(1)
    batches = [(torch.randn(8, 16), torch.randn(8, 8)) for _ in range(20)]
    for step, (x, y) in enumerate(batches):
        cpu_loss = nn.functional.mse_loss(cpu_model(x), y)
        cpu_opt.zero_grad()
        cpu_loss.backward()
        cpu_opt.step()
        loss = nn.functional.mse_loss(compiled(x.to("tpu")), y.to("tpu"))
        opt.zero_grad()
        loss.backward()
        opt.step()
        torch.testing.assert_close(loss.cpu(), cpu_loss.detach(), rtol=1e-4, atol=1e-5,
                                   msg=lambda m: f"step {step}: {m}")
    for p, q in zip(model.parameters(), cpu_model.parameters()):
        torch.testing.assert_close(p.detach().cpu(), q.detach(), rtol=1e-4, atol=1e-5)


def test_compiled_whole_step_updates_optimizer_state_in_place():
    cpu_model = mlp()
    model = copy.deepcopy(cpu_model).to("tpu")
    cpu_opt = torch.optim.SGD(cpu_model.parameters(), lr=0.1, momentum=0.9)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    params_before = [p for p in model.parameters()]

    def step(model, opt, x, y):
        loss = nn.functional.mse_loss(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    compiled_step = torch.compile(step, backend="tpu")
    torch.manual_seed(2)
    for _ in range(5):
        x, y = torch.randn(8, 16), torch.randn(8, 8)
        expected = step(cpu_model, cpu_opt, x, y)
        loss = compiled_step(model, opt, x.to("tpu"), y.to("tpu"))
        torch.testing.assert_close(loss.cpu(), expected.detach(), rtol=1e-4, atol=1e-5)
    assert all(a is b for a, b in zip(params_before, model.parameters()))
    for p, q in zip(model.parameters(), cpu_model.parameters()):
        torch.testing.assert_close(p.detach().cpu(), q.detach(), rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(opt.state[p]["momentum_buffer"].cpu(),
                                   cpu_opt.state[q]["momentum_buffer"], rtol=1e-4, atol=1e-5)


def test_compiled_backward_sees_weights_updated_in_place_between_steps():
    # The backward's matmul with the first weight must use the weight after
    # the eager in-place update between steps, which donates its buffer (once
    # stale through XLA:CPU's XNNPACK dots, in strict and debug mode).
    torch.manual_seed(0)
    cpu = nn.Sequential(nn.Linear(256, 1024), nn.GELU(), nn.Linear(1024, 256))
    device_model = copy.deepcopy(cpu).to("tpu")
    compiled = torch.compile(device_model, backend="tpu")
    x0, g = torch.randn(8, 128, 256), torch.randn(8, 128, 256)
    for step in range(2):
        x = x0.clone().requires_grad_()
        cpu(x).backward(g)
        xt = x0.clone().to("tpu").requires_grad_()
        compiled(xt).backward(g.to("tpu"))
        torch.testing.assert_close(xt.grad.cpu(), x.grad, rtol=1e-4, atol=1e-4,
                                   msg=lambda m: f"step {step}: {m}")
        with torch.no_grad():
            for model in (cpu, device_model):
                model[0].weight.mul_(2.0)
                for p in model.parameters():
                    p.grad = None


def test_graph_break_runs_both_sides():
    def f(x):
        y = x.sin() * 2
        print_value = float(y.sum())  # host read: Dynamo breaks the graph here
        return y.cos() + print_value

    x = torch.randn(5, 3)
    out = torch.compile(f, backend="tpu")(x.to("tpu"))
    torch.testing.assert_close(out.cpu(), f(x))


def test_dynamic_batch_recompiles_program_not_graph():
    model = mlp().to("tpu")
    compiled = torch.compile(model, backend="tpu", dynamic=True)
    cpu_model = mlp()
    with torch.no_grad():
        for batch in (2, 3, 5):
            x = torch.randn(batch, 16)
            torch.testing.assert_close(compiled(x.to("tpu")).cpu(), cpu_model(x))


def test_mark_dynamic_and_reset():
    def f(x):
        return (x * x).sum(dim=0)

    compiled = torch.compile(f, backend="tpu")
    x = torch.randn(6, 4)
    xt = x.to("tpu")
    torch._dynamo.mark_dynamic(xt, 0)
    torch.testing.assert_close(compiled(xt).cpu(), f(x))
    torch.compiler.reset()
    y = torch.randn(3, 4)
    torch.testing.assert_close(compiled(y.to("tpu")).cpu(), f(y))


def test_views_and_in_place_on_inputs():
    def f(x, buffer):
        buffer[1:4].add_(x[:, ::2].t())
        return x.t().contiguous(), buffer.sum()

    x = torch.randn(4, 6)
    buffer = torch.zeros(5, 4)
    expected = f(x, buffer.clone())
    bt = buffer.to("tpu")
    out = torch.compile(f, backend="tpu")(x.to("tpu"), bt)
    torch.testing.assert_close(out[0].cpu(), expected[0])
    torch.testing.assert_close(out[1].cpu(), expected[1])
    cpu_buffer = buffer.clone()
    f(x, cpu_buffer)
    torch.testing.assert_close(bt.cpu(), cpu_buffer)


def test_same_seed_same_dropout_as_eager():
    def f(x):
        return nn.functional.dropout(x, p=0.5, training=True) * 3

    x = torch.randn(64, 32).to("tpu")
    torch.manual_seed(7)
    eager = f(x).cpu()
    torch.manual_seed(7)
    compiled = torch.compile(f, backend="tpu")(x).cpu()
    assert (compiled == 0).any() and (compiled != 0).any()
    torch.testing.assert_close(compiled, eager)


def test_error_inside_graph_names_the_op_and_device_recovers():
    def f(x, w):
        return x @ w

    compiled = torch.compile(f, backend="tpu")
    with pytest.raises(Exception, match="mm|shape|size"):
        compiled(torch.randn(3, 4).to("tpu"), torch.randn(5, 2).to("tpu"))
    x = torch.randn(3, 4)
    torch.testing.assert_close((x.to("tpu") + 1).cpu(), x + 1)
