"""Whole models as users run them, built in code from tiny configs (nothing is
downloaded): forward and backward match CPU, AdamW training follows CPU's loss
curve, greedy generation gives CPU's tokens, tied weights stay tied, and
nothing falls back to the CPU."""
import copy

import pytest
import torch
from torch import nn

import torch_pjrt
from op_testing import DEVICE

transformers = pytest.importorskip("transformers")
transformers.logging.set_verbosity_error()

pytestmark = pytest.mark.skipif(DEVICE == "cpu", reason="compares the device with CPU")


def _gpt2(seed=0):
    torch.manual_seed(seed)
    config = transformers.GPT2Config(
        vocab_size=64, n_positions=32, n_embd=32, n_layer=2, n_head=4, bos_token_id=0,
        eos_token_id=0, pad_token_id=0, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)
    return transformers.GPT2LMHeadModel(config)


def _tokens(seed, shape=(2, 12), vocab=64):
    return torch.randint(1, vocab, shape, generator=torch.Generator().manual_seed(seed))


def _no_fallbacks():
    return {k: v for k, v in torch_pjrt.metrics().items() if k.startswith("cpu_fallback::")}


def _train(model, batches, device, steps, lr=3e-3):
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    losses = []
    for step in range(steps):
        ids = batches[step % len(batches)].to(device)
        optimizer.zero_grad()
        loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def test_gpt2_keeps_lm_head_tied_through_moves():
    model = _gpt2()
    count = len(list(model.parameters()))
    model.to(DEVICE)
    assert model.lm_head.weight is model.transformer.wte.weight
    assert len(list(model.parameters())) == count
    model.cpu()
    assert model.lm_head.weight is model.transformer.wte.weight


def test_gpt2_forward_and_backward_match_cpu():
    cpu_model = _gpt2()
    model = copy.deepcopy(cpu_model).to(DEVICE)
    ids = _tokens(1)
    torch_pjrt.reset_metrics()
    out = model(input_ids=ids.to(DEVICE), labels=ids.to(DEVICE))
    out.loss.backward()
    expected = cpu_model(input_ids=ids, labels=ids)
    expected.loss.backward()
    torch.testing.assert_close(out.logits.detach().cpu(), expected.logits.detach(),
                               rtol=1e-4, atol=1e-5)
    for (name, p), q in zip(model.named_parameters(), cpu_model.parameters()):
        torch.testing.assert_close(p.grad.cpu(), q.grad, rtol=1e-4, atol=1e-5, msg=name)
    assert _no_fallbacks() == {}


def test_gpt2_trains_like_cpu_for_20_adamw_steps():
    cpu_model = _gpt2(seed=3)
    model = copy.deepcopy(cpu_model).to(DEVICE)
    batches = [_tokens(10 + i) for i in range(4)]
    torch_pjrt.reset_metrics()
    losses = _train(model, batches, DEVICE, steps=20)
    expected = _train(cpu_model, batches, "cpu", steps=20)
    assert expected[-1] < expected[0]
    torch.testing.assert_close(torch.tensor(losses), torch.tensor(expected), rtol=2e-4, atol=2e-4)
    assert model.lm_head.weight is model.transformer.wte.weight
    assert _no_fallbacks() == {}


def test_gpt2_greedy_generate_with_kv_cache_matches_cpu():
    cpu_model = _gpt2(seed=4).eval()
    model = copy.deepcopy(cpu_model).to(DEVICE)
    prompt = _tokens(5, shape=(2, 5))
    torch_pjrt.reset_metrics()
    generated = model.generate(prompt.to(DEVICE), max_new_tokens=8, do_sample=False,
                               use_cache=True)
    expected = cpu_model.generate(prompt, max_new_tokens=8, do_sample=False, use_cache=True)
    assert generated.cpu().tolist() == expected.tolist()
    assert _no_fallbacks() == {}


def test_t5_keeps_shared_embedding_tied_and_trains_it():
    torch.manual_seed(6)
    config = transformers.T5Config(
        vocab_size=64, d_model=16, d_kv=4, d_ff=32, num_layers=2, num_heads=2,
        decoder_start_token_id=0, pad_token_id=0, eos_token_id=1, dropout_rate=0.0)
    cpu_model = transformers.T5ForConditionalGeneration(config)
    count = len(list(cpu_model.parameters()))
    model = copy.deepcopy(cpu_model).to(DEVICE)
    assert len(list(model.parameters())) == count
    ids = _tokens(7, shape=(2, 6))
    torch_pjrt.reset_metrics()
    loss = model(input_ids=ids.to(DEVICE), labels=ids.to(DEVICE)).loss
    loss.backward()
    expected = cpu_model(input_ids=ids, labels=ids).loss
    expected.backward()
    torch.testing.assert_close(loss.detach().cpu(), expected.detach(), rtol=1e-5, atol=1e-6)
    assert model.shared.weight.grad is not None
    torch.testing.assert_close(model.shared.weight.grad.cpu(), cpu_model.shared.weight.grad,
                               rtol=1e-4, atol=1e-6)
    assert _no_fallbacks() == {}


def test_transformer_encoder_trains_like_cpu():
    torch.manual_seed(8)
    layer = nn.TransformerEncoderLayer(16, 4, 32, dropout=0.0, batch_first=True)
    cpu_model = nn.Sequential(nn.TransformerEncoder(layer, 2, enable_nested_tensor=False),
                              nn.Linear(16, 3))
    model = copy.deepcopy(cpu_model).to(DEVICE)
    x = torch.randn(4, 7, 16)
    y = torch.randint(0, 3, (4,))
    mask = nn.Transformer.generate_square_subsequent_mask(7)
    torch_pjrt.reset_metrics()
    curves = []
    for m, device in ((model, DEVICE), (cpu_model, "cpu")):
        optimizer = torch.optim.AdamW(m.parameters(), lr=1e-2)
        losses = []
        for _ in range(8):
            optimizer.zero_grad()
            hidden = m[0](x.to(device), mask=mask.to(device), is_causal=True)
            loss = nn.functional.cross_entropy(m[1](hidden[:, -1]), y.to(device))
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        curves.append(losses)
    torch.testing.assert_close(torch.tensor(curves[0]), torch.tensor(curves[1]),
                               rtol=1e-4, atol=1e-5)
    with torch.no_grad():  # eval takes PyTorch's fused fast path where it can
        model.eval(), cpu_model.eval()
        torch.testing.assert_close(model[0](x.to(DEVICE)).cpu(), cpu_model[0](x),
                                   rtol=1e-4, atol=1e-5)
    assert _no_fallbacks() == {}


@pytest.mark.parametrize("masks", ["none", "key_padding", "attn_and_key_padding"])
def test_multihead_attention_inference_fast_path_matches_cpu(masks):
    torch.manual_seed(9)
    cpu_attention = nn.MultiheadAttention(16, 4, batch_first=True).eval()
    attention = copy.deepcopy(cpu_attention).to(DEVICE)
    x = torch.randn(3, 5, 16)
    kwargs = {}
    if masks != "none":
        kwargs["key_padding_mask"] = torch.tensor([[False] * 5, [False] * 3 + [True] * 2,
                                                   [False] * 4 + [True]])
    if masks == "attn_and_key_padding":
        kwargs["attn_mask"] = torch.triu(torch.ones(5, 5, dtype=torch.bool), 1)
    torch_pjrt.reset_metrics()
    with torch.no_grad():
        out, weights = attention(x.to(DEVICE), x.to(DEVICE), x.to(DEVICE),
                                 **{k: v.to(DEVICE) for k, v in kwargs.items()})
        expected, expected_weights = cpu_attention(x, x, x, **kwargs)
    torch.testing.assert_close(out.cpu(), expected, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(weights.cpu(), expected_weights, rtol=1e-4, atol=1e-5)
    assert _no_fallbacks() == {}
