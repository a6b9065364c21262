"""Per-item GST status from markers and legends (issue I item 3).

ATO rule checked: a tax invoice for a mixed supply must show the extent to which each sale is
taxable; GST is then 1/11 of the taxable lines, not of the whole total.
"""

from __future__ import annotations

import random

from llama_vision.compliance import check_compliance
from llama_vision.fields import normalise_items
from llama_vision.gst_status import mark_items, read_legend
from tests.test_abn_lookup import invoice


def test_mixed_supply_rule_legend_says_what_a_marker_means() -> None:
    assert read_legend("# GST-free item\nTOTAL 12.00") == {"#": "gst_free"}
    assert read_legend("* denotes GST free items") == {"*": "gst_free"}
    assert read_legend("^ = GST FREE") == {"^": "gst_free"}
    assert read_legend("# indicates taxable item") == {"#": "taxable"}
    assert read_legend("* Milk 2L 3.50") == {}  # an item line, not a legend


def test_mixed_supply_rule_markers_give_each_line_its_status_and_leave_the_description() -> None:
    raw = [{"description": "# Milk 2L", "amount": "3.50"}, {"description": "Chips", "amount": "4.00"},
           {"description": "Eggs", "amount": "6.80 *"}, {"description": "Bread (GST FREE)", "amount": "4.00"}]
    items, _ = normalise_items(raw)
    marked = mark_items(items, "# GST-free item\n* GST-free", raw)
    assert [(i["description"], i["gst_status"]) for i in marked] == [
        ("Milk 2L", "gst_free"), ("Chips", "taxable"), ("Eggs", "gst_free"), ("Bread", "gst_free")]
    assert normalise_items(marked)[0] == marked  # kept when normalised again
    # Markers whose meaning no legend gives are unknown (the words "GST FREE" need none); no
    # marker at all changes nothing.
    assert [i["gst_status"] for i in mark_items(items, "", raw)] == ["unknown", "unknown", "unknown", "gst_free"]
    plain, _ = normalise_items([{"description": "Chips", "amount": "4.00"}])
    assert mark_items(plain, "# GST-free item") == plain


def test_mixed_supply_rule_gst_is_checked_against_the_taxable_lines() -> None:
    items = [{"description": "Milk", "amount": "3.50", "gst_status": "gst_free"},
             {"description": "Chips", "amount": "4.40", "gst_status": "taxable"},
             {"description": "Soap", "amount": "6.60", "gst_status": "taxable"}]
    good = check_compliance(invoice(subtotal=None, gst="1.00", total="14.50", items=items), "receipt")
    assert good["gst_consistent"] is True
    assert "taxable lines $11.00" in {c["name"]: c["reason"] for c in good["checks"]}["gst_consistent"]
    # GST of 1/11 of the whole total is too much when the milk is GST-free.
    bad = check_compliance(invoice(subtotal=None, gst="1.32", total="14.50", items=items), "receipt")
    assert bad["gst_consistent"] is False


def test_mixed_supply_rule_an_unmarked_mixed_receipt_gets_the_extent_note() -> None:
    items = [{"description": "Groceries", "amount": "110.00"}]
    result = check_compliance(invoice(subtotal=None, gst="5.00", total="110.00", items=items), "receipt")
    assert any("extent to which each sale is taxable" in n for n in result["notes"])


def _page_reading(doc) -> tuple[list[dict[str, str]], str]:
    """What an engine reading the page gets: the item lines (description, printed amount) and the
    page text. Built from the generator's drawing operations, not from its truth."""
    def text(part) -> str:  # noqa: ANN001
        return part if isinstance(part, str) else "".join(t for t, _ in part)

    lines, items, rules = [], [], 0
    for op in doc.ops:
        if op[0] == "rule":
            rules += 1
            continue
        if op[0] in ("lr", "left", "center"):
            lines.append(" ".join(text(p) for p in op[1:3] if p is not None and not (isinstance(p, str) and
                                                                                   p in ("small", "bold", "title"))))
        if op[0] == "cols":
            lines.append(" ".join(op[1]))
        if op[0] == "lr" and rules == 1:
            items.append({"description": text(op[1]).strip(), "amount": text(op[2])})
        elif op[0] == "cols" and rules == 1 and op[2] != "bold" and len(op[1]) == 3:  # a GST column
            items.append({"description": op[1][0], "gst": op[1][1], "amount": op[1][2]})
    return items, "\n".join(lines)


def test_mixed_supply_rule_generated_supermarket_receipts_score_at_least_97_percent() -> None:
    from llama_vision.samples.families import make_family_document

    right = total = 0
    rng = random.Random(2024)
    for _ in range(150):
        doc = make_family_document(rng, "supermarket_gst")
        truth = doc.truth()["fields"]["items"]
        raw, page = _page_reading(doc)
        items, _ = normalise_items(raw)
        marked = mark_items(items, page, raw)
        if len(marked) != len(truth):
            total += len(truth)
            continue
        for got, want in zip(marked, truth, strict=True):
            total += 1
            right += got.get("gst_status") == want["gst_status"]
    assert right / total >= 0.97, (right, total)


def test_mixed_supply_rule_ocr_lines_keep_their_markers_and_a_gst_column_is_not_the_gst() -> None:
    from llama_vision.engines.ocr.rules import extract_fields

    lines = ["Harvest Foods", "ABN 51 824 753 556", "Date: 25/03/2024", "Milk 2L 3.10 *", "# Eggs 12pk 6.80",
             "Chips 175g 4.40", "TOTAL $14.30", "Total GST $0.40", "* Denotes GST free item"]
    fields = extract_fields(lines).fields
    raw = fields["items"]
    assert [i.get("marker") for i in raw] == ["*", "#", None]
    items, _ = normalise_items(raw)
    statuses = [i["gst_status"] for i in mark_items(items, "\n".join(lines), raw)]
    assert statuses == ["gst_free", "unknown", "taxable"]  # "#" has no legend here
    column = ["Harvest Foods", "Date: 25/03/2024", "Description GST Amount", "Laundry Powder 2kg Y 12.50",
              "Milk 2L N 3.10", "TOTAL $15.60", "Total GST $1.14"]
    assert extract_fields(column).fields["gst"] == "1.14"  # not the first item under the header
