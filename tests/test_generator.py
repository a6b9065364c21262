"""samples/generator.py: deterministic, internally consistent ground truth, decodable images, and
expected compliance that follows ARCHITECTURE §5 (computed independently of compliance.py)."""

from __future__ import annotations

import hashlib
import json
import random
import subprocess
import sys
from collections import Counter
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from stdnum.au import abn as stdnum_abn

from llama_vision.config import load_settings
from llama_vision.documents import load_pages
from llama_vision.fields import ALL_FIELDS, ITEM_KEYS, normalise_fields
from llama_vision.samples import BUNDLED_DIR, bundled_samples
from llama_vision.samples import generator as gen

VOCABULARY = ("tax_invoice_label", "supplier_identity", "supplier_abn", "issue_date", "item_description",
              "gst_amount", "buyer_identity")
VERDICTS = {"compliant", "non_compliant", "not_required", "review"}


def digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def truths() -> list[dict]:
    """Ground truth of many documents, without rendering (fast): the same code path as files."""
    out = []
    for index in range(400):
        rng = random.Random(f"truth-{index}")
        kind = gen.KINDS[index % len(gen.KINDS)]
        out.append(gen.make_document(rng, kind).truth(seed=0, index=index))
    return out


# -------------------------------------------------------------------------------------------
# files on disk
# -------------------------------------------------------------------------------------------
def test_same_seed_same_files_other_seed_other_files(tmp_path):
    first = gen.generate_documents(tmp_path / "a", 6, seed=3, max_side=700)
    second = gen.generate_documents(tmp_path / "b", 6, seed=3, max_side=700)
    gen.generate_documents(tmp_path / "c", 6, seed=4, max_side=700)
    assert [p.name for p in first] == [p.name for p in second]
    assert digest(tmp_path / "a") == digest(tmp_path / "b")
    assert digest(tmp_path / "a") != digest(tmp_path / "c")
    assert len(list((tmp_path / "a").iterdir())) == 12  # an image and a .json each


def test_every_kind_on_request_and_images_load_as_pages(tmp_path):
    paths = gen.generate_documents(tmp_path, len(gen.KINDS), seed=5, kinds=gen.KINDS, max_side=800)
    settings = load_settings()
    kinds = set()
    for path in paths:
        assert path.suffix in (".jpg", ".png")
        truth = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        kinds.add(truth["generator"]["kind"])
        assert truth["document_type"] == gen.DOCUMENT_TYPES[truth["generator"]["kind"]]
        pages = load_pages(path, settings=settings)
        assert len(pages) == 1 and pages[0].mode == "RGB"
        assert max(pages[0].size) <= 800 and min(pages[0].size) >= 300
    assert kinds == set(gen.KINDS)


def test_default_mix_has_no_bank_statements_and_is_varied(tmp_path):
    paths = gen.generate_documents(tmp_path, 6, seed=0, max_side=600)
    kinds = [json.loads(p.with_suffix(".json").read_text())["generator"]["kind"] for p in paths]
    assert sorted(kinds) == sorted(gen.DEFAULT_KINDS)


def test_unknown_kind_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown kind"):
        gen.generate_documents(tmp_path, 1, kinds=["payslip"])


def test_some_documents_are_phone_photo_sized(tmp_path):
    sizes = [gen.choose_style(random.Random(i), "cafe")["long_side"] for i in range(200)]
    assert max(sizes) >= 3000 and min(sizes) < 2100
    assert 0.1 < sum(s >= 3000 for s in sizes) / len(sizes) < 0.35


def test_save_as_pdf_round_trips_through_load_pages(tmp_path):
    image_path = gen.generate_documents(tmp_path, 1, seed=9, max_side=900)[0]
    from PIL import Image

    with Image.open(image_path) as image:
        pdf = gen.save_as_pdf([image, image.rotate(90, expand=True)], tmp_path / "two pages.pdf")
    pages = load_pages(pdf, settings=load_settings())
    assert len(pages) == 2


# -------------------------------------------------------------------------------------------
# ground truth
# -------------------------------------------------------------------------------------------
def test_truth_has_the_result_schema_and_is_already_normalised(truths):
    for truth in truths:
        assert set(truth) >= {"document_type", "fields", "compliance"}
        assert tuple(truth["fields"]) == ALL_FIELDS
        for item in truth["fields"]["items"]:
            assert tuple(item) == ITEM_KEYS
        normalised, warnings = normalise_fields(truth["fields"])
        assert normalised == truth["fields"], truth["generator"]
        assert all("checksum" in w for w in warnings), warnings


def test_abns_follow_the_checksum(truths):
    seen = Counter()
    for truth in truths:
        fields, compliance = truth["fields"], truth["compliance"]
        abn = fields["supplier_abn"]
        if abn is None:
            assert compliance["abn_valid"] is None
            seen["none"] += 1
        else:
            assert len(abn) == 11 and abn.isdigit()
            assert compliance["abn_valid"] == stdnum_abn.is_valid(abn)
            seen["valid" if compliance["abn_valid"] else "invalid"] += 1
        if fields["buyer_abn"]:
            assert stdnum_abn.is_valid(fields["buyer_abn"])
    assert seen["valid"] and seen["invalid"] and seen["none"]


def test_our_checksum_agrees_with_stdnum():
    rng = random.Random(1)
    candidates = [str(rng.randint(10**10, 10**11 - 1)) for _ in range(3000)]
    candidates += [gen.valid_abn(rng) for _ in range(200)] + [gen.invalid_abn(rng) for _ in range(200)]
    candidates += ["10429576889", "99429576889", "51824753556", "53004085616"]  # "10" vs "99" check digits
    for number in candidates:
        assert gen.abn_checksum_ok(number) == stdnum_abn.is_valid(number), number


def money(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def test_arithmetic_adds_up_unless_deliberately_wrong(truths):
    wrong = 0
    for truth in truths:
        fields, notes = truth["fields"], truth["generator"]["notes"]
        deliberately_wrong = any("does not" in n or "is not 10%" in n for n in notes)
        total, gst, subtotal = money(fields["total"]), money(fields["gst"]), money(fields["subtotal"])
        for item in fields["items"]:
            product = Decimal(item["quantity"]) * Decimal(item["unit_price"])
            assert abs(product - Decimal(item["amount"])) <= Decimal("0.005"), item
        if truth["document_type"] == "bank_statement":
            continue
        line_sum = sum(Decimal(i["amount"]) for i in fields["items"])
        if deliberately_wrong:
            wrong += 1
            assert truth["compliance"]["gst_consistent"] is False
            continue
        assert line_sum in {subtotal, total}, truth
        assert truth["compliance"]["totals_consistent"] is True
        if subtotal is not None and gst is not None:
            assert subtotal + gst == total
            assert abs(gst - subtotal / 10) <= Decimal("0.02")
        if gst is not None:
            assert gst <= total / 11 + Decimal("0.02")
        assert truth["compliance"]["gst_consistent"] in (True, None)
    assert wrong > 0


def test_fuel_fields(truths):
    fuel = [t for t in truths if t["document_type"] == "fuel_receipt"]
    assert fuel
    for truth in fuel:
        fields = truth["fields"]
        assert fields["fuel_type"] in {"Unleaded 91", "E10", "Diesel", "Premium 95", "Premium 98"}
        litres, per_litre = Decimal(fields["litres"]), Decimal(fields["price_per_litre"])
        assert 15 <= litres <= 80 and Decimal("1.5") < per_litre < Decimal("2.4")
        assert fields["items"][0]["description"] == fields["fuel_type"]


def test_dates_are_day_first_and_real(truths):
    for truth in truths:
        if truth["fields"]["date"] is not None:
            datetime.strptime(truth["fields"]["date"], "%d/%m/%Y")
            assert truth["compliance"]["date_valid"] is True


def test_expected_compliance_vocabulary_and_rules(truths):
    verdicts, missing = Counter(), Counter()
    for truth in truths:
        compliance, fields = truth["compliance"], truth["fields"]
        verdicts[compliance["verdict"]] += 1
        assert compliance["verdict"] in VERDICTS
        assert list(compliance["missing_elements"]) == [e for e in VOCABULARY if e in compliance["missing_elements"]]
        missing.update(compliance["missing_elements"])
        total = Decimal(fields["total"]) if fields["total"] else None
        if truth["document_type"] == "bank_statement":
            assert compliance["verdict"] == "not_required"
            continue
        assert compliance["tax_invoice_required"] == (total > Decimal("82.50"))
        if total <= Decimal("82.50"):
            assert compliance["verdict"] == "not_required"
        if ("buyer_identity" in compliance["missing_elements"]) != (
            total >= 1000 and not fields["buyer_name"] and not fields["buyer_abn"]
        ):
            pytest.fail(f"buyer_identity wrong: {truth}")
        if fields["supplier_abn"] is None:
            assert "supplier_abn" in compliance["missing_elements"]
        if not fields["tax_invoice_label"]:
            assert "tax_invoice_label" in compliance["missing_elements"]
    assert set(verdicts) == VERDICTS, verdicts
    assert set(missing) >= set(VOCABULARY) - {"supplier_identity", "item_description"}, missing


def test_edge_cases_are_generated(truths):
    totals = Counter(t["fields"]["total"] for t in truths)
    assert totals["82.50"] >= 1 and totals["1000.00"] >= 1  # the thresholds themselves
    statement_only = [t for t in truths if t["fields"]["gst"] is None and t["fields"]["gst_included_statement"]]
    assert statement_only
    for truth in statement_only:  # a bare statement only where GST is exactly 1/11 of the total
        assert "gst_amount" not in truth["compliance"]["missing_elements"]


@pytest.mark.parametrize(
    "fields, expected",
    [
        ({"total": "82.50", "supplier_abn": None}, {"verdict": "not_required", "tax_invoice_required": False}),
        ({"total": "82.51"}, {"verdict": "compliant", "tax_invoice_required": True}),
        ({"total": "82.51", "supplier_abn": None}, {"verdict": "non_compliant", "missing_elements": ["supplier_abn"]}),
        ({"total": "200.00", "supplier_abn": "51824753557"}, {"verdict": "non_compliant", "abn_valid": False,
                                                             "missing_elements": []}),
        ({"total": "110.00", "gst": "10.00", "subtotal": "100.00"}, {"verdict": "compliant", "gst_consistent": True}),
        ({"total": "110.00", "gst": "10.00", "subtotal": "101.00"}, {"verdict": "review", "gst_consistent": False}),
        ({"total": "110.00", "gst": "11.00", "subtotal": "99.00"}, {"verdict": "review", "gst_consistent": False}),
        ({"total": "110.00", "gst": "10.00"}, {"gst_consistent": True}),
        ({"total": "110.00", "gst": "10.02"}, {"gst_consistent": True}),  # within 2 cents
        ({"total": "110.00", "gst": "5.00"}, {"gst_consistent": True}),  # GST-free items: a note, not a failure
        ({"total": "110.00", "gst": "10.03"}, {"gst_consistent": False}),
        ({"total": "110.00", "gst": "11.00"}, {"gst_consistent": False, "verdict": "review"}),  # 10% of total
        ({"total": "110.00", "gst": None, "gst_included_statement": True}, {"verdict": "compliant",
                                                                            "gst_consistent": None}),
        ({"total": "110.00", "gst": None, "gst_included_statement": False}, {"missing_elements": ["gst_amount"]}),
        ({"total": "1000.00"}, {"missing_elements": ["buyer_identity"], "verdict": "non_compliant"}),
        ({"total": "999.99"}, {"missing_elements": [], "verdict": "compliant"}),
        ({"total": "1000.00", "buyer_abn": "51824753556"}, {"missing_elements": []}),
        ({"total": "100.00", "tax_invoice_label": False, "date": None},
         {"missing_elements": ["tax_invoice_label", "issue_date"], "date_valid": None}),
    ],
)
def test_expected_compliance_table(fields, expected):
    base = {name: None for name in gen.ALL_FIELDS}
    base.update(supplier_name="Bean There Cafe", supplier_abn="51824753556", date="15/03/2024",
                tax_invoice_label=True, gst=None, gst_included_statement=True,
                items=[{"description": "Widget", "quantity": "1", "unit_price": "100.00", "amount": "100.00"}])
    base.update(fields)
    result = gen.expected_compliance(base, "tax_invoice")
    for key, value in expected.items():
        assert result[key] == value, (key, result)


def test_generator_does_not_import_the_code_it_checks():
    code = ("import sys, llama_vision.samples.generator; "
            "bad = {'llama_vision.compliance', 'llama_vision.fields'} & set(sys.modules); assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


# -------------------------------------------------------------------------------------------
# bundled samples
# -------------------------------------------------------------------------------------------
def test_bundled_samples_are_small_with_truth():
    samples = bundled_samples()
    assert [p.stem for p in samples] == sorted(gen.BUNDLED)
    verdicts = {}
    for path in samples:
        assert path.stat().st_size < 200_000
        truth = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        verdicts[path.stem] = truth["compliance"]["verdict"]
        assert load_pages(path, settings=load_settings())[0].mode == "RGB"
    assert verdicts == {"cafe_receipt": "not_required", "tax_invoice_over_1000": "compliant",
                        "fuel_receipt": "compliant", "no_abn_hardware_receipt": "non_compliant"}


def test_bundled_samples_are_what_the_generator_writes(tmp_path):
    written = gen.write_bundled_samples(tmp_path)
    for path in written:
        committed = BUNDLED_DIR / path.name
        assert json.loads(path.with_suffix(".json").read_text()) == json.loads(
            committed.with_suffix(".json").read_text()
        ), f"{committed.name}: run write_bundled_samples('llama_vision/samples/bundled') and commit"


# -------------------------------------------------------------------------------------------
# the layout families are an option beside the kinds (tests/test_generator_families.py has the rest)
# -------------------------------------------------------------------------------------------
def test_families_leave_the_kinds_and_their_output_alone(tmp_path):
    before = gen.generate_documents(tmp_path / "a", 3, seed=21, max_side=500)
    families = gen.generate_documents(tmp_path / "f", 2, seed=21, families="all", max_side=500)
    after = gen.generate_documents(tmp_path / "b", 3, seed=21, max_side=500)
    assert digest(tmp_path / "a") == digest(tmp_path / "b")
    assert [p.name for p in before] == [p.name for p in after]
    for path in before:
        truth = json.loads(path.with_suffix(".json").read_text())
        assert "family" not in truth["generator"] and "boxes" not in truth
    for path in families:
        truth = json.loads(path.with_suffix(".json").read_text())
        assert truth["generator"]["family"] in path.name and truth["boxes"]
