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


#: Test requirements that environment.yml leaves out. Binder and a hub's
#: image build from environment.yml, and there JupyterHub must stay the
#: version of the hub that runs them (repo2docker's docs say so), whereas
#: the hub test brings up a JupyterHub of its own.
NOT_FOR_IMAGES = {"jupyterhub"}


def _environment_pip_section() -> list[str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    return next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))


def test_environment_yml_lists_the_same_requirements_as_pyproject():
    project = _pyproject()["project"]
    wanted = project["dependencies"] + project["optional-dependencies"]["test"]
    wanted = [r for r in wanted if Requirement(r).name.lower() not in NOT_FOR_IMAGES]

    pip_section = _environment_pip_section()
    listed = [line for line in pip_section if line not in (".", "-e .")]

    assert _normalise(listed) == _normalise(wanted)
    assert "." in pip_section, "environment.yml must install the package itself"


def test_environment_yml_installs_the_package_and_a_safe_proxy():
    pip_section = _environment_pip_section()
    assert "." in pip_section, "Binder must install the package itself"

    proxies = [
        Requirement(line)
        for line in pip_section
        if line not in (".", "-e .")
        and Requirement(line).name.lower() == "jupyter-server-proxy"
    ]
    assert len(proxies) == 1, "environment.yml must list jupyter-server-proxy"
    specifier = proxies[0].specifier
    # Releases before 4.2 have published security flaws.
    for flawed in ("3.2.2", "4.0.0", "4.1.2"):
        assert not specifier.contains(flawed), f"{specifier} admits {flawed}"
    assert specifier.contains("4.2.0") and specifier.contains("4.6.0")

    project = _pyproject()["project"]
    assert "jupyter-server-proxy>=4.2" in project["dependencies"]


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
