"""What one eager op costs on the "tpu" device, next to eager PyTorch on CPU.

    python benchmarks/eager_ops.py [--iters 200]

Each case runs a few times first (the first call compiles its program), then
`iters` times between two torch.tpu.synchronize() calls, so the time covers
the device finishing the work and not only the host enqueueing it. The
compile columns say how many programs the warm-up compiled, and how many the
timed loop did (it should be none). It runs in strict eager mode, one program
per op, unless TORCH_PJRT_EAGER_MODE says otherwise: in fused mode, ops whose
results nobody reads are never run.
"""
import argparse
import os
import time

# Before torch: `import torch` loads torch_pjrt, which reads the mode then.
os.environ.setdefault("TORCH_PJRT_EAGER_MODE", "strict")

import torch  # noqa: E402
from torch import nn  # noqa: E402

import torch_pjrt  # noqa: E402

WARMUP_CALLS = 3


def tensor(shape, dtype, device):
    return torch.randn(shape, generator=torch.Generator().manual_seed(0)).to(device=device, dtype=dtype)


def elementwise_case(fn):
    def setup(shape, dtype, device):
        a, b = tensor(shape, dtype, device), tensor(shape, dtype, device)
        return lambda: fn(a, b)
    return setup


def mlp_train_step(shape, dtype, device):
    batch, width = shape
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(width, 256), nn.ReLU(), nn.Linear(256, 256), nn.GELU(),
                          nn.Linear(256, 10)).to(device=device, dtype=dtype)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    inputs = tensor((batch, width), dtype, device)
    labels = torch.randint(0, 10, (batch,), generator=torch.Generator().manual_seed(1)).to(device)

    def step():
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(inputs), labels).backward()
        optimizer.step()
    return step


# name, shape, dtype, setup(shape, dtype, device) -> the call to time
CASES = [
    ("add", (1024, 1024), torch.float32, elementwise_case(lambda a, b: a + b)),
    ("add", (1024, 1024), torch.bfloat16, elementwise_case(lambda a, b: a + b)),
    ("add_ (small)", (128,), torch.float32, elementwise_case(lambda a, b: a.add_(b))),
    ("mul scalar", (1024, 1024), torch.float32, elementwise_case(lambda a, b: a * 1.5)),
    ("mm", (256, 256), torch.float32, elementwise_case(torch.mm)),
    ("sum", (1024, 1024), torch.float32, elementwise_case(lambda a, b: a.sum())),
    ("relu", (1024, 1024), torch.float32, elementwise_case(lambda a, b: torch.relu(a))),
    ("softmax", (256, 1024), torch.float32, elementwise_case(lambda a, b: torch.softmax(a, dim=-1))),
    ("MLP train step", (64, 128), torch.float32, mlp_train_step),
]


def microseconds_per_call(call, iters, synchronize):
    synchronize()
    start = time.perf_counter()
    for _ in range(iters):
        call()
    synchronize()
    return (time.perf_counter() - start) / iters * 1e6


def measure(setup, shape, dtype, device, iters):
    synchronize = torch.tpu.synchronize if device == "tpu" else (lambda: None)
    call = setup(shape, dtype, device)
    compiles = lambda: torch_pjrt.metrics()["compiles"]  # noqa: E731
    before = compiles()
    for _ in range(WARMUP_CALLS):
        call()
    synchronize()
    warm = compiles()
    us = microseconds_per_call(call, iters, synchronize)
    return us, warm - before, compiles() - warm


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iters", type=int, default=200, help="timed calls per case")
    args = parser.parse_args()

    print(f"tpu: {torch.tpu.get_device_name()}   cpu: {torch.get_num_threads()} threads   {args.iters} calls per case")
    header = f"{'op':<16} {'shape':<14} {'dtype':<10} {'tpu us/op':>10} {'cpu us/op':>10} {'compiles':>9} {'timed':>6}"
    print(header)
    print("-" * len(header))
    for name, shape, dtype, setup in CASES:
        tpu_us, warmup_compiles, timed_compiles = measure(setup, shape, dtype, "tpu", args.iters)
        cpu_us, _, _ = measure(setup, shape, dtype, "cpu", args.iters)
        shape_text = "x".join(map(str, shape))
        dtype_text = str(dtype).removeprefix("torch.")
        print(f"{name:<16} {shape_text:<14} {dtype_text:<10} {tpu_us:>10.1f} {cpu_us:>10.1f} "
              f"{warmup_compiles:>9} {timed_compiles:>6}")


if __name__ == "__main__":
    main()
