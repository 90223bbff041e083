#!/usr/bin/env python3
"""Sums a PyTorch profiler trace (Chrome JSON, from `bench step --profile FILE` or torch.autograd.profiler)
per operator: self time (its own time, nested operators' taken out), calls, and the top-level total.
Usage: bench/ops.py TRACE.json [--shapes] [--top N]"""
import argparse
import collections
import json

ap = argparse.ArgumentParser()
ap.add_argument("trace")
ap.add_argument("--shapes", action="store_true", help="one line per operator and input shapes")
ap.add_argument("--top", type=int, default=30)
a = ap.parse_args()
events = json.load(open(a.trace))
if isinstance(events, dict):
    events = events.get("traceEvents", [])
by_thread = collections.defaultdict(list)
for e in events:
    if e.get("ph") == "X":
        by_thread[e["tid"]].append(e)
self_us, calls, children = collections.Counter(), collections.Counter(), collections.Counter()
top_level_us, top_level_calls = 0.0, 0
for thread in by_thread.values():
    thread.sort(key=lambda e: (e["ts"], -e["dur"]))
    stack = []
    for i, e in enumerate(thread):
        while stack and stack[-1][0]["ts"] + stack[-1][0]["dur"] <= e["ts"]:
            stack.pop()
        if stack:
            children[stack[-1][1]] += e["dur"]
        else:
            top_level_us += e["dur"]
            top_level_calls += 1
        stack.append((e, i))
    for i, e in enumerate(thread):
        key = e["name"] + (" " + str(e.get("shape", "")) if a.shapes else "")
        self_us[key] += e["dur"] - children[i]
        calls[key] += 1
    children.clear()
print("top level: %.1f ms in %d operator calls" % (top_level_us / 1e3, top_level_calls))
for key, us in self_us.most_common(a.top):
    print("%9.1f ms %5.1f%% %6d  %s" % (us / 1e3, 100 * us / top_level_us, calls[key], key))
