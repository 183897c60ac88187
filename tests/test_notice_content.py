"""Guards on the cleaned notice and the FAQ built on it (content/notice, content/faq)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.notice import Notice

ROOT = Path(__file__).parents[1]
SHARED_ORIGINAL = Path(__file__).parents[2] / "shared/notice/notice-2013-03.txt"
CJK = r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef“”]"


@pytest.fixture(scope="module")
def notice() -> Notice:
    return Notice.load()


def test_rebuild_equals_the_stored_original(notice: Notice) -> None:
    original = (ROOT / "content/notice/original.txt").read_bytes()
    assert notice.reconstruct_original().encode("utf-8") == original


def test_rebuild_equals_the_shared_original(notice: Notice) -> None:
    if not SHARED_ORIGINAL.exists():
        pytest.skip("shared notice not present")
    assert notice.reconstruct_original().encode("utf-8") == SHARED_ORIGINAL.read_bytes()


def test_original_is_readable_through_content(notice: Notice) -> None:
    assert notice.original() == notice.reconstruct_original()


def test_no_artifacts_in_repaired_text(notice: Notice) -> None:
    for clause in notice.clauses:
        for field in (clause.text, clause.title, clause.cite):
            assert not re.search(r"[A-Za-z]", field), clause.id
            assert not re.search(CJK + r"\s+" + CJK, field), clause.id
            assert "\n" not in field, clause.id
            assert field == field.strip(), clause.id
    for value in notice.header.values():
        assert not re.search(r"[A-Za-z\s]", value), value


def test_structure_counts_and_order(notice: Notice) -> None:
    sections = notice.of_kind("section")
    items = notice.of_kind("item")
    assert [c.id for c in sections] == ["s1", "s2", "s3", "s4", "s5"]
    assert [c.id for c in items] == [f"i{n}" for n in range(1, 14)]
    assert [c.id for c in notice.of_kind("paragraph")] == ["s1.p1", "s1.p2", "s1.p3"]
    assert notice.clause("preamble").cite == "序言"
    by_section = {s.clause.id: [c.id for c in s.children] for s in notice.sections()}
    assert by_section == {
        "s1": ["s1.p1", "s1.p2", "s1.p3"],
        "s2": ["i1", "i2", "i3"],
        "s3": ["i4", "i5", "i6"],
        "s4": ["i7", "i8", "i9", "i10"],
        "s5": ["i11", "i12", "i13"],
    }


def test_cites_follow_the_convention(notice: Notice) -> None:
    assert notice.clause("i3").cite == "第二部分第3条"
    assert notice.clause("i13").cite == "第五部分第13条"
    assert notice.clause("s1.p2").cite == "第一部分第2段"
    assert notice.clause("s4").cite == "第四部分"
    assert {c.cite for c in notice.of_kind("header")} == {"印发通知"}


def test_item_titles_are_their_first_sentence(notice: Notice) -> None:
    assert notice.clause("i1").title == "明确园区科协的性质，正确把握职能定位。"
    for item in notice.of_kind("item"):
        assert item.text.startswith(item.title)


def test_known_repairs_are_recorded(notice: Notice) -> None:
    repaired = {(r.clause, r.repaired) for r in notice.repairs}
    assert ("i13", "建设的有效工作机制") in repaired
    assert ("header.signer", "曹军") in repaired
    assert "有效工作机制" in notice.clause("i13").text
    for repair in notice.repairs:
        assert repair.original != repair.repaired
        assert repair.reason


def test_header_facts_match_the_clauses(notice: Notice) -> None:
    header = notice.header
    assert header["issuer"] == "吉林省科学技术协会"
    assert header["document_number"] in notice.clause("header.number").text
    assert header["year"] in header["document_number"]
    assert header["signer"] in notice.clause("header.signer").text
    assert header["addressees"] in notice.clause("header.addressees").text
    assert header["cover_title"] == notice.clause("header.cover_title").text
    assert header["cover_text"] == notice.clause("header.cover_text").text
    assert header["opinion_title"] == notice.clause("title").text


def test_unknown_clause_raises(notice: Notice) -> None:
    with pytest.raises(KeyError):
        notice.clause("i14")
