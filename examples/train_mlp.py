"""Train a small classifier on the "tpu" device.

The data are points on three interleaved spiral arms in the plane, one class
per arm: no straight line separates them, so the network has to learn curves.
Everything below is ordinary PyTorch: the only device-specific line is
`device = torch.device("tpu")`.

    python examples/train_mlp.py
"""
import math
import time

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import torch_pjrt  # registers the "tpu" device (plain `import torch` does it too)

EPOCHS = 30
BATCH_SIZE = 128
ARMS = 3


def make_spirals(n, generator):
    """n noisy points on the spiral arms; a point's label is its arm."""
    labels = torch.randint(ARMS, (n,), generator=generator)
    radius = torch.rand(n, generator=generator)
    angle = 3.5 * radius + labels * (2 * math.pi / ARMS)
    points = torch.stack([radius * torch.cos(angle), radius * torch.sin(angle)], dim=1)
    return points + 0.03 * torch.randn(n, 2, generator=generator), labels


def progress_bar(done, total, width=30):
    filled = round(width * done / total)
    return "[" + "#" * filled + "." * (width - filled) + "]"


def main():
    device = torch.device("tpu")
    print(f"device: {device}, served by {torch.tpu.get_device_name()}")

    generator = torch.Generator().manual_seed(0)
    train_points, train_labels = make_spirals(1024, generator)
    test_points, test_labels = make_spirals(1024, generator)
    # drop_last keeps every batch the same shape, so each step reuses one compiled program.
    loader = DataLoader(TensorDataset(train_points, train_labels), batch_size=BATCH_SIZE,
                        shuffle=True, drop_last=True, generator=generator)

    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(2, 64), nn.ReLU(),
        nn.Linear(64, 64), nn.ReLU(),
        nn.Linear(64, ARMS),
    ).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-3)
    loss_fn = nn.CrossEntropyLoss()

    start = time.perf_counter()
    for epoch in range(1, EPOCHS + 1):
        model.train()
        # Summed on the device: reading a loss with .item() every step would
        # make the host wait for the device each time.
        epoch_loss = torch.zeros((), device=device)
        for points, labels in loader:
            points, labels = points.to(device), labels.to(device)
            loss = loss_fn(model(points), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            epoch_loss += loss.detach()
        mean_loss = epoch_loss.item() / len(loader)
        print(f"epoch {epoch:2d}/{EPOCHS} {progress_bar(epoch, EPOCHS)} loss {mean_loss:.4f}")

    model.eval()
    with torch.no_grad():
        predictions = model(test_points.to(device)).argmax(dim=1).cpu()
    accuracy = (predictions == test_labels).float().mean().item()
    stats = torch_pjrt.metrics()
    print(f"test accuracy: {accuracy:.1%}  ({time.perf_counter() - start:.1f} s, "
          f"{stats['compiles']} programs compiled, {stats['executions']} executions)")


if __name__ == "__main__":
    main()
