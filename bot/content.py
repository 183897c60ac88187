"""Locate and read the editable data in content/ (works from a checkout and an installed wheel)."""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Any

import yaml


def content_root() -> Traversable:
    """Return the content/ folder as shipped with the code."""
    return files("content")


def read_text(*parts: str) -> str:
    """Return the UTF-8 text of a file under content/."""
    node = content_root()
    for part in parts:
        node = node / part
    return node.read_text(encoding="utf-8")


# libyaml's C loader parses the FAQ and texts several times faster than the pure-Python one;
# start-up time is part of the product (the CLI answers a question per process).
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(*parts: str) -> Any:
    """Return the parsed YAML of a file under content/."""
    return yaml.load(read_text(*parts), Loader=_LOADER)


def list_files(folder: str, suffix: str) -> list[str]:
    """Return the sorted names of the files in a content/ subfolder ending with suffix."""
    node = content_root() / folder
    if not node.is_dir():
        return []
    return sorted(p.name for p in node.iterdir() if p.name.endswith(suffix))
