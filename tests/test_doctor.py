"""``python -m smartcar_tutorial doctor``: a facilitator's check of the environment.

It runs here in the environment that the hub test's servers run in (this
Python's), once as it is and once with jupyter-server-proxy made
unimportable, which a ``sitecustomize`` on ``PYTHONPATH`` arranges.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from smartcar_tutorial.doctor import Check

pytestmark = pytest.mark.localserver

ROOT = Path(__file__).parent.parent
BLOCK_THE_PROXY = """
import sys


class _NoServerProxy:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "jupyter_server_proxy":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, _NoServerProxy())
"""


def doctor(
    *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    clean = {
        name: value
        for name, value in (env or os.environ).items()
        if name != "SMARTCAR_TUTORIAL_AUTOPILOT"
    }
    return subprocess.run(
        [sys.executable, "-m", "smartcar_tutorial", "doctor", *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
        env=clean,
    )


def lines_of(done: subprocess.CompletedProcess) -> dict[str, str]:
    """The report's lines by check name."""
    found = {}
    for line in done.stdout.splitlines():
        if line[:4] in ("PASS", "FAIL", "SKIP"):
            found[line[6:30].strip()] = line
    return found


def test_check_line_names_the_fix_only_on_failure():
    assert Check("ports", True, "free", "stop it").line() == (
        "PASS  ports                    free"
    )
    assert (
        Check("ports", False, "8080 is held", "stop it")
        .line()
        .endswith("8080 is held. Fix: stop it")
    )


def test_doctor_passes_in_this_environment_and_runs_the_notebooks():
    done = doctor()

    assert done.returncode == 0, done.stdout + done.stderr
    lines = lines_of(done)
    assert set(lines) == {
        "widget front end",
        "jupyter-server-proxy",
        "ports",
        "python3 kernel",
        "sandbox through proxy",
        "notebooks execute",
    }
    assert all(line.startswith("PASS") for line in lines.values()), done.stdout
    assert "@jupyter-widgets/jupyterlab-manager" in lines["widget front end"]
    assert "ran in" in lines["notebooks execute"]
    assert done.stdout.rstrip().endswith("All checks passed")


def test_doctor_fails_and_names_the_fix_without_jupyter_server_proxy(tmp_path):
    (tmp_path / "sitecustomize.py").write_text(BLOCK_THE_PROXY)
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}

    done = doctor("--quick", env=env)

    assert done.returncode == 1, done.stdout + done.stderr
    lines = lines_of(done)
    proxy = lines["jupyter-server-proxy"]
    assert proxy.startswith("FAIL")
    assert "Fix: pip install 'jupyter-server-proxy>=4.2'" in proxy
    assert lines["sandbox through proxy"].startswith("FAIL")
    assert "Fix:" in lines["sandbox through proxy"]
    assert lines["widget front end"].startswith("PASS")
    assert lines["notebooks execute"].startswith("SKIP")
    assert "2 of 5 checks failed" in done.stdout
