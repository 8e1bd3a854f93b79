"""Chart specs with their data, as Streamlit takes them, and as bytes: the home page's first views are built when the
bundles are (lstm_demo.scenes) and only read at run time — no plotting library on the first screen.

A spec's named datasets are Arrow IPC bytes, serialised once: Streamlit ships bytes as they are, while tables,
lists and DataFrames are converted again on every rerun (py-spy under bench_load.py: a third of the server's time).
Stored, a set of views is a zip of one JSON spec per view and one Arrow IPC stream per dataset (no pickle).
"""
from __future__ import annotations

import io
import json
import zipfile


def main_key(layer: int, direction: int, unit: int, colour: str, unit_of: str = "", presenter: bool = False) -> tuple:
    """The memo key of a view's main charts (step_charts.main_views) — the same for a precomputed scene."""
    return ("main", layer, direction, unit, colour or "", unit_of) + (("presenter",) if presenter else ())


def heat_key(layer: int, direction: int) -> tuple:
    """The memo key of a view's heatmaps (step_charts.heatmap_views)."""
    return ("heat", layer, direction)


def arrow(data) -> bytes:
    """A dataset (DataFrame, list of records, Arrow table or already bytes) as Arrow IPC stream bytes."""
    if isinstance(data, bytes):
        return data
    import pyarrow as pa  # here, not at the top: stored views are read without it (the first screen)
    if not isinstance(data, pa.Table):
        import pandas as pd
        data = pa.Table.from_pandas(data, preserve_index=False) if isinstance(data, pd.DataFrame) else \
            pa.Table.from_pylist(list(data))
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, data.schema) as writer:
        writer.write_table(data)
    return sink.getvalue().to_pybytes()


def table(data: bytes):
    """Arrow IPC bytes back to a pyarrow Table (tests, rendering outside the browser)."""
    import pyarrow as pa
    return pa.ipc.open_stream(data).read_all()


def with_data(spec: dict, **frames) -> dict:
    """A Vega-Lite spec dict with named datasets attached (for st.vega_lite_chart); keeps the spec's own."""
    return {**spec, "datasets": {**spec.get("datasets", {}), **{k: arrow(v) for k, v in frames.items()}}}


def dump_views(views: dict) -> bytes:
    """{name: spec with Arrow datasets} -> zip bytes. A dataset two views share (the ConvLSTM's maps, drawn large
    and, for the presenter, small) is stored once."""
    import hashlib
    buf = io.BytesIO()
    entry = lambda name: zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))  # no clock: a rebuild of the same
    stored = {}                                                                  # views is the same file
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for i, (name, spec) in enumerate(views.items()):
            files = []
            for j, data in enumerate(spec.get("datasets", {}).values()):
                raw = arrow(data)
                digest = hashlib.sha1(raw).hexdigest()
                if digest not in stored:
                    stored[digest] = f"{i}/{j}.arrow"
                    z.writestr(entry(stored[digest]), raw, zipfile.ZIP_DEFLATED)
                files.append(stored[digest])
            z.writestr(entry(f"{i}/spec.json"), json.dumps({"name": name, "spec": {k: v for k, v in spec.items()
                                                                                       if k != "datasets"},
                                                            "datasets": list(spec.get("datasets", {})),
                                                            "files": files}, ensure_ascii=False),
                       zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def load_views(raw: bytes) -> dict:
    """zip bytes -> {name: spec with Arrow datasets}; names come back as the tuples they were."""
    views = {}
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        n = len([f for f in z.namelist() if f.endswith("/spec.json")])
        for i in range(n):
            entry = json.loads(z.read(f"{i}/spec.json"))
            files = entry.get("files") or [f"{i}/{j}.arrow" for j in range(len(entry["datasets"]))]
            datasets = {name: z.read(file) for name, file in zip(entry["datasets"], files)}
            views[_key(entry["name"])] = {**entry["spec"], "datasets": datasets}
    return views


def _key(name):
    return tuple(_key(x) for x in name) if isinstance(name, list) else name
