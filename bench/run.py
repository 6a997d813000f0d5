#!/usr/bin/env python3
"""Runs every benchmark, prints a table of each result beside the ceiling measured in the same
run, and rewrites its own part of docs/performance.md (between the bench markers; the sections
other tools measure are kept as they are). Absolute times on shared machines are noisy; the ratios are
the point."""
import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import sys
import textwrap

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


# The rights-request workflows, in milliseconds per call: (ours, ceiling, what it is, target in
# milliseconds or None).
REQUEST_PAIRS = [
    ("BM_DueList/first_page", "BM_RawSqliteDueList/first_page",
     "due list: first page of 50 of 100,000 open requests (store)", 20),
    ("BM_DueList/middle_page", "BM_RawSqliteDueList/middle_page",
     "due list: page of 50 after a keyset cursor in the middle (store)", 20),
    ("BM_DueList/overdue_only", "BM_RawSqliteDueList/overdue_only",
     "due list: first 50 overdue (store)", 20),
    ("BM_DueListService/first_page", "BM_RawSqliteDueList/first_page",
     "due list: first page through RequestService::List (what the API calls)", 20),
    ("BM_DueListService/middle_page", "BM_RawSqliteDueList/middle_page",
     "due list: middle page through RequestService::List", 20),
    ("BM_Erasure/records:10/manual_time", "BM_RawErasure/records:10/secure_delete:1/manual_time",
     "erasure of a subject with 10 records (durable)", None),
    ("BM_Erasure/records:10000/manual_time",
     "BM_RawErasure/records:10000/secure_delete:1/manual_time",
     "erasure of a subject with 10,000 records (durable)", None),
]


def run_gbench(binary, min_time, repetitions=1):
    """Returns ({name: operations per second}, {name: milliseconds per iteration}). With
    repetitions, the benchmarks run interleaved in random order and each result is the median of
    its repetitions, so that a burst of load from another process on a shared machine does not
    land on one side of a comparison only."""
    cmd = [binary, "--benchmark_format=json", f"--benchmark_min_time={min_time}"]
    if repetitions > 1:
        cmd += [f"--benchmark_repetitions={repetitions}",
                "--benchmark_enable_random_interleaving=true",
                "--benchmark_report_aggregates_only=true"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    results, ms = {}, {}
    for b in json.loads(out)["benchmarks"]:
        if b.get("error_occurred"):
            print(f"{b['name']}: {b.get('error_message')}", file=sys.stderr)
            continue
        if repetitions > 1 and b.get("aggregate_name") != "median":
            continue
        scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[b["time_unit"]]
        ops = b.get("items_per_second")
        if ops is None:
            ops = 1.0 / (b["real_time"] * scale)
        name = re.sub(r"/min_time:[\d.]+", "", b.get("run_name", b["name"]))
        results[name] = ops
        ms[name] = b["real_time"] * scale * 1000
    return results, ms


# docs/performance.md also holds sections measured elsewhere (the web pages, by `make web-test`).
# This script owns only the text between these two markers and keeps everything else verbatim.
BEGIN = "<!-- bench:begin: written by `make bench` (bench/run.py); edit run.py, not this part -->"
END = "<!-- bench:end -->"
_BEGIN_RE = re.compile(r"^<!-- bench:begin\b[^\n]*-->$", re.M)
_END_RE = re.compile(r"^<!-- bench:end -->$", re.M)


def replace_generated(current, generated):
    """Returns `current` with the text between its bench markers replaced by `generated`. Raises
    ValueError naming what is wrong when the markers are missing, repeated or out of order."""
    begins, ends = list(_BEGIN_RE.finditer(current)), list(_END_RE.finditer(current))
    if len(begins) != 1 or len(ends) != 1:
        raise ValueError(f"expected one '<!-- bench:begin ... -->' line and one '{END}' line, "
                         f"found {len(begins)} and {len(ends)}")
    b, e = begins[0], ends[0]
    if e.start() < b.end():
        raise ValueError(f"'{END}' comes before '<!-- bench:begin ... -->'")
    return current[:b.end()] + "\n" + generated.strip("\n") + "\n" + current[e.start():]


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

    ops, ms = {}, {}
    for name, repetitions in (("policy_bench", 1), ("core_bench", 1), ("requests_bench", 5)):
        o, m = run_gbench(os.path.join(build, "bench", name), args.min_time, repetitions)
        ops.update(o)
        ms.update(m)
    http = json.loads(subprocess.run(
        [sys.executable, os.path.join(ROOT, "bench", "http_bench.py"), "--build", args.build,
         "--seconds", str(args.http_seconds)],
        check=True, stdout=subprocess.PIPE, text=True).stdout)
    package = json.loads(subprocess.run(
        [sys.executable, os.path.join(ROOT, "bench", "package_bench.py"), "--build", args.build],
        check=True, stdout=subprocess.PIPE, text=True).stdout)

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

    req = ["| rights requests (ms per call) | ours | ceiling | ours ÷ ceiling | target |",
           "|---|---:|---:|---:|---|"]
    for ours, ceiling, meaning, target in REQUEST_PAIRS:
        if ours not in ms or ceiling not in ms:
            continue
        t = "" if target is None else \
            f"< {target} ms" + (" (met)" if ms[ours] < target else " (NOT met)")
        req.append(f"| {meaning} | {ms[ours]:.3f} ms | {ms[ceiling]:.3f} ms | "
                   f"{ms[ours] / ms[ceiling]:,.1f}× | {t} |")
    small, large = "BM_Erasure/records:10/manual_time", "BM_Erasure/records:10000/manual_time"
    raw_small, raw_large = (n.replace("BM_Erasure", "BM_RawErasure").replace(
        "/manual_time", "/secure_delete:1/manual_time") for n in (small, large))
    if all(n in ms for n in (small, large, raw_small, raw_large)):
        grows = ms[large] / ms[small]
        verdict = "(met)" if grows < 2 else "(NOT met)"
        req.append(f"| erasure: 10,000 records ÷ 10 records | {grows:.1f}× | "
                   f"{ms[raw_large] / ms[raw_small]:.1f}× | | independent of the number of "
                   f"records, read as < 2× {verdict} |")
    req_table = "\n".join(req)

    def size(n):
        return f"{n:,} B" if n < 10240 else f"{n / 1024:,.0f} KiB"

    def msec(v):
        return f"{v:.2f} ms" if v < 10 else f"{v:.0f} ms"

    def mib(kib):
        return "n/a" if kib is None else f"{kib / 1024:,.1f} MiB"

    pk = ["| access package over HTTP (one request at a time) | records | first byte | "
          "last byte | body | server peak RSS growth, one request | target |",
          "|---|---:|---:|---:|---:|---:|---|"]
    for key, label in (("healthz", "/healthz on the same server (ceiling)"),
                       ("small", "GET …/requests/{id}/package, small subject"),
                       ("large", "GET …/requests/{id}/package, large subject")):
        if key not in package:
            continue
        p = package[key]
        target = ""
        if key != "healthz":
            target = "first byte ≤ 50 ms" + (" (met)" if p["first_byte_ms"] <= 50 else " (NOT met)")
        records = f"{p['records']:,}" if "records" in p else ""
        pk.append(f"| {label} | {records} | {msec(p['first_byte_ms'])} "
                  f"(max {msec(p['first_byte_max_ms'])}) | {msec(p['total_ms'])} | "
                  f"{size(p['body_bytes'])} | {mib(p['peak_growth_one_kib'])} | "
                  f"{target} |")
    if "small" in package and "large" in package:
        a, b = package["small"], package["large"]
        ratio = b["first_byte_ms"] / max(a["first_byte_ms"], 1e-9)
        flat = (b["peak_growth_one_kib"] or 0) <= max(2 * (a["peak_growth_one_kib"] or 0), 4096)
        pk.append(f"| large ÷ small | {b['records'] / a['records']:,.0f}× | {ratio:.0f}× | "
                  f"{b['total_ms'] / a['total_ms']:.0f}× | "
                  f"{b['body_bytes'] / a['body_bytes']:.0f}× | | memory flat in the number of "
                  f"records, read as ≤ 4 MiB or twice the small subject's "
                  f"{'(met)' if flat else '(NOT met)'} |")
        if "healthz" in package:
            h = package["healthz"]
            pk.append(f"| large ÷ /healthz | | {b['first_byte_ms'] / h['first_byte_ms']:,.0f}× | "
                      f"{b['total_ms'] / h['total_ms']:,.0f}× | | | |")
    pk_table = "\n".join(pk)
    print(table + "\n\n" + req_table + "\n\n" + pk_table)

    notes = []
    first, middle = "BM_DueList/first_page", "BM_DueList/middle_page"
    raw_middle = "BM_RawSqliteDueList/middle_page"
    if all(n in ms for n in (first, middle, raw_middle)):
        notes.append(
            f"- Due list: every page walks the `requests_by_due` index (school, open, due date, id) "
            f"and stops after 50 requests. The page after a keyset cursor has its own query "
            f"(`kListOpenRequestsAfter`), whose cursor is the row value `(due_at, request_id) > "
            f"(?, ?)`: SQLite seeks the index to the cursor (`EXPLAIN QUERY PLAN`: `school_id=? "
            f"AND open=? AND (due_at,request_id)>(?,?)`, checked by a test), so the middle page "
            f"costs what the first does ({ms[middle]:.2f} ms against {ms[first]:.2f} ms). The "
            f"earlier single query wrote the cursor as `(?8 IS NULL OR due_at > ?8 OR (due_at = "
            f"?8 AND request_id > ?9))`, which SQLite could not use as a range: it walked every "
            f"open request before the cursor (140-780 ms in the middle of 100,000).")
    if all(n in ms for n in (small, large, raw_small, raw_large)):
        notes.append(
            f"- Erasure destroys the subject's key first (the key vault's own commit), which makes "
            f"every copy of the data unreadable at once whatever its size; that part does not "
            f"depend on the number of records. Deleting the rows does: `DELETE FROM records WHERE "
            f"school_id = ? AND subject_id = ?` visits and rewrites every page holding them, and "
            f"with `secure_delete` on (as the store runs) overwrites them. So the whole erasure is "
            f"{ms[small]:.1f} ms at 10 records and {ms[large]:.1f} ms at 10,000 "
            f"({ms[large] / ms[small]:.1f}×); bare SQLite doing only the deletes grows "
            f"{ms[raw_large] / ms[raw_small]:.1f}× over the same sizes. Most of the 10-record time "
            f"is the two fsyncs (vault, then data), which vary a lot on this shared disk. Moving "
            f"the row deletion to a background job after the key and tombstone commit would make "
            f"the wait independent of the records, but it is not done: `records` references "
            f"`subjects` by a foreign key, so the subject row (whose absence is the 404 of `GET "
            f"/subjects/{{id}}` the scenarios check) cannot go before its records without a schema "
            f"change; the per-store receipts (B03) would need a state between erased and "
            f"confirmed that the job sets; and the job must survive a crash, which the B09 replay "
            f"of tombstones covers only at the next start.")
    if "small" in package and "large" in package:
        a, b = package["small"], package["large"]
        one = b.get("peak_growth_one_kib")
        notes.append(
            f"- The access package is streamed (`ports::HttpResponse::stream`, chunked transfer "
            f"encoding): before the headers the server reads what the records say without opening "
            f"a value (categories, purposes, sources, count) and commits the audit entry; then it "
            f"opens and writes the records 256 at a time, in pieces of about 64 KiB, held back "
            f"while the client has 256 KiB unread. First byte {b['first_byte_ms']:.1f} ms, last "
            f"{b['total_ms']:.0f} ms for {b['records']:,} records "
            f"({b['body_bytes'] / 1048576:.1f} MiB); the first byte still grows with the records "
            f"because of that first read (about {b['first_byte_ms'] / a['first_byte_ms']:.0f}× "
            f"the small subject's)"
            + (f". One request for the large subject raised the server's peak resident memory by "
               f"{one / 1024:.1f} MiB, the small subject's by "
               f"{a['peak_growth_one_kib'] / 1024:.1f} MiB; over a series "
               f"{b['peak_growth_kib'] / 1024:.1f} MiB (each worker thread's malloc arena keeps "
               f"what it grew to; the benchmark runs 4 workers)."
               if one is not None and b.get("peak_growth_kib") is not None else "."))
    notes_text = "\n".join(textwrap.fill(n, width=100, subsequent_indent="  ") for n in notes)

    generated = f"""Measured by `make bench` on {datetime.date.today().isoformat()} ({platform.machine()}, {os.cpu_count()} cores;
the load generator shares the cores with the server). Each result is printed beside a ceiling
measured in the same run; on these shared machines the ratios are meaningful, the absolute rates
less so.

What the benchmarks do:

- `BM_GateDecision`: the purpose gate deciding over a compact subject state (001 policy, a role,
  four purposes, 1,024 subjects); `BM_GateDecisionWithState` the same through the sharded state map
  the services use.
- `BM_IntakeDurable`: a payment-form submission of policy 001 through `SubjectService::Intake`:
  subject (its id and key taken from those the vault committed ahead, 32 per vault commit),
  sealed records in every store of their purposes, consent, lookup tokens and two audit entries,
  committed with `synchronous=FULL`. With 16 clients the
  store's group commit shares one fsync between submissions. `BM_RawSqliteInsertDurable` writes
  the same number of bytes in one transaction per submission to a bare SQLite database with the
  same durability (WAL, `synchronous=FULL`).
- `BM_AuditVerify`: `AuditLog::Verify` over 20,000 stored entries (read, re-serialise, BLAKE2b
  chain, links); `BM_RawBlake2bSameBytes` hashes the same canonical bytes as a chain.
- HTTP: `wrk` on loopback. The read is `POST /v1/schools/vkluchi_zhizn/subjects/{{id}}/read` with an
  API key: gate decision, audit entry committed before any data leaves, the purpose's store read
  and the released fields decrypted.
- `BM_DueList` (`bench/requests_bench.cc`): `SqliteStore::ListRequests` with `open_only` and a
  limit of 50 over 100,000 open requests of one school (copies of a request filed through
  `RequestService::File`, received over the last 32 days, due 30 calendar days later at the end
  of the local day, the past-due ones marked overdue): the first page, the page after a keyset
  cursor at the 50,000th request, and `overdue_only`. `BM_DueListService` is
  `RequestService::List`, what `GET /v1/schools/{{s}}/requests` calls (each request's JSON body
  read). The ceiling `BM_RawSqliteDueList` is a bare SQLite database with the same table, index
  and rows, asked for the same 50 requests (checked to be the same, in the same order) by an
  indexed `SELECT` with every column copied out.
- `BM_Erasure`: `SubjectService::DestroySubject` of a subject taken in through the subscription
  form (10 records: a name and an e-mail address in each of the five stores that keep them) and
  given more records sealed under its key up to 10,000: key overwritten and deleted in the vault,
  tombstone, every row of the subject deleted, audit entry, both commits durable. The ceiling
  `BM_RawErasure` wipes a 32-byte key with `sodium_memzero`, deletes its row from a bare key
  database and the same number of rows from a bare table shaped like `records`, each a durable
  commit (`secure_delete` off and on; the store runs with it on).
- Access package (`bench/package_bench.py`): `GET /v1/schools/vkluchi_zhizn/requests/{{id}}/package`
  on the real server (fake clock, bootstrap administrator, an API key of the privileged role),
  one request at a time on a fresh loopback connection, for an access request about a subject
  with 10 and one with 10,000 records; `/healthz` on the same server measured the same way is the
  ceiling. The API takes each field of a form once, so the larger subject's records are added with
  `bench/seed_records` (sealed under its key as intake seals them) while the server is stopped.
  Memory is the server's `VmHWM` (reset through `/proc/<pid>/clear_refs`) above its `VmRSS`
  before the first request.

{table}

{req_table}

{pk_table}

Notes:

- The purpose-checked read releases data only after its audit entry is committed (durable against
  a crash of the process; reads share the next fsync rather than forcing one). The decision-only
  path shows what the audit commit costs; the rest of the read is the store read and decryption.
- The read's p99 can include the moment the writer truncates the WAL once it passes 256 MiB
  (`SqliteStore::ResetWal`), which stalls commits for up to a few hundred milliseconds.
- Results move between runs on this shared machine (other builds and benchmarks use the same two
  cores and disk): CPU-bound ratios by about ±0.05, fsync-bound results (intake, the bare durable
  inserts, erasure) by several times, so compare those within one run only. The rights-request
  benchmarks run five times, interleaved in random order, and report the median.
{notes_text}"""
    out = os.path.join(ROOT, args.out)
    try:
        with open(out, encoding="utf-8") as f:
            current = f.read()
    except FileNotFoundError:
        current = f"# Performance\n\n{BEGIN}\n{END}\n"
    try:
        doc = replace_generated(current, generated)
    except ValueError as e:
        print(f"{out}: {e}; nothing written", file=sys.stderr)
        return 1
    with open(out, "w", encoding="utf-8") as f:
        f.write(doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
