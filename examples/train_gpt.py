"""Train a tiny GPT-2 on the "tpu" device and sample from it.

The model is Hugging Face's GPT2LMHeadModel built from a small config (nothing
is downloaded); the corpus is the short text below, read one character at a
time. After training, greedy generation with the KV cache continues a prompt.
Apart from `device = torch.device("tpu")` this is ordinary PyTorch and
transformers code.

    python examples/train_gpt.py [--steps 300]
"""
import argparse
import time

import torch
import transformers

import torch_pjrt  # registers the "tpu" device (plain `import torch` does it too)

TEXT = """\
the tpu is a chip that multiplies matrices. a matrix is a grid of numbers.
a model is a stack of matrices, and training nudges every number a little,
step after step, until the model predicts the next letter of the text.
the next letter of this text is easy to predict once the model has read it
many times: the tpu reads it, the model learns it, and then the model writes it.
"""

CONTEXT = 64


def batches(data, batch_size, generator):
    """Random windows of the text: inputs, and the same shifted by one as labels."""
    while True:
        starts = torch.randint(len(data) - CONTEXT, (batch_size,), generator=generator)
        yield torch.stack([data[s:s + CONTEXT] for s in starts])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=16)
    args = parser.parse_args()
    transformers.logging.set_verbosity_error()

    device = torch.device("tpu")
    print(f"device: {device}, served by {torch.tpu.get_device_name()}")
    alphabet = sorted(set(TEXT))
    index = {c: i for i, c in enumerate(alphabet)}
    data = torch.tensor([index[c] for c in TEXT])

    torch.manual_seed(0)
    config = transformers.GPT2Config(vocab_size=len(alphabet), n_positions=CONTEXT, n_embd=64,
                                     n_layer=2, n_head=4, bos_token_id=0, eos_token_id=0,
                                     pad_token_id=0)
    model = transformers.GPT2LMHeadModel(config).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    stream = batches(data, args.batch_size, torch.Generator().manual_seed(0))

    start = time.perf_counter()
    for step in range(1, args.steps + 1):
        ids = next(stream).to(device)
        optimizer.zero_grad()
        loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        optimizer.step()
        if step == 1 or step % 50 == 0 or step == args.steps:
            elapsed = time.perf_counter() - start
            print(f"step {step:4d}  loss {loss.item():.3f}  {elapsed:6.1f} s")

    model.eval()
    prompt = "the model "
    ids = torch.tensor([[index[c] for c in prompt]], device=device)
    with torch.no_grad():
        out = model.generate(ids, max_new_tokens=80, do_sample=False)
    print("sample:", repr("".join(alphabet[i] for i in out[0].tolist())))
    m = torch_pjrt.metrics()
    print(f"programs compiled: {m['compiles']}, executions: {m['executions']}, "
          f"cpu fallbacks: {m['cpu_fallbacks']}")


if __name__ == "__main__":
    main()
