"""Where the time of benchmarks/train_step.py's training step goes, part by part.

    python benchmarks/train_step.py            # the whole step, every backend
    python benchmarks/step_parts.py [--runs 10]

Runs the same GPT decoder's step, and parts of it, on PyTorch's CPU eager and on
torch_pjrt (in the mode TORCH_PJRT_EAGER_MODE selects; fused by default), each
device in its own process. On "tpu" each part is one program (it ends in
torch.tpu.synchronize()). The parts:

- forward (no grad), forward + backward, the AdamW update alone, the whole step;
- the step's 75 matmuls alone, with the model's shapes and transposes, in four
  groups: the forward's, the input gradients', the weight gradients' (their
  left operand is transposed: the tokens are the contracted dimension) and
  attention's backward. Every layer gets its own inputs, so that the compiler
  cannot merge one layer's matmul with another's.

Each row gives the median time of a run and the page faults per run (the
kernel filling fresh memory: a large cost on XLA:CPU, see the README's "Speed
on XLA:CPU"). The rows do not add up: forward + backward includes the
forward, and the matmul rows are the matmuls of the other rows, run alone.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_step import BATCH, HEADS, LAYERS, SEQUENCE, VOCAB, WIDTH, build_training  # noqa: E402

TOKENS = BATCH * SEQUENCE
HEAD_WIDTH = WIDTH // HEADS
MATMUL_GROUPS = ("forward", "input gradients", "weight gradients", "attention backward")


def matmul_groups(torch, device):
    """Per group, a function doing that group's matmuls of one step."""
    generator = torch.Generator().manual_seed(0)

    def rand(*shape):
        return torch.randn(*shape, generator=generator).to(device)

    def layer():
        return {
            "x": rand(TOKENS, WIDTH), "hidden": rand(TOKENS, 4 * WIDTH), "attended": rand(TOKENS, WIDTH),
            "qkv_weight": rand(3 * WIDTH, WIDTH), "proj_weight": rand(WIDTH, WIDTH),
            "up_weight": rand(4 * WIDTH, WIDTH), "down_weight": rand(WIDTH, 4 * WIDTH),
            "grad_qkv": rand(TOKENS, 3 * WIDTH), "grad_width": rand(TOKENS, WIDTH),
            "grad_hidden": rand(TOKENS, 4 * WIDTH),
            **{name: rand(BATCH * HEADS, SEQUENCE, HEAD_WIDTH) for name in ("q", "k", "v", "grad_out")},
            **{name: rand(BATCH * HEADS, SEQUENCE, SEQUENCE) for name in ("probs", "grad_scores")},
        }

    layers = [layer() for _ in range(LAYERS)]
    x, head_weight, grad_logits = rand(TOKENS, WIDTH), rand(VOCAB, WIDTH), rand(TOKENS, VOCAB)

    def forward():
        out = [x @ head_weight.T]
        for l in layers:
            out += [l["x"] @ l["qkv_weight"].T, l["q"] @ l["k"].transpose(1, 2), l["probs"] @ l["v"],
                    l["attended"] @ l["proj_weight"].T, l["x"] @ l["up_weight"].T,
                    l["hidden"] @ l["down_weight"].T]
        return out

    def input_gradients():
        out = [grad_logits @ head_weight]
        for l in layers:
            out += [l["grad_width"] @ l["down_weight"], l["grad_hidden"] @ l["up_weight"],
                    l["grad_width"] @ l["proj_weight"], l["grad_qkv"] @ l["qkv_weight"]]
        return out

    def weight_gradients():
        out = [grad_logits.T @ x]
        for l in layers:
            out += [l["grad_width"].T @ l["hidden"], l["grad_hidden"].T @ l["x"],
                    l["grad_width"].T @ l["attended"], l["grad_qkv"].T @ l["x"]]
        return out

    def attention_backward():
        out = []
        for l in layers:
            out += [l["grad_out"] @ l["v"].transpose(1, 2), l["probs"].transpose(1, 2) @ l["grad_out"],
                    l["grad_scores"] @ l["k"], l["grad_scores"].transpose(1, 2) @ l["q"]]
        return out

    return dict(zip(MATMUL_GROUPS, (forward, input_gradients, weight_gradients, attention_backward)))


def worker(device, runs):
    """Runs in its own process; prints one JSON line: part -> (median ms, faults per run)."""
    import torch

    if device == "tpu":
        import torch_pjrt  # noqa: F401
    model, ids, targets, optimizer = build_training(torch, device)

    def loss():
        return torch.nn.functional.cross_entropy(model(ids).flatten(0, 1), targets.flatten())

    def forward():
        with torch.no_grad():
            return loss()

    def forward_backward():
        optimizer.zero_grad()
        value = loss()
        value.backward()
        return value.detach()

    def step():
        value = forward_backward()
        optimizer.step()
        return value

    parts = {"forward": forward, "forward + backward": forward_backward, "AdamW update": optimizer.step,
             "whole step": step}
    parts.update({f"matmuls: {name}": f for name, f in matmul_groups(torch, device).items()})

    def wait():
        if device == "tpu":
            torch.tpu.synchronize()

    step()  # AdamW's state exists from here on, so its update has its steady shape
    wait()
    result = {}
    for name, part in parts.items():
        for _ in range(3):
            kept = part()  # kept: a value nobody holds is never computed in fused mode
            wait()
        times = []
        faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        for _ in range(runs):
            start = time.perf_counter()
            kept = part()
            wait()
            times.append(time.perf_counter() - start)
        faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults
        del kept
        times.sort()
        result[name] = (times[len(times) // 2] * 1e3, faults / runs)
    print(json.dumps(result))


def run_worker(device, runs):
    done = subprocess.run([sys.executable, __file__, "--worker", device, "--runs", str(runs)],
                          capture_output=True, text=True, cwd=tempfile.gettempdir())
    if done.returncode != 0:
        sys.exit(f"the {device} worker failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args.worker, args.runs)
    cpu, tpu = run_worker("cpu", args.runs), run_worker("tpu", args.runs)
    mode = os.environ.get("TORCH_PJRT_EAGER_MODE", "fused")
    print(f"GPT decoder ({LAYERS} layers, width {WIDTH}, {HEADS} heads, sequence {SEQUENCE}, batch {BATCH}): "
          f"median of {args.runs} runs; torch_pjrt in {mode} mode")
    if os.environ.get("GLIBC_TUNABLES"):  # both processes run under it
        print(f"GLIBC_TUNABLES={os.environ['GLIBC_TUNABLES']}")
    header = f"{'part':32} {'CPU ms':>8} {'tpu ms':>8} {'tpu/CPU':>8} {'CPU faults':>11} {'tpu faults':>11}"
    print(header)
    print("-" * len(header))
    for name in cpu:
        (cpu_ms, cpu_faults), (tpu_ms, tpu_faults) = cpu[name], tpu[name]
        print(f"{name:32} {cpu_ms:8.1f} {tpu_ms:8.1f} {tpu_ms / cpu_ms:7.2f}x {cpu_faults:11.0f} {tpu_faults:11.0f}")
    print("faults: minor page faults per run (the kernel handing the process fresh memory)")


if __name__ == "__main__":
    main()
