"""The parkbot command: every subcommand is wired and has --help."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import build_parser

SUBCOMMANDS = ["run", "chat", "db", "admin", "ask", "export", "reports", "robots", "status"]


def parkbot(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env={"PATH": "/usr/bin:/bin", "PARKBOT_DATA_DIR": str(tmp_path / "data")},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_help_lists_every_subcommand(tmp_path: Path) -> None:
    result = parkbot(["--help"], tmp_path)
    assert result.returncode == 0
    for name in SUBCOMMANDS:
        assert name in result.stdout


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_each_subcommand_has_help(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args([name, "--help"])
    assert exit_info.value.code == 0
    assert f"usage: parkbot {name}" in capsys.readouterr().out


def test_admin_and_robots_from_the_shell(tmp_path: Path) -> None:
    assert parkbot(["admin", "add-city", "长春市"], tmp_path).returncode == 0
    assert parkbot(["admin", "add-park", "长春新区", "--city", "长春市"], tmp_path).returncode == 0
    added = parkbot(
        [
            "robots",
            "add",
            "--park",
            "长春新区",
            "--kind",
            "wecom",
            "--url",
            "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=secretkey123",
        ],
        tmp_path,
    )
    assert added.returncode == 0, added.stderr
    listed = parkbot(["robots", "list"], tmp_path)
    assert "长春新区" in listed.stdout
    assert "secretkey123" not in listed.stdout
    unknown = parkbot(["admin", "add-park", "X", "--city", "没有这个市"], tmp_path)
    assert unknown.returncode == 1
    assert "Traceback" not in unknown.stderr
