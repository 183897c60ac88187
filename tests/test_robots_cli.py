"""`python -m bot.robots.commands`: add, list, test and remove robots from the shell."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.db import Database
from bot.models.core import City, Park
from bot.robots.commands import main
from tests.fake_robots import FakeRobotServer


@pytest.fixture
def database_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point the CLI at a fresh migrated SQLite database with one city and one park."""
    url = f"sqlite+aiosqlite:///{tmp_path}/cli.db"

    async def prepare() -> None:
        db = Database(url)
        await db.upgrade()
        async with db.session() as session:
            city = City(name="吉林市")
            session.add(city)
            await session.flush()
            session.add(Park(name="吉林高新区", city_id=city.id))
        await db.dispose()

    asyncio.run(prepare())
    monkeypatch.setenv("PARKBOT_DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)  # no stray .env
    return url


@pytest.fixture
def fake_server() -> Iterator[FakeRobotServer]:
    """Run the fake webhooks in a thread of their own (the CLI runs its own event loop)."""
    server = FakeRobotServer()
    loop = asyncio.new_event_loop()
    ready = threading.Event()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(server.start())
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    ready.wait(5)
    yield server
    asyncio.run_coroutine_threadsafe(server.close(), loop).result(5)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.close()


def test_add_list_test_remove(
    database_url: str, fake_server: FakeRobotServer, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = "SECcli0123456789abcdef9f8e"
    fake = fake_server.add("dingtalk", secret=secret, keyword="科协")
    url = fake_server.url(fake)
    argv = ["robots", "add", "--park", "吉林高新区", "--kind", "dingtalk", "--url", url]
    assert main([*argv, "--secret", secret, "--keyword", "科协", "--kinds", "notice,event"]) == 0
    assert "已添加机器人 1" in capsys.readouterr().out

    assert main(["robots", "--lang", "en", "list"]) == 0
    listed = capsys.readouterr().out
    assert "SEC…9f8e" in listed
    assert "receives:notice,event" in listed
    assert secret not in listed
    assert fake.token not in listed

    assert main(["robots", "--lang", "en", "test", "1"]) == 0
    out = capsys.readouterr().out
    assert "the robot answered" in out
    assert '"errcode": 0' in out
    assert len(fake.posts) == 1

    fake.removed = True
    assert main(["robots", "test", "1"]) == 1
    assert "300001" in capsys.readouterr().out

    assert main(["robots", "remove", "1"]) == 0
    assert main(["robots", "--lang", "en", "list"]) == 0
    assert "No robots yet." in capsys.readouterr().out


def test_errors_are_explained_not_raised(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    wecom = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc"
    assert main(["add", "--park", "无此园区", "--kind", "wecom", "--url", wecom]) == 2
    assert "找不到园区" in capsys.readouterr().err
    assert main(["add", "--city", "吉林市", "--kind", "wecom", "--url", "http://x.cn/"]) == 2
    assert "https://" in capsys.readouterr().err
    assert main(["--lang", "en", "remove", "42"]) == 2
    assert "no robot number 42" in capsys.readouterr().err


def test_runs_as_a_module(database_url: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot.robots.commands", "list"],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).parents[1],
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "还没有机器人" in done.stdout


def test_kinds_changes_what_a_robot_receives(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=kindskey0123"
    assert main(["add", "--park", "吉林高新区", "--kind", "wecom", "--url", url]) == 0
    assert main(["kinds", "1", "event,report"]) == 0
    out = capsys.readouterr().out
    assert "event,report" in out.splitlines()[-1]
    assert "kindskey0123" not in out
    assert main(["kinds", "1", "gossip"]) == 2
    assert "gossip" in capsys.readouterr().err
