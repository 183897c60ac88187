"""The local console chat: the real application and handlers, an in-process Bot API, a terminal.

Typed lines become message updates from one user; the bot's messages are printed; inline and
reply keyboards are shown as numbered choices, picked by typing the number.
"""

from __future__ import annotations

import asyncio
from typing import Any, TextIO

import httpx
from telegram import Update

from bot.app import ParkApp, build_application, start_application, stop_application
from bot.localapi import ApiCall, LocalBotApi, UpdateFactory
from bot.services import Services

QUIT = "/quit"


class ConsoleChat:
    """One user chatting with the bot in a terminal."""

    def __init__(self, services: Services, out: TextIO, *, user_id: int, name: str) -> None:
        self.services = services
        self.out = out
        self.user_id = user_id
        self.name = name
        self.api = LocalBotApi()
        self.updates = UpdateFactory()
        self.choices: list[tuple[str, str, dict[str, Any]]] = []  # (label, kind, payload)
        self.api.listeners.append(self._on_call)
        transport = httpx.MockTransport(self.api.handle)
        self.app: ParkApp = build_application(
            services,
            transport=transport,
            rate_limiter=False,
        )

    def t(self, key: str, **values: object) -> str:
        """Return a console text in the default language."""
        return self.services.texts.get(key, "zh", **values)

    async def run(self, lines: TextIO) -> None:
        """Chat until /quit or end of input."""
        await start_application(self.app)
        try:
            self._print(self.t("console.banner", user_id=self.user_id, name=self.name))
            while True:
                line = await asyncio.to_thread(lines.readline)
                if not line:
                    break
                line = line.strip()
                if line == QUIT:
                    break
                if line:
                    await self.handle_line(line)
            self._print(self.t("console.bye"))
        finally:
            await stop_application(self.app)

    async def handle_line(self, line: str) -> None:
        """Turn one typed line into an update (a number picks a shown button)."""
        # A short number picks a button; a long one (a phone number, a year) is typed text.
        if line.isdigit() and len(line) <= 2 and self.choices:
            index = int(line) - 1
            if not 0 <= index < len(self.choices):
                self._print(self.t("console.no_such_choice", number=line))
                return
            label, kind, payload = self.choices[index]
            if kind == "callback":
                data = self.updates.callback(self.user_id, payload["data"], payload["message"])
            elif kind == "contact":
                data = self.updates.contact(self.user_id, "+8613800000000")
            else:
                data = self.updates.text(self.user_id, label, name=self.name)
        else:
            data = self.updates.text(self.user_id, line, name=self.name)
        await self.app.update_queue.put(Update.de_json(data, self.app.bot))
        await self.app.update_queue.join()

    def _on_call(self, call: ApiCall, message: dict[str, Any] | None) -> None:
        if call.chat_id not in (None, self.user_id):
            return
        if call.method == "answerCallbackQuery" and call.params.get("text"):
            self._print(f"⟨{call.params['text']}⟩")
            return
        if message is None:
            return
        text = message.get("text") or message.get("caption") or ""
        if "document" in message:
            text = f"📎 {message['document'].get('file_name', '')}\n{text}".strip()
        if "photo" in message:
            text = f"🖼\n{text}".strip()
        prefix = "✎ " if call.method.startswith("edit") else ""
        self._print(f"🤖 {prefix}{text}")
        self._show_keyboard(call.params.get("reply_markup"), message)

    def _show_keyboard(self, markup: object, message: dict[str, Any]) -> None:
        if not isinstance(markup, dict):
            return
        choices: list[tuple[str, str, dict[str, Any]]] = []
        public = {k: v for k, v in message.items() if not k.startswith("_")}
        for row in markup.get("inline_keyboard", []):
            for button in row:
                if "callback_data" in button:
                    choices.append(
                        (
                            button["text"],
                            "callback",
                            {"data": button["callback_data"], "message": public},
                        )
                    )
                elif "url" in button:
                    self._print(f"   🔗 {button['text']}: {button['url']}")
        for row in markup.get("keyboard", []):
            for button in row:
                label = button if isinstance(button, str) else button.get("text", "")
                kind = (
                    "contact"
                    if isinstance(button, dict) and button.get("request_contact")
                    else "text"
                )
                choices.append((label, kind, {}))
        if choices:
            self.choices = choices
            for number, (label, _, _) in enumerate(choices, start=1):
                self._print(f"   [{number}] {label}")

    def _print(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()


async def run_console(
    services: Services, lines: TextIO, out: TextIO, *, user_id: int, name: str
) -> None:
    """Open the console chat on the configured database."""
    await ConsoleChat(services, out, user_id=user_id, name=name).run(lines)
