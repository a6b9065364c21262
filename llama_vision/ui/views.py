"""Presentation only: a Result (as its dict) -> tables and HTML a person reads.

Pure functions with no Gradio import, so they are unit-tested without a browser. Nothing here
decides a field or a verdict; it only shows what the pipeline decided.
"""

from __future__ import annotations

import html
from decimal import Decimal, InvalidOperation
from typing import Any

import pandas as pd

from llama_vision import schema

VERDICT_STYLE: dict[str, tuple[str, str]] = {
    # verdict -> (label a person reads, css class that colours the badge)
    "compliant": ("Compliant", "lv-ok"),
    "non_compliant": ("Not compliant", "lv-bad"),
    "not_required": ("Tax invoice not required", "lv-neutral"),
    "review": ("Needs review", "lv-warn"),
    "error": ("Could not read", "lv-bad"),
}
STATUS_STYLE: dict[str, tuple[str, str]] = {
    "pass": ("✔ pass", "lv-ok"),
    "fail": ("✘ fail", "lv-bad"),
    "not_applicable": ("– not applicable", "lv-neutral"),
}
#: Labels of the compliance checks (the tax-invoice elements are labelled once, in the schema).
CHECK_LABELS: dict[str, str] = {
    "total": "Total read", "tax_invoice_rules": "Tax invoice rules", **schema.ELEMENT_LABELS,
    "abn_valid": "ABN checksum", "gst_consistent": "GST arithmetic", "totals_consistent": "Lines add up",
    "date_valid": "Date is real", "abn_active": "ABN active (ABN Lookup)",
    "gst_registered_on_date": "GST-registered on the invoice date", "supplier_name_matches_abn": "Name matches the ABN",
    "currency": "Australian dollars", "duplicate": "Not a duplicate",
}
MISSING = "—"


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def field_label(name: str) -> str:
    return schema.label_of(name)


def document_label(document_type: str | None) -> str:
    return schema.DOCUMENT_LABELS.get(document_type or "", document_type or "unknown")


def show_value(name: str, value: Any) -> str:
    """One cell: money with $, ABN spaced like the ATO prints it, booleans as yes/no."""
    if value is None or value == "":
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    kind = schema.kind_of(name)
    if kind == "abn" and isinstance(value, str) and len(value) == 11 and value.isdigit():
        return f"{value[:2]} {value[2:5]} {value[5:8]} {value[8:]}"
    if kind == "money":
        return money_text(value)
    return str(value)


def money_text(value: Any) -> str:
    """"2288" -> "$2,288.00": grouped thousands and two places, so a long amount reads at a glance
    and a narrow cell has no reason to break it; a value that is not a number is shown as it is."""
    try:
        amount = Decimal(str(value).replace(",", "").replace("$", "").strip())
    except InvalidOperation:
        return f"${value}"
    if not amount.is_finite():
        return f"${value}"
    places = max(2, -amount.as_tuple().exponent)  # type: ignore[operator] - finite: an int exponent
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.{places}f}"


def fields_for(document_type: str | None) -> tuple[str, ...]:
    """The fields worth a row for this kind of document (items get their own table)."""
    return tuple(f for f in schema.fields_for(document_type) if f != "items")


def field_names(result: dict[str, Any]) -> list[str]:
    """The field rows to show: those the document type asks for, plus any other field holding a value."""
    fields = result.get("fields") or {}
    names = list(fields_for(result.get("document_type")))
    names += [n for n in schema.ALL_FIELDS if n not in names and n != "items" and fields.get(n) not in (None, "")]
    return names


def fields_frame(result: dict[str, Any]) -> pd.DataFrame:
    """One row per field of `field_names`."""
    fields = result.get("fields") or {}
    rows = [[field_label(n), show_value(n, fields.get(n))] for n in field_names(result)]
    return pd.DataFrame(rows, columns=["Field", "Value"])


def items_frame(result: dict[str, Any]) -> pd.DataFrame:
    items = (result.get("fields") or {}).get("items") or []
    rows = [[show_value(k, (item or {}).get(k)) for k in schema.ITEM_KEYS] for item in items if isinstance(item, dict)]
    return pd.DataFrame(rows, columns=[k.label for k in schema.ITEM_FIELDS])


def checks_of(compliance: dict[str, Any]) -> list[dict[str, str]]:
    """The compliance checks as {name, status, reason}: the pipeline's own list when it gives one,
    otherwise the §2 booleans shown as they are (true=pass, false=fail, null=not applicable)."""
    checks = compliance.get("checks")
    if isinstance(checks, list) and checks:
        return [
            {"name": str(c.get("name", "")), "status": str(c.get("status", "not_applicable")),
             "reason": str(c.get("reason") or "")}
            for c in checks if isinstance(c, dict)
        ]
    derived = []
    for key in ("abn_valid", "gst_consistent", "totals_consistent", "date_valid"):
        value = compliance.get(key)
        status = "not_applicable" if value is None else ("pass" if value else "fail")
        derived.append({"name": key, "status": status, "reason": ""})
    return derived


def check_label(name: str) -> str:
    if name in CHECK_LABELS:
        return CHECK_LABELS[name]
    text = name.replace("_", " ")
    return text[:1].upper() + text[1:]


def verdict_badge(verdict: str | None) -> str:
    label, css = VERDICT_STYLE.get(verdict or "", (verdict or "no verdict", "lv-neutral"))
    return f'<span class="lv-badge {css}" data-verdict="{esc(verdict or "")}">{esc(label)}</span>'


def tax_invoice_need(compliance: dict[str, Any]) -> str:
    """One sentence: is a tax invoice needed to claim the GST on this purchase?"""
    required = compliance.get("tax_invoice_required")
    if required:
        return "A tax invoice is required to claim GST (over $82.50)."
    if required is False:
        return "No tax invoice is needed for a GST claim at or under $82.50."
    return "Tax invoice needed: unknown: the total could not be read."


def score_html(compliance: dict[str, Any]) -> str:
    score = compliance.get("score")
    return f'<span class="lv-score">Score <b>{esc(score)}</b>/100</span>' if score is not None else ""


def checks_html(result: dict[str, Any]) -> str:
    """Each compliance check with its reason, then missing elements and recommendations (no
    verdict badge: the Single tab shows that at the top of the page)."""
    compliance = result.get("compliance") or {}
    if result.get("status") == "error" or not compliance:
        return ""
    rows = []
    for check in checks_of(compliance):
        label, css = STATUS_STYLE.get(check["status"], (check["status"], "lv-neutral"))
        name = check_label(check["name"])
        rows.append(f'<tr><td>{esc(name)}</td><td><span class="lv-chip {css}">{esc(label)}</span></td>'
                    f'<td>{esc(check["reason"])}</td></tr>')
    missing = compliance.get("missing_elements") or []
    missing_html = ""
    if missing:
        missing_html = "<h4>Missing from the tax invoice</h4><ul>" + "".join(
            f"<li>{esc(schema.ELEMENT_MISSING.get(m, m))}</li>" for m in missing) + "</ul>"
    recs = compliance.get("recommendations") or []
    recs_html = ""
    if recs:
        recs_html = "<h4>Recommendations</h4><ul>" + "".join(f"<li>{esc(r)}</li>" for r in recs) + "</ul>"
    return ('<table class="lv-checks"><thead><tr><th>Check</th><th>Result</th><th>Why</th></tr></thead><tbody>'
            + "".join(rows) + "</tbody></table>" + missing_html + recs_html)


def compliance_html(result: dict[str, Any]) -> str:
    """Verdict badge, score, each check with its reason, missing elements, recommendations."""
    if result.get("status") == "error":
        return (f'<div class="lv-panel">{verdict_badge("error")}'
                f'<p class="lv-error">{esc(result.get("error") or "unknown error")}</p></div>')
    compliance = result.get("compliance") or {}
    if not compliance:
        return '<div class="lv-panel lv-muted">No compliance check yet.</div>'
    return (
        f'<div class="lv-panel"><div class="lv-verdict-row">{verdict_badge(compliance.get("verdict"))}'
        f"{score_html(compliance)}</div><p class=\"lv-muted\">{esc(tax_invoice_need(compliance))}</p>"
        + checks_html(result) + "</div>"
    )


def summary_markdown(result: dict[str, Any]) -> str:
    """Document type, file and timing line above the tables."""
    if result.get("status") == "error":
        return f"### Could not read {esc(result.get('file', 'the document'))}\n\n{result.get('error', '')}"
    parts = [f"### {document_label(result.get('document_type'))}"]
    supplier = (result.get("fields") or {}).get("supplier_name")
    if supplier:
        parts[0] += f" from {supplier}"
    timings = result.get("timings") or {}
    usage = result.get("usage") or {}
    facts = [f"engine **{result.get('engine')}**", f"prompt **{result.get('prompt')}**"]
    if timings.get("total") is not None:
        facts.append(f"{timings['total']:.2f} s")
    if usage.get("generated_tokens"):
        facts.append(f"{usage['generated_tokens']} tokens")
    if usage.get("tokens_per_second"):
        facts.append(f"{usage['tokens_per_second']:.1f} tokens/s")
    parts.append(" · ".join(facts))
    for warning in result.get("warnings") or []:
        parts.append(f"> ⚠ {warning}")
    return "\n\n".join(parts)


def fields_found(result: dict[str, Any]) -> int:
    """How many fields hold a value (items count as one when any were read)."""
    found = 0
    for name, value in (result.get("fields") or {}).items():
        if name == "items":
            found += bool(value)
        elif value not in (None, "", False):
            found += 1
    return found
