"""What the compliance rules read: the ATO's thresholds and one document's normalised facts."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from llama_vision.plausibility import name_problem
from llama_vision.fields import (
    normalise_abn,
    normalise_bool,
    normalise_date,
    normalise_items,
    normalise_money,
    normalise_text,
)

TAX_INVOICE_THRESHOLD = Decimal("82.50")
BUYER_IDENTITY_THRESHOLD = Decimal("1000.00")
TOLERANCE = Decimal("0.02")
GST_RATE = Decimal("0.10")
#: PAYG "no ABN" withholding: the top rate of tax, 47% since 1 July 2017 (it was higher in earlier years).
NO_ABN_WITHHOLDING_RATE = Decimal("0.47")
#: No "no ABN" withholding applies to a payment of this much or less, excluding GST.
WITHHOLDING_EXEMPT_UP_TO = Decimal("75.00")
VERDICTS: tuple[str, ...] = ("compliant", "non_compliant", "not_required", "review")


def money(value: Any) -> Decimal | None:
    text = normalise_money(value)
    if text is None:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def dollars(amount: Decimal) -> str:
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"


@dataclass(frozen=True)
class Facts:
    """What the rules read from one document; odd values are read as absent."""

    document_type: str
    total: Decimal | None
    subtotal: Decimal | None
    gst: Decimal | None
    supplier: str | None
    abn: str | None
    date_present: bool
    date: str | None
    items: list[dict[str, Any]]
    label: bool
    statement: bool
    buyer: str | None

    @property
    def is_bank(self) -> bool:
        return self.document_type == "bank_statement"

    @property
    def required(self) -> bool:
        """A tax invoice is needed to claim the GST credit (total over $82.50)."""
        return self.total is not None and self.total > TAX_INVOICE_THRESHOLD

    @property
    def who(self) -> str:
        return self.supplier or "the supplier"


def _name(value: Any) -> str | None:
    """A supplier or buyer name, or None when it does not look like one (plausibility)."""
    text = normalise_text(value)
    return text if text and name_problem(text) is None else None


def read_facts(fields: dict[str, Any] | None, document_type: str | None) -> Facts:
    fields = fields if isinstance(fields, dict) else {}
    date_present = fields.get("date") not in (None, "")
    return Facts(
        document_type=document_type or "other",
        total=money(fields.get("total")),
        subtotal=money(fields.get("subtotal")),
        gst=money(fields.get("gst")),
        supplier=_name(fields.get("supplier_name")),
        abn=normalise_abn(fields.get("supplier_abn")),
        date_present=date_present,
        date=normalise_date(fields.get("date")) if date_present else None,
        items=normalise_items(fields.get("items"))[0],
        label=normalise_bool(fields.get("tax_invoice_label")) is True,
        statement=normalise_bool(fields.get("gst_included_statement")) is True,
        buyer=_name(fields.get("buyer_name")) or normalise_abn(fields.get("buyer_abn")),
    )


@dataclass(frozen=True)
class Outcome:
    """One rule's finding: True/False, or None when the rule has nothing to check."""

    ok: bool | None
    reason: str
    notes: tuple[str, ...] = ()

    @property
    def status(self) -> str:
        return "not_applicable" if self.ok is None else "pass" if self.ok else "fail"
