"""Printed blocks shared by the families: supplier identity, title, date, GST-inclusive totals and
payment, as layout operations whose value pieces are tagged with their field."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from llama_vision.samples.document import CENT, Choices, Document, fmt_amount, money, random_address
from llama_vision.samples.families.model import tag
from llama_vision.samples.truth import TOLERANCE, invalid_abn, valid_abn
from llama_vision.samples.vocabulary import MONTHS, PAYMENTS

__all__ = ["abn_segs", "date_segs", "inclusive_totals", "payment_op", "random_day", "supplier_ops"]


def random_day(rng: random.Random) -> date:
    return date(2023, 1, 1) + timedelta(days=rng.randint(0, 3 * 365 - 1))


def printed_abn(abn: str, rng: random.Random) -> str:
    spaced = f"{abn[:2]} {abn[2:5]} {abn[5:8]} {abn[8:]}"
    return spaced if rng.random() < 0.8 else abn


def abn_segs(doc: Document, rng: random.Random, choices: Choices, field: str = "supplier_abn") -> list | None:
    """The ABN line's pieces per the choices (None when no ABN is printed); records the truth."""
    if choices.abn == "none":
        doc.notes.append("no ABN printed")
        return None
    abn = valid_abn(rng) if choices.abn == "valid" else invalid_abn(rng)
    doc.fields[field] = abn
    if choices.abn == "invalid":
        doc.notes.append("ABN printed with a bad checksum")
    return [tag(rng.choice(["ABN ", "ABN: ", "A.B.N. ", "ABN: "]), None), tag(printed_abn(abn, rng), field)]


def printed_date(day: date, rng: random.Random) -> str:
    style = rng.randint(0, 4)
    if style == 0:
        return day.strftime("%d/%m/%Y")
    if style == 1:
        return day.strftime("%d/%m/%y")
    if style == 2:
        return f"{day.day:02d} {MONTHS[day.month - 1]} {day.year}"
    if style == 3:
        return f"{day.day} {day.strftime('%B')} {day.year}"
    return day.strftime("%d-%m-%Y")


def date_segs(doc: Document, rng: random.Random, choices: Choices, label: str = "Date: ",
              time: bool = True) -> list | None:
    """The date line's pieces (None when the choices leave the date off); records the truth."""
    if not choices.date:
        doc.notes.append("no date printed")
        return None
    day = random_day(rng)
    doc.fields["date"] = day.strftime("%d/%m/%Y")
    segs = [tag(label, None), tag(printed_date(day, rng), "date")]
    if time and rng.random() < 0.6:
        segs.append(tag(f"  {rng.randint(7, 21):02d}:{rng.randint(0, 59):02d}", None))
    return segs


def supplier_ops(doc: Document, rng: random.Random, choices: Choices, name: str, align: str = "center",
                 extras: bool = False) -> list[tuple]:
    """Name, address and ABN as a block; `extras` adds the phone/web lines real receipts carry."""
    address = random_address(rng)
    doc.fields["supplier_name"] = name
    doc.fields["supplier_address"] = address
    ops: list[tuple] = [(align, [tag(name, "supplier_name")], "title")]
    if rng.random() < 0.5:
        street, rest = address.split(", ", 1)
        ops += [(align, [tag(street, "supplier_address")], "small"), (align, [tag(rest, "supplier_address")], "small")]
    else:
        ops.append((align, [tag(address, "supplier_address")], "small"))
    if extras:
        slug = "".join(ch for ch in name.lower() if ch.isalnum())[:18]
        ops.append((align, rng.choice([f"Ph: (0{rng.randint(2, 8)}) {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}",
                                       f"Web: {slug}.com.au", f"www.{slug}.com.au"]), "small"))
    segs = abn_segs(doc, rng, choices)
    if segs:
        ops.append((align, segs, "small"))
    return ops


def _gst_plan(doc: Document, rng: random.Random, choices: Choices) -> tuple[str, Decimal, Decimal, Decimal]:
    """(style, total, gst, printed GST): style amount|statement|both|none, bad arithmetic applied to GST."""
    total = sum((item.amount for item in doc.items), Decimal(0))
    taxable = sum((item.amount for item in doc.items if not item.gst_free), Decimal(0))
    gst = money(taxable / 11)
    style = choices.gst_style
    if style == "statement" and any(item.gst_free for item in doc.items):
        style = "both"  # a bare statement is only right when GST is exactly 1/11 of the total
    if choices.bad_arithmetic and style in ("statement", "none"):
        style = "amount"
    printed = gst
    if choices.bad_arithmetic:
        printed = money(total / 11) + money(rng.uniform(0.6, 3)) + CENT
        doc.notes.append("GST amount does not match the prices")
        assert printed > total / 11 + TOLERANCE
    return style, total, gst, printed


def inclusive_totals(doc: Document, rng: random.Random, choices: Choices, *, align: str = "lr",
                     total_style: str = "bold") -> list[tuple]:
    """GST-inclusive receipt totals (total = sum of the lines, GST = taxable / 11) as operations."""
    style, total, _, printed_gst = _gst_plan(doc, rng, choices)
    gst_text, total_text = fmt_amount(printed_gst, dollar=True), fmt_amount(total, dollar=True)
    ops: list[tuple] = []
    label = rng.choice(["TOTAL", "Total", "TOTAL AUD", "Total Due"])
    if align == "center":
        ops.append(("center", [tag(f"{label} ", None), tag(total_text, "total")], total_style))
    else:
        ops.append(("lr", label, [tag(total_text, "total")], total_style))
    if style == "amount":
        gst_label = rng.choice(["GST", "GST Amount", "GST 10%", "Total GST"])
        ops.append((align, gst_label, [tag(gst_text, "gst")]) if align == "lr"
                   else (align, [tag(f"{gst_label} ", None), tag(gst_text, "gst")]))
    elif style == "both":
        words = rng.choice(["Total includes GST of ", "Total includes GST ", "GST included in total "])
        ops.append(("center" if align == "center" else "left", [tag(words, None), tag(gst_text, "gst")], "small"))
    elif style == "statement":
        ops.append(("center" if align == "center" else "left",
                    rng.choice(["Total includes GST", "Price includes GST", "All prices include GST"]), "small"))
    else:
        doc.notes.append("no GST shown")
    doc.fields["total"] = fmt_amount(total, thousands=False)
    doc.fields["gst"] = fmt_amount(printed_gst, thousands=False) if style in ("amount", "both") else None
    doc.fields["gst_included_statement"] = style in ("both", "statement")
    return ops


def payment_op(doc: Document, rng: random.Random, printed: str | None = None) -> tuple:
    printed = printed or rng.choice(PAYMENTS)
    doc.fields["payment_method"] = printed
    return ("lr", rng.choice(["Paid by", "Payment", "Tender", "Card"]), [tag(printed, "payment_method")])
