"""The local console chat, driven through its input and output streams."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

from bot.config import Config
from bot.console import run_console
from bot.services import Services


async def test_console_chat_shows_numbered_buttons_and_presses_them(db_url: str) -> None:
    services = Services.create(Config(database_url=db_url))
    out = io.StringIO()
    lines = io.StringIO("/start\n/lang\n2\n/help\n9\n/quit\nnever read\n")
    await run_console(services, lines, out, user_id=42, name="李工")
    shown = out.getvalue()
    assert "用户 42（李工）" in shown
    assert "🤖 您好！我是园区科协服务机器人。" in shown
    assert "   [1] 简体中文\n   [2] English" in shown
    assert "🤖 ✎ Language set to English." in shown
    assert "You can use these commands:" in shown
    assert "没有编号为 9 的按钮。" in shown
    assert shown.rstrip().endswith("再见！")


async def test_console_sends_long_numbers_as_text(db_url: str) -> None:
    services = Services.create(Config(database_url=db_url))
    out = io.StringIO()
    await run_console(
        services, io.StringIO("/lang\n13800138000\n/quit\n"), out, user_id=43, name="王工"
    )
    shown = out.getvalue()
    assert "没有编号为" not in shown
    after_buttons = shown.split("[2] English", 1)[1]
    assert "🤖 " in after_buttons  # the number went to the bot as a message and got an answer


def test_make_run_without_token_opens_the_console(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        input="/start\n/quit\n",
        env={"PATH": "/usr/bin:/bin", "PARKBOT_DATA_DIR": str(tmp_path / "data")},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    first = result.stdout.splitlines()[0]
    assert first.startswith("未设置 TELEGRAM_BOT_TOKEN")
    assert "您好！我是园区科协服务机器人" in result.stdout
    assert (tmp_path / "data" / "parkbot.db").exists()
    assert " INFO " not in result.stderr  # log chatter would interleave with the conversation
