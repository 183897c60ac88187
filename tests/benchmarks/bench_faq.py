"""Benchmark the FAQ engine: accuracy on the dev set, per-query latency, start-up, CLI batch.

Run from the repository root: `python tests/benchmarks/bench_faq.py` (`-v` lists development
misses, `-v5` ... `-v10` an honest blind set's).
Targets: top-1 >= 97%, out-of-scope wrongly answered <= 3%, p99 <= 1 ms, batch of 200 <= 3 s.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import faq_eval  # noqa: E402
from faq_eval import evaluate, load_blind, load_cases  # noqa: E402

from bot.faq.engine import FaqEngine  # noqa: E402

BATCH = 200


def main() -> int:
    """Measure and print every figure."""
    start = time.perf_counter()
    engine = FaqEngine.load()
    startup = time.perf_counter() - start
    cases = load_cases()
    for name, part in (
        ("tune", [c for c in cases if not c.held_out]),
        ("held-out", [c for c in cases if c.held_out]),
        ("all", cases),
    ):
        print(evaluate(engine, part).line(name))
    # Blind sets 1-4 were measured only until session 3, which tuned on their misses: they are
    # development sets now, like the fresh sets written for that work and session 4's. The
    # HONEST sets (blind 5-10) were never tuned on and give the honest figures: their misses are
    # listed only with -v5 ... -v10, once the work is done.
    for path in faq_eval.DEVELOPMENT:
        name = path.stem.removeprefix("faq_")
        report = evaluate(engine, load_blind(path))
        print(report.line(name))
        if "-v" in sys.argv:
            for question, expected, got in report.misses:
                print(f"  {name} miss: {question!r} expected {expected} got {got}")
    honest: list[faq_eval.Report] = []
    for path in faq_eval.HONEST:
        name = path.stem.removeprefix("faq_")
        report = evaluate(engine, load_blind(path))
        honest.append(report)
        print(report.line(name))
        if f"-v{name.removeprefix('blind')}" in sys.argv:
            for question, expected, got in report.misses:
                print(f"  {name} miss: {question!r} expected {expected} got {got}")
    print(faq_eval.pooled(honest).line("honest sets together"))
    questions = [c.question for c in cases]
    for question in questions:
        engine.match(question)  # warm caches
    timings: list[float] = []
    for _ in range(5):
        for question in questions:
            t0 = time.perf_counter()
            engine.match(question)
            timings.append(time.perf_counter() - t0)
    timings.sort()
    p50 = statistics.median(timings)
    p99 = timings[int(len(timings) * 0.99) - 1]
    print(f"latency per query (in process): p50 {p50 * 1000:.3f} ms, p99 {p99 * 1000:.3f} ms")
    print(f"engine start-up (in process): {startup:.3f} s")
    longest = "我想问一下园区科协秘书长的条件" + "啊" * 4081  # a full 4096-character message
    t0 = time.perf_counter()
    engine.match(longest)
    print(f"a 4096-character question: {(time.perf_counter() - t0) * 1000:.3f} ms")
    batch = (questions * (BATCH // len(questions) + 1))[:BATCH]
    t0 = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "bot.faq.commands", "ask", "--json", "-"],
        input="\n".join(batch) + "\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    wall = time.perf_counter() - t0
    lines = len(result.stdout.splitlines())
    print(f"JSON batch of {lines} questions via python -m bot.faq.commands: {wall:.3f} s wall")
    return 0


if __name__ == "__main__":
    sys.exit(main())
