#!/usr/bin/python3
"""Writes the reference vectors of the llama3, qwen3 and gemma3 folders next to this script.

An independent float64 implementation (numpy only) of the Hugging Face forward passes of
LlamaForCausalLM with Llama 3.x rope scaling, Qwen3ForCausalLM and Gemma3ForCausalLM
(transformers' modeling_llama.py, modeling_qwen3.py, modeling_gemma3.py, modeling_rope_utils.py),
written from those files' equations for tiny random configs. Each family gets a policy (untied
head) and a reference (tied head), both with grouped-query attention, five preference pairs as
token ids, and expected.json in the format of the gpt2 and llama folders.

Weights are stored as float32; the forward pass runs in float64 on exactly those values.
Run with Debian's python3 and python3-numpy:  /usr/bin/python3 generate_families.py
The output is deterministic: rerunning it rewrites identical files.
"""
import json
import math
import os
import struct

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
VOCAB = 60


# ---------------------------------------------------------------- safetensors, by the format's spec

def write_safetensors(path, tensors):
    header, offset, blobs = {}, 0, []
    for name in sorted(tensors):
        data = np.ascontiguousarray(tensors[name], dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header, separators=(",", ":"))
    text += " " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text.encode())
        for blob in blobs:
            f.write(blob)


# ---------------------------------------------------------------- the math, float64

def rms_norm(x, w, eps, one_plus):
    y = x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps)
    return y * (1.0 + w) if one_plus else y * w


def inverse_frequencies(theta, head_dim, scaling):
    """modeling_rope_utils: default, linear and llama3."""
    inv = 1.0 / theta ** (np.arange(0, head_dim, 2, dtype=np.float64) / head_dim)
    scaling = scaling or {}
    kind = scaling.get("rope_type", scaling.get("type", "default"))  # "type": the older spelling
    if kind == "linear":
        return inv / scaling["factor"]
    if kind == "llama3":
        factor, low, high = scaling["factor"], scaling["low_freq_factor"], scaling["high_freq_factor"]
        old = scaling["original_max_position_embeddings"]
        wavelen = 2 * math.pi / inv
        out = np.where(wavelen > old / low, inv / factor, inv)
        smooth = (old / wavelen - low) / (high - low)
        smoothed = (1 - smooth) * out / factor + smooth * out
        medium = ~(wavelen < old / high) & ~(wavelen > old / low)
        return np.where(medium, smoothed, out)
    assert kind == "default", kind
    return inv


def rotate(x, inv):
    """x (heads, T, hd): rotate-half rotary embedding at positions 0..T-1."""
    t = x.shape[1]
    freqs = np.outer(np.arange(t, dtype=np.float64), inv)
    emb = np.concatenate([freqs, freqs], axis=-1)
    half = x.shape[-1] // 2
    rotated = np.concatenate([-x[..., half:], x[..., :half]], axis=-1)
    return x * np.cos(emb) + rotated * np.sin(emb)


def linear(x, w, name):
    y = x @ w[name + ".weight"].T
    if name + ".bias" in w:
        y = y + w[name + ".bias"]
    return y


def attention(x, w, p, cfg, inv, window, scale, qk_norm):
    t = x.shape[0]
    nh, nkv, hd = cfg["num_attention_heads"], cfg["num_key_value_heads"], head_dim(cfg)
    q = linear(x, w, p + "q_proj").reshape(t, nh, hd).transpose(1, 0, 2)
    k = linear(x, w, p + "k_proj").reshape(t, nkv, hd).transpose(1, 0, 2)
    v = linear(x, w, p + "v_proj").reshape(t, nkv, hd).transpose(1, 0, 2)
    if qk_norm is not None:
        q = rms_norm(q, w[p + "q_norm.weight"], cfg["rms_norm_eps"], qk_norm == "one_plus")
        k = rms_norm(k, w[p + "k_norm.weight"], cfg["rms_norm_eps"], qk_norm == "one_plus")
    q, k = rotate(q, inv), rotate(k, inv)
    group = nh // nkv
    k, v = np.repeat(k, group, axis=0), np.repeat(v, group, axis=0)
    scores = q @ k.transpose(0, 2, 1) * scale
    i, j = np.arange(t)[:, None], np.arange(t)[None, :]
    visible = j <= i
    if window is not None:
        visible = visible & (j > i - window)
    scores = np.where(visible, scores, -np.inf)
    scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
    y = (scores / scores.sum(axis=-1, keepdims=True)) @ v
    return linear(y.transpose(1, 0, 2).reshape(t, nh * hd), w, p + "o_proj")


def silu(x):
    return x / (1 + np.exp(-x))


def gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))


def mlp(x, w, p, act):
    return linear(act(linear(x, w, p + "gate_proj")) * linear(x, w, p + "up_proj"), w, p + "down_proj")


def head_dim(cfg):
    return cfg.get("head_dim") or cfg["hidden_size"] // cfg["num_attention_heads"]


def head(x, w, cfg):
    return x @ (w["model.embed_tokens.weight"] if cfg["tie_word_embeddings"] else w["lm_head.weight"]).T


def llama_logits(ids, w, cfg):
    """LlamaForCausalLM and Qwen3ForCausalLM (q_norm/k_norm)."""
    eps = cfg["rms_norm_eps"]
    inv = inverse_frequencies(cfg["rope_theta"], head_dim(cfg), cfg.get("rope_scaling"))
    qk_norm = "weight" if cfg["model_type"] == "qwen3" else None
    x = w["model.embed_tokens.weight"][ids]
    for layer in range(cfg["num_hidden_layers"]):
        p = "model.layers.%d." % layer
        h = rms_norm(x, w[p + "input_layernorm.weight"], eps, False)
        x = x + attention(h, w, p + "self_attn.", cfg, inv, None, head_dim(cfg) ** -0.5, qk_norm)
        x = x + mlp(rms_norm(x, w[p + "post_attention_layernorm.weight"], eps, False), w, p + "mlp.", silu)
    return head(rms_norm(x, w["model.norm.weight"], eps, False), w, cfg)


def gemma3_layer_types(cfg):
    if "layer_types" in cfg:
        return cfg["layer_types"]
    pattern = cfg.get("sliding_window_pattern", 6)
    return ["sliding_attention" if (i + 1) % pattern else "full_attention" for i in range(cfg["num_hidden_layers"])]


def gemma3_logits(ids, w, cfg):
    """Gemma3ForCausalLM: sandwich norms with (1 + w), scaled embeddings, local and global layers."""
    eps, hd = cfg["rms_norm_eps"], head_dim(cfg)
    global_inv = inverse_frequencies(cfg["rope_theta"], hd, cfg.get("rope_scaling"))
    local_inv = inverse_frequencies(cfg["rope_local_base_freq"], hd, None)
    scale = cfg["query_pre_attn_scalar"] ** -0.5
    x = w["model.embed_tokens.weight"][ids] * math.sqrt(cfg["hidden_size"])
    for layer, kind in enumerate(gemma3_layer_types(cfg)):
        p = "model.layers.%d." % layer
        sliding = kind == "sliding_attention"
        inv, window = (local_inv, cfg["sliding_window"]) if sliding else (global_inv, None)
        h = rms_norm(x, w[p + "input_layernorm.weight"], eps, True)
        h = attention(h, w, p + "self_attn.", cfg, inv, window, scale, "one_plus")
        x = x + rms_norm(h, w[p + "post_attention_layernorm.weight"], eps, True)
        h = mlp(rms_norm(x, w[p + "pre_feedforward_layernorm.weight"], eps, True), w, p + "mlp.", gelu_tanh)
        x = x + rms_norm(h, w[p + "post_feedforward_layernorm.weight"], eps, True)
    logits = head(rms_norm(x, w["model.norm.weight"], eps, True), w, cfg)
    cap = cfg.get("final_logit_softcapping")
    return logits if cap is None else cap * np.tanh(logits / cap)


# ---------------------------------------------------------------- tiny random models

def random_weights(cfg, rng):
    d, inter, hd = cfg["hidden_size"], cfg["intermediate_size"], head_dim(cfg)
    nh, nkv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    gemma = cfg["model_type"] == "gemma3_text"
    shapes = {"model.embed_tokens.weight": (VOCAB, d), "model.norm.weight": (d,)}
    norms = ["input_layernorm", "post_attention_layernorm"]
    if gemma:
        norms += ["pre_feedforward_layernorm", "post_feedforward_layernorm"]
    for layer in range(cfg["num_hidden_layers"]):
        p = "model.layers.%d." % layer
        for n in norms:
            shapes[p + n + ".weight"] = (d,)
        shapes[p + "self_attn.q_proj.weight"] = (nh * hd, d)
        shapes[p + "self_attn.k_proj.weight"] = (nkv * hd, d)
        shapes[p + "self_attn.v_proj.weight"] = (nkv * hd, d)
        shapes[p + "self_attn.o_proj.weight"] = (d, nh * hd)
        if cfg["model_type"] in ("qwen3", "gemma3_text"):
            shapes[p + "self_attn.q_norm.weight"] = (hd,)
            shapes[p + "self_attn.k_norm.weight"] = (hd,)
        shapes[p + "mlp.gate_proj.weight"] = (inter, d)
        shapes[p + "mlp.up_proj.weight"] = (inter, d)
        shapes[p + "mlp.down_proj.weight"] = (d, inter)
    if not cfg["tie_word_embeddings"]:
        shapes["lm_head.weight"] = (VOCAB, d)
    weights = {}
    for name in sorted(shapes):
        shape = shapes[name]
        if len(shape) == 1:  # a norm's gain: around 1 either way
            values = rng.normal(0, 0.2, shape) + (0.0 if gemma else 1.0)
        else:  # large enough that positions, masks and norms all move the result
            values = rng.normal(0, 0.8 / math.sqrt(shape[1]) if name != "model.embed_tokens.weight" else 0.5, shape)
        weights[name] = values.astype(np.float32)
    return weights


def config(model_type, **fields):
    base = {"model_type": model_type, "vocab_size": VOCAB, "hidden_size": 32, "intermediate_size": 48,
            "num_hidden_layers": 2, "num_attention_heads": 4, "rms_norm_eps": 1e-6,
            "max_position_embeddings": 32, "torch_dtype": "float32"}
    base.update(fields)
    return base


FAMILIES = {
    # Llama 3.1-style rope scaling; head_dim 8 and original_max_position_embeddings 64 put one frequency
    # in each band: kept (wavelength < 16), blended (16..64) and divided by the factor (> 64)
    "llama3": {
        "logits": llama_logits,
        "policy": config("llama", architectures=["LlamaForCausalLM"], num_key_value_heads=2, rope_theta=10000.0,
                         tie_word_embeddings=False, hidden_act="silu",
                         rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                       "high_freq_factor": 4.0, "original_max_position_embeddings": 64}),
        "reference": config("llama", architectures=["LlamaForCausalLM"], num_key_value_heads=1, rope_theta=500000.0,
                            tie_word_embeddings=True, hidden_act="silu",
                            rope_scaling={"type": "linear", "factor": 4.0}),
    },
    # Qwen3: q/k norms, an explicit head_dim that is not hidden / heads
    "qwen3": {
        "logits": llama_logits,
        "policy": config("qwen3", architectures=["Qwen3ForCausalLM"], num_key_value_heads=2, head_dim=16,
                         rope_theta=1000000.0, tie_word_embeddings=False, attention_bias=False, hidden_act="silu",
                         use_sliding_window=False, sliding_window=None),
        "reference": config("qwen3", architectures=["Qwen3ForCausalLM"], num_key_value_heads=1, head_dim=12,
                            rope_theta=10000.0, tie_word_embeddings=True, attention_bias=False, hidden_act="silu"),
    },
    # Gemma 3: windows shorter than the pairs, both ways of naming the layer kinds, a soft cap
    "gemma3": {
        "logits": gemma3_logits,
        "policy": config("gemma3_text", architectures=["Gemma3ForCausalLM"], num_hidden_layers=3, num_key_value_heads=2,
                         head_dim=16, query_pre_attn_scalar=24, rope_theta=1000000.0, rope_local_base_freq=10000.0,
                         rope_scaling={"rope_type": "linear", "factor": 2.0}, sliding_window=4,
                         layer_types=["sliding_attention", "full_attention", "sliding_attention"],
                         final_logit_softcapping=5.0, attn_logit_softcapping=None,
                         hidden_activation="gelu_pytorch_tanh", tie_word_embeddings=False),
        "reference": config("gemma3_text", architectures=["Gemma3ForCausalLM"], num_key_value_heads=1, head_dim=8,
                            query_pre_attn_scalar=8, rope_theta=1000000.0, rope_local_base_freq=10000.0,
                            rope_scaling=None, sliding_window=3, sliding_window_pattern=2,
                            hidden_activation="gelu_pytorch_tanh", tie_word_embeddings=True),
    },
}


def log_softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def response_logp(logits_fn, w, cfg, prompt, response):
    ids = np.array(prompt + response)
    logp = log_softmax(logits_fn(ids, w, cfg))
    return float(sum(logp[len(prompt) + i - 1, tok] for i, tok in enumerate(response)))


def log_sigmoid(z):
    return -np.logaddexp(0.0, -z)


def write_family(name, family, seed):
    out = os.path.join(HERE, name)
    rng = np.random.default_rng(seed)
    weights = {}
    for role in ("policy", "reference"):
        cfg = family[role]
        os.makedirs(os.path.join(out, role), exist_ok=True)
        with open(os.path.join(out, role, "config.json"), "w") as f:
            json.dump(cfg, f, indent=2)
            f.write("\n")
        weights[role] = random_weights(cfg, rng)
        write_safetensors(os.path.join(out, role, "model.safetensors"), weights[role])
    pairs = []
    for i in range(5):
        prompt = [int(t) for t in rng.integers(0, VOCAB, int(rng.integers(1, 6)))]
        chosen = [int(t) for t in rng.integers(0, VOCAB, int(rng.integers(2, 9)))]
        rejected = [int(t) for t in rng.integers(0, VOCAB, int(rng.integers(2, 9)))]
        pairs.append({"id": "%s-%d" % (name, i), "prompt_ids": prompt, "chosen_ids": chosen, "rejected_ids": rejected})
    with open(os.path.join(out, "pairs.jsonl"), "w") as f:
        for pair in pairs:
            f.write(json.dumps(pair) + "\n")
    expected = []
    for pair in pairs:
        row = {"id": pair["id"]}
        for role in ("policy", "reference"):
            w = {k: v.astype(np.float64) for k, v in weights[role].items()}
            for side in ("chosen", "rejected"):
                row["%s_%s_logp" % (role, side)] = response_logp(
                    family["logits"], w, family[role], pair["prompt_ids"], pair[side + "_ids"])
        delta = (row["policy_chosen_logp"] - row["policy_rejected_logp"]) - (
            row["reference_chosen_logp"] - row["reference_rejected_logp"])
        row["loss_sigmoid_beta0.1"] = float(-log_sigmoid(0.1 * delta))
        # TRL's IPO: log-ratios per response token (losses.py adds the other loss columns)
        per_token = ((row["policy_chosen_logp"] - row["reference_chosen_logp"]) / len(pair["chosen_ids"])
                     - (row["policy_rejected_logp"] - row["reference_rejected_logp"]) / len(pair["rejected_ids"]))
        row["loss_ipo_beta0.1"] = float((per_token - 1 / (2 * 0.1)) ** 2)
        row["loss_hinge_beta0.1"] = float(max(0.0, 1 - 0.1 * delta))
        row["loss_cdpo_ls0.2_beta0.1"] = float(-0.8 * log_sigmoid(0.1 * delta) - 0.2 * log_sigmoid(-0.1 * delta))
        expected.append(row)
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    for index, (family_name, spec) in enumerate(sorted(FAMILIES.items())):
        write_family(family_name, spec, seed=1000 + index)
