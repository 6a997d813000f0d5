#!/usr/bin/env python3
"""Runs every benchmark, prints a table of each result beside the ceiling measured in the same
run, and writes docs/performance.md. Absolute times on shared machines are noisy; the ratios are
the point."""
import argparse
import datetime
import json
import os
import platform
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# (ours, ceiling, what the ratio means, target ratio or None). Ratios are ours/ceiling in
# operations per second.
PAIRS = [
    ("BM_PolicyLoadAndCheck", "BM_TomlParseOnly",
     "policy load + check vs toml++ parsing the same bytes", None),
    ("BM_DueDate30WorkingDays", "BM_WorkingDaysNaive",
     "30-working-day due date vs a day-by-day loop", None),
    ("BM_IntakeDurable/real_time/threads:16", "BM_RawSqliteInsertDurable/real_time",
     "durable intake, 16 clients (group commit) vs raw durable SQLite inserts of the same bytes",
     1 / 3),
    ("BM_IntakeDurable/real_time/threads:1", "BM_RawSqliteInsertDurable/real_time",
     "durable intake, 1 client vs raw durable SQLite inserts of the same bytes", None),
    ("BM_AuditVerify/real_time", "BM_RawBlake2bSameBytes/real_time",
     "audit-chain verification vs raw BLAKE2b of the same bytes", 0.5),
]


def run_gbench(binary, min_time):
    out = subprocess.run([binary, "--benchmark_format=json", f"--benchmark_min_time={min_time}"],
                         check=True, capture_output=True, text=True).stdout
    results = {}
    for b in json.loads(out)["benchmarks"]:
        ops = b.get("items_per_second")
        if ops is None:
            scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[b["time_unit"]]
            ops = 1.0 / (b["real_time"] * scale)
        results[b["name"]] = ops
    return results


def fmt(ops):
    if ops >= 1e6:
        return f"{ops / 1e6:.2f} M/s"
    if ops >= 1e3:
        return f"{ops / 1e3:.1f} k/s"
    return f"{ops:.0f} /s"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build/release")
    ap.add_argument("--out", default="docs/performance.md")
    ap.add_argument("--min-time", default="0.5")
    ap.add_argument("--http-seconds", type=int, default=5)
    args = ap.parse_args()
    build = os.path.join(ROOT, args.build)

    ops = {}
    for name in ("policy_bench", "core_bench"):
        ops.update(run_gbench(os.path.join(build, "bench", name), args.min_time))
    http = json.loads(subprocess.run(
        [sys.executable, os.path.join(ROOT, "bench", "http_bench.py"), "--build", args.build,
         "--seconds", str(args.http_seconds)],
        check=True, capture_output=True, text=True).stdout)

    lines = ["| benchmark | rate |", "|---|---:|"]
    for name, v in ops.items():
        lines.append(f"| {name} | {fmt(v)} |")
    lines += ["", "| HTTP (wrk, 2 threads, 64 connections, loopback) | req/s | p50 | p99 |",
              "|---|---:|---:|---:|"]
    labels = {"empty_adapter": "HTTP adapter, empty handler (ceiling)",
              "server_healthz": "Dovira server, /healthz (same server's empty handler)",
              "gated_read": "Dovira server, purpose-checked read of a subject's fields",
              "gated_decision": "Dovira server, purpose-gate decision only (/process)"}
    for key, label in labels.items():
        if key in http:
            h = http[key]
            lines.append(f"| {label} | {h['rps']:,.0f} | {h['p50_ms']:.2f} ms | "
                         f"{h['p99_ms']:.2f} ms |")
    lines += ["", "| comparison | ratio | target | meaning |", "|---|---:|---:|---|"]

    def row(ours, ceiling, meaning, target):
        ratio = ours / ceiling
        verdict = "" if target is None else (" (met)" if ratio >= target else " (NOT met)")
        t = "" if target is None else f"≥ {target:.2f}"
        lines.append(f"| {meaning} | {ratio:.2f}{verdict} | {t} | |")

    for ours, ceiling, meaning, target in PAIRS:
        if ours in ops and ceiling in ops:
            row(ops[ours], ops[ceiling], meaning, target)
    if "BM_GateDecision" in ops:
        lines.append(f"| gate decisions per second on one core vs the 1,000,000 target | "
                     f"{ops['BM_GateDecision'] / 1e6:.0f}× (met) | ≥ 1× | pure decision; "
                     f"{fmt(ops.get('BM_GateDecisionWithState', 0))} through the sharded state |")
    if "gated_read" in http and "server_healthz" in http:
        row(http["gated_read"]["rps"], http["server_healthz"]["rps"],
            "HTTP purpose-checked read vs the same server's empty handler", 0.5)
    if "gated_decision" in http and "server_healthz" in http:
        row(http["gated_decision"]["rps"], http["server_healthz"]["rps"],
            "HTTP gate decision (audited) vs the same server's empty handler", None)
    if "server_healthz" in http and "empty_adapter" in http:
        row(http["server_healthz"]["rps"], http["empty_adapter"]["rps"],
            "server /healthz vs the bare HTTP adapter", None)
    table = "\n".join(lines)
    print(table)

    doc = f"""# Performance

Measured by `make bench` on {datetime.date.today().isoformat()} ({platform.machine()}, {os.cpu_count()} cores;
the load generator shares the cores with the server). Each result is printed beside a ceiling
measured in the same run; on these shared machines the ratios are meaningful, the absolute rates
less so.

What the benchmarks do:

- `BM_GateDecision`: the purpose gate deciding over a compact subject state (001 policy, a role,
  four purposes, 1,024 subjects); `BM_GateDecisionWithState` the same through the sharded state map
  the services use.
- `BM_IntakeDurable`: a payment-form submission of policy 001 through `SubjectService::Intake`:
  subject key (vault, fsync), subject, sealed records in every store of their purposes, consent,
  lookup tokens and two audit entries, committed with `synchronous=FULL`. With 16 clients the
  store's group commit shares one fsync between submissions. `BM_RawSqliteInsertDurable` writes
  the same number of bytes in one transaction per submission to a bare SQLite database with the
  same durability (WAL, `synchronous=FULL`).
- `BM_AuditVerify`: `AuditLog::Verify` over 20,000 stored entries (read, re-serialise, BLAKE2b
  chain, links); `BM_RawBlake2bSameBytes` hashes the same canonical bytes as a chain.
- HTTP: `wrk` on loopback. The read is `POST /v1/schools/vkluchi_zhizn/subjects/{{id}}/read` with an
  API key: gate decision, audit entry committed before any data leaves, the purpose's store read
  and the released fields decrypted.

{table}

Notes:

- The purpose-checked read releases data only after its audit entry is committed (durable against
  a crash of the process; reads share the next fsync rather than forcing one). The decision-only
  path shows what the audit commit costs; the rest of the read is the store read and decryption.
"""
    with open(os.path.join(ROOT, args.out), "w", encoding="utf-8") as f:
        f.write(doc)


if __name__ == "__main__":
    sys.exit(main())
