"""Should a person look at this document before trusting it? (issue G, ARCHITECTURE.md section 9)

A document needs review when a compliance-relevant field (total, GST, ABN, date, supplier) is
below the review threshold, missing, or inconsistent with the arithmetic, or when the page text
contradicts itself (`llama_vision.conflicts`). Reasons are short sentences a person can act on;
`summary` turns a batch of them into one line ("12 of 200 need a look: 7 low-confidence totals,
5 missing ABNs").
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from llama_vision.result import FieldEvidence, Review

# the fields an ATO check depends on, with the word a reviewer knows them by (singular, plural)
COMPLIANCE_FIELDS: dict[str, tuple[str, str]] = {
    "total": ("total", "totals"),
    "gst": ("GST", "GST amounts"),
    "supplier_abn": ("ABN", "ABNs"),
    "date": ("date", "dates"),
    "supplier_name": ("supplier", "suppliers"),
}
# documents that carry no purchase total or GST: only their supplier and date matter
_NO_PURCHASE_TYPES = {"bank_statement"}
_TOLERANCE = Decimal("0.05")  # cash rounding


def _money(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)) if value not in (None, "") else None
    except InvalidOperation:
        return None


def arithmetic_problems(fields: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(field, reason) where the amounts contradict each other."""
    total, gst, subtotal = _money(fields.get("total")), _money(fields.get("gst")), _money(fields.get("subtotal"))
    out = []
    if total is not None and gst is not None and total > 0 and gst >= total:
        out.append(("gst", f"GST {gst} is not less than the total {total}"))
    elif total is not None and gst is not None and subtotal is not None and subtotal < total:
        # an ex-GST subtotal: it and the GST must make the total
        if abs(subtotal + gst - total) > _TOLERANCE:
            out.append(("total", f"total {total} is not subtotal {subtotal} + GST {gst}"))
    return out


def route(fields: Mapping[str, Any], evidence: Mapping[str, FieldEvidence], threshold: float, *,
          document_type: str | None = None, conflicts: Iterable[tuple[str, str]] = ()) -> Review:
    """The review verdict for one document. A field whose confidence is null (the engine measures
    nothing) is not called low; only a measured confidence below the threshold is."""
    flagged: list[str] = []
    reasons: list[str] = []

    def flag(name: str, reason: str) -> None:
        if name not in flagged:
            flagged.append(name)
        reasons.append(reason)

    for name, (label, _plural) in COMPLIANCE_FIELDS.items():
        if document_type in _NO_PURCHASE_TYPES and name in ("total", "gst"):
            continue
        if fields.get(name) in (None, "", []):
            flag(name, f"missing {label}")
            continue
        conf = evidence[name].confidence if name in evidence else None
        if conf is not None and conf < threshold:
            flag(name, f"low-confidence {label} ({conf:.2f} < {threshold:.2f})")
    for name, reason in arithmetic_problems(fields):
        flag(name, f"inconsistent {COMPLIANCE_FIELDS[name][0]}: {reason}")
    for name, reason in conflicts:
        flag(name, f"conflict: {reason}")
    return Review(needed=bool(reasons), fields=flagged, reasons=reasons)


def review_document(fields: Mapping[str, Any], evidence: Mapping[str, FieldEvidence], threshold: float, *,
                    document_type: str | None, compliance: dict[str, Any] | None, page_text: str | None) -> Review:
    """The pipeline's finish step: `route`, plus the page's conflicts when the engine's raw output
    is the printed page text (OCR); a document with conflicts gets compliance verdict "review"."""
    from llama_vision.conflicts import find_conflicts

    conflicts = find_conflicts(page_text, dict(fields)) if page_text else []
    if conflicts and compliance is not None:
        compliance["verdict"] = "review"
        compliance.setdefault("recommendations", []).append(
            "The page prints conflicting values (" + "; ".join(reason for _f, reason in conflicts)
            + "): check the original document before relying on it.")
    return route(fields, evidence, threshold, document_type=document_type, conflicts=conflicts)


def merge_evidence(per_page: Sequence[Mapping[str, Any]],
                   evidence: Sequence[Mapping[str, FieldEvidence]]) -> dict[str, FieldEvidence]:
    """Each field's evidence from the page its value came from: the first page that gives it (as
    the pipeline merges values), numbered by page."""
    merged: dict[str, FieldEvidence] = {}
    given: set[str] = set()  # fields a page already gave: later pages' evidence does not count
    for page, (fields, found) in enumerate(zip(per_page, evidence, strict=True)):
        for key, value in fields.items():
            if key in given or value in (None, "", False, []):
                continue
            given.add(key)
            if key in found:
                merged[key] = found[key].model_copy(update={"page": page})
    return merged


_KIND_RE = re.compile(r"^(missing|low-confidence|inconsistent|conflict)\b\s*([^(:]*)")


def summary(reviews: Sequence[Review]) -> str:
    """"12 of 200 need a look: 7 low-confidence totals, 5 missing ABNs" (most common first)."""
    needed = [r for r in reviews if r.needed]
    if not needed:
        return f"0 of {len(reviews)} need a look."
    plurals = {label: plural for label, plural in COMPLIANCE_FIELDS.values()}
    counts: Counter[str] = Counter()
    for review in needed:
        seen = set()
        for reason in review.reasons:
            m = _KIND_RE.match(reason)
            if not m:
                continue
            kind, label = m.group(1), m.group(2).strip()
            key = "conflicts" if kind == "conflict" else f"{kind} {plurals.get(label, label)}"
            if key not in seen:  # one document counts once per kind of problem
                seen.add(key)
                counts[key] += 1
    parts = [f"{n} {key}" for key, n in counts.most_common()]
    return f"{len(needed)} of {len(reviews)} need a look: " + ", ".join(parts)
