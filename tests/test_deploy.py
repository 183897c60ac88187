"""deploy/ names exactly the settings the bot reads."""

from __future__ import annotations

import re
from pathlib import Path

from bot.config import SETTINGS

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
BOT = Path(__file__).resolve().parents[1] / "bot"


def settings_in(path: Path) -> set[str]:
    return set(re.findall(r"^\s*#?\s*((?:TELEGRAM|PARKBOT)_[A-Z_]+)=", path.read_text(), re.M))


def test_env_example_documents_every_setting_and_no_other() -> None:
    assert settings_in(DEPLOY / "env.example") == set(SETTINGS)


def test_every_setting_the_code_reads_is_declared() -> None:
    read = set()
    for path in BOT.rglob("*.py"):
        read |= set(
            re.findall(r"""get\(\s*["']((?:TELEGRAM|PARKBOT)_[A-Z_]+)["']""", path.read_text())
        )
    assert read <= set(SETTINGS)
    assert read == set(SETTINGS)
