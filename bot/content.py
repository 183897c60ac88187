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


def read_yaml(*parts: str) -> Any:
    """Return the parsed YAML of a file under content/."""
    return yaml.safe_load(read_text(*parts))


def list_files(folder: str, suffix: str) -> list[str]:
    """Return the sorted names of the files in a content/ subfolder ending with suffix."""
    node = content_root() / folder
    if not node.is_dir():
        return []
    return sorted(p.name for p in node.iterdir() if p.name.endswith(suffix))
