"""The generator's document model: what is printed (and therefore what is true), the
compliance-relevant choices behind it, and the helpers that print money, ABNs, dates and addresses."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from llama_vision.samples.truth import ALL_FIELDS, expected_compliance
from llama_vision.samples.vocabulary import FUELS, MONTHS, SERVO_SHOP, STREETS, TOWNS

DOCUMENT_TYPES = {
    "cafe": "receipt", "supermarket": "receipt", "hardware": "receipt", "fuel": "fuel_receipt",
    "invoice": "tax_invoice", "invoice_large": "tax_invoice", "bank_statement": "bank_statement",
}
CENT = Decimal("0.01")


# =============================================================================================
# printing helpers
# =============================================================================================
def money(value: Decimal | int | float | str) -> Decimal:
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def quantity_text(value: Decimal) -> str:
    return str(int(value)) if value == value.to_integral_value() else f"{value.normalize():f}"


def fmt_amount(value: Decimal, *, dollar: bool = False, thousands: bool = True) -> str:
    text = f"{value:,.2f}" if thousands else f"{value:.2f}"
    return f"${text}" if dollar else text


def print_abn(abn: str, rng: random.Random) -> str:
    spaced = f"{abn[:2]} {abn[2:5]} {abn[5:8]} {abn[8:]}"
    return rng.choice([f"ABN {spaced}", f"ABN: {spaced}", f"A.B.N. {spaced}", f"ABN {abn}", f"ABN: {spaced}"])


def print_date(day: date, rng: random.Random) -> str:
    style = rng.randint(0, 4)
    if style == 0:
        return day.strftime("%d/%m/%Y")
    if style == 1:
        return day.strftime("%d-%m-%y")
    if style == 2:
        return f"{day.day:02d} {MONTHS[day.month - 1]} {day.year}"
    if style == 3:
        return day.strftime("%Y-%m-%d")
    return day.strftime("%d.%m.%Y")


def random_address(rng: random.Random) -> str:
    town, state, postcode = rng.choice(TOWNS)
    return f"{rng.randint(1, 480)} {rng.choice(STREETS)}, {town} {state} {postcode:04d}"


# =============================================================================================
# the document model: what is printed, and therefore what is true
# =============================================================================================
@dataclass
class Item:
    description: str
    quantity: str          # as printed and normalised ("2", "1.235")
    unit_price: str        # "5.00", "1.899"
    amount: Decimal
    gst_free: bool = False

    def truth(self) -> dict[str, Any]:
        return {"description": self.description, "quantity": self.quantity,
                "unit_price": self.unit_price, "amount": fmt_amount(self.amount, thousands=False)}


@dataclass
class Document:
    """Everything the generator decided to print. `lines` is the page content, top to bottom."""

    kind: str
    fields: dict[str, Any]
    items: list[Item]
    lines: list[tuple] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    style: dict[str, Any] = field(default_factory=dict)

    @property
    def document_type(self) -> str:
        return DOCUMENT_TYPES[self.kind]

    def truth(self, *, seed: int | None = None, index: int | None = None) -> dict[str, Any]:
        fields = {name: self.fields.get(name) for name in ALL_FIELDS}
        fields["items"] = [item.truth() for item in self.items]
        return {
            "document_type": self.document_type,
            "fields": fields,
            "compliance": expected_compliance(fields, self.document_type),
            "generator": {"kind": self.kind, "seed": seed, "index": index, "notes": list(self.notes)},
        }


# ---------------------------------------------------------------------------------------------
# choices shared by all tax-invoice-like kinds
# ---------------------------------------------------------------------------------------------
@dataclass
class Choices:
    """The compliance-relevant decisions; `make_document(..., **overrides)` can force any."""

    abn: str = "valid"            # valid | invalid | none
    title: bool = True            # the words "TAX INVOICE" printed
    gst_style: str = "amount"     # amount | statement | both | none
    subtotal: bool = False        # print a subtotal ex GST (only when every item is taxable)
    bad_arithmetic: bool = False
    date: bool = True
    buyer: str = "both"           # both | name | abn | none  (invoices)
    boundary: bool = False        # push the total onto $82.50 / $1,000.00 exactly


def choose(rng: random.Random, kind: str, overrides: dict[str, Any]) -> Choices:
    title_p = {"cafe": 0.5, "supermarket": 0.6, "hardware": 0.7, "fuel": 0.7, "invoice": 0.85, "invoice_large": 0.85}
    choices = Choices(
        abn=rng.choices(["valid", "invalid", "none"], weights=[80, 8, 12])[0],
        title=rng.random() < title_p.get(kind, 0.7),
        gst_style=rng.choices(["amount", "statement", "both", "none"], weights=[45, 15, 32, 8])[0],
        subtotal=rng.random() < (0.8 if kind.startswith("invoice") else 0.3),
        bad_arithmetic=rng.random() < 0.08,
        date=rng.random() < 0.96,
        buyer=rng.choices(["both", "name", "abn", "none"], weights=[65, 12, 8, 15])[0],
        boundary=rng.random() < 0.05,
    )
    for key, value in overrides.items():
        if not hasattr(choices, key):
            raise TypeError(f"unknown override {key!r}; allowed: {', '.join(Choices.__dataclass_fields__)}")
        setattr(choices, key, value)
    return choices


def fuel_purchase(doc: Document, rng: random.Random, *, shop_chance: float) -> tuple[str, Decimal, Decimal, str, Decimal]:
    """The fuel line (grade, litres, price per litre) and now and then a shop item, into `doc`;
    returns (fuel type, litres, cents per litre, price per litre, fuel amount) for the lines that print them.

    Item quantities are written without trailing zeros ("36.4"), the litres field as printed ("36.40")."""
    fuel_type, low, high = rng.choice(FUELS)
    cents = Decimal(str(round(rng.uniform(low, high), 1)))
    litres = Decimal(rng.randint(1500, 8000)) / 100
    amount = money(litres * cents / 100)
    per_litre = f"{cents / 100:.3f}"
    doc.items.append(Item(fuel_type, quantity_text(litres), per_litre, amount))
    if rng.random() < shop_chance:
        desc, price = rng.choice(SERVO_SHOP)
        doc.items.append(Item(desc, "1", price, Decimal(price)))
    doc.fields.update(fuel_type=fuel_type, litres=f"{litres:.2f}", price_per_litre=per_litre)
    return fuel_type, litres, cents, per_litre, amount
