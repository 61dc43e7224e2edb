#!/usr/bin/env python3
"""Security benchmarks of the quickstart (run through bench/security.sh, which builds it).

timing  Enumeration by timing: the latency of login for an unknown e-mail against a known
        e-mail with a wrong password, and of forgot-password for a known against an unknown
        e-mail, TRIES each (default 100), interleaved (A B A B) so that drift hits both alike.
        Prints the medians and their difference; exits 1 if a pair differs by 10 % or more.
flood   A flood of FLOOD concurrent logins (default 500, each on its own connection) with the
        default argon2id parameters and the default hashing pool, while a probe sends guarded
        GET /users/me requests one after the other. Prints what the logins were answered
        (400 wrong password, 503 shed), the probe's p50/p99/max during the flood against idle,
        and the server's peak RSS (VmHWM) against idle.

Both start the release quickstart on a fresh SQLite file with AUTH_RATE_LIMITS=off: the rate
limits would otherwise answer most of these requests with 429 before any hashing, which is what
they are for but not what is measured here. Only the standard library is used.
"""

import argparse
import asyncio
import http.client
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PORT = int(os.environ.get("PORT", "18100"))
EMAIL, PASSWORD = "bench.user@example.com", "bench-password-1"


def log(*args):
    print(*args, file=sys.stderr, flush=True)


class Client:
    """One keep-alive HTTP/1.1 connection."""

    def __init__(self):
        self.conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)

    def request(self, method, path, body=None, headers=None):
        headers = dict(headers or {})
        if isinstance(body, dict):
            body = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        elif isinstance(body, str):
            body = body.encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        start = time.perf_counter()
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        data = response.read()
        return response.status, data, time.perf_counter() - start


def form(email, password):
    from urllib.parse import urlencode

    return urlencode({"username": email, "password": password})


def start_server(workdir):
    binary = os.path.join(ROOT, "target", "release", "examples", "quickstart")
    env = dict(
        os.environ,
        AUTH_BIND=f"127.0.0.1:{PORT}",
        AUTH_DATABASE_URL=f"sqlite://{workdir}/bench.db",
        AUTH_SECRET=secrets.token_hex(32),
        AUTH_COOKIE_SECURE="false",
        AUTH_RATE_LIMITS="off",
        AUTH_OUTBOX=f"{workdir}/outbox.jsonl",
        RUST_LOG="warn",
    )
    env.pop("AUTH_REDIS_URL", None)
    log_file = open(os.path.join(workdir, "server.log"), "w")
    proc = subprocess.Popen([binary], env=env, stdout=log_file, stderr=subprocess.STDOUT)
    for _ in range(300):
        if proc.poll() is not None:
            sys.exit(f"quickstart exited with {proc.returncode}; see {workdir}/server.log")
        try:
            if Client().request("GET", "/health")[0] == 200:
                return proc
        except OSError:
            pass
        time.sleep(0.1)
    sys.exit("quickstart did not start")


def register_and_login(client):
    status, body, _ = client.request("POST", "/auth/register", {"email": EMAIL, "password": PASSWORD})
    assert status == 201, (status, body)
    status, body, _ = client.request("POST", "/auth/jwt/login", form(EMAIL, PASSWORD))
    assert status == 200, (status, body)
    return json.loads(body)["access_token"]


def rss_kib(pid, field):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def pct(a, b):
    return abs(a - b) / min(a, b) * 100


def timing(args, proc):
    client = Client()
    register_and_login(client)
    pairs = {
        "login": (
            lambda: client.request("POST", "/auth/jwt/login",
                                   form(f"nobody.{secrets.token_hex(6)}@example.com", "wrong-password-1")),
            lambda: client.request("POST", "/auth/jwt/login", form(EMAIL, "wrong-password-1")),
            ("unknown e-mail", "known e-mail, wrong password"), 400,
        ),
        "forgot-password": (
            lambda: client.request("POST", "/auth/forgot-password", {"email": EMAIL}),
            lambda: client.request("POST", "/auth/forgot-password",
                                   {"email": f"nobody.{secrets.token_hex(6)}@example.com"}),
            ("known e-mail", "unknown e-mail"), 202,
        ),
    }
    failed = False
    results = {}
    for name, (a, b, labels, expected) in pairs.items():
        for _ in range(args.warmup):
            a(), b()
        times = ([], [])
        for _ in range(args.tries):
            for i, f in enumerate((a, b)):
                status, body, seconds = f()
                assert status == expected, (name, status, body)
                times[i].append(seconds * 1000)
                if name == "forgot-password":
                    # Let the background work of the previous request end before the next one.
                    time.sleep(args.pause)
        ma, mb = statistics.median(times[0]), statistics.median(times[1])
        diff = pct(ma, mb)
        ok = diff < 10
        failed |= not ok
        results[name] = {labels[0]: ma, labels[1]: mb, "difference_pct": diff}
        print(f"{name}: median {labels[0]} {ma:.3f} ms, {labels[1]} {mb:.3f} ms, "
              f"difference {diff:.1f} % ({'ok' if ok else 'FAIL'}: < 10 %), n = {args.tries} each; "
              f"p90 {statistics.quantiles(times[0], n=10)[-1]:.3f} / "
              f"{statistics.quantiles(times[1], n=10)[-1]:.3f} ms")
    print("RESULT " + json.dumps(results))
    return 1 if failed else 0


async def raw_login(payload):
    reader, writer = await asyncio.open_connection("127.0.0.1", PORT)
    try:
        writer.write(payload)
        await writer.drain()
        data = await reader.read(65536)
        line = data.split(b"\r\n", 1)[0]
        return int(line.split()[1]) if line.startswith(b"HTTP/1.1") else 0
    except OSError:
        return -1
    finally:
        writer.close()


def probe(client, token, n=None, until=None):
    latencies = []
    while (n is not None and len(latencies) < n) or (until is not None and not until()):
        status, body, seconds = client.request(
            "GET", "/users/me", headers={"Authorization": f"Bearer {token}"})
        assert status == 200, (status, body)
        latencies.append(seconds * 1000)
    return latencies


def summary(latencies):
    q = statistics.quantiles(latencies, n=100)
    return f"p50 {statistics.median(latencies):.2f} ms, p99 {q[98]:.2f} ms, max {max(latencies):.2f} ms (n={len(latencies)})"


def flood(args, proc):
    client = Client()
    token = register_and_login(client)
    idle = probe(client, token, n=500)
    idle_rss = rss_kib(proc.pid, "VmRSS")
    body = form(EMAIL, "wrong-password-1").encode()
    payload = (b"POST /auth/jwt/login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               b"Content-Type: application/x-www-form-urlencoded\r\n"
               b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)

    async def run():
        loop = asyncio.get_running_loop()
        start = time.perf_counter()
        tasks = [asyncio.create_task(raw_login(payload)) for _ in range(args.flood)]
        done = asyncio.gather(*tasks)
        probe_task = loop.run_in_executor(None, lambda: probe(Client(), token, until=lambda: all(t.done() for t in tasks)))
        statuses = await done
        elapsed = time.perf_counter() - start
        return statuses, await probe_task, elapsed

    statuses, during, elapsed = asyncio.run(run())
    peak = rss_kib(proc.pid, "VmHWM")
    counts = {s: statuses.count(s) for s in sorted(set(statuses))}
    print(f"flood: {args.flood} concurrent logins answered {counts} in {elapsed:.1f} s "
          "(400 = checked, wrong password; 503 = shed by the hashing pool)")
    print(f"guarded GET idle:         {summary(idle)}")
    print(f"guarded GET during flood: {summary(during)}")
    print(f"RSS idle {idle_rss / 1024:.1f} MiB, peak {peak / 1024:.1f} MiB")
    print("RESULT " + json.dumps({
        "answers": counts, "seconds": elapsed,
        "idle_p50_ms": statistics.median(idle), "idle_p99_ms": statistics.quantiles(idle, n=100)[98],
        "flood_p50_ms": statistics.median(during), "flood_p99_ms": statistics.quantiles(during, n=100)[98],
        "flood_max_ms": max(during), "rss_idle_mib": idle_rss / 1024, "rss_peak_mib": peak / 1024,
    }))
    return 0 if set(counts) <= {400, 503} else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["timing", "flood"])
    parser.add_argument("--tries", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--pause", type=float, default=0.02,
                        help="seconds between forgot-password requests (background work)")
    parser.add_argument("--flood", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        proc = start_server(workdir)
        try:
            return (timing if args.what == "timing" else flood)(args, proc)
        finally:
            proc.terminate()
            proc.wait()


if __name__ == "__main__":
    sys.exit(main())
