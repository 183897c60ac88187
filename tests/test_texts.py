"""Every text key used in code exists, placeholders agree across languages, no Chinese in code."""

from __future__ import annotations

import re
from pathlib import Path

from bot.texts import Texts, placeholders

ROOT = Path(__file__).resolve().parents[1]
CODE = [p for d in ("bot", "handlers") for p in (ROOT / d).rglob("*.py")]
# t("key"), .get("key", …), ctx.t('key') … — any call whose first argument is a dotted key.
KEY_USE = re.compile(r"""\b(?:t|get|text|texts_get)\(\s*["']([a-z_]+\.[a-z0-9_.]+)["']""")
HAN = re.compile(r"[\u4e00-\u9fff]")


def test_keys_used_in_code_exist() -> None:
    texts = Texts.load()
    missing = sorted(
        f"{path.relative_to(ROOT)}: {key}"
        for path in CODE
        for key in KEY_USE.findall(path.read_text(encoding="utf-8"))
        if not texts.has(key) and not key.startswith(("faq.yaml", "content."))
    )
    assert missing == []


def test_placeholders_match_across_languages() -> None:
    texts = Texts.load()
    mismatched = [
        key
        for key, variants in texts.table.items()
        if len({frozenset(placeholders(v)) for v in variants.values()}) > 1
    ]
    assert mismatched == []


def test_every_text_has_both_languages() -> None:
    texts = Texts.load()
    assert [k for k, v in texts.table.items() if set(v) != {"zh", "en"}] == []


def test_no_chinese_literals_in_code() -> None:
    offenders = []
    for path in CODE:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if HAN.search(code) and not code.strip().startswith(('"""', "'''")):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []
