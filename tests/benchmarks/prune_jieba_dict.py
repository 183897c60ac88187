"""Write content/faq/jieba_dict.txt: jieba's dictionary without its rarest words.

Run from the repository root: `python -m tests.benchmarks.prune_jieba_dict`.

jieba's full dictionary (349,046 words) costs a bot process about 62 MB as a Python dict of
words and prefixes. Words seen fewer than MIN_FREQ times in jieba's corpus are mostly long rare
compounds, names and idioms; without them such text is cut into shorter known words, which the
FAQ matcher treats the same (as words the FAQ does not use). Measured on the dev set with
bench_faq: same top-1 / out-of-scope figures, 39 MB less. The FAQ's own terms come from
userdict.txt and the alias tables, which are added on top at start-up.
"""

from __future__ import annotations

from pathlib import Path

from jieba import get_module_res

MIN_FREQ = 5
TARGET = Path(__file__).resolve().parents[2] / "content" / "faq" / "jieba_dict.txt"


def pruned() -> bytes:
    """Return jieba's dict.txt lines whose frequency is at least MIN_FREQ, in its order."""
    with get_module_res("dict.txt") as source:
        lines = source.read().splitlines()
    return b"".join(line + b"\n" for line in lines if line and int(line.split()[1]) >= MIN_FREQ)


def main() -> None:
    """Write the pruned dictionary and say how many words it kept."""
    data = pruned()
    TARGET.write_bytes(data)
    words = data.count(b"\n")
    print(f"{TARGET}: {words} words (frequency >= {MIN_FREQ})")


if __name__ == "__main__":
    main()
