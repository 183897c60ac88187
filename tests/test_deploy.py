"""deploy/ names exactly the settings the bot reads, and starts the bot the way a server does."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bot.config import SETTINGS
from bot.webhook import webhook_path
from tests.processes import (
    SECRET,
    WEBHOOK_URL,
    FakeBotApiServer,
    bot_env,
    free_port,
    parkbot,
    parkbot_once,
    post_update,
    stop_process,
    wait_healthy,
)

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
BOT = Path(__file__).resolve().parents[1] / "bot"
SETTING_NAME = r"(?:TELEGRAM|PARKBOT)_[A-Z_]+"


def settings_in(path: Path) -> set[str]:
    return set(re.findall(rf"^\s*#?\s*({SETTING_NAME})=", path.read_text(), re.M))


def test_env_example_documents_every_setting_and_no_other() -> None:
    assert settings_in(DEPLOY / "env.example") == set(SETTINGS)


def test_every_setting_the_code_reads_is_declared() -> None:
    read = set()
    for path in BOT.rglob("*.py"):
        read |= set(re.findall(rf"""get\(\s*["']({SETTING_NAME})["']""", path.read_text()))
    assert read == set(SETTINGS)


def test_compose_names_only_settings_the_bot_reads() -> None:
    text = (DEPLOY / "compose.yaml").read_text()
    compose = yaml.safe_load(text)
    named = set(re.findall(SETTING_NAME, text))
    assert named, "compose sets the bot's database URL and listen address"
    assert named <= set(SETTINGS)
    bot = compose["services"]["bot"]
    assert set(bot["environment"]) <= set(SETTINGS)
    assert bot["depends_on"]["db"]["condition"] == "service_healthy"
    db = compose["services"]["db"]
    assert db["image"].startswith("postgres:15")
    assert "healthcheck" in db
    volume = db["volumes"][0].split(":")[0]
    assert volume in compose["volumes"]  # a named volume, not a bind mount
    # /healthz and /metrics must not be published beyond the host.
    assert all(p.startswith("127.0.0.1:") for p in bot.get("ports", []))


def test_dockerfile_runs_as_non_root_with_a_healthcheck() -> None:
    lines = [
        line.strip()
        for line in (DEPLOY / "Dockerfile").read_text().replace("\\\n", " ").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    froms = [line for line in lines if line.startswith("FROM ")]
    assert all(line.split()[1] == "python:3.11-slim" for line in froms)
    final = lines[lines.index(froms[-1]) :]
    users = [line.split()[1] for line in final if line.startswith("USER ")]
    assert users
    assert users[-1] not in ("root", "0")
    assert any(line.startswith("HEALTHCHECK") and "/healthz" in line for line in final)
    assert final[-1] == 'CMD ["parkbot", "run"]'
    installs = [line for line in final if "pip install" in line]
    assert installs
    assert not any("[dev]" in line or "dev" in line.split() for line in installs)


def test_systemd_unit() -> None:
    unit = (DEPLOY / "parkbot.service").read_text()
    for line in (
        "EnvironmentFile=/etc/parkbot/env",
        "Restart=on-failure",
        "User=parkbot",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ExecStart=/opt/parkbot/bin/parkbot run",
    ):
        assert re.search(rf"^{re.escape(line)}$", unit, re.M), line


def nginx_locations(conf: str) -> dict[str, str]:
    """Return {location pattern: body} of every location block."""
    out = {}
    for match in re.finditer(r"location\s+([^{]+?)\s*\{", conf):
        depth, i = 1, match.end()
        while depth:
            depth += {"{": 1, "}": -1}.get(conf[i], 0)
            i += 1
        out[match.group(1)] = conf[match.end() : i - 1]
    return out


def test_nginx_forwards_only_the_webhook_path() -> None:
    conf = re.sub(r"#.*", "", (DEPLOY / "nginx.conf").read_text())
    locations = nginx_locations(conf)
    proxied = {pattern for pattern, body in locations.items() if "proxy_pass" in body}
    assert proxied == {f"= {webhook_path(WEBHOOK_URL)}"}
    assert "return 404" in locations["/"]
    assert "ssl_certificate " in conf
    assert "healthz" not in conf
    assert "metrics" not in conf


def test_readme_covers_first_deployment_upgrade_and_backups() -> None:
    readme = (DEPLOY / "README.md").read_text()
    for needle in (
        "docker compose",
        "systemctl enable",
        "getWebhookInfo",
        "parkbot db upgrade",
        "pg_dump -Fc",
        "pg_restore",
        ".backup",
    ):
        assert needle in readme, needle


# ---- the container's start sequence, without Docker ------------------------------------------


@pytest.mark.postgres
async def test_start_sequence_against_postgres(fresh_pg: str, tmp_path: Path) -> None:
    api = FakeBotApiServer()
    await api.start()
    port = free_port()
    env = bot_env(fresh_pg, api, port)
    log = tmp_path / "parkbot.log"
    try:
        code, out = await parkbot_once(["db", "upgrade"], env, tmp_path)
        assert code == 0, out
        assert "database at revision 0009" in out

        proc = parkbot(["run"], env, log)
        try:
            await wait_healthy(port, proc)
            [hook] = [c.params for c in api.api.calls if c.method == "setWebhook"]
            assert hook["url"] == WEBHOOK_URL
            assert hook["secret_token"] == SECRET

            update = api.updates.text(4242, "/start")
            assert await post_update(port, update, secret="wrong") == 403
            assert await post_update(port, update) == 200
            await api.wait_for("sendMessage", 4242, 1)
            assert api.sent("sendMessage", 4242)[0]["text"]
        finally:
            code = await stop_process(proc)
        assert code == 0, log.read_text()
        assert "Traceback" not in log.read_text(), log.read_text()[-4000:]
    finally:
        await api.stop()
