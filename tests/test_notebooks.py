"""Every notebook runs unattended under papermill, end to end.

nbval runs them too (the test command collects ``notebooks/``); here the
saved outputs are inspected: the code shown in Step 3's widget is the one
that travelled sandbox → redirect → callback server → widget.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import papermill
import pytest

pytestmark = pytest.mark.localserver

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))
STEP_1 = next(p for p in NOTEBOOKS if p.name.startswith("01-"))
STEP_3 = next(p for p in NOTEBOOKS if p.name.startswith("03-"))
PLANTED_SECRET = "planted-secret-2c9d41e7-must-not-leak"


def parameters_of(path: Path) -> set[str]:
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    return set(re.findall(r"^(\w+)\s*=", cell.source, flags=re.MULTILINE))


def run(path: Path, tmp_path: Path, **parameters) -> nbformat.NotebookNode:
    wanted = {k: v for k, v in parameters.items() if k in parameters_of(path)}
    out = tmp_path / path.name
    papermill.execute_notebook(
        str(path),
        str(out),
        parameters=wanted,
        kernel_name="python3",
        cwd=str(path.parent),
        progress_bar=False,
    )
    return nbformat.read(out, as_version=4)


def widget_values(nb: nbformat.NotebookNode) -> list[str]:
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]
    values = [m["state"].get("value") for m in state["state"].values()]
    return [v for v in values if isinstance(v, str)]


def output_text(nb: nbformat.NotebookNode) -> str:
    return json.dumps([c.get("outputs", []) for c in nb.cells], ensure_ascii=False)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom_unattended(path, tmp_path):
    nb = run(path, tmp_path, autopilot="approve", timeout=60)
    errors = [
        o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"
    ]
    assert errors == []


def test_step_3_widget_shows_the_code_the_callback_server_received(tmp_path):
    nb = run(STEP_3, tmp_path, autopilot="approve", timeout=60)

    text = output_text(nb)
    code = re.search(r"AuthorizationResult\(code='([^']+)'", text).group(1)
    assert len(code) >= 16
    assert code in widget_values(nb), "the widget never showed the code"
    assert "not-yours" not in widget_values(nb)


def test_step_3_denied_shows_plain_words_and_raises_a_named_error(tmp_path):
    with pytest.raises(papermill.PapermillExecutionError) as info:
        run(STEP_3, tmp_path, autopilot="deny", timeout=60)
    assert info.value.ename == "AuthorizationDeniedError"

    nb = nbformat.read(tmp_path / STEP_3.name, as_version=4)
    assert any("pressed Deny" in v for v in widget_values(nb))


def test_step_1_with_real_looking_credentials_points_at_smartcar(tmp_path, monkeypatch):
    monkeypatch.setenv("SMARTCAR_CLIENT_ID", "8229df9f-91a0-4ff0-a1ae-a1f38ee24d07")
    monkeypatch.setenv("SMARTCAR_CLIENT_SECRET", PLANTED_SECRET)

    nb = run(STEP_1, tmp_path)

    text = output_text(nb)
    assert (
        "https://connect.smartcar.com/oauth/authorize?response_type=code"
        "&client_id=8229df9f-91a0-4ff0-a1ae-a1f38ee24d07" in text
    )
    assert "Connection to Smartcar" in text
    saved = (tmp_path / STEP_1.name).read_text()
    assert PLANTED_SECRET not in saved


def test_step_4_reads_a_vehicle_with_tokens_from_the_flows_code(tmp_path):
    step_4 = next(p for p in NOTEBOOKS if p.name.startswith("04-"))
    nb = run(step_4, tmp_path, autopilot="approve", timeout=60)

    text = output_text(nb)
    make, model, year = re.search(r"\('([A-Z]+)', '([^']+)', (20\d\d)\)", text).groups()
    assert f"'make': '{make}'" in text and f"'year': {year}" in text
    assert "(403, 'PERMISSION')" in text, "an ungranted permission was served"

    # The exchange used the code the flow's widget received.
    sent = re.search(r"code=([0-9a-f]{4})…", text).group(1)
    assert any(v.startswith(sent) and len(v) >= 16 for v in widget_values(nb))

    # No whole token or code in any output: only shortened forms.
    uuid = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    assert re.findall(uuid, text) == []


@pytest.mark.parametrize("mode", ["simulated", "live"])
def test_step_2_with_your_own_app_links_to_smartcar_in_the_chosen_mode(
    tmp_path, monkeypatch, mode
):
    monkeypatch.setenv("SMARTCAR_CLIENT_ID", "8229df9f-91a0-4ff0-a1ae-a1f38ee24d07")
    monkeypatch.setenv("SMARTCAR_CLIENT_SECRET", PLANTED_SECRET)
    monkeypatch.delenv("SMARTCAR_TUTORIAL_AUTOPILOT")  # nobody clicks
    step_2 = next(p for p in NOTEBOOKS if p.name.startswith("02-"))

    # Nobody goes through Smartcar's pages, so the wait ends with its error.
    with pytest.raises(papermill.PapermillExecutionError) as info:
        run(step_2, tmp_path, mode=mode, timeout=3)
    assert info.value.ename == "CallbackTimeoutError"

    saved = (tmp_path / step_2.name).read_text()
    pattern = r"https://connect\.smartcar\.com/oauth/authorize\?[^\"\\\\ ]+"
    links = [link.replace("&amp;", "&") for link in re.findall(pattern, saved)]
    assert any(f"&mode={mode}&" in link for link in links), links
    assert PLANTED_SECRET not in saved
