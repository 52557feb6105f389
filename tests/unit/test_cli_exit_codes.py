"""Commands exit with the codes the error classes define (`errors.py`), never a bare number, so a
script reading `$?` sees one vocabulary across every capability."""

from __future__ import annotations

import ast
from pathlib import Path

import trustdesk
from trustdesk.errors import DomainError, VerificationFailed
from trustdesk.privacy.errors import ErasureNotVerified

PACKAGE = Path(trustdesk.__file__).parent
FOLDERS = ("auth", "auditing", "customers", "feedback", "trust", "fraud", "privacy")


def _bare_exit_codes(path: Path) -> list[int]:
    """Lines of `typer.Exit(code=<a number other than 0>)` in the module."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "Exit":
            for keyword in node.keywords:
                value = keyword.value
                if keyword.arg == "code" and isinstance(value, ast.Constant) and value.value:
                    found.append(node.lineno)
    return found


def test_capability_commands_take_their_exit_codes_from_the_error_classes():
    modules = [p for folder in FOLDERS for p in sorted((PACKAGE / folder).rglob("*.py"))]
    assert any(p.name == "cli.py" for p in modules)
    bare = {str(p.relative_to(PACKAGE)): lines for p in modules if (lines := _bare_exit_codes(p))}
    assert bare == {}


def test_a_failed_verification_exits_1_like_every_unverified_check():
    assert VerificationFailed.exit_code == DomainError.exit_code == 1
    assert issubclass(ErasureNotVerified, VerificationFailed) and ErasureNotVerified.status == 500
