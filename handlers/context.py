"""The typed context every handler receives: services and texts, no globals."""

from __future__ import annotations

from typing import Any

from telegram import CallbackQuery, Update
from telegram.ext import Application, CallbackContext, ExtBot

from bot.services import Services
from bot.texts import DEFAULT_LANGUAGE, Texts

SERVICES_KEY = "services"


class Ctx(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """CallbackContext with ctx.services, ctx.texts, ctx.lang and ctx.t(key)."""

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> None:
        super().__init__(application=application, chat_id=chat_id, user_id=user_id)
        self.lang: str = DEFAULT_LANGUAGE

    @property
    def services(self) -> Services:
        """Return the domain services of this process."""
        services: Services = self.application.bot_data[SERVICES_KEY]
        return services

    @property
    def texts(self) -> Texts:
        """Return the keyed texts."""
        return self.services.texts

    @property
    def data(self) -> dict[Any, Any]:
        """Return this user's persisted scratch data (conversation answers so far)."""
        if self.user_data is None:
            raise RuntimeError("no user in this update")
        return self.user_data

    def t(self, key: str, /, **values: object) -> str:
        """Return the text for key in the user's language."""
        return self.services.texts.get(key, self.lang, **values)


def pressed(update: Update) -> tuple[CallbackQuery, str]:
    """Return the pressed button's query and its callback data (handlers match on both)."""
    query = update.callback_query
    if query is None or query.data is None:
        raise RuntimeError("this handler only takes button presses")
    return query, query.data
