"""The import contracts bite: a violation planted in a copy of the source breaks the contract that
guards against it, and the untouched copy keeps them all."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from trustdesk.capabilities import CAPABILITIES

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"

CORE = "Core imports no capability and nothing of the shell"
INDEPENDENT = "Capabilities meet only through their public.py"
ACYCLIC = "No package cycles"
SHELL = "Shell layers: entry points, capabilities, audit views, auth, web shell, access, manifest"
CUSTOMER_LAYERS = "Customers: api | cli | pages -> public -> service -> models"


def _copy(tmp_path: Path) -> Path:
    shutil.copytree(
        ROOT / "src", tmp_path / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def _lint(copy: Path) -> dict[str, bool]:
    """{contract name: kept} for the copy, read from lint-imports' report."""
    # The copy's package comes first on the path, ahead of the installed one.
    env = {**os.environ, "PYTHONPATH": str(copy / "src"), "COLUMNS": "300"}
    done = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    results = {}
    for line in done.stdout.splitlines():
        for verdict in (" KEPT", " BROKEN"):
            if verdict in line:
                name = line.split(verdict)[0]
                results[name] = verdict == " KEPT"
    assert results, done.stdout + done.stderr
    assert (done.returncode == 0) == all(results.values())
    return results


def _plant(copy: Path, module: str, line: str) -> None:
    """Append an import to the copy's `module` (a path below src/trustdesk, or a folder, whose
    first non-package module is used: it works whatever files a capability is split into)."""
    target = copy / "src" / "trustdesk" / module
    if target.is_dir():
        target = next(p for p in sorted(target.rglob("*.py")) if p.name != "__init__.py")
    with target.open("a", encoding="utf-8") as f:
        f.write(f"\n{line}  # noqa: planted\n")


def test_the_untouched_source_keeps_every_contract(tmp_path):
    results = _lint(_copy(tmp_path))
    assert all(results.values()), results
    assert {CORE, INDEPENDENT, ACYCLIC, SHELL, CUSTOMER_LAYERS} <= set(results)


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        # The three violations that once left every contract kept:
        ("tabular.py", "from trustdesk.fraud import engine", CORE),
        ("fraud", "from trustdesk.feedback import models", INDEPENDENT),
        ("feedback/service.py", "from trustdesk.trust import models", INDEPENDENT),
        # A hidden cycle through public facades (customers <-> privacy), as once inside a function.
        ("customers/api.py", "from trustdesk.privacy import public", ACYCLIC),
        # The shell: web <-> auth, and web importing a capability.
        ("web/nav.py", "from trustdesk.auth import http", SHELL),
        ("web/pages.py", "from trustdesk.fraud import pages", SHELL),
        # Inside a capability: a service reaching up into its API.
        ("customers/service.py", "from trustdesk.customers import api", CUSTOMER_LAYERS),
    ],
)
def test_a_planted_violation_breaks_its_contract(tmp_path, module, line, contract):
    copy = _copy(tmp_path)
    _plant(copy, module, line)
    results = _lint(copy)
    assert results[contract] is False, results


def test_every_capability_in_the_manifest_is_under_the_contracts():
    """A new capability's folder is covered by the independence contract and a layers contract of
    its own, so it cannot reach into another capability or its own layers upside down."""
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
        "importlinter"
    ]["contracts"]
    independent = next(c for c in contracts if c["name"] == INDEPENDENT)["modules"]
    layered = {m for c in contracts if c["type"] == "layers" for m in c.get("containers", ())}
    shell = {"trustdesk.auth", "trustdesk.audit"}
    folders = {
        f"trustdesk.{c.name}" for c in CAPABILITIES if (ROOT / "src/trustdesk" / c.name).is_dir()
    }
    assert folders - shell, folders
    assert sorted(folders - shell - set(independent)) == []
    assert sorted(folders - {"trustdesk.audit"} - layered) == []
