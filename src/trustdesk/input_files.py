"""Files a user hands to a command: a missing path, a directory, text that is not UTF-8 or a YAML
document nested without end all become one InvalidInput/NotFound line, never a traceback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from trustdesk.errors import InvalidInput, NotFound

__all__ = ["MAX_DOCUMENT_BYTES", "check_input_file", "load_yaml", "read_text_file"]

MAX_DOCUMENT_BYTES = 4 * 1024 * 1024  # rule sets and data maps are a few KB
_MAX_YAML_DEPTH = 32


def check_input_file(path: Path) -> None:
    """NotFound (exit 3) when nothing is at `path`; InvalidInput (exit 2) when it is no file."""
    if not path.exists():
        raise NotFound(f"{path}: no such file")
    if path.is_dir():
        raise InvalidInput(f"{path}: is a directory, not a file")
    if not path.is_file():
        raise InvalidInput(f"{path}: not a regular file")


def read_text_file(path: Path, *, max_bytes: int = MAX_DOCUMENT_BYTES) -> str:
    """A whole small UTF-8 text file (a UTF-8 BOM is dropped)."""
    check_input_file(path)
    try:
        with path.open("rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from None
    if len(data) > max_bytes:
        raise InvalidInput(f"{path.name}: larger than {max_bytes // (1024 * 1024)} MiB")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InvalidInput(f"{path.name}: the file is UTF-16/32; save it as UTF-8")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path.name}: not valid UTF-8 (byte {exc.start})") from None
    if "\x00" in text:
        raise InvalidInput(f"{path.name}: holds NUL characters; not a text file")
    return text


class _NoAliasLoader(yaml.SafeLoader):
    """Safe loading without anchors/aliases (they let a small file expand without bound) and
    without nesting deeper than any rule set or data map needs."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            raise yaml.composer.ComposerError(None, None, "aliases (*name) are not allowed", None)
        self._depth = getattr(self, "_depth", 0) + 1
        try:
            if self._depth > _MAX_YAML_DEPTH:
                raise yaml.composer.ComposerError(
                    None, None, f"nested deeper than {_MAX_YAML_DEPTH} levels", None
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def load_yaml(text: str, what: str) -> Any:
    """The document in `text`; InvalidInput names `what` and the problem."""
    try:
        return yaml.load(text, Loader=_NoAliasLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{what} is not valid YAML ({exc})") from None
    except RecursionError:
        raise InvalidInput(f"{what} is nested too deeply") from None
