#!/usr/bin/env python3
"""Runs the benchmarks, prints a table of each result beside its ceiling measured in the same run,
and writes docs/performance.md. Absolute times on shared machines are noisy; the ratios are the
point."""
import argparse
import datetime
import json
import os
import platform
import subprocess
import sys

# (benchmark, ceiling it is compared with, what the ratio means)
PAIRS = [
    ("BM_PolicyLoadAndCheck", "BM_TomlParseOnly",
     "policy load + check vs toml++ parse of the same bytes"),
    ("BM_DueDate30WorkingDays", "BM_WorkingDaysNaive",
     "30-working-day due date vs a day-by-day loop"),
]


def run(binary):
    out = subprocess.run([binary, "--benchmark_format=json", "--benchmark_min_time=0.5"],
                         check=True, capture_output=True, text=True).stdout
    return {b["name"]: b for b in json.loads(out)["benchmarks"]}


def fmt_time(ns):
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.2f} µs"
    return f"{ns:.0f} ns"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build/release")
    ap.add_argument("--out", default="docs/performance.md")
    args = ap.parse_args()

    results = run(os.path.join(args.build, "bench", "policy_bench"))
    rows = []
    for name, b in results.items():
        ns = b["real_time"] if b["time_unit"] == "ns" else b["real_time"] * {"us": 1e3, "ms": 1e6, "s": 1e9}[b["time_unit"]]
        rows.append((name, ns, 1e9 / ns))
    times = {r[0]: r[1] for r in rows}

    lines = ["| benchmark | time per op | ops/s |", "|---|---:|---:|"]
    for name, ns, ops in rows:
        lines.append(f"| {name} | {fmt_time(ns)} | {ops:,.0f} |")
    lines += ["", "| comparison | ratio (ceiling time / ours) | meaning |", "|---|---:|---|"]
    for ours, ceiling, meaning in PAIRS:
        if ours in times and ceiling in times:
            lines.append(f"| {ours} / {ceiling} | {times[ceiling] / times[ours]:.2f} | {meaning} |")
    table = "\n".join(lines)
    print(table)

    doc = f"""# Performance

Measured by `make bench` on {datetime.date.today().isoformat()} ({platform.machine()}, {os.cpu_count()} cores).
Each result is printed beside a ceiling measured in the same run; on these shared machines the
ratios are meaningful, the absolute times less so. A ratio of 1.0 means as fast as the ceiling.

{table}
"""
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(doc)


if __name__ == "__main__":
    sys.exit(main())
