// The copy of a visitor's last trained model kept in their own browser (lstm_demo/ui/keep.py mounts this).
//
// IndexedDB of this site in this browser: one record, the model file's bytes (the same safetensors a download gives)
// with a short label. Nothing leaves the browser unless the visitor asks for a restore. Data from the server is bytes:
// a JSON line {who, op, seq, token, ...}, then, for "save", the model file. Each action runs once per (token, who,
// seq), however often Streamlit calls this function.
const DB = "lstm-gate-lab", STORE = "kept", KEY = "last-model";

function openDb() {
  return new Promise((ok, fail) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => ok(req.result);
    req.onerror = () => fail(req.error);
  });
}

async function inStore(mode, use) {
  const db = await openDb();
  return new Promise((ok, fail) => {
    const t = db.transaction(STORE, mode);
    const req = use(t.objectStore(STORE));
    t.oncomplete = () => { db.close(); ok(req.result); };
    t.onerror = t.onabort = () => { db.close(); fail(t.error); };
  });
}

const read = () => inStore("readonly", (s) => s.get(KEY));
const write = (record) => inStore("readwrite", (s) => s.put(record, KEY));
const remove = () => inStore("readwrite", (s) => s.delete(KEY));

function describe(record) {  // what the page may say about the kept model, never its bytes
  if (!record || !(record.bytes instanceof ArrayBuffer)) return null;
  return { id: String(record.id), label: String(record.label), steps: Number(record.steps),
           size: record.bytes.byteLength, age: Math.max(0, (Date.now() - Number(record.saved)) / 1000) };
}

function base64(bytes) {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export default function (component) {
  const { setStateValue, setTriggerValue } = component;
  const raw = component.data;
  const cut = raw.indexOf(10);  // "\n" ends the JSON line
  const head = JSON.parse(new TextDecoder().decode(cut < 0 ? raw : raw.subarray(0, cut)));
  // A new server session under the same open page: the server that held this visitor's session is gone (or
  // forgot it), and the page started afresh. Said once per new session.
  if (head.who === "offer" && window.__lstmKeepToken !== head.token) {
    if (window.__lstmKeepToken) setStateValue("lost", head.token);
    window.__lstmKeepToken = head.token;
  }
  const done = (window.__lstmKeepDone = window.__lstmKeepDone || new Set());
  const action = `${head.token}:${head.who}:${head.seq}`;
  if (done.has(action)) return;
  done.add(action);
  const failed = (e) => setStateValue("error", String((e && e.name) || e));
  const mark = (kept) => {  // for tests and curious eyes: has this page looked, and is a model kept?
    const el = component.parentElement.querySelector("[data-testid=lstm-keep]");
    if (el) el.dataset.kept = kept ? "1" : "0";
  };
  if (head.op === "save") {
    const bytes = raw.slice(cut + 1);  // a copy with a buffer of its own
    write({ id: head.id, label: head.label, steps: head.steps, saved: Date.now(), bytes: bytes.buffer })
      .then(() => setStateValue("saved", head.id), failed);
  } else if (head.op === "send") {
    read().then((record) => setTriggerValue("bytes", describe(record) ? base64(new Uint8Array(record.bytes)) : ""),
                failed);
  } else if (head.op === "clear") {
    remove().then(() => { mark(false); setStateValue("kept", null); }, failed);
  } else {
    read().then((record) => { mark(describe(record)); setStateValue("kept", describe(record)); }, failed);
  }
}
