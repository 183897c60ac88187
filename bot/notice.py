"""The provincial notice as structured clauses, with the repairs that cleaned it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.content import read_text, read_yaml

NOTICE_FOLDER = "notice"
NOTICE_FILE = "notice.yaml"
ORIGINAL_FILE = "original.txt"

KINDS = ("header", "title", "preamble", "section", "paragraph", "item")


class NoticeError(ValueError):
    """content/notice/notice.yaml is inconsistent."""


@dataclass(frozen=True)
class Clause:
    """One citable piece of the notice: header line, preamble, section title, paragraph or item."""

    id: str
    kind: str
    section: int | None
    number: int | None
    cite: str
    title: str
    text: str


@dataclass(frozen=True)
class Repair:
    """One conversion artifact fixed in a clause: `original` became `repaired`."""

    clause: str
    original: str
    repaired: str
    reason: str


@dataclass(frozen=True)
class Section:
    """A section title clause with the paragraphs or items under it, for browsing."""

    clause: Clause
    children: tuple[Clause, ...]


@dataclass(frozen=True)
class _Layout:
    """How a clause sat in the original file: numbering before it, separator after it."""

    prefix: str
    after: str


@dataclass(frozen=True)
class Notice:
    """The cleaned notice: ordered clauses, header facts, repairs, and the original layout."""

    clauses: tuple[Clause, ...]
    header: dict[str, str]
    repairs: tuple[Repair, ...]
    lead: str
    layouts: tuple[_Layout, ...]

    @classmethod
    def load(cls) -> Notice:
        """Read content/notice/notice.yaml and check that it is consistent."""
        return cls.from_data(read_yaml(NOTICE_FOLDER, NOTICE_FILE))

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Notice:
        """Build a notice from the parsed YAML document."""
        clauses: list[Clause] = []
        layouts: list[_Layout] = []
        for raw in data["clauses"]:
            kind = str(raw["kind"])
            if kind not in KINDS:
                raise NoticeError(f"clause {raw.get('id')!r} has unknown kind {kind!r}")
            clauses.append(
                Clause(
                    id=str(raw["id"]),
                    kind=kind,
                    section=_optional_int(raw.get("section")),
                    number=_optional_int(raw.get("number")),
                    cite=str(raw["cite"]),
                    title=str(raw["title"]),
                    text=str(raw["text"]),
                )
            )
            layouts.append(_Layout(prefix=str(raw.get("prefix", "")), after=str(raw["after"])))
        repairs = tuple(
            Repair(
                clause=str(r["clause"]),
                original=str(r["original"]),
                repaired=str(r["repaired"]),
                reason=str(r["reason"]),
            )
            for r in data.get("repairs") or []
        )
        header = {str(k): str(v) for k, v in (data.get("header") or {}).items()}
        notice = cls(
            clauses=tuple(clauses),
            header=header,
            repairs=repairs,
            lead=str(data.get("layout", {}).get("lead", "")),
            layouts=tuple(layouts),
        )
        notice._check()
        return notice

    def _check(self) -> None:
        """Raise NoticeError on duplicate ids or repairs that cannot be undone unambiguously."""
        ids = [c.id for c in self.clauses]
        if len(ids) != len(set(ids)):
            raise NoticeError("duplicate clause ids")
        by_id = {c.id: c for c in self.clauses}
        for repair in self.repairs:
            clause = by_id.get(repair.clause)
            if clause is None:
                raise NoticeError(f"repair names unknown clause {repair.clause!r}")
            if clause.text.count(repair.repaired) != 1:
                raise NoticeError(
                    f"repaired text {repair.repaired!r} must occur exactly once in {clause.id}"
                )

    def clause(self, clause_id: str) -> Clause:
        """Return the clause with this id (KeyError if there is none)."""
        for clause in self.clauses:
            if clause.id == clause_id:
                return clause
        raise KeyError(clause_id)

    def has(self, clause_id: str) -> bool:
        """Return whether a clause with this id exists."""
        return any(c.id == clause_id for c in self.clauses)

    def of_kind(self, kind: str) -> list[Clause]:
        """Return the clauses of one kind, in document order."""
        return [c for c in self.clauses if c.kind == kind]

    def sections(self) -> list[Section]:
        """Return each section title clause with its paragraphs or items, in order."""
        return [
            Section(
                clause=section,
                children=tuple(
                    c
                    for c in self.clauses
                    if c.kind in ("paragraph", "item") and c.section == section.number
                ),
            )
            for section in self.of_kind("section")
        ]

    def reconstruct_original(self) -> str:
        """Rebuild the original file exactly by undoing every repair and restoring the layout."""
        parts = [self.lead]
        for clause, layout in zip(self.clauses, self.layouts, strict=True):
            text = clause.text
            for repair in self.repairs:
                if repair.clause == clause.id:
                    text = text.replace(repair.repaired, repair.original, 1)
            parts.append(layout.prefix + text + layout.after)
        return "".join(parts)

    @staticmethod
    def original() -> str:
        """Return the original notice as kept byte for byte in content/notice/original.txt."""
        return read_text(NOTICE_FOLDER, ORIGINAL_FILE)


def _optional_int(value: object) -> int | None:
    """Return value as an int, or None when absent."""
    return None if value is None else int(str(value))
