"""Every user-visible string, addressed by key, in Simplified Chinese (default) and English."""

from __future__ import annotations

import string
from dataclasses import dataclass

from bot.content import list_files, read_yaml

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"


class TextsError(ValueError):
    """The texts in content/texts are inconsistent."""


def placeholders(template: str) -> set[str]:
    """Return the names of the {placeholders} in a template."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@dataclass(frozen=True)
class Texts:
    """Keyed templates per language; `get` fills placeholders."""

    table: dict[str, dict[str, str]]

    @classmethod
    def load(cls) -> Texts:
        """Read every content/texts/*.yaml file; a key may be defined once only."""
        table: dict[str, dict[str, str]] = {}
        for name in list_files("texts", ".yaml"):
            data = read_yaml("texts", name) or {}
            for key, variants in data.items():
                if key in table:
                    raise TextsError(f"text key {key!r} defined twice (again in {name})")
                if not isinstance(variants, dict) or DEFAULT_LANGUAGE not in variants:
                    raise TextsError(f"text key {key!r} in {name} lacks a {DEFAULT_LANGUAGE} text")
                table[key] = {lang: str(text) for lang, text in variants.items()}
        return cls(table)

    def get(self, key: str, lang: str = DEFAULT_LANGUAGE, /, **values: object) -> str:
        """Return the text for key in lang (falling back to Chinese) with values filled in."""
        variants = self.table[key]
        template = variants.get(lang) or variants[DEFAULT_LANGUAGE]
        return template.format(**values) if values else template

    def has(self, key: str) -> bool:
        """Return whether key is defined."""
        return key in self.table

    def variants(self, key: str) -> list[str]:
        """Return the key's text in every language (for matching button labels)."""
        return list(self.table[key].values())
