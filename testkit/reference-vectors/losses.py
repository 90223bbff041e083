"""Adds one column per preference loss to expected.json, computed independently in float64.

The forward passes are those of the PyTorch anchor (shared/anchors/torch_dpo_step.py, plain
PyTorch eager, no prefstream code), run in float64 one sequence at a time (no padding). The
loss equations follow TRL's DPOTrainer (trl/trainer/dpo_trainer.py, July 2026), CPOTrainer
(simpo), ORPOTrainer and KTOTrainer, written here from their definitions, not shared with the
Java code. The five pairs of a folder form one batch (aot, aot_unpaired and sft read the batch).
Columns loss_k3_* and loss_k4_* hold, in row i, the loss of a ranking of K responses built from
pairs i and i+1 (see rankings()): Plackett-Luce, and pairwise losses over the implied pairs.

For an architecture the anchor does not run (llama3's rope scaling, qwen3, gemma3), it computes
the columns the existing log-prob columns determine (all but WPO, LD-DPO, KTO and the rankings').

Run (Debian's python3-torch):
  /usr/bin/python3 testkit/reference-vectors/losses.py --anchors ../shared/anchors testkit/reference-vectors/{gpt2,llama,llama3,qwen3,gemma3}
It checks that the float64 log-probs it computes match the existing *_logp columns (1e-6), then
rewrites expected.json with the loss columns named below.
"""
import argparse
import json
import math
import os
import sys

import torch
import torch.nn.functional as F

BETA = 0.1


def load(anchor, folder):
    cfg = json.load(open(os.path.join(folder, "config.json")))
    w = {k: v.double() for k, v in anchor.read_safetensors(os.path.join(folder, "model.safetensors")).items()}
    return cfg, w


def token_logps(anchor, model, prompt, response):
    """(per-token log-probs of the response, WPO's aligned log-probs of the response), float64."""
    cfg, w = model
    ids = torch.tensor([prompt + response])
    logits = anchor.forward(cfg, w, ids)[0, :-1]  # logits at t-1 score token t
    targets = ids[0, 1:]
    lp = torch.log_softmax(logits, -1).gather(1, targets[:, None])[:, 0]
    log_sum_sq = torch.logsumexp(2 * logits, -1) - 2 * torch.logsumexp(logits, -1)
    start = len(prompt) - 1
    return lp[start:], (lp - log_sum_sq)[start:]


def nls(x):  # -log sigmoid(x)
    return -F.logsigmoid(torch.as_tensor(x, dtype=torch.float64))


def sig(x):
    return torch.sigmoid(torch.as_tensor(x, dtype=torch.float64))


def pairwise(kind, pw, pl, rw, rl, nw, nl, mean_w, mean_l, eps=0.0, tau=0.05, gamma=0.5, lam=0.1, f="reverse_kl", coef=0.5):
    """One pair's loss (tensors over the batch), TRL's definitions."""
    b = BETA
    rho_w, rho_l = pw - rw, pl - rl
    if f == "reverse_kl":
        sw, sl = rho_w, rho_l
    elif f == "forward_kl":
        sw, sl = -torch.exp(-rho_w), -torch.exp(-rho_l)
    elif f == "js_divergence":
        sw, sl = F.logsigmoid(rho_w), F.logsigmoid(rho_l)
    else:
        sw = torch.exp(torch.clamp((coef - 1) * rho_w, max=80.0)) / (coef - 1)
        sl = torch.exp(torch.clamp((coef - 1) * rho_l, max=80.0)) / (coef - 1)
    x = b * (sw - sl)
    if kind == "sigmoid":
        return nls(x)
    if kind == "cdpo":
        return (1 - eps) * nls(x) + eps * nls(-x)
    if kind == "robust":
        return ((1 - eps) * nls(x) - eps * nls(-x)) / (1 - 2 * eps)
    if kind == "ipo":
        return (sw / nw - sl / nl - 1 / (2 * b)) ** 2
    if kind == "hinge":
        return torch.relu(1 - x)
    if kind == "exo_pair":
        return sig(x) * (F.logsigmoid(x) - math.log1p(-eps)) + sig(-x) * (F.logsigmoid(-x) - math.log(eps))
    if kind == "nca_pair":
        return nls(b * sw) + 0.5 * nls(-b * sw) + 0.5 * nls(-b * sl)
    if kind == "bco_pair":
        return nls(b * sw) + nls(-b * sl)
    if kind == "sppo_hard":
        return (sw - 0.5 / b) ** 2 + (sl + 0.5 / b) ** 2
    if kind == "aot":
        d = torch.sort(pw - pl).values - torch.sort(rw - rl).values
        return (1 - eps) * nls(b * d) + eps * nls(-b * d)
    if kind == "aot_unpaired":
        d = torch.sort(rho_w).values - torch.sort(rho_l).values
        return (1 - eps) * nls(b * d) + eps * nls(-b * d)
    if kind == "apo_zero":
        return (1 - sig(b * rho_w)) + sig(b * rho_l)
    if kind == "apo_down":
        return sig(b * rho_w) + (1 - sig(x))
    if kind == "discopop":
        m = sig(x / tau)
        return nls(x) * (1 - m) + torch.exp(-x) * m
    if kind == "sigmoid_norm":
        return nls(b * (sw / nw - sl / nl))
    if kind == "simpo":
        y = b * (mean_w - mean_l) - gamma
        return (1 - eps) * nls(y) + eps * nls(-y)
    if kind == "orpo":
        log_odds = (mean_w - mean_l) - (torch.log1p(-torch.exp(mean_w)) - torch.log1p(-torch.exp(mean_l)))
        return -lam * F.logsigmoid(log_odds)
    raise ValueError(kind)


def columns(anchor, folder):
    pairs = [json.loads(l) for l in open(os.path.join(folder, "pairs.jsonl")) if l.strip()]
    policy = load(anchor, os.path.join(folder, "policy"))
    reference = load(anchor, os.path.join(folder, "reference"))
    tok = {}
    for role, model in (("policy", policy), ("reference", reference)):
        for side in ("chosen", "rejected"):
            tok[role, side] = [token_logps(anchor, model, p["prompt_ids"], p[side + "_ids"]) for p in pairs]

    def sums(role, side, ld=1.0):
        out = []
        for (lp, _), (lw, _), (ll, _) in zip(tok[role, side], tok[role, "chosen"], tok[role, "rejected"]):
            shared = min(len(lw), len(ll))
            out.append(lp[:shared].sum() + ld * lp[shared:].sum())
        return torch.stack(out)

    pw, pl, rw, rl = sums("policy", "chosen"), sums("policy", "rejected"), sums("reference", "chosen"), sums("reference", "rejected")
    out = logp_columns(pairs, pw, pl, rw, rl)
    wpo_w = torch.stack([torch.exp(a.mean()) for _, a in tok["policy", "chosen"]])
    wpo_l = torch.stack([torch.exp(a.mean()) for _, a in tok["policy", "rejected"]])
    out["loss_sigmoid_wpo"] = nls(BETA * ((pw - rw) - (pl - rl))) * wpo_w * wpo_l
    out.update(kto_columns(anchor, pairs, policy, reference, pw, pl, rw, rl))
    # the same with the roles of the two models swapped, where z_ref > 0 and the clamp is not at work
    out.update({k + "_swapped": v for k, v in kto_columns(anchor, pairs, reference, policy, rw, rl, pw, pl).items()})
    # TRL's desirable_weight and undesirable_weight
    weighted = kto_columns(anchor, pairs, policy, reference, pw, pl, rw, rl, lambda_d=1.33, lambda_u=0.75)
    out.update({k + "_lambda_d1.33_lambda_u0.75": weighted[k] for k in ("loss_kto_chosen", "loss_kto_rejected")})
    ld_pw, ld_pl, ld_rw, ld_rl = (sums(r, s, ld=0.5) for r, s in (("policy", "chosen"), ("policy", "rejected"), ("reference", "chosen"), ("reference", "rejected")))
    out["loss_sigmoid_ld_alpha0.5"] = nls(BETA * ((ld_pw - ld_rw) - (ld_pl - ld_rl)))
    for k in (3, 4):
        out.update(ranking_columns(anchor, pairs, policy, reference, k))
    return pairs, (pw, pl, rw, rl), out


def rankings(pairs, k):
    """Row i's ranking of K responses, best first: prompt i with chosen i, rejected i, chosen i+1,
    rejected i+1 (the next pair's, the last row's next is the first), the first K of them."""
    n = len(pairs)
    return [(p["prompt_ids"], [p["chosen_ids"], p["rejected_ids"], pairs[(i + 1) % n]["chosen_ids"], pairs[(i + 1) % n]["rejected_ids"]][:k])
            for i, p in enumerate(pairs)]


def plackett_luce(s):
    """-sum_k log(exp(beta s_k) / sum_{j>=k} exp(beta s_j)) over each row of s (B, K)."""
    r = BETA * s
    return sum(torch.logsumexp(r[:, i:], 1) - r[:, i] for i in range(r.shape[1]))


def ranking_columns(anchor, pairs, policy, reference, k):
    """Rankings of K > 2 responses (see rankings()), columns loss_k<K>_*: Plackett-Luce (Rafailov et
    al. 2023, Appendix A.3) on the scores s = f'(rho), with mean log-probs, WPO (each row weighed by
    its best and worst responses' weights), LD-DPO (the shared length is the ranking's shortest
    response) and the forward KL; and a pairwise loss as the mean over the K(K-1)/2 implied pairs."""
    ranked = rankings(pairs, k)
    tok = {role: [[token_logps(anchor, model, prompt, r) for r in responses] for prompt, responses in ranked]
           for role, model in (("policy", policy), ("reference", reference))}
    n = torch.tensor([[float(len(r)) for r in responses] for _, responses in ranked], dtype=torch.float64)

    def sums(role, ld=1.0):
        rows = []
        for row in tok[role]:
            shared = min(len(lp) for lp, _ in row)
            rows.append(torch.stack([lp[:shared].sum() + ld * lp[shared:].sum() for lp, _ in row]))
        return torch.stack(rows)  # (B, K)

    p, r = sums("policy"), sums("reference")
    rho = p - r
    wpo = torch.stack([torch.stack([torch.exp(a.mean()) for _, a in row]) for row in tok["policy"]])

    def over_implied_pairs(kind):
        losses = [pairwise(kind, p[:, i], p[:, j], r[:, i], r[:, j], n[:, i], n[:, j], p[:, i] / n[:, i], p[:, j] / n[:, j])
                  for i in range(k) for j in range(i + 1, k)]
        return torch.stack(losses, 1).mean(1)

    pre = f"loss_k{k}_"
    return {
        pre + "plackett_luce": plackett_luce(rho),
        pre + "plackett_luce_mean": plackett_luce(p / n - r / n),
        pre + "plackett_luce_wpo": plackett_luce(rho) * wpo[:, 0] * wpo[:, -1],
        pre + "plackett_luce_ld_alpha0.5": plackett_luce(sums("policy", ld=0.5) - sums("reference", ld=0.5)),
        pre + "plackett_luce_forward_kl": plackett_luce(-torch.exp(-rho)),
        pre + "sigmoid_beta0.1": over_implied_pairs("sigmoid"),
        pre + "ipo_beta0.1": over_implied_pairs("ipo"),
    }


def logp_columns(pairs, pw, pl, rw, rl):
    """The columns that need only the summed log-probs and the responses' lengths."""
    nw = torch.tensor([float(len(p["chosen_ids"])) for p in pairs], dtype=torch.float64)
    nl = torch.tensor([float(len(p["rejected_ids"])) for p in pairs], dtype=torch.float64)
    mean_w, mean_l = pw / nw, pl / nl
    # TRL's sft is the cross-entropy over all chosen tokens of the batch, one number; each pair's
    # share -log pi(y_w) / mean(|y_w|) has that mean and says which pair contributes what
    sft = -pw / nw.mean()
    assert abs(sft.mean().item() - (-pw.sum() / nw.sum()).item()) < 1e-12

    def loss(kind, **kw):
        return pairwise(kind, pw, pl, rw, rl, nw, nl, mean_w, mean_l, **kw)

    return {
        "loss_sigmoid_beta0.1": loss("sigmoid"),
        "loss_cdpo_ls0.2_beta0.1": loss("cdpo", eps=0.2),
        "loss_robust_ls0.2": loss("robust", eps=0.2),
        "loss_ipo_beta0.1": loss("ipo"),
        "loss_hinge_beta0.1": loss("hinge"),
        "loss_exo_pair_ls0.001": loss("exo_pair", eps=1e-3),
        "loss_nca_pair": loss("nca_pair"),
        "loss_bco_pair": loss("bco_pair"),
        "loss_sppo_hard": loss("sppo_hard"),
        "loss_aot": loss("aot"),
        "loss_aot_ls0.1": loss("aot", eps=0.1),
        "loss_aot_unpaired": loss("aot_unpaired"),
        "loss_apo_zero": loss("apo_zero"),
        "loss_apo_down": loss("apo_down"),
        "loss_discopop_tau0.05": loss("discopop", tau=0.05),
        "loss_sft": sft,
        "loss_sigmoid_norm": loss("sigmoid_norm"),
        "loss_simpo_gamma0.5": loss("simpo", gamma=0.5),
        "loss_simpo_gamma0.5_ls0.1": loss("simpo", gamma=0.5, eps=0.1),
        "loss_orpo_lambda0.1": sft + loss("orpo", lam=0.1),
        "loss_mpo_0.8sigmoid_0.2bco_pair_1sft": 0.8 * loss("sigmoid") + 0.2 * loss("bco_pair") + 1.0 * sft,
        "loss_sigmoid_forward_kl": loss("sigmoid", f="forward_kl"),
        "loss_sigmoid_js_divergence": loss("sigmoid", f="js_divergence"),
        "loss_sigmoid_alpha_divergence0.5": loss("sigmoid", f="alpha_divergence", coef=0.5),
        # on mean log-probs the length-normalized losses do not divide again: the same values
        "loss_ipo_mean": loss("ipo"),
        "loss_sigmoid_norm_mean": loss("sigmoid_norm"),
        # RPO (Pang et al. 2024) on mean log-probs: the DPO term on per-token ratios plus alpha * (-log pi(y_w) / |y_w|)
        "loss_sigmoid_mean_rpo1": nls(BETA * ((pw / nw - rw / nw) - (pl / nl - rl / nl))) + 1.0 * (-pw / nw),
    }


def kto_columns(anchor, pairs, policy, reference, pw, pl, rw, rl, lambda_d=1.0, lambda_u=1.0):
    """KTO (TRL's KTOTrainer) on the ten responses as labelled examples, in the order chosen 0,
    rejected 0, chosen 1, ...: chosen desirable, rejected undesirable, one batch. z_ref pairs each
    prompt with the previous example's response (the first with the last's), no gradient, >= 0."""
    prompts = [p["prompt_ids"] for p in pairs for _ in (0, 1)]
    responses = [r for p in pairs for r in (p["chosen_ids"], p["rejected_ids"])]
    n = len(responses)
    mismatched = [(prompts[i], responses[(i - 1) % n]) for i in range(n)]
    kl_policy = torch.stack([token_logps(anchor, policy, pr, re)[0].sum() for pr, re in mismatched])
    kl_reference = torch.stack([token_logps(anchor, reference, pr, re)[0].sum() for pr, re in mismatched])
    z = torch.clamp((kl_policy - kl_reference).mean(), min=0)
    chosen = lambda_d * (1 - sig(BETA * ((pw - rw) - z)))
    rejected = lambda_u * (1 - sig(BETA * (z - (pl - rl))))
    return {"loss_kto_chosen": chosen, "loss_kto_rejected": rejected, "kto_kl": z * torch.ones_like(pw)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--anchors", required=True, help="folder of torch_dpo_step.py")
    parser.add_argument("folders", nargs="+")
    args = parser.parse_args()
    sys.path.insert(0, args.anchors)
    import torch_dpo_step as anchor

    torch.set_default_dtype(torch.float64)
    for folder in args.folders:
        path = os.path.join(folder, "expected.json")
        expected = json.load(open(path))
        configs = [json.load(open(os.path.join(folder, role, "config.json"))) for role in ("policy", "reference")]
        if any(c["model_type"] not in ("gpt2", "llama") or c.get("rope_scaling") for c in configs):
            # an architecture the anchor does not run: the columns its log-prob columns determine
            pairs = [json.loads(l) for l in open(os.path.join(folder, "pairs.jsonl")) if l.strip()]
            logps = [torch.tensor([e[name] for e in expected], dtype=torch.float64)
                     for name in ("policy_chosen_logp", "policy_rejected_logp", "reference_chosen_logp", "reference_rejected_logp")]
            cols = logp_columns(pairs, *logps)
        else:
            pairs, logps, cols = columns(anchor, folder)
        for i, (e, p) in enumerate(zip(expected, pairs)):
            assert e["id"] == p["id"]
            for name, value in zip(("policy_chosen_logp", "policy_rejected_logp", "reference_chosen_logp", "reference_rejected_logp"), logps):
                assert abs(e[name] - value[i].item()) < 1e-6 * max(1, abs(e[name])), (folder, e["id"], name, e[name], value[i].item())
            for name, value in cols.items():
                e[name] = value[i].item()
        json.dump(expected, open(path, "w"), indent=1)
        print(folder, len(cols), "loss columns")


if __name__ == "__main__":
    main()
