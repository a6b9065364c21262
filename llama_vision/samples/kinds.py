"""The kinds of document the generator draws: retail receipts (café, supermarket, hardware), fuel
receipts, tax invoices under and over $1,000, and bank statements, built line by line from the
shared blocks (supplier, title, date, totals, payment)."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from llama_vision.samples.document import (
    fuel_purchase,
    CENT,
    Choices,
    Document,
    Item,
    fmt_amount,
    money,
    print_abn,
    print_date,
    quantity_text,
    random_address,
)
from llama_vision.samples.truth import ALL_FIELDS, BUYER_THRESHOLD, TOLERANCE, invalid_abn, valid_abn
from llama_vision.samples.vocabulary import (
    BANKS,
    BUYERS,
    CAFE_MENU,
    CAFES,
    GROCERIES,
    HARDWARE,
    HARDWARE_STORES,
    PAYMENTS,
    PEOPLE,
    SERVOS,
    SUPERMARKETS,
    SUPPLIERS,
)


def _supplier_block(doc: Document, rng: random.Random, choices: Choices, name: str) -> None:
    """Name, address, ABN (per choices) at the top of the page, recorded in the truth."""
    address = random_address(rng)
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
        doc.lines.append(("center", print_abn(abn, rng), "small"))
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
        printed = print_date(day, rng)
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
    gst = money(taxable / 11)
    style = choices.gst_style
    if style == "statement" and not all_taxable:
        style = "both"  # a bare statement is only right when GST is exactly 1/11 of the total
    if choices.bad_arithmetic and style in ("statement", "none"):
        style = "amount"
    show_subtotal = choices.subtotal and all_taxable and style in ("amount", "both")

    printed_total, printed_gst = total, gst
    if choices.bad_arithmetic:
        if show_subtotal and rng.random() < 0.5:
            printed_total = total + money(rng.uniform(1, 9))
            doc.notes.append("subtotal + GST does not equal the total")
        else:
            printed_gst = money(total / 10) if not show_subtotal else gst + money(rng.uniform(0.6, 4))
            if printed_gst <= total / 11 + TOLERANCE + CENT and not show_subtotal:
                printed_gst = money(total / 11) + money(rng.uniform(0.6, 3))
            doc.notes.append("GST amount does not match the prices")
    subtotal = total - gst

    doc.lines.append(("rule",))
    if show_subtotal:
        doc.lines.append(("lr", "Subtotal (ex GST)", fmt_amount(subtotal, dollar=True)))
        doc.fields["subtotal"] = fmt_amount(subtotal, thousands=False)
        if style == "amount":
            doc.lines.append(("lr", "GST", fmt_amount(printed_gst, dollar=True)))
    elif style == "amount":
        # Labels that do not themselves say "total includes GST" (that is the statement flag).
        doc.lines.append(("lr", rng.choice(["GST", "GST Amount", "GST 10%"]), fmt_amount(printed_gst, dollar=True)))
    doc.lines.append(("lr", rng.choice(["TOTAL", "Total", "TOTAL AUD"]), fmt_amount(printed_total, dollar=True), "bold"))
    if style == "both":
        doc.lines.append(("left", rng.choice(["Total includes GST of", "Total includes GST"])
                          + " " + fmt_amount(printed_gst, dollar=True), "small"))
    elif style == "statement":
        doc.lines.append(("left", rng.choice(["Total includes GST", "Price includes GST", "All prices include GST"]),
                          "small"))
    if style == "none":
        doc.notes.append("no GST shown")
    if any(item.gst_free for item in doc.items):
        doc.lines.append(("left", "* denotes GST-free item", "small"))

    doc.fields["total"] = fmt_amount(printed_total, thousands=False)
    doc.fields["gst"] = fmt_amount(printed_gst, thousands=False) if style in ("amount", "both") else None
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
            doc.lines.append(("lr", item.description, fmt_amount(item.amount) + mark))
            unit = item.unit_price
            if "." in item.quantity and item.unit_price:  # weighed goods
                doc.lines.append(("left", f"   {item.quantity} kg @ ${unit}/kg", "small"))
            else:
                doc.lines.append(("left", f"   {item.quantity} x ${unit}", "small"))
        else:
            doc.lines.append(("lr", f"{item.quantity} x {item.description} @ {item.unit_price}",
                              fmt_amount(item.amount) + mark))


# ---------------------------------------------------------------------------------------------
# kinds
# ---------------------------------------------------------------------------------------------
def retail_receipt(rng: random.Random, kind: str, choices: Choices) -> Document:
    doc = Document(kind=kind, fields={name: None for name in ALL_FIELDS}, items=[])
    if kind == "cafe":
        name = rng.choice(CAFES)
        count = rng.randint(1, 5)
        for desc, price in rng.sample(CAFE_MENU, count):
            qty = rng.choices([1, 2, 3, 4], weights=[70, 20, 6, 4])[0]
            doc.items.append(Item(desc, str(qty), price, money(Decimal(price) * qty)))
        if rng.random() < 0.08:  # a catering order pushes it over the threshold
            doc.items.append(Item("Catering Platter", "1", "85.00", Decimal("85.00")))
    elif kind == "supermarket":
        name = rng.choice(SUPERMARKETS)
        for desc, price, gst_free, weighed in rng.sample(GROCERIES, rng.randint(3, 9)):
            if weighed:
                qty = Decimal(rng.randint(250, 2400)) / 1000
                doc.items.append(Item(desc, quantity_text(qty), price, money(qty * Decimal(price)), gst_free))
            else:
                qty = rng.choices([1, 2, 3], weights=[75, 20, 5])[0]
                doc.items.append(Item(desc, str(qty), price, money(Decimal(price) * qty), gst_free))
    else:
        name = rng.choice(HARDWARE_STORES)
        for desc, price in rng.sample(HARDWARE, rng.randint(1, 5)):
            qty = rng.choices([1, 2, 4, 6, 10], weights=[55, 20, 10, 10, 5])[0]
            if sum((i.amount for i in doc.items), Decimal(0)) + Decimal(price) * qty >= BUYER_THRESHOLD:
                break  # retail receipts stay under $1,000
            doc.items.append(Item(desc, str(qty), price, money(Decimal(price) * qty)))
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
    doc.items.append(Item("Catering Platter", "1", fmt_amount(rest, thousands=False), rest))
    doc.notes.append(f"total exactly {target}")


def fuel_receipt(rng: random.Random, choices: Choices) -> Document:
    doc = Document(kind="fuel", fields={name: None for name in ALL_FIELDS}, items=[])
    fuel_type, litres, cents, per_litre, amount = fuel_purchase(doc, rng, shop_chance=0.3)

    _supplier_block(doc, rng, choices, rng.choice(SERVOS))
    _title(doc, rng, choices, "RECEIPT")
    _date_line(doc, rng, choices, _random_day(rng))
    _receipt_number(doc, rng)
    doc.lines.append(("rule",))
    doc.lines.append(("left", f"Pump {rng.randint(1, 12)}", "small"))
    doc.lines.append(("lr", fuel_type, fmt_amount(amount)))
    doc.lines.append(("left", f"   {litres:.2f} L @ {cents} c/L", "small"))
    for item in doc.items[1:]:
        doc.lines.append(("lr", f"{item.quantity} x {item.description} @ {item.unit_price}", fmt_amount(item.amount)))
    _inclusive_totals(doc, rng, choices)
    _payment(doc, rng)
    doc.lines += [("gap", 10), ("center", "Drive safely", "small")]
    return doc


def tax_invoice(rng: random.Random, kind: str, choices: Choices) -> Document:
    doc = Document(kind=kind, fields={name: None for name in ALL_FIELDS}, items=[])
    supplier, services = rng.choice(SUPPLIERS)
    large = kind == "invoice_large"
    subtotal = _invoice_items(doc, rng, choices, services, large)
    _supplier_block(doc, rng, choices, supplier)
    _title(doc, rng, choices, "INVOICE")
    number = f"INV-{rng.randint(100, 99999):05d}"
    doc.fields["invoice_number"] = number
    doc.lines.append(("lr", "Invoice No:", number))
    _date_line(doc, rng, choices, _random_day(rng), label=rng.choice(["Date", "Invoice Date", "Issue Date"]))
    _bill_to(doc, rng, choices, large)

    style = "amount" if choices.gst_style in ("amount", "both") or choices.bad_arithmetic else choices.gst_style
    if style != "amount":
        # Priced GST-inclusive: the lines are shown inclusive and add up to the total.
        for item in doc.items:
            inclusive_unit = money(Decimal(item.unit_price) * Decimal("1.1"))
            item.unit_price = fmt_amount(inclusive_unit, thousands=False)
            item.amount = money(inclusive_unit * Decimal(item.quantity))
        doc.notes.append("priced GST-inclusive")

    doc.lines += [("gap", 8), ("cols", ["Description", "Qty", "Unit Price", "Amount"], "bold"), ("rule",)]
    for item in doc.items:
        doc.lines.append(("cols", [item.description, item.quantity, fmt_amount(Decimal(item.unit_price)),
                                   fmt_amount(item.amount)]))
    doc.lines.append(("rule",))
    if style == "amount":
        printed_total = _invoice_gst_lines(doc, rng, choices, subtotal)
    else:
        printed_total = sum((i.amount for i in doc.items), Decimal(0))
        label = "Total (inc GST)" if style == "statement" else "Total"  # "none" mentions GST nowhere
        doc.lines.append(("lr", label, fmt_amount(printed_total, dollar=True), "bold"))
        doc.fields.update(gst=None, subtotal=None, gst_included_statement=style == "statement")
        if style == "statement":
            doc.lines.append(("left", "All amounts include GST", "small"))
        else:
            doc.notes.append("no GST shown")
    doc.fields["total"] = fmt_amount(printed_total, thousands=False)
    doc.lines += [("gap", 10), ("left", "Payment due within 14 days. Thank you for your business.", "small")]
    return doc


def _invoice_items(doc: Document, rng: random.Random, choices: Choices, services: list[str], large: bool) -> Decimal:
    """Service lines priced ex GST, kept under (or lifted over) the $1,000 buyer threshold; the subtotal."""
    for desc in rng.sample(services, rng.randint(1, 4)):
        qty = rng.choice([1, 1, 1, 2, 3, 4, 5, 8, 10])
        unit = money(rng.uniform(20, 180) if not large else rng.uniform(120, 900))
        doc.items.append(Item(desc, str(qty), fmt_amount(unit, thousands=False), money(unit * qty)))
    subtotal = sum((i.amount for i in doc.items), Decimal(0))
    if large:
        while subtotal * Decimal("1.1") < BUYER_THRESHOLD:  # lift it over $1,000
            item = doc.items[0]
            qty = int(item.quantity) + 1
            item.quantity, item.amount = str(qty), money(Decimal(item.unit_price) * qty)
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
    return subtotal


def _bill_to(doc: Document, rng: random.Random, choices: Choices, large: bool) -> None:
    """The buyer's name and/or ABN (always considered on invoices of $1,000 or more)."""
    buyer = choices.buyer if (large or rng.random() < 0.5) else "none"
    if buyer != "none":
        doc.lines += [("gap", 6), ("left", "Bill To:", "bold")]
        if buyer in ("both", "name"):
            name = rng.choice(BUYERS)
            doc.fields["buyer_name"] = name
            doc.lines.append(("left", name))
            doc.lines.append(("left", random_address(rng), "small"))
        if buyer in ("both", "abn"):
            abn = valid_abn(rng)
            doc.fields["buyer_abn"] = abn
            doc.lines.append(("left", "Customer " + print_abn(abn, rng)))
    elif large:
        doc.notes.append("no buyer identity on an invoice of $1,000 or more")


def _invoice_gst_lines(doc: Document, rng: random.Random, choices: Choices, subtotal: Decimal) -> Decimal:
    """Subtotal, GST and total lines (sometimes deliberately wrong); the printed total."""
    gst = money(subtotal / 10)
    printed_gst, printed_total = gst, subtotal + gst
    if choices.bad_arithmetic:
        if rng.random() < 0.5:
            printed_gst = gst + money(rng.uniform(2, 40))
            printed_total = subtotal + printed_gst
            doc.notes.append("GST is not 10% of the subtotal")
        else:
            printed_total = printed_total + money(rng.uniform(5, 60))
            doc.notes.append("subtotal + GST does not equal the total")
    doc.lines.append(("lr", "Subtotal (ex GST)", fmt_amount(subtotal, dollar=True)))
    doc.lines.append(("lr", "GST (10%)", fmt_amount(printed_gst, dollar=True)))
    label = rng.choice(["Total", "Total Due", "Amount Due", "Total (inc GST)"])
    doc.lines.append(("lr", label, fmt_amount(printed_total, dollar=True), "bold"))
    doc.fields.update(subtotal=fmt_amount(subtotal, thousands=False), gst=fmt_amount(printed_gst, thousands=False),
                      gst_included_statement="inc GST" in label)  # "Total (inc GST)" says so too
    # A "total includes GST" line under an itemised GST is common on some templates.
    if choices.gst_style == "both" and rng.random() < 0.5:
        doc.lines.append(("left", "Total includes GST of " + fmt_amount(printed_gst, dollar=True), "small"))
        doc.fields["gst_included_statement"] = True
    return printed_total


def bank_statement(rng: random.Random) -> Document:
    doc = Document(kind="bank_statement", fields={name: None for name in ALL_FIELDS}, items=[])
    bank, holder = rng.choice(BANKS), rng.choice(PEOPLE)
    bsb = f"{rng.randint(10, 999):03d}-{rng.randint(0, 999):03d}"
    account = f"{rng.randint(10_000_000, 99_999_999)}"
    start = _random_day(rng).replace(day=1)
    end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    opening = money(rng.uniform(200, 9000))
    balance = opening
    doc.lines += [("center", bank, "title"), ("center", "Account Statement", "heading"), ("gap", 6),
                  ("lr", "Account holder:", holder), ("lr", "BSB:", bsb), ("lr", "Account number:", account),
                  ("lr", "Statement period:", f"{start:%d/%m/%Y} to {end:%d/%m/%Y}"), ("rule",),
                  ("lr", "Opening balance", fmt_amount(opening, dollar=True)),
                  ("cols", ["Date   Description", "", "Amount", "Balance"], "bold")]
    days = sorted(start + timedelta(days=rng.randint(0, (end - start).days)) for _ in range(rng.randint(4, 10)))
    for day in days:
        desc, sign = rng.choice([("EFTPOS Purchase", -1), ("Direct Credit Salary", 1), ("Transfer", -1),
                                 ("BPAY Electricity", -1), ("Interest", 1), ("ATM Withdrawal", -1)])
        amount = money(rng.uniform(5, 900)) * sign
        balance += amount
        doc.lines.append(("cols", [f"{day:%d/%m}  {desc}", "", fmt_amount(amount), fmt_amount(balance)]))
    doc.lines += [("rule",), ("lr", "Closing balance", fmt_amount(balance, dollar=True), "bold")]
    doc.fields.update(bsb=bsb, account_number=account, account_holder=holder,
                      statement_period=f"{start:%d/%m/%Y} to {end:%d/%m/%Y}",
                      opening_balance=fmt_amount(opening, thousands=False), closing_balance=fmt_amount(balance, thousands=False),
                      supplier_name=bank, tax_invoice_label=False, gst_included_statement=False)
    return doc
