"""The bank statement family: a bank header with its ABN, account details beside the holder's
name and address, and a Date | Description | Debit | Credit | Balance table."""

from __future__ import annotations

import random
from datetime import timedelta

from llama_vision.samples.document import Choices, fmt_amount, money, random_address
from llama_vision.samples.families.blocks import printed_abn, random_day
from llama_vision.samples.families.model import FamilyDocument, tag
from llama_vision.samples.families.words import STATEMENT_BANKS, TRANSACTIONS
from llama_vision.samples.truth import ALL_FIELDS, valid_abn
from llama_vision.samples.vocabulary import PEOPLE

__all__ = ["bank_statement_columns"]

_SPEC = [(0, "l"), (0.14, "l"), (0.66, "r"), (0.82, "r"), (1, "r")]


def bank_statement_columns(rng: random.Random, choices: Choices) -> FamilyDocument:
    doc = FamilyDocument(kind="bank_statement_columns", fields={name: None for name in ALL_FIELDS}, items=[],
                         family="bank_statement_columns", doc_type="bank_statement")
    bank, short = rng.choice(STATEMENT_BANKS)
    holder = rng.choice(PEOPLE)
    bsb = f"{rng.randint(10, 999):03d}-{rng.randint(0, 999):03d}"
    account = f"{rng.randint(10_000_000, 99_999_999)}"
    start = random_day(rng).replace(day=1)
    end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    period = f"{start:%d/%m/%Y} to {end:%d/%m/%Y}"
    opening = money(rng.uniform(200, 9000))
    doc.fields.update(supplier_name=bank, bsb=bsb, account_number=account, account_holder=holder,
                      statement_period=period, opening_balance=fmt_amount(opening, thousands=False),
                      tax_invoice_label=False, gst_included_statement=False)
    header: list[tuple] = [("left", [tag(bank, "supplier_name")], "title")]
    if choices.abn != "none":
        abn = valid_abn(rng)
        doc.fields["supplier_abn"] = abn
        header.append(("left", [tag("ABN ", None), tag(printed_abn(abn, rng), "supplier_abn"),
                                tag(f"  AFSL {rng.randint(230000, 249999)}", None)], "small"))
    else:
        doc.notes.append("no ABN printed")
    ops: list[tuple] = [("split", header, [("right", "Statement of Account", "heading"),
                                           ("right", f"{short} Everyday Account", "small")], 0.6), ("gap", 16)]
    holder_block = [("left", [tag(holder.upper() if rng.random() < 0.5 else holder, "account_holder")], "bold"),
                    ("left", random_address(rng), "small")]
    details = [("lr", "BSB", [tag(bsb, "bsb")]), ("lr", "Account number", [tag(account, "account_number")]),
               ("lr", "Statement period", [tag(period, "statement_period")], "small")]
    if rng.random() < 0.5:
        holder_block.insert(0, ("left", "Account Holder:", "small"))
    ops += [("split", holder_block, details, 0.5), ("gap", 16)]
    ops += [("cols", ["Date", "Description", "Debit", "Credit", "Balance"], "bold", _SPEC), ("rule",)]
    ops.append(("cols", [f"{start:%d %b}", "OPENING BALANCE", "", "",
                         [tag(fmt_amount(opening), "opening_balance")]], None, _SPEC))
    balance = opening
    days = sorted(start + timedelta(days=rng.randint(0, (end - start).days)) for _ in range(rng.randint(5, 12)))
    for day in days:
        desc, sign = rng.choice(TRANSACTIONS)
        amount = money(rng.uniform(5, 900))
        balance += amount * sign
        debit, credit = (fmt_amount(amount), "") if sign < 0 else ("", fmt_amount(amount))
        ops.append(("cols", [f"{day:%d %b}", desc.title() if rng.random() < 0.4 else desc, debit, credit,
                             fmt_amount(balance)], "small", _SPEC))
    doc.fields["closing_balance"] = fmt_amount(balance, thousands=False)
    ops += [("rule",), ("cols", [f"{end:%d %b}", "CLOSING BALANCE", "", "",
                                 [tag(fmt_amount(balance), "closing_balance")]], "bold", _SPEC)]
    ops += [("gap", 18), ("left", "Please check your statement and tell us about any errors straight away.", "small")]
    doc.ops = ops
    return doc
