"""A training run in a background thread, and the per-visitor experiment that owns it.

The worker thread never touches the UI: it writes plain numbers under a lock, and the page polls `view()`.
Safeguards (ARCHITECTURE.md): a process-wide cap on concurrent jobs with a visible queue (plain module state, not a
Streamlit cache a visitor could clear), a heartbeat the page stamps (a job nobody watches stops), a wall-time cap.
Threads follow the jobs: torch's thread count is process-wide, so it is decided whenever a job takes or leaves a
training slot — a lone job may use every core the process may use, two jobs one each, never more threads than cores
(LSTM_LAB_THREADS_PER_JOB fixes the count, e.g. 1 on a shared host). Within its share a job times its own steps and
keeps the faster of all those threads or one (ThreadChoice): on a busy box, more threads can be slower.
"""
from __future__ import annotations

import copy
import os
import threading
import time
from dataclasses import dataclass, field, replace

import torch

from .config import LIMITS, ConfigError, TrainConfig
from .kinds import KINDS
from .models import build_model
from .train import MAX_TOTAL_STEPS, NonFiniteLoss, Trainer, checkpoint_steps, eval_chunk, make_optimizer

CHANGED = threading.Condition()  # notified whenever a job, race or the queue changes: a watcher waits on it, no polling
_SLOTS = threading.BoundedSemaphore(LIMITS.max_concurrent_jobs)
_QUEUE: list = []            # jobs waiting for a slot, oldest first (shown to the visitor as a queue position)
_QUEUE_LOCK = threading.Lock()
SNAPSHOT_EVERY = 0.5         # seconds between copies of the weights for previews (and the last good weights)
CHECKPOINT_MEMORY = 16_000_000  # bytes of half-precision weight checkpoints one visitor keeps (training-time scrubber)
MAX_CHECKPOINTS = 50
GONE_GRACE = 5.0             # a visitor whose browser is disconnected this long has left: their job stops
PAUSE_RELEASE = 30.0         # a run paused this long gives its training slot back (and queues again on Resume)


def announce() -> None:
    """Wake whoever waits on CHANGED. Called after a change, never while holding a job's lock (a waiter reads the
    job's view under CHANGED, so holding both the other way round could deadlock)."""
    with CHANGED:
        CHANGED.notify_all()


def wait_for_change(condition, timeout: float):
    """condition()'s first truthy value, waiting on CHANGED between looks; None after `timeout` seconds."""
    end = time.monotonic() + timeout
    with CHANGED:
        while True:
            value = condition()
            if value:
                return value
            left = end - time.monotonic()
            if left <= 0:
                return None
            CHANGED.wait(left)


def configure_torch(threads: int = 1) -> None:
    """Intra-op threads are process-wide (the last setting wins, whichever thread makes it)."""
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


def available_cores() -> int:
    """Cores this process may use: its CPU affinity, capped by a cgroup CPU quota (containers, Community Cloud's
    fraction of a core)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        quota, period = open("/sys/fs/cgroup/cpu.max").read().split()[:2]
        if quota != "max":
            cores = min(cores, max(1, int(quota) // int(period)))
    except (OSError, ValueError):
        pass
    return max(1, cores)


def threads_per_job(running: int) -> int:
    """The most torch threads each of `running` concurrent jobs may use."""
    fixed = fixed_threads()
    if fixed:
        return min(fixed, available_cores())
    return max(1, available_cores() // max(1, running))


def fixed_threads() -> int:
    """LSTM_LAB_THREADS_PER_JOB, if set to a count: then jobs use that (capped by the cores) and time nothing."""
    fixed = os.environ.get("LSTM_LAB_THREADS_PER_JOB", "").strip()
    return int(fixed) if fixed.isdigit() and int(fixed) > 0 else 0


def threads_for_step(choice: ThreadChoice) -> int:
    """Set and return the torch threads for a job's next step (its ThreadChoice, within its share of the cores)."""
    cap = threads_per_job(_RUNNING[0])
    threads = cap if fixed_threads() else choice.next_step(cap, time.perf_counter())
    configure_torch(threads)
    return threads


_RUNNING = [0]  # jobs and races holding a training slot now


class ThreadChoice:
    """A job's torch threads for its next step: every core it may use or one, whichever runs its steps faster now,
    timed on its own steps. Neither is always right (bench/bench_threads.py): idle, two threads run an LSTM step
    1.0-1.7x faster; with one other busy process on a 2-core box (the visitor's own browser drawing, a neighbour on a
    shared host) the same two threads run 1.4-3.5x slower than one, as their threads wait for each other.

    It times PROBE steps at each setting (the first after a switch is not counted: the thread pool resizes), keeps
    the faster, and times both again after `every` seconds; each time the same setting wins that wait doubles (up
    to MAX_WAIT), so a steady machine spends almost no steps at the slower setting."""
    PROBE = 3
    EVERY = 10.0
    MAX_WAIT = 160.0

    def __init__(self, every: float = EVERY):
        self.every = self.wait = every
        self.best = None           # the winning setting, None until both are timed
        self.cap = None
        self.plan: list = []       # the settings of the probe's remaining steps
        self.times: dict = {}      # setting -> step times in this probe
        self.next_probe = 0.0
        self._last = None

    def next_step(self, cap: int, now: float) -> int:
        if cap != self.cap:        # the cores to share changed (another job came or went): time both again
            self.cap, self.best, self.plan, self.wait = cap, None, [], self.every
            self.next_probe = now
        if cap <= 1:
            return 1
        if not self.plan and now >= self.next_probe:
            first = self.best or cap
            other = 1 if first == cap else cap
            self.plan = [first] * (self.PROBE + 1) + [other] * (self.PROBE + 1)
            self.times = {}
        return self.plan[0] if self.plan else self.best

    def took(self, threads: int, seconds: float, now: float) -> None:
        if not self.plan or threads != self.plan[0]:
            self._last = threads
            return
        if self._last == threads:  # not the first step after a switch
            self.times.setdefault(threads, []).append(seconds)
        self._last = threads
        self.plan.pop(0)
        if not self.plan:
            median = {k: sorted(v)[len(v) // 2] for k, v in self.times.items() if v}
            best = min(median, key=median.get) if median else self.cap
            self.wait = min(self.MAX_WAIT, self.wait * 2) if best == self.best else self.every
            self.best, self.next_probe = best, now + self.wait


def _slot_taken() -> None:
    with _QUEUE_LOCK:
        _RUNNING[0] += 1
        configure_torch(threads_per_job(_RUNNING[0]))


def release_slot() -> None:
    """Give a training slot back (every holder of a slot calls this once) and re-share the cores."""
    with _QUEUE_LOCK:
        _RUNNING[0] = max(0, _RUNNING[0] - 1)
        configure_torch(threads_per_job(max(1, _RUNNING[0])))
    _SLOTS.release()
    announce()


def enqueue(owner) -> None:
    """Put a job (or race) in the visible queue; wait_for_slot takes it out."""
    with _QUEUE_LOCK:
        _QUEUE.append(owner)
    announce()


def _first_in_line(owner) -> bool:
    with _QUEUE_LOCK:
        return not _QUEUE or _QUEUE[0] is owner or owner not in _QUEUE


def wait_for_slot(owner, give_up) -> bool:
    """Block until the owner is first in the queue and one of the process's training slots is free (True; the caller
    releases _SLOTS) or give_up() says the owner is stopped or abandoned (False). Either way the owner leaves the
    queue. First come, first served: only the first in line may take a free slot (a semaphore alone lets whichever
    waiter happens to look first take it — bench/bench_replicas.py saw visitors overtaken that way)."""
    try:
        while not (_first_in_line(owner) and _SLOTS.acquire(timeout=0.2)):
            if give_up():
                return False
            if not _first_in_line(owner):
                wait_for_change(lambda: _first_in_line(owner), 0.2)  # woken when the one ahead leaves the queue
        _slot_taken()
        return True
    finally:
        with _QUEUE_LOCK:
            if owner in _QUEUE:
                _QUEUE.remove(owner)
        announce()


def lower_priority() -> None:
    """Run the calling (training) thread at a lower CPU priority: when the box is busy, visitors' page reruns go
    first (Linux lets one thread be niced; elsewhere this does nothing)."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
    except (AttributeError, OSError):
        pass


class BackgroundRun:
    """The one lifecycle of everything that trains in the background — a training job, the long-memory race, the
    bottleneck measurement. It waits in the visible queue for one of the process's training slots; it can be paused
    (after PAUSE_RELEASE seconds paused it gives its slot back, and queues again on Resume), stopped, and it stops by
    itself once its visitor has left (disconnected for GONE_GRACE seconds, or no heartbeat for heartbeat_timeout) or
    after LIMITS.max_wall_seconds of wall time holding a slot. It never touches the UI: it writes plain values under
    its lock and announces changes on CHANGED.

    A subclass implements work(), calls between_steps() between two steps (it waits while paused and says why to
    stop, if it should), and sets `failure` (the start of the message when work() raises)."""
    failure = "The run failed"
    thread_name = "lstm-run"

    def __init__(self, alive=None):
        self.alive = alive        # () -> bool: is the visitor's browser still connected? (the UI supplies it)
        self._gone_since = None
        self.lock = threading.Lock()
        self._stop = threading.Event()
        self._running = threading.Event()     # cleared while paused
        self._running.set()
        self.status, self.message = "queued", ""
        self.heartbeat = time.monotonic()
        self._slot_since = None   # monotonic time the slot was taken (None: no slot held)
        self._held = 0.0          # seconds a slot was held before that
        self.thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)

    # --- controls (called from the page) ---
    def start(self):
        enqueue(self)
        self.thread.start()
        return self

    def stop(self):
        self._stop.set()
        self._running.set()

    def pause(self):
        self._running.clear()
        self._set_status_if("running", "paused")

    def resume(self):
        self._running.set()
        self._set_status_if("paused", "running")

    def touch(self):
        self.heartbeat = time.monotonic()

    def join(self, timeout=None):
        self.thread.join(timeout)

    @property
    def active(self) -> bool:
        return self.status in ("queued", "running", "paused", "evaluating")

    def held_seconds(self) -> float:
        """Wall time spent holding a training slot (running or paused), over every time it held one."""
        return self._held + (time.monotonic() - self._slot_since if self._slot_since is not None else 0.0)

    def queue_position(self) -> int:
        with _QUEUE_LOCK:
            return _QUEUE.index(self) + 1 if self in _QUEUE else 0

    # --- the worker thread ---
    def work(self) -> None:
        raise NotImplementedError

    def _run(self):
        lower_priority()
        try:
            if not self._take_slot():
                return self.finish("stopped", "Stopped while waiting in the queue.")
            try:
                self._set_status_if("queued", "running" if self._running.is_set() else "paused")
                self.work()
            finally:
                self._give_slot()
        except Exception as e:  # the page shows the message; the thread must not die silently
            self.finish("failed", f"{self.failure}: {type(e).__name__}: {e}")

    def _take_slot(self) -> bool:
        if not wait_for_slot(self, lambda: self._stop.is_set() or self._abandoned()):
            return False
        self._slot_since = time.monotonic()
        return True

    def _give_slot(self) -> None:
        if self._slot_since is not None:
            self._held += time.monotonic() - self._slot_since
            self._slot_since = None
            release_slot()

    def between_steps(self) -> str | None:
        """Wait while paused (giving the slot back after PAUSE_RELEASE seconds, and queueing for one again on
        Resume); then None to go on, or why to stop: "stop" (asked to), "left" (the visitor), "time" (the cap)."""
        paused_at = None
        while not self._running.is_set():
            paused_at = paused_at or time.monotonic()
            if self._abandoned():
                return "left"
            if self._slot_since is not None and time.monotonic() - paused_at > PAUSE_RELEASE:
                self._give_slot()
                with self.lock:
                    self.message = (f"Paused for over {PAUSE_RELEASE:.0f} s: the training slot went to whoever "
                                    "waits; Resume queues for it again.")
                announce()
            self._running.wait(0.2)
        if self._stop.is_set():
            return "stop"
        if self._slot_since is None:  # resumed after giving the slot back: queue again
            enqueue(self)
            self._set_status_if("running", "queued")
            if not self._take_slot():
                return "stop" if self._stop.is_set() else "left"
            with self.lock:
                self.status, self.message = "running", ""
            announce()
        if self._abandoned():
            return "left"
        if self.held_seconds() > LIMITS.max_wall_seconds:
            return "time"
        return None

    def stop_message(self, why: str, where: str | None = None) -> str:
        return {"stop": f"Stopped at {where}." if where else "Stopped.", "left": "Stopped: the visitor left.",
                "time": f"Stopped at the time limit of {LIMITS.max_wall_seconds:.0f} s."}[why]

    def _interrupted(self) -> bool:
        """Asked to stop, or the visitor is gone: what a long evaluation checks between its chunks."""
        return self._stop.is_set() or self._abandoned()

    def _abandoned(self) -> bool:
        return visitor_gone(self) or time.monotonic() - self.heartbeat > LIMITS.heartbeat_timeout

    def _set_status_if(self, old, new):
        with self.lock:
            if self.status == old:
                self.status = new
        announce()

    def finish(self, status: str, message: str):
        with self.lock:
            self.status, self.message = status, message
        announce()


def visitor_gone(job) -> bool:
    """True once job.alive() has said False for GONE_GRACE seconds in a row (a brief reconnect is not leaving)."""
    if job.alive is None:
        return False
    try:
        here = job.alive()
    except Exception:  # the check must never kill the job by itself
        here = True
    if here:
        job._gone_since = None
        return False
    job._gone_since = job._gone_since or time.monotonic()
    return time.monotonic() - job._gone_since > GONE_GRACE


@dataclass
class JobView:
    """A consistent copy of a job's progress for the page to draw."""
    status: str                  # queued | running | paused | done | stopped | failed
    step: int
    total_steps: int
    history: list                # (step, train_loss) per step
    val_history: list            # (step, val_loss) every eval_every seconds
    ms_per_step: float
    items_per_second: float
    message: str
    queue_position: int
    seconds: float

    @property
    def active(self) -> bool:
        return self.status in ("queued", "running", "paused")


def checkpoint_room(model) -> int:
    """How many half-precision checkpoints of this model fit CHECKPOINT_MEMORY (at most MAX_CHECKPOINTS)."""
    return min(MAX_CHECKPOINTS, CHECKPOINT_MEMORY // max(1, 2 * sum(p.numel() for p in model.parameters())))


def half(state: dict) -> dict:
    return {k: v.detach().to(torch.float16).clone() for k, v in state.items()}


def thin(items: list, n: int) -> list:
    """At most n items spread evenly, the first and the last kept."""
    if len(items) <= n:
        return list(items)
    if n <= 1:
        return items[-n:] if n else []
    idx = sorted({round(k * (len(items) - 1) / (n - 1)) for k in range(n)})
    return [items[i] for i in idx]


class TrainingJob(BackgroundRun):
    """One training run of a visitor's model in its own thread, through the one Trainer (train.py)."""
    failure = "Training failed"
    thread_name = "lstm-training"

    def __init__(self, trainer: Trainer, cfg: TrainConfig, start_step: int = 0, alive=None,
                 checkpoint_at=frozenset()):
        super().__init__(alive)
        self.trainer, self.cfg = trainer, cfg
        self.model, self.batches = trainer.model, trainer.batches
        self.start_step, self.step = start_step, start_step
        self.history, self.val_history = [], []
        self._step_times: list = []
        self._threads = ThreadChoice()
        self.seconds = 0.0          # time spent in training steps
        self._pending_lr = None
        self.checkpoint_at = set(checkpoint_at)  # steps whose weights are kept for the training-time scrubber
        self.checkpoints: list = []               # (step, half-precision state_dict)

    def set_lr(self, lr: float):
        replace(self.cfg, lr=lr).validate()  # same check as at start; raises ConfigError
        self._pending_lr = lr

    def view(self) -> JobView:
        with self.lock:
            recent = self._step_times[-20:]
            ms = 1000 * sum(recent) / len(recent) if recent else 0.0
            return JobView(self.status, self.step, self.start_step + self.cfg.steps, list(self.history),
                           list(self.val_history), ms, self.batches.items_per_batch / (ms / 1000) if ms else 0.0,
                           self.message, self.queue_position(), self.seconds)

    def weights(self):
        """(step, state_dict) of the latest good snapshot; safe to load into another module."""
        with self.lock:
            return self.trainer.good

    def _checkpoint(self):
        state = half(self.model.state_dict())
        with self.lock:
            self.checkpoints.append((self.step, state))

    def work(self):
        end_step = self.start_step + self.cfg.steps
        last_eval = last_snap = float("-inf")
        if self.step in self.checkpoint_at:
            self._checkpoint()
        while self.step < end_step:
            why = self.between_steps()
            if why:
                return self.finish("stopped", self.stop_message(why, f"step {self.step}"))
            if self._pending_lr is not None:
                self.trainer.set_lr(self._pending_lr)
                self.cfg, self._pending_lr = replace(self.cfg, lr=self._pending_lr), None
            threads = threads_for_step(self._threads)
            t0 = time.perf_counter()
            try:
                loss = self.trainer.step()
            except NonFiniteLoss as e:
                return self._diverged(str(e))
            now = time.perf_counter()
            self._threads.took(threads, now - t0, now)
            with self.lock:
                self.step += 1
                if loss is not None:
                    self.history.append((self.step, loss))
                self._step_times.append(now - t0)
                self.seconds += now - t0
            announce()
            if self.step in self.checkpoint_at:
                self._checkpoint()
            if now - last_eval >= self.cfg.eval_every:
                val = self.trainer.evaluate(stop=self._interrupted)
                if val is not None:  # None: stopped or left mid-evaluation; between_steps says which
                    with self.lock:
                        self.val_history.append((self.step, val))
                last_eval = now
            if now - last_snap >= SNAPSHOT_EVERY:
                self._keep_good()
                last_snap = time.perf_counter()
        self._keep_good()
        val = self.trainer.evaluate(stop=self._interrupted)
        if val is None:
            why = "stop" if self._stop.is_set() else "left"
            return self.finish("stopped", self.stop_message(why, f"step {self.step}"))
        with self.lock:
            if not self.val_history or self.val_history[-1][0] != self.step:
                self.val_history.append((self.step, val))
        skipped = self.trainer.skipped
        self.finish("done", f"Finished {self.cfg.steps} steps." + (
            f" {skipped} of them were skipped: {self.trainer.problem} (the weights were kept)." if skipped else ""))

    def _keep_good(self):
        with self.lock:  # weights() reads trainer.good under the same lock
            self.trainer.keep_good()

    def _diverged(self, why: str):
        good_step = self.trainer.good[0]
        self.finish("failed", f"Training stopped at step {self.step + 1}: {why}. The last good weights (from step "
                               f"{good_step}) are kept. Try a lower learning rate or keep gradient clipping on.")
        with self.lock:
            self.step = good_step


@dataclass
class Experiment:
    """Everything one visitor has: data, model, optimiser, the current job and the steps trained so far.

    Kept in that visitor's session only; never shared between visitors.
    """
    data: object
    model_cfg: object
    train_cfg: TrainConfig = field(default_factory=TrainConfig)
    model: object = None
    optimizer: object = None
    job: TrainingJob | None = None
    trained_steps: int = 0
    runs: list = field(default_factory=list)  # finished JobViews, for the full loss history
    origin: str = ""                          # "bundled:<key>" or "file:<name>" when not trained in this session
    alive: object = field(default=None, repr=False)  # () -> bool from the UI: the visitor is still connected
    loaded: object = field(default=None, repr=False)  # store.LoadedModel it came from (loss history, checkpoints)
    shared: bool = False      # the model is a process-wide read-only copy (a bundled model): copied before training
    checkpoints: list = field(default_factory=list, repr=False)  # (step, half-precision weights) of finished runs
    _val: tuple = field(default=None, repr=False)

    def __post_init__(self):
        if self.loaded is not None and not self.checkpoints:
            self.checkpoints = list(self.loaded.checkpoints)
        self.model_cfg, self.train_cfg = KINDS[self.data.kind].checked(self.model_cfg, self.train_cfg, self.data,
                                                                       budget=False)  # (start() checks it)
        if self.model is None:
            self.model = build_model(self.model_cfg, self.train_cfg.seed)

    @property
    def kind(self) -> str:
        return self.data.kind

    @property
    def spec(self):
        """The kind object (lstm_demo/kinds/) this experiment's data and model belong to."""
        return KINDS[self.data.kind]

    @property
    def training(self) -> bool:
        return self.job is not None and self.job.view().active

    @property
    def weights_step(self) -> int:
        """The training step of the weights the views use: the running job's latest good snapshot, or the end."""
        return self.job.weights()[0] if self.job is not None else self.trained_steps

    def start(self, train_cfg: TrainConfig) -> TrainingJob:
        """Train for train_cfg.steps more steps from the current weights (a new job; lr may differ)."""
        _, train_cfg = self.spec.checked(self.model_cfg, train_cfg, self.data)
        if self.training:
            raise ConfigError("A training run is already going; stop it first.")
        if self.shared:  # never train the copy every visitor reads: this visitor gets their own
            self.model = copy.deepcopy(self.model)
            self.optimizer = None
            self.shared = False
        if self.optimizer is None:  # made on the first training run, not to look at a model: creating one imports
            self.optimizer = make_optimizer(self.model, train_cfg.lr)  # torch._dynamo (~1.4 s, ~140 MB)
        self.finish_job()
        if self.trained_steps + train_cfg.steps > MAX_TOTAL_STEPS:
            raise ConfigError(f"This model has trained {self.trained_steps:,} steps; a model may train "
                              f"{MAX_TOTAL_STEPS:,} in all (its file must open again).")
        batches = self.spec.batches(self.data, self.model_cfg, train_cfg, train_cfg.seed + self.trained_steps)
        trainer = Trainer(self.model, self.optimizer, self.spec, train_cfg.grad_clip, batches, self.trained_steps,
                          eval_chunk(self.spec, self.model_cfg, train_cfg, self.data, batches.val_x))
        trainer.set_lr(train_cfg.lr)
        self.train_cfg = train_cfg
        room = checkpoint_room(self.model)
        at = {self.trained_steps + s for s in checkpoint_steps(train_cfg.steps, room)}
        if self.checkpoints and self.checkpoints[-1][0] == self.trained_steps:
            at.discard(self.trained_steps)  # the weights at the start of this run are kept already
        self.job = TrainingJob(trainer, train_cfg, self.trained_steps, alive=self.alive, checkpoint_at=at).start()
        return self.job

    def finish_job(self) -> JobView | None:
        """Fold a finished job into the experiment (its steps and its loss history); returns its view if it did."""
        if self.job is not None and not self.job.view().active:
            view = self.job.view()
            self.trained_steps = view.step
            self.runs.append(view)
            self.checkpoints = thin(self.all_checkpoints(), checkpoint_room(self.model))
            self.job = None
            return view
        return None

    def all_checkpoints(self) -> list:
        """(step, half-precision weights) kept so far, oldest first, including the running job's."""
        running = []
        if self.job is not None:
            with self.job.lock:
                running = list(self.job.checkpoints)
        return self.checkpoints + [c for c in running if not self.checkpoints or c[0] > self.checkpoints[-1][0]]

    def checkpoint_model(self, step: int):
        """A copy of the model with the weights of a kept checkpoint (half precision, computed in float32)."""
        state = dict(self.all_checkpoints())[step]
        model = build_model(self.model_cfg)
        model.load_state_dict({k: v.float() for k, v in state.items()})
        return model

    def validation_batch(self):
        """The fixed validation batch (with fixed hidden positions for the fill-in task) -> x, y."""
        key = (self.train_cfg.seq_len, self.train_cfg.hide)
        if self._val is None or self._val[0] != key:
            b = self.spec.batches(self.data, self.model_cfg, replace(self.train_cfg, batch_size=1), 0)
            self._val = (key, b.val_x, b.val_y)
        return self._val[1], self._val[2]

    def validation_accuracy(self) -> float | None:
        """The kind's own metric on the validation batch (text: the next or hidden character right; the digits
        question: the answer after the last frame; translation: exact match), or None for kinds without one."""
        return self.spec.accuracy(self.current_weights_model(), self.data, *self.validation_batch())

    def eval_chunk(self) -> int:
        """Validation items a preview or an evaluation reads at once (the memory budget)."""
        return eval_chunk(self.spec, self.model_cfg, self.train_cfg, self.data, self.validation_batch()[0])

    def last_view(self) -> JobView | None:
        """Progress of the current job, or of the last finished one."""
        if self.job is not None:
            return self.job.view()
        return self.runs[-1] if self.runs else None

    def history(self):
        """All (step, train_loss) and (step, val_loss) so far, across runs (and the loaded model's own runs)."""
        views = list(self.runs) + ([self.job.view()] if self.job else [])
        before = self.loaded.history if self.loaded is not None else {"train": [], "val": []}
        return (list(before["train"]) + [r for v in views for r in v.history],
                list(before["val"]) + [r for v in views for r in v.val_history])

    def current_weights_model(self):
        """A copy of the model with the latest good weights: safe to use while the worker keeps training."""
        if self.job is None:
            return self.model
        _, state = self.job.weights()
        clone = build_model(self.model_cfg)
        clone.load_state_dict(state)
        return clone

    def close(self):
        if self.job is not None:
            self.job.stop()
