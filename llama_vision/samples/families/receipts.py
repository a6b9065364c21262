"""Receipt families: a centred thermal receipt, a supermarket receipt with GST-free markers, a fuel
docket and a café receipt with a cash rounding line."""

from __future__ import annotations

import random
from decimal import Decimal

from llama_vision.samples.document import Choices, Item, fmt_amount, fuel_purchase, money, quantity_text
from llama_vision.samples.families.blocks import date_segs, inclusive_totals, payment_op, supplier_ops
from llama_vision.samples.families.model import FamilyDocument, tag
from llama_vision.samples.families.words import DOCKET_SERVOS, ROUNDING_CAFES, THERMAL_SHOPS
from llama_vision.samples.truth import ALL_FIELDS
from llama_vision.samples.vocabulary import CAFE_MENU, GROCERIES, SUPERMARKETS

__all__ = ["cafe_rounding", "fuel_docket", "supermarket_gst", "thermal_centred"]


def _new(family: str, doc_type: str = "receipt") -> FamilyDocument:
    return FamilyDocument(kind=family, fields={name: None for name in ALL_FIELDS}, items=[], family=family,
                          doc_type=doc_type)


def _title_op(doc: FamilyDocument, rng: random.Random, choices: Choices, fallback: str) -> tuple:
    doc.fields["tax_invoice_label"] = choices.title
    if choices.title:
        return ("center", rng.choice(["TAX INVOICE", "Tax Invoice", "TAX INVOICE / RECEIPT"]), "heading")
    doc.notes.append("no 'tax invoice' wording")
    return ("center", fallback, "heading")


def _optional(op_kind: str, segs: list | None, style: str | None = None) -> list[tuple]:
    return [] if segs is None else [(op_kind, segs, style)]


def thermal_centred(rng: random.Random, choices: Choices) -> FamilyDocument:
    """A narrow thermal receipt with everything centred: header, title, date, total, footer."""
    doc = _new("thermal_centred")
    name, goods = rng.choice(THERMAL_SHOPS)
    for desc, price in rng.sample(goods, rng.randint(1, 5)):
        qty = rng.choices([1, 2, 3], weights=[75, 20, 5])[0]
        doc.items.append(Item(desc, str(qty), price, money(Decimal(price) * qty)))
    ops = supplier_ops(doc, rng, choices, name.upper() if rng.random() < 0.6 else name, extras=rng.random() < 0.5)
    ops += [("gap", 6), _title_op(doc, rng, choices, "RECEIPT")]
    ops += _optional("center", date_segs(doc, rng, choices))
    ops.append(("dashes",))
    for item in doc.items:
        if item.quantity == "1":
            ops.append(("lr", item.description, fmt_amount(item.amount)))
        else:
            ops += [("left", item.description), ("lr", f"  {item.quantity} @ {item.unit_price}", fmt_amount(item.amount))]
    ops.append(("dashes",))
    ops += inclusive_totals(doc, rng, choices, align="center", total_style=rng.choice(["big", "bold"]))
    ops += [("gap", 6), ("center", [tag(f"{rng.choice(['Paid', 'Tendered'])} ", None)] + list(payment_op(doc, rng)[2]))]
    ops += [("gap", 8), ("center", rng.choice(["THANK YOU", "Thank you for shopping local", "Please keep your receipt"]),
                         "small")]
    doc.ops = ops
    return doc


_MARKERS = [("#", "# GST-free item"), ("*", "* Denotes GST free item"), ("^", "^ = GST FREE"),
            ("#", "Items marked # are GST free")]


def supermarket_gst(rng: random.Random, choices: Choices) -> FamilyDocument:
    """Groceries with GST-free lines flagged by a marker and legend, or by a GST column (Y/N)."""
    doc = _new("supermarket_gst")
    doc.item_status = True
    for desc, price, gst_free, weighed in rng.sample(GROCERIES, rng.randint(4, 10)):
        qty = Decimal(rng.randint(250, 2400)) / 1000 if weighed else Decimal(rng.choices([1, 2, 3], [75, 20, 5])[0])
        doc.items.append(Item(desc, quantity_text(qty), price, money(qty * Decimal(price)), gst_free))
    ops = supplier_ops(doc, rng, choices, rng.choice(SUPERMARKETS), extras=rng.random() < 0.6)
    ops += [("gap", 6), _title_op(doc, rng, choices, "CUSTOMER RECEIPT")]
    ops += _optional("left", date_segs(doc, rng, choices))
    ops.append(("rule",))
    column = rng.random() < 0.35
    marker, legend = rng.choice(_MARKERS)
    if column:
        ops.append(("cols", ["Description", "GST", "Amount"], "bold", [(0, "l"), (0.72, "r"), (1, "r")]))
    for item in doc.items:
        amount = fmt_amount(item.amount)
        if column:
            ops.append(("cols", [item.description, "N" if item.gst_free else "Y", amount], None,
                        [(0, "l"), (0.72, "r"), (1, "r")]))
        elif rng.random() < 0.5:
            ops.append(("lr", (f"{marker} " if item.gst_free else "  ") + item.description, amount))
        else:
            ops.append(("lr", item.description, amount + (f" {marker}" if item.gst_free else "")))
        if "." in item.quantity:
            ops.append(("left", f"   {item.quantity} kg @ ${item.unit_price}/kg", "small"))
        elif item.quantity != "1":
            ops.append(("left", f"   {item.quantity} @ ${item.unit_price} each", "small"))
    ops += [("rule",), ("left", f"{len(doc.items)} ITEMS", "small")]
    ops += inclusive_totals(doc, rng, choices)
    ops.append(payment_op(doc, rng))
    if any(item.gst_free for item in doc.items):
        ops.append(("left", "Y = GST applies, N = GST-free" if column else legend, "small"))
    ops += [("gap", 8), ("center", "Thanks for shopping with us", "small")]
    doc.ops = ops
    return doc


def fuel_docket(rng: random.Random, choices: Choices) -> FamilyDocument:
    """A servo docket: pump, fuel grade, litres and price per litre, then totals."""
    doc = _new("fuel_docket", "fuel_receipt")
    fuel_type, litres, _cents, per_litre, amount = fuel_purchase(doc, rng, shop_chance=0.35)
    ops = supplier_ops(doc, rng, choices, rng.choice(DOCKET_SERVOS), extras=rng.random() < 0.4)
    ops += [("gap", 6), _title_op(doc, rng, choices, "FUEL DOCKET")]
    ops += _optional("left", date_segs(doc, rng, choices))
    ops += [("lr", "Pump", f"{rng.randint(1, 16):02d}"), ("dashes",)]
    ops.append(("lr", [tag(fuel_type, "fuel_type")], fmt_amount(amount, dollar=rng.random() < 0.5)))
    if rng.random() < 0.5:
        ops += [("lr", "Litres", [tag(f"{litres:.2f}", "litres"), tag(" L", None)]),
                ("lr", "Price/L", [tag("$", None), tag(per_litre, "price_per_litre")])]
    else:
        ops.append(("left", [tag("  ", None), tag(f"{litres:.2f}", "litres"), tag(f"L @ ${per_litre}/L", None)], "small"))
    for item in doc.items[1:]:
        ops.append(("lr", item.description, fmt_amount(item.amount)))
    ops.append(("dashes",))
    ops += inclusive_totals(doc, rng, choices)
    ops.append(payment_op(doc, rng, rng.choice(["EFTPOS", "VISA", "MASTERCARD", "FLEET CARD"])))
    ops += [("left", f"Auth {rng.randint(100000, 999999)}  APPROVED", "small"), ("gap", 8),
            ("center", "Drive safely", "small")]
    doc.ops = ops
    return doc


def cafe_rounding(rng: random.Random, choices: Choices) -> FamilyDocument:
    """A café docket paid in cash: TOTAL, a rounding line and the amount actually paid."""
    doc = _new("cafe_rounding")
    for _ in range(20):  # prices like 5.20 and 4.95 give totals that need rounding to 5 cents
        doc.items = []
        for desc, price in rng.sample(CAFE_MENU, rng.randint(1, 6)):
            unit = Decimal(price) - (Decimal("0.03") if rng.random() < 0.4 else 0)
            qty = rng.choices([1, 2, 3], weights=[70, 22, 8])[0]
            doc.items.append(Item(desc, str(qty), fmt_amount(unit, thousands=False), money(unit * qty)))
        total = sum((i.amount for i in doc.items), Decimal(0))
        if (total * 100) % 5:
            break
    rounded = (total * 20).quantize(Decimal("1")) / 20
    ops = supplier_ops(doc, rng, choices, rng.choice(ROUNDING_CAFES), extras=rng.random() < 0.4)
    ops += [("gap", 6), _title_op(doc, rng, choices, rng.choice(["RECEIPT", "ORDER"]))]
    ops += _optional("left", date_segs(doc, rng, choices))
    ops += [("left", f"Table {rng.randint(1, 30)}   Order #{rng.randint(100, 999)}", "small"), ("rule",)]
    for item in doc.items:
        ops.append(("cols", [item.quantity, item.description, fmt_amount(item.amount)], None,
                    [(0, "l"), (0.1, "l"), (1, "r")]))
    ops.append(("rule",))
    ops += inclusive_totals(doc, rng, choices)
    difference = rounded - total
    ops.append(("lr", rng.choice(["Rounding", "Rounding adj", "Cash rounding"]), f"{difference:+.2f}"))
    ops.append(("lr", rng.choice(["Total paid", "Amount paid", "TOTAL PAID"]), fmt_amount(money(rounded), dollar=True),
                "bold"))
    tendered = money(max(rounded, Decimal(rng.choice([20, 50, 100])) if rounded < 100 else rounded + 5))
    ops += [payment_op(doc, rng, "CASH"), ("lr", "Tendered", fmt_amount(tendered, dollar=True)),
            ("lr", "Change", fmt_amount(tendered - money(rounded), dollar=True)), ("gap", 8),
            ("center", rng.choice(["See you tomorrow!", "Thanks, enjoy your coffee"]), "small")]
    doc.notes.append(f"cash rounding {difference:+.2f}: paid {money(rounded)}")
    doc.ops = ops
    return doc
