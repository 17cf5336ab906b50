"""Fused eager mode (TORCH_PJRT_EAGER_MODE=fused): ops gather into one pending
program per device, run when a value is needed on the host, at a size bound,
on synchronize() or when a loop closes an iteration. Each test runs a script
in a fresh process in fused mode and compares with PyTorch on CPU there."""
import json
import os
import subprocess
import sys
import tempfile
import textwrap

import pytest
import torch

from op_testing import DEVICE

pytestmark = pytest.mark.skipif(DEVICE == "cpu", reason="fused mode belongs to the torch_pjrt backend")

PRELUDE = """
import json, torch, torch_pjrt
from torch import nn

def counters():
    return dict(torch_pjrt._C._metrics())  # no synchronize: that would flush

def delta(before, key):
    return counters().get(key, 0) - before.get(key, 0)

def same(actual, expected, **tolerance):
    torch.testing.assert_close(actual.cpu() if isinstance(actual, torch.Tensor) else actual,
                               expected, **tolerance)
"""


def run_fused(code, mode="fused", **env):
    # From a neutral directory, as a user script: a checkout's torch_pjrt/ in
    # the working directory would shadow the installed package.
    script = PRELUDE + textwrap.dedent(code)
    result = subprocess.run([sys.executable, "-c", script],
                            env={**os.environ, "TORCH_PJRT_EAGER_MODE": mode, **env},
                            cwd=tempfile.gettempdir(), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_each_host_need_flushes_with_its_reason():
    out = run_fused("""
        out = {}
        cpu = torch.arange(12.0).reshape(3, 4)
        x = cpu.to("tpu")

        def reason_of(action):
            before = counters()
            result = action()
            return result, {k[7:]: delta(before, k) for k in counters() if k.startswith("flush::") and delta(before, k)}

        y, out["cpu"] = reason_of(lambda: (x * 2 + 1).cpu())
        same(y, cpu * 2 + 1)
        v, out["item"] = reason_of(lambda: (x.sum() * 3).item())
        assert v == (cpu.sum() * 3).item()
        text, out["print"] = reason_of(lambda: str(x - 5))
        assert text == str(cpu - 5).replace(")", ", device='tpu:0')")
        eq, out["host_scalar"] = reason_of(lambda: torch.equal(x + 1, x + 1))
        assert eq is True
        nz, out["nonzero"] = reason_of(lambda: torch.nonzero(x > 5))
        same(nz, torch.nonzero(cpu > 5))
        ms, out["masked_select"] = reason_of(lambda: torch.masked_select(x * 2, x > 7))
        same(ms, torch.masked_select(cpu * 2, cpu > 7))
        z = x.exp()
        _, out["synchronize"] = reason_of(torch.tpu.synchronize)
        same(z, cpu.exp())
        # Nothing pending: reading again or synchronizing runs nothing.
        before = counters()
        z.cpu(); torch.tpu.synchronize()
        out["idle_flushes"] = delta(before, "flushes")
        # A value nobody holds is never run.
        before = counters()
        x * 7
        (x + 1).cpu()
        out["executions_for_one_read"] = delta(before, "executions")
        print(json.dumps(out))
    """)
    assert out["cpu"] == {"host_read": 1}
    assert out["item"] == {"host_read": 1}
    assert out["print"].get("host_read", 0) >= 1  # printing reads several summaries
    assert out["host_scalar"] == {"host_scalar": 1}
    assert out["nonzero"] == {"data_dependent": 1}
    assert out["masked_select"] == {"data_dependent": 1}
    assert out["synchronize"] == {"synchronize": 1}
    assert out["idle_flushes"] == 0
    assert out["executions_for_one_read"] == 1


def test_size_bound_flushes():
    out = run_fused("""
        cpu = torch.linspace(0, 1, 10)
        x, expected = cpu.to("tpu"), cpu.clone()
        before = counters()
        for i in range(35):  # no loop repeats: every op has its own scalar kind
            x = torch.sin(x) if i % 3 == 0 else (x * 1.5 if i % 3 == 1 else x - i)
            expected = torch.sin(expected) if i % 3 == 0 else (expected * 1.5 if i % 3 == 1 else expected - i)
        same(x, expected, rtol=1e-5, atol=1e-5)
        print(json.dumps({"max_ops": delta(before, "flush::max_ops"), "flushes": delta(before, "flushes")}))
    """, TORCH_PJRT_FUSED_MAX_OPS="10")
    assert out["max_ops"] == 3
    assert out["flushes"] == 4  # three full programs and the rest at the read


def test_loops_flush_per_iteration_group_and_stop_compiling():
    out = run_fused("""
        results = {}
        for period in (1, 3, 7, 20):
            cpu = torch.linspace(-1, 1, 16 + period)  # a shape of its own per loop
            x, expected = cpu.to("tpu"), cpu.clone()
            w = torch.ones(16 + period, device="tpu")
            (x * 0).cpu()  # something else ran first, so the loop starts after other work
            def body(x, w):
                for k in range(period):
                    x = (x * 0.5 + w * 0.25) if k % 2 == 0 else torch.tanh(x)
                return x
            compiles = []
            before = counters()
            for i in range(12 * max(1, 16 // period)):
                x = body(x, w)
                expected = body(expected, torch.ones(16 + period))
                compiles.append(counters()["compiles"])
            loops = delta(before, "flush::loop")
            same(x, expected, rtol=1e-5, atol=1e-5)
            results[period] = {"loops": loops, "compiles": compiles}
        print(json.dumps(results))
    """)
    for period, result in out.items():
        assert result["loops"] >= 2, period
        compiles = result["compiles"]
        assert compiles[-1] == compiles[len(compiles) // 2], f"a loop of {period} op(s) kept compiling"
        assert compiles[-1] - compiles[0] <= 3, period


def test_views_and_in_place_across_flushes():
    out = run_fused("""
        cpu = torch.arange(24.0).reshape(4, 6)
        dev = cpu.to("tpu")
        for target in (cpu, dev):
            view = target[1:3]
            view.mul_(2)
            column = target.t()[2]
            column.add_(100)
        same(dev, cpu)  # flushes
        for target in (cpu, dev):
            target[1:3].sub_(1)  # the view reads a flushed storage
            row = target[3]
            row.copy_(torch.full((6,), 7.0).to(target.device))  # written from the host
            target.t()[0].div_(4)
        same(dev[1:3], cpu[1:3])
        alias = dev.view(-1)
        alias[5] = 55.0
        cpu.view(-1)[5] = 55.0
        same(dev, cpu)
        same(alias, cpu.view(-1))
        # An out= write, and a copy that shares the pending value.
        out_dev, out_cpu = torch.empty(4, 6, device="tpu"), torch.empty(4, 6)
        torch.add(dev, 1, out=out_dev)
        torch.add(cpu, 1, out=out_cpu)
        twin = torch.empty(4, 6, device="tpu")
        twin.copy_(out_dev)
        out_dev.mul_(3)
        out_cpu_twin = out_cpu.clone()
        out_cpu.mul_(3)
        same(out_dev, out_cpu)
        same(twin, out_cpu_twin)
        print(json.dumps({}))
    """)
    assert out == {}


def test_a_bad_op_raises_at_the_op_and_the_trace_goes_on():
    out = run_fused("""
        x = torch.arange(3.0, device="tpu")
        y = x * 2  # pending
        message = ""
        try:
            x + torch.ones(4, device="tpu")
        except RuntimeError as error:
            message = str(error)
        z = y + 1
        same(z, torch.arange(3.0) * 2 + 1)
        before = counters()
        (z * 2).cpu()
        print(json.dumps({"message": message, "executions": delta(before, "executions")}))
    """)
    assert "aten::add" in out["message"]
    assert out["executions"] == 1


def test_rng_gives_strict_modes_numbers():
    code = """
        torch.manual_seed(1234)
        a = torch.rand(5, device="tpu")
        b = torch.randn(3, 4, device="tpu") * 2
        c = torch.nn.functional.dropout(torch.ones(8, device="tpu"), 0.5)
        g = torch.Generator(device="tpu").manual_seed(7)
        d = torch.randint(0, 100, (6,), device="tpu", generator=g)
        print(json.dumps([t.cpu().tolist() for t in (a, b, c, d)]))
    """
    assert run_fused(code, mode="fused") == run_fused(code, mode="strict")


TRAINING = """
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 64), nn.GELU(), nn.Linear(64, 10))
    cpu_model = __import__("copy").deepcopy(model)
    model = model.to("tpu")
    g = torch.Generator().manual_seed(1)
    inputs = torch.randn(128, 32, generator=g)
    labels = (inputs @ torch.randn(32, 10, generator=g)).argmax(dim=1)

    def train(model, x, y, read_loss, steps):
        optimizer = OPTIMIZER(model.parameters())
        losses, per_step = [], []
        for step in range(steps):
            before = counters()
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
            losses.append(loss.item() if read_loss else loss.detach())
            per_step.append([delta(before, "executions"), delta(before, "compiles")])
        return [float(l) for l in losses], per_step

    losses, per_step = train(model, inputs.to("tpu"), labels.to("tpu"), READ_LOSS, STEPS)
    cpu_losses, _ = train(cpu_model, inputs, labels, True, STEPS)
    same(torch.tensor(losses), torch.tensor(cpu_losses), rtol=1e-4, atol=1e-5)
    for p, q in zip(model.parameters(), cpu_model.parameters()):
        same(p.detach(), q.detach(), rtol=1e-3, atol=1e-4)
    print(json.dumps(per_step))
"""

OPTIMIZER_CODES = {
    "adamw": "lambda p: torch.optim.AdamW(p, lr=1e-2, weight_decay=1e-2)",
    "sgd_momentum": "lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9)",
}


@pytest.mark.parametrize("optimizer", OPTIMIZER_CODES)
def test_training_step_is_one_program_and_stops_compiling(optimizer):
    per_step = run_fused(f"OPTIMIZER = {OPTIMIZER_CODES[optimizer]}\nREAD_LOSS = True\nSTEPS = 8\n"
                         + textwrap.dedent(TRAINING))
    for step, (executions, compiles) in enumerate(per_step):
        assert 1 <= executions <= 2, f"step {step}: {executions} executions"
        if step >= 2:
            assert compiles == 0, f"step {step} compiled {compiles} programs"


def assert_one_program_per_step_once_learned(per_step):
    # Once the first program (the steps before the repetition was seen) has
    # run, the detector knows one iteration: one program per step, and from
    # the step after it nothing compiles.
    executions = [e for e, _ in per_step]
    compiles = [c for _, c in per_step]
    first = next(i for i, e in enumerate(executions) if e)
    assert executions[first + 1:] == [1] * (len(executions) - first - 1), executions
    assert sum(compiles[first + 2:]) == 0, compiles


def test_training_without_host_reads_still_runs_in_programs_per_step():
    # No .item() in the loop: the loop detector closes the programs. The first
    # step differs (AdamW creates its state), so the repetition is found once a
    # quarter of the size bound is pending (here 256 ops, about three steps).
    per_step = run_fused(f"OPTIMIZER = {OPTIMIZER_CODES['adamw']}\nREAD_LOSS = False\nSTEPS = 16\n"
                         + textwrap.dedent(TRAINING), TORCH_PJRT_FUSED_MAX_OPS="1024")
    assert_one_program_per_step_once_learned(per_step)


def test_compiled_training_steps_join_the_trace_and_run_one_program_per_step():
    # torch.compile makes a step three graphs (forward, backward, AdamW's
    # update) with backward()'s seed running eagerly between them. In fused
    # mode they all join the pending trace and the loop detector cuts only at
    # a graph's end, so a compiled step is one program, as an eager one is.
    code = """
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 64), nn.GELU(), nn.Linear(64, 10))
        cpu_model = __import__("copy").deepcopy(model)
        model = model.to("tpu")
        g = torch.Generator().manual_seed(1)
        inputs = torch.randn(128, 32, generator=g)
        labels = (inputs @ torch.randn(32, 10, generator=g)).argmax(dim=1)

        def step(model, optimizer, x, y):
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
            return loss.detach()

        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=1e-2)
        cpu_optimizer = torch.optim.AdamW(cpu_model.parameters(), lr=1e-2, weight_decay=1e-2)
        compiled_step = torch.compile(step, backend="tpu")
        x, y = inputs.to("tpu"), labels.to("tpu")
        losses, cpu_losses, per_step = [], [], []
        for _ in range(16):
            before = counters()
            losses.append(compiled_step(model, optimizer, x, y))
            per_step.append([delta(before, "executions"), delta(before, "compiles")])
            cpu_losses.append(step(cpu_model, cpu_optimizer, inputs, labels))
        same(torch.stack(losses), torch.stack(cpu_losses), rtol=1e-4, atol=1e-5)
        # Adam divides by the root of a near-zero second moment where a ReLU
        # unit is dead, so a rounding difference there moves a weight by up
        # to lr per step (strict mode's compiled step shows the same).
        for p, q in zip(model.parameters(), cpu_model.parameters()):
            same(p.detach(), q.detach(), rtol=1e-3, atol=5e-3)
        print(json.dumps(per_step))
    """
    assert_one_program_per_step_once_learned(run_fused(code, TORCH_PJRT_FUSED_MAX_OPS="1024"))


def test_one_value_for_two_outputs_survives_a_reused_program():
    # embedding_bag's mean mode gives bag_size as its max_indices too: one
    # value, two results. The second run reuses the first one's program,
    # which has that value once among its outputs; both tensors get it.
    code = """
        w = torch.randn(10, 3)
        idx, off = torch.tensor([1, 2, 4, 5, 4, 3, 2, 9]), torch.tensor([0, 4])
        expected = torch.ops.aten._embedding_bag(w, idx, off, False, 1)
        for _ in range(3):
            out = torch.ops.aten._embedding_bag(w.to("tpu"), idx.to("tpu"), off.to("tpu"), False, 1)
            torch.tpu.synchronize()
            for actual, wanted in zip(out, expected):
                same(actual, wanted)
        print(json.dumps("ok"))
    """
    assert run_fused(code) == "ok"


def test_a_loop_closed_step_reuses_the_program_a_synchronized_step_compiled():
    # synchronize() after a step keeps its gradients live, so they are outputs;
    # when the loop detector closes the same step at the next step's first op,
    # zero_grad() has dropped them. The program of the same ops with more
    # outputs serves: no compile once the loop runs without synchronize().
    code = """
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(16, 32), nn.Tanh(), nn.Linear(32, 4)).to("tpu")
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
        x, y = torch.randn(64, 16, device="tpu"), torch.randn(64, 4, device="tpu")
        compiles, losses = [], []
        for phase_sync in (True, False):
            before = counters()
            for _ in range(6):
                optimizer.zero_grad()
                loss = nn.functional.mse_loss(model(x), y)
                loss.backward()
                optimizer.step()
                losses.append(loss.detach())
                if phase_sync:
                    torch.tpu.synchronize()
            compiles.append(delta(before, "compiles"))
        torch.tpu.synchronize()
        print(json.dumps({"compiles": compiles, "losses": [float(l) for l in losses],
                          "weights": [p.cpu().tolist() for p in model.parameters()]}))
    """
    fused, strict = run_fused(code), run_fused(code, mode="strict")
    assert fused["compiles"][1] == 0, fused["compiles"]
    # The outputs the reused program drops must not shift the ones it keeps.
    torch.testing.assert_close(fused["losses"], strict["losses"], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(fused["weights"], strict["weights"], rtol=1e-5, atol=1e-6)


def test_a_loop_read_once_per_epoch_runs_one_program_per_step_from_the_second_epoch():
    # The first epoch is one program (its first step creates AdamW's state, so
    # the repetition shows only when it ends); it ends in a repetition of the
    # step, so later epochs close a program per step, after the epoch's
    # `total = zeros(())`, instead of compiling all their steps as one program.
    code = """
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 3)).to("tpu")
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
        batches = [(torch.randn(16, 8), torch.randint(0, 3, (16,))) for _ in range(6)]
        per_epoch, totals = [], []
        for epoch in range(4):
            before = counters()
            total = torch.zeros((), device="tpu")
            for x, y in batches:
                loss = nn.functional.cross_entropy(model(x.to("tpu")), y.to("tpu"))
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                total += loss.detach()
            totals.append(total.item())
            per_epoch.append([delta(before, "executions"), delta(before, "compiles")])
        print(json.dumps({"per_epoch": per_epoch, "totals": totals}))
    """
    fused, strict = run_fused(code), run_fused(code, mode="strict")
    executions = [e for e, _ in fused["per_epoch"]]
    compiles = [c for _, c in fused["per_epoch"]]
    assert executions[0] == 1 and executions[1:] == [6, 6, 6], fused["per_epoch"]
    assert compiles[2:] == [0, 0], fused["per_epoch"]
    torch.testing.assert_close(fused["totals"], strict["totals"], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mode", ["fused", "strict"])
def test_the_host_runs_ahead_of_the_device_but_only_so_far(mode):
    # Each step updates its weight in place, so the old buffer is donated to
    # the step's program. Neither the flush nor the in-place op may wait for
    # the execution before (the donated buffer's handle used to make it wait),
    # and no more than four executions are ever queued. Each step is some 8
    # GFLOP, its tracing well under a millisecond: the device is the slow side.
    out = run_fused("""
        torch.manual_seed(0)
        cpu_w, cpu_x = torch.randn(1024, 1024) * 0.03, torch.randn(1024, 1024)
        w, x = cpu_w.to("tpu"), cpu_x.to("tpu")

        def step(w, x):
            y = x
            for _ in range(4):
                y = torch.tanh(y @ w)
            w.sub_(y * 1e-3)

        for _ in range(4):  # fused: the loop is learned and its program compiled
            step(w, x)
        torch.tpu.synchronize()
        in_flight = []
        for _ in range(12):
            step(w, x)
            in_flight.append(counters()["executions_in_flight"])
        torch.tpu.synchronize()
        after = counters()["executions_in_flight"]
        for _ in range(16):
            step(cpu_w, cpu_x)
        same(w, cpu_w, rtol=1e-4, atol=1e-4)
        print(json.dumps({"in_flight": in_flight, "after": after}))
    """, mode=mode)
    assert max(out["in_flight"]) <= 4, out
    assert max(out["in_flight"]) >= 3, out
    assert out["after"] == 0
