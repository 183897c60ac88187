"""The handler table: which Telegram input goes to which feature, in an order that matters."""

from __future__ import annotations

import warnings

from telegram.ext import BaseHandler
from telegram.warnings import PTBUserWarning

from handlers import admin, events, fallback, faq_chat, reports, robots, start, tracking

# Our conversations are keyed per chat and user on purpose; their buttons belong to that key, so
# PTB's reminder that per_message=False does not track buttons per message is noise here.
warnings.filterwarnings("ignore", message="If 'per_message=False'", category=PTBUserWarning)

# (group, handler). PTB runs the first matching handler of each group, groups in ascending order.
HandlerTable = list[tuple[int, BaseHandler]]


def build_handlers() -> HandlerTable:
    """Return every handler with its group, in the order PTB must try them."""
    table: HandlerTable = []

    # Group -1, before everything: record the user, set their language, stop floods. It never
    # answers by itself, so every update still reaches the features in group 0.
    table += [(-1, h) for h in tracking.handlers()]

    # Group 0, commands that work anywhere: /start (and its deep-link payloads), /help, /lang.
    # Conversations come after them only for their entry points; their own /cancel fallback wins
    # while they are active because a conversation claims the update first (see start.on_cancel).
    table += [(0, h) for h in start.handlers()]

    # A user blocking the bot arrives as my_chat_member: remember they are unreachable.
    table += [(0, h) for h in tracking.status_handlers()]

    # Admin tools: /orgs and the /addpark conversation.
    table += [(0, h) for h in admin.handlers()]

    # Group robots (WeCom / DingTalk / Feishu) for admins and secretaries: /robots, its buttons
    # and the add conversation; before the fallback so their buttons are not taken as stale.
    table += [(0, h) for h in robots.handlers()]
    # Events: the /newevent and edit conversations, /events, /attendees, and the 报名 / 取消报名
    # buttons of notices, which must work outside any conversation.
    table += [(0, h) for h in events.handlers()]
    # Quarterly reports: /reports, /reportsdone, the reminder buttons (submitted, upload) and the
    # escalation's nudge, whose conversations wait for a file or a text. Before the catch-all so
    # their buttons are not taken for stale ones.
    table += [(0, h) for h in reports.handlers()]
    # The policy FAQ: /notice, /unanswered and the secretary's answering conversation, the
    # buttons under answers, inline mode. Its conversation must precede the catch-all below.
    table += [(0, h) for h in faq_chat.handlers()]

    # The catch-all: any other private text is a question (or a reply to a forwarded one).
    # Every command and conversation above gets its text first.
    table += [(0, h) for h in faq_chat.question_handlers()]

    # Last in group 0: whatever no feature claimed — stale buttons, unknown commands, stickers,
    # voice notes … gets a short explanation instead of silence.
    table += [(0, h) for h in fallback.handlers()]
    return table
