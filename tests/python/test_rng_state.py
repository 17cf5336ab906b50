"""The device's RNG state can be saved and restored as with torch.cuda: what
torch.random.fork_rng and activation checkpointing (torch.utils.checkpoint,
which recomputes dropout masks in the backward pass) rely on."""
import pytest
import torch
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint

from op_testing import DEVICE

needs_backend = pytest.mark.skipif(DEVICE == "cpu", reason="needs the torch_pjrt backend")


@needs_backend
def test_a_restored_state_repeats_the_same_numbers():
    torch.manual_seed(0)
    state = torch.tpu.get_rng_state()
    assert state.dtype == torch.uint8 and state.device.type == "cpu"
    first = torch.rand(5, device=DEVICE).cpu()
    torch.tpu.set_rng_state(state)
    assert torch.equal(torch.rand(5, device=DEVICE).cpu(), first)
    states = torch.tpu.get_rng_state_all()
    again = torch.randn(3, device=DEVICE).cpu()
    torch.tpu.set_rng_state_all(states)
    assert torch.equal(torch.randn(3, device=DEVICE).cpu(), again)


@needs_backend
def test_fork_rng_leaves_the_device_stream_where_it_was():
    torch.manual_seed(3)
    with torch.random.fork_rng(device_type="tpu"):
        inside = torch.rand(4, device=DEVICE).cpu()
    assert torch.equal(torch.rand(4, device=DEVICE).cpu(), inside)


@needs_backend
def test_a_bad_state_raises():
    with pytest.raises(RuntimeError, match="16 bytes"):
        torch.tpu.set_rng_state(torch.zeros(3, dtype=torch.uint8))


@needs_backend
@pytest.mark.parametrize("reentrant", [False, True], ids=["non_reentrant", "reentrant"])
def test_checkpointed_dropout_recomputes_the_same_mask(reentrant):
    torch.manual_seed(1)
    block = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.GELU(), torch.nn.Linear(16, 8)).to(DEVICE)
    x = torch.randn(4, 8, device=DEVICE, requires_grad=True)

    def forward(inputs):
        return F.dropout(block(inputs), 0.5, training=True)

    def loss_and_grads(run):
        torch.manual_seed(7)
        out = run(x)
        out.square().sum().backward()
        grads = [x.grad.cpu()] + [p.grad.cpu() for p in block.parameters()]
        x.grad = None
        block.zero_grad(set_to_none=True)
        return out.detach().cpu(), grads

    plain_out, plain_grads = loss_and_grads(forward)
    out, grads = loss_and_grads(lambda t: checkpoint(forward, t, use_reentrant=reentrant))
    assert torch.equal(out, plain_out)
    for got, want in zip(grads, plain_grads):
        torch.testing.assert_close(got, want, rtol=0, atol=0)
