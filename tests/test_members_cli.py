"""The members CLI: `export` writes files that open back; `admin invite` prints a usable link."""

from __future__ import annotations

import asyncio
import csv
from pathlib import Path

import openpyxl
import pytest

from bot.db import Database
from bot.members.commands import main
from bot.models.core import City, Park
from bot.models.members import Member

NOW = "2026-03-02T00:00:00+00:00"


async def _seed(url: str) -> None:
    from datetime import datetime

    db = Database(url)
    await db.upgrade()
    at = datetime.fromisoformat(NOW)
    async with db.session() as s:
        city = City(name="吉林市")
        s.add(city)
        await s.flush()
        a, b = Park(name="吉林高新区", city_id=city.id), Park(name="吉林经开区", city_id=city.id)
        s.add_all([a, b])
        await s.flush()
        for uid, name, park in [(11, "周一", a), (12, "吴二", b)]:
            s.add(
                Member(
                    user_id=uid, name=name, park_id=park.id, employer="化工厂", field="化工",
                    title="senior", phone="13900000000", status="approved",
                    consent_version="2026-1", consented_at=at, reject_reason="",
                    created_at=at, updated_at=at,
                )
            )  # fmt: skip
    await db.dispose()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("PARKBOT_DATABASE_URL", url)
    monkeypatch.setenv("PARKBOT_DATA_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    asyncio.run(_seed(url))
    return tmp_path


def test_export_members_csv_and_xlsx(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = env / "m.csv"
    assert (
        main(["export", "members", "--format", "csv", "--park", "吉林经开区", "--out", str(out)])
        == 0
    )
    assert str(out) in capsys.readouterr().out
    with out.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert [r[1] for r in rows[1:]] == ["吴二"]
    assert main(["export", "members", "--format", "xlsx"]) == 0
    [xlsx] = (env / "exports").glob("members-*.xlsx")
    sheet = openpyxl.load_workbook(xlsx).active
    assert sheet is not None
    assert [r[1] for r in sheet.iter_rows(min_row=2, values_only=True)] == ["周一", "吴二"]


def test_export_unknown_park_fails(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "suggestions", "--park", "不存在"]) == 1
    assert "没有这个园区" in capsys.readouterr().err


def test_admin_invite_prints_link(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["admin", "invite", "--role", "secretary", "--park", "吉林高新区", "--hours", "24"]
    assert main([*argv, "--bot", "@parkbot"]) == 0
    out = capsys.readouterr().out
    assert "https://t.me/parkbot?start=inv-" in out
    assert main(["admin", "invite", "--role", "official", "--park", "吉林高新区"]) == 1


def test_parkbot_cli_has_the_members_commands(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main as parkbot

    assert parkbot(["admin", "invite", "--role", "secretary", "--park", "吉林高新区"]) == 0
    assert "/start inv-" in capsys.readouterr().out
    assert parkbot(["export", "suggestions", "--format", "csv", "--out", str(env / "s.csv")]) == 0
    assert (env / "s.csv").read_bytes().startswith(b"\xef\xbb\xbf")
