"""Invoice families: a two-column header with bill-to/ship-to blocks, a bordered-table invoice, and a
tradie's invoice in whole dollars. Lines are priced ex GST; subtotal + 10% GST = total."""

from __future__ import annotations

import random
from decimal import Decimal

from llama_vision.samples.document import Choices, Item, fmt_amount, money, random_address
from llama_vision.samples.families.blocks import date_segs, printed_abn, supplier_ops
from llama_vision.samples.families.model import FamilyDocument, tag
from llama_vision.samples.families.words import INVOICE_FIRMS, SHIP_TO_NAMES, TRADIES
from llama_vision.samples.truth import ALL_FIELDS, BUYER_THRESHOLD, valid_abn
from llama_vision.samples.vocabulary import BUYERS

__all__ = ["invoice_bordered", "invoice_two_column", "tradie_whole_dollars"]


def _new(family: str) -> FamilyDocument:
    return FamilyDocument(kind=family, fields={name: None for name in ALL_FIELDS}, items=[], family=family,
                          doc_type="tax_invoice")


def whole(value: Decimal) -> str:
    return f"${int(value):,}"


def _services(doc: FamilyDocument, rng: random.Random, services: list[str], large: bool, *, dollars: bool) -> Decimal:
    """Ex-GST lines kept under $1,000 inc GST (or lifted over it when `large`); the subtotal."""
    for desc in rng.sample(services, rng.randint(1, 4)):
        qty = 1 if dollars else rng.choice([1, 1, 2, 3, 5, 10])
        unit = Decimal(rng.randint(3, 60) * 10) if dollars else money(rng.uniform(20, 240))
        if large:
            unit = unit * (4 if dollars else 3)
        doc.items.append(Item(desc, str(qty), fmt_amount(unit, thousands=False), money(unit * qty)))
    subtotal = sum((i.amount for i in doc.items), Decimal(0))
    while large and subtotal * Decimal("1.1") < BUYER_THRESHOLD:
        first = doc.items[0]
        first.unit_price = fmt_amount(Decimal(first.unit_price) * 2, thousands=False)
        first.amount = money(Decimal(first.unit_price) * Decimal(first.quantity))
        subtotal = sum((i.amount for i in doc.items), Decimal(0))
    while not large and subtotal * Decimal("1.1") >= BUYER_THRESHOLD and len(doc.items) > 1:
        subtotal -= doc.items.pop().amount
    if not large and subtotal * Decimal("1.1") >= BUYER_THRESHOLD:
        doc.items[0] = Item(doc.items[0].description, "1", "450.00", Decimal("450.00"))
        subtotal = Decimal("450.00")
    return subtotal


def _money(value: Decimal, dollars: bool) -> str:
    return whole(value) if dollars else fmt_amount(value, dollar=True)


def _totals(doc: FamilyDocument, rng: random.Random, choices: Choices, subtotal: Decimal, *,
            dollars: bool = False) -> list[tuple]:
    """Subtotal / GST / total lines (GST sometimes deliberately wrong, or not shown at all)."""
    if choices.gst_style == "none" and not choices.bad_arithmetic:
        doc.notes.append("no GST shown")
        doc.fields.update(total=fmt_amount(subtotal, thousands=False), gst=None, subtotal=None,
                          gst_included_statement=False)
        return [("lr", "Total", [tag(_money(subtotal, dollars), "total")], "bold")]
    gst = money(subtotal / 10)
    if choices.bad_arithmetic:
        gst += Decimal(rng.randint(2, 9) * 10) if dollars else money(rng.uniform(2, 40))
        doc.notes.append("GST is not 10% of the subtotal")
    total = subtotal + gst
    label = rng.choice(["Total", "Total Due", "Amount Due", "Total (inc GST)", "TOTAL"])
    ops = [("lr", rng.choice(["Subtotal", "Subtotal (ex GST)", "Sub-total"]), [tag(_money(subtotal, dollars), "subtotal")]),
           ("lr", rng.choice(["GST", "GST (10%)", "GST 10%", "Plus GST"]), [tag(_money(gst, dollars), "gst")]),
           ("lr", label, [tag(_money(total, dollars), "total")], "bold")]
    doc.fields.update(subtotal=fmt_amount(subtotal, thousands=False), gst=fmt_amount(gst, thousands=False),
                      total=fmt_amount(total, thousands=False), gst_included_statement="inc GST" in label)
    return ops


def _buyer_ops(doc: FamilyDocument, rng: random.Random, choices: Choices, large: bool, label: str) -> list[tuple]:
    buyer = choices.buyer if (large or rng.random() < 0.6) else "none"
    if buyer == "none":
        if large:
            doc.notes.append("no buyer identity on an invoice of $1,000 or more")
        return []
    ops: list[tuple] = [("left", label, "bold")]
    if buyer in ("both", "name"):
        name = rng.choice(BUYERS)
        doc.fields["buyer_name"] = name
        ops += [("left", [tag(name, "buyer_name")]), ("left", random_address(rng), "small")]
    if buyer in ("both", "abn"):
        abn = valid_abn(rng)
        doc.fields["buyer_abn"] = abn
        ops.append(("left", [tag("ABN: ", None), tag(printed_abn(abn, rng), "buyer_abn")], "small"))
    return ops


def _title(doc: FamilyDocument, rng: random.Random, choices: Choices) -> str:
    doc.fields["tax_invoice_label"] = choices.title
    if not choices.title:
        doc.notes.append("no 'tax invoice' wording")
        return "INVOICE"
    return rng.choice(["TAX INVOICE", "Tax Invoice", "TAX INVOICE"])


def _number(doc: FamilyDocument, rng: random.Random) -> str:
    number = rng.choice([f"INV-{rng.randint(100, 99999):05d}", f"{rng.randint(1000, 99999)}", f"A{rng.randint(100, 9999)}"])
    doc.fields["invoice_number"] = number
    return number


#: column layouts seen on real invoices (right edges of qty / unit price / amount)
_ITEM_SPECS = ([(0, "l"), (0.64, "r"), (0.81, "r"), (1, "r")], [(0, "l"), (0.52, "r"), (0.74, "r"), (1, "r")],
               [(0, "l"), (0.70, "r"), (0.85, "r"), (1, "r")])


def invoice_two_column(rng: random.Random, choices: Choices) -> FamilyDocument:
    """Business top-left, "TAX INVOICE" and its numbers top-right, bill-to and ship-to side by side."""
    doc = _new("invoice_two_column")
    firm, services = rng.choice(INVOICE_FIRMS)
    large = rng.random() < 0.4
    subtotal = _services(doc, rng, services, large, dollars=False)
    left = supplier_ops(doc, rng, choices, firm.upper() if rng.random() < 0.3 else firm, align="left", extras=True)
    left.append(("left", f"Email: accounts@{''.join(c for c in firm.lower() if c.isalpha())[:12]}.com.au", "small"))
    right: list[tuple] = [("right", _title(doc, rng, choices), "title"),
                          ("right", [tag("Invoice No: ", None), tag(_number(doc, rng), "invoice_number")])]
    segs = date_segs(doc, rng, choices, label=rng.choice(["Date: ", "Invoice Date: ", "Issue Date: "]), time=False)
    if segs:
        right.append(("right", segs))
    right.append(("right", f"Terms: {rng.choice([7, 14, 30])} days", "small"))
    ops: list[tuple] = [("split", left, right, 0.55), ("gap", 18)]
    ship = [("left", "Ship To:", "bold"), ("left", rng.choice(SHIP_TO_NAMES)), ("left", random_address(rng), "small")]
    ops += [("split", _buyer_ops(doc, rng, choices, large, rng.choice(["Bill To:", "Invoice To:"])), ship), ("gap", 14)]
    spec = rng.choice(_ITEM_SPECS)
    ops += [("cols", ["Description", "Qty", rng.choice(["Unit Price", "Rate", "Price"]), "Amount"], "bold", spec),
            ("rule",)]
    for item in doc.items:
        ops.append(("cols", [item.description, item.quantity, fmt_amount(Decimal(item.unit_price)),
                             fmt_amount(item.amount)], None, spec))
    ops += [("rule",), ("split", [], _totals(doc, rng, choices, subtotal), 0.5), ("gap", 18),
            ("left", "Please pay within the terms above. Thank you for your business.", "small")]
    doc.ops = ops
    return doc


_QTY_FIRST = [(0, 0.1, "r"), (0.1, 0.62, "l"), (0.62, 0.81, "r"), (0.81, 1.0, "r")]
_QTY_SECOND = [(0, 0.55, "l"), (0.55, 0.66, "r"), (0.66, 0.83, "r"), (0.83, 1.0, "r")]


def invoice_bordered(rng: random.Random, choices: Choices) -> FamilyDocument:
    """A title on top, the business name in capitals under it, and every table drawn with cell borders."""
    doc = _new("invoice_bordered")
    firm, services = rng.choice(INVOICE_FIRMS)
    large = rng.random() < 0.4
    subtotal = _services(doc, rng, services, large, dollars=False)
    ops: list[tuple] = [("center", _title(doc, rng, choices), "title"), ("gap", 8)]
    ops += supplier_ops(doc, rng, choices, firm.upper(), align="center")
    number = _number(doc, rng)
    date = date_segs(doc, rng, choices, label="", time=False)
    header = [["Invoice No", "Date"], [[tag(number, "invoice_number")], date or "-"]]
    ops += [("gap", 14), ("split", [("table", header, [(0, 0.5, "l"), (0.5, 1.0, "l")])],
                                   _buyer_ops(doc, rng, choices, large, "Customer:"), 0.5), ("gap", 14)]
    rows: list[list] = [["Qty", "Description", "Unit Price", "Amount"]]
    for item in doc.items:
        rows.append([item.quantity, item.description, fmt_amount(Decimal(item.unit_price)), fmt_amount(item.amount)])
    if rng.random() < 0.5:  # description first, then quantity
        rows = [[row[1], row[0], row[2], row[3]] for row in rows]
        ops.append(("table", rows, _QTY_SECOND))
    else:
        ops.append(("table", rows, _QTY_FIRST))
    totals = _totals(doc, rng, choices, subtotal)
    grid = [[op[1], op[2]] for op in totals]
    ops += [("split", [], [("table", grid, [(0, 0.55, "l"), (0.55, 1.0, "r")], False)], 0.5)]
    ops += [("gap", 14), ("left", "Direct deposit details on request. Payment due in 14 days.", "small")]
    doc.ops = ops
    return doc


def tradie_whole_dollars(rng: random.Random, choices: Choices) -> FamilyDocument:
    """A tradie's invoice with amounts in whole dollars: "$1,200", "GST $120", "Total $1,320"."""
    doc = _new("tradie_whole_dollars")
    name, services = rng.choice(TRADIES)
    large = rng.random() < 0.55
    subtotal = _services(doc, rng, services, large, dollars=True)
    align = rng.choice(["left", "center"])
    ops = supplier_ops(doc, rng, choices, name, align=align, extras=rng.random() < 0.7)
    ops += [("gap", 10), (align, _title(doc, rng, choices), "heading")]
    ops += [("lr", [tag("Invoice # ", None), tag(_number(doc, rng), "invoice_number")],
             date_segs(doc, rng, choices, time=False) or "")]
    ops += [("gap", 8)] + _buyer_ops(doc, rng, choices, large, rng.choice(["To:", "Customer:", "Bill To:"]))
    ops += [("gap", 10)]
    if rng.random() < 0.4:
        ops.append(("lr", "Description", "Amount", "bold"))
    ops.append(("rule",))
    for item in doc.items:
        ops.append(("lr", item.description, whole(item.amount)))
    totals = _totals(doc, rng, choices, subtotal, dollars=True)
    ops += [("rule",)] + (totals if rng.random() < 0.5 else [("split", [], totals, 0.45)])
    ops += [("gap", 14), ("left", rng.choice(["Cheers, thanks for the work!", "Payment by bank transfer within 7 days",
                                              "All work guaranteed for 12 months"]), "small")]
    abn = doc.fields.get("supplier_abn")
    if abn and rng.random() < 0.3:
        ops.append(("left", f"Licence No. {rng.randint(100000, 999999)}C", "small"))
    doc.ops = ops
    return doc

