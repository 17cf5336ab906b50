"""Seeded random chains of view ops on a base tensor, a random in-place write
through the last view, then the base and every alias compared with the same
program on CPU. Views are metadata only and every alias shares the storage
(DESIGN.md, "Storage and views"), so any slip in a view prologue or a
write-back shows up here as a wrong alias."""
import random

import pytest
import torch

from op_testing import DEVICE

CASES = 2000
BATCHES = 8


def _random_view(rng, x):
    """One view op valid for x, as (description, function)."""
    rank = x.dim()
    choices = ["unsqueeze"]
    if rank >= 1:
        choices += ["slice", "select", "narrow", "flip_stride", "unfold"]
    if rank >= 2:
        choices += ["transpose", "permute", "diagonal", "t", "movedim"]
    if x.is_contiguous() and x.numel() > 0:
        choices += ["view", "flatten"]
    if 1 in x.shape:
        choices += ["squeeze"]
    kind = rng.choice(choices)
    if kind == "unsqueeze":
        d = rng.randint(0, rank)
        return f"unsqueeze({d})", lambda t: t.unsqueeze(d)
    if kind in ("slice", "flip_stride"):
        d = rng.randrange(rank)
        n = x.shape[d]
        start = rng.randint(0, n)
        stop = rng.randint(start, n)
        step = rng.choice([1, 1, 2, 3])
        index = [slice(None)] * d + [slice(start, stop, step)]
        return f"[{d}: {start}:{stop}:{step}]", lambda t: t[tuple(index)]
    if kind == "select":
        d = rng.randrange(rank)
        if x.shape[d] == 0:
            return "squeeze-noop", lambda t: t
        i = rng.randrange(-x.shape[d], x.shape[d])
        return f"select({d}, {i})", lambda t: t.select(d, i)
    if kind == "narrow":
        d = rng.randrange(rank)
        start = rng.randint(0, x.shape[d])
        length = rng.randint(0, x.shape[d] - start)
        return f"narrow({d}, {start}, {length})", lambda t: t.narrow(d, start, length)
    if kind == "unfold":
        d = rng.randrange(rank)
        size = rng.randint(1, max(1, x.shape[d]))
        if x.shape[d] == 0:
            return "noop", lambda t: t
        # Windows that do not overlap: a write into overlapping ones is
        # order-dependent on CPU (copy_ accepts it), so it has no reference.
        step = rng.randint(size, size + 2)
        return f"unfold({d}, {size}, {step})", lambda t: t.unfold(d, size, step)
    if kind == "transpose":
        a, b = rng.sample(range(rank), 2)
        return f"transpose({a}, {b})", lambda t: t.transpose(a, b)
    if kind == "permute":
        order = list(range(rank))
        rng.shuffle(order)
        return f"permute({order})", lambda t: t.permute(order)
    if kind == "diagonal":
        a, b = rng.sample(range(rank), 2)
        offset = rng.randint(-1, 1)
        return f"diagonal({offset}, {a}, {b})", lambda t: t.diagonal(offset, a, b)
    if kind == "t":
        return "mT", lambda t: t.mT
    if kind == "movedim":
        a, b = rng.randrange(rank), rng.randrange(rank)
        return f"movedim({a}, {b})", lambda t: t.movedim(a, b)
    if kind == "view":
        n = x.numel()
        factors = [f for f in range(1, n + 1) if n % f == 0]
        f = rng.choice(factors)
        return f"view({f}, -1)", lambda t: t.view(f, -1)
    if kind == "flatten":
        return "flatten()", lambda t: t.flatten()
    d = [i for i, s in enumerate(x.shape) if s == 1][0]
    return f"squeeze({d})", lambda t: t.squeeze(d)


def _random_write(rng, shape):
    """An in-place op for a view of `shape`, as (description, function of (view, src))."""
    kind = rng.choice(["add_", "mul_", "fill_", "zero_", "copy_", "sub_bcast", "addcmul_",
                       "clamp_", "neg_", "setitem"])
    scalar = round(rng.uniform(-2, 2), 2)
    if kind == "add_":
        return f"add_({scalar})", lambda v, src: v.add_(scalar)
    if kind == "mul_":
        return "mul_(src)", lambda v, src: v.mul_(src)
    if kind == "fill_":
        return f"fill_({scalar})", lambda v, src: v.fill_(scalar)
    if kind == "zero_":
        return "zero_()", lambda v, src: v.zero_()
    if kind == "copy_":
        return "copy_(src)", lambda v, src: v.copy_(src)
    if kind == "sub_bcast":
        # A broadcast operand: the last dim only.
        return "sub_(src[..., :1])", lambda v, src: v.sub_(src[..., :1] if v.dim() else src)
    if kind == "addcmul_":
        return "addcmul_(src, src)", lambda v, src: v.addcmul_(src, src, value=0.5)
    if kind == "clamp_":
        return "clamp_(-0.5, 0.5)", lambda v, src: v.clamp_(-0.5, 0.5)
    if kind == "neg_":
        return "neg_()", lambda v, src: v.neg_()
    return "v[...] = src", lambda v, src: v.__setitem__(Ellipsis, src)


def _run(seed):
    rng = random.Random(seed)
    rank = rng.randint(1, 4)
    shape = [rng.randint(0 if rng.random() < 0.05 else 1, 5) for _ in range(rank)]
    base = torch.randn(shape, generator=torch.Generator().manual_seed(seed))
    ops = []
    probe = base
    for _ in range(rng.randint(1, 4)):
        desc, fn = _random_view(rng, probe)
        probe = fn(probe)
        ops.append((desc, fn))
    write_desc, write = _random_write(rng, probe.shape)
    src = torch.randn(probe.shape, generator=torch.Generator().manual_seed(seed + 1))
    story = f"seed {seed}: base {shape} -> " + " -> ".join(d for d, _ in ops) + f" -> {write_desc}"

    def program(b, s):
        aliases = [b]
        for _, fn in ops:
            aliases.append(fn(aliases[-1]))
        try:
            write(aliases[-1], s)
        except RuntimeError as error:  # e.g. writing into an expanded dim
            return aliases, type(error)
        return aliases, None

    cpu_aliases, cpu_error = program(base.clone(), src)
    dev_aliases, dev_error = program(base.to(DEVICE), src.to(DEVICE))
    assert dev_error == cpu_error, f"{story}: error {dev_error} on {DEVICE}, {cpu_error} on CPU"
    for i, (a, e) in enumerate(zip(dev_aliases, cpu_aliases)):
        assert a.shape == e.shape and a.stride() == e.stride(), (
            f"{story}: alias {i} has shape {tuple(a.shape)} stride {a.stride()}, "
            f"CPU {tuple(e.shape)} {e.stride()}")
        assert a.storage_offset() == e.storage_offset(), f"{story}: alias {i} offset"
        torch.testing.assert_close(a.cpu(), e, rtol=1e-6, atol=1e-6,
                                   msg=lambda m, i=i: f"{story}: alias {i}: {m}")


@pytest.mark.parametrize("batch", range(BATCHES))
def test_random_view_chains_written_in_place(batch):
    per_batch = CASES // BATCHES
    for seed in range(batch * per_batch, (batch + 1) * per_batch):
        _run(seed)
