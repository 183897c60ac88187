"""The FAQ engine against its dev set, edge-case input, and the shapes it hands out."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import unicodedata
from collections import Counter
from pathlib import Path

import faq_eval
import pytest
from faq_eval import BLIND2, BLIND3, BLIND4, evaluate, load_blind, load_cases
from jieba import get_module_res

from bot.faq.commands import main
from bot.faq.engine import FaqEngine
from bot.faq.normalize import normalize, strip
from bot.faq.pinyin import all_syllables, split_syllables
from bot.faq.render import ask_json, render_answer, render_clause, render_not_covered
from bot.faq.segment import cut
from bot.texts import Texts

ROOT = Path(__file__).resolve().parents[1]
# Floors a margin under what the engine measurably reaches (bench_faq.py prints the figures).
# History: session 2 reached top-1 95.7% tuning / 94.3% held-out on the dev set, answered
# correctly 93.3% / 90.2%. Session 3 (about 1,300 paraphrases in four rounds, English question
# words, pinyin reading, calibration on every development set): top-1 98.8% / 97.9%, answered
# correctly 97.4% / 95.4%, out-of-scope 1.1% / 1.8%.
TOP1_FLOOR, TOP3_FLOOR, ANSWERED_FLOOR, OOS_CEILING = 0.96, 0.98, 0.93, 0.03
# Blind sets 1-4 were measured only until session 3, which tuned on their misses, like the
# fresh sets 1-6 written for it: all are development sets now, and their floors guard against
# regressions. Figures at the end of session 3 in brackets (top-1, top-3, answered correctly,
# out-of-scope answered).
# blind (100%, 100%, 99.4%, 0.0%):
BLIND_TOP1, BLIND_TOP3, BLIND_ANSWERED, BLIND_OOS_CEILING = 0.98, 0.99, 0.96, 0.03
# The later sets: name -> (least in-scope and out-of-scope questions, floors as top-1, top-3,
# answered correctly, out-of-scope ceiling, whether a failure lists the misses).
LATER_FLOORS: dict[str, tuple[tuple[int, int], tuple[float, float, float, float], bool]] = {
    # blind2 (99.3%, 100%, 97.2%, 3.5%), blind3 (98.7%, 100%, 94.9%, 8.3%),
    # blind4 (99.4%, 100%, 94.3%, 0.0%).
    "blind2": ((120, 50), (0.97, 0.98, 0.94, 0.06), True),
    "blind3": ((150, 45), (0.96, 0.98, 0.92, 0.10), True),
    "blind4": ((150, 45), (0.97, 0.98, 0.92, 0.03), True),
    # Fresh development sets. Sets 5 and 6 were written in wordings the FAQ does not hold
    # (session 3: 95.7%/95.2% top-1, 74.3%/63.0% answered correctly, 8.3%/3.3% out of scope).
    # fresh1's out-of-scope ceiling is 6%: at session 4's threshold (0.52) 3 of its 60 are
    # answered, while every development set together stays at 2.1%.
    "fresh1": ((170, 60), (0.97, 0.98, 0.93, 0.06), True),
    "fresh2": ((170, 60), (0.98, 0.99, 0.96, 0.03), True),
    "fresh3": ((170, 60), (0.97, 0.98, 0.90, 0.03), True),
    "fresh4": ((170, 60), (0.98, 0.99, 0.92, 0.03), True),
    "fresh5": ((170, 60), (0.93, 0.97, 0.72, 0.10), True),
    "fresh6": ((170, 60), (0.93, 0.98, 0.60, 0.05), True),
    # Fresh sets 7-12 (session 4) guard their tuned figures; each pair's untuned ones were:
    # sets 7 and 8, measured before any tuning on them: 98.9%/95.2% top-1,
    # 100%/97.9% top-3, 87.6%/83.6% answered correctly, 3.3%/0.0% out of scope.
    "fresh7": ((170, 60), (0.98, 0.99, 0.94, 0.03), True),
    "fresh8": ((170, 60), (0.96, 0.98, 0.92, 0.03), True),
    # Sets 9 and 10 (session 4, after the round on 7 and 8), untuned: 96.8%/97.8% top-1,
    # 98.9%/99.5% top-3, 85.1%/84.9% answered correctly, 1.7%/3.3% out of scope.
    "fresh9": ((170, 60), (0.98, 0.99, 0.96, 0.03), True),
    "fresh10": ((170, 60), (0.98, 0.98, 0.94, 0.03), True),
    # Sets 11 and 12 (session 4, after the round on 9 and 10), untuned: 96.3%/97.8% top-1,
    # 98.9%/100% top-3, 83.4%/87.0% answered correctly, 3.3%/6.7% out of scope.
    "fresh11": ((170, 60), (0.96, 0.98, 0.93, 0.04), True),
    "fresh12": ((170, 60), (0.97, 0.98, 0.93, 0.05), True),
    # Sets 13 and 14 (session 5, after its engine changes), untuned: 98.9%/97.3% top-1,
    # 100%/99.5% top-3, 87.0%/84.9% answered correctly, 3.3%/1.7% out of scope.
    # Tuned in session 5 to 100%/99.5% top-1, 99.5%/98.9% answered correctly, 0% out of scope.
    "fresh13": ((170, 60), (0.98, 0.99, 0.97, 0.03), True),
    "fresh14": ((170, 60), (0.98, 0.99, 0.96, 0.03), True),
    # blind5 and blind6 were written in session 3 before any of its tuning, by writers who saw
    # only the notice and the FAQ and avoided its wordings; they are never tuned on and their
    # failures print only figures (reading their questions would tune on them).
    # blind5 (Telegram style): 85.1%, 95.4%, 61.7%, 0.0% before session 3's work; 93.7%,
    # 98.9%, 81.7%, 0.0% after it; 94.9%, 98.9%, 86.3%, 1.6% after session 4's.
    # End of session 5 (engine focus and out-of-scope changes, the 'focused' calibration feature,
    # the round on fresh 13/14, threshold 0.45): blind5 94.9%, 98.9%, 90.3%, 3.2%; blind6 93.6%,
    # 100%, 87.8%, 1.7%.
    "blind5": ((170, 60), (0.93, 0.97, 0.88, 0.04), False),
    # blind6 (officials, secretaries, scientists): 82.0%, 90.1%, 51.2%, 0.0% before; 92.4%,
    # 99.4%, 79.7%, 0.0% after session 3; 93.6%, 100%, 84.9%, 0.0% after session 4. The 97%
    # top-1 target is not met on these two sets.
    "blind6": ((170, 60), (0.92, 0.98, 0.86, 0.03), False),
    # blind7 (a mix of members, secretaries, officials) and blind8 (people asking about their
    # own situation, and readers quoting the notice), written in session 4 while its content
    # rounds ran, by writers who saw only the notice and the FAQ's questions and answers:
    # 97.3%/96.2% top-1, 100%/99.5% top-3, 93.0%/89.6% answered correctly, 1.7%/1.7% out of
    # scope when first measured (after the round on fresh sets 7 and 8); 97.9%/96.7%, 100%/100%,
    # 94.1%/91.8%, 0.0%/1.7% at the end of session 4.
    # End of session 5: 98.4%/97.8%, 100%/99.5%, 95.2%/95.6%, 0.0%/1.7%.
    "blind7": ((170, 60), (0.97, 0.98, 0.93, 0.03), False),
    "blind8": ((170, 60), (0.96, 0.98, 0.93, 0.03), False),
    # blind9 (returned scholars, retired engineers, HR staff, small bosses) and blind10 (skeptical
    # or confused researchers paraphrasing loosely), written in session 5 alongside fresh 13 and
    # 14, first measured after its engine changes, before its content round: 98.9%/96.2% top-1,
    # 99.5%/99.5% top-3, 87.6%/79.5% answered correctly, 3.4%/3.3% out of scope.
    # End of session 5: 98.9%/98.4%, 99.5%/99.5%, 95.2%/90.3%, 5.1%/3.3% (the refit threshold
    # answers more, and three of blind9's 59 out-of-scope questions with it).
    "blind9": ((170, 55), (0.97, 0.98, 0.93, 0.06), False),
    "blind10": ((170, 60), (0.97, 0.98, 0.88, 0.05), False),
}


@pytest.fixture(scope="module")
def engine() -> FaqEngine:
    """Build the engine once for the module, as the bot does at start-up."""
    return FaqEngine.load()


@pytest.fixture(scope="module")
def texts() -> Texts:
    """Load every text key."""
    return Texts.load()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("職稱評審怎麼申請？", "职称评审怎么申请"),
        ("ＡＢＣ　１２３", "abc123"),
        ("Title  Report!!", "titlereport"),
        ("秘书长😀🎉", "秘书长"),
        ("a\x00b\u200bc\x07", "abc"),
        ("  ，。！？  ", ""),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_normalize_caps_long_input() -> None:
    assert len(normalize("职称" * 3000)) <= 200


def test_strip_keeps_exactly_the_letters_and_digits() -> None:
    """strip's whole-text shortcut keeps what the per-character rule keeps, for every character."""
    characters = [chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF]
    kept = [c for c in characters if unicodedata.category(c)[0] in "LN"]
    assert [c for c in characters if strip(c)] == kept
    assert [c for c in characters if strip(c + "_" + c) == c + c] == kept
    assert strip("a_b 科协_") == "ab科协"
    assert strip("") == ""


def test_devset_is_big_enough() -> None:
    cases = load_cases()
    assert sum(c.expected is not None for c in cases) >= 220
    assert sum(c.expected is None for c in cases) >= 60
    assert any(c.held_out for c in cases)


def test_devset_labels_exist(engine: FaqEngine) -> None:
    ids = {e.id for e in engine.entries}
    assert {c.expected for c in load_cases() if c.expected} <= ids


@pytest.mark.parametrize("part", ["tune", "held-out"])
def test_devset_accuracy(engine: FaqEngine, part: str) -> None:
    cases = [c for c in load_cases() if c.held_out == (part == "held-out")]
    report = evaluate(engine, cases)
    print(report.line(part))
    assert report.top1 >= TOP1_FLOOR, report.misses
    assert report.top3 >= TOP3_FLOOR, report.misses
    assert report.answered_correctly >= ANSWERED_FLOOR, report.misses
    # The held-out part has only a dozen out-of-scope questions: one miss is 8%.
    assert report.oos_answered <= (OOS_CEILING if part == "tune" else 0.09), report.misses


def test_devset_overall_meets_targets(engine: FaqEngine) -> None:
    report = evaluate(engine, load_cases())
    print(report.line("all"))
    assert report.top1 >= TOP1_FLOOR, report.misses
    assert report.oos_answered <= OOS_CEILING, report.misses


def test_blind_set_is_big_enough_and_labelled(engine: FaqEngine) -> None:
    cases = load_blind()
    assert sum(c.expected is not None for c in cases) >= 120
    assert sum(c.expected is None for c in cases) >= 40
    ids = {e.id for e in engine.entries}
    assert {i for c in cases for i in c.accepted} <= ids


def test_blind_set_floors(engine: FaqEngine) -> None:
    report = evaluate(engine, load_blind())
    print(report.line("blind"))
    assert report.top1 >= BLIND_TOP1, report.misses
    assert report.top3 >= BLIND_TOP3, report.misses
    assert report.answered_correctly >= BLIND_ANSWERED, report.misses
    assert report.oos_answered <= BLIND_OOS_CEILING, report.misses


@pytest.mark.parametrize(
    ("name", "path", "sizes", "floors", "show_misses"),
    [
        (name, getattr(faq_eval, name.upper()), sizes, floors, show)
        for name, (sizes, floors, show) in LATER_FLOORS.items()
    ],
)
def test_later_blind_set_floors(
    engine: FaqEngine,
    name: str,
    path: Path,
    sizes: tuple[int, int],
    floors: tuple[float, float, float, float],
    show_misses: bool,
) -> None:
    cases = load_blind(path)
    assert sum(c.expected is not None for c in cases) >= sizes[0]
    assert sum(c.expected is None for c in cases) >= sizes[1]
    assert {i for c in cases for i in c.accepted} <= {e.id for e in engine.entries}
    report = evaluate(engine, cases)
    line = report.line(name)
    print(line)
    why = report.misses if show_misses else line
    top1, top3, answered, oos_ceiling = floors
    assert report.top1 >= top1, why
    assert report.top3 >= top3, why
    assert report.answered_correctly >= answered, why
    assert report.oos_answered <= oos_ceiling, why


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("秘书张由谁担任", "secretary-general"),
        ("秘書長的任職條件", "secretary-general"),
        ("mishuzhang 要什么条件", "secretary-general"),
        ("园区科协怎么成力", "how-to-found-a-park-association"),
        ("院士工做站", "task-academician-workstation"),
        ("领导小组组张", "leadership-group"),
        ("how often do we report progress?", "quarterly-report"),
        # 推荐 alone is everyday speech, but recommending scientists is still the task.
        ("科协会推荐优秀科技工作者吗", "task-recognition"),
        # Whole questions in pinyin no alias lists: the syllables spell the FAQ's words.
        ("ruhui liucheng", "how-do-i-join"),
        ("zenme jiaru kexie", "how-do-i-join"),
        ("jidu baogao gei shui", "quarterly-report"),
        # "keyi jianzhi" is 可以 兼职: 意见 (yi jian) straddles the member's word break.
        ("mishuzhang keyi jianzhi ma", "secretary-general-part-time"),
        ("kexie bang wo ping zhicheng ma", "title-does-the-association-decide"),
        # English question words and phrases read like the Chinese ones.
        ("how do we set up a science association in our park", "how-to-found-a-park-association"),
        ("what does the park association actually do", "park-association-main-tasks"),
        ("is this notice still in force", "is-the-notice-still-valid"),
        ("to whom is the notice addressed", "who-is-the-notice-addressed-to"),
        # "about" asks for the summary only when it ends the question; "cover" likewise.
        ("what is this notice about?", "what-is-the-opinion-about"),
        (
            "Which organisation published this notice about park science associations?",
            "who-issued-the-notice",
        ),
        ("What does Part III of the opinion cover?", "section-goals"),
        # A listed phrase's words may be split by a semicolon: "tl;dr" is "tl dr".
        ("give me the tl;dr", "what-is-the-opinion-about"),
        # Formal 公文 wording around the question names no topic.
        ("此件系何单位发布，烦请告知。", "who-issued-the-notice"),
        # Meetings counted per year ask how often they are held; the notice sets no rule.
        ("科协一年开几次会", "elections-and-meetings"),
        # Chinese after "about" means it does not end the question.
        ("question about 职称申报截止时间", "title-deadline"),
        ("Who should I contact about professional title questions?", "title-who-to-ask"),
        # 几步 and 哪几项 ask "how many": they are no unknown topic that lowers the confidence.
        ("成立园区科协要走哪几步", "how-to-found-a-park-association"),
        ("园区科协的任务有哪几项", "park-association-main-tasks"),
        # 园区科协会员 is 园区科协 + 会员: no alias may swallow the 会 of 会员.
        ("园区科协会员有什么好处", "member-benefits"),
        # The out-of-scope term 高企 straddles 提高/企业 here: it is not named.
        ("园区科协对提高企业普通员工素质有什么作用", "enterprise-staff-quality"),
    ],
)
def test_typos_homophones_pinyin_english(engine: FaqEngine, text: str, expected: str) -> None:
    match = engine.match(text)
    assert match.answered, match
    assert match.entry is not None
    assert match.entry.id == expected


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("ruhuiliucheng", ["ru", "hui", "liu", "cheng"]),
        ("zhicheng", ["zhi", "cheng"]),
        ("xian", ["xian"]),
        ("policy", None),
        ("office", None),
    ],
)
def test_split_syllables(word: str, expected: list[str] | None) -> None:
    assert split_syllables(word, all_syllables()) == expected


@pytest.mark.parametrize(
    "text",
    [
        # What a term means that the notice only names: for a textbook, not for this notice.
        "第一生产力是啥意思",
        "请解释一下可持续发展战略",
        "什么叫科教兴省",
        "what is the scientific outlook on development",
        "科教兴省和人才强省有啥区别",  # how two named-only terms differ
        # Facts the notice does not give, though the words match an entry.
        "园区科协主席的名字叫什么",
        "我们园区科协秘书长现在是谁",
        "长春都有哪些高新技术企业",
        "园区科协办公室的座机号码",
        "科普活动下个月几号办",
    ],
)
def test_what_the_notice_cannot_give_is_not_covered(engine: FaqEngine, text: str) -> None:
    match = engine.match(text)
    assert not match.answered
    assert match.kind == "not_covered"
    assert engine.features(text)[1]["not_asked"] == 1.0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The notice names its signer: the one person's name it can give.
        ("签发人是谁", "who-signed-the-notice"),
        ("签发人叫什么名字", "who-signed-the-notice"),
        # Terms the FAQ is about are explained, even asked as "what is X".
        ("什么是园区科协", "park-association-nature"),
        ("建家交友活动是什么意思", "home-and-friends-activities"),
        ("园区科协的指导思想是什么", "guiding-thought"),
        # An entry that says plainly the notice sets no day or amount still answers.
        ("职称申报几号截止", "title-deadline"),
    ],
)
def test_named_facts_and_explained_terms_are_answered(
    engine: FaqEngine, text: str, expected: str
) -> None:
    match = engine.match(text)
    assert match.answered
    assert match.entry is not None
    assert match.entry.id == expected


def test_how_two_explained_bodies_differ_is_not_refused_by_rule(engine: FaqEngine) -> None:
    # How the park association differs from another body is the notice's own matter: the
    # definition rule must not refuse it (whether it is answered is the confidence's call).
    ranked, features = engine.features("园区科协和市科协有什么区别")
    assert engine.entries[ranked[0][0]].id == "city-association-role"
    assert features["not_asked"] == 0.0
    assert features["out_of_scope"] == 0.0


def test_intents_name_only_existing_entries(engine: FaqEngine) -> None:
    ids = {e.id for e in engine.entries}
    for _, answered_by in engine._intents.facts:
        assert answered_by <= ids


@pytest.mark.parametrize("text", ["职程", "zhicheng", "职称", "title"])
def test_title_keyword_in_any_spelling_finds_a_title_entry(engine: FaqEngine, text: str) -> None:
    match = engine.match(text)
    assert match.answered
    assert match.entry is not None
    assert match.entry.id.startswith("title-")


@pytest.mark.parametrize(
    "text",
    [
        "社保怎么交",
        "园区科协能帮我交社保吗",
        "个税怎么算",
        "讲个笑话",
        "tell me a joke",
        # A park-association word, but a question the notice does not answer.
        "推荐几本书",
        "专家工作站的门牌号",
        "中国科协主席是谁",
        "园区食堂几点开饭",
        # Listed terms inside a longer word still count (高企 in 高企认定, 加班 in 加班费).
        "高企认定怎么申请",
        "园区科协能帮忙申请高企吗",
        "who is the president of the china association for science and technology",
    ],
)
def test_out_of_scope_examples(engine: FaqEngine, text: str) -> None:
    match = engine.match(text)
    assert (match.kind, match.answered, match.entry) == ("not_covered", False, None)


@pytest.mark.parametrize(
    "text",
    [
        "你好",
        "您好！",
        "hi",
        "Hello there",
        "早上好呀",
        "在吗",
        "你是谁开发的",
        "你是机器人吗？",
        "What can you do?",
    ],
)
def test_greetings(engine: FaqEngine, text: str) -> None:
    match = engine.match(text)
    assert (match.kind, match.answered, match.entry) == ("greeting", False, None)


@pytest.mark.parametrize("text", ["谢谢", "谢谢啦！", "thanks", "Thank you", "好的，谢谢老师"])
def test_thanks(engine: FaqEngine, text: str) -> None:
    assert engine.match(text).kind == "thanks"


def test_greeting_with_a_question_is_answered(engine: FaqEngine) -> None:
    match = engine.match("你好，请问秘书长由谁担任？")
    assert match.answered
    assert match.entry is not None
    assert match.entry.id == "secretary-general"


def test_a_long_message_with_its_question_found_is_marked_focused(engine: FaqEngine) -> None:
    """Calibration weighs long messages apart: their introduction dilutes every lexical share."""
    long = "明天党工委会上要汇报，领导让五分钟讲清这个意见，帮我捋一下一共几部分、各讲什么？"
    assert engine.features(long)[1]["focused"] == 1.0
    assert engine.features("这个意见分几部分")[1]["focused"] == 0.0
    # Long but one clause: nothing to set apart.
    assert (
        engine.features("园区科协秘书长是不是一定要由管委会党群部门的干部来兼任啊")[1]["focused"]
        == 0.0
    )
    assert engine.calibration.weights["focused"] > 0


def test_spaces_between_chinese_words_end_clauses_of_a_long_message(engine: FaqEngine) -> None:
    """Phone typists separate clauses with spaces: the question is still the last of them."""
    from bot.faq.normalize import fold

    text = (
        "我们公司在吉林高新区 做汽车零部件 研发部十几个人 老板说园区要成立科协让我去对接 "
        "我想知道成立这东西到底要走啥程序"
    )
    assert engine._focus(fold(text)) == fold("我想知道成立这东西到底要走啥程序")
    ranked, _ = engine.features(text)
    # The introduction's park (高新区) no longer outweighs the question.
    assert engine.entries[ranked[0][0]].id == "how-to-found-a-park-association"
    # Spaces between English words are not clause breaks.
    assert engine._focus(fold("how do we set up a park association in the high tech zone")) is None


@pytest.mark.parametrize("text", ["", "   ", "😀😀😀", "\x00\x00", "？！。", "\u200b\ufeff"])
def test_empty_input(engine: FaqEngine, texts: Texts, text: str) -> None:
    match = engine.match(text)
    assert match.kind == "empty"
    assert not match.answered
    assert render_answer(match, texts) == texts.get("faq.empty")


def test_long_input_is_bounded(engine: FaqEngine, texts: Texts) -> None:
    # Its speed is measured by tests/benchmarks/bench_faq.py, not asserted here.
    text = "我想问一下园区科协秘书长的条件" + "啊" * 4000 + "\x00"
    assert len(text) > 4000
    match = engine.match(text[:4096])
    assert len(render_answer(match, texts)) <= 4096


@pytest.mark.parametrize(
    ("text", "refused"),
    [
        # Off-topic words in what the member says about themselves do not refuse the question.
        ("我是退休工程师，想问问这个文件主要讲了什么", 0.0),
        ("我们研发部加班太多 大家都有意见 能通过园区科协往上反映吗", 0.0),
        # In the question itself they do, also when the question is a short clause after them.
        ("专利申请，科协管吗", 1.0),
        ("我在园区上班，想问下个税怎么申报", 1.0),
        ("退休以后还能当会员吗", 1.0),
    ],
)
def test_out_of_scope_words_count_in_the_question_part(
    engine: FaqEngine, text: str, refused: float
) -> None:
    assert engine.features(text)[1]["out_of_scope"] == refused


def test_out_of_scope_gets_honest_fallback(engine: FaqEngine, texts: Texts) -> None:
    match = engine.match("个税怎么申报？")
    assert match.kind == "not_covered"
    assert not match.answered
    assert match.entry is None
    text = render_answer(match, texts)
    assert text.startswith(texts.get("faq.not_covered"))
    assert render_not_covered(match, texts).startswith("《意见》中没有涉及这个问题")


def test_answer_carries_citation(engine: FaqEngine, texts: Texts) -> None:
    match = engine.match("园区科协秘书长由谁担任")
    assert match.entry is not None
    text = render_answer(match, texts)
    assert text.startswith(match.entry.answer)
    assert text.endswith("（依据：《关于加强园区科协组织建设工作的意见》第三部分第5条）")
    assert 0.0 <= match.confidence <= 1.0
    assert len(match.alternatives) <= 3


def test_render_clause(engine: FaqEngine, texts: Texts) -> None:
    clause = engine.notice.clause("i5")
    text = render_clause(clause, texts, "zh")
    assert clause.cite in text
    assert clause.text in text


def test_entry_lookup(engine: FaqEngine) -> None:
    first = engine.entries[0]
    assert engine.entry(first.id) is first
    with pytest.raises(KeyError):
        engine.entry("no-such-entry")


def _check_json_shape(data: dict[str, object]) -> None:
    assert list(data) == ["question", "answered", "answer", "sources", "score", "alternatives"]
    assert isinstance(data["question"], str)
    assert isinstance(data["answered"], bool)
    assert isinstance(data["answer"], str)
    assert isinstance(data["score"], float)
    assert isinstance(data["sources"], list)
    assert isinstance(data["alternatives"], list)
    for source in data["sources"]:
        assert set(source) == {"clause", "quote"}
    for alternative in data["alternatives"]:
        assert set(alternative) == {"question", "score"}


def test_ask_json_shape(engine: FaqEngine, texts: Texts) -> None:
    answered = ask_json(engine, texts, "职称申报科协能帮忙吗")
    _check_json_shape(answered)
    assert answered["answered"] is True
    assert answered["sources"]
    unanswered = ask_json(engine, texts, "明天下雨吗")
    _check_json_shape(unanswered)
    assert unanswered["answered"] is False
    assert unanswered["sources"] == []


def test_cli_prints_the_chat_answer(
    engine: FaqEngine, texts: Texts, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ask", "秘书长由谁担任"]) == 0
    expected = render_answer(engine.match("秘书长由谁担任"), texts)
    assert capsys.readouterr().out == expected + "\n"


def test_cli_json_batch_from_stdin() -> None:
    questions = ["秘书长由谁担任", "今天天气如何", "你好"]
    result = subprocess.run(
        [sys.executable, "-m", "bot.faq.commands", "ask", "--json", "-"],
        input="\n".join(questions) + "\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
        timeout=60,
    )
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["question"] for line in lines] == questions
    for line in lines:
        _check_json_shape(line)
    assert [line["answered"] for line in lines] == [True, False, False]


def test_engine_cuts_with_the_shipped_pruned_dictionary(engine: FaqEngine) -> None:
    """content/faq/jieba_dict.txt is jieba's dictionary minus its rarest words, regenerated."""
    from tests.benchmarks.prune_jieba_dict import MIN_FREQ, TARGET, pruned

    assert TARGET.read_bytes() == pruned()
    freq = engine._tokenizer.FREQ
    assert freq.get("科学技术")  # a word of jieba's
    assert freq.get("园区科协")  # the FAQ's own (userdict)
    with get_module_res("dict.txt") as source:
        entries = [line.split() for line in source.read().decode().splitlines()]
    rare = next(w for w, f, *_ in entries if int(f) < MIN_FREQ and len(w) > 3)
    assert not freq.get(rare)


def test_segment_cut_is_jiebas_cut(engine: FaqEngine) -> None:
    """bot/faq/segment.py's faster cut gives jieba's own words on every question we have."""
    tokenizer = engine._tokenizer
    texts = ["", " ", "a", "abc 12", "\r\n", "ＡＢＣ", "园区科协 abc1 x 秘书长\r\n!!", "🙂科协🙂"]
    cases = [*load_cases(), *load_blind()]
    for path in (BLIND2, BLIND3, BLIND4):
        cases += load_blind(path)
    for case in cases:
        texts += [case.question, normalize(case.question), engine._prepare(case.question)]
    for text in texts:
        assert cut(tokenizer, text) == list(tokenizer.cut(text, HMM=False)), text


def _reference_bm25(
    docs: list[Counter[str]], query: dict[str, float]
) -> tuple[list[float], list[float]]:
    """Return BM25 scores and Dice overlaps of query against docs, the plain textbook way."""
    from bot.faq.engine import COMMON_IDF, K1, TOKEN_WEIGHT, B

    size = len(docs)
    lengths = [sum(d.values()) for d in docs]
    average = sum(lengths) / size

    def idf(token: str) -> float:
        n = sum(token in d for d in docs)
        return math.log(1 + (size - n + 0.5) / (n + 0.5))

    ideal = sum(w * idf(t) for t, w in query.items() if idf(t) >= COMMON_IDF)
    scores, dice = [], []
    for doc, length in zip(docs, lengths, strict=True):
        norm = K1 * (1 - B + B * length / average)
        score = shared = 0.0
        for token, weight in query.items():
            if token in doc and idf(token) >= COMMON_IDF:
                tf = doc[token]
                score += weight * (idf(token) * tf * (K1 + 1) / (tf + norm))
                shared += weight * idf(token)
        mass = sum(idf(t) * TOKEN_WEIGHT[t[:2]] for t in doc if idf(t) >= COMMON_IDF)
        scores.append(score)
        dice.append(2 * shared / (ideal + mass) if shared else 0.0)
    return scores, dice


def test_bm25_scores_are_the_textbook_sums() -> None:
    """_Bm25's numpy sums are what BM25 computed from scratch gives, bit for bit.

    Query weights of a token's own kind and other weights (a long message's introduction) must
    both give the reference's sums, and each group's best the best of its documents.
    """
    from bot.faq.engine import _Bm25

    docs = [
        Counter({"w:a": 2, "w:b": 1, "b:xy": 1}),
        Counter({"w:a": 1, "p:x_y": 3}),
        Counter({"w:c": 1, "b:xy": 2, "w:b": 1}),
        Counter({"w:b": 1, "w:c": 4, "p:x_y": 1, "b:zz": 1}),
        Counter({"w:d": 1}),
    ]
    bm25 = _Bm25(docs)
    group = [0, 0, 1, 1, 2]
    bm25.index_groups(group)
    queries = [
        {"w:a": 1.0, "b:xy": 0.6, "p:x_y": 0.4},
        {"w:b": 0.5, "w:c": 1.0, "b:xy": 0.3, "p:x_y": 0.2, "w:unseen": 1.0},
        {"w:d": 1.0, "b:zz": 0.6, "w:a": 0.5},
        {"w:unseen": 1.0},
    ]
    for query in queries:
        scores, dice = _reference_bm25(docs, query)
        assert bm25.score(query).tolist() == scores
        best, overlap = bm25.best_per_group(query, bm25.ideal(query))
        members = [[d for d, g in enumerate(group) if g == k] for k in range(3)]
        assert best.tolist() == [max(scores[d] for d in m) for m in members]
        assert overlap.tolist() == [max(dice[d] for d in m) for m in members]


def test_bm25_groups_must_hold_consecutive_documents() -> None:
    """Grouping documents out of order is refused: the group maxima would mix entries."""
    from bot.faq.engine import _Bm25

    bm25 = _Bm25([Counter({"w:a": 1}), Counter({"w:b": 1}), Counter({"w:c": 1})])
    for group in ([0, 1, 0], [1, 1, 2], [0, 2, 2]):
        with pytest.raises(ValueError, match="consecutive"):
            bm25.index_groups(group)


def _all_fuzzy(engine: FaqEngine, plain: str, entries: set[int] | None) -> list[float]:
    """Return _fuzzy's scores by comparing the entries' every phrasing, the slow way."""
    from rapidfuzz import fuzz

    from bot.faq.engine import FUZZY_FLOOR

    expected = [0.0] * len(engine.entries)
    for choice, index in zip(engine._choices, engine._choice_entry, strict=True):
        if entries is not None and index not in entries:
            continue
        scorer = fuzz.partial_ratio if len(choice) >= len(plain) else fuzz.ratio
        score = scorer(plain, choice)
        if score >= FUZZY_FLOOR and score / 100.0 > expected[index]:
            expected[index] = score / 100.0
    return expected


def test_fuzzy_skips_only_phrasings_that_cannot_pass(engine: FaqEngine) -> None:
    """_fuzzy's character prefilter gives what scoring every phrasing gives, bit for bit.

    Both ways: against every entry when BM25 likes none, against the best few otherwise.
    """
    import numpy as np

    from bot.faq.engine import FUZZY_CANDIDATES

    questions = [c.question for c in load_cases()[::5]]
    questions += ["a", "ab", "abcdefghijklmnop", questions[0] * 3, "园区的快递柜在哪"]
    size = len(engine.entries)
    liked = np.zeros(size)
    liked[[3, 7, 11]] = [2.0, 1.0, 1.0]
    nothing = np.zeros(size)
    for question in questions:
        plain = normalize(question)
        if not plain:
            continue
        assert engine._fuzzy(plain, nothing, nothing).tolist() == _all_fuzzy(
            engine, plain, None
        ), question
        # The best FUZZY_CANDIDATES by primary + secondary, ties in entry order.
        best = {3, 7, 11, *[i for i in range(size) if i not in (3, 7, 11)][: FUZZY_CANDIDATES - 3]}
        assert engine._fuzzy(plain, liked, nothing).tolist() == _all_fuzzy(engine, plain, best), (
            question
        )


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("秘书长可以兼任吗？主席由谁担任？", ["秘书长可以兼任吗", "主席由谁担任"]),
        ("这个文件谁发的?\n什么时候发的", ["这个文件谁发的", "什么时候发的"]),
        # One question (punctuation alone is no question): the message as it is.
        ("秘书长可以兼任吗？", ["秘书长可以兼任吗？"]),
        ("秘书长可以兼任吗？！？", ["秘书长可以兼任吗？！？"]),
        # A greeting is a piece too: the chat then answers the message whole (not all answered).
        ("你好？秘书长可以兼任吗？", ["你好", "秘书长可以兼任吗"]),
        # More than three questions are a list, not a conversation: one message.
        ("谁发的？哪年发的？发给谁？文号是啥？", ["谁发的？哪年发的？发给谁？文号是啥？"]),
    ],
)
def test_split_questions(text: str, parts: list[str]) -> None:
    from bot.faq.engine import split_questions

    assert split_questions(text) == parts
