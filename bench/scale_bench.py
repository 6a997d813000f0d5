#!/usr/bin/env python3
"""make bench-scale: one school of policy 001 grown to 10k, 100k and 1M subjects through the bulk
import (payment-form rows, about 25 sealed records each), on the SQLite store and on PostgreSQL,
measuring at each size:
  - the import's rate (subjects per second into the school as it stands);
  - on-disk bytes per subject (data and key vault; for PostgreSQL the two databases);
  - start-up: from starting `dovira serve` to its first answered /healthz, and its resident
    memory then;
  - /healthz, a purpose-checked read of one subject and of random subjects (wrk, 64 connections:
    req/s, p50, p99), and form intake (wrk, 16 connections);
  - `dovira audit verify` and `dovira backup`.
The ceilings measured in the same run are the bare HTTP adapter's empty handler (wrk) and, for
growth, each figure at 10k. Writes its table between the bench-scale markers of
docs/performance.md and prints it.

PostgreSQL runs in a throwaway cluster (src/adapters/postgres/test_cluster.h) switched back to
durable settings (fsync, full-page writes) before the first write."""
import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from http_bench import start as start_empty, stop, wrk  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
POLICY = os.path.join(ROOT, "policies/001_vkluchi_zhizn.toml")
SCHOOL = "vkluchi_zhizn"
HEADER = ("form,accept_policy,age_statement,consents,fields.first_name,fields.last_name,"
          "fields.email,fields.mobile_phone,fields.home_address,fields.purchased_service,"
          "fields.purchase_amount\n")
BEGIN = "<!-- bench-scale:begin: written by `make bench-scale` (bench/scale_bench.py) -->"
END = "<!-- bench-scale:end -->"


def write_rows(path, first, count):
    with open(path, "w") as f:
        f.write(HEADER)
        for i in range(first, first + count):
            f.write(f'payment,true,adult,pd_consent,Ivan{i},"Petrenko, {i}",user{i}@example.org,'
                    f'+38050{i:07d},"Kyiv, Street {i % 997}",basic,{100 + i % 900}\n')


class Store:
    """Where the data live, and how to reach them from a command and from the bench."""

    def __init__(self, kind, data, build):
        self.kind = kind
        self.data = data
        self.cluster = None
        self.args = []
        if kind == "postgresql":
            self.cluster = "/tmp/dovira-pg-scale"
            tool = os.path.join(build, "src/adapters/postgres/pg_test_cluster")
            subprocess.run([tool, "start", self.cluster], check=True, capture_output=True)
            self.pg_tool = tool
            for setting in ("fsync = on", "full_page_writes = on", "synchronous_commit = on"):
                self.psql("postgres", f"ALTER SYSTEM SET {setting}")
            self.psql("postgres", "SELECT pg_reload_conf()")
            base = f"host={self.cluster} port=5432 user=postgres dbname="
            self.args = ["--store", base + "dovira_data", "--keys-store", base + "dovira_keys"]

    def psql(self, db, sql):
        out = subprocess.run(["psql", "-h", self.cluster, "-U", "postgres", "-d", db, "-At",
                              "-c", sql], check=True, capture_output=True, text=True)
        return out.stdout.strip()

    def close(self):
        if self.cluster:
            subprocess.run([self.pg_tool, "stop", self.cluster], capture_output=True)

    def bytes_on_disk(self):
        if self.kind == "sqlite":
            # What the files hold once the write-ahead log is folded in (it is kept up to 256 MiB).
            for db in ("data.db", "keys.db"):
                subprocess.run(["sqlite3", os.path.join(self.data, "store", db),
                                "PRAGMA wal_checkpoint(TRUNCATE)"], check=True, capture_output=True)
            total = 0
            for d, _, files in os.walk(os.path.join(self.data, "store")):
                total += sum(os.path.getsize(os.path.join(d, f)) for f in files)
            return total
        return sum(int(self.psql("postgres", f"SELECT pg_database_size('{db}')"))
                   for db in ("dovira_data", "dovira_keys"))

    def subject_ids(self, n):
        sql = f"SELECT subject_id FROM subjects ORDER BY random() LIMIT {n}"
        if self.kind == "sqlite":
            out = subprocess.run(["sqlite3", os.path.join(self.data, "store/data.db"), sql],
                                 check=True, capture_output=True, text=True).stdout
            return out.split()
        return self.psql("dovira_data", sql.replace("FROM subjects", "FROM dovira.subjects")).split()


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def serve(dovira, store, gate_cache):
    """Starts the server; returns (process, port, seconds to the first /healthz, RSS MiB)."""
    t0 = time.monotonic()
    proc = subprocess.Popen([dovira, "serve", "--data", store.data, "--policy", POLICY, "--port",
                             "0", "--quiet", "--workers", "16", "--gate-cache", str(gate_cache)]
                            + store.args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)
    port = None
    while port is None:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("the server did not start")
        m = re.search(r"listening on http://127\.0\.0\.1:(\d+)/", line)
        if m:
            port = int(m.group(1))
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5).read()
            break
        except OSError:
            time.sleep(0.01)
    startup = time.monotonic() - t0
    return proc, port, startup, rss_mib(proc.pid)


def lua(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def measure(dovira, store, size, seconds, gate_cache, work):
    row = {"subjects": size, "disk_bytes_per_subject": store.bytes_on_disk() / size}
    key = subprocess.run([dovira, "apikey", "create", "--data", store.data, "--policy", POLICY,
                          "--name", f"bench{size}", "--role", "support", "--purpose",
                          "contract_performance"] + store.args,
                         check=True, capture_output=True, text=True).stdout.strip()
    ids = store.subject_ids(2000)
    proc, port, row["startup_s"], row["rss_mib"] = serve(dovira, store, gate_cache)
    try:
        base = f"http://127.0.0.1:{port}"
        auth = (f'wrk.method = "POST"\nwrk.body = \'{{"purpose":"contract_performance"}}\'\n'
                f'wrk.headers["Content-Type"] = "application/json"\n'
                f'wrk.headers["Authorization"] = "Bearer {key}"\n')
        one = lua(os.path.join(work, "one.lua"), auth)
        many = lua(os.path.join(work, "many.lua"), auth + "ids = {" +
                   ",".join(f'"{i}"' for i in ids) + "}\n"
                   "request = function()\n"
                   f'  return wrk.format(nil, "/v1/schools/{SCHOOL}/subjects/" .. '
                   'ids[math.random(#ids)] .. "/read")\nend\n')
        form = {"fields": {"first_name": "Олена", "email": "bench@example.com",
                           "mobile_phone": "+380671234567", "purchased_service": "Курс",
                           "purchase_amount": "1200"},
                "consents": ["pd_consent"], "accept_policy": True, "age_statement": "adult"}
        intake = lua(os.path.join(work, "intake.lua"),
                     'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                     "wrk.body = '" + json.dumps(form, ensure_ascii=False) + "'\n")
        row["healthz"] = wrk(base + "/healthz", seconds, 64)
        row["read_one"] = wrk(f"{base}/v1/schools/{SCHOOL}/subjects/{ids[0]}/read", seconds, 64,
                              one)
        row["read_random"] = wrk(base, seconds, 64, many)
        row["intake"] = wrk(f"{base}/v1/schools/{SCHOOL}/forms/payment/submissions", seconds,
                            16, intake)
        row["rss_after_mib"] = rss_mib(proc.pid)
    finally:
        stop(proc)
    t0 = time.monotonic()
    subprocess.run([dovira, "audit", "verify", "--data", store.data] + store.args, check=True,
                   capture_output=True)
    row["audit_verify_s"] = time.monotonic() - t0
    out = os.path.join(work, "backup")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    t0 = time.monotonic()
    subprocess.run([dovira, "backup", "--data", store.data, "--out", os.path.join(out, "data.bak"),
                    "--keys-out", os.path.join(out, "keys.bak")] + store.args, check=True,
                   capture_output=True)
    row["backup_s"] = time.monotonic() - t0
    shutil.rmtree(out, ignore_errors=True)
    return row


def grow(dovira, store, sizes, seconds, gate_cache, work):
    rows, loaded = [], 0
    for size in sizes:
        rate_subjects, rate_seconds = 0, 0.0
        while loaded < size:
            count = min(100000, size - loaded)
            csv = os.path.join(work, "rows.csv")
            write_rows(csv, loaded, count)
            t0 = time.monotonic()
            subprocess.run([dovira, "import", "--data", store.data, "--policy", POLICY, "--file",
                            csv] + store.args, check=True, capture_output=True)
            rate_seconds += time.monotonic() - t0
            rate_subjects += count
            loaded += count
        row = measure(dovira, store, size, seconds, gate_cache, work)
        row["import_per_s"] = rate_subjects / rate_seconds if rate_seconds else 0
        print(json.dumps({"store": store.kind, **row}), file=sys.stderr, flush=True)
        rows.append(row)
    return rows


def fmt_n(n):
    return f"{n / 1e6:g}M" if n >= 1e6 else f"{n / 1e3:g}k"


def table(results, sizes):
    out = ["| | " + " | ".join(f"{s} {fmt_n(n)}" for s in results for n in sizes) + " |",
           "|---|" + "---:|" * (len(results) * len(sizes))]

    def line(label, fn):
        cells = [fn(r) for s in results for r in results[s]]
        out.append(f"| {label} | " + " | ".join(cells) + " |")

    line("import, subjects/s (into the school as it stood)", lambda r: f"{r['import_per_s']:,.0f}")
    line("on disk, bytes per subject", lambda r: f"{r['disk_bytes_per_subject']:,.0f}")
    line("start-up to the first /healthz", lambda r: f"{r['startup_s']:.2f} s")
    line("resident memory after start", lambda r: f"{r['rss_mib']:.0f} MiB")
    line("resident memory after the load below", lambda r: f"{r['rss_after_mib']:.0f} MiB")
    for key, label in (("healthz", "/healthz"), ("read_one", "read, one subject"),
                       ("read_random", "read, random subjects"), ("intake", "form intake (16)")):
        line(f"{label}: req/s", lambda r, k=key: f"{r[k]['rps']:,.0f}")
        line(f"{label}: p50 / p99", lambda r, k=key: f"{r[k]['p50_ms']:.1f} / "
             f"{r[k]['p99_ms']:.1f} ms")
    line("`audit verify`", lambda r: f"{r['audit_verify_s']:.1f} s")
    line("`backup`", lambda r: f"{r['backup_s']:.1f} s")
    ratios = ["", "| at the largest size | " + " | ".join(results) + " | target |",
              "|---|" + "---:|" * len(results) + "---|"]

    def ratio(label, fn, target):
        ratios.append(f"| {label} | " + " | ".join(fn(results[s]) for s in results) +
                      f" | {target} |")

    ratio("start-up", lambda rs: f"{rs[-1]['startup_s']:.2f} s", "< 2 s")
    ratio("memory after start ÷ at the smallest size",
          lambda rs: f"{rs[-1]['rss_mib'] / rs[0]['rss_mib']:.2f}×", "≤ 2×")
    ratio("read p99 (64 connections)", lambda rs: f"{rs[-1]['read_one']['p99_ms']:.1f} ms",
          "< 50 ms")
    ratio("random-subject reads ÷ one-subject reads",
          lambda rs: f"{rs[-1]['read_random']['rps'] / rs[-1]['read_one']['rps']:.2f}", "≥ 0.8")
    ratio("/healthz ÷ the bare adapter's empty handler (measured in the same run)",
          lambda rs: f"{rs[-1]['healthz']['rps'] / rs[-1]['empty_rps']:.2f} "
                     f"(of {rs[-1]['empty_rps']:,.0f} req/s)", "≥ 0.8")
    return "\n".join(out + ratios)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build/release")
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--stores", default="sqlite,postgresql")
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--gate-cache", type=int, default=100000)
    ap.add_argument("--out", default="")
    ap.add_argument("--replay", nargs="*", default=[],
                    help="build the table from the JSON lines earlier runs printed on stderr "
                         "(each store's run, and the empty handler's line) instead of measuring")
    args = ap.parse_args()
    build = os.path.join(ROOT, args.build)
    dovira = os.path.join(build, "src/cli/dovira")
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.replay:
        results, empty = {}, None
        for log in args.replay:
            for line in open(log):
                if not line.startswith("{"):
                    continue
                row = json.loads(line)
                if "empty_adapter" in row:
                    empty = row["empty_adapter"]
                else:
                    row.setdefault("empty_rps", empty["rps"])
                    results.setdefault(row.pop("store"), []).append(row)
        write(results, sizes, args)
        return
    proc, port = start_empty([os.path.join(build, "src/adapters/http/dovira_http_empty"),
                              "--threads", "2", "--port", "0"], r"listening on (\d+)")
    try:
        empty = wrk(f"http://127.0.0.1:{port}/", args.seconds, 64)
    finally:
        stop(proc)
    print(json.dumps({"empty_adapter": empty}), file=sys.stderr, flush=True)
    results = {}
    for kind in args.stores.split(","):
        work = tempfile.mkdtemp(prefix=f"dovira-scale-{kind}-", dir="/var/tmp")
        store = Store(kind, os.path.join(work, "data"), build)
        try:
            results[kind] = grow(dovira, store, sizes, args.seconds, args.gate_cache, work)
            for row in results[kind]:
                row["empty_rps"] = empty["rps"]
        finally:
            store.close()
            shutil.rmtree(work, ignore_errors=True)
    write(results, sizes, args)


def write(results, sizes, args):
    text = (f"Measured by `make bench-scale` on {time.strftime('%Y-%m-%d')} "
            f"({os.uname().machine}, {os.cpu_count()} cores; wrk shares the cores with the server; "
            f"--gate-cache {args.gate_cache}).\n\n" + table(results, sizes))
    print(text)
    if args.out:
        path = os.path.join(ROOT, args.out)
        doc = open(path).read()
        block = f"{BEGIN}\n{text}\n{END}"
        if BEGIN in doc:
            doc = doc[:doc.index(BEGIN)] + block + doc[doc.index(END) + len(END):]
        else:
            doc = doc.rstrip("\n") + "\n\n## Growth to a million subjects\n\n" + block + "\n"
        open(path, "w").write(doc)


if __name__ == "__main__":
    main()
