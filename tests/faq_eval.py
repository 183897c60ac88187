"""Dev-set loading, the tune/held-out split, and the metrics the FAQ tests and benchmark share."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.faq.engine import FaqEngine

DEVSET = Path(__file__).with_name("faq_devset.yaml")
BLIND = Path(__file__).with_name("faq_blind.yaml")
BLIND2 = Path(__file__).with_name("faq_blind2.yaml")
BLIND3 = Path(__file__).with_name("faq_blind3.yaml")
BLIND4 = Path(__file__).with_name("faq_blind4.yaml")
# Written in session 3 before any of its tuning; their misses are never printed.
BLIND5 = Path(__file__).with_name("faq_blind5.yaml")
BLIND6 = Path(__file__).with_name("faq_blind6.yaml")
# Written in session 3 like blind5/6 but as development data: tuned on.
FRESH1 = Path(__file__).with_name("faq_fresh1.yaml")
FRESH2 = Path(__file__).with_name("faq_fresh2.yaml")
FRESH3 = Path(__file__).with_name("faq_fresh3.yaml")
FRESH4 = Path(__file__).with_name("faq_fresh4.yaml")
FRESH5 = Path(__file__).with_name("faq_fresh5.yaml")
FRESH6 = Path(__file__).with_name("faq_fresh6.yaml")
# Written in session 4 by two new writers (phone and voice-input members; secretaries, officials
# and returned scholars), measured once untuned, then tuned on.
FRESH7 = Path(__file__).with_name("faq_fresh7.yaml")
FRESH8 = Path(__file__).with_name("faq_fresh8.yaml")
# Written in session 4 after the content round on sets 7 and 8, measured untuned, then tuned on.
FRESH9 = Path(__file__).with_name("faq_fresh9.yaml")
FRESH10 = Path(__file__).with_name("faq_fresh10.yaml")
# Written in session 4 after the round on sets 9 and 10, measured untuned, then tuned on.
FRESH11 = Path(__file__).with_name("faq_fresh11.yaml")
FRESH12 = Path(__file__).with_name("faq_fresh12.yaml")
# Written in session 5 by two new writers (phone typists; park and city staff), measured once
# untuned, then tuned on.
FRESH13 = Path(__file__).with_name("faq_fresh13.yaml")
FRESH14 = Path(__file__).with_name("faq_fresh14.yaml")
# Written in session 4 by two more writers at the same time: measured only, never tuned on.
BLIND7 = Path(__file__).with_name("faq_blind7.yaml")
BLIND8 = Path(__file__).with_name("faq_blind8.yaml")
# Written in session 5 by two more writers at the same time as fresh 13 and 14: never tuned on.
BLIND9 = Path(__file__).with_name("faq_blind9.yaml")
BLIND10 = Path(__file__).with_name("faq_blind10.yaml")
# Every set besides the dev set that may be tuned on (the HONEST sets below may not).
DEVELOPMENT = (
    BLIND,
    BLIND2,
    BLIND3,
    BLIND4,
    FRESH1,
    FRESH2,
    FRESH3,
    FRESH4,
    FRESH5,
    FRESH6,
    FRESH7,
    FRESH8,
    FRESH9,
    FRESH10,
    FRESH11,
    FRESH12,
    FRESH13,
    FRESH14,
)
# The sets that measure: never tuned on, their misses never printed by default.
HONEST = (BLIND5, BLIND6, BLIND7, BLIND8, BLIND9, BLIND10)
HELD_OUT_PERCENT = 30


@dataclass(frozen=True)
class Case:
    """One dev-set question and the entry id expected (None: the notice does not cover it)."""

    question: str
    expected: str | None
    # Other entries that answer it as well (blind questions that combine two topics).
    also: tuple[str, ...] = ()

    @property
    def accepted(self) -> frozenset[str]:
        """Return every entry id that counts as a right answer."""
        return frozenset((self.expected, *self.also)) if self.expected else frozenset()

    @property
    def held_out(self) -> bool:
        """Return whether this case is in the held-out part nobody tuned on."""
        return zlib.crc32(self.question.encode("utf-8")) % 100 < HELD_OUT_PERCENT


def load_cases(path: Path = DEVSET) -> list[Case]:
    """Return every case of a question set (the dev set unless told), in-scope first."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    cases = []
    for key, qs in data["in_scope"].items():
        first, *others = (part.strip() for part in key.split("|"))
        cases += [Case(q, first, tuple(others)) for q in qs]
    cases += [Case(q, None) for q in data["out_of_scope"]]
    return cases


def load_blind(path: Path = BLIND) -> list[Case]:
    """Return a blind set's cases (the first unless told): measured only, never tuned on."""
    return load_cases(path)


@dataclass(frozen=True)
class Report:
    """Accuracy figures over a set of cases."""

    in_scope: int
    out_of_scope: int
    top1: float
    top3: float
    answered_correctly: float
    oos_answered: float
    # Kept out of the repr: a failed floor assertion must not print a blind set's questions.
    misses: list[tuple[str, str | None, str | None]] = field(repr=False)

    def line(self, name: str) -> str:
        """Return the figures as one printable line."""
        return (
            f"{name}: in-scope {self.in_scope}, top-1 {self.top1:.1%}, top-3 {self.top3:.1%}, "
            f"answered correctly {self.answered_correctly:.1%}; out-of-scope {self.out_of_scope}, "
            f"wrongly answered {self.oos_answered:.1%}"
        )


def evaluate(engine: FaqEngine, cases: list[Case]) -> Report:
    """Run every case through the engine and measure it."""
    top1 = top3 = correct = oos_answered = 0
    misses: list[tuple[str, str | None, str | None]] = []
    scoped = [c for c in cases if c.expected is not None]
    unscoped = [c for c in cases if c.expected is None]
    for case in scoped:
        ranked, _ = engine.features(case.question)
        ids = [engine.entries[i].id for i, _ in ranked[:3]]
        match = engine.match(case.question)
        top1 += ids[0] in case.accepted
        top3 += bool(case.accepted & set(ids))
        ok = match.answered and match.entry is not None and match.entry.id in case.accepted
        correct += ok
        if not ok:
            got = match.entry.id if match.entry else f"(not answered; top {ids[0]})"
            misses.append((case.question, case.expected, got))
    for case in unscoped:
        match = engine.match(case.question)
        if match.answered:
            oos_answered += 1
            misses.append((case.question, None, match.entry.id if match.entry else None))
    n, m = max(len(scoped), 1), max(len(unscoped), 1)
    return Report(
        len(scoped), len(unscoped), top1 / n, top3 / n, correct / n, oos_answered / m, misses
    )


def pooled(reports: list[Report]) -> Report:
    """Return the figures of several sets' reports as if their cases had been one set."""
    scoped = sum(r.in_scope for r in reports)
    unscoped = sum(r.out_of_scope for r in reports)
    n, m = max(scoped, 1), max(unscoped, 1)
    return Report(
        scoped,
        unscoped,
        sum(r.top1 * r.in_scope for r in reports) / n,
        sum(r.top3 * r.in_scope for r in reports) / n,
        sum(r.answered_correctly * r.in_scope for r in reports) / n,
        sum(r.oos_answered * r.out_of_scope for r in reports) / m,
        [miss for r in reports for miss in r.misses],
    )
