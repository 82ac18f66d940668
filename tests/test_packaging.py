"""The files that install the project agree with each other."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).parent.parent


try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _normalise(requirements: list[str]) -> set[tuple[str, str]]:
    parsed = (Requirement(r) for r in requirements)
    return {(r.name.lower(), str(r.specifier)) for r in parsed}


def test_environment_yml_lists_the_same_requirements_as_pyproject():
    project = _pyproject()["project"]
    wanted = project["dependencies"] + project["optional-dependencies"]["test"]

    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    listed = [line for line in pip_section if line not in (".", "-e .")]

    assert _normalise(listed) == _normalise(wanted)
    assert "." in pip_section, "environment.yml must install the package itself"


def test_every_notebook_is_clean_and_uses_the_python3_kernel():
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    assert len(notebooks) >= 4
    for path in notebooks:
        nb = json.loads(path.read_text())
        assert nb["metadata"]["kernelspec"]["name"] == "python3", path.name
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        assert all(not c["outputs"] for c in code), f"{path.name} has outputs"
        assert all(c["execution_count"] is None for c in code), path.name
        tags = [t for c in code for t in c.get("metadata", {}).get("tags", [])]
        assert "parameters" in tags, f"{path.name} has no 'parameters' cell"
