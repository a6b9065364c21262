"""The canonical field schema (ARCHITECTURE.md §2) and normalisation of raw values.

Normalised forms: dates DD/MM/YYYY (day first), money "12.30" (Decimal, 2 places), ABN 11 digits
without spaces, BSB NNN-NNN, booleans for the two statement flags. A value that cannot be
normalised is None: never a guess.
"""

from __future__ import annotations

from typing import Any

COMMON_FIELDS: tuple[str, ...] = (
    "supplier_name", "supplier_abn", "supplier_address", "date", "invoice_number",
    "buyer_name", "buyer_abn", "subtotal", "gst", "total", "payment_method",
    "tax_invoice_label", "gst_included_statement", "items",
)
FUEL_FIELDS: tuple[str, ...] = ("fuel_type", "litres", "price_per_litre")
BANK_FIELDS: tuple[str, ...] = (
    "bsb", "account_number", "account_holder", "statement_period", "opening_balance", "closing_balance",
)
ALL_FIELDS: tuple[str, ...] = COMMON_FIELDS + FUEL_FIELDS + BANK_FIELDS
MONEY_FIELDS: frozenset[str] = frozenset(
    {"subtotal", "gst", "total", "price_per_litre", "opening_balance", "closing_balance"}
)
BOOL_FIELDS: frozenset[str] = frozenset({"tax_invoice_label", "gst_included_statement"})
ABN_FIELDS: frozenset[str] = frozenset({"supplier_abn", "buyer_abn"})
ITEM_KEYS: tuple[str, ...] = ("description", "quantity", "unit_price", "amount")


def empty_fields() -> dict[str, Any]:
    """Every field present and null (items: empty list, flags: False until seen)."""
    fields: dict[str, Any] = dict.fromkeys(ALL_FIELDS)
    fields["items"] = []
    return fields
