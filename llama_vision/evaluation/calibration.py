"""Is a field's confidence worth what it says? Reliability tables, ECE, isotonic fits (pure Python).

`evaluate` pairs each field's confidence with whether the field was right; this module measures
that (a reliability table of confidence buckets -> accuracy, the expected calibration error) and
fits the monotone map raw confidence -> measured probability (pool-adjacent-violators isotonic
regression) whose small parameters ship with the package. `accepted` gives the accuracy and
coverage of the fields a review threshold lets through.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from llama_vision.confidence_map import ConfidenceMap, load_maps

Pair = tuple[float, bool]  # (confidence, was the field right)


def reliability_table(pairs: Sequence[Pair], buckets: int = 10) -> list[dict[str, Any]]:
    """Equal-width confidence buckets with their count, mean confidence and accuracy (empty ones left out)."""
    rows: list[list[Pair]] = [[] for _ in range(buckets)]
    for conf, right in pairs:
        rows[min(int(conf * buckets), buckets - 1)].append((conf, right))
    out = []
    for i, members in enumerate(rows):
        if members:
            out.append({"low": round(i / buckets, 4), "high": round((i + 1) / buckets, 4), "count": len(members),
                        "confidence": sum(c for c, _ in members) / len(members),
                        "accuracy": sum(r for _, r in members) / len(members)})
    return out


def expected_calibration_error(pairs: Sequence[Pair], buckets: int = 10) -> float | None:
    """Sum over buckets of (share of fields) x |accuracy - mean confidence|; None with no fields."""
    if not pairs:
        return None
    return sum(row["count"] / len(pairs) * abs(row["accuracy"] - row["confidence"])
               for row in reliability_table(pairs, buckets))


def accepted(pairs: Sequence[Pair], threshold: float) -> dict[str, Any]:
    """Accuracy and coverage of the fields at or above the threshold (the ones not sent to review)."""
    kept = [right for conf, right in pairs if conf >= threshold]
    return {"threshold": threshold, "fields": len(pairs), "accepted": len(kept),
            "coverage": len(kept) / len(pairs) if pairs else None,
            "accuracy": sum(kept) / len(kept) if kept else None}


def fit_isotonic(pairs: Sequence[Pair], *, prior: float = 1.0) -> ConfidenceMap:
    """Pool-adjacent-violators on (confidence, right), with `prior` pseudo-counts pulling each
    block towards the overall accuracy so a tiny block at the top never claims 1.0 outright."""
    if not pairs:
        return ConfidenceMap((), ())
    base = sum(r for _, r in pairs) / len(pairs)
    # blocks of [first confidence, sum right, count], merged while a block is no better than the one before
    # blocks of [first confidence, sum right, count, sum confidence], merged while a block is no
    # better than the one before
    blocks: list[list[float]] = []
    for conf, right in sorted(pairs):
        if blocks and blocks[-1][0] == conf:  # equal confidences are one point, not a step
            blocks[-1][1] += right
            blocks[-1][2] += 1
            blocks[-1][3] += conf
        else:
            blocks.append([conf, float(right), 1.0, conf])
        while len(blocks) > 1 and _rate(blocks[-2], base, prior) >= _rate(blocks[-1], base, prior):
            last = blocks.pop()
            for k in (1, 2, 3):
                blocks[-1][k] += last[k]
    return ConfidenceMap(tuple(b[0] for b in blocks), tuple(_rate(b, base, prior) for b in blocks),
                         tuple(b[3] / b[2] for b in blocks))


def _rate(block: list[float], base: float, prior: float) -> float:
    return (block[1] + prior * base) / (block[2] + prior)


COMPLIANCE_FIELDS = ("total", "gst", "supplier_abn", "date", "supplier_name")


def calibration_summary(pairs_by_field: dict[str, list[Pair]], threshold: float) -> dict[str, Any]:
    """The report's `calibration` block: per field and for the compliance fields together, the
    reliability table, ECE and accepted accuracy/coverage at the review threshold."""

    def block(pairs: list[Pair]) -> dict[str, Any]:
        ece = expected_calibration_error(pairs)
        return {"fields": len(pairs), "ece": round(ece, 4) if ece is not None else None,
                "accepted": accepted(pairs, threshold), "reliability": reliability_table(pairs)}

    compliance = [p for name in COMPLIANCE_FIELDS for p in pairs_by_field.get(name, [])]
    return {"threshold": threshold, "compliance_fields": block(compliance),
            "fields": {name: block(pairs) for name, pairs in sorted(pairs_by_field.items())}}


def load_calibration(path: Any) -> dict[str, ConfidenceMap]:
    """field -> ConfidenceMap from a JSON file written by scripts/fit_calibration.py; {} if there is none."""
    return load_maps(path)
