#!/usr/bin/env python3
"""The access package (R40) over HTTP against the real server, for a subject with 10 and with
10,000 records, beside the same server's empty handler (/healthz) measured the same way:
  - time to the first byte of the response and to its last byte, one request at a time on a
    fresh loopback connection (median and worst of the runs);
  - the server's peak resident memory above its resident memory before the series, over the
    first request and over the whole series (VmHWM and VmRSS of /proc/<pid>/status; the peak is
    reset through /proc/<pid>/clear_refs before each series).

The two subjects are taken in through the subscription form of policy 001 (a name and an e-mail
address: 10 records, one per store keeping each field). The API stores each field of a form
once, so the larger subject's records up to 10,000 are added with bench/seed_records (sealed under
the subject's key as intake seals them) while the server is stopped; the access requests are
filed through the API with an API key of the privileged role. The server runs on the fake clock
with a bootstrap administrator, as the black-box tests start it.
Prints one JSON object on stdout."""
import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCHOOL = "vkluchi_zhizn"


def start(cmd):
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    deadline = time.time() + 30
    while time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        m = re.search(r"listening on http://127\.0\.0\.1:(\d+)/", line)
        if m:  # with --quiet the server prints only at start, so the pipe never fills
            return proc, int(m.group(1))
    proc.kill()
    raise RuntimeError("server did not start: " + " ".join(cmd))


def stop(proc):
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def status_kib(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def reset_peak(pid):
    """Resets VmHWM to the current RSS (Linux 4.0+); False when the kernel refuses."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def timed_get(port, path, headers):
    """One GET on a fresh connection: (seconds to the first byte, seconds to the last, status,
    body bytes). The clock starts when the request is sent."""
    req = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n"
    for k, v in headers.items():
        req += f"{k}: {v}\r\n"
    req += "\r\n"
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    t0 = time.perf_counter()
    s.sendall(req.encode())
    first = s.recv(65536)
    t_first = time.perf_counter() - t0
    chunks = [first]
    while True:
        b = s.recv(1 << 20)
        if not b:
            break
        chunks.append(b)
    t_last = time.perf_counter() - t0
    s.close()
    raw = b"".join(chunks)
    head, _, body = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/1.") else 0
    if b"\r\ntransfer-encoding: chunked" in head.lower():
        body = dechunk(body)
    return t_first, t_last, status, len(body)


def dechunk(body):
    """The body of a chunked response; raises when it lacks its last chunk (ended early)."""
    out, pos = [], 0
    while True:
        eol = body.find(b"\r\n", pos)
        if eol < 0:
            raise RuntimeError("a chunked body ended early")
        size = int(body[pos:eol].split(b";")[0], 16)
        if size == 0:
            return b"".join(out)
        out.append(body[eol + 2:eol + 2 + size])
        pos = eol + 2 + size + 2


def series(pid, port, path, headers, runs, warmup=2):
    """Timed runs after a warm-up, with the server's peak resident memory above its resident
    memory before the first request: over that first request alone, and over the whole series.
    The two differ because each worker thread's malloc arena keeps the memory it grew to."""
    peak_reset = reset_peak(pid)
    rss_before = status_kib(pid, "VmRSS")
    timed_get(port, path, headers)
    hwm_first = status_kib(pid, "VmHWM")
    for _ in range(warmup):
        timed_get(port, path, headers)
    firsts, lasts, size = [], [], 0
    for _ in range(runs):
        t_first, t_last, status, size = timed_get(port, path, headers)
        if status != 200:
            raise RuntimeError(f"GET {path}: HTTP {status}")
        firsts.append(t_first * 1000)
        lasts.append(t_last * 1000)
    hwm_after = status_kib(pid, "VmHWM")
    return {"first_byte_ms": statistics.median(firsts), "first_byte_max_ms": max(firsts),
            "total_ms": statistics.median(lasts), "total_max_ms": max(lasts),
            "body_bytes": size, "runs": runs, "rss_before_kib": rss_before,
            "peak_growth_one_kib": hwm_first - rss_before if peak_reset else None,
            "peak_growth_kib": hwm_after - rss_before if peak_reset else None,
            "rss_after_kib": status_kib(pid, "VmRSS"),
            "rss_anon_after_kib": status_kib(pid, "RssAnon")}


def post(base, path, body, key=None):
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(), headers=headers)
    return json.load(urllib.request.urlopen(req))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build/release")
    ap.add_argument("--records", type=int, default=10000)
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()
    build = os.path.join(ROOT, args.build)
    dovira = os.path.join(build, "src/cli/dovira")
    seed = os.path.join(build, "bench/seed_records")
    policy = os.path.join(ROOT, "policies/001_vkluchi_zhizn.toml")

    data = tempfile.mkdtemp(prefix="dovira-package-bench-", dir="/var/tmp")
    serve = [dovira, "serve", "--data", data, "--policy", policy, "--port", "0", "--quiet",
             "--insecure-cookies", "--fake-clock", "2025-03-03T09:00:00Z",
             "--bootstrap-admin", "admin@bench.invalid", "--workers", "4"]
    result = {}
    try:
        key = subprocess.run([dovira, "apikey", "create", "--data", data, "--policy", policy,
                              "--name", "bench", "--role", "responsible_person",
                              "--purpose", "requests_and_claims"],
                             check=True, capture_output=True, text=True).stdout.strip()
        auth = {"Authorization": f"Bearer {key}"}
        proc, port = start(serve)
        try:
            base = f"http://127.0.0.1:{port}"
            subjects = {}
            for name in ("small", "large"):
                body = {"fields": {"first_name": "Олена", "email": f"{name}@example.com"},
                        "consents": ["pd_consent"], "accept_policy": True,
                        "age_statement": "adult"}
                subjects[name] = post(
                    base, f"/v1/schools/{SCHOOL}/forms/subscription/submissions",
                    body)["subject"]
        finally:
            stop(proc)
        counts = {}
        for name, n in (("small", 10), ("large", args.records)):
            out = subprocess.run([seed, "--data", data, "--policy", policy, "--school", SCHOOL,
                                  "--subject", subjects[name], "--records", str(n)],
                                 check=True, capture_output=True, text=True).stdout
            counts[name] = int(out.strip())
        proc, port = start(serve)
        try:
            base = f"http://127.0.0.1:{port}"
            requests = {}
            for name in ("small", "large"):
                r = post(base, f"/v1/schools/{SCHOOL}/requests",
                         {"type": "access", "subject": subjects[name], "channel": "email",
                          "reply_email": f"{name}@example.com", "lang": "uk"}, key)
                if r.get("identity") == "required":
                    raise RuntimeError("the access request waits for identity")
                requests[name] = r["id"]
            result["healthz"] = series(proc.pid, port, "/healthz", {}, 50, warmup=5)
            for name in ("small", "large"):
                path = f"/v1/schools/{SCHOOL}/requests/{requests[name]}/package"
                runs = args.runs if name == "large" else 50
                result[name] = series(proc.pid, port, path, auth, runs)
                result[name]["records"] = counts[name]
        finally:
            stop(proc)
    finally:
        shutil.rmtree(data, ignore_errors=True)
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
