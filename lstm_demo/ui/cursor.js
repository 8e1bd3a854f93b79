// The time cursor of the step-through views, kept in the browser (lstm_demo/ui/cursor.py mounts it).
//
// Every step-following chart binds its Vega-Lite parameter `step` to document.body (Vega's direct binding: it reads
// body.value and listens for our "lstm-step" event). The body exists before any chart is embedded and is never
// replaced by a rerun or a page change, so no chart can bind to an element that later goes away; a chart embedded
// later reads the step the cursor left there. Moving the cursor sets body.value and fires the event: every view
// redraws from the data it already holds, and no script runs on the server.
// The server hears of the step only when it asks (data.report, e.g. for "what if" and exports) once the cursor
// has come to rest; the address bar is written here, at rest, from data.query.
const EVENT = "lstm-step";  // step_charts.STEP_EVENT
const REST_MS = 500;

// one cursor per page; module state survives the calls Streamlit makes when the component's data changes
const ctl = { n: 1, playing: false, raf: 0, last: 0, speed: 8, rest: 0, jump: null, trace: null, reported: null,
              data: null, root: null, setStateValue: null, onKey: null, onBus: null };

const bus = () => document.body;

const clamp = (s) => Math.max(0, Math.min(ctl.n - 1, Math.round(Number(s) || 0)));
const current = () => clamp(bus().value);

function show(s) {
  const r = ctl.root;
  if (!r) return;
  const slider = r.querySelector("input.lstm-time-step");
  slider.max = String(ctl.n - 1);
  slider.value = String(s);
  slider.setAttribute("aria-valuenow", String(s));
  slider.setAttribute("aria-valuemax", String(ctl.n - 1));
  r.querySelector(".lstm-readout").textContent = `${s} / ${ctl.n - 1}`;
  const play = r.querySelector("button.lstm-play");
  play.textContent = ctl.playing ? "❚❚ Pause" : "▶ Play";
  play.setAttribute("aria-label", ctl.playing ? "Pause" : "Play");
  play.setAttribute("aria-pressed", ctl.playing ? "true" : "false");
  r.dataset.playing = ctl.playing ? "1" : "0";
}

// put the step on the bus: every bound view redraws at once
function draw(s) {
  const b = bus();
  s = clamp(s);
  if (b.value !== String(s)) {
    b.value = String(s);
    b.dispatchEvent(new Event(EVENT));
  }
  show(s);
  return s;
}

function moveTo(s) {  // a move by the visitor: stops Play, then rests
  if (ctl.playing) pause();
  draw(s);
  settle();
}

function settle() {
  clearTimeout(ctl.rest);
  ctl.restPath = location.pathname;
  ctl.rest = setTimeout(atRest, REST_MS);
}

function atRest() {
  if (ctl.playing || !ctl.data) return;
  // the visitor went to another page within the rest: its address and its script are not this view's
  if (!ctl.root || !ctl.root.isConnected || location.pathname !== ctl.restPath) return;
  const s = current();
  writeUrl(s);
  if (ctl.data.report && s !== ctl.reported && ctl.setStateValue) {
    ctl.reported = s;
    ctl.setStateValue("step", s);  // one script run, only when the server has asked for the step
  }
}

function writeUrl(s) {
  const q = ctl.data && ctl.data.query;
  if (q === null || q === undefined) return;  // this view has no link of its own
  const params = new URLSearchParams();
  for (const [k, v] of q) params.set(k, v === null ? String(s) : v);  // null marks the step's place
  const search = params.toString();
  const url = location.pathname + (search ? "?" + search : "") + location.hash;
  if (url !== location.pathname + location.search + location.hash) history.replaceState(history.state, "", url);
}

function tick(now) {
  if (!ctl.playing) return;
  if (!ctl.root || !ctl.root.isConnected) {  // the view is gone (another page): stop
    ctl.playing = false;
    return;
  }
  const interval = 1000 / ctl.speed;
  if (now - ctl.last >= interval) {
    // one step per due frame, never a burst: every step is drawn, and a slow frame only slows the play
    ctl.last = now - ctl.last > 2 * interval ? now : ctl.last + interval;
    const s = current() + 1;
    if (s >= ctl.n) {
      pause();
      return;
    }
    draw(s);
  }
  ctl.raf = requestAnimationFrame(tick);
}

function play() {
  if (ctl.n < 2) return;
  if (current() >= ctl.n - 1) draw(0);  // at the end: play from the start
  ctl.playing = true;
  ctl.last = performance.now();
  clearTimeout(ctl.rest);
  cancelAnimationFrame(ctl.raf);
  ctl.raf = requestAnimationFrame(tick);
  show(current());
}

function pause() {
  ctl.playing = false;
  cancelAnimationFrame(ctl.raf);
  show(current());
  settle();
}

// where the visitor types or adjusts a value, the keys stay theirs: text entry, open menus and lists, other
// sliders; everywhere else (buttons, radio and segmented choices, the page itself) they move the cursor
const OWN_KEYS = "textarea, select, [contenteditable=''], [contenteditable=true], [role=slider], [role=listbox], " +
  "[role=option], [role=combobox], [role=menu], [role=menuitem], [role=spinbutton], [role=textbox], [role=grid], " +
  "input:not([type=checkbox]):not([type=radio]):not([type=button]):not([type=submit])";  // other sliders too

function onKey(e) {
  if (e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey || !ctl.root || !ctl.root.isConnected) return;
  const t = e.target;
  const ours = t instanceof Element && ctl.root.contains(t);
  if (ours && t.matches("input.lstm-time-step") && e.key !== " ") return;  // the slider moves itself
  if (!ours && t instanceof Element && t.closest(OWN_KEYS)) return;
  switch (e.key) {
    case "ArrowRight": moveTo(current() + 1); break;
    case "ArrowLeft": moveTo(current() - 1); break;
    case "Home": moveTo(0); break;
    case "End": moveTo(ctl.n - 1); break;
    case " ": case "Spacebar": ctl.playing ? pause() : play(); break;
    default: return;
  }
  e.preventDefault();
  e.stopPropagation();
}

export default function (component) {
  const { parentElement, setStateValue } = component;
  // the server sends JSON as bytes (cursor.py says why)
  const raw = component.data;
  const data = raw instanceof Uint8Array ? JSON.parse(new TextDecoder().decode(raw)) : raw;
  ctl.root = parentElement.querySelector(".lstm-cursor");
  ctl.data = data;
  ctl.setStateValue = setStateValue;
  ctl.n = Math.max(1, data.n);
  ctl.speed = data.speed || ctl.speed;
  const r = ctl.root;
  const slider = r.querySelector("input.lstm-time-step");
  const speed = r.querySelector("select.lstm-speed");
  if (!speed.options.length) {
    for (const v of data.speeds) speed.add(new Option(`${v} steps/s`, String(v)));
  }
  speed.value = String(ctl.speed);
  r.querySelector(".lstm-keys").hidden = !!data.compact || data.keys === false;

  // the server moves the cursor only when it means to (a scene, a link): a new `jump` value
  if (data.jump !== ctl.jump) {
    ctl.jump = data.jump;
    ctl.trace = data.trace;
    ctl.reported = data.step;
    if (ctl.playing) pause();
    draw(data.step);
  } else if (data.trace !== ctl.trace) {  // another sequence or unit: keep the step where it fits
    ctl.trace = data.trace;
    draw(current());
  } else {
    show(current());
  }
  if (data.autoplay && !ctl.playing && ctl.autoplayed !== data.jump) {
    ctl.autoplayed = data.jump;
    play();
  }

  slider.oninput = () => moveTo(slider.value);
  r.querySelector("button.lstm-prev").onclick = () => moveTo(current() - 1);
  r.querySelector("button.lstm-next").onclick = () => moveTo(current() + 1);
  r.querySelector("button.lstm-play").onclick = () => (ctl.playing ? pause() : play());
  speed.onchange = () => {
    ctl.speed = Number(speed.value);
    if (ctl.setStateValue) ctl.setStateValue("speed", ctl.speed);  // remembered for the next page
  };
  if (!ctl.onBus) {  // another element may move the step too (a melody's notes playing): the slider follows it
    ctl.onBus = () => {
      if (!ctl.root || !ctl.root.isConnected) return;
      show(current());
      if (!ctl.playing) settle();
    };
    bus().addEventListener(EVENT, ctl.onBus);
  }
  if (ctl.onKey) document.removeEventListener("keydown", ctl.onKey, true);
  ctl.onKey = onKey;
  document.addEventListener("keydown", onKey, true);
  settle();  // the address bar follows a new view too

  // called before the next data update and on unmount: Play goes on across updates (tick stops it once the view
  // has left the page)
  return () => {
    if (!ctl.root || !ctl.root.isConnected) clearTimeout(ctl.rest);  // unmounted: no report from a gone view
    document.removeEventListener("keydown", onKey, true);
    if (ctl.onKey === onKey) ctl.onKey = null;
  };
}
