#!/usr/bin/env python3
"""Self time per op (and per op + input shapes) from a Chrome trace written by libtorch's profiler:
bench_wan_transformer --profile FILE (Kineto on 2.x, the legacy profiler on 1.13, which records
no shapes), or torch.profiler's export_chrome_trace on the diffusers side, so both sides of a
side-by-side can be read the same way. Dev tooling; prints, never asserts.

  scripts/profile_summary.py TRACE.json [--top N] [--shapes]
"""
import argparse
import collections
import json


def self_times(events):
    """Self time of every op: its duration less that of the ops directly inside it (same thread)."""
    by_thread = collections.defaultdict(list)
    for e in events:
        # Kineto marks operators with a category; the legacy profiler (libtorch 1.13) has none.
        if e.get("ph") == "X" and e.get("cat", "cpu_op") in ("cpu_op", "Operator") and "dur" in e:
            by_thread[e.get("tid")].append(e)
    out = []
    for ops in by_thread.values():
        ops.sort(key=lambda e: (e["ts"], -e["dur"]))
        stack = []  # [event, child time]
        for e in ops:
            while stack and e["ts"] >= stack[-1][0]["ts"] + stack[-1][0]["dur"]:
                done, child = stack.pop()
                out.append((done, done["dur"] - child))
            if stack:
                stack[-1][1] += e["dur"]
            stack.append([e, 0.0])
        while stack:
            done, child = stack.pop()
            out.append((done, done["dur"] - child))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("trace")
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--shapes", action="store_true", help="also group by input shapes")
    args = ap.parse_args()
    with open(args.trace) as f:
        trace = json.load(f)
    events = trace["traceEvents"] if isinstance(trace, dict) else trace
    rows = self_times(events)
    total = sum(t for _, t in rows)
    print(f"{len(rows)} ops, self time {total / 1e3:.1f} ms")
    groups = [("op", lambda e: e["name"])]
    if args.shapes:
        groups.append(("op and input shapes",
                       lambda e: f'{e["name"]} {json.dumps(e.get("args", {}).get("Input Dims", []))}'))
    for title, key in groups:
        acc = collections.defaultdict(lambda: [0.0, 0])
        for e, t in rows:
            a = acc[key(e)]
            a[0] += t
            a[1] += 1
        print(f"\n== self time by {title}")
        print(f"{'ms':>9} {'%':>6} {'calls':>6}  name")
        for name, (t, n) in sorted(acc.items(), key=lambda kv: -kv[1][0])[: args.top]:
            print(f"{t / 1e3:9.2f} {100 * t / total:6.1f} {n:6d}  {name[:150]}")


if __name__ == "__main__":
    main()
