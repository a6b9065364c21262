"""A seeded generator of synthetic Australian documents with exact ground truth.

Kinds: café, supermarket and hardware receipts, fuel receipts, tax invoices under and over
$1,000, and (simple) bank statements. Each document varies the things that matter for the ATO
rules: ABN present, absent or with a bad checksum; "TAX INVOICE" title or not; GST shown as an
amount, as a "total includes GST" statement, both or neither; buyer identity on invoices of
$1,000 or more (sometimes deliberately missing); now and then bad GST arithmetic. Pages vary in
font, layout, paper and background, small rotation, mild blur, JPEG artefacts and size (some as
large as a phone photo), and stay legible for OCR.

For each document the generator writes IMAGE (.jpg or .png) and a same-named .json:

    {"document_type": ..., "fields": {every field of fields.ALL_FIELDS, normalised, null when
     not printed}, "compliance": {abn_valid, gst_consistent, totals_consistent, date_valid,
     tax_invoice_required, missing_elements, verdict}, "generator": {kind, seed, index, notes}}

The expected compliance is computed from what was *printed*, by code independent of
`llama_vision.compliance` (see `truth.py` for the rules it follows).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from PIL import Image

from llama_vision.samples.render import choose_style, render_document, save_as_pdf
from llama_vision.samples.truth import (
    ALL_FIELDS,
    BUYER_THRESHOLD,
    TOLERANCE,
    abn_checksum_ok,
    expected_compliance,
    invalid_abn,
    valid_abn,
)
from llama_vision.samples.vocabulary import (
    BANKS, BUYERS, CAFE_MENU, CAFES, FUELS, GROCERIES, HARDWARE, HARDWARE_STORES, MONTHS, PAYMENTS, PEOPLE,
    SERVO_SHOP, SERVOS, STREETS, SUPERMARKETS, SUPPLIERS, TOWNS,
)

__all__ = [
    "DEFAULT_KINDS",
    "KINDS",
    "abn_checksum_ok",
    "expected_compliance",
    "generate_documents",
    "make_document",
    "render_document",
    "save_as_pdf",
    "write_bundled_samples",
]

KINDS: tuple[str, ...] = ("cafe", "supermarket", "hardware", "fuel", "invoice", "invoice_large", "bank_statement")
#: The kinds a mixed corpus draws from when `kinds` is None (bank statements are opt-in).
DEFAULT_KINDS: tuple[str, ...] = ("cafe", "supermarket", "hardware", "fuel", "invoice", "invoice_large")
DOCUMENT_TYPES = {
    "cafe": "receipt", "supermarket": "receipt", "hardware": "receipt", "fuel": "fuel_receipt",
    "invoice": "tax_invoice", "invoice_large": "tax_invoice", "bank_statement": "bank_statement",
}
CENT = Decimal("0.01")


# =============================================================================================
# printing helpers
# =============================================================================================
def _money(value: Decimal | int | float | str) -> Decimal:
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def _quantity(value: Decimal) -> str:
    return str(int(value)) if value == value.to_integral_value() else f"{value.normalize():f}"


def _fmt(value: Decimal, *, dollar: bool = False, thousands: bool = True) -> str:
    text = f"{value:,.2f}" if thousands else f"{value:.2f}"
    return f"${text}" if dollar else text


def _print_abn(abn: str, rng: random.Random) -> str:
    spaced = f"{abn[:2]} {abn[2:5]} {abn[5:8]} {abn[8:]}"
    return rng.choice([f"ABN {spaced}", f"ABN: {spaced}", f"A.B.N. {spaced}", f"ABN {abn}", f"ABN: {spaced}"])


def _print_date(day: date, rng: random.Random) -> str:
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


def _address(rng: random.Random) -> str:
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
                "unit_price": self.unit_price, "amount": _fmt(self.amount, thousands=False)}


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


def _choose(rng: random.Random, kind: str, overrides: dict[str, Any]) -> Choices:
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


def _supplier_block(doc: Document, rng: random.Random, choices: Choices, name: str) -> None:
    """Name, address, ABN (per choices) at the top of the page, recorded in the truth."""
    address = _address(rng)
    doc.fields["supplier_name"] = name
    doc.fields["supplier_address"] = address
    doc.lines.append(("center", name, "title"))
    if rng.random() < 0.5:
        street, rest = address.split(", ", 1)
        doc.lines += [("center", street, "small"), ("center", rest, "small")]
    else:
        doc.lines.append(("center", address, "small"))
    if choices.abn != "none":
        abn = valid_abn(rng) if choices.abn == "valid" else invalid_abn(rng)
        doc.fields["supplier_abn"] = abn
        doc.lines.append(("center", _print_abn(abn, rng), "small"))
        if choices.abn == "invalid":
            doc.notes.append("ABN printed with a bad checksum")
    else:
        doc.notes.append("no ABN printed")


def _title(doc: Document, rng: random.Random, choices: Choices, fallback: str) -> None:
    doc.fields["tax_invoice_label"] = choices.title
    if choices.title:
        titles = ["TAX INVOICE", "Tax Invoice"] + ([] if doc.kind.startswith("invoice") else ["TAX INVOICE / RECEIPT"])
        doc.lines += [("gap", 8), ("center", rng.choice(titles), "heading")]
    else:
        doc.lines += [("gap", 8), ("center", fallback, "heading")]
        doc.notes.append("no 'tax invoice' wording")


def _date_line(doc: Document, rng: random.Random, choices: Choices, day: date, label: str = "Date") -> None:
    if choices.date:
        doc.fields["date"] = day.strftime("%d/%m/%Y")
        printed = _print_date(day, rng)
        if rng.random() < 0.5 and not label.startswith("Invoice"):
            printed += f" {rng.randint(7, 20):02d}:{rng.randint(0, 59):02d}"
        doc.lines.append(("lr", f"{label}:", printed))
    else:
        doc.notes.append("no date printed")


def _inclusive_totals(doc: Document, rng: random.Random, choices: Choices) -> None:
    """GST-inclusive shelf prices (receipts): total = sum of lines, GST = taxable/11."""
    total = sum((item.amount for item in doc.items), Decimal(0))
    taxable = sum((item.amount for item in doc.items if not item.gst_free), Decimal(0))
    all_taxable = all(not item.gst_free for item in doc.items)
    gst = _money(taxable / 11)
    style = choices.gst_style
    if style == "statement" and not all_taxable:
        style = "both"  # a bare statement is only right when GST is exactly 1/11 of the total
    if choices.bad_arithmetic and style in ("statement", "none"):
        style = "amount"
    show_subtotal = choices.subtotal and all_taxable and style in ("amount", "both")

    printed_total, printed_gst = total, gst
    if choices.bad_arithmetic:
        if show_subtotal and rng.random() < 0.5:
            printed_total = total + _money(rng.uniform(1, 9))
            doc.notes.append("subtotal + GST does not equal the total")
        else:
            printed_gst = _money(total / 10) if not show_subtotal else gst + _money(rng.uniform(0.6, 4))
            if printed_gst <= total / 11 + TOLERANCE + CENT and not show_subtotal:
                printed_gst = _money(total / 11) + _money(rng.uniform(0.6, 3))
            doc.notes.append("GST amount does not match the prices")
    subtotal = total - gst

    doc.lines.append(("rule",))
    if show_subtotal:
        doc.lines.append(("lr", "Subtotal (ex GST)", _fmt(subtotal, dollar=True)))
        doc.fields["subtotal"] = _fmt(subtotal, thousands=False)
        if style == "amount":
            doc.lines.append(("lr", "GST", _fmt(printed_gst, dollar=True)))
    elif style == "amount":
        # Labels that do not themselves say "total includes GST" (that is the statement flag).
        doc.lines.append(("lr", rng.choice(["GST", "GST Amount", "GST 10%"]), _fmt(printed_gst, dollar=True)))
    doc.lines.append(("lr", rng.choice(["TOTAL", "Total", "TOTAL AUD"]), _fmt(printed_total, dollar=True), "bold"))
    if style == "both":
        doc.lines.append(("left", rng.choice(["Total includes GST of", "Total includes GST"])
                          + " " + _fmt(printed_gst, dollar=True), "small"))
    elif style == "statement":
        doc.lines.append(("left", rng.choice(["Total includes GST", "Price includes GST", "All prices include GST"]),
                          "small"))
    if style == "none":
        doc.notes.append("no GST shown")
    if any(item.gst_free for item in doc.items):
        doc.lines.append(("left", "* denotes GST-free item", "small"))

    doc.fields["total"] = _fmt(printed_total, thousands=False)
    doc.fields["gst"] = _fmt(printed_gst, thousands=False) if style in ("amount", "both") else None
    doc.fields["gst_included_statement"] = style in ("both", "statement")


def _payment(doc: Document, rng: random.Random) -> None:
    printed = rng.choice(PAYMENTS)
    doc.fields["payment_method"] = printed
    doc.lines.append(("lr", rng.choice(["Paid by", "Payment", "Tender"]), printed))


def _receipt_number(doc: Document, rng: random.Random) -> None:
    if rng.random() < 0.6:
        number = f"{rng.randint(1000, 999999):06d}"
        doc.fields["invoice_number"] = number
        doc.lines.append(("lr", rng.choice(["Receipt No:", "Invoice No:", "Receipt #"]), number))


def _random_day(rng: random.Random) -> date:
    return date(2023, 1, 1) + timedelta(days=rng.randint(0, 3 * 365 - 1))


def _item_lines(doc: Document, rng: random.Random, layout: str) -> None:
    for item in doc.items:
        mark = " *" if item.gst_free else ""
        if layout == "two_line":
            doc.lines.append(("lr", item.description, _fmt(item.amount) + mark))
            unit = item.unit_price
            if "." in item.quantity and item.unit_price:  # weighed goods
                doc.lines.append(("left", f"   {item.quantity} kg @ ${unit}/kg", "small"))
            else:
                doc.lines.append(("left", f"   {item.quantity} x ${unit}", "small"))
        else:
            doc.lines.append(("lr", f"{item.quantity} x {item.description} @ {item.unit_price}",
                              _fmt(item.amount) + mark))


# ---------------------------------------------------------------------------------------------
# kinds
# ---------------------------------------------------------------------------------------------
def _retail(rng: random.Random, kind: str, choices: Choices) -> Document:
    doc = Document(kind=kind, fields={name: None for name in ALL_FIELDS}, items=[])
    if kind == "cafe":
        name = rng.choice(CAFES)
        count = rng.randint(1, 5)
        for desc, price in rng.sample(CAFE_MENU, count):
            qty = rng.choices([1, 2, 3, 4], weights=[70, 20, 6, 4])[0]
            doc.items.append(Item(desc, str(qty), price, _money(Decimal(price) * qty)))
        if rng.random() < 0.08:  # a catering order pushes it over the threshold
            doc.items.append(Item("Catering Platter", "1", "85.00", Decimal("85.00")))
    elif kind == "supermarket":
        name = rng.choice(SUPERMARKETS)
        for desc, price, gst_free, weighed in rng.sample(GROCERIES, rng.randint(3, 9)):
            if weighed:
                qty = Decimal(rng.randint(250, 2400)) / 1000
                doc.items.append(Item(desc, _quantity(qty), price, _money(qty * Decimal(price)), gst_free))
            else:
                qty = rng.choices([1, 2, 3], weights=[75, 20, 5])[0]
                doc.items.append(Item(desc, str(qty), price, _money(Decimal(price) * qty), gst_free))
    else:
        name = rng.choice(HARDWARE_STORES)
        for desc, price in rng.sample(HARDWARE, rng.randint(1, 5)):
            qty = rng.choices([1, 2, 4, 6, 10], weights=[55, 20, 10, 10, 5])[0]
            if sum((i.amount for i in doc.items), Decimal(0)) + Decimal(price) * qty >= BUYER_THRESHOLD:
                break  # retail receipts stay under $1,000
            doc.items.append(Item(desc, str(qty), price, _money(Decimal(price) * qty)))
        if not doc.items:
            desc, price = HARDWARE[0]
            doc.items.append(Item(desc, "1", price, Decimal(price)))
    if choices.boundary and kind == "cafe":
        _force_total(doc, Decimal("82.50"))

    _supplier_block(doc, rng, choices, name.upper() if rng.random() < 0.4 else name)
    _title(doc, rng, choices, rng.choice(["RECEIPT", "CUSTOMER RECEIPT", "SALE"]))
    day = _random_day(rng)
    _date_line(doc, rng, choices, day)
    _receipt_number(doc, rng)
    doc.lines.append(("rule",))
    _item_lines(doc, rng, rng.choice(["two_line", "one_line"]))
    _inclusive_totals(doc, rng, choices)
    _payment(doc, rng)
    doc.lines += [("gap", 10), ("center", rng.choice(["Thank you!", "Thanks for shopping with us",
                                                      "See you again soon", "Have a great day"]), "small")]
    return doc


def _force_total(doc: Document, target: Decimal) -> None:
    """Add one line that makes the total exactly `target` (a boundary case for the $82.50 rule)."""
    current = sum((i.amount for i in doc.items), Decimal(0))
    while current >= target and len(doc.items) > 1:
        current -= doc.items.pop().amount
    if current >= target:
        doc.items.clear()
        current = Decimal(0)
    rest = target - current
    doc.items.append(Item("Catering Platter", "1", _fmt(rest, thousands=False), rest))
    doc.notes.append(f"total exactly {target}")


def _fuel(rng: random.Random, choices: Choices) -> Document:
    doc = Document(kind="fuel", fields={name: None for name in ALL_FIELDS}, items=[])
    fuel_type, low, high = rng.choice(FUELS)
    cents = Decimal(str(round(rng.uniform(low, high), 1)))
    litres = Decimal(rng.randint(1500, 8000)) / 100
    amount = _money(litres * cents / 100)
    per_litre = f"{cents / 100:.3f}"
    # Item quantities are written without trailing zeros ("36.4"), the litres field as printed ("36.40").
    doc.items.append(Item(fuel_type, _quantity(litres), per_litre, amount))
    if rng.random() < 0.3:
        desc, price = rng.choice(SERVO_SHOP)
        doc.items.append(Item(desc, "1", price, Decimal(price)))
    doc.fields.update(fuel_type=fuel_type, litres=f"{litres:.2f}", price_per_litre=per_litre)

    _supplier_block(doc, rng, choices, rng.choice(SERVOS))
    _title(doc, rng, choices, "RECEIPT")
    _date_line(doc, rng, choices, _random_day(rng))
    _receipt_number(doc, rng)
    doc.lines.append(("rule",))
    doc.lines.append(("left", f"Pump {rng.randint(1, 12)}", "small"))
    doc.lines.append(("lr", fuel_type, _fmt(amount)))
    doc.lines.append(("left", f"   {litres:.2f} L @ {cents} c/L", "small"))
    for item in doc.items[1:]:
        doc.lines.append(("lr", f"{item.quantity} x {item.description} @ {item.unit_price}", _fmt(item.amount)))
    _inclusive_totals(doc, rng, choices)
    _payment(doc, rng)
    doc.lines += [("gap", 10), ("center", "Drive safely", "small")]
    return doc


def _invoice(rng: random.Random, kind: str, choices: Choices) -> Document:
    doc = Document(kind=kind, fields={name: None for name in ALL_FIELDS}, items=[])
    supplier, services = rng.choice(SUPPLIERS)
    large = kind == "invoice_large"
    for desc in rng.sample(services, rng.randint(1, 4)):
        qty = rng.choice([1, 1, 1, 2, 3, 4, 5, 8, 10])
        unit = _money(rng.uniform(20, 180) if not large else rng.uniform(120, 900))
        doc.items.append(Item(desc, str(qty), _fmt(unit, thousands=False), _money(unit * qty)))
    subtotal = sum((i.amount for i in doc.items), Decimal(0))
    if large:
        while subtotal * Decimal("1.1") < BUYER_THRESHOLD:  # lift it over $1,000
            item = doc.items[0]
            qty = int(item.quantity) + 1
            item.quantity, item.amount = str(qty), _money(Decimal(item.unit_price) * qty)
            subtotal = sum((i.amount for i in doc.items), Decimal(0))
        if choices.boundary:  # exactly $1,000.00 including GST
            doc.items = [Item("Project work (fixed price)", "1", "909.09", Decimal("909.09"))]
            subtotal = Decimal("909.09")
            doc.notes.append("total exactly 1000.00")
    else:
        while subtotal * Decimal("1.1") >= BUYER_THRESHOLD and len(doc.items) > 1:
            doc.items.pop()
            subtotal = sum((i.amount for i in doc.items), Decimal(0))
        if subtotal * Decimal("1.1") >= BUYER_THRESHOLD:
            doc.items[0] = Item(doc.items[0].description, "1", "450.00", Decimal("450.00"))
            subtotal = Decimal("450.00")

    _supplier_block(doc, rng, choices, supplier)
    _title(doc, rng, choices, "INVOICE")
    number = f"INV-{rng.randint(100, 99999):05d}"
    doc.fields["invoice_number"] = number
    doc.lines.append(("lr", "Invoice No:", number))
    _date_line(doc, rng, choices, _random_day(rng), label=rng.choice(["Date", "Invoice Date", "Issue Date"]))

    buyer = choices.buyer if (large or rng.random() < 0.5) else "none"
    if buyer != "none":
        doc.lines += [("gap", 6), ("left", "Bill To:", "bold")]
        if buyer in ("both", "name"):
            name = rng.choice(BUYERS)
            doc.fields["buyer_name"] = name
            doc.lines.append(("left", name))
            doc.lines.append(("left", _address(rng), "small"))
        if buyer in ("both", "abn"):
            abn = valid_abn(rng)
            doc.fields["buyer_abn"] = abn
            doc.lines.append(("left", "Customer " + _print_abn(abn, rng)))
    elif large:
        doc.notes.append("no buyer identity on an invoice of $1,000 or more")

    style = "amount" if choices.gst_style in ("amount", "both") or choices.bad_arithmetic else choices.gst_style
    if style != "amount":
        # Priced GST-inclusive: the lines are shown inclusive and add up to the total.
        for item in doc.items:
            inclusive_unit = _money(Decimal(item.unit_price) * Decimal("1.1"))
            item.unit_price = _fmt(inclusive_unit, thousands=False)
            item.amount = _money(inclusive_unit * Decimal(item.quantity))
        doc.notes.append("priced GST-inclusive")

    doc.lines += [("gap", 8), ("cols", ["Description", "Qty", "Unit Price", "Amount"], "bold"), ("rule",)]
    for item in doc.items:
        doc.lines.append(("cols", [item.description, item.quantity, _fmt(Decimal(item.unit_price)), _fmt(item.amount)]))
    doc.lines.append(("rule",))

    if style == "amount":
        gst = _money(subtotal / 10)
        printed_gst, printed_total = gst, subtotal + gst
        if choices.bad_arithmetic:
            if rng.random() < 0.5:
                printed_gst = gst + _money(rng.uniform(2, 40))
                printed_total = subtotal + printed_gst
                doc.notes.append("GST is not 10% of the subtotal")
            else:
                printed_total = printed_total + _money(rng.uniform(5, 60))
                doc.notes.append("subtotal + GST does not equal the total")
        doc.lines.append(("lr", "Subtotal (ex GST)", _fmt(subtotal, dollar=True)))
        doc.lines.append(("lr", "GST (10%)", _fmt(printed_gst, dollar=True)))
        label = rng.choice(["Total", "Total Due", "Amount Due", "Total (inc GST)"])
        doc.lines.append(("lr", label, _fmt(printed_total, dollar=True), "bold"))
        doc.fields.update(subtotal=_fmt(subtotal, thousands=False), gst=_fmt(printed_gst, thousands=False),
                          gst_included_statement="inc GST" in label)  # "Total (inc GST)" says so too
        # A "total includes GST" line under an itemised GST is common on some templates.
        if choices.gst_style == "both" and rng.random() < 0.5:
            doc.lines.append(("left", "Total includes GST of " + _fmt(printed_gst, dollar=True), "small"))
            doc.fields["gst_included_statement"] = True
    else:
        printed_total = sum((i.amount for i in doc.items), Decimal(0))
        label = "Total (inc GST)" if style == "statement" else "Total"  # "none" mentions GST nowhere
        doc.lines.append(("lr", label, _fmt(printed_total, dollar=True), "bold"))
        doc.fields.update(gst=None, subtotal=None, gst_included_statement=style == "statement")
        if style == "statement":
            doc.lines.append(("left", "All amounts include GST", "small"))
        else:
            doc.notes.append("no GST shown")
    doc.fields["total"] = _fmt(printed_total, thousands=False)
    doc.lines += [("gap", 10), ("left", "Payment due within 14 days. Thank you for your business.", "small")]
    return doc


def _bank_statement(rng: random.Random) -> Document:
    doc = Document(kind="bank_statement", fields={name: None for name in ALL_FIELDS}, items=[])
    bank, holder = rng.choice(BANKS), rng.choice(PEOPLE)
    bsb = f"{rng.randint(10, 999):03d}-{rng.randint(0, 999):03d}"
    account = f"{rng.randint(10_000_000, 99_999_999)}"
    start = _random_day(rng).replace(day=1)
    end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    opening = _money(rng.uniform(200, 9000))
    balance = opening
    doc.lines += [("center", bank, "title"), ("center", "Account Statement", "heading"), ("gap", 6),
                  ("lr", "Account holder:", holder), ("lr", "BSB:", bsb), ("lr", "Account number:", account),
                  ("lr", "Statement period:", f"{start:%d/%m/%Y} to {end:%d/%m/%Y}"), ("rule",),
                  ("lr", "Opening balance", _fmt(opening, dollar=True)),
                  ("cols", ["Date   Description", "", "Amount", "Balance"], "bold")]
    days = sorted(start + timedelta(days=rng.randint(0, (end - start).days)) for _ in range(rng.randint(4, 10)))
    for day in days:
        desc, sign = rng.choice([("EFTPOS Purchase", -1), ("Direct Credit Salary", 1), ("Transfer", -1),
                                 ("BPAY Electricity", -1), ("Interest", 1), ("ATM Withdrawal", -1)])
        amount = _money(rng.uniform(5, 900)) * sign
        balance += amount
        doc.lines.append(("cols", [f"{day:%d/%m}  {desc}", "", _fmt(amount), _fmt(balance)]))
    doc.lines += [("rule",), ("lr", "Closing balance", _fmt(balance, dollar=True), "bold")]
    doc.fields.update(bsb=bsb, account_number=account, account_holder=holder,
                      statement_period=f"{start:%d/%m/%Y} to {end:%d/%m/%Y}",
                      opening_balance=_fmt(opening, thousands=False), closing_balance=_fmt(balance, thousands=False),
                      supplier_name=bank, tax_invoice_label=False, gst_included_statement=False)
    return doc


def make_document(rng: random.Random, kind: str, **overrides: Any) -> Document:
    """One document of `kind`; keyword overrides force any field of `Choices`."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; use one of {', '.join(KINDS)}")
    if kind == "bank_statement":
        doc = _bank_statement(rng)
    else:
        choices = _choose(rng, kind, overrides)
        if kind == "fuel":
            doc = _fuel(rng, choices)
        elif kind.startswith("invoice"):
            doc = _invoice(rng, kind, choices)
        else:
            doc = _retail(rng, kind, choices)
    doc.style = choose_style(rng, kind)
    return doc


# =============================================================================================
# writing corpora
# =============================================================================================
def _kind_sequence(rng: random.Random, count: int, kinds: tuple[str, ...]) -> list[str]:
    """Round-robin over shuffled kinds, so even a small corpus is varied."""
    sequence: list[str] = []
    while len(sequence) < count:
        block = list(kinds)
        rng.shuffle(block)
        sequence.extend(block)
    return sequence[:count]


def _write(doc: Document, image: Image.Image, folder: Path, stem: str, *, seed: int | None, index: int | None,
           fmt: str | None = None, quality: int | None = None) -> Path:
    fmt = fmt or doc.style["format"]
    path = folder / f"{stem}.{fmt}"
    if fmt == "png":
        image.save(path, "PNG", optimize=False)
    else:
        image.save(path, "JPEG", quality=quality or doc.style["quality"], optimize=True)
    truth = doc.truth(seed=seed, index=index)
    path.with_suffix(".json").write_text(json.dumps(truth, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def generate_documents(out_dir: str | Path, count: int, seed: int = 0, *,
                       kinds: list[str] | tuple[str, ...] | None = None, max_side: int | None = None) -> list[Path]:
    """Write `count` documents (image + same-named .json truth) into `out_dir`; return the images.

    Deterministic for a seed: the same seed gives the same files. `kinds` picks from KINDS
    (default: every kind but bank statements). `max_side` caps the image size (tests, quick runs).
    """
    if count < 0:
        raise ValueError("count must be zero or more")
    chosen = tuple(kinds) if kinds else DEFAULT_KINDS
    unknown = [k for k in chosen if k not in KINDS]
    if unknown:
        raise ValueError(f"unknown kind(s) {', '.join(unknown)}; use {', '.join(KINDS)}")
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    plan = _kind_sequence(random.Random(f"llama-vision-kinds-{seed}"), count, chosen)
    paths = []
    for index, kind in enumerate(plan):
        rng = random.Random(f"llama-vision-{seed}-{index}")
        doc = make_document(rng, kind)
        long_side = min(doc.style["long_side"], max_side) if max_side else None
        image = render_document(doc, rng, long_side=long_side)
        paths.append(_write(doc, image, folder, f"{kind}_{seed}_{index:04d}", seed=seed, index=index))
    return paths


BUNDLED = {
    # name: (kind, seed, forced choices, (lowest total, highest total))
    "cafe_receipt": ("cafe", 11, {"abn": "valid", "title": True, "gst_style": "both", "bad_arithmetic": False,
                                  "date": True, "boundary": False}, ("5.00", "40.00")),
    "tax_invoice_over_1000": ("invoice_large", 12, {"abn": "valid", "title": True, "gst_style": "amount",
                                                    "bad_arithmetic": False, "date": True, "buyer": "both",
                                                    "boundary": False}, ("1000.00", "6000.00")),
    "fuel_receipt": ("fuel", 13, {"abn": "valid", "title": True, "gst_style": "both", "bad_arithmetic": False,
                                  "date": True}, ("82.51", "150.00")),
    "no_abn_hardware_receipt": ("hardware", 14, {"abn": "none", "title": True, "gst_style": "both",
                                                 "bad_arithmetic": False, "date": True}, ("82.51", "400.00")),
}


def write_bundled_samples(folder: str | Path) -> list[Path]:
    """The four small samples shipped in llama_vision/samples/bundled (each image < 200 KB):
    a small café receipt (not_required), a compliant tax invoice over $1,000, a compliant fuel
    receipt and a hardware receipt over $82.50 with no ABN (non_compliant)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, (kind, seed, overrides, (low, high)) in BUNDLED.items():
        for attempt in range(200):  # the first seed whose total lands in the wanted range
            rng = random.Random(f"llama-vision-bundled-{seed}-{attempt}")
            doc = make_document(rng, kind, **overrides)
            if Decimal(low) <= Decimal(doc.fields["total"]) <= Decimal(high):
                break
        else:  # pragma: no cover - the ranges are wide
            raise RuntimeError(f"no {kind} with a total in {low}..{high}")
        sheet = kind.startswith("invoice")
        doc.style.update(blur=0.0, photo=not sheet, shade=0.0 if sheet else 0.05, specks=20,
                         angle=0.3 if sheet else max(-1.5, min(1.5, doc.style["angle"])))
        image = render_document(doc, rng, long_side=1500 if sheet else 1400)
        paths.append(_write(doc, image, folder, name, seed=seed, index=attempt, fmt="jpg", quality=80))
    return paths


