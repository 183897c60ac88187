"""Fit the FAQ confidence (logistic weights and threshold) on the tuning part of the dev set.

Run from the repository root: `python tests/benchmarks/calibrate_faq.py`; it rewrites
content/faq/calibration.yaml. The held-out part of the dev set is never used here.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from faq_eval import load_cases  # noqa: E402

from bot.faq.engine import FaqEngine  # noqa: E402

FEATURES = (
    "primary",
    "phrasing",
    "secondary",
    "fuzzy",
    "dice",
    "margin",
    "coverage",
    "support",
    "sure_margin",
    "out_of_scope",
)
# Wrongly answering an out-of-scope question costs more than one honest "not covered".
OOS_COST = 10.0


def main() -> int:
    """Fit, pick the threshold, write content/faq/calibration.yaml and print the result."""
    engine = FaqEngine.load()
    rows: list[tuple[list[float], int, bool]] = []
    for case in load_cases():
        if case.held_out:
            continue
        ranked, features = engine.features(case.question)
        right = case.expected is not None and engine.entries[ranked[0][0]].id == case.expected
        rows.append(([features[f] for f in FEATURES], int(right), case.expected is None))
    weights = [0.0] * len(FEATURES)
    bias = 0.0
    rate, l2 = 0.5, 0.001
    for _ in range(4000):
        grad_w = [0.0] * len(FEATURES)
        grad_b = 0.0
        for x, y, _oos in rows:
            z = bias + sum(w * v for w, v in zip(weights, x, strict=True))
            p = 1 / (1 + math.exp(-max(-30, min(30, z))))
            for i, v in enumerate(x):
                grad_w[i] += (p - y) * v
            grad_b += p - y
        weights = [
            w - rate * (g / len(rows) + l2 * w) for w, g in zip(weights, grad_w, strict=True)
        ]
        bias -= rate * grad_b / len(rows)

    def confidence(x: list[float]) -> float:
        z = bias + sum(w * v for w, v in zip(weights, x, strict=True))
        return 1 / (1 + math.exp(-max(-30, min(30, z))))

    best = (math.inf, 0.5)
    for step in range(5, 96):
        threshold = step / 100
        cost = 0.0
        for x, y, oos in rows:
            answered = confidence(x) >= threshold
            if answered and oos:
                cost += OOS_COST
            elif answered != bool(y):
                cost += 1.0
        best = min(best, (cost, threshold))
    data = {
        "weights": {f: round(w, 4) for f, w in zip(FEATURES, weights, strict=True)},
        "bias": round(bias, 4),
        "threshold": best[1],
    }
    header = (
        "# Written by tests/benchmarks/calibrate_faq.py from the tuning part of the dev set:\n"
        "# logistic weights over the engine's match features, and the answer threshold.\n"
    )
    path = ROOT / "content" / "faq" / "calibration.yaml"
    path.write_text(header + yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    print(yaml.safe_dump(data, sort_keys=False), f"cost {best[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
