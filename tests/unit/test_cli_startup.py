"""The command line starts quickly: the root imports no capability, no machine-learning library and
no Alembic; a group is imported when it is invoked; `--help` still lists every group.
(Timings are measured in `benchmarks/bench_cli_startup.py`, not here.)"""

from __future__ import annotations

import json
import subprocess
import sys

import typer
from typer.testing import CliRunner

from trustdesk import migrate
from trustdesk.capabilities import CAPABILITIES, resolve

HEAVY = ("lightgbm", "sklearn", "scipy", "pandas", "alembic", "sqlalchemy", "fastapi")


def _modules_loaded_by(code: str) -> set[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    return {m.split(".")[0] for m in json.loads(done.stdout.splitlines()[-1])}


def test_importing_the_cli_loads_no_heavy_library():
    loaded = _modules_loaded_by("import trustdesk.cli")
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))
    capability_modules = {c.app.partition(":")[0] for cap in CAPABILITIES for c in cap.commands}
    assert not any(m.startswith("trustdesk.") and m in loaded for m in capability_modules)


def test_help_lists_every_group_without_importing_one():
    code = (
        "import sys\nfrom typer.testing import CliRunner\nfrom trustdesk.cli import app\n"
        "r = CliRunner().invoke(app, ['--help'])\nassert r.exit_code == 0, r.output\n"
        "print(r.output, file=sys.stderr)"
    )
    loaded = _modules_loaded_by(code)
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))

    from trustdesk.cli import app

    result = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    listed = result.output
    for capability in CAPABILITIES:
        for command in capability.commands:
            assert f" {command.name} " in listed and command.help in listed, command.name
    for core in ("db", "config", "keys", "serve", "demo"):
        assert f" {core} " in listed


def test_the_manifest_help_line_is_the_groups_own():
    for capability in CAPABILITIES:
        for command in capability.commands:
            group = resolve(command.app, typer.Typer)
            assert command.help, f"{command.name}: give the manifest entry a help line"
            assert command.help == group.info.help, command.name


def test_a_lazily_mounted_group_parses_its_own_commands_and_help():
    from trustdesk.cli import app

    runner = CliRunner()
    nested = runner.invoke(app, ["privacy", "notice", "--help"])
    assert nested.exit_code == 0 and "diff" in nested.output
    assert "--install-completion" not in runner.invoke(app, ["customers", "--help"]).output
    typo = runner.invoke(app, ["custmers", "list"])
    assert typo.exit_code == 2 and "customers" in typo.output


def test_the_schema_check_expects_the_heads_alembic_computes():
    from alembic.script import ScriptDirectory

    alembic_heads = ScriptDirectory.from_config(migrate._config()).get_heads()
    assert migrate.head_revision() == "+".join(sorted(alembic_heads))


def test_a_simple_command_imports_only_its_own_group(tmp_path):
    env_setup = (
        "import os, sys\n"
        f"os.environ['TRUSTDESK_DATA_DIR'] = {str(tmp_path / 'nothing')!r}\n"
        "from trustdesk.cli import app\n"
        "from typer.testing import CliRunner\n"
        "r = CliRunner().invoke(app, ['config', 'show', '--json'])\n"
        "assert r.exit_code == 0, r.output\n"
    )
    loaded = _modules_loaded_by(env_setup)
    assert loaded.isdisjoint(("lightgbm", "sklearn", "scipy", "alembic", "sqlalchemy"))
