"""The monotone map raw confidence -> measured probability that ships with the package.

`evaluation.calibration` fits it (pool-adjacent-violators isotonic regression on ground truth);
engines apply it to their raw confidences. It lives below both so there is one reader of the
shipped JSON.

A pure step function would give every raw confidence in a block the same number, so a blurred
copy whose recogniser scores drop a little would show exactly the same confidence as the sharp
one. The map therefore interpolates linearly between the blocks' mean raw confidences (`centers`)
and, below the lowest block seen in fitting, shrinks in proportion to the raw confidence: below
the range that was measured it never claims more than the lowest measured rate, scaled down.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class ConfidenceMap:
    """Blocks of raw confidence starting at `edges[i]`, right at rate `values[i]`, whose raw
    confidences average `centers[i]` (all ascending). Without centers: a plain step function."""

    edges: tuple[float, ...]
    values: tuple[float, ...]
    centers: tuple[float, ...] = ()

    def __call__(self, confidence: float) -> float:
        if not self.edges:
            return confidence
        if not self.centers:
            return self.values[max(bisect_right(self.edges, confidence) - 1, 0)]
        xs, ys = self.centers, self.values
        if confidence <= xs[0]:
            return ys[0] * max(0.0, confidence) / xs[0] if xs[0] > 0 else ys[0]
        if confidence >= xs[-1]:
            return ys[-1]
        i = bisect_right(xs, confidence)
        x0, x1, y0, y1 = xs[i - 1], xs[i], ys[i - 1], ys[i]
        return y0 + (y1 - y0) * (confidence - x0) / (x1 - x0) if x1 > x0 else y1

    def to_dict(self) -> dict[str, list[float]]:
        out = {"edges": [round(e, 6) for e in self.edges], "values": [round(v, 6) for v in self.values]}
        if self.centers:
            out["centers"] = [round(c, 6) for c in self.centers]
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Sequence[float]]) -> ConfidenceMap:
        edges, values = tuple(float(x) for x in data["edges"]), tuple(float(x) for x in data["values"])
        centers = tuple(float(x) for x in data.get("centers", ()))
        if len(edges) != len(values) or list(edges) != sorted(edges) or list(values) != sorted(values):
            raise ValueError("a calibration needs as many ascending edges as non-decreasing values")
        if centers and (len(centers) != len(edges) or list(centers) != sorted(centers)):
            raise ValueError("a calibration's centers must be ascending, one per edge")
        return cls(edges, values, centers)


def load_maps(path: object) -> dict[str, ConfidenceMap]:
    """field -> ConfidenceMap from a JSON file written by scripts/fit_calibration.py; {} if there is none."""
    import json
    from pathlib import Path

    file = Path(str(path))
    if not file.is_file():
        return {}
    data = json.loads(file.read_text(encoding="utf-8"))
    return {name: ConfidenceMap.from_dict(fit) for name, fit in data.get("fields", {}).items()}
