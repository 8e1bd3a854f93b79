"""The deployment files (deploy/): containers cannot run on these machines, so the files are parsed and checked for
what the design needs (replicas, health checks, sticky cookie, WebSockets, the per-replica settings the core reads);
bench/bench_replicas.py runs the same HAProxy file on loopback. And the per-replica settings themselves."""
import logging
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import given, strategies as st

from lstm_demo import config, jobs
from lstm_demo.config import ENV_LIMITS, Limits, limits_from_env

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
PORT = "8501"


def haproxy_sections(text: str) -> dict:
    """HAProxy's file as {(section, name): [setting lines]}: a section starts at an unindented line; comments go."""
    sections, current = {}, None
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        if not line[0].isspace():
            kind, _, name = line.partition(" ")
            current = sections.setdefault((kind, name.strip()), [])
        else:
            current.append(" ".join(line.split()))
    return sections


def setting(lines: list, prefix: str) -> list:
    return [line for line in lines if line == prefix or line.startswith(prefix + " ")]


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


@pytest.fixture(scope="module")
def haproxy():
    return haproxy_sections((DEPLOY / "haproxy.cfg").read_text())


# --- per-replica settings ------------------------------------------------------------------------------------------

def test_max_jobs_from_the_environment_is_clamped_and_said(caplog):
    assert limits_from_env({}) == Limits()
    assert limits_from_env({"LSTM_LAB_MAX_JOBS": " 4 "}).max_concurrent_jobs == 4
    with caplog.at_level(logging.WARNING, logger="lstm_demo.config"):
        assert limits_from_env({"LSTM_LAB_MAX_JOBS": "0"}).max_concurrent_jobs == 1
        assert limits_from_env({"LSTM_LAB_MAX_JOBS": "500"}).max_concurrent_jobs == 16
        assert limits_from_env({"LSTM_LAB_MAX_JOBS": "two"}).max_concurrent_jobs == Limits().max_concurrent_jobs
    said = caplog.text
    assert "LSTM_LAB_MAX_JOBS=0 is outside 1…16: using 1" in said
    assert "LSTM_LAB_MAX_JOBS=500 is outside 1…16: using 16" in said
    assert "LSTM_LAB_MAX_JOBS='two' is not a whole number: using the default 2" in said
    # the other caps never move
    assert limits_from_env({"LSTM_LAB_MAX_JOBS": "8"}) == Limits(max_concurrent_jobs=8)


@given(st.text(max_size=12))
def test_any_max_jobs_value_gives_a_slot_count_within_range(raw):
    _, lo, hi = ENV_LIMITS["LSTM_LAB_MAX_JOBS"]
    assert lo <= limits_from_env({"LSTM_LAB_MAX_JOBS": raw}).max_concurrent_jobs <= hi


def test_the_process_caps_are_built_from_the_environment():
    """LIMITS (which the job queue's slots use) comes from limits_from_env, in a fresh interpreter."""
    code = "from lstm_demo.config import LIMITS; from lstm_demo import jobs; print(LIMITS.max_concurrent_jobs, " \
           "jobs._SLOTS._initial_value)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                         env={**os.environ, "LSTM_LAB_MAX_JOBS": "3"})
    assert out.stdout.split() == ["3", "3"]


def test_threads_per_job_from_the_environment_stays_within_the_cores(monkeypatch):
    monkeypatch.setenv("LSTM_LAB_THREADS_PER_JOB", "1000")
    assert jobs.threads_per_job(1) == jobs.available_cores()
    monkeypatch.setenv("LSTM_LAB_THREADS_PER_JOB", "1")
    assert jobs.threads_per_job(1) == 1


# --- the compose file ----------------------------------------------------------------------------------------------

def test_compose_runs_replicas_of_the_image_with_health_checks(compose):
    app = compose["services"]["app"]
    assert app["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
    assert re.fullmatch(r"\$\{REPLICAS:-(\d+)\}", str(app["deploy"]["replicas"]))
    assert int(re.search(r"\d+", str(app["deploy"]["replicas"])).group()) >= 2
    check = " ".join(app["healthcheck"]["test"])
    assert f"http://127.0.0.1:{PORT}/_stcore/health" in check and "b'ok'" in check
    assert app["expose"] == [PORT]
    assert "ports" not in app  # only the balancer is reachable from outside


def test_compose_sets_the_per_replica_settings_the_core_reads(compose):
    env = compose["services"]["app"]["environment"]
    assert set(env) == {"LSTM_LAB_MAX_JOBS", "LSTM_LAB_THREADS_PER_JOB"}
    assert "LSTM_LAB_MAX_JOBS" in config.ENV_LIMITS
    assert "LSTM_LAB_THREADS_PER_JOB" in Path(jobs.__file__).read_text()


def test_compose_puts_haproxy_in_front_once_the_replicas_are_healthy(compose):
    lb = compose["services"]["lb"]
    assert lb["image"].startswith("haproxy:")
    assert "./haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro" in lb["volumes"]
    assert lb["depends_on"] == {"app": {"condition": "service_healthy"}}
    assert any(p.endswith(f":{PORT}") for p in lb["ports"])


# --- the image ------------------------------------------------------------------------------------------------------

def test_the_image_runs_the_app_with_cpu_torch_and_a_health_check():
    lines = [line.strip() for line in (DEPLOY / "Dockerfile").read_text().replace("\\\n", " ").splitlines()
             if line.strip() and not line.lstrip().startswith("#")]
    instr = {}
    for line in lines:
        word, _, rest = line.partition(" ")
        instr.setdefault(word, []).append(rest)
    assert instr["FROM"] == ["python:3.11-slim"]
    assert "pip install -r requirements.txt" in instr["RUN"]
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in (ROOT / "requirements.txt").read_text()
    assert "torch==2.13.0" in (ROOT / "requirements.txt").read_text()
    for folder in ("pages", "lstm_demo", ".streamlit"):
        assert any(c.split()[0] == folder for c in instr["COPY"])
    assert instr["EXPOSE"] == [PORT]
    assert f"http://127.0.0.1:{PORT}/_stcore/health" in instr["HEALTHCHECK"][0]
    cmd = instr["CMD"][-1]
    assert '"streamlit", "run", "app.py"' in cmd and f'"--server.port", "{PORT}"' in cmd and '"0.0.0.0"' in cmd
    assert instr["USER"] == ["lab"]


# --- the balancer ---------------------------------------------------------------------------------------------------

def test_haproxy_keeps_each_visitor_on_one_healthy_replica(haproxy):
    backend = haproxy[("backend", "app")]
    cookie = setting(backend, "cookie")
    assert len(cookie) == 1 and cookie[0].split()[1:4] == ["SERVERID", "insert", "indirect"]
    assert "nocache" in cookie[0]  # a shared cache must never hand one visitor's cookie to another
    assert setting(backend, "option httpchk") == ["option httpchk GET /_stcore/health"]
    assert setting(backend, "http-check expect") == ["http-check expect string ok"]
    assert setting(backend, "option redispatch")  # a dead replica's visitors go to a live one
    (servers,) = setting(backend, "server-template")
    name, count, address, *options = servers.split()[1:]
    assert address == f"app:{PORT}" and "check" in options  # the compose service, every replica health-checked
    assert int(count.split("-")[1]) >= 16


def test_haproxy_speaks_http_and_keeps_websockets_open(haproxy):
    defaults = haproxy[("defaults", "")]
    assert setting(defaults, "mode") == ["mode http"]  # HTTP mode passes a WebSocket upgrade through
    (tunnel,) = setting(defaults, "timeout tunnel")
    value = tunnel.split()[2]
    seconds = int(value[:-1]) * {"s": 1, "m": 60, "h": 3600}[value[-1]]
    assert seconds >= 3600  # an open websocket may idle for a long while between clicks
    assert not setting(defaults, "option httpclose") and not setting(defaults, "option http-server-close")
    assert setting(haproxy[("frontend", "web")], "bind") == [f"bind :{PORT}"]


def _haproxy():
    found = shutil.which("haproxy")
    if not found:
        if os.environ.get("CI"):
            pytest.fail("HAProxy not found; .ci/run installs Debian's haproxy")
        pytest.skip("needs HAProxy (Debian: apt-get install -y haproxy)")
    return found


def test_haproxy_accepts_the_file_and_the_bench_runs_the_same_settings(tmp_path):
    text = (DEPLOY / "haproxy.cfg").read_text()
    local = subprocess.run([sys.executable, "bench/bench_replicas.py", "--show-config"], cwd=ROOT, check=True,
                           capture_output=True, text=True).stdout
    original, swapped = haproxy_sections(text), haproxy_sections(local)
    assert set(swapped) == set(original) - {("resolvers", "docker")}
    for section, lines in original.items():
        if section == ("resolvers", "docker"):
            continue
        kept = [x for x in lines if not x.startswith(("server-template", "bind"))]
        assert [x for x in swapped[section] if not x.startswith(("server ", "bind", "http-request capture",
                                                                  "log-format"))] == kept
    assert setting(swapped[("backend", "app")], "server") == ["server r1 127.0.0.1:18001 check",
                                                               "server r2 127.0.0.1:18002 check"]
    haproxy = _haproxy()
    for name, body in (("deployed.cfg", text), ("loopback.cfg", local)):
        (tmp_path / name).write_text(body)
        check = subprocess.run([haproxy, "-c", "-f", str(tmp_path / name)], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr
