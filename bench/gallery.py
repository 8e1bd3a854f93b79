"""Open every view of the audit matrix in Chromium, photograph it and audit it.

    python bench/gallery.py OUT_DIR [--only NAME_REGEX] [--no-axe]

Starts the app like tests/e2e/conftest.py does, opens each view of tests/e2e/view_matrix.py (the fourteen scenes at
1440×900 and in the presenter view at 1280×720, home at 1280×720 in the normal view, Step through of every bundled kind with each "More views" panel, the
Train page's preview of each kind of data, Long memory, Family, home and Step through at 390×844), and writes:
  OUT_DIR/NAME.png          the first screen, as the visitor sees it at that size
  OUT_DIR/NAME-full.png     the whole page (the window made as tall as the page)
  OUT_DIR/findings.json     per view: the audit's failures by check (tests/e2e/audit.py), axe-core's violations where
                            the matrix asks for them, seconds to open, and the server log's tracebacks
  OUT_DIR/index.html        every screenshot on one page, with captions and findings
and prints a summary: failing checks per view, and how long the walk took. Heavy: run it under flock.
"""
from __future__ import annotations

import argparse
import html
import json
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # lstm_demo (the matrix reads the scenes)
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "e2e"))
from audit import axe_results, axe_violations, check_view  # noqa: E402
from conftest import CHROMIUM, CHROMIUM_ARGS, app_server  # noqa: E402
from view_matrix import N_SCENES, VIEWS, open_view  # noqa: E402

FULL_PAGE_CAP = 16_000  # px: a taller page is cut (Chromium's screenshots have a size limit)


def full_page(page, path: Path) -> None:
    """Streamlit scrolls its main column, not the document: make the window as tall as that column, photograph,
    and put the window back."""
    size = dict(page.viewport_size)
    tall = page.evaluate("""() => { const m = document.querySelector('[data-testid=stMain]');
        return m ? m.scrollHeight : document.documentElement.scrollHeight; }""")
    page.set_viewport_size({"width": size["width"], "height": min(max(tall, size["height"]), FULL_PAGE_CAP)})
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    page.screenshot(path=str(path))
    page.set_viewport_size(size)


def audit_one(browser, base: str, view, out: Path, run_axe: bool) -> dict:
    page = browser.new_page(viewport={"width": view.viewport[0], "height": view.viewport[1]})
    record = {"name": view.name, "caption": view.caption, "path": view.path, "viewport": list(view.viewport)}
    t0 = time.monotonic()
    try:
        open_view(page, base, view)
        record["open_s"] = round(time.monotonic() - t0, 2)
        page.screenshot(path=str(out / f"{view.name}.png"))
        record["failures"] = check_view(page, presenter_scene=view.scene, n_scenes=N_SCENES,
                                        first_screen=view.first_screen or None)
        if run_axe and view.axe:
            results = axe_results(page)
            record["axe"] = [{"id": v["id"], "impact": v["impact"], "help": v["help"],
                              "nodes": v["nodes"][:12], "n_nodes": len(v["nodes"])} for v in results]
            serious = axe_violations(page, results=results)
            if serious:
                record["failures"]["axe serious/critical"] = serious
        if view.scene is None:
            full_page(page, out / f"{view.name}-full.png")
            record["full"] = f"{view.name}-full.png"
    except Exception as e:  # a view that cannot be opened is a finding too; keep walking
        record.setdefault("failures", {})["could not open"] = [f"{type(e).__name__}: {str(e).splitlines()[0]}"]
        page.screenshot(path=str(out / f"{view.name}.png"))
    finally:
        record["audit_s"] = round(time.monotonic() - t0, 2)
        page.close()
    return record


def tracebacks(log: Path) -> list[str]:
    """The last line of each traceback in the server's log (what went wrong, e.g. KeyError: 'diagram')."""
    text = log.read_text(errors="replace")
    found = []
    for block in text.split("Traceback (most recent call last):")[1:]:
        lines = [ln for ln in block.splitlines() if ln.strip()]
        tail = next((ln for ln in lines if re.match(r"^\w+(\.\w+)*(Error|Exception|Exit|Interrupt)\b", ln)), lines[-1])
        where = [ln.strip() for ln in lines if ln.strip().startswith('File "') and "lstm_demo" in ln]
        found.append(tail + (f" (last app frame: {where[-1]})" if where else ""))
    return found


def write_index(out: Path, records: list[dict], took: float) -> None:
    rows = []
    for r in records:
        failures = r.get("failures", {})
        items = "".join(f"<li><b>{html.escape(k)}</b><ul>" + "".join(f"<li>{html.escape(f)}</li>" for f in v)
                        + "</ul></li>" for k, v in failures.items())
        axe = "".join(f"<li>axe {html.escape(v['id'])} ({v['impact']}, {v['n_nodes']})</li>" for v in r.get("axe", []))
        full = f' · <a href="{r["full"]}">whole page</a>' if r.get("full") else ""
        status = "fail" if failures else "pass"
        rows.append(f"""<section class="{status}" id="{r['name']}"><h2>{html.escape(r['name'])} — {html.escape(r['caption'])}</h2>
<p><code>{html.escape(r['path'])}</code> at {r['viewport'][0]}×{r['viewport'][1]} · opened in {r.get('open_s', '—')} s{full}</p>
<div class="shots"><a href="{r['name']}.png"><img src="{r['name']}.png" loading="lazy" alt="first screen of {r['name']}"></a>
{f'<a href="{r["full"]}"><img src="{r["full"]}" loading="lazy" alt="whole page of {r["name"]}"></a>' if r.get('full') else ''}</div>
<ul>{items or '<li>no failures found by the checks</li>'}{('<li>axe, every impact:<ul>' + axe + '</ul></li>') if axe else ''}</ul></section>""")
    failing = sum(1 for r in records if r.get("failures"))
    index = f"""<!doctype html><html lang="en"><meta charset="utf-8"><title>LSTM gate lab — every view</title>
<style>body{{font:15px system-ui,sans-serif;margin:1.5rem;color:#111}} section{{border-top:2px solid #ccc;padding:.5rem 0}}
section.fail h2{{color:#a00}} section.pass h2{{color:#060}} .shots{{display:flex;gap:1rem;align-items:flex-start}}
.shots img{{max-width:46vw;max-height:80vh;border:1px solid #999}} h2{{font-size:1.1rem}} li{{margin:.15rem 0}}</style>
<h1>Every view of the matrix</h1><p>{len(records)} views, {failing} with failures; walked in {took:.0f} s.
Contents: {' · '.join(f'<a href="#{r["name"]}">{r["name"]}</a>' for r in records)}</p>
{''.join(rows)}</html>"""
    (out / "index.html").write_text(index)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--only", default=None, help="a regular expression: only views whose name matches")
    ap.add_argument("--no-axe", action="store_true", help="skip axe-core (it takes a few seconds per page)")
    a = ap.parse_args()
    out = a.out_dir
    out.mkdir(parents=True, exist_ok=True)
    views = [v for v in VIEWS if a.only is None or re.search(a.only, v.name)]
    log = out / "streamlit.log"
    from playwright.sync_api import sync_playwright
    t0 = time.monotonic()
    records = []
    with app_server(log) as (_, port), sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for view in views:
            record = audit_one(browser, f"http://127.0.0.1:{port}", view, out, not a.no_axe)
            records.append(record)
            names = ", ".join(f"{k} ({len(v)})" for k, v in record.get("failures", {}).items()) or "ok"
            print(f"{view.name:32s} {record['audit_s']:6.1f} s  {names}", flush=True)
        browser.close()
    took = time.monotonic() - t0
    summary = {"views": len(records), "failing": sum(1 for r in records if r.get("failures")), "seconds": round(took, 1),
               "server_tracebacks": tracebacks(log), "records": records}
    (out / "findings.json").write_text(json.dumps(summary, indent=1, ensure_ascii=False))
    write_index(out, records, took)
    by_check = {}
    for r in records:
        for k in r.get("failures", {}):
            by_check.setdefault(k, []).append(r["name"])
    print(f"\n{summary['failing']} of {len(records)} views fail; {took:.0f} s in all")
    for k, names in sorted(by_check.items(), key=lambda kv: -len(kv[1])):
        print(f"  {k:22s} {len(names):3d}: {', '.join(names[:8])}{' …' if len(names) > 8 else ''}")
    for tb in summary["server_tracebacks"]:
        print(f"  server traceback: {tb}")
    print(f"screenshots, findings.json and index.html in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
