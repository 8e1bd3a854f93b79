"""Replicas behind a real load balancer: HAProxy with deploy/haproxy.cfg, on loopback (no containers).

    flock /tmp/heavy.lock python bench/bench_replicas.py [--replicas 2] [--sessions 100] [--trainers 4]
                                                        [--burst 30] [--within 10] [--parts load,burst,drill]

Starts K app replicas (`streamlit run`, each with its per-replica settings in LSTM_LAB_MAX_JOBS) and HAProxy with the
deployment's own configuration file; only the listening address and the server lines (Docker's DNS there, local
ports here) are swapped, and a log format that names the visitor of each request is added. Visitors are
bench_load.py's websocket clients: each first loads the page over HTTP through the balancer (which picks a replica
and sets its SERVERID cookie), then opens the websocket with that cookie, as a browser does.

1. load: `--sessions` visitors, `--trainers` of them training (bench_load's viewers and trainers). HAProxy's log
   says which replica served every request and websocket: each visitor must have reached exactly one. Prints
   sessions per replica, errors, p50/p95 per rerun.
2. burst: `--burst` visitors press Start on the default preset within `--within` s, first on 1 replica (2 training
   slots), then on K replicas (2/K slots each: the same cores), polling every 2 s like the page. Prints the time until
   the last model finished, the queue places each visitor saw, and whether anyone was overtaken (a visitor seen
   running while one who had pressed Start earlier on the same replica was still seen queued). Then a projection
   for 4, 8, 16 cores from the measured per-job time: labelled as a projection, checked against the measured case.
3. drill: K replicas, a burst and viewers; one replica is killed (SIGKILL) mid-burst. Its visitors reconnect as
   the browser does (health ping, then the websocket, with their now stale cookie); prints how long until each is
   served by a live replica, when HAProxy's health check marked the dead one DOWN, and the errors seen by the
   visitors of the surviving replicas (goal 0).
Goal (issue: a workshop of a hundred): on 2 replicas, sessions within +-20 % of the mean, 0 errors, p95 <= 1 s
with 100 sessions and 4 training; no visitor overtaken; 0 errors on the surviving replica.
"""
import argparse
import asyncio
import itertools
import math
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
sys.path.insert(0, str(ROOT / "bench"))
from conftest import _free_port, _healthy, start_server  # noqa: E402
from bench_load import Visitor, trainer, viewer  # noqa: E402

import websockets  # noqa: E402

HAPROXY_CFG = ROOT / "deploy" / "haproxy.cfg"
POLL = 2.0       # seconds between the page's looks at a training job (lstm_demo/ui/train.py POLL)
SLOTS = 2        # training slots of the whole machine (2 cores: one job per core)
VISITOR = "x-bench-visitor"


# --- the balancer and the replicas -------------------------------------------------------------------------------

def loopback_config(text: str, lb_port: int, ports: list) -> str:
    """deploy/haproxy.cfg with its listening address and servers swapped for loopback ones (each swap must match:
    if the file changes shape, this stops instead of measuring something else)."""
    def swap(pattern, repl, flags=re.M):
        new, n = re.subn(pattern, repl, text, count=1, flags=flags)
        assert n == 1, f"deploy/haproxy.cfg no longer has {pattern!r}"
        return new
    servers = "\n".join(f"    server r{i + 1} 127.0.0.1:{port} check" for i, port in enumerate(ports))
    text = swap(r"^    server-template .*$", servers)
    text = swap(r"^resolvers docker\n(    .*\n)+", "")
    text = swap(r"^    bind :8501$", f"    bind 127.0.0.1:{lb_port}\n"
                f"    http-request capture req.hdr({VISITOR}) len 16\n"
                f'    log-format "req %[capture.req.hdr(0)] %s %ST %HM %HU"')
    return text


class Cluster:
    """K replicas and HAProxy in front of them, on loopback."""

    def __init__(self, replicas: int, max_jobs: int, tmp: Path):
        self.tmp, self.servers, self.ports = tmp, [], []
        # the per-replica settings of deploy/compose.yaml: slots so that replicas x slots = cores, one thread a job
        env = {"LSTM_LAB_MAX_JOBS": str(max_jobs), "LSTM_LAB_THREADS_PER_JOB": "1"}
        for i in range(replicas):
            server, port = start_server(tmp / f"replica{i + 1}.log", env=env)
            self.servers.append(server)
            self.ports.append(port)
        for i, (server, port) in enumerate(zip(self.servers, self.ports)):
            assert _healthy(server, port), (tmp / f"replica{i + 1}.log").read_text()
        self.lb_port = _free_port()
        cfg = tmp / "haproxy.cfg"
        cfg.write_text(loopback_config(HAPROXY_CFG.read_text(), self.lb_port, self.ports))
        self.log = tmp / "haproxy.log"
        self.haproxy = subprocess.Popen([shutil.which("haproxy"), "-db", "-f", str(cfg)], stdout=open(self.log, "w"),
                                        stderr=subprocess.STDOUT, start_new_session=True)
        assert _healthy(self.haproxy, self.lb_port), self.log.read_text()
        self.lb = f"127.0.0.1:{self.lb_port}"
        for i, port in enumerate(self.ports):  # warm each replica once (imports, the bundled model)
            asyncio.run(_warm(f"ws://127.0.0.1:{port}/_stcore/stream"))

    def kill(self, i: int) -> None:
        os.killpg(self.servers[i].pid, signal.SIGKILL)

    def close(self) -> None:
        for server in self.servers:
            if server.poll() is None:
                os.killpg(server.pid, signal.SIGTERM)
                server.wait(timeout=30)
        os.killpg(self.haproxy.pid, signal.SIGTERM)
        self.haproxy.wait(timeout=30)

    def requests(self) -> list:
        """(visitor, replica, status, method, uri) of every request HAProxy logged."""
        rows = []
        for line in self.log.read_text().splitlines():
            parts = line.split(" ", 5)
            if parts[0] == "req" and len(parts) == 6 and parts[1] not in ("", "-"):  # not the bench's own pings
                rows.append((parts[1], parts[2], parts[3], parts[4], parts[5]))
        return rows

    def tracebacks(self) -> list:
        return [p.name for p in self.tmp.glob("replica*.log") if "Traceback" in p.read_text()]


@contextmanager
def cluster(replicas: int, max_jobs: int):
    c = Cluster(replicas, max_jobs, Path(tempfile.mkdtemp(prefix="replicas-")))
    try:
        yield c
    finally:
        c.close()


async def _warm(url):
    async with Visitor(url) as v:
        await v.run("")
        await v.run("Train")


class LBVisitor(Visitor):
    """A visitor through the balancer: the page over HTTP first (HAProxy picks a replica and sets its cookie), then
    the websocket with that cookie, as the browser does. Every request carries the visitor's name for HAProxy's log."""

    def __init__(self, lb: str, name: str):
        super().__init__(f"ws://{lb}/_stcore/stream")
        self.lb, self.name, self.cookie, self.replies = lb, name, "", []

    async def __aenter__(self):
        await asyncio.to_thread(self.get, "/")
        await asyncio.to_thread(self.get, "/_stcore/host-config")
        self.headers = self.request_headers()
        return await super().__aenter__()

    def request_headers(self) -> dict:
        return {VISITOR: self.name, **({"Cookie": self.cookie} if self.cookie else {})}

    def get(self, path: str) -> bytes:
        req = urllib.request.Request(f"http://{self.lb}{path}", headers=self.request_headers())
        with urllib.request.urlopen(req, timeout=30) as reply:
            body = reply.read()
            for value in reply.headers.get_all("Set-Cookie") or []:
                if value.startswith("SERVERID="):
                    self.cookie = value.split(";")[0]
            return body


def quantile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def names(prefix):
    return (f"{prefix}{k}" for k in itertools.count())


# --- 1. load: sessions spread, stickiness, rerun latency ------------------------------------------------------------

def part_load(args) -> dict:
    with cluster(args.replicas, SLOTS // args.replicas or 1) as c:
        ids = names("v")
        make = lambda url: LBVisitor(c.lb, next(ids))  # noqa: E731
        delays = [args.arrive * k / max(1, args.sessions - 1) for k in range(args.sessions)]

        async def everyone():
            tasks = [trainer("", args.polls, delays[k], make) for k in range(args.trainers)]
            tasks += [viewer("", 3, 2.0, delays[k], make) for k in range(args.trainers, args.sessions)]
            return await asyncio.gather(*tasks, return_exceptions=True)

        t0 = time.perf_counter()
        results = asyncio.run(everyone())
        seconds = time.perf_counter() - t0
        time.sleep(1.0)  # HAProxy logs a websocket when it closes: let the last lines reach the file
        rows = c.requests()
        bad_replicas = c.tracebacks()
    visitors = [r for r in results if isinstance(r, Visitor)]
    errors = [repr(r)[:200] for r in results if not isinstance(r, Visitor)] + [e for v in visitors for e in v.errors]
    served = {}
    for who, replica, status, method, uri in rows:
        served.setdefault(who, set()).add(replica)
        if not (status in ("101", "200", "304")):
            errors.append(f"{who}: {method} {uri} -> {status} via {replica}")
    split = sorted(who for who, replicas in served.items() if len(replicas) != 1)
    per_replica = {}
    for who, replicas in served.items():
        for replica in replicas:
            per_replica[replica] = per_replica.get(replica, 0) + 1
    trainers_at = {}
    for v in visitors:
        if hasattr(v, "queue_wait"):
            replica = next(iter(served[v.name])) if len(served.get(v.name, ())) == 1 else "?"
            trainers_at[replica] = trainers_at.get(replica, 0) + 1
    lat = sorted(x for v in visitors for x in v.latencies)
    mean = args.sessions / args.replicas
    spread = max(abs(n - mean) / mean for n in per_replica.values()) if per_replica else float("nan")
    print(f"1. load: {args.sessions} sessions ({args.trainers} training) on {args.replicas} replicas behind HAProxy, "
          f"{seconds:.0f} s")
    print(f"   sessions per replica {dict(sorted(per_replica.items()))} (trainers {dict(sorted(trainers_at.items()))});"
          f" largest difference from the mean {100 * spread:.0f} % (goal <= 20 %)")
    print(f"   {len(rows)} requests and websockets logged by HAProxy for {len(served)} visitors; visitors that reached "
          f"more than one replica: {len(split)} {split[:5]}")
    print(f"   {len(errors)} errors; {len(lat)} reruns, p50 {statistics.median(lat):.2f} s, p95 {quantile(lat, 0.95):.2f}"
          f" s, max {lat[-1]:.2f} s (goal 0 errors, p95 <= 1 s); server tracebacks: {bad_replicas or 'none'}")
    pages = {}
    for v in visitors:
        for page, times in v.by_page.items():
            pages.setdefault(page, []).extend(times)
    print("   by page: " + "; ".join(f"{page} p50 {statistics.median(t):.2f} s, p95 {quantile(t, 0.95):.2f} s ({len(t)})"
                                    for page, t in pages.items()))
    for e in errors[:5]:
        print("   error:", e)
    return {"spread": spread, "errors": len(errors), "p95": quantile(lat, 0.95), "split": len(split)}


# --- 2. burst: a workshop presses Start within seconds --------------------------------------------------------------

STATUS = re.compile(r"^(\w+) — .*?(?:queue position (\d+))?$")


def read_status(v: Visitor):
    m = STATUS.match(v.status())
    return (m.group(1), int(m.group(2)) if m.group(2) else None) if m else (None, None)


async def press_start(lb, name, delay, until, stop=None):
    """A visitor who opens Train, presses Start on the default preset and watches (a fragment run every POLL s,
    as the page polls) until the model is done, `until` (perf_counter) passes, or `stop` is set."""
    await asyncio.sleep(delay)
    async with LBVisitor(lb, name) as v:
        await v.run("", record=False)
        await v.run("Train", record=False)
        start = v.button("Start training")
        v.pressed = time.perf_counter()
        await v.run("Train", [start])
        v.seen = [(time.perf_counter(), *read_status(v))]
        while v.seen[-1][1] not in ("done", "stopped", "failed") and time.perf_counter() < until:
            if stop is not None and stop.is_set():
                break
            await asyncio.sleep(POLL)
            await v.run("Train", fragment=v.fragment)
            v.seen.append((time.perf_counter(), *read_status(v)))
        return v


def overtaken(visitors) -> list:
    """(earlier, later) pairs on one replica where `later` was seen running while `earlier`, who had pressed Start
    (and had the reply) before `later` pressed, was still seen queued afterwards."""
    pairs = []
    for a in visitors:
        for b in visitors:
            if a is b or a.cookie != b.cookie or not a.pressed_ack < b.pressed:
                continue
            b_running = min((t for t, s, _ in b.seen if s in ("running", "paused", "done")), default=math.inf)
            a_queued = max((t for t, s, _ in a.seen if s == "queued"), default=-math.inf)
            if b_running < a_queued:
                pairs.append((a.name, b.name))
    return pairs


def run_burst(lb, n, within, prefix, until_s=1200.0):
    t0 = time.perf_counter()
    until = t0 + until_s
    delays = [within * k / max(1, n - 1) for k in range(n)]

    async def everyone():
        return await asyncio.gather(*[press_start(lb, f"{prefix}{k}", delays[k], until) for k in range(n)],
                                    return_exceptions=True)
    results = asyncio.run(everyone())
    return t0, results


def describe_burst(label, t0, results, replicas) -> dict:
    visitors = [r for r in results if isinstance(r, Visitor)]
    errors = [repr(r)[:200] for r in results if not isinstance(r, Visitor)] + [e for v in visitors for e in v.errors]
    for v in visitors:
        v.pressed_ack = v.seen[0][0]
        v.done_at = next((t for t, s, _ in v.seen if s == "done"), None)
        v.running_at = next((t for t, s, _ in v.seen if s in ("running", "paused", "done")), None)
        v.places = [p for _, s, p in v.seen if s == "queued" and p]
    unfinished = [v.name for v in visitors if v.done_at is None]
    finished = [v for v in visitors if v.done_at is not None]
    last = max((v.done_at for v in finished), default=math.nan) - t0
    last_press = max(v.pressed for v in visitors) - t0
    waits = [v.running_at - v.pressed for v in visitors if v.running_at is not None]
    runs = [v.done_at - v.running_at for v in finished if v.running_at is not None and v.running_at < v.done_at]
    rising = [v.name for v in visitors if any(b > a for a, b in zip(v.places, v.places[1:]))]
    unfair = overtaken(visitors)
    lat = [x for v in visitors for x in v.latencies]
    print(f"   {label}: {len(visitors)} visitors pressed Start within {last_press:.1f} s; the last model finished "
          f"{last:.0f} s after the first press ({last - last_press:.0f} s after the last); "
          f"{len(unfinished)} unfinished, {len(errors)} errors")
    print(f"      queue wait until running: median {statistics.median(waits):.0f} s, max {max(waits):.0f} s; one job "
          f"ran {statistics.median(runs):.1f} s (median; {min(runs):.1f}-{max(runs):.1f}); polled every {POLL:.0f} s")
    shown = sorted(visitors, key=lambda v: v.pressed)
    print("      places each visitor saw (first pressed first): " + "; ".join(
        f"{'-'.join(map(str, dedupe(v.places))) or 'ran at once'}" for v in shown[:12])
        + ("; …" if len(shown) > 12 else ""))
    print(f"      overtaken: {len(unfair)} pairs {unfair[:3]}; a visitor whose place went up: {rising or 'none'}; "
          f"rerun p95 {quantile(lat, 0.95):.2f} s")
    for e in errors[:3]:
        print("      error:", e)
    return {"last": last, "within": last_press, "run": statistics.median(runs) if runs else math.nan,
            "unfair": len(unfair), "errors": len(errors), "n": len(visitors)}


def dedupe(xs):
    return [x for i, x in enumerate(xs) if i == 0 or xs[i - 1] != x]


def part_burst(args) -> dict:
    print(f"2. burst: {args.burst} visitors press Start on the default preset within {args.within:.0f} s")
    out = {}
    for k in sorted({1, args.replicas}):
        with cluster(k, max(1, SLOTS // k)) as c:
            t0, results = run_burst(c.lb, args.burst, args.within, f"b{k}-")
            out[k] = describe_burst(f"{k} replica{'s' if k > 1 else ''} × {max(1, SLOTS // k)} slot(s)", t0, results, k)
    ref = out[max(out)]
    print("   projection (not measured): one replica (or slot) per core, each job as long as measured here "
          f"({ref['run']:.1f} s with a job on every core and {args.burst} pollers), the last of {args.burst} jobs "
          "finishes after max(rounds x job, presses + job):")
    model = lambda cores: max(math.ceil(args.burst / cores) * ref["run"], ref["within"] + ref["run"])  # noqa: E731
    print("      " + "; ".join(f"{cores} cores ~{model(cores):.0f} s" for cores in (4, 8, 16))
          + f" — the same formula for this machine's 2 cores: {model(2):.0f} s, measured {ref['last']:.0f} s")
    return out


# --- 3. the failure drill -------------------------------------------------------------------------------------------

async def browse(lb, name, delay, stop):
    """A viewer who keeps clicking through the scenes (a rerun every POLL s) until `stop`."""
    await asyncio.sleep(delay)
    async with LBVisitor(lb, name) as v:
        await v.run("", record=False)
        while not stop.is_set():
            await asyncio.sleep(POLL)
            await v.run("", [v.button("Next scene")])
        return v


async def survive(lb, name, delay, stop, work):
    """Run `work` (browse or press_start); if the connection drops, reconnect as the browser does — ping the health
    endpoint through the balancer with the old cookie, back off 0.5, 1, 2 … s, open a new websocket — and note when
    the visitor was served again and by which replica."""
    v = LBVisitor(lb, name)
    v.lost_at = v.back_at = None
    try:
        return await work(v)
    except (websockets.WebSocketException, OSError, asyncio.TimeoutError) as e:
        v.lost_at, v.lost_how, old = time.perf_counter(), type(e).__name__, v.cookie
        wait = 0.5
        while not stop.is_set():
            try:
                await asyncio.to_thread(v.get, "/_stcore/health")  # a redispatched reply brings a new cookie
                w = LBVisitor(lb, name)
                w.cookie = v.cookie
                async with w:
                    await w.run("Train")
                    v.back_at, v.moved = time.perf_counter(), w.cookie != old
                    v.errors += w.errors
                    return v
            except (websockets.WebSocketException, OSError, asyncio.TimeoutError):
                await asyncio.sleep(wait)
                wait = min(2 * wait, 8.0)
        return v


def part_drill(args) -> dict:
    n_train, n_view, kill_after, after = 8, 12, 20.0, 30.0
    print(f"3. drill: {args.replicas} replicas; {n_train} visitors press Start within 5 s and {n_view} click through "
          f"scenes; replica r{args.replicas} is killed (SIGKILL) {kill_after:.0f} s in")
    with cluster(args.replicas, max(1, SLOTS // args.replicas)) as c:
        down_at = {}

        def watch_log():  # when HAProxy's health check takes the dead replica out
            while "t" not in down_at:
                if re.search(rf"Server app/r{args.replicas} is DOWN", c.log.read_text()):
                    down_at["t"] = time.perf_counter()
                time.sleep(0.05)

        async def drill():
            stop = asyncio.Event()
            until = time.perf_counter() + kill_after + after + 5

            def trainer_work(delay):
                async def work(v):
                    await asyncio.sleep(delay)
                    async with v:
                        await v.run("", record=False)
                        await v.run("Train", record=False)
                        await v.run("Train", [v.button("Start training")])
                        while read_status(v)[0] not in ("done", "stopped", "failed") and not stop.is_set():
                            await asyncio.sleep(POLL)
                            await v.run("Train", fragment=v.fragment)
                    return v
                return work

            def viewer_work(delay):
                async def work(v):
                    await asyncio.sleep(delay)
                    async with v:
                        await v.run("", record=False)
                        while not stop.is_set():
                            await asyncio.sleep(POLL)
                            await v.run("", [v.button("Next scene")])
                    return v
                return work

            tasks = [survive(c.lb, f"t{k}", 0, stop, trainer_work(5 * k / n_train)) for k in range(n_train)]
            tasks += [survive(c.lb, f"s{k}", 0, stop, viewer_work(3 * k / n_view)) for k in range(n_view)]
            running = asyncio.gather(*tasks, return_exceptions=True)
            await asyncio.sleep(kill_after)
            c.kill(args.replicas - 1)
            killed = time.perf_counter()
            threading.Thread(target=watch_log, daemon=True).start()
            await asyncio.sleep(after)
            stop.set()
            return killed, await running

        killed, results = asyncio.run(drill())
        time.sleep(1.0)
        down_at.setdefault("t", None)
        rows = c.requests()
    visitors = [r for r in results if isinstance(r, Visitor)]
    crashed = [repr(r)[:200] for r in results if not isinstance(r, Visitor)]
    served = {}
    for who, replica, *_ in rows:
        served.setdefault(who, []).append(replica)
    dead = f"r{args.replicas}"
    on_dead = [v for v in visitors if served.get(v.name, [None])[0] == dead and v.lost_at is not None]
    done_before = [v for v in visitors if served.get(v.name, [None])[0] == dead and v.lost_at is None]
    survivors = [v for v in visitors if v not in on_dead and v not in done_before]
    lost_survivors = [f"{v.name} lost its connection" for v in survivors if v.lost_at is not None]
    refused = [f"{who}: {method} {uri} -> {status}" for who, replica, status, method, uri in rows
               if who in {v.name for v in survivors} and status not in ("101", "200", "304")]
    surviving_errors = [e for v in survivors for e in v.errors] + crashed + lost_survivors + refused
    recovered = [v.back_at - killed for v in on_dead if v.back_at is not None]
    stuck = [v.name for v in on_dead if v.back_at is None]
    moved_to = sorted({r for v in on_dead for r in served.get(v.name, [])[1:] if r != dead})
    down = f"{down_at['t'] - killed:.1f} s" if down_at["t"] else "not seen"
    print(f"   {len(survivors)} visitors on the surviving replica(s): {len(surviving_errors)} errors (goal 0)")
    print(f"   {len(on_dead)} visitors on the killed replica lost their connection ({len(done_before)} more had "
          f"finished before); served again by {moved_to or 'nobody'} "
          f"{statistics.median(recovered) if recovered else math.nan:.1f} s after the kill (median; max "
          f"{max(recovered, default=math.nan):.1f} s), {len(stuck)} never; HAProxy's health check marked it DOWN "
          f"{down} after the kill; errors after moving {sum(len(v.errors) for v in on_dead)}")
    for e in surviving_errors[:3]:
        print("   error:", e)
    return {"recovered": max(recovered, default=math.nan), "errors": len(surviving_errors), "stuck": len(stuck)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--replicas", type=int, default=2)
    ap.add_argument("--sessions", type=int, default=100)
    ap.add_argument("--trainers", type=int, default=4)
    ap.add_argument("--arrive", type=float, default=10.0, help="load: seconds over which visitors arrive")
    ap.add_argument("--polls", type=int, default=15, help="load: how long trainers keep polling (1 s apart)")
    ap.add_argument("--burst", type=int, default=30)
    ap.add_argument("--within", type=float, default=10.0)
    ap.add_argument("--parts", default="load,burst,drill")
    ap.add_argument("--show-config", action="store_true", help="print the loopback HAProxy file for two replicas on "
                    "ports 18001-18002 behind 18000, and stop (tests/test_deploy.py compares it with the deployed one)")
    args = ap.parse_args()
    if args.show_config:
        return print(loopback_config(HAPROXY_CFG.read_text(), 18000, [18001, 18002]), end="")
    if not shutil.which("haproxy"):
        sys.exit("needs HAProxy (Debian: apt-get install -y haproxy)")
    print(f"{args.replicas} replicas on {os.cpu_count()} cores; HAProxy {HAPROXY_CFG.relative_to(ROOT)} on loopback")
    parts = args.parts.split(",")
    if "load" in parts:
        part_load(args)
    if "burst" in parts:
        part_burst(args)
    if "drill" in parts:
        part_drill(args)


if __name__ == "__main__":
    main()
