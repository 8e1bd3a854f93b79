// The melody's notes at the time cursor, played in the browser (lstm_demo/ui/kinds/melody.py mounts it).
//
// The step-through views follow document.body.value and the "lstm-step" event (lstm_demo/ui/cursor.js). This
// element listens to the same event: with "Sound each note" ticked, every move of the cursor onto a note plays it
// (the keyboard, the buttons, the slider and the cursor's own Play). "Play the notes" plays the melody at its tempo
// from the cursor on and moves the cursor with the sound, note by note, so the class hears and sees the same note.
// No script runs on the server for any of it: the notes travel once, as data (JSON bytes).
const EVENT = "lstm-step";   // step_charts.STEP_EVENT
const LEAD_S = 0.08;         // seconds between pressing Play and the first note (the audio graph's start-up)
const STEP_NOTE_S = 0.45;    // the longest a note sounds when the cursor steps onto it

const st = { steps: [], root: null, ctx: null, master: null, playing: false, raf: 0, t0: 0, times: [],
             from: 0, moved: null, sounded: 0, listening: false };

const bus = () => document.body;
const current = () => Math.max(0, Math.min(st.steps.length - 1, Math.round(Number(bus().value) || 0)));

function context() {  // created on the first use (after a click or a key: browsers start sound only then)
  const AC = window.AudioContext || window.webkitAudioContext;
  if (!AC) return null;
  if (!st.ctx) st.ctx = new AC();
  if (st.ctx.state === "suspended") st.ctx.resume();
  return st.ctx;
}

// one note: a soft triangle wave with a short rise and fall (no clicks)
function tone(ctx, out, freq, start, seconds) {
  const osc = ctx.createOscillator();
  const gain = ctx.createGain();
  const end = start + Math.max(0.06, seconds);
  osc.type = "triangle";
  osc.frequency.value = freq;
  gain.gain.setValueAtTime(0, start);
  gain.gain.linearRampToValueAtTime(0.3, start + 0.012);
  gain.gain.setValueAtTime(0.3, Math.max(start + 0.012, end - 0.04));
  gain.gain.linearRampToValueAtTime(0, end);
  osc.connect(gain).connect(out);
  osc.start(start);
  osc.stop(end + 0.02);
  st.sounded += 1;
  if (st.root) st.root.dataset.sounded = String(st.sounded);
}

function show() {
  if (!st.root) return;
  const play = st.root.querySelector("button.lstm-notes-play");
  play.textContent = st.playing ? "❚❚ Stop the notes" : "▶ Play the notes with the cursor";
  play.setAttribute("aria-pressed", st.playing ? "true" : "false");
  st.root.dataset.playing = st.playing ? "1" : "0";
}

function moveTo(s) {  // put the step on the bus, as the cursor does: every view redraws
  const b = bus();
  st.moved = String(s);
  if (b.value !== st.moved) {
    b.value = st.moved;
    b.dispatchEvent(new Event(EVENT));
  }
}

function onStep() {  // the cursor moved: sound its note, unless our own playback moved it
  if (st.playing || !st.root || !st.root.isConnected) return;
  if (!st.root.querySelector("input.lstm-notes-each").checked) return;
  const [freq, seconds] = st.steps[current()] || [0, 0];
  const ctx = freq > 0 ? context() : null;
  if (ctx) tone(ctx, ctx.destination, freq, ctx.currentTime + 0.005, Math.min(seconds, STEP_NOTE_S));
}

function stop() {
  st.playing = false;
  cancelAnimationFrame(st.raf);
  if (st.master) {
    st.master.disconnect();
    st.master = null;
  }
  show();
}

function play() {
  if (st.steps.length < 2) return;
  let from = current();
  if (from >= st.steps.length - 1) from = 0;
  st.times = [];  // when each step begins, in seconds after the first
  let clock = 0;
  for (let i = from; i < st.steps.length; i++) {
    st.times.push(clock);
    clock += st.steps[i][1];
  }
  st.total = clock;
  st.from = from;
  const ctx = context();
  if (ctx) {
    st.master = ctx.createGain();
    st.master.connect(ctx.destination);
    const start = ctx.currentTime + LEAD_S;
    st.times.forEach((t, k) => {
      const [freq, seconds] = st.steps[from + k];
      if (freq > 0) tone(ctx, st.master, freq, start + t, seconds);
    });
  }
  st.playing = true;
  st.t0 = performance.now() + LEAD_S * 1000;  // the cursor follows the same clock the notes were scheduled on
  moveTo(from);
  show();
  st.raf = requestAnimationFrame(tick);
}

function tick(now) {
  if (!st.playing) return;
  if (!st.root || !st.root.isConnected || bus().value !== st.moved) {  // gone, or the visitor moved the cursor
    stop();
    return;
  }
  const elapsed = (now - st.t0) / 1000;
  let k = 0;
  while (k + 1 < st.times.length && st.times[k + 1] <= elapsed) k += 1;
  moveTo(st.from + k);
  if (elapsed >= st.total) {
    stop();
    return;
  }
  st.raf = requestAnimationFrame(tick);
}

export default function (component) {
  const { parentElement } = component;
  const raw = component.data;
  const data = raw instanceof Uint8Array ? JSON.parse(new TextDecoder().decode(raw)) : raw;
  const root = parentElement.querySelector(".lstm-notes");
  if (st.playing && (root !== st.root || data.trace !== st.trace)) stop();  // another melody on screen
  st.root = root;
  st.trace = data.trace;
  st.steps = data.steps;  // [frequency in Hz (0: no pitch), seconds] per step
  root.querySelector("button.lstm-notes-play").onclick = () => (st.playing ? stop() : play());
  if (!st.listening) {
    st.listening = true;
    bus().addEventListener(EVENT, onStep);
  }
  show();
  return () => {
    if (!root.isConnected && st.root === root) stop();
  };
}
