"""Everything the UI remembers for one visitor, in one typed object under one session key (common.state()).

Pages and views read and write this, not loose session keys. It imports no Streamlit, so tests build and check it
directly. A link (the address bar) is `to_query()` of it; `Link.parse()` reads a link back, refusing what does not
fit with a message (TF Playground's State + serialize() is the model).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..trace_data import CELL_QUANTITIES

QUANTITY_NAMES = tuple(dict.fromkeys(q for names in CELL_QUANTITIES.values() for q in names))
MAX_LINK_TEXT = 256      # characters of own text a link may carry (the trace cap)
PANELS = ("heatmaps", "units", "finder", "training", "whatif", "forecast", "export")


def model_key(ex) -> str:
    """What the cursor's unit belongs to (Cursor.follow): a bundled model by name, the visitor's own by object."""
    return ex.origin if ex.origin.startswith("bundled:") else f"own:{id(ex)}"


@dataclass
class Cursor:
    """Where the step-through views look. The browser moves `step` without the server; it is reported back only
    when a view needs it (what-if, exports). The rest changes with widgets (a script run)."""
    step: int = 0                # the last step the browser reported, or the server set
    layer: int = 0
    direction: int = 0           # 0 forward, 1 backward (bidirectional models)
    unit: int | None = None      # None: the unit whose state varies most
    colour: str | None = None    # the quantity colouring the text; None: the cell's memory (c, or h)
    speed: int = 8               # steps per second when playing
    jump: int = 0                # bumped when the server moves the cursor (scene, link): the browser obeys once
    panel: str = "heatmaps"      # the "More views" choice
    model: str | None = None     # the model the layer, direction, unit and colour were chosen on

    def follow(self, model: str) -> None:
        """The views now show `model`: a unit or layer chosen on another model means nothing here, so they start
        again from the defaults (the busiest unit, the cell's memory)."""
        if model != self.model:
            self.model = model
            self.layer, self.direction, self.unit, self.colour = 0, 0, None, None

    def move_to(self, step: int) -> None:
        self.step = max(0, int(step))
        self.jump += 1

    def fit(self, n_steps: int, n_layers: int, n_directions: int, n_units: int) -> None:
        """Keep every index inside a (new) trace."""
        self.step = min(max(self.step, 0), n_steps - 1)
        self.layer = min(self.layer, n_layers - 1)
        self.direction = min(self.direction, n_directions - 1)
        if self.unit is not None and not 0 <= self.unit < n_units:
            self.unit = None


@dataclass
class TraceView:
    """A traced sequence and what the views computed from it (memoised specs, frames, what-if runs)."""
    key: tuple               # what it was traced from: changes when the weights, sequence or mask change
    trace: object
    model: object = None     # the weights it was traced with (None for a precomputed trace: loaded on demand)
    choice: object = None    # what the kind traced (Kind.trace's choice): for text and series (sequence, mask)
    memo: dict = field(default_factory=dict)

    @property
    def seq(self):
        """The sequence a text or series trace read (ids or normalised values), for what-if runs and rollouts."""
        return self.choice[0] if self._sequence else None

    @property
    def mask(self):
        """The hidden positions of a fill-in trace, or None."""
        return self.choice[1] if self._sequence else None

    @property
    def _sequence(self) -> bool:
        return isinstance(self.choice, tuple) and len(self.choice) == 2


@dataclass
class SequenceChoice:
    """What the step-through page traces: a validation sample or the visitor's own text."""
    source: str = "validation"   # "validation" | "own"
    text: str | None = None      # own text (None: a default sentence the model can read)
    hide: str = "were"           # fill-in task: the part of the own text to hide
    frames_index: int = 0        # image sequences: which validation sequence
    last_good: str | None = None  # translation: the last source that could be traced
    layout: tuple | None = None   # captions: the visitor's scene, as it was last drawn (a refused edit keeps it)
    draft: list | None = None     # captions: the scene in the editor's widgets (may be refused)


@dataclass
class TrainChoices:
    """What the visitor picked on the Train page. The widgets are drawn from it (ui/widgets.py), so it outlives a
    page that does not draw them (Streamlit forgets a widget's value when a run does not draw it)."""
    choice: str = "text"        # the "Kind of data" choice (ui/kinds: a UI kind's `choice`)
    picks: dict = field(default_factory=dict)     # every data widget's value by its key (source, task, length …)
    settings: dict = field(default_factory=dict)  # model kind -> (model config, train config)

    def open_file(self, kind: str, choice: str, model_cfg, train_cfg, picks: dict) -> None:
        """A model file was opened: its kind, its data and its settings become the visitor's choices."""
        self.choice = choice
        self.picks.update(picks)
        self.settings[kind] = (model_cfg, train_cfg)


@dataclass
class Timed:
    """Something computed from a model at some weights (a preview, the saturation plot): what it was computed
    from, the value, and when (the page redraws slow panels at most every few seconds while training)."""
    key: tuple
    value: object
    at: float


@dataclass
class UIState:
    experiment: object = None        # the visitor's model, data and training job (jobs.Experiment)
    data: object = None              # the active data on the Train page
    data_id: tuple | None = None     # (kind, identity) of the active data
    file_data: object = None         # data that came inside an opened model file
    file_sha: str | None = None
    race: object = None              # the long-memory race (memory.Race)
    scoreboard: list = field(default_factory=list)
    notices: dict = field(default_factory=dict)   # one-shot messages by place: "train", "file", "url", "lab"
    cursor: Cursor = field(default_factory=Cursor)
    sequence: SequenceChoice = field(default_factory=SequenceChoice)
    scene: int = 1
    scene_applied: str | None = None  # the scene whose step, unit and colour were last applied
    present: bool = False             # presenter view
    links_read: set = field(default_factory=set)  # pages whose link this session has read
    pending_links: dict = field(default_factory=dict)  # page -> Link read but not yet applied (needs its trace)
    view: TraceView | None = None     # the trace on screen
    checkpoint: int | None = None     # the training step whose weights the views show (None: the final weights)
    bundled: dict = field(default_factory=dict)   # this visitor's copies of bundled models, loaded on demand
    train: TrainChoices = field(default_factory=TrainChoices)
    stash: object = None             # the visitor's own model while they look at a bundled one (Family page)
    preview: Timed | None = None     # the Train page's preview of the model (sampled text, forecast, …)
    saturation: Timed | None = None  # the Train page's gate-saturation plot
    whatif: tuple | None = None      # (what was changed, the changed run's trace): the latest "what if?" only
    across: tuple | None = None      # (what was replayed, (checkpoints, steps, units) values): "Across training"
    loss_marked: tuple | None = None  # (the history it was made from, the loss curve as Arrow bytes)
    pixel_click: tuple | None = None  # the ConvLSTM pixel last clicked (a click is applied once)
    bottleneck: object = None        # the bottleneck measurement running for this visitor (kinds/bottleneck.py)
    open_step_through: bool = False  # the long-memory page asked to open Step through on its next run
    scene_intro: tuple | None = None  # (view key, words(), aside()): a scene's words, drawn beside that view's
                                      # controls, and its model line and links, under the coloured text
    scene_intro_drawn: tuple | None = None  # the view key whose words the step view drew this run
    kept: dict = field(default_factory=dict)  # what a kind's pages keep for this visitor across runs (a melody
                                              # brought as a seed phrase, the melody a model last wrote)

    def notice(self, where: str, message: str) -> None:
        self.notices[where] = message

    def take_notice(self, where: str) -> str | None:
        return self.notices.pop(where, None)

    def forget_view(self) -> None:
        """The model changed: drop the trace and what was computed from the old one, and stop what runs for the view
        (a background measurement must not keep a training slot that nobody watches)."""
        self.view = None
        self.preview = self.saturation = self.whatif = self.across = self.loss_marked = self.pixel_click = None
        self.set_bottleneck(None)

    def set_bottleneck(self, run) -> None:
        """The visitor's bottleneck measurement is `run` now; one that ran before is stopped (its slot freed)."""
        if self.bottleneck is not None and self.bottleneck is not run:
            self.bottleneck.stop()
        self.bottleneck = run

    # --- links ---------------------------------------------------------------------------------------------------

    def to_query(self, page: str, model: str | None = None, seq: int | None = None) -> list | None:
        """The address bar for the view on screen, as [key, value] pairs; the step's value is None (the browser
        fills it in at rest). None: this view has no link (a model trained in this session lives only here)."""
        c = self.cursor
        extras = [["layer", str(c.layer)]] * (c.layer > 0) + [["direction", str(c.direction)]] * (c.direction > 0)
        extras += [["colour", c.colour]] * (c.colour is not None)
        unit = [["unit", str(c.unit)]] if c.unit is not None else []
        if page == "home":
            return [["scene", str(self.scene)], ["step", None], *unit, *extras] + [["present", "1"]] * self.present
        if model is None:
            return None
        text = [["text", self.sequence.text]] if self.sequence.source == "own" and self.sequence.text else []
        if seq is not None:  # image sequences: which validation sequence
            text = [["seq", str(seq)]]
        return [["model", model], *text, ["step", None], *unit, *extras]


@dataclass(frozen=True)
class Link:
    """What an address bar asks for, each value checked; `notes` says what was refused and why."""
    scene: int | None = None
    step: int | None = None
    unit: int | None = None
    layer: int | None = None
    direction: int | None = None
    colour: str | None = None
    present: bool = False
    model: str | None = None
    text: str | None = None
    seq: int | None = None       # image sequences: the validation sequence
    notes: tuple = ()

    @classmethod
    def parse(cls, params, n_scenes: int = 0, models=()) -> "Link":
        """params: a mapping of str -> str (st.query_params, or a parsed query string)."""
        notes = []

        def number(key, lo, hi):
            raw = params.get(key)
            if raw is None:
                return None
            try:
                value = int(str(raw).strip())
            except ValueError:
                value = None
            if value is None or not lo <= value <= hi:
                notes.append(f"{key}={str(raw)[:20]!r} is not a whole number from {lo} to {hi}; ignored")
                return None
            return value

        scene = number("scene", 1, max(1, n_scenes)) if n_scenes else None
        if n_scenes and params.get("scene") is not None and scene is None:
            notes[-1] = (f"The link asks for scene {str(params.get('scene'))[:20]!r}, which does not exist; showing "
                         f"scene 1 of {n_scenes}.")
        colour = params.get("colour")
        if colour is not None and colour not in QUANTITY_NAMES:
            notes.append(f"colour={str(colour)[:30]!r} is not a quantity; ignored")
            colour = None
        model = params.get("model")
        if model is not None and model not in models:
            notes.append(f"The link names a model {str(model)[:40]!r} that does not exist; showing the default.")
            model = None
        text = params.get("text")
        if text is not None and len(text) > MAX_LINK_TEXT:
            notes.append(f"The link's text is {len(text):,} characters; the first {MAX_LINK_TEXT} are used.")
            text = text[:MAX_LINK_TEXT]
        return cls(scene=scene, step=number("step", 0, 100_000), unit=number("unit", 0, 1_000_000),
                   layer=number("layer", 0, 16), direction=number("direction", 0, 1), colour=colour,
                   present=str(params.get("present", "")).lower() in ("1", "true", "yes"), model=model, text=text,
                   seq=number("seq", 0, 10_000), notes=tuple(notes))

    def apply(self, cursor: Cursor) -> None:
        """Put the link's cursor into the state (the view clamps what does not fit its trace)."""
        if self.step is not None:
            cursor.move_to(self.step)
        for name in ("unit", "layer", "direction", "colour"):
            if getattr(self, name) is not None:
                setattr(cursor, name, getattr(self, name))
