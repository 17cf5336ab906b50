"""Moving modules between CPU and the device keeps Parameter identity, as on CUDA:
tied weights stay tied, and optimizers and hooks made before the move keep working."""
import copy
import io

import pytest
import torch
from torch import nn

from op_testing import DEVICE

pytestmark = pytest.mark.skipif(DEVICE == "cpu", reason="moves between two devices")


class TiedLM(nn.Module):
    """An embedding whose output head shares its weight, as GPT-2 and T5 do."""

    def __init__(self, vocab=11, width=6):
        super().__init__()
        self.embed = nn.Embedding(vocab, width)
        self.mix = nn.Linear(width, width)
        self.head = nn.Linear(width, vocab, bias=False)
        self.head.weight = self.embed.weight

    def forward(self, tokens):
        return self.head(torch.tanh(self.mix(self.embed(tokens))))


def _tokens(device):
    return torch.tensor([[1, 4, 7], [3, 0, 10]], device=device)


def test_shallow_copy_types_are_compatible_both_ways():
    cpu = torch.randn(3)
    tpu = cpu.to(DEVICE)
    assert torch._has_compatible_shallow_copy_type(cpu, tpu)
    assert torch._has_compatible_shallow_copy_type(tpu, cpu)
    assert torch._has_compatible_shallow_copy_type(tpu, tpu)
    # Sparse tensors keep PyTorch's own answer.
    assert not torch._has_compatible_shallow_copy_type(tpu, cpu.to_sparse())


@pytest.mark.parametrize("move", ["to", "tpu"])
def test_move_keeps_parameter_objects_and_ties(move):
    model = TiedLM()
    before = {name: p for name, p in model.named_parameters()}
    moved = model.to(DEVICE) if move == "to" else model.tpu()
    assert moved is model
    after = dict(model.named_parameters())
    assert after.keys() == before.keys()
    assert all(after[name] is before[name] for name in before)
    assert model.head.weight is model.embed.weight
    assert len(list(model.parameters())) == 3  # the tie counts once
    assert all(p.device.type == DEVICE for p in model.parameters())
    model.cpu()
    assert model.head.weight is model.embed.weight
    assert all(after[name] is p for name, p in model.named_parameters())
    assert all(p.device.type == "cpu" for p in model.parameters())


def test_param_data_assignment_across_devices():
    p = nn.Parameter(torch.randn(2, 3))
    value = torch.randn(2, 3)
    p.data = value.to(DEVICE)
    assert p.device.type == DEVICE and isinstance(p, nn.Parameter) and p.requires_grad
    torch.testing.assert_close(p.detach().cpu(), value)


def test_tied_weight_gets_both_gradients_and_trains_like_cpu():
    torch.manual_seed(0)
    cpu_model = TiedLM()
    model = copy.deepcopy(cpu_model).to(DEVICE)
    assert model.head.weight is model.embed.weight
    for m, device in ((cpu_model, "cpu"), (model, DEVICE)):
        opt = torch.optim.AdamW(m.parameters(), lr=0.05)
        for _ in range(3):
            opt.zero_grad()
            logits = m(_tokens(device))
            loss = nn.functional.cross_entropy(logits.flatten(0, 1), _tokens(device).flatten())
            loss.backward()
            opt.step()
    for (name, p), q in zip(model.named_parameters(), cpu_model.parameters()):
        torch.testing.assert_close(p.detach().cpu(), q.detach(), rtol=1e-5, atol=1e-6, msg=name)
    assert model.head.weight is model.embed.weight


def test_optimizer_created_before_the_move_updates_the_moved_parameters():
    torch.manual_seed(1)
    reference = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    model = copy.deepcopy(reference)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    ref_opt = torch.optim.SGD(reference.parameters(), lr=0.1, momentum=0.9)
    model.to(DEVICE)
    x = torch.randn(5, 4)
    for m, o, inp in ((model, opt, x.to(DEVICE)), (reference, ref_opt, x)):
        for _ in range(2):
            o.zero_grad()
            m(inp).square().sum().backward()
            o.step()
    assert all(p.device.type == DEVICE for p in opt.param_groups[0]["params"])
    assert all(opt.state[p]["momentum_buffer"].device.type == DEVICE for p in model.parameters())
    for p, q in zip(model.parameters(), reference.parameters()):
        torch.testing.assert_close(p.detach().cpu(), q.detach(), rtol=1e-5, atol=1e-6)


def test_hooks_registered_before_the_move_still_fire():
    model = nn.Linear(3, 2)
    seen = []
    model.weight.register_hook(lambda g: seen.append(g.device.type))
    model.to(DEVICE)
    model(torch.randn(4, 3, device=DEVICE)).sum().backward()
    assert seen == [DEVICE]


def test_register_parameter_and_buffers_move_in_place():
    module = nn.Module()
    module.register_parameter("scale", nn.Parameter(torch.ones(3)))
    module.register_buffer("count", torch.zeros(2, dtype=torch.int64))
    scale = module.scale
    module.to(DEVICE)
    assert module.scale is scale and module.scale.device.type == DEVICE
    assert module.count.device.type == DEVICE
    module.cpu()
    assert module.scale is scale and module.count.device.type == "cpu"


def test_grad_moves_with_its_parameter():
    model = nn.Linear(3, 2)
    model(torch.randn(4, 3)).sum().backward()
    grad = model.weight.grad.clone()
    model.to(DEVICE)
    assert model.weight.grad.device.type == DEVICE
    torch.testing.assert_close(model.weight.grad.cpu(), grad)


def test_state_dict_round_trips_between_devices():
    torch.manual_seed(2)
    model = TiedLM().to(DEVICE)
    state = model.state_dict()
    assert all(v.device.type == DEVICE for v in state.values())
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    on_cpu = TiedLM()
    on_cpu.load_state_dict(torch.load(buffer, map_location="cpu"))
    assert on_cpu.head.weight is on_cpu.embed.weight
    for (name, p), q in zip(model.state_dict().items(), on_cpu.state_dict().values()):
        torch.testing.assert_close(p.cpu(), q, msg=name)
    # Loading a CPU state into a device module copies into its parameters in place.
    target = TiedLM().to(DEVICE)
    params = list(target.parameters())
    target.load_state_dict(on_cpu.state_dict())
    assert list(target.parameters()) == params
    assert target.head.weight is target.embed.weight
    out, expected = target(_tokens(DEVICE)), on_cpu(_tokens("cpu"))
    torch.testing.assert_close(out.detach().cpu(), expected.detach(), rtol=1e-5, atol=1e-6)
