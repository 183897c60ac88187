"""Rank the FAQ entries for a member's question and decide whether the notice answers it."""

from __future__ import annotations

import io
import itertools
import logging
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

import jieba
import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz, process

from bot.content import content_root, read_text, read_yaml
from bot.faq.normalize import fold, latin_words, normalize, strip
from bot.faq.pinyin import all_syllables, split_syllables, syllables
from bot.faq.segment import cut
from bot.notice import Clause, Notice

MatchKind = Literal["answer", "not_covered", "greeting", "thanks", "empty"]
# One value per entry (or per document of a _Bm25).
Scores = npt.NDArray[np.float64]

MAX_ALTERNATIVES = 3
# jieba's dictionary without its rarest words, under content/faq/ (see _dictionary).
DICTIONARY = "jieba_dict.txt"

# Token kinds and how much each counts in BM25: whole words carry meaning; character bigrams
# and pinyin bigrams only rescue segmentation slips, typos and homophones.
WORD, BIGRAM, PINYIN = "w:", "b:", "p:"
TOKEN_WEIGHT = {WORD: 1.0, BIGRAM: 0.6, PINYIN: 0.4}
K1, B = 1.2, 0.75
FUZZY_CANDIDATES = 8
# rapidfuzz similarities (0-100) below this count as no likeness at all.
FUZZY_FLOOR = 40
COMMON_IDF = 0.25
# A BM25 score may pass the one-occurrence "ideal" when words repeat; cap it only loosely, so
# entries that all hold every query word still rank by how strongly they hold them.
CLIP = 2.0
# How the ranking signals add up (tuned on the dev set's tuning part).
W_PRIMARY, W_PHRASING, W_SECONDARY, W_FUZZY = 0.6, 0.3, 0.4, 0.6
W_DICE = 0.6
# features() ranks this many entries: what match reads (the best and the alternatives).
RANKED = MAX_ALTERNATIVES + 1
# A message longer than LONG_MESSAGE characters is read as an introduction and a question:
# its last clauses (at least FOCUS_LENGTH characters) are the question, and what only the
# introduction says weighs CONTEXT_WEIGHT.
LONG_MESSAGE, FOCUS_LENGTH, CONTEXT_WEIGHT = 24, 10, 0.5
# English contractions: what's, they're, we'll, I've, I'd, I'm.
_CONTRACTION = re.compile("(?<=[a-z])['\u2019](?:s|re|ll|ve|d|m)(?![a-z])")
# Latin words one after another (what is left of a message once English terms are mapped).
_LATIN_RUN = re.compile(r"[a-z]+(?:[\s'\-]+[a-z]+)*")
# What ends one question of a message asking several: question marks, line breaks.
_QUESTION_BREAK = re.compile(r"[？?\n]+")
# A message is split into at most this many questions (more are a list, not a conversation).
MAX_QUESTIONS = 3
# Punctuation ends a clause, and so do spaces between Chinese characters (phone typists' commas).
_CLAUSE_BREAK = re.compile(
    r"[,，。.？?！!；;：:\n…~～]+|(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])"
)


@dataclass(frozen=True)
class Quote:
    """A verbatim piece of a clause that an answer quotes."""

    clause: str
    text: str


@dataclass(frozen=True)
class FaqEntry:
    """One question of the FAQ with its answer and the clauses it rests on."""

    id: str
    question: str
    paraphrases: tuple[str, ...]
    answer: str
    quotes: tuple[Quote, ...]
    clauses: tuple[str, ...]
    related: tuple[str, ...]
    cites: tuple[str, ...] = ()

    @classmethod
    def from_data(cls, raw: dict[str, Any], notice: Notice | None = None) -> FaqEntry:
        """Build an entry from its parsed YAML mapping, resolving its clauses' cites."""
        clauses = tuple(str(c) for c in raw.get("clauses") or ())
        cites: list[str] = []
        for clause_id in clauses:
            if notice is not None and notice.has(clause_id):
                cite = notice.clause(clause_id).cite
                if cite not in cites:
                    cites.append(cite)
        return cls(
            id=str(raw["id"]),
            question=str(raw["question"]),
            paraphrases=tuple(str(p) for p in raw.get("paraphrases") or ()),
            answer=str(raw["answer"]).strip(),
            quotes=tuple(
                Quote(clause=str(q["clause"]), text=str(q["text"]))
                for q in raw.get("quotes") or ()
            ),
            clauses=clauses,
            related=tuple(str(r) for r in raw.get("related") or ()),
            cites=tuple(cites),
        )


@dataclass(frozen=True)
class Match:
    """The engine's verdict on one question."""

    entry: FaqEntry | None
    confidence: float
    answered: bool
    alternatives: list[tuple[FaqEntry, float]] = field(default_factory=list)
    kind: MatchKind = "answer"


@dataclass(frozen=True)
class Calibration:
    """Logistic weights turning match features into a confidence, and the answer threshold."""

    weights: dict[str, float]
    bias: float
    threshold: float

    def confidence(self, features: dict[str, float]) -> float:
        """Return the calibrated probability that the top entry answers the question."""
        z = self.bias + sum(w * features.get(name, 0.0) for name, w in self.weights.items())
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


class _Postings(NamedTuple):
    """Where one token occurs: its documents and BM25 gains, in document order."""

    # The token's inverse document frequency (what a query token adds to a Dice share).
    idf: float
    documents: npt.NDArray[np.intp]
    gains: npt.NDArray[np.float64]


class _Bm25:
    """BM25 over one text field per entry, with weighted query tokens.

    Scores are added up by numpy (bincount) rather than a Python loop per posting: the same
    products added in the same order (query token by query token), so the same sums, at a
    fraction of the cost of the hottest step of a match.
    """

    def __init__(self, docs: list[Counter[str]]) -> None:
        self.size = len(docs)
        lengths = [sum(d.values()) for d in docs]
        average = (sum(lengths) / len(lengths)) if lengths else 1.0
        frequency: Counter[str] = Counter()
        for doc in docs:
            frequency.update(doc.keys())
        self.idf = {t: self._idf(n) for t, n in frequency.items()}
        self.unseen_idf = self._idf(0)
        # Each document's weighted mass of distinct tokens, for the Dice overlap.
        self.mass = np.array(
            [
                sum(self.idf[t] * TOKEN_WEIGHT[t[:2]] for t in doc if self.idf[t] >= COMMON_IDF)
                for doc in docs
            ],
            dtype=np.float64,
        )
        documents: dict[str, list[int]] = {}
        gains: dict[str, list[float]] = {}
        for index, (doc, length) in enumerate(zip(docs, lengths, strict=True)):
            norm = K1 * (1 - B + B * length / (average or 1.0))
            for token, tf in doc.items():
                documents.setdefault(token, []).append(index)
                gains.setdefault(token, []).append(self.idf[token] * tf * (K1 + 1) / (tf + norm))
        # A token in most documents barely ranks but costs the most to add up: scoring skips
        # it, so its postings are not kept.
        self.postings: dict[str, _Postings] = {}
        for token, owned in documents.items():
            idf = self.idf[token]
            if idf < COMMON_IDF:
                continue
            self.postings[token] = _Postings(
                idf,
                np.array(owned, dtype=np.intp),
                np.array(gains[token], dtype=np.float64),
            )
        # Where each group's documents start (see index_groups); one group per document until
        # then.
        self.group_starts = np.arange(self.size, dtype=np.intp)

    def _idf(self, n: int) -> float:
        """Return the BM25 inverse document frequency of a token in n documents."""
        return math.log(1 + (self.size - n + 0.5) / (n + 0.5))

    def _gather(
        self, query: dict[str, float]
    ) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float64], npt.NDArray[np.float64]] | None:
        """Return the query tokens' postings end to end: documents, weighted gains, and the
        Dice share each posting adds (query weight times idf), or None when no token has any.
        """
        found = [(f, w) for t, w in query.items() if (f := self.postings.get(t)) is not None]
        if not found:
            return None
        documents = np.concatenate([f.documents for f, _ in found])
        lengths = np.array([len(f.documents) for f, _ in found], dtype=np.intp)
        weights = np.array([w for _, w in found], dtype=np.float64)
        # weight * gain per posting: the product a loop over the postings would make.
        gains = np.repeat(weights, lengths) * np.concatenate([f.gains for f, _ in found])
        shares = weights * np.array([f.idf for f, _ in found], dtype=np.float64)
        return documents, gains, np.repeat(shares, lengths)

    def score(self, query: dict[str, float]) -> npt.NDArray[np.float64]:
        """Return each document's score for the weighted query tokens."""
        gathered = self._gather(query)
        if gathered is None:
            return np.zeros(self.size)
        documents, gains, _ = gathered
        # bincount adds each document's gains in array order: query token by query token.
        # (With weights it counts in float64: astype changes nothing but the declared type.)
        return np.bincount(documents, weights=gains, minlength=self.size).astype(
            np.float64, copy=False
        )

    def best_per_group(
        self, query: dict[str, float], ideal: float
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Return each group's best document score and best Dice overlap with the query.

        Groups are those of index_groups, ideal is self.ideal(query). Dice: twice the weighted
        tokens a document and the query share over both their masses.
        """
        starts = self.group_starts
        gathered = self._gather(query)
        if gathered is None:
            return np.zeros(len(starts)), np.zeros(len(starts))
        documents, gains, shares = gathered
        scores = np.bincount(documents, weights=gains, minlength=self.size)
        shared = np.bincount(documents, weights=shares, minlength=self.size)
        # Every score and share is at least 0.0, and a document sharing nothing scores 0.0:
        # the maximum over all of a group's documents is the maximum over those that share.
        best = np.maximum.reduceat(scores, starts)
        dice = np.maximum.reduceat(2 * shared / (ideal + self.mass), starts)
        return best, dice

    def index_groups(self, group: list[int]) -> None:
        """Group the documents for best_per_group: group[d] is the group of document d.

        The documents of a group must be consecutive (an entry's phrasings are), and every
        group must have one.
        """
        if group[:1] != [0] or any(b - a not in (0, 1) for a, b in itertools.pairwise(group)):
            raise ValueError("groups must be numbered in order and hold consecutive documents")
        self.group_starts = np.flatnonzero(np.diff(group, prepend=-1)).astype(np.intp)

    def ideal(self, query: dict[str, float]) -> float:
        """Return what a document holding every query token once would score."""
        idf_of = self.idf.get
        unseen = self.unseen_idf
        # A list, not a generator: the same products summed in the same order, faster.
        return sum([w * i for t, w in query.items() if (i := idf_of(t, unseen)) >= COMMON_IDF])


@dataclass
class _Lexicon:
    """Alias table, stop words and out-of-scope terms, all in normalised form."""

    aliases: dict[str, str]
    stopwords: frozenset[str]
    out_of_scope: frozenset[str]
    in_scope: frozenset[str]
    english_stopwords: frozenset[str] = frozenset()
    # A prefix plus one character is a question word (how many steps, which few items).
    question_prefixes: frozenset[str] = frozenset()
    # English words that mean a term only when they end the question ("what is it about").
    english_endings: dict[str, str] = field(default_factory=dict)
    ending_pattern: re.Pattern[str] | None = None
    latin: dict[str, str] = field(default_factory=dict)
    chinese: dict[str, str] = field(default_factory=dict)
    alias_pattern: re.Pattern[str] | None = None
    latin_pattern: re.Pattern[str] | None = None
    oos_pattern: re.Pattern[str] | None = None

    def compile(self) -> None:
        """Build the longest-first regexes for alias expansion and out-of-scope detection."""
        chinese = {k: v for k, v in self.aliases.items() if not k.isascii()}
        # Canonical terms stand for themselves, so that in "秘书长" the longer canonical word
        # wins over its alias "秘书" (which would otherwise become "秘书长长").
        for canonical in self.aliases.values():
            if canonical and not canonical.isascii():
                chinese.setdefault(canonical, canonical)
        self.chinese = chinese
        self.alias_pattern = _alternation(chinese)
        self.oos_pattern = _alternation(t for t in self.out_of_scope if not t.isascii())
        # English and pinyin must match whole words: "sta" is not the start of "station".
        self.latin = dict.fromkeys(self.english_stopwords, "")
        self.latin.update(
            {_latin_key(k): v for k, v in self.aliases.items() if k.isascii() and _latin_key(k)}
        )
        endings = "|".join(map(re.escape, sorted(self.english_endings, key=len, reverse=True)))
        if endings:
            self.ending_pattern = re.compile(rf"(?<![a-z0-9])({endings})\W*$")
        words = sorted(self.latin, key=len, reverse=True)
        if words:
            alternatives = "|".join(map(_latin_alternative, words))
            self.latin_pattern = re.compile(rf"(?<![a-z0-9])(?:{alternatives})(?![a-z0-9])")

    def latin_canonical(self, phrase: str) -> str:
        """Return the canonical term of a matched English or pinyin phrase."""
        key = _latin_key(phrase)
        if key in self.latin:
            return self.latin[key]
        for ending in INFLECTIONS:
            if key.endswith(ending) and key[: -len(ending)] in self.latin:
                return self.latin[key[: -len(ending)]]
        return ""


# English words are listed in their base form; these endings match too ("seminars",
# "approved", "founding"), on words long enough not to turn "a" into "as".
INFLECTIONS = ("ing", "es", "ed", "s", "d")
INFLECTED_LENGTH = 4


def _latin_alternative(phrase: str) -> str:
    """Return the regex of a listed English or pinyin phrase, inflections of its last word too.

    Its words may be run together or split by spaces, hyphens, underscores, dots or semicolons
    ("tl;dr" is "tl dr").
    """
    parts = phrase.split()
    body = r"[\s\-_.;]*".join(map(re.escape, parts))
    if len(parts[-1]) >= INFLECTED_LENGTH and parts[-1].isalpha():
        body += "(?:" + "|".join(INFLECTIONS) + ")?"
    return body


def _latin_key(phrase: str) -> str:
    """Return an English or pinyin phrase as lower-case words joined by single spaces."""
    return " ".join(re.findall(r"[a-z0-9]+", phrase.lower()))


def _alternation(terms: Iterable[str]) -> re.Pattern[str] | None:
    """Return a regex matching any of the terms, longest first, or None for no terms."""
    ordered = sorted({t for t in terms if t}, key=len, reverse=True)
    return re.compile("|".join(map(re.escape, ordered))) if ordered else None


@dataclass
class _Smalltalk:
    """Phrases that make a message a greeting or thanks instead of a question."""

    greeting: frozenset[str]
    thanks: frozenset[str]
    unit: re.Pattern[str]

    @classmethod
    def from_data(cls, data: dict[str, list[str]]) -> _Smalltalk:
        """Build the detector from content/faq/smalltalk.yaml."""
        greeting = frozenset(normalize(p) for p in data.get("greeting") or ())
        thanks = frozenset(normalize(p) for p in data.get("thanks") or ())
        fillers = {normalize(p) for p in data.get("fillers") or ()}
        words = sorted(w for w in greeting | thanks | fillers if w)
        words.sort(key=len, reverse=True)
        return cls(greeting, thanks, re.compile("|".join(map(re.escape, words))))

    def classify(self, text: str) -> MatchKind | None:
        """Return "greeting" or "thanks" when text is made only of small talk, else None."""
        if not text or len(text) > 24:
            return None
        pieces: list[str] = []
        position = 0
        while position < len(text):
            found = self.unit.match(text, position)
            if found is None:
                return None
            pieces.append(found.group(0))
            position = found.end()
        if any(p in self.thanks for p in pieces):
            return "thanks"
        return "greeting"


# Terms an FAQ question quotes (“”) are what that entry explains.
_QUOTED = re.compile("\u201c([^\u201d]+)\u201d")


@dataclass
class _Intents:
    """What a question asks for, from content/faq/intents.yaml, all in normalised form."""

    prefix: re.Pattern[str] | None = None
    suffix: re.Pattern[str] | None = None
    english: re.Pattern[str] | None = None
    named_only: re.Pattern[str] | None = None
    explained: re.Pattern[str] | None = None
    facts: list[tuple[re.Pattern[str], frozenset[str]]] = field(default_factory=list)

    @classmethod
    def from_data(cls, data: dict[str, Any], quoted: Iterable[str]) -> _Intents:
        """Build the detectors from the YAML mapping and the terms FAQ questions quote."""
        definition = data.get("definition") or {}
        particles = _alternation(normalize(p) for p in definition.get("particles") or ())
        tail = f"(?:{particles.pattern})*$" if particles is not None else "$"
        suffix = _alternation(normalize(p) for p in definition.get("suffixes") or ())
        english = sorted((_latin_key(p) for p in definition.get("english") or ()), key=len)
        facts = []
        for fact in (data.get("facts") or {}).values():
            pieces = [re.escape(normalize(p)) for p in fact.get("phrases") or () if normalize(p)]
            pieces += [str(p) for p in fact.get("patterns") or ()]
            if pieces:
                pattern = re.compile("|".join(sorted(pieces, key=len, reverse=True)))
                facts.append((pattern, frozenset(str(i) for i in fact.get("answered_by") or ())))
        return cls(
            prefix=_alternation(normalize(p) for p in definition.get("prefixes") or ()),
            suffix=re.compile(f"(?:{suffix.pattern}){tail}") if suffix is not None else None,
            english=re.compile(
                r"^\W*(?:"
                + "|".join(r"[\s'\u2019]*".join(map(re.escape, e.split())) for e in english[::-1])
                + r")(?![a-z0-9])"
            )
            if english
            else None,
            named_only=_alternation(normalize(t) for t in definition.get("named_only") or ()),
            explained=_alternation(
                normalize(t) for t in (*(definition.get("explained") or ()), *quoted)
            ),
            facts=facts,
        )

    def fact_unanswered(self, plain: str, entry_id: str) -> bool:
        """Return whether the question asks for a fact the matched entry cannot give."""
        return any(
            entry_id not in answered_by and pattern.search(plain)
            for pattern, answered_by in self.facts
        )

    def subject(self, plain: str, folded: str) -> str | None:
        """Return the term a "what is X" question asks about, or None for other questions."""
        if self.english is not None:
            found = self.english.search(folded)
            if found is not None:
                return folded[found.end() :]
        subject = None
        if self.suffix is not None:
            found = self.suffix.search(plain)
            if found is not None and found.start() > 0:
                subject = plain[: found.start()]
        if self.prefix is not None:
            found = self.prefix.search(subject or plain)
            if found is not None:
                subject = (subject or plain)[found.end() :]
        return subject or None


class FaqEngine:
    """The FAQ with its search index; build it once with `load` and share it."""

    def __init__(
        self,
        notice: Notice,
        entries: list[FaqEntry],
        lexicon: _Lexicon,
        smalltalk: _Smalltalk,
        calibration: Calibration,
        userdict: str,
        intents: dict[str, Any] | None = None,
    ) -> None:
        self.notice = notice
        self.entries = entries
        self._by_id = {e.id: e for e in entries}
        self._lexicon = lexicon
        self._lexicon.compile()
        self._smalltalk = smalltalk
        self.calibration = calibration
        self._tokenizer = jieba.Tokenizer(_dictionary())
        self._tokenizer.initialize()
        if userdict.strip():
            self._tokenizer.load_userdict(io.StringIO(userdict))
        for term in {*lexicon.aliases.values(), *lexicon.in_scope, *lexicon.out_of_scope}:
            if len(term) > 1 and not term.isascii():
                self._tokenizer.add_word(term, freq=50_000)
        # Pinyin is read as words only in questions: the index is built from the FAQ as written.
        self._syllables = all_syllables()
        self._spoken: dict[tuple[str, ...], str] = {}
        self._build_index()
        quoted = (q for e in entries for q in _QUOTED.findall(e.question))
        self._intents = _Intents.from_data(intents or {}, quoted)

    @classmethod
    def load(cls) -> FaqEngine:
        """Read the notice, the FAQ and its word lists from content/ and build the index."""
        jieba.setLogLevel(logging.WARNING)
        notice = Notice.load()
        faq = read_yaml("faq", "faq.yaml")
        raw_entries = faq["entries"] if isinstance(faq, dict) else faq
        entries = [FaqEntry.from_data(raw, notice) for raw in raw_entries]
        aliases = _read_aliases(_optional(read_yaml, "aliases.yaml"))
        extra = read_yaml("faq", "terms_extra.yaml") or {}
        aliases.update(_read_aliases(extra.get("aliases") or {}))
        lexicon = _Lexicon(
            aliases=aliases,
            stopwords=frozenset(normalize(w) for w in extra.get("stopwords") or ()),
            out_of_scope=frozenset(_term(w) for w in extra.get("out_of_scope") or ()),
            in_scope=frozenset(normalize(w) for w in extra.get("in_scope") or ()),
            english_stopwords=frozenset(
                _latin_key(str(w)) for w in extra.get("english_stopwords") or ()
            ),
            question_prefixes=frozenset(
                normalize(w) for w in extra.get("question_prefixes") or ()
            ),
            english_endings={
                _latin_key(str(k)): normalize(str(v))
                for k, v in (extra.get("english_endings") or {}).items()
            },
        )
        smalltalk = _Smalltalk.from_data(read_yaml("faq", "smalltalk.yaml") or {})
        raw_cal = read_yaml("faq", "calibration.yaml") or {}
        calibration = Calibration(
            weights={str(k): float(v) for k, v in (raw_cal.get("weights") or {}).items()},
            bias=float(raw_cal.get("bias", 0.0)),
            threshold=float(raw_cal.get("threshold", 0.5)),
        )
        userdict = _optional(read_text, "userdict.txt") or ""
        intents = _optional(read_yaml, "intents.yaml") or {}
        return cls(notice, entries, lexicon, smalltalk, calibration, userdict, intents)

    # -- index -----------------------------------------------------------------------------

    def _build_index(self) -> None:
        """Tokenise every entry's questions (primary) and answer and clauses (secondary)."""
        primary: list[Counter[str]] = []
        secondary: list[Counter[str]] = []
        phrasings: list[Counter[str]] = []
        self._choices: list[str] = []
        self._choice_entry: list[int] = []
        vocabulary: set[str] = set()
        for index, entry in enumerate(self.entries):
            doc: Counter[str] = Counter()
            for question in (entry.question, *entry.paraphrases):
                expanded = self._prepare(question)
                tokens = Counter(self._tokens(expanded))
                doc.update(tokens)
                phrasings.append(tokens)
                self._choices.append(expanded)
                self._choice_entry.append(index)
            primary.append(doc)
            texts = [entry.answer, *(q.text for q in entry.quotes)]
            texts += [self._clause_text(c) for c in entry.clauses]
            weak: Counter[str] = Counter()
            for text in texts:
                weak.update(self._tokens(self._prepare(text)))
            secondary.append(weak)
            vocabulary.update(t for t in doc if t.startswith((WORD, PINYIN)))
            vocabulary.update(t for t in weak if t.startswith((WORD, PINYIN)))
        # Characters the FAQ uses as words of their own in at least two texts (了, 谁): a typo
        # check leaves them alone, while one used alone once (力 in 出把力) may still be half of
        # a broken word (成力 for 成立).
        lone: Counter[str] = Counter()
        for tokens in (*phrasings, *secondary):
            lone.update(t[len(WORD) :] for t in tokens if t.startswith(WORD) and len(t) == 3)
        self._lone = frozenset(c for c, n in lone.items() if n >= 2)
        self._primary = _Bm25(primary)
        # Each entry's own words (questions, answer, clauses), to see what a match leaves unsaid.
        self._entry_words = [
            frozenset(t for t in (*p, *w) if t.startswith(WORD))
            for p, w in zip(primary, secondary, strict=True)
        ]
        # Each phrasing's length and where each character occurs among the phrasings (each
        # phrasing once), for _fuzzy to skip those sharing too few characters to pass FUZZY_FLOOR.
        self._choice_lengths = np.array([len(c) for c in self._choices], dtype=np.intp)
        self._choice_owner = np.array(self._choice_entry, dtype=np.intp)
        holders: dict[str, list[int]] = {}
        for position, choice in enumerate(self._choices):
            for char in set(choice):
                holders.setdefault(char, []).append(position)
        self._char_holders = {c: np.array(p, dtype=np.intp) for c, p in holders.items()}
        self._phrasings = _Bm25(phrasings)
        self._phrasings.index_groups(self._choice_entry)
        self._secondary = _Bm25(secondary)
        self._vocabulary = frozenset(vocabulary)
        self._asked = frozenset(t for doc in primary for t in doc if t.startswith(WORD))
        self._bigrams = frozenset(t for doc in primary for t in doc if t.startswith(BIGRAM))
        # Every FAQ word of a sound, for typos: 成力 must still find 成立 when 城里 sounds alike.
        self._homophones: dict[tuple[str, ...], list[str]] = {}
        for token in sorted(self._vocabulary):
            word = token[len(WORD) :]
            if token.startswith(WORD) and 2 <= len(word) <= 4 and not word.isascii():
                for key in _sound_keys(word):
                    self._homophones.setdefault(key, []).append(word)
        # Words a member may spell in pinyin: the FAQ's own first, then the alias table's, the
        # in-scope list's and the stop words (the alias pass makes aliases canonical afterwards,
        # and a spelled 可以 or 什么 is dropped like a typed one).
        spoken = {key: words[0] for key, words in self._homophones.items()}
        lexicon = self._lexicon
        spellable = {
            *lexicon.chinese,
            *lexicon.chinese.values(),
            *lexicon.in_scope,
            *lexicon.stopwords,
        }
        for word in sorted(spellable):
            if 2 <= len(word) <= 4 and not word.isascii():
                for key in _sound_keys(word):
                    spoken.setdefault(key, word)
        self._spoken = spoken

    def _clause_text(self, clause_id: str) -> str:
        """Return a clause's title and text, or nothing for an id the notice lacks."""
        if not self.notice.has(clause_id):
            return ""
        clause = self.notice.clause(clause_id)
        return clause.title + clause.text

    # -- analysis --------------------------------------------------------------------------

    def _prepare(self, text: str) -> str:
        """Return text normalised with its aliases made canonical (FAQ texts: no typo check)."""
        return self._canonical(self._latin_stripped(fold(text)))

    def _prepare_words(self, folded: str) -> tuple[str, list[str]]:
        """Return a member's folded question normalised, typos fixed, aliases made canonical,
        and its words (as _words gives them).

        The typo check cuts the text; when neither it nor the aliases change the text (about
        half the questions), that cut is its words and jieba is not run again.
        """
        plain = self._latin_stripped(folded)
        pieces = cut(self._tokenizer, plain)
        prepared = self._canonical(self._correct(plain, pieces))
        if prepared != plain:
            pieces = cut(self._tokenizer, prepared)
        stop = self._lexicon.stopwords
        return prepared, [w for w in pieces if w not in stop]

    def _latin_stripped(self, folded: str) -> str:
        """Return a folded text with English and pinyin terms made canonical, then stripped."""
        lexicon = self._lexicon
        if lexicon.latin_pattern is not None and re.search("[a-z]", folded):
            # "what's the reference" must not leave an "s" to glue onto the next word.
            folded = _CONTRACTION.sub(" ", folded)
            if lexicon.ending_pattern is not None:
                folded = lexicon.ending_pattern.sub(
                    lambda m: " " + lexicon.english_endings[m.group(1)] + " ", folded
                )
            folded = lexicon.latin_pattern.sub(
                lambda m: " " + lexicon.latin_canonical(m.group(0)) + " ", folded
            )
            folded = _LATIN_RUN.sub(lambda m: self._from_pinyin(m.group(0)), folded)
        return strip(folded)

    def _canonical(self, plain: str) -> str:
        """Return a stripped text with its aliases replaced by their canonical terms."""
        lexicon = self._lexicon
        if lexicon.alias_pattern is None:
            return plain
        return lexicon.alias_pattern.sub(lambda m: lexicon.chinese[m.group(0)], plain)

    def _from_pinyin(self, run: str) -> str:
        """Return a run of Latin words with the pinyin spellings of known words made Chinese.

        "ruhui liucheng" -> the words for joining and procedure, "zhi cheng" -> the word for a
        professional title. Consecutive words that are all pinyin syllables are read together;
        a stretch of 4 to 2 syllables (longest first) that spells an FAQ, alias or in-scope word
        becomes that word, if it keeps to the member's own word breaks or lies inside one word
        ("ke yijian zhi" never yields the word for opinion from "yi jian").
        Pinyin words left over are dropped when they are one syllable (particles: ma, de, wo)
        and kept otherwise; words that are no pinyin (English) stay as they are.
        """
        out: list[str] = []
        stream: list[str] = []
        owner: list[int] = []
        spelled: list[str] = []

        def flush() -> None:
            out.extend(self._spell(stream, owner, spelled))
            stream.clear()
            owner.clear()
            spelled.clear()

        for word in run.split():
            parts = split_syllables(word, self._syllables)
            if parts is None:
                flush()
                out.append(word)
                continue
            stream.extend(parts)
            owner.extend([len(spelled)] * len(parts))
            spelled.append(word)
        flush()
        return " " + " ".join(out) + " "

    def _spell(self, stream: list[str], owner: list[int], spelled: list[str]) -> list[str]:
        """Return the words a pinyin syllable stream spells (see _from_pinyin)."""
        size = len(stream)
        starts = {0, size} | {i for i in range(1, size) if owner[i] != owner[i - 1]}
        found: list[str] = []
        used = [False] * len(spelled)
        position = 0
        while position < size:
            for length in (4, 3, 2):
                stop = position + length
                if stop > size:
                    continue
                aligned = position in starts and stop in starts
                if not aligned and owner[position] != owner[stop - 1]:
                    continue
                word = self._spoken.get(tuple(stream[position:stop]))
                if word is not None:
                    found.append(word)
                    for index in owner[position:stop]:
                        used[index] = True
                    position = stop
                    break
            else:
                position += 1
        kept = [
            word
            for index, word in enumerate(spelled)
            if not used[index] and owner.count(index) > 1
        ]
        return found + kept

    def _correct(self, text: str, pieces: list[str]) -> str:
        """Return text with homophone typos of FAQ words fixed (职程 -> 职称, 秘书张 -> 秘书长).

        Only stray single characters are suspects: a typo breaks a word, so jieba leaves its
        characters alone. A window around each is replaced by the FAQ word it sounds like when
        the two differ in exactly one character and the window is no word of its own.
        pieces is the text's cut (jieba's words of it).
        """
        vocabulary = self._vocabulary
        suspects: list[int] = []
        bounds = {0}
        position = 0
        stop = self._lexicon.stopwords
        for word in pieces:
            single = len(word) == 1 and not word.isascii()
            if single and word not in self._lone and word not in stop:
                suspects.append(position)
            position += len(word)
            bounds.add(position)
        if suspects and self._lexicon.alias_pattern is not None:
            # A listed variant (副高 for 职称) is no typo, even where jieba cuts it apart.
            listed = {
                i for m in self._lexicon.alias_pattern.finditer(text) for i in range(*m.span())
            }
            suspects = [spot for spot in suspects if spot not in listed]
        if not suspects:
            return text
        chars = list(text)
        known = self._tokenizer.FREQ
        for spot in suspects:
            for size in (4, 3, 2):
                for start in range(max(0, spot - size + 1), min(spot, len(chars) - size) + 1):
                    # A broken word is made of whole jieba pieces: windows keep to their edges.
                    if start not in bounds or start + size not in bounds:
                        continue
                    window = "".join(chars[start : start + size])
                    if window.isascii() or known.get(window) or WORD + window in vocabulary:
                        continue
                    sounded = self._sounds_like(window)
                    if sounded is not None:
                        chars[start : start + size] = list(sounded)
                        break
                else:
                    continue
                break
        return "".join(chars)

    def _sounds_like(self, window: str) -> str | None:
        """Return the FAQ word that sounds like window and differs from it in one character."""
        for key in _sound_keys(window):
            for word in self._homophones.get(key, ()):
                if sum(a != b for a, b in zip(word, window, strict=True)) == 1:
                    return word
        return None

    def _words(self, text: str) -> list[str]:
        """Return the jieba words of text without stop words (one dictionary pass)."""
        stop = self._lexicon.stopwords
        return [w for w in cut(self._tokenizer, text) if w not in stop]

    def _tokens(
        self, text: str, words: list[str] | None = None, rescue: bool = False
    ) -> Iterator[str]:
        """Yield the word, character-bigram and pinyin-bigram tokens of a normalised text.

        With rescue (queries), pinyin is given only for character pairs the FAQ never uses:
        a known pair needs no homophone help, and fewer tokens keep matching fast.
        """
        words = self._words(text) if words is None else words
        known = self._tokenizer.FREQ
        for word in words:
            yield WORD + word
            # The finer words inside a long one, as jieba's cut_for_search finds them.
            for size in (2, 3):
                if len(word) > size:
                    for i in range(len(word) - size + 1):
                        if known.get(word[i : i + size]):
                            yield WORD + word[i : i + size]
        content = "".join(words)
        for a, b in itertools.pairwise(content):
            if a.isascii() or b.isascii():
                continue
            bigram = BIGRAM + a + b
            yield bigram
            if rescue and bigram in self._bigrams:
                continue
            for x in syllables(a):
                for y in syllables(b):
                    yield PINYIN + x + "_" + y

    def _query(self, text: str, words: list[str]) -> dict[str, float]:
        """Return the weighted query tokens of a normalised, expanded text."""
        # Every token of a kind weighs the same, so a repeated token keeps its weight (and its
        # first place, which fixes the order scores add up in).
        return {t: TOKEN_WEIGHT[t[:2]] for t in self._tokens(text, words, rescue=True)}

    # -- matching --------------------------------------------------------------------------

    def entry(self, entry_id: str) -> FaqEntry:
        """Return the FAQ entry with this id (KeyError if there is none)."""
        return self._by_id[entry_id]

    def clause(self, clause_id: str) -> Clause:
        """Return a clause of the notice by id."""
        return self.notice.clause(clause_id)

    def features(self, text: str) -> tuple[list[tuple[int, float]], dict[str, float]]:
        """Return the ranked (entry index, score) list and the features of the top one."""
        folded = fold(text)
        return self._features(folded, strip(folded))

    def _features(
        self, folded: str, normalized: str
    ) -> tuple[list[tuple[int, float]], dict[str, float]]:
        """Return features() for a question folded once (fold) and normalised (strip of that)."""
        plain, words = self._prepare_words(folded)
        query = self._query(plain, words)
        tail = self._focus(folded)
        if tail is not None:
            # A long message introduces the asker before it asks: what only the introduction
            # says counts for less, so "I work in the city association's office" does not
            # outweigh the question at its end.
            focus, focus_words = self._prepare_words(fold(tail))
            asked = set(self._tokens(focus, focus_words, rescue=True))
            query = {t: w if t in asked else w * CONTEXT_WEIGHT for t, w in query.items()}
            words = focus_words
        primary = self._primary.score(query)
        secondary = self._secondary.score(query)
        ideal = self._primary.ideal(query) or 1.0
        ideal2 = self._secondary.ideal(query) or 1.0
        # Best single phrasing: one paraphrase holding all the query's words beats an entry
        # whose many paraphrases each hold one of them.
        # Dice: how exactly one phrasing and the question say the same thing (both ways).
        mass = self._phrasings.ideal(query)
        ideal3 = mass or 1.0
        fuzzy = self._fuzzy(plain, primary, secondary)
        phrased, dice, combined = self._phrasing_signals(
            query, mass, (primary, secondary, fuzzy), (ideal, ideal3, ideal2)
        )
        # The highest first, ties in entry order (as a stable sort of the negated scores).
        order = np.argsort(-combined, kind="stable")[:RANKED].tolist()
        ranked = [(index, float(combined[index])) for index in order]
        top, best = ranked[0]
        runner = ranked[1][1] if len(ranked) > 1 else 0.0
        coverage = self._coverage(words)
        # Independent signals that all put the same entry first are rarely wrong together;
        # one signal alone on top is how near-duplicates and stray keywords win.
        signals = (primary, phrased, secondary, fuzzy, dice)
        unexplained = self._unexplained(words, top)
        # argmax: the first entry with the highest value.
        agree = sum(int(np.argmax(v)) == top for v in signals) / 5
        fuzzy_top = float(fuzzy[top])
        features = {
            "primary": min(1.0, float(primary[top]) / ideal),
            "secondary": min(1.0, float(secondary[top]) / ideal2),
            "phrasing": min(1.0, float(phrased[top]) / ideal3),
            "fuzzy": fuzzy_top,
            "dice": float(dice[top]),
            "margin": best - runner,
            "coverage": coverage,
            "unknown": self._unknown(words),
            # Lexical evidence only counts where the question's words are ones the FAQ knows.
            "support": min(1.0, float(primary[top]) / ideal) * coverage,
            "sure_margin": (best - runner) * coverage,
            "agree": agree,
            "unexplained": unexplained,
            # A clear lead or a close wording only counts for the part of the question the
            # entry explains: one shared keyword must not carry a question about other things.
            "explained_margin": (best - runner) * (1 - unexplained),
            "explained_fuzzy": fuzzy_top * (1 - unexplained),
            # The margin relative to the best score: a lead of 0.3 means more at 0.8 than at 2.5.
            "lead": (best - runner) / best if best > 0 else 0.0,
            # A long message whose question part was found: the introduction's words dilute
            # every lexical share above, so these are right at lower shares (calibration learns
            # by how much).
            "focused": 0.0 if tail is None else 1.0,
            "out_of_scope": self._out_of_scope_asked(plain, folded),
            "not_asked": self._not_asked(folded, normalized, top),
        }
        return ranked, features

    def _phrasing_signals(
        self,
        query: dict[str, float],
        mass: float,
        signals: tuple[Scores, Scores, Scores],
        ideals: tuple[float, float, float],
    ) -> tuple[Scores, Scores, Scores]:
        """Return each entry's best phrasing score and Dice overlap, and the combined scores.

        signals are the primary, secondary and fuzzy scores, ideals primary's, the phrasings'
        and secondary's ideal.
        """
        primary, secondary, fuzzy = signals
        ideal, ideal3, ideal2 = ideals
        phrased, dice = self._phrasings.best_per_group(query, mass)
        # Each share clipped at CLIP, weighted and added up in the same order for every entry.
        combined = (
            W_PRIMARY * np.minimum(primary / ideal, CLIP)
            + W_PHRASING * np.minimum(phrased / ideal3, CLIP)
            + W_SECONDARY * np.minimum(secondary / ideal2, CLIP)
            + W_FUZZY * fuzzy
            + W_DICE * dice
        )
        return phrased, dice, combined

    def _focus(self, folded: str) -> str | None:
        """Return the question part of a long folded message, or None for a short one."""
        if len(folded) <= LONG_MESSAGE:
            return None
        return self._question(folded)

    def _question(self, folded: str) -> str | None:
        """Return the question part of a folded message, or None when that is all of it.

        That is its last clause, with the clauses before it while that is shorter than
        FOCUS_LENGTH characters.
        """
        parts = [p for p in _CLAUSE_BREAK.split(folded) if strip(p)]
        if len(parts) < 2:
            return None
        tail = parts.pop()
        while parts and len(strip(tail)) < FOCUS_LENGTH:
            tail = parts.pop() + tail
        if not parts:
            return None
        return tail

    def _fuzzy(self, plain: str, primary: Scores, secondary: Scores) -> Scores:
        """Return each entry's best character-level similarity to one of its questions.

        Similarities below FUZZY_FLOOR count as 0.0.
        """
        # partial_ratio finds the shorter string inside the longer one: right for a short
        # question inside a long phrasing, but a bare keyword phrasing ("举荐") must not count as
        # a perfect match for every question that mentions it, so phrasings shorter than the
        # question are compared whole (ratio).
        fuzzy = np.zeros(len(self.entries))
        if not plain:
            return fuzzy
        # Only the entries BM25 already likes are compared (all of them when it likes none):
        # comparing every question on every message would dominate the latency.
        # The FUZZY_CANDIDATES highest, ties in entry order.
        order = np.argsort(-(primary + secondary), kind="stable")[:FUZZY_CANDIDATES]
        positions = self._sharing(plain)
        if primary[order[0]] > 0:
            positions = positions[np.isin(self._choice_owner[positions], order)]
        size = len(plain)
        longer = self._choice_lengths[positions] >= size
        owner = self._choice_entry
        choices = self._choices
        # Each scorer runs once over all its phrasings, in C.
        for kept, scorer in (
            (positions[longer].tolist(), fuzz.partial_ratio),
            (positions[~longer].tolist(), fuzz.ratio),
        ):
            hits = process.extract(
                plain,
                [choices[p] for p in kept],
                scorer=scorer,
                limit=None,
                score_cutoff=FUZZY_FLOOR,
            )
            for _, score, at in hits:
                index = owner[kept[at]]
                if score / 100.0 > fuzzy[index]:
                    fuzzy[index] = score / 100.0
        return fuzzy

    def _sharing(self, plain: str) -> npt.NDArray[np.intp]:
        """Return the positions of the phrasings _fuzzy's scorers may find passing FUZZY_FLOOR.

        Either scorer's ratio is 200 * LCS / (the two lengths compared). c, what the question's
        characters that a phrasing holds count in the question, is at least that LCS. For a
        phrasing of m characters compared whole with the question of n, the ratio is at most
        200 * c / (n + m). partial_ratio compares the question with pieces of a longer phrasing,
        at most c characters of which it shares, so at most 200 * c / (n + c). A phrasing whose
        bound is below FUZZY_FLOOR cannot pass.
        """
        holders = self._char_holders
        # Each phrasing's c, counted by numpy: every position holding a character once per
        # time the question uses it.
        held = [
            positions
            for char, count in Counter(plain).items()
            if (positions := holders.get(char)) is not None
            for _ in range(count)
        ]
        if not held:
            return np.zeros(0, dtype=np.intp)
        common = np.bincount(np.concatenate(held), minlength=len(self._choices))
        size = len(plain)
        lengths = self._choice_lengths
        # The bounds in integers: 200 * c >= FUZZY_FLOOR * (n + m) for a shorter phrasing,
        # (200 - FUZZY_FLOOR) * c >= FUZZY_FLOOR * n for a longer one.
        passing = np.where(
            lengths >= size,
            (200 - FUZZY_FLOOR) * common >= FUZZY_FLOOR * size,
            200 * common >= FUZZY_FLOOR * (size + lengths),
        )
        return np.flatnonzero(passing)

    def _unknown(self, words: list[str]) -> float:
        """Return how many content words (up to 3, as a share of 3) no FAQ question uses."""
        asked = self._asked
        misses = sum(
            1
            for w in self._content_words(words)
            if len(w) > 1
            and WORD + w not in asked
            and w not in self._lexicon.in_scope
            and not self._asks_how_many(w)
        )
        return min(misses, 3) / 3

    def _asks_how_many(self, word: str) -> bool:
        """Return whether a word is a listed question prefix, alone or with one character."""
        return any(
            len(word) - len(prefix) in (0, 1) and word.startswith(prefix)
            for prefix in self._lexicon.question_prefixes
        )

    def _content_words(self, words: list[str]) -> list[str]:
        """Return the words with runs of stray single characters joined back into one word.

        jieba without HMM cuts a word its dictionary lacks (a snack break, an online course)
        into single characters; such a run is one unknown word, not several harmless particles.
        """
        joined: list[str] = []
        run = ""
        for word in words:
            if len(word) == 1 and not word.isascii() and WORD + word not in self._vocabulary:
                run += word
                continue
            if run:
                joined.append(run)
                run = ""
            joined.append(word)
        if run:
            joined.append(run)
        return joined

    def _unexplained(self, words: list[str], top: int) -> float:
        """Return the share of the question's content words the top entry never uses.

        An out-of-scope question that names a park-association word still asks about
        something else (a door number, a menu): that word is nowhere in the entry it matched.
        """
        content = [
            w
            for w in self._content_words(words)
            if len(w) > 1 and w not in self._lexicon.in_scope and not self._asks_how_many(w)
        ]
        if not content:
            return 0.0
        own = self._entry_words[top]
        return sum(WORD + w not in own for w in content) / len(content)

    def _coverage(self, words: list[str]) -> float:
        """Return the share of the question's content words the FAQ's vocabulary knows."""
        if not words:
            return 0.0
        known = 0.0
        total = 0.0
        for word in words:
            weight = min(len(word), 4)
            total += weight
            if WORD + word in self._vocabulary or word in self._lexicon.in_scope:
                known += weight
            elif len(word) > 1 and self._sounds_known(word):
                known += weight * 0.8
        return known / total

    def _sounds_known(self, word: str) -> bool:
        """Return whether every adjacent pair of the word sounds like a pair the FAQ uses."""
        vocabulary = self._vocabulary
        return all(
            any(PINYIN + x + "_" + y in vocabulary for x in syllables(a) for y in syllables(b))
            for a, b in itertools.pairwise(word)
        )

    def _out_of_scope_asked(self, plain: str, folded: str) -> float:
        """Return _out_of_scope of what the message asks: its last clauses (see _question)."""
        # "我是退休工程师，这个文件主要讲了什么" asks about the notice; "专利申请，科协管吗" still
        # asks about patents.
        if not self._out_of_scope(plain, folded):
            return 0.0
        asked = self._question(folded)
        if asked is None:
            return 1.0
        return self._out_of_scope(self._prepare(asked), fold(asked))

    def _out_of_scope(self, plain: str, folded: str) -> float:
        """Return 1.0 when the question names a topic the notice does not deal with."""
        pattern = self._lexicon.oos_pattern
        if pattern is not None:
            found = list(pattern.finditer(plain))
            if found:
                # A listed term counts inside a word or over whole words, not where it straddles
                # two words: 高企 (a certification) is not in 提高/企业, 加班 is in 加班费.
                bounds = set(
                    itertools.accumulate(map(len, cut(self._tokenizer, plain)), initial=0)
                )
                if any(not _straddles(m.start(), m.end(), bounds) for m in found):
                    return 1.0
        return 1.0 if any(w in self._lexicon.out_of_scope for w in latin_words(folded)) else 0.0

    def _not_asked(self, folded: str, plain: str, top: int) -> float:
        """Return 1.0 when the question asks for what the notice cannot give.

        That is a fact the best entry does not give (a name, a phone number, a list of
        companies, a day, an amount), or what a term means that the notice only names.
        folded is the question folded, plain that stripped (normalize(question)).
        """
        intents = self._intents
        if intents.fact_unanswered(plain, self.entries[top].id):
            return 1.0
        subject = intents.subject(plain, folded)
        if subject is None or intents.named_only is None:
            return 0.0
        rest = intents.named_only.sub(" ", strip(subject))
        if rest == strip(subject):
            return 0.0
        # "What does 科学发展观 in the 宗旨 mean" still asks about the 宗旨, which is covered.
        explained = intents.explained
        if explained is not None and any(
            explained.search(part) or explained.search(self._prepare(part))
            for part in rest.split()
        ):
            return 0.0
        return 1.0

    def match_all(
        self, text: str, match: Callable[[str], Match] | None = None
    ) -> list[tuple[str, Match]]:
        """Return each question of a message with its match, or the message whole with its own.

        A message asking two or three questions (split_questions) is answered per question when
        every one is answered, each by a different entry; otherwise it is one question. match
        is the function to match with (self.match unless told: the chat passes its cache).
        """
        match = match or self.match
        parts = split_questions(text)
        if len(parts) > 1:
            matches = [match(p) for p in parts]
            entries = {m.entry.id for m in matches if m.answered and m.entry is not None}
            if len(entries) == len(parts):
                return list(zip(parts, matches, strict=True))
        return [(text, match(text))]

    def match(self, text: str) -> Match:
        """Return the best entry for a question, or why there is none."""
        folded = fold(text)
        plain = strip(folded)
        if not plain:
            return Match(None, 0.0, False, [], "empty")
        small = self._smalltalk.classify(plain)
        if small is not None:
            return Match(None, 0.0, False, [], small)
        ranked, features = self._features(folded, plain)
        confidence = self.calibration.confidence(features)
        top = self.entries[ranked[0][0]]
        scale = confidence / ranked[0][1] if ranked[0][1] > 0 else 0.0
        alternatives = [
            (self.entries[i], round(score * scale, 4))
            for i, score in ranked[1 : MAX_ALTERNATIVES + 1]
            if score > 0
        ]
        # A topic the notice never deals with, or a fact or meaning it never gives, is a rule,
        # not evidence to weigh: no amount of park-association words makes the notice answer it.
        answered = (
            confidence >= self.calibration.threshold
            and not features["out_of_scope"]
            and not features["not_asked"]
        )
        return Match(
            entry=top if answered else None,
            confidence=round(confidence, 4),
            answered=answered,
            alternatives=alternatives
            if answered
            else [(top, round(confidence, 4)), *alternatives][:MAX_ALTERNATIVES],
            kind="answer" if answered else "not_covered",
        )


def split_questions(text: str) -> list[str]:
    """Return the questions of a message asking several, one per question mark or line.

    Up to MAX_QUESTIONS; a message with one (or more than MAX_QUESTIONS) gives [text].
    """
    parts = [p.strip() for p in _QUESTION_BREAK.split(text) if strip(p)]
    if not 2 <= len(parts) <= MAX_QUESTIONS:
        return [text]
    return parts


def _dictionary() -> str:
    """Return the jieba dictionary to cut with: content's pruned one, else jieba's own.

    content/faq/jieba_dict.txt is jieba's dictionary without its rarest words (see
    tests/benchmarks/prune_jieba_dict.py): the same answers for 39 MB less memory.
    """
    node = content_root() / "faq" / DICTIONARY
    return str(node) if node.is_file() else jieba.DEFAULT_DICT_NAME


def _straddles(start: int, end: int, bounds: set[int]) -> bool:
    """Return whether text[start:end] begins or ends inside a word and crosses a word break."""
    crosses = any(start < b < end for b in bounds)
    return crosses and not (start in bounds and end in bounds)


def _sound_keys(word: str) -> list[tuple[str, ...]]:
    """Return the toneless pinyin spellings of a word, one per combination of readings."""
    keys: list[tuple[str, ...]] = [()]
    for char in word:
        readings = syllables(char)
        if not readings:
            return []
        keys = [(*key, reading) for key in keys for reading in readings][:8]
    return keys


def _optional(reader: Any, name: str) -> Any:
    """Return what reader gives for content/faq/name, or None when the file is not there."""
    try:
        return reader("faq", name)
    except FileNotFoundError:
        return None


def _read_aliases(data: Any) -> dict[str, str]:
    """Return variant -> canonical from the alias formats content/faq uses."""
    table: dict[str, str] = {}
    if isinstance(data, dict) and isinstance(data.get("groups"), list):
        # content/faq/aliases.yaml: each group is [canonical, variant, variant, ...].
        for group in data["groups"]:
            words = _as_list(group)
            for variant in words[1:]:
                _add_alias(table, variant, words[0])
        return table
    if isinstance(data, dict):
        for canonical, variants in data.items():
            for variant in _as_list(variants):
                _add_alias(table, variant, str(canonical))
    elif isinstance(data, list):
        for item in data:
            if not isinstance(item, dict):
                continue
            canonical = item.get("canonical") or item.get("term") or item.get("to")
            variants = item.get("aliases") or item.get("variants") or item.get("from")
            if canonical:
                for variant in _as_list(variants):
                    _add_alias(table, variant, str(canonical))
    return table


def _term(word: str) -> str:
    """Return a listed term normalised, keeping the word breaks of English ones."""
    return _latin_key(word) if word.isascii() else normalize(word)


def _as_list(value: Any) -> list[str]:
    """Return a YAML scalar or list as a list of strings."""
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return [str(value)]


def _add_alias(table: dict[str, str], variant: str, canonical: str) -> None:
    """Record one variant in normalised form, unless it is the canonical term itself."""
    key = _latin_key(variant) if variant.isascii() else normalize(variant)
    value = normalize(canonical)
    if key and value and key != value:
        table[key] = value


__all__ = ["Calibration", "FaqEngine", "FaqEntry", "Match", "MatchKind", "Quote"]
