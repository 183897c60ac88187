"""Turn an engine verdict into the exact text the chat shows and the CLI prints."""

from __future__ import annotations

from typing import Any

from bot.faq.engine import FaqEngine, Match
from bot.notice import Clause
from bot.texts import DEFAULT_LANGUAGE, Texts

# Telegram counts message length in UTF-16 code units.
MESSAGE_LIMIT = 4096
# Offer a "did you mean" only for candidates that came reasonably close.
SUGGESTION_FLOOR = 0.15


def _utf16_length(text: str) -> int:
    """Return the length of text in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def fit(text: str, texts: Texts, lang: str = DEFAULT_LANGUAGE) -> str:
    """Return text cut to one Telegram message, marking the cut."""
    if _utf16_length(text) <= MESSAGE_LIMIT:
        return text
    marker = texts.get("faq.truncated", lang)
    budget = MESSAGE_LIMIT - _utf16_length(marker)
    cut = text[:budget]
    while _utf16_length(cut) > budget:
        cut = cut[:-1]
    return cut + marker


def citation(match: Match, texts: Texts, lang: str = DEFAULT_LANGUAGE) -> str:
    """Return the citation line naming the clauses the answer rests on."""
    if match.entry is None or not match.entry.cites:
        return ""
    cites = texts.get("faq.cite_separator", lang).join(match.entry.cites)
    return texts.get("faq.citation", lang, cite=cites)


def render_answer(match: Match, texts: Texts, lang: str = DEFAULT_LANGUAGE) -> str:
    """Return the text for any verdict: the answer with its citation, or the right fallback."""
    if match.kind in ("greeting", "thanks", "empty"):
        return texts.get(f"faq.{match.kind}", lang)
    if match.entry is None or not match.answered:
        return render_not_covered(match, texts, lang)
    line = citation(match, texts, lang)
    body = match.entry.answer
    return fit(f"{body}\n{line}" if line else body, texts, lang)


def render_not_covered(match: Match | None, texts: Texts, lang: str = DEFAULT_LANGUAGE) -> str:
    """Return the honest fallback, with close questions offered when there were any."""
    parts = [texts.get("faq.not_covered", lang)]
    close = [e for e, score in (match.alternatives if match else []) if score >= SUGGESTION_FLOOR]
    if close:
        parts.append("")
        parts.append(texts.get("faq.not_covered_suggestions", lang))
        parts.extend(texts.get("faq.suggestion_line", lang, question=e.question) for e in close)
    return fit("\n".join(parts), texts, lang)


def render_clause(clause: Clause, texts: Texts, lang: str = DEFAULT_LANGUAGE) -> str:
    """Return a whole clause with its cite, for the "show the original" button."""
    heading = texts.get("faq.clause_heading", lang, cite=clause.cite)
    return fit(f"{heading}\n\n{clause.text}", texts, lang)


def ask_json(engine: FaqEngine, texts: Texts, question: str) -> dict[str, Any]:
    """Return the machine-readable answer to one question."""
    match = engine.match(question)
    entry = match.entry if match.answered else None
    return {
        "question": question,
        "answered": match.answered,
        "answer": render_answer(match, texts),
        "sources": [{"clause": q.clause, "quote": q.text} for q in entry.quotes] if entry else [],
        "score": float(match.confidence),
        "alternatives": [
            {"question": alt.question, "score": float(score)} for alt, score in match.alternatives
        ],
    }
