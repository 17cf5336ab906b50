"""nn.LSTM, nn.GRU and their cells: on the device they run PyTorch's fused cells
(as on CUDA), compared with CPU's composite cells, forward and backward."""
import copy

import pytest
import torch
from torch import nn

import torch_pjrt
from op_testing import DEVICE

TOL = {torch.float32: dict(rtol=1e-5, atol=1e-5), torch.float64: dict(rtol=1e-10, atol=1e-10),
       torch.bfloat16: dict(rtol=2e-2, atol=2e-2)}


def _grads(module, inputs, make_loss):
    module.zero_grad()
    outputs = module(*inputs)
    loss = make_loss(outputs)
    leaves = [x for x in inputs if isinstance(x, torch.Tensor) and x.requires_grad]
    grads = torch.autograd.grad(loss, leaves + list(module.parameters()))
    return outputs, grads


def _compare(module, inputs, make_loss, dtype=torch.float32):
    module = module.to(dtype)
    inputs = [x.to(dtype).requires_grad_() if x.is_floating_point() else x for x in inputs]
    device_module = copy.deepcopy(module).to(DEVICE)
    device_inputs = [x.detach().to(DEVICE).requires_grad_(x.requires_grad) for x in inputs]
    torch_pjrt.reset_metrics()
    out, grads = _grads(device_module, device_inputs, make_loss)
    expected_out, expected_grads = _grads(module, inputs, make_loss)
    flat = lambda o: [t for t in (o if isinstance(o, tuple) else (o,)) for t in
                      (t if isinstance(t, tuple) else (t,))]
    for a, e in zip(flat(out), flat(expected_out)):
        torch.testing.assert_close(a.detach().cpu(), e.detach(), **TOL[dtype])
    assert len(grads) == len(expected_grads)
    for a, e in zip(grads, expected_grads):
        torch.testing.assert_close(a.cpu(), e, **TOL[dtype])
    assert torch_pjrt.metrics()["cpu_fallbacks"] == 0


def _square_sum(outputs):
    flat = outputs if isinstance(outputs, tuple) else (outputs,)
    total = 0
    for t in flat:
        for x in (t if isinstance(t, tuple) else (t,)):
            total = total + (x * x).sum()
    return total


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16])
def test_lstm_cell(dtype):
    torch.manual_seed(0)
    cell = nn.LSTMCell(5, 4)
    _compare(cell, [torch.randn(3, 5)], _square_sum, dtype)


@pytest.mark.parametrize("bias", [True, False])
def test_lstm_cell_with_state(bias):
    torch.manual_seed(1)
    cell = nn.LSTMCell(5, 4, bias=bias)

    class WithState(nn.Module):
        def __init__(self):
            super().__init__()
            self.cell = cell

        def forward(self, x, h, c):
            return self.cell(x, (h, c))

    _compare(WithState(), [torch.randn(3, 5), torch.randn(3, 4), torch.randn(3, 4)], _square_sum)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_gru_cell(bias, dtype):
    torch.manual_seed(2)
    cell = nn.GRUCell(5, 4, bias=bias)
    _compare(cell, [torch.randn(3, 5), torch.randn(3, 4)], _square_sum, dtype)


@pytest.mark.parametrize("kind", [nn.LSTM, nn.GRU])
@pytest.mark.parametrize("options", [dict(num_layers=2, batch_first=True),
                                     dict(bidirectional=True), dict(bias=False)])
def test_recurrent_layers(kind, options):
    torch.manual_seed(3)
    layer = kind(6, 5, **options)
    _compare(layer, [torch.randn(4, 3, 6)], _square_sum)


def test_lstm_with_projection_and_initial_state():
    torch.manual_seed(4)
    layer = nn.LSTM(6, 5, proj_size=3, num_layers=2)

    class WithState(nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = layer

        def forward(self, x, h, c):
            return self.layer(x, (h, c))

    _compare(WithState(), [torch.randn(4, 2, 6), torch.randn(2, 2, 3), torch.randn(2, 2, 5)],
             _square_sum)


def test_packed_sequence_lstm():
    torch.manual_seed(5)
    layer = nn.LSTM(3, 4)
    x = torch.randn(5, 3, 3)
    lengths = torch.tensor([5, 3, 2])

    class Packed(nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = layer

        def forward(self, x):
            packed = nn.utils.rnn.pack_padded_sequence(x, lengths)
            out, _ = self.layer(packed)
            return nn.utils.rnn.pad_packed_sequence(out)[0]

    _compare(Packed(), [x], _square_sum)


def test_lstm_trains_like_cpu():
    torch.manual_seed(6)
    lstm = nn.LSTM(4, 8, batch_first=True)
    head = nn.Linear(8, 2)
    device_lstm, device_head = copy.deepcopy(lstm).to(DEVICE), copy.deepcopy(head).to(DEVICE)
    x, y = torch.randn(6, 5, 4), torch.randint(0, 2, (6,))
    losses = {}
    for name, (l, h, dev) in {"cpu": (lstm, head, "cpu"),
                              DEVICE: (device_lstm, device_head, DEVICE)}.items():
        opt = torch.optim.AdamW(list(l.parameters()) + list(h.parameters()), lr=0.05)
        losses[name] = []
        for _ in range(6):
            opt.zero_grad()
            out, _ = l(x.to(dev))
            loss = nn.functional.cross_entropy(h(out[:, -1]), y.to(dev))
            loss.backward()
            opt.step()
            losses[name].append(loss.item())
    torch.testing.assert_close(torch.tensor(losses[DEVICE]), torch.tensor(losses["cpu"]),
                               rtol=1e-4, atol=1e-5)


def test_fused_cell_rejects_mismatched_shapes():
    if DEVICE == "cpu":
        pytest.skip("the fused cell is a device op")
    gates = torch.randn(3, 16, device=DEVICE)
    with pytest.raises(RuntimeError, match="_thnn_fused_lstm_cell.*batch"):
        torch.ops.aten._thnn_fused_lstm_cell(gates, gates, torch.randn(3, 5, device=DEVICE))
