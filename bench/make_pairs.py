"""Writes a deterministic pairs file (token ids) for `prefstream bench step` and the PyTorch anchor.

Usage: python3 bench/make_pairs.py --vocab 512 --count 64 --prompt 24 --response 40 --out bench-out/pairs.jsonl
Lengths vary by up to a quarter around the given ones, so batches are padded as in real traffic;
--prompt-range A-B / --response-range A-B draw them uniformly from A..B instead.
"""
import argparse
import json
import random

ap = argparse.ArgumentParser()
ap.add_argument("--vocab", type=int, default=512)
ap.add_argument("--count", type=int, default=64)
ap.add_argument("--prompt", type=int, default=24)
ap.add_argument("--response", type=int, default=40)
ap.add_argument("--prompt-range", help="A-B: prompt lengths drawn uniformly from A..B")
ap.add_argument("--response-range", help="A-B: response lengths drawn uniformly from A..B")
ap.add_argument("--seed", type=int, default=0)
ap.add_argument("--out", required=True)
a = ap.parse_args()
rng = random.Random(a.seed)


def seq(n, between=None):
    if between:
        low, high = map(int, between.split("-"))
        n = rng.randint(low, high)
    else:
        n = max(1, n + rng.randint(-n // 4, n // 4))
    return [rng.randrange(a.vocab) for _ in range(n)]


with open(a.out, "w") as f:
    for i in range(a.count):
        f.write(json.dumps({"id": "bench-%d" % i, "prompt_ids": seq(a.prompt, a.prompt_range),
                            "chosen_ids": seq(a.response, a.response_range),
                            "rejected_ids": seq(a.response, a.response_range)}) + "\n")
