"""Settings: defaults, and a clear message naming each bad setting."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import DEFAULT_API_BASE_URL, ConfigError, load_config

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"


def test_defaults() -> None:
    config = load_config({}, env_file=None)
    assert config.token == ""
    assert config.api_base_url == DEFAULT_API_BASE_URL
    assert config.database_url == "sqlite+aiosqlite:///data/parkbot.db"
    assert (config.listen_host, config.listen_port) == ("127.0.0.1", 8080)
    assert config.timezone == "Asia/Shanghai"
    assert not config.webhook_mode


def test_full_configuration_and_self_hosted_api() -> None:
    config = load_config(
        {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": "http://127.0.0.1:8081/bot",
            "PARKBOT_DATABASE_URL": "postgresql+asyncpg://bot@db/parkbot",
            "PARKBOT_ADMIN_IDS": "11, 22,33",
            "PARKBOT_WEBHOOK_URL": "https://bot.example.org/tg",
            "PARKBOT_WEBHOOK_SECRET": "abc_DEF-123",
            "PARKBOT_LISTEN": "0.0.0.0:9000",
            "PARKBOT_LOG_LEVEL": "debug",
        },
        env_file=None,
    )
    assert config.admin_ids == {11, 22, 33}
    assert config.file_base_url == "http://127.0.0.1:8081/file/bot"
    assert config.webhook_mode
    assert config.is_postgres
    assert config.log_level == "DEBUG"


def test_env_file_is_read_and_environment_wins(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("PARKBOT_ADMIN_IDS=5\nPARKBOT_LOG_LEVEL=WARNING\n")
    config = load_config({"PARKBOT_LOG_LEVEL": "ERROR"}, env_file=env)
    assert config.admin_ids == {5}
    assert config.log_level == "ERROR"


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"TELEGRAM_BOT_TOKEN": "nonsense"}, "TELEGRAM_BOT_TOKEN"),
        ({"TELEGRAM_API_BASE_URL": "ftp://x"}, "TELEGRAM_API_BASE_URL"),
        ({"PARKBOT_DATABASE_URL": "mysql://x"}, "PARKBOT_DATABASE_URL"),
        ({"PARKBOT_ADMIN_IDS": "12,abc"}, "PARKBOT_ADMIN_IDS"),
        ({"PARKBOT_WEBHOOK_URL": "http://insecure"}, "PARKBOT_WEBHOOK_URL"),
        ({"PARKBOT_WEBHOOK_URL": "https://ok.example"}, "PARKBOT_WEBHOOK_SECRET"),
        ({"PARKBOT_WEBHOOK_SECRET": "has space"}, "PARKBOT_WEBHOOK_SECRET"),
        ({"PARKBOT_LISTEN": "8080"}, "PARKBOT_LISTEN"),
        ({"PARKBOT_LISTEN": "host:99999"}, "PARKBOT_LISTEN"),
        ({"PARKBOT_TIMEZONE": "Mars/Olympus"}, "PARKBOT_TIMEZONE"),
        ({"PARKBOT_LOG_LEVEL": "LOUD"}, "PARKBOT_LOG_LEVEL"),
        ({"PARKBOT_LOG_FORMAT": "xml"}, "PARKBOT_LOG_FORMAT"),
    ],
)
def test_bad_setting_is_named(env: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError, match=f"^{named}:"):
        load_config(env, env_file=None)


def test_cli_reports_a_bad_setting_in_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "db", "upgrade"],
        env={"PARKBOT_LOG_LEVEL": "LOUD", "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().startswith("parkbot: configuration error: PARKBOT_LOG_LEVEL")
    assert "Traceback" not in result.stderr
