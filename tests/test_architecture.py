"""bot/ is Telegram-free outside its edge modules, and imports no handlers/."""

from __future__ import annotations

import ast
from pathlib import Path

BOT = Path(__file__).resolve().parents[1] / "bot"
EDGE = {"app.py", "webhook.py", "cli.py", "console.py", "__main__.py"}
FORBIDDEN = ("telegram", "handlers")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_domain_modules_do_not_import_telegram_or_handlers() -> None:
    offenders = []
    for path in sorted(BOT.rglob("*.py")):
        if path.relative_to(BOT).as_posix() in EDGE:
            continue
        for name in imported_modules(path):
            if name.split(".")[0] in FORBIDDEN:
                offenders.append(f"{path.relative_to(BOT.parent)} imports {name}")
    assert offenders == []


def test_the_guard_would_notice_an_offender(tmp_path: Path) -> None:
    sample = tmp_path / "x.py"
    sample.write_text("from telegram import Update\nimport handlers.start\n")
    assert imported_modules(sample) == {"telegram", "handlers.start"}
