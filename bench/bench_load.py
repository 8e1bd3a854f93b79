"""Load test: N concurrent visitors over real Streamlit websocket sessions, some of them training.

    python bench/bench_load.py [--sessions 50] [--trainers 2] [--scenes 3] [--arrive 10]

Starts its own server (the app as deployed, .streamlit/config.toml included) and speaks Streamlit's own protocol
(BackMsg/ForwardMsg protobufs over /_stcore/stream), as the browser does. Visitors arrive over `--arrive` seconds.
Viewers open the home page (scene 1 of a bundled model), press "Next scene" `--scenes` times with a pause (a
workshop following the presenter), then open Step through. Moving the time cursor runs no script (the cursor lives
in the browser), so stepping costs the server nothing and is not simulated: the reruns measured are the ones that
remain. Trainers open Train and press Start on the default text model, then keep polling like the page does.
Reports errors (exceptions shown to a visitor, failed runs), p50/p95 rerun latency, queue waits of the training
jobs and the server's peak memory. Goal on 2 cores (issue 10): 50 sessions with 2 training, 0 errors,
p95 <= 1 s for the remaining reruns, memory within 690 MB.
"""
import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "e2e"))
from conftest import app_server  # noqa: E402

import websockets  # noqa: E402  (a dependency of streamlit's server)
from streamlit.proto.BackMsg_pb2 import BackMsg  # noqa: E402
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: E402
from streamlit.proto.WidgetStates_pb2 import WidgetState  # noqa: E402


class Visitor:
    def __init__(self, url: str, headers=None):
        self.url, self.pages, self.errors, self.latencies, self.by_page = url, {}, [], [], {}
        self.elements, self.cached = [], set()  # like the browser: hashes of big messages it already holds
        self.headers = headers or {}             # e.g. a load balancer's cookie (bench_replicas.py)
        self.fragment = None                     # the page's polling fragment, once the server has announced it

    async def __aenter__(self):
        self.ws = await websockets.connect(self.url, subprotocols=["streamlit"], max_size=64 * 2**20,
                                           additional_headers=self.headers)
        return self

    async def __aexit__(self, *exc):
        await self.ws.close()

    async def run(self, page: str = "", triggers=(), record=True, fragment=None) -> list:
        """One script run of `page` with the given buttons pressed -> the elements it drew. fragment: rerun only that
        fragment, as the browser does when a `run_every` fragment polls."""
        msg = BackMsg()
        msg.rerun_script.page_script_hash = self.pages.get(page, "")
        if fragment:
            msg.rerun_script.fragment_id, msg.rerun_script.is_auto_rerun = fragment, True
        msg.rerun_script.cached_message_hashes.extend(sorted(self.cached))  # the server sends references then
        for wid in triggers:
            msg.rerun_script.widget_states.widgets.append(WidgetState(id=wid, trigger_value=True))
        t0 = time.perf_counter()
        await self.ws.send(msg.SerializeToString())
        elements = []
        while True:
            fwd = ForwardMsg()
            fwd.ParseFromString(await asyncio.wait_for(self.ws.recv(), 120))
            kind = fwd.WhichOneof("type")
            if fwd.metadata.cacheable and fwd.hash:
                self.cached.add(fwd.hash)
            if kind in ("new_session", "navigation"):  # the page list (url path -> script hash)
                pages = fwd.new_session.app_pages if kind == "new_session" else fwd.navigation.app_pages
                self.pages.update({p.url_pathname: p.page_script_hash for p in pages})
            elif kind == "auto_rerun":
                self.fragment = fwd.auto_rerun.fragment_id
            elif kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
                el = fwd.delta.new_element
                elements.append(el)
                if el.WhichOneof("type") == "exception":
                    self.errors.append(el.exception.message[:200])
            elif kind == "script_finished":
                if fwd.script_finished in (ForwardMsg.FINISHED_SUCCESSFULLY,
                                           ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY):
                    break
                if fwd.script_finished == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                    self.errors.append("script failed")
                    break
        self.last = time.perf_counter() - t0
        if record:
            self.latencies.append(self.last)
            self.by_page.setdefault(page or "home", []).append(self.last)
        self.elements = elements
        return elements

    def button(self, label_start: str) -> str:
        for el in self.elements:
            if el.WhichOneof("type") == "button" and el.button.label.startswith(label_start):
                return el.button.id
        raise LookupError(f"no button {label_start!r} on the page")

    def status(self) -> str:
        """The training progress bar's text ("queued — …", "running — step …")."""
        return next((el.progress.text for el in self.elements if el.WhichOneof("type") == "progress"), "")


async def viewer(url, scenes, pause, delay, make=Visitor):
    await asyncio.sleep(delay)
    async with make(url) as v:
        await v.run("", record=False)        # home: a bundled model's gates (first page: timed separately)
        v.first_page = v.last
        for _ in range(scenes):
            await asyncio.sleep(pause)
            await v.run("", [v.button("Next scene")])
        await asyncio.sleep(pause)
        await v.run("Step_through")
        return v


async def trainer(url, polls, delay, make=Visitor):
    await asyncio.sleep(delay)
    async with make(url) as v:
        await v.run("", record=False)
        v.first_page = v.last
        await v.run("Train")
        started = time.perf_counter()
        await v.run("Train", [v.button("Start training")])
        waited = None
        for _ in range(polls):
            if waited is None and v.status().startswith(("running", "paused", "done")):
                waited = time.perf_counter() - started  # polled once a second: an upper bound
            await asyncio.sleep(1.0)
            await v.run("Train")
        v.queue_wait = waited
        return v


def rss_peak(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM"))


async def main_async(args, port):
    url = f"ws://127.0.0.1:{port}/_stcore/stream"
    delays = [args.arrive * k / max(1, args.sessions - 1) for k in range(args.sessions)]
    tasks = [trainer(url, args.polls, delays[k]) for k in range(args.trainers)]
    tasks += [viewer(url, args.scenes, args.pause, delays[k]) for k in range(args.trainers, args.sessions)]
    return await asyncio.gather(*tasks, return_exceptions=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=50)
    ap.add_argument("--trainers", type=int, default=2)
    ap.add_argument("--scenes", type=int, default=3)
    ap.add_argument("--pause", type=float, default=2.0)
    ap.add_argument("--arrive", type=float, default=10.0)
    ap.add_argument("--polls", type=int, default=15)
    ap.add_argument("--profile", help="record the server with py-spy into this SVG file (needs py-spy)")
    args = ap.parse_args()
    log = Path(tempfile.mkdtemp()) / "streamlit.log"
    with app_server(log) as (server, port):
        asyncio.run(main_async(argparse.Namespace(**{**vars(args), "sessions": 1, "trainers": 0, "scenes": 1,
                                                     "arrive": 0, "pause": 0}),
                               port))  # warm the server once (imports, bundled model in the OS cache)
        spy = None
        if args.profile:
            import subprocess
            spy = subprocess.Popen(["py-spy", "record", "-o", args.profile, "--pid", str(server.pid), "--rate", "50",
                                    "--format", "raw", "--nonblocking"])
        t0, c0 = time.perf_counter(), time.process_time()
        results = asyncio.run(main_async(args, port))
        client_cpu = time.process_time() - c0
        if spy is not None:
            spy.send_signal(2)
            spy.wait(timeout=60)
        seconds = time.perf_counter() - t0
        peak = rss_peak(server.pid)
    visitors = [r for r in results if isinstance(r, Visitor)]
    failures = [repr(r)[:200] for r in results if not isinstance(r, Visitor)]
    errors = failures + [e for v in visitors for e in v.errors]
    lat = sorted(x for v in visitors for x in v.latencies)
    p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
    waits = [v.queue_wait for v in visitors if hasattr(v, "queue_wait")]
    first = sorted(v.first_page for v in visitors)
    print(f"{args.sessions} sessions ({args.trainers} training) for {seconds:.0f} s: {len(errors)} errors; "
          f"{len(lat)} reruns, p50 {statistics.median(lat):.2f} s, p95 {p(0.95):.2f} s, max {lat[-1]:.2f} s; "
          f"first page (home, bundled model) p50 {statistics.median(first):.2f} s, max {first[-1]:.2f} s; "
          f"queue waits until running {['<= %.1f s' % w if w is not None else 'still queued' for w in waits]}; "
          f"server peak memory {peak / 2**20:.0f} MB (goal: 0 errors, p95 <= 1 s, <= 690 MB)")
    print(f"  this load generator used {client_cpu:.1f} s of CPU on the same 2 cores as the server")
    pages = {}
    for v in visitors:
        for page, times in v.by_page.items():
            pages.setdefault(page, []).extend(times)
    print("  by page: " + "; ".join(f"{page} p50 {statistics.median(t):.2f} s, max {max(t):.2f} s ({len(t)})"
                                   for page, t in pages.items()))
    for e in errors[:5]:
        print("  error:", e)
    if "Traceback" in log.read_text():
        print("  the server log has a traceback:", log)


if __name__ == "__main__":
    main()
