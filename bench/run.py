#!/usr/bin/env python3
"""Driver of the load benchmark (run it through bench/load.sh, which builds and installs wrk).

Starts the quickstart (A) and the hand-written baseline (B) on one SQLite database, pinned to
SERVER_CPU, and drives them with wrk pinned to LOAD_CPU, alternating A B A B. Prints:

- per route: requests/s, p50, p99, peak RSS (VmHWM, reset before each run) of A and B, and A/B;
- the login flood: p99 of the JWT-guarded route while FLOOD_LOGINS connections log in, against
  its idle p99;
- login latency against the bare argon2id time (argon2 crate, and argon2-cffi if available);
- the quickstart's peak RSS through the whole run against 24 MiB + 64 MiB x hashing pool.

Only the standard library is used.
"""

import argparse
import base64
import json
import os
import resource
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = os.environ.get
DURATION = int(ENV("DURATION", "10"))
CONNECTIONS = int(ENV("CONNECTIONS", "64"))
ROUNDS = int(ENV("ROUNDS", "2"))
LOGIN_CONNECTIONS = int(ENV("LOGIN_CONNECTIONS", "1"))
FLOOD_LOGINS = int(ENV("FLOOD_LOGINS", "64"))
PROBE_CONNECTIONS = int(ENV("PROBE_CONNECTIONS", "4"))
SERVER_CPU = ENV("SERVER_CPU", "0")
LOAD_CPU = ENV("LOAD_CPU", "1")
MAX_LOAD = float(ENV("MAX_LOAD", "0.7"))
LOAD_WAIT = int(ENV("LOAD_WAIT", "900"))
PORT_A, PORT_B, PORT_C = (int(ENV(f"PORT_{x}", str(18000 + i))) for i, x in enumerate("ABC"))
EMAIL, PASSWORD = "bench.user@example.com", "bench-password-1"

LUA = r"""
wrk.method = "%(method)s"
%(headers)s
%(body)s
done = function(summary, latency, requests)
  io.write(string.format(
    "WRKJSON {\"requests\": %%d, \"duration_us\": %%d, \"p50_us\": %%d, \"p99_us\": %%d, " ..
    "\"max_us\": %%d, \"connect\": %%d, \"read\": %%d, \"write\": %%d, \"status\": %%d, " ..
    "\"timeout\": %%d}\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.status, summary.errors.timeout))
end
"""


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def http(method, url, headers=None, data=None):
    request = urllib.request.Request(url, method=method, headers=headers or {}, data=data)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def wait_up(port, proc, what):
    for _ in range(300):
        if proc.poll() is not None:
            sys.exit(f"{what} exited with {proc.returncode}; see its log")
        try:
            if http("GET", f"http://127.0.0.1:{port}/health")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    sys.exit(f"{what} did not answer on port {port}")


def rss_kib(pid, field):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def reset_peak(pid):
    """Resets VmHWM to the current RSS (Linux >= 4.0); False if not permitted."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


TICK = os.sysconf("SC_CLK_TCK")


def busy_seconds():
    """(CPU time the guest's processes and kernel spent, CPU time the hypervisor stole), over
    every CPU."""
    with open("/proc/stat") as f:
        user, nice, system, _idle, _iowait, irq, softirq, steal = (
            int(x) for x in f.readline().split()[1:9])
    return (user + nice + system + irq + softirq) / TICK, steal / TICK


def process_seconds(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK
    except OSError:
        return 0.0


class ForeignCpu:
    """How much CPU other processes (builds, other benchmarks) used during a measurement, as
    a fraction of the machine: busy time minus the servers' and the load generators'."""

    worst = 0.0
    worst_steal = 0.0

    def __init__(self, servers):
        self.servers = servers

    def __enter__(self):
        self.t = time.time()
        self.busy, self.steal = busy_seconds()
        self.ours = self._ours()
        return self

    def _ours(self):
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return (sum(process_seconds(s.proc.pid) for s in self.servers)
                + children.ru_utime + children.ru_stime)

    def __exit__(self, *exc):
        wall = time.time() - self.t
        busy, steal = busy_seconds()
        foreign = (busy - self.busy) - (self._ours() - self.ours)
        capacity = wall * (os.cpu_count() or 1)
        self.fraction = max(0.0, foreign / capacity)
        self.steal_fraction = (steal - self.steal) / capacity
        ForeignCpu.worst = max(ForeignCpu.worst, self.fraction)
        ForeignCpu.worst_steal = max(ForeignCpu.worst_steal, self.steal_fraction)
        if self.fraction > 0.05 or self.steal_fraction > 0.05:
            log(f"WARNING: other processes used {self.fraction:.0%} of the machine and the "
                f"hypervisor stole {self.steal_fraction:.0%} during this run")
        return False


def load_average():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


class Server:
    def __init__(self, name, args, env, port, log_path):
        self.name, self.port = name, port
        self.log = open(log_path, "w")
        full_env = dict(os.environ, **env)
        self.proc = subprocess.Popen(
            ["taskset", "-c", SERVER_CPU] + args,
            env=full_env, stdout=self.log, stderr=subprocess.STDOUT, cwd=ROOT,
        )
        wait_up(port, self.proc, name)
        self.whole_run_peak = rss_kib(self.proc.pid, "VmHWM")
        self.resettable = True

    def begin(self):
        """Starts a measured interval: remember the peak so far, reset it."""
        between = rss_kib(self.proc.pid, "VmHWM")
        if between > self.whole_run_peak:
            log(f"{self.name}: new peak RSS {between / 1024:.1f} MiB reached since the last "
                "reset (between measured runs)")
        self.whole_run_peak = max(self.whole_run_peak, between)
        self.resettable = reset_peak(self.proc.pid) and self.resettable

    def peak(self):
        value = rss_kib(self.proc.pid, "VmHWM")
        self.whole_run_peak = max(self.whole_run_peak, value)
        return value

    def settle(self, limit=120):
        """Waits until the server stops using CPU (logins queued by a flood still running)."""
        deadline = time.time() + limit
        last = process_seconds(self.proc.pid)
        while time.time() < deadline:
            time.sleep(0.5)
            now = process_seconds(self.proc.pid)
            if now - last < 0.02:
                return
            last = now
        log(f"WARNING: {self.name} still busy {limit} s after the flood")

    def stop(self):
        self.peak()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def lua_script(workdir, name, method, headers, body):
    path = os.path.join(workdir, f"{name}.lua")
    header_lines = "\n".join(
        f'wrk.headers["{k}"] = "{v}"' for k, v in headers.items()
    )
    body_line = f'wrk.body = "{body}"' if body else ""
    with open(path, "w") as f:
        f.write(LUA % {"method": method, "headers": header_lines, "body": body_line})
    return path


def wrk_command(url, script, connections, duration):
    return [
        "taskset", "-c", LOAD_CPU, "wrk", "-t1", f"-c{connections}", f"-d{duration}s",
        "--timeout", "30s", "-s", script, url,
    ]


def parse_wrk(output):
    for line in output.splitlines():
        if line.startswith("WRKJSON "):
            result = json.loads(line[len("WRKJSON "):])
            result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
            result["errors"] = sum(result[k] for k in ("connect", "read", "write", "timeout"))
            return result
    raise RuntimeError("no result from wrk:\n" + output)


def run_wrk(url, script, connections, duration=DURATION):
    out = subprocess.run(
        wrk_command(url, script, connections, duration),
        capture_output=True, text=True, check=True,
    ).stdout
    return parse_wrk(out)


def ms(us):
    return us / 1000.0


def fmt_ms(us):
    value = ms(us)
    return f"{value:.2f}" if value < 100 else f"{value:.0f}"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--argon2-python", default="")
    parser.add_argument("--fastapi-python", default="",
                        help="interpreter of a venv with fastapi-users and uvicorn: third column")
    options = parser.parse_args()

    for tool in ("wrk", "taskset"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is missing (bench/load.sh installs wrk)")
    exe = os.path.join(ROOT, "target", "release", "examples")
    for binary in ("quickstart", "baseline"):
        if not os.path.exists(os.path.join(exe, binary)):
            sys.exit(f"{exe}/{binary} is missing: run bench/load.sh (it builds in release)")

    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                              capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "src", "auth-runtime", "auth-macros",
             "examples", "Cargo.toml", "Cargo.lock"],
            cwd=ROOT, capture_output=True, text=True).stdout.split("\n")
        dirty = [line[3:] for line in dirty if line.strip()]
    except OSError:
        head, dirty = "?", []
    sources = (f"Sources (at start): commit {head}"
               + (f", with uncommitted changes to {', '.join(dirty)}" if dirty else ", clean")
               + ".")
    waited = 0
    while load_average() >= MAX_LOAD and waited < LOAD_WAIT:
        if waited % 60 == 0:
            log(f"waiting for the 1-minute load average ({load_average():.2f}) to drop below {MAX_LOAD}")
        time.sleep(5)
        waited += 5
    start_load = load_average()
    if start_load >= MAX_LOAD:
        log(f"WARNING: starting with load average {start_load:.2f} >= {MAX_LOAD} after {LOAD_WAIT} s")
    started = time.time()

    workdir = tempfile.mkdtemp(prefix="axum-users-bench-")
    db = os.path.join(workdir, "bench.db")
    secret = secrets.token_hex(32)
    common = {"AUTH_DATABASE_URL": f"sqlite://{db}", "AUTH_SECRET": secret}
    log(f"work directory {workdir}")

    quickstart = Server(
        "quickstart",
        [os.path.join(exe, "quickstart")],
        dict(common, AUTH_BIND=f"127.0.0.1:{PORT_A}", AUTH_COOKIE_SECURE="false",
             RUST_LOG="warn"),
        PORT_A, os.path.join(workdir, "quickstart.log"),
    )
    servers = [quickstart]
    try:
        a = f"http://127.0.0.1:{PORT_A}"
        status, body = http(
            "POST", f"{a}/auth/register", {"Content-Type": "application/json"},
            json.dumps({"email": EMAIL, "password": PASSWORD}).encode(),
        )
        if status != 201:
            sys.exit(f"register: {status} {body!r}")
        form = f"username={EMAIL}&password={PASSWORD}".replace("@", "%40")
        status, body = http(
            "POST", f"{a}/auth/jwt/login",
            {"Content-Type": "application/x-www-form-urlencoded"}, form.encode(),
        )
        if status != 200:
            sys.exit(f"login: {status} {body!r}")
        token = json.loads(body)["access_token"]
        head, payload, signature = token.split(".")
        # The same token with one signature byte changed: a full HMAC check that fails.
        raw = bytearray(base64.urlsafe_b64decode(signature + "=="))
        raw[0] ^= 0x01
        bad_signature = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
        invalid = f"{head}.{payload}.{bad_signature}"

        baseline = Server(
            "baseline",
            [os.path.join(exe, "baseline")],
            dict(common, BASELINE_BIND=f"127.0.0.1:{PORT_B}"),
            PORT_B, os.path.join(workdir, "baseline.log"),
        )
        servers.append(baseline)
        targets = {"A": (quickstart, a), "B": (baseline, f"http://127.0.0.1:{PORT_B}")}
        if options.fastapi_python:
            fastapi = Server(
                "fastapi-users",
                [options.fastapi_python, "-m", "uvicorn", "fastapi_users_app:app",
                 "--app-dir", os.path.join(ROOT, "bench"), "--host", "127.0.0.1",
                 "--port", str(PORT_C), "--workers", "1", "--no-access-log",
                 "--log-level", "warning"],
                dict(common, BENCH_DB=db),
                PORT_C, os.path.join(workdir, "fastapi-users.log"),
            )
            servers.append(fastapi)
            targets["C"] = (fastapi, f"http://127.0.0.1:{PORT_C}")
        labels = list(targets)

        scenarios = [
            # name, method, path, headers, body, connections, expected status
            ("unguarded GET /health", "GET", "/health", {}, None, CONNECTIONS, 200),
            ("JWT-guarded GET /protected", "GET", "/protected",
             {"Authorization": f"Bearer {token}"}, None, CONNECTIONS, 200),
            ("cookie-guarded GET /protected", "GET", "/protected",
             {"Cookie": f"fastapiusersauth={token}"}, None, CONNECTIONS, 200),
            ("GET /users/me", "GET", "/users/me",
             {"Authorization": f"Bearer {token}"}, None, CONNECTIONS, 200),
            ("invalid token (401)", "GET", "/protected",
             {"Authorization": f"Bearer {invalid}"}, None, CONNECTIONS, 401),
            (f"login POST /auth/jwt/login ({LOGIN_CONNECTIONS} conn.)", "POST",
             "/auth/jwt/login", {"Content-Type": "application/x-www-form-urlencoded"},
             form, LOGIN_CONNECTIONS, 200),
        ]

        # Both servers must give the same answers before they are timed.
        for name, method, path, headers, body, _, expected in scenarios:
            answers = []
            for label, (server, base) in targets.items():
                status, reply = http(method, base + path, headers,
                                     body.encode() if body else None)
                if status != expected:
                    sys.exit(f"{server.name} {name}: {status} {reply!r}, expected {expected}")
                answers.append(json.loads(reply))
            if path != "/auth/jwt/login" and any(x != answers[0] for x in answers):
                sys.exit(f"{name}: the servers disagree: {answers}")
        log("both servers answer every scenario alike")

        scripts = {
            s[0]: lua_script(workdir, f"s{i}", s[1], s[3], s[4]) for i, s in enumerate(scenarios)
        }
        # Warm-up (connection pools, prepared statements, page cache), not measured.
        for label, (server, base) in targets.items():
            run_wrk(base + "/protected", scripts[scenarios[1][0]], CONNECTIONS, 3)

        # Bare argon2id at the same parameters, on the server's core, beside each login run.
        argon2_env = dict(os.environ, **common, BENCH_EMAIL=EMAIL, BENCH_PASSWORD=PASSWORD)
        stored = subprocess.run(
            [sys.executable, "-c",
             "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("
             "'select hashed_password from user where email=?', (sys.argv[2],)).fetchone()[0])",
             db, EMAIL],
            capture_output=True, text=True, check=True,
        ).stdout.strip()
        cffi_code = (
            "import sys, time, statistics, argon2\n"
            "h = argon2.PasswordHasher(time_cost=3, memory_cost=65536, parallelism=4)\n"
            "t = []\n"
            "for _ in range(int(sys.argv[3])):\n"
            "    s = time.perf_counter(); h.verify(sys.argv[1], sys.argv[2]);"
            " t.append((time.perf_counter() - s) * 1000)\n"
            "print(statistics.median(t))\n"
        )
        argon2_times = {"rust": [], "cffi": []}

        def bare_argon2(rounds=10):
            argon2_times["rust"].append(float(subprocess.run(
                ["taskset", "-c", SERVER_CPU, os.path.join(exe, "baseline"), "argon2-time",
                 str(rounds)],
                env=argon2_env, capture_output=True, text=True, check=True,
            ).stdout.strip()))
            if options.argon2_python:
                argon2_times["cffi"].append(float(subprocess.run(
                    ["taskset", "-c", SERVER_CPU, options.argon2_python, "-c", cffi_code,
                     stored, PASSWORD, str(rounds)],
                    capture_output=True, text=True, check=True,
                ).stdout.strip()))
            log(f"bare argon2id verify, median: argon2 crate {argon2_times['rust'][-1]:.1f} ms"
                + (f", argon2-cffi {argon2_times['cffi'][-1]:.1f} ms"
                   if argon2_times["cffi"] else ""))

        results = {s[0]: {label: [] for label in labels} for s in scenarios}
        for round_ in range(1, ROUNDS + 1):
            for name, method, path, headers, body, connections, expected in scenarios:
                for label in labels:
                    server, base = targets[label]
                    server.begin()
                    with ForeignCpu(servers) as foreign:
                        r = run_wrk(base + path, scripts[name], connections)
                    r["foreign_cpu"] = foreign.fraction
                    r["steal"] = foreign.steal_fraction
                    r["rss_kib"] = server.peak()
                    if expected == 200 and r["status"]:
                        log(f"WARNING {server.name} {name}: {r['status']} non-2xx answers")
                    if expected != 200 and r["status"] != r["requests"]:
                        log(f"WARNING {server.name} {name}: {r['requests'] - r['status']} 2xx answers")
                    if r["errors"]:
                        log(f"WARNING {server.name} {name}: {r['errors']} socket errors")
                    results[name][label].append(r)
                    log(f"round {round_} {label} {name:45s} {r['rps']:9.0f} req/s  "
                        f"p50 {fmt_ms(r['p50_us'])} ms  p99 {fmt_ms(r['p99_us'])} ms  "
                        f"VmHWM {r['rss_kib'] / 1024:.1f} MiB  foreign CPU "
                        f"{foreign.fraction:.0%}, steal {foreign.steal_fraction:.0%}")
                    time.sleep(1)
                if path == "/auth/jwt/login":
                    bare_argon2()

        # Login flood: the JWT-guarded route while FLOOD_LOGINS connections log in.
        login_script = scripts[scenarios[5][0]]
        jwt_script = scripts[scenarios[1][0]]
        flood = {label: [] for label in labels}
        for round_ in range(1, ROUNDS + 1):
            for label in labels:
                server, base = targets[label]
                server.begin()
                with ForeignCpu(servers):
                    idle_probe = run_wrk(base + "/protected", jwt_script, PROBE_CONNECTIONS)
                time.sleep(1)
                server.begin()
                meter = ForeignCpu(servers).__enter__()
                logins = subprocess.Popen(
                    wrk_command(base + "/auth/jwt/login", login_script, FLOOD_LOGINS,
                                2 * DURATION + 5),
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                )
                time.sleep(2)
                r = run_wrk(base + "/protected", jwt_script, CONNECTIONS)
                time.sleep(1)
                r["probe_idle"] = idle_probe
                r["probe_flood"] = run_wrk(base + "/protected", jwt_script, PROBE_CONNECTIONS)
                login_out, _ = logins.communicate()
                r["logins"] = parse_wrk(login_out)
                meter.__exit__(None, None, None)
                r["foreign_cpu"], r["steal"] = meter.fraction, meter.steal_fraction
                # Logins still queued when wrk stops keep the core busy: let them finish
                # before the next server is measured on the same core.
                server.settle()
                r["rss_after_settle_kib"] = server.peak()
                r["rss_kib"] = server.peak()
                flood[label].append(r)
                log(f"round {round_} {label} flood: /protected {r['rps']:9.0f} req/s  "
                    f"p99 {fmt_ms(r['p99_us'])} ms; {PROBE_CONNECTIONS} conn. p99 "
                    f"{fmt_ms(idle_probe['p99_us'])} idle, {fmt_ms(r['probe_flood']['p99_us'])} "
                    f"flood; logins {r['logins']['rps']:.1f}/s "
                    f"p50 {fmt_ms(r['logins']['p50_us'])} ms  VmHWM {r['rss_kib'] / 1024:.1f} MiB")
                time.sleep(1)

        for server in servers:
            server.peak()
    finally:
        for server in servers:
            server.stop()
    elapsed = time.time() - started

    # ---- report ----
    def mean(values):
        return statistics.fmean(values)

    summary = {}
    print()
    print(f"## Load benchmark, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print()
    print(sources)
    print()
    print(f"wrk -t1, {DURATION} s per run, {CONNECTIONS} connections "
          f"(login: {LOGIN_CONNECTIONS}), {ROUNDS} rounds A B A B; servers on CPU {SERVER_CPU}, "
          f"wrk on CPU {LOAD_CPU}; load average at start {start_load:.2f}, "
          f"{os.cpu_count()} CPUs. RSS = peak over the rounds.")
    print()
    head = "| route |" + "".join(f" {x} req/s |" for x in labels) + " A/B |"
    head += (" A/C |" if "C" in labels else "")
    head += "".join(f" {x} p50 ms |" for x in labels) + "".join(f" {x} p99 ms |" for x in labels)
    head += "".join(f" {x} peak RSS MiB |" for x in labels)
    print(head)
    print("|---|" + "---:|" * (head.count("|") - 2))
    def clean(runs):
        """The runs other processes left alone (< 5 % of the machine), if there are any."""
        quiet = [r for r in runs if r["foreign_cpu"] < 0.05 and r["steal"] < 0.05]
        return quiet or runs

    disturbed = []
    for name, *_ in scenarios:
        row = {
            label: {
                "rps": mean([r["rps"] for r in clean(rs)]),
                "rps_rounds": [r["rps"] for r in rs],
                "foreign_rounds": [r["foreign_cpu"] for r in rs],
                "p50_us": mean([r["p50_us"] for r in clean(rs)]),
                "p99_us": mean([r["p99_us"] for r in clean(rs)]),
                "rss_mib": max(r["rss_kib"] for r in rs) / 1024,
            }
            for label, rs in results[name].items()
        }
        summary[name] = row
        for label, rs in results[name].items():
            dropped = len(rs) - len(clean(rs))
            if dropped or rs[0]["foreign_cpu"] >= 0.05 or rs[0]["steal"] >= 0.05:
                disturbed.append(f"{name} {label}: " + ", ".join(
                    f"{r['foreign_cpu']:.0%}+{r['steal']:.0%}" for r in rs))
        line = f"| {name} |" + "".join(f" {row[x]['rps']:.0f} |" for x in labels)
        line += f" {row['A']['rps'] / row['B']['rps']:.3f} |"
        if "C" in labels:
            line += f" {row['A']['rps'] / row['C']['rps']:.1f} |"
        line += "".join(f" {fmt_ms(row[x]['p50_us'])} |" for x in labels)
        line += "".join(f" {fmt_ms(row[x]['p99_us'])} |" for x in labels)
        line += "".join(f" {row[x]['rss_mib']:.1f} |" for x in labels)
        print(line)
    print()
    print("A = quickstart (axum-users), B = hand-written baseline (examples/baseline.rs)"
          + (", C = fastapi-users 15.0.5 under uvicorn (bench/fastapi_users_app.py)."
             if "C" in labels else "."))
    print()
    print("Means over the rounds in which other processes used < 5 % of the machine and the "
          "hypervisor stole < 5 % (all rounds if none). Disturbed runs (share of the machine "
          "used by other processes + stolen, per round): " + ("; ".join(disturbed) if disturbed else "none") + ".")
    print()
    print("Per-round req/s: " + "; ".join(
        f"{name}: " + " / ".join(
            f"{x} {', '.join(f'{v:.0f}' for v in summary[name][x]['rps_rounds'])}"
            for x in labels)
        for name, *_ in scenarios))

    # The hashing pool is one permit per CPU the quickstart may run on (password.rs).
    pool = 0
    for part in SERVER_CPU.split(","):
        lo, _, hi = part.partition("-")
        pool += int(hi or lo) - int(lo) + 1
    jwt, unguarded, me, bad, login = (s[0] for s in (scenarios[1], scenarios[0],
                                                     scenarios[3], scenarios[4], scenarios[5]))
    print()
    print("### Login flood")
    print()
    print(f"JWT-guarded `/protected` while {FLOOD_LOGINS} connections log in; idle p99 at "
          f"{CONNECTIONS} connections is the table's. Probe: the same at {PROBE_CONNECTIONS} "
          "connections, idle and flooded, measured next to each other. 'none' = no request "
          f"answered within the {DURATION} s run.")
    print()
    print(f"| server | idle p99 ms | flood p99 ms | ratio | idle req/s | flood req/s "
          f"| probe idle p99 ms | probe flood p99 ms | probe ratio | logins/s | login p50 ms "
          f"| peak RSS MiB |")
    print("|---|" + "---:|" * 11)
    flood_summary = {}
    titles = {"A": "quickstart", "B": "baseline", "C": "fastapi-users"}

    def p99_or_none(runs):
        if any(r["requests"] == 0 for r in runs):
            return None
        return mean([r["p99_us"] for r in runs])

    def show(us):
        return "none" if us is None else fmt_ms(us)

    def ratio(a, b):
        return "inf" if a is None else f"{a / b:.2f}"

    for label in labels:
        runs = flood[label]
        idle = summary[jwt][label]["p99_us"]
        fp99 = p99_or_none(runs)
        probe_idle = mean([r["probe_idle"]["p99_us"] for r in runs])
        probe_flood = p99_or_none([r["probe_flood"] for r in runs])
        flood_summary[label] = (fp99, idle, probe_flood, probe_idle)
        logins = [r["logins"] for r in runs]
        print(f"| {titles[label]} | {fmt_ms(idle)} | {show(fp99)} | {ratio(fp99, idle)} "
              f"| {summary[jwt][label]['rps']:.0f} | {mean([r['rps'] for r in runs]):.0f} "
              f"| {fmt_ms(probe_idle)} | {show(probe_flood)} | {ratio(probe_flood, probe_idle)} "
              f"| {mean([r['rps'] for r in logins]):.1f} "
              f"| {show(p99_or_none(logins) and mean([r['p50_us'] for r in logins]))} "
              f"| {max(r['rss_kib'] for r in runs) / 1024:.1f} |")

    argon2_rust = mean(argon2_times["rust"])
    argon2_cffi = mean(argon2_times["cffi"]) if argon2_times["cffi"] else None
    login_p50 = ms(summary[login]["A"]["p50_us"])
    login_b = ms(summary[login]["B"]["p50_us"])
    print()
    print("### Login latency against bare argon2id (m=65536, t=3, p=4, verify), pinned to the "
          "server's CPU")
    print()
    print(f"- argon2 crate: {argon2_rust:.1f} ms (median of 10, mean over {len(argon2_times['rust'])} "
          f"runs next to the login runs: {', '.join(f'{v:.1f}' for v in argon2_times['rust'])})")
    if argon2_cffi is not None:
        print(f"- argon2-cffi: {argon2_cffi:.1f} ms "
              f"({', '.join(f'{v:.1f}' for v in argon2_times['cffi'])})")
    print(f"- quickstart login p50 ({LOGIN_CONNECTIONS} conn.): {login_p50:.1f} ms "
          f"= {login_p50 / argon2_rust:.3f} x argon2 crate")
    print(f"- baseline login p50: {login_b:.1f} ms = {login_b / argon2_rust:.3f} x argon2 crate")
    if "C" in labels:
        login_c = ms(summary[login]["C"]["p50_us"])
        reference = argon2_cffi or argon2_rust
        print(f"- fastapi-users login p50: {login_c:.1f} ms = {login_c / reference:.3f} x "
              f"{'argon2-cffi' if argon2_cffi else 'argon2 crate'}")

    whole = quickstart.whole_run_peak / 1024
    limit = 24 + 64 * pool
    print()
    print("### Targets")
    print()
    checks = [
        ("JWT-guarded >= 0.95 x baseline req/s (goal 0.97)",
         summary[jwt]["A"]["rps"] / summary[jwt]["B"]["rps"], ">=", 0.95),
        ("401 path no slower than the 200 path (A req/s 401 / 200)",
         summary[bad]["A"]["rps"] / summary[jwt]["A"]["rps"], ">=", 1.0),
        ("unguarded >= 0.97 x baseline req/s",
         summary[unguarded]["A"]["rps"] / summary[unguarded]["B"]["rps"], ">=", 0.97),
        ("guarded p99 under login flood <= 2 x idle p99",
         (flood_summary["A"][0] or float("inf")) / flood_summary["A"][1], "<=", 2.0),
        ("login latency <= argon2 time x 1.05", login_p50 / argon2_rust, "<=", 1.05),
        (f"quickstart peak RSS (whole run) <= 24 + 64 x {pool} MiB = {limit} MiB "
         f"(measured {whole:.1f} MiB)", whole / limit, "<=", 1.0),
    ]
    print("| target | measured | pass |")
    print("|---|---:|---|")
    for title, value, op, bound in checks:
        ok = value >= bound if op == ">=" else value <= bound
        print(f"| {title} | {value:.3f} | {'pass' if ok else 'MISS'} |")
    print()
    print(f"`GET /users/me` A/B: {summary[me]['A']['rps'] / summary[me]['B']['rps']:.3f}. "
          f"Hashing pool of the pinned quickstart: {pool} (one per CPU it may run on). "
          f"VmHWM reset between runs: {'yes' if quickstart.resettable else 'no'}. "
          f"Worst share of the machine used by other processes during a run: "
          f"{ForeignCpu.worst:.0%}; worst steal: {ForeignCpu.worst_steal:.0%}. "
          f"Measured in {elapsed:.0f} s; logs and wrk scripts in {workdir}.")
    with open(os.path.join(workdir, "results.json"), "w") as f:
        json.dump({"summary": summary, "runs": results, "flood": flood, "argon2_ms": argon2_times, "quickstart_peak_mib": whole,
                   "pool": pool, "start_load": start_load, "worst_foreign_cpu": ForeignCpu.worst, "elapsed_s": elapsed}, f, indent=1)


if __name__ == "__main__":
    main()
