"""One training step of a small GPT-style decoder, on every way we can run it.

    python benchmarks/train_step.py [--steps 10] [--no-inductor] [--no-jax]

The model (4 layers, width 256, 4 heads, sequence 128, batch 8, AdamW) is
built in code with the same seed everywhere, so every row starts from the
same weights. Each configuration runs in its own process: PyTorch eager on the
CPU, torch.compile (Inductor) on the CPU, torch_pjrt's strict and fused (the
default) eager modes twice each (a cold and then a warm on-disk executable
cache, a temporary TORCH_PJRT_CACHE_DIR, which is what the first-step column
compares), torch.compile(backend="tpu") in fused (the default) and in strict
mode, and the same model and AdamW written in
JAX under jax.jit on JAX's own XLA:CPU (requirements-bench.txt pins the JAX
whose StableHLO version is the plugin's). Each figure is also
given as a ratio to PyTorch's CPU eager step. The host column is the Python
thread's CPU time per step: for a device row, what tracing and dispatch cost
beside the device's own run, so the table shows which side bounds a step.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

LAYERS, WIDTH, HEADS, SEQUENCE, BATCH, VOCAB = 4, 256, 4, 128, 8, 512


def build_model(torch):
    from torch import nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.norm1 = nn.LayerNorm(WIDTH)
            self.qkv = nn.Linear(WIDTH, 3 * WIDTH)
            self.proj = nn.Linear(WIDTH, WIDTH)
            self.norm2 = nn.LayerNorm(WIDTH)
            self.mlp = nn.Sequential(nn.Linear(WIDTH, 4 * WIDTH), nn.GELU(), nn.Linear(4 * WIDTH, WIDTH))

        def forward(self, x, causal_mask):
            b, t, c = x.shape
            q, k, v = self.qkv(self.norm1(x)).split(WIDTH, dim=2)
            q, k, v = (y.view(b, t, HEADS, c // HEADS).transpose(1, 2) for y in (q, k, v))
            scores = (q @ k.transpose(-2, -1)) * (c // HEADS) ** -0.5
            scores = scores.masked_fill(causal_mask, float("-inf"))
            attended = (scores.softmax(dim=-1) @ v).transpose(1, 2).reshape(b, t, c)
            x = x + self.proj(attended)
            return x + self.mlp(self.norm2(x))

    class Decoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.tokens = nn.Embedding(VOCAB, WIDTH)
            self.positions = nn.Embedding(SEQUENCE, WIDTH)
            self.blocks = nn.ModuleList(Block() for _ in range(LAYERS))
            self.norm = nn.LayerNorm(WIDTH)
            self.head = nn.Linear(WIDTH, VOCAB)

        def forward(self, ids):
            t = ids.shape[1]
            positions = torch.arange(t, device=ids.device)
            causal_mask = torch.ones(t, t, dtype=torch.bool, device=ids.device).triu(1)
            x = self.tokens(ids) + self.positions(positions)
            for block in self.blocks:
                x = block(x, causal_mask)
            return self.head(self.norm(x))

    torch.manual_seed(0)
    return Decoder()


def build_training(torch, device):
    """The model, a batch of token ids and targets (the same for every row), and AdamW."""
    model = build_model(torch).to(device)
    data = torch.Generator().manual_seed(1)
    ids = torch.randint(0, VOCAB, (BATCH, SEQUENCE), generator=data).to(device)
    targets = torch.randint(0, VOCAB, (BATCH, SEQUENCE), generator=data).to(device)
    return model, ids, targets, torch.optim.AdamW(model.parameters(), lr=1e-3)


def worker(kind, steps):
    """Runs in its own process; prints one JSON line."""
    import torch

    device = "cpu"
    metrics = None
    if kind == "jax":
        return jax_worker(torch, steps)
    if kind in ("tpu", "tpu-compiled"):
        import torch_pjrt

        device = "tpu"
        metrics = torch_pjrt.metrics
    model, ids, targets, optimizer = build_training(torch, device)

    def step():
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(ids).flatten(0, 1), targets.flatten())
        loss.backward()
        optimizer.step()
        return loss.detach()

    # The compiled rows compile the whole step: forward, backward (through
    # AOTAutograd) and the optimizer's update, as one would for speed.
    if kind == "inductor":
        step = torch.compile(step, backend="inductor")
    elif kind == "tpu-compiled":
        step = torch.compile(step, backend="tpu")

    def wait():
        if device == "tpu":
            torch.tpu.synchronize()

    before = {}

    def warmed_up():
        wait()
        if metrics:
            before.update(metrics())

    result = time_steps(step, wait, warmed_up, steps)
    if metrics:
        after = metrics()
        result["compiles_per_step"] = (after["compiles"] - before["compiles"]) / steps
        result["executions_per_step"] = (after["executions"] - before["executions"]) / steps
        result["first_step_compiles"] = before["compiles"]
        result["first_step_disk_hits"] = before["disk_cache_hits"]
        result["peak_mib"] = torch.tpu.max_memory_allocated() / 2**20
        result["fallbacks"] = {k.split("::", 1)[1]: v for k, v in after.items() if k.startswith("cpu_fallback::")}
    else:
        result["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # process RSS
    print(json.dumps(result))


def time_steps(step, wait, warmed_up, steps):
    """Times the first step, warms up with a second (AdamW's state exists from
    then on), then times `steps` steps; `step` returns the loss."""
    start = time.perf_counter()
    first_loss = float(step())
    first_step = time.perf_counter() - start
    # The warm-up step keeps its loss, as the timed steps do: in fused mode the
    # live values are the program's outputs.
    loss = step()
    warmed_up()
    start = time.perf_counter()
    host_start = time.thread_time()
    for _ in range(steps):
        loss = step()
    host = time.thread_time() - host_start
    wait()
    elapsed = time.perf_counter() - start
    return {"ms_per_step": elapsed / steps * 1e3, "host_ms_per_step": host / steps * 1e3,
            "first_step_s": first_step, "first_loss": first_loss, "last_loss": float(loss)}


def jax_worker(torch, steps):
    """The same decoder, weights and AdamW in JAX, one jax.jit step."""
    import jax
    import jax.numpy as jnp

    model = build_model(torch)
    params = {k: jnp.asarray(v.detach().numpy()) for k, v in model.named_parameters()}
    data = torch.Generator().manual_seed(1)
    ids = jnp.asarray(torch.randint(0, VOCAB, (BATCH, SEQUENCE), generator=data).numpy())
    targets = jnp.asarray(torch.randint(0, VOCAB, (BATCH, SEQUENCE), generator=data).numpy())
    causal = jnp.triu(jnp.ones((SEQUENCE, SEQUENCE), dtype=bool), 1)

    def loss_fn(p):
        def layer_norm(x, prefix):
            mean = x.mean(-1, keepdims=True)
            var = ((x - mean) ** 2).mean(-1, keepdims=True)
            return (x - mean) / jnp.sqrt(var + 1e-5) * p[prefix + ".weight"] + p[prefix + ".bias"]

        def linear(x, prefix):
            return x @ p[prefix + ".weight"].T + p[prefix + ".bias"]

        b, t = ids.shape
        x = p["tokens.weight"][ids] + p["positions.weight"][jnp.arange(t)]
        for i in range(LAYERS):
            pre = f"blocks.{i}."
            q, k, v = jnp.split(linear(layer_norm(x, pre + "norm1"), pre + "qkv"), 3, axis=2)
            q, k, v = (y.reshape(b, t, HEADS, WIDTH // HEADS).transpose(0, 2, 1, 3) for y in (q, k, v))
            scores = (q @ k.transpose(0, 1, 3, 2)) * (WIDTH // HEADS) ** -0.5
            scores = jnp.where(causal, -jnp.inf, scores)
            attended = (jax.nn.softmax(scores, axis=-1) @ v).transpose(0, 2, 1, 3).reshape(b, t, WIDTH)
            x = x + linear(attended, pre + "proj")
            h = jax.nn.gelu(linear(layer_norm(x, pre + "norm2"), pre + "mlp.0"), approximate=False)
            x = x + linear(h, pre + "mlp.2")
        logits = linear(layer_norm(x, "norm"), "head").reshape(-1, VOCAB)
        log_probs = jax.nn.log_softmax(logits, axis=-1)
        return -jnp.take_along_axis(log_probs, targets.reshape(-1, 1), axis=1).mean()

    # torch.optim.AdamW's defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-8, decay 1e-2.
    lr, beta1, beta2, eps, decay = 1e-3, 0.9, 0.999, 1e-8, 1e-2

    @jax.jit
    def step(params_, m, v, count):
        loss, grads = jax.value_and_grad(loss_fn)(params_)
        count = count + 1
        new_params, new_m, new_v = {}, {}, {}
        for k in params_:
            new_m[k] = beta1 * m[k] + (1 - beta1) * grads[k]
            new_v[k] = beta2 * v[k] + (1 - beta2) * grads[k] ** 2
            m_hat = new_m[k] / (1 - beta1 ** count)
            v_hat = new_v[k] / (1 - beta2 ** count)
            decayed = params_[k] * (1 - lr * decay)
            new_params[k] = decayed - lr * m_hat / (jnp.sqrt(v_hat) + eps)
        return new_params, new_m, new_v, count, loss

    state = {"params": params, "m": {k: jnp.zeros_like(x) for k, x in params.items()},
             "v": {k: jnp.zeros_like(x) for k, x in params.items()}, "count": jnp.zeros(())}

    def run_step():
        state["params"], state["m"], state["v"], state["count"], loss = step(
            state["params"], state["m"], state["v"], state["count"])
        return loss

    def wait():
        state["count"].block_until_ready()

    result = time_steps(run_step, wait, wait, steps)
    result["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["version"] = f"jax {jax.__version__}"
    print(json.dumps(result))


def run_worker(kind, steps, **env):
    environment = {**os.environ, **env}
    done = subprocess.run([sys.executable, __file__, "--worker", kind, "--steps", str(steps)],
                          env=environment, capture_output=True, text=True, cwd=tempfile.gettempdir())
    if done.returncode != 0:
        return None, done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed"
    return json.loads(done.stdout.strip().splitlines()[-1]), None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--no-inductor", action="store_true", help="skip torch.compile on the CPU (slow to compile)")
    parser.add_argument("--no-jax", action="store_true", help="skip the JAX row")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.steps)
        return

    print(f"GPT decoder: {LAYERS} layers, width {WIDTH}, {HEADS} heads, sequence {SEQUENCE}, "
          f"batch {BATCH}, vocab {VOCAB}, AdamW; {args.steps} timed steps after 2 warm-up steps")
    if os.environ.get("GLIBC_TUNABLES"):  # every row runs under it (README: "Speed on XLA:CPU")
        print(f"GLIBC_TUNABLES={os.environ['GLIBC_TUNABLES']}")
    rows = [("PyTorch eager (CPU)", *run_worker("cpu", args.steps))]
    if not args.no_inductor:
        rows.append(("torch.compile inductor (CPU)", *run_worker("inductor", args.steps)))
    notes = []
    with tempfile.TemporaryDirectory(prefix="torch_pjrt_bench_cache_") as cache:
        env = {"TORCH_PJRT_CACHE_DIR": cache, "TORCH_PJRT_EAGER_MODE": "strict"}
        cold, error = run_worker("tpu", args.steps, **env)
        if cold is None and "NotImplementedError" in (error or ""):
            notes.append(f"TORCH_PJRT_CPU_FALLBACK=1 was set: without it the step fails ({error})")
            env["TORCH_PJRT_CPU_FALLBACK"] = "1"
            # The failed attempt filled the cache: empty it, so "cold" is cold.
            for name in os.listdir(cache):
                os.remove(os.path.join(cache, name))
            cold, error = run_worker("tpu", args.steps, **env)
        rows.append(("torch_pjrt strict eager, cold disk cache", cold, error))
        rows.append(("torch_pjrt strict eager, warm disk cache", *run_worker("tpu", args.steps, **env)))
        # Fused mode's programs are not strict mode's: its first run is cold too.
        fused = {**env, "TORCH_PJRT_EAGER_MODE": "fused"}
        rows.append(("torch_pjrt fused eager, cold disk cache", *run_worker("tpu", args.steps, **fused)))
        rows.append(("torch_pjrt fused eager, warm disk cache", *run_worker("tpu", args.steps, **fused)))
        # In the default (fused) mode, as a user runs it: the step's graphs
        # join one program per step. Strict mode runs each graph on its own.
        rows.append(("torch.compile backend='tpu' (fused)",
                     *run_worker("tpu-compiled", args.steps, **fused)))
        rows.append(("torch.compile backend='tpu' (strict)",
                     *run_worker("tpu-compiled", args.steps, **env)))
    if not args.no_jax:
        rows.append(("JAX jax.jit (its own XLA:CPU)", *run_worker("jax", args.steps)))

    cpu_ms = rows[0][1]["ms_per_step"] if rows[0][1] else None
    header = f"{'configuration':<44} {'ms/step':>9} {'host ms':>8} {'steps/s':>8} {'vs CPU':>7} " \
             f"{'compiles/step':>13} {'execs/step':>10} {'peak MiB':>9} {'first step s':>12} " \
             f"{'loss 1 -> last':>16}"
    print(header)
    print("-" * len(header))
    for name, result, error in rows:
        if result is None:
            print(f"{name:<44} {error}")
            continue
        per_step = result["ms_per_step"]
        compiles = result.get("compiles_per_step")
        executions = result.get("executions_per_step")
        ratio = f"{cpu_ms / per_step:.2f}x" if cpu_ms else "-"
        print(f"{name:<44} {per_step:>9.1f} {result['host_ms_per_step']:>8.1f} "
              f"{1e3 / per_step:>8.2f} {ratio:>7} "
              f"{'-' if compiles is None else f'{compiles:.1f}':>13} "
              f"{'-' if executions is None else f'{executions:.0f}':>10} {result['peak_mib']:>9.1f} "
              f"{result['first_step_s']:>12.2f} {result['first_loss']:>7.3f} -> {result['last_loss']:.3f}")
        if result.get("first_step_compiles") is not None:
            notes.append(f"{name}: warm-up compiled {result['first_step_compiles']} programs, "
                         f"loaded {result['first_step_disk_hits']} from the disk cache")
        if result.get("version"):
            notes.append(f"{name}: {result['version']}")
        if result.get("fallbacks"):
            notes.append(f"{name}: CPU fallbacks per op {result['fallbacks']}")
    print("host ms: CPU time of the Python thread per step; for torch_pjrt and JAX that is tracing\n"
          "and dispatch while the device runs the step, for the CPU rows it includes the compute\n"
          "that thread does")
    print("peak MiB: device memory for torch_pjrt, process RSS for the CPU rows")
    for note in notes:
        print("note:", note)


if __name__ == "__main__":
    main()
