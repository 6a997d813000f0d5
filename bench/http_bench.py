#!/usr/bin/env python3
"""HTTP benchmarks with wrk on loopback, each beside its ceiling measured in the same run:
  - the HTTP adapter with an empty handler (dovira_http_empty);
  - /healthz on the real server (the same server's empty handler: routing, worker pool, logging);
  - a purpose-checked read of a subject's fields (gate decision, audit entry committed, records
    read and decrypted) on the real server.
Prints one JSON object on stdout."""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def start(cmd, pattern):
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    deadline = time.time() + 20
    while time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        m = re.search(pattern, line)
        if m:
            return proc, int(m.group(1))
    proc.kill()
    raise RuntimeError("server did not start: " + " ".join(cmd))


def stop(proc):
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def to_ms(text):
    v = float(re.match(r"[\d.]+", text).group(0))
    if text.endswith("us"):
        return v / 1000
    if text.endswith("ms"):
        return v
    if text.endswith("s"):
        return v * 1000
    return v


def wrk(url, seconds, connections, script=None):
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if script:
        cmd += ["-s", script]
    out = subprocess.run(cmd + [url], check=True, capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = to_ms(re.search(r"^\s*50%\s+(\S+)", out, re.M).group(1))
    p99 = to_ms(re.search(r"^\s*99%\s+(\S+)", out, re.M).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {"rps": rps, "p50_ms": p50, "p99_ms": p99,
            "errors": int(non2xx.group(1)) if non2xx else 0}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build/release")
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--connections", type=int, default=64)
    args = ap.parse_args()
    build = os.path.join(ROOT, args.build)
    dovira = os.path.join(build, "src/cli/dovira")
    empty = os.path.join(build, "src/adapters/http/dovira_http_empty")
    policy = os.path.join(ROOT, "policies/001_vkluchi_zhizn.toml")
    result = {}

    proc, port = start([empty, "--threads", "2", "--port", "0"], r"listening on (\d+)")
    try:
        result["empty_adapter"] = wrk(f"http://127.0.0.1:{port}/", args.seconds, args.connections)
    finally:
        stop(proc)

    data = tempfile.mkdtemp(prefix="dovira-http-bench-", dir="/var/tmp")
    try:
        key = subprocess.run([dovira, "apikey", "create", "--data", data, "--policy", policy,
                              "--name", "bench", "--role", "support",
                              "--purpose", "contract_performance"],
                             check=True, capture_output=True, text=True).stdout.strip()
        proc, port = start([dovira, "serve", "--data", data, "--policy", policy, "--port", "0",
                            "--quiet", "--workers", "16"],
                           r"listening on http://127\.0\.0\.1:(\d+)/")
        try:
            base = f"http://127.0.0.1:{port}"
            body = {"fields": {"first_name": "Олена", "email": "bench@example.com",
                               "mobile_phone": "+380671234567", "purchased_service": "Курс",
                               "purchase_amount": "1200"},
                    "consents": ["pd_consent"], "accept_policy": True, "age_statement": "adult"}
            req = urllib.request.Request(
                base + "/v1/schools/vkluchi_zhizn/forms/payment/submissions",
                data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
            subject = json.load(urllib.request.urlopen(req))["subject"]
            script = os.path.join(data, "read.lua")
            with open(script, "w") as f:
                f.write('wrk.method = "POST"\n'
                        'wrk.body = \'{"purpose":"contract_performance"}\'\n'
                        'wrk.headers["Content-Type"] = "application/json"\n'
                        f'wrk.headers["Authorization"] = "Bearer {key}"\n')
            decide = os.path.join(data, "decide.lua")
            with open(decide, "w") as f:
                f.write('wrk.method = "POST"\n'
                        f'wrk.body = \'{{"subject":"{subject}","purpose":"contract_performance"}}\'\n'
                        'wrk.headers["Content-Type"] = "application/json"\n'
                        f'wrk.headers["Authorization"] = "Bearer {key}"\n')
            result["server_healthz"] = wrk(base + "/healthz", args.seconds, args.connections)
            result["gated_read"] = wrk(f"{base}/v1/schools/vkluchi_zhizn/subjects/{subject}/read",
                                       args.seconds, args.connections, script)
            result["gated_decision"] = wrk(f"{base}/v1/schools/vkluchi_zhizn/process",
                                           args.seconds, args.connections, decide)
        finally:
            stop(proc)
    finally:
        shutil.rmtree(data, ignore_errors=True)
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
