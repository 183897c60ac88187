"""The `ask` command: put a question to the FAQ engine from the command line."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from bot.faq.engine import FaqEngine
from bot.faq.render import ask_json, render_answer
from bot.texts import DEFAULT_LANGUAGE, LANGUAGES, Texts


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register `ask` on an argparse subparsers object and return its parser."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "ask", help="answer a question from the notice's FAQ"
    )
    parser.add_argument("question", nargs="?", help="the question ('-' with --json reads stdin)")
    parser.add_argument("--json", action="store_true", help="print a JSON object")
    parser.add_argument("--lang", choices=LANGUAGES, default=DEFAULT_LANGUAGE)
    parser.set_defaults(handler=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Answer the question(s) in args and print the result; return the exit status."""
    question = args.question
    if question is None:
        print("ask: a question is required", file=sys.stderr)
        return 2
    engine = FaqEngine.load()
    texts = Texts.load()
    if args.json and question == "-":
        for line in sys.stdin:
            text = line.rstrip("\n")
            if text.strip():
                print(json.dumps(ask_json(engine, texts, text), ensure_ascii=False))
        return 0
    if args.json:
        print(json.dumps(ask_json(engine, texts, question), ensure_ascii=False))
        return 0
    # One answer per question when the message asks several, as the chat sends them.
    answers = [render_answer(m, texts, args.lang) for _, m in engine.match_all(question)]
    print("\n\n".join(answers))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the FAQ command line (`python -m bot.faq.commands ask ...`)."""
    parser = argparse.ArgumentParser(prog="parkbot")
    subparsers = parser.add_subparsers(dest="command", required=True)
    add_parser(subparsers)
    args = parser.parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
