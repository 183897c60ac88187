"""Guards on the cleaned notice and the FAQ built on it (content/notice, content/faq)."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.content import content_root, read_text, read_yaml
from bot.notice import Notice, NoticeError

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


# --- FAQ -------------------------------------------------------------------------------------

TITLE_ENTRY_MARK = "职称"
DIGITS = re.compile(r"[0-9０-９]")
# a Chinese numeral followed by a unit would be an invented rule (年限、篇数、期限…)
CHINESE_COUNTS = re.compile(r"[一二两三四五六七八九十百]+[年月日天周个项篇本次岁级]")


@pytest.fixture(scope="module")
def faq() -> list[dict[str, Any]]:
    entries = read_yaml("faq", "faq.yaml")
    assert isinstance(entries, list)
    return entries


def test_faq_entries_have_the_required_fields(faq: list[dict[str, Any]]) -> None:
    for entry in faq:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", entry["id"]), entry["id"]
        assert entry["question"].strip()
        assert 5 <= len(entry["paraphrases"]) <= 24, entry["id"]
        assert all(p.strip() for p in entry["paraphrases"]), entry["id"]
        assert entry["quotes"], entry["id"]
        assert entry["clauses"], entry["id"]
        assert len(entry["answer"]) <= 900, entry["id"]


def test_faq_ids_are_unique(faq: list[dict[str, Any]]) -> None:
    ids = [e["id"] for e in faq]
    assert len(ids) == len(set(ids))


def test_faq_clause_ids_exist(faq: list[dict[str, Any]], notice: Notice) -> None:
    for entry in faq:
        for clause_id in entry["clauses"]:
            assert notice.has(clause_id), (entry["id"], clause_id)


def test_faq_quotes_are_verbatim_and_shown(faq: list[dict[str, Any]], notice: Notice) -> None:
    for entry in faq:
        for quote in entry["quotes"]:
            assert quote["text"] in notice.clause(quote["clause"]).text, (entry["id"], quote)
            assert f"「{quote['text']}」" in entry["answer"], (entry["id"], quote["text"])
            assert quote["clause"] in entry["clauses"], (entry["id"], quote["clause"])


def test_every_quoted_passage_in_an_answer_is_verbatim(
    faq: list[dict[str, Any]], notice: Notice
) -> None:
    for entry in faq:
        texts = [notice.clause(c).text for c in entry["clauses"]]
        for passage in re.findall(r"「([^」]*)」", entry["answer"]):
            assert any(passage in text for text in texts), (entry["id"], passage)


def test_faq_has_enough_entries(faq: list[dict[str, Any]]) -> None:
    assert len(faq) >= 80


def test_every_clause_is_covered(faq: list[dict[str, Any]], notice: Notice) -> None:
    covered = {clause_id for entry in faq for clause_id in entry["clauses"]}
    assert [c.id for c in notice.clauses if c.id not in covered] == []


def test_related_ids_exist(faq: list[dict[str, Any]]) -> None:
    ids = {e["id"] for e in faq}
    for entry in faq:
        for related in entry.get("related", []):
            assert related in ids, (entry["id"], related)
            assert related != entry["id"]


def test_paraphrases_are_unique_across_entries(faq: list[dict[str, Any]]) -> None:
    owner: dict[str, str] = {}
    for entry in faq:
        for phrase in [entry["question"], *entry["paraphrases"]]:
            assert phrase not in owner, (phrase, entry["id"], owner.get(phrase))
            owner[phrase] = entry["id"]


def test_title_entries_point_to_the_secretary_and_invent_no_rules(
    faq: list[dict[str, Any]],
) -> None:
    title_entries = [e for e in faq if TITLE_ENTRY_MARK in e["question"]]
    assert len(title_entries) >= 4
    for entry in title_entries:
        assert "秘书" in entry["answer"], entry["id"]
        assert not DIGITS.search(entry["answer"]), entry["id"]
        assert not CHINESE_COUNTS.search(entry["answer"]), entry["id"]
        assert "i3" in entry["clauses"], entry["id"]


# --- aliases and the jieba user dictionary ---------------------------------------------------

DOMAIN_TERMS = ("园区科协", "设区市科协", "企业院士专家工作站", "合理化建议", "职称申报", "秘书长")


@pytest.fixture(scope="module")
def alias_groups() -> list[list[str]]:
    groups = read_yaml("faq", "aliases.yaml")["groups"]
    assert isinstance(groups, list)
    return groups


def test_alias_groups_are_disjoint(alias_groups: list[list[str]]) -> None:
    assert len(alias_groups) >= 40
    seen: dict[str, int] = {}
    for index, group in enumerate(alias_groups):
        assert len(group) >= 2, group
        for term in group:
            assert isinstance(term, str), group
            assert term.strip() == term, term
            assert term, group
            assert term not in seen, (term, alias_groups[seen[term]], group)
            seen[term] = index


def test_canonical_alias_terms_are_the_official_wording(
    alias_groups: list[list[str]], notice: Notice, faq: list[dict[str, Any]]
) -> None:
    official = "".join(c.text for c in notice.clauses) + "".join(
        e["question"] + e["answer"] for e in faq
    )
    for group in alias_groups:
        assert group[0] in official, group[0]
    canonical = {group[0] for group in alias_groups}
    assert {"职称申报", "企业院士专家工作站", "设区市科协", "园区科协"} <= canonical


def _userdict_lines() -> list[list[str]]:
    text = read_text("faq", "userdict.txt")
    return [line.split(" ") for line in text.splitlines() if line.strip()]


def test_userdict_lines_are_word_frequency_tag() -> None:
    lines = _userdict_lines()
    words = [fields[0] for fields in lines]
    assert len(words) == len(set(words))
    for fields in lines:
        assert len(fields) in (2, 3), fields
        assert fields[1].isdigit(), fields
    assert set(DOMAIN_TERMS) | {"领导小组", "十二五"} <= set(words)


def test_jieba_keeps_domain_terms_whole() -> None:
    jieba = pytest.importorskip("jieba")
    tokenizer = jieba.Tokenizer()
    tokenizer.load_userdict(io.StringIO(read_text("faq", "userdict.txt")))
    for term in DOMAIN_TERMS:
        assert term in tokenizer.lcut(f"请问{term}怎么办"), term


# --- loader consistency checks ---------------------------------------------------------------


def _minimal(text: str, repaired: str, clause: str = "a") -> dict[str, Any]:
    return {
        "clauses": [
            {"id": "a", "kind": "item", "cite": "c", "title": "t", "text": text, "after": ""}
        ],
        "repairs": [{"clause": clause, "original": "x", "repaired": repaired, "reason": "r"}],
    }


def test_loader_rejects_an_ambiguous_repair() -> None:
    with pytest.raises(NoticeError):
        Notice.from_data(_minimal("abab", "ab"))


def test_loader_rejects_a_repair_of_an_unknown_clause() -> None:
    with pytest.raises(NoticeError):
        Notice.from_data(_minimal("ab", "ab", clause="zz"))


def test_loader_undoes_a_repair() -> None:
    assert Notice.from_data(_minimal("a有效b", "有效")).reconstruct_original() == "axb"


@pytest.mark.parametrize(
    "name", ["terms_extra.yaml", "aliases.yaml", "smalltalk.yaml", "intents.yaml", "faq.yaml"]
)
def test_faq_word_lists_hold_only_text(name: str) -> None:
    # YAML reads a bare on, off, yes or no as true/false: the English stop word "on" was lost
    # that way. Such words must be quoted.
    def leaves(node: Any) -> list[Any]:
        if isinstance(node, dict):
            return [*node.keys(), *(x for v in node.values() for x in leaves(v))]
        if isinstance(node, list):
            return [x for v in node for x in leaves(v)]
        return [node]

    odd = [x for x in leaves(read_yaml("faq", name)) if isinstance(x, bool) or x is None]
    assert not odd, odd


@pytest.mark.parametrize(
    "name",
    ["terms_extra.yaml", "aliases.yaml", "smalltalk.yaml", "intents.yaml", "calibration.yaml"],
)
def test_faq_word_lists_have_no_duplicate_keys(name: str) -> None:
    # YAML keeps only the last of two equal keys: a second "性质:" group once silently
    # replaced the first one's words.
    duplicates: list[Any] = []

    class Loader(yaml.SafeLoader):
        pass

    def mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> Any:
        keys = [loader.construct_object(k) for k, _ in node.value]
        duplicates.extend(k for k in set(keys) if keys.count(k) > 1)
        return yaml.SafeLoader.construct_mapping(loader, node)

    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping)
    yaml.load((content_root() / "faq" / name).read_text(encoding="utf-8"), Loader=Loader)
    assert not duplicates, duplicates
