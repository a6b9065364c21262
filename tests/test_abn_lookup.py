"""ABN Lookup (issue I item 5) against a loopback fake of the ABR's JSON web service.

ATO rule checked: a GST credit needs a supplier whose ABN is in force and who is registered for
GST on the invoice date (ABN Lookup, abr.business.gov.au); a checksum alone does not show that.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from llama_vision.abn_lookup import AbnLookup, AbnRecord, lookup_for, parse_answer
from llama_vision.compliance import check_compliance
from llama_vision.config import load_settings
from tests.abr_fake_server import FakeAbrServer

GUID = "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
ABN = "51824753556"  # passes the ATO checksum
OTHER = "53004085616"  # passes the checksum too


def invoice(**overrides: object) -> dict[str, object]:
    fields: dict[str, object] = {
        "supplier_name": "Bunnings Warehouse", "supplier_abn": ABN, "date": "15/03/2024",
        "tax_invoice_label": True, "subtotal": "100.00", "gst": "10.00", "total": "110.00",
        "items": [{"description": "Drill", "quantity": "1", "unit_price": "100.00", "amount": "100.00"}],
    }
    fields.update(overrides)
    return fields


@pytest.fixture
def abr():
    with FakeAbrServer(guid=GUID) as server:
        server.add(ABN, entity="BUNNINGS GROUP LIMITED", business_names=("Bunnings Warehouse",),
                   gst="2000-07-01")
        yield server


def client(server: FakeAbrServer, tmp_path: Path, **kwargs: object) -> AbnLookup:
    options: dict[str, object] = {"timeout": 2.0, "retries": 1, "backoff": 0.01,
                                  "cache_path": tmp_path / "abr.sqlite"}
    options.update(kwargs)
    return AbnLookup(GUID, base_url=server.url, **options)  # type: ignore[arg-type]


def test_abn_lookup_rule_active_and_registered_supplier_is_compliant(abr, tmp_path) -> None:
    answer = client(abr, tmp_path).lookup(ABN)
    assert answer.warning is None and answer.record is not None
    assert answer.record.active and answer.record.gst_from == "2000-07-01"
    assert abr.requests[0]["guid"] == GUID and abr.requests[0]["abn"] == ABN
    result = check_compliance(invoice(), "tax_invoice", abn_record=answer.record)
    assert result["abn_active"] is True
    assert result["gst_registered_on_date"] is True
    assert result["supplier_name_matches_abn"] is True
    assert result["verdict"] == "compliant"


def test_abn_lookup_rule_cancelled_abn_is_non_compliant_and_says_why(abr, tmp_path) -> None:
    abr.add(OTHER, entity="OLD TRADERS PTY LTD", status="Cancelled", status_from="2020-06-30", gst=None)
    record = client(abr, tmp_path).lookup(OTHER).record
    result = check_compliance(invoice(supplier_abn=OTHER, supplier_name="Old Traders"), "tax_invoice",
                              abn_record=record)
    assert result["abn_active"] is False
    assert result["verdict"] == "non_compliant"
    advice = " ".join(result["recommendations"])
    assert "cancelled since 30/06/2020" in advice and "No GST credit" in advice


def test_abn_lookup_rule_abn_cancelled_after_the_invoice_date_was_in_force(abr, tmp_path) -> None:
    abr.add(OTHER, entity="OLD TRADERS PTY LTD", status="Cancelled", status_from="2025-01-31", gst="2001-01-01")
    record = client(abr, tmp_path).lookup(OTHER).record
    result = check_compliance(invoice(supplier_abn=OTHER, supplier_name="Old Traders"), "tax_invoice",
                              abn_record=record)
    assert result["abn_active"] is True


def test_gst_registration_rule_supplier_not_registered_for_gst_is_non_compliant(abr, tmp_path) -> None:
    abr.add(OTHER, entity="SMALL CAFE PTY LTD", gst=None)
    record = client(abr, tmp_path).lookup(OTHER).record
    result = check_compliance(invoice(supplier_abn=OTHER, supplier_name="Small Cafe"), "tax_invoice",
                              abn_record=record)
    assert result["abn_active"] is True
    assert result["gst_registered_on_date"] is False
    assert result["verdict"] == "non_compliant"
    assert any("not registered for GST" in r and "cannot charge GST" in r for r in result["recommendations"])


def test_gst_registration_rule_registered_only_after_the_invoice_date(abr, tmp_path) -> None:
    abr.add(OTHER, entity="NEW SHOP PTY LTD", gst="2024-04-01")
    record = client(abr, tmp_path).lookup(OTHER).record
    result = check_compliance(invoice(supplier_abn=OTHER, supplier_name="New Shop"), "tax_invoice",
                              abn_record=record)
    assert result["gst_registered_on_date"] is False
    assert result["verdict"] == "non_compliant"
    assert any("only from 01/04/2024, after the invoice date 15/03/2024" in r for r in result["recommendations"])
    # Registered on the day before the invoice: fine.
    assert check_compliance(invoice(supplier_abn=OTHER, supplier_name="New Shop", date="02/04/2024"),
                            "tax_invoice", abn_record=record)["gst_registered_on_date"] is True


def test_abn_lookup_rule_unknown_abn_fails_abn_active_only(abr, tmp_path) -> None:
    answer = client(abr, tmp_path).lookup(OTHER)
    assert answer.warning is None and answer.record is not None and not answer.record.found
    result = check_compliance(invoice(supplier_abn=OTHER), "tax_invoice", abn_record=answer.record)
    assert result["abn_active"] is False
    assert result["gst_registered_on_date"] is None and result["supplier_name_matches_abn"] is None
    assert result["verdict"] == "non_compliant"


def test_supplier_name_rule_a_name_the_abn_does_not_carry_is_review(abr, tmp_path) -> None:
    record = client(abr, tmp_path).lookup(ABN).record
    result = check_compliance(invoice(supplier_name="Joe's Plumbing"), "tax_invoice", abn_record=record)
    assert result["supplier_name_matches_abn"] is False
    assert result["verdict"] == "review"
    # Fuzzy: case, punctuation and "Pty Ltd" do not matter; the entity name counts too.
    for printed in ("BUNNINGS WAREHOUSE", "Bunnings Group Ltd", "Bunnings"):
        assert check_compliance(invoice(supplier_name=printed), "tax_invoice",
                                abn_record=record)["supplier_name_matches_abn"] is True, printed


def test_abn_lookup_slow_answer_times_out_with_a_warning_and_other_checks_still_run(abr, tmp_path) -> None:
    abr.delays[ABN] = 1.5
    lookup = client(abr, tmp_path, timeout=0.3, retries=1)
    started = time.perf_counter()
    answer = lookup.lookup(ABN)
    assert time.perf_counter() - started < 3
    assert answer.record is None and "did not answer" in answer.warning and "2 tries" in answer.warning
    assert GUID not in answer.warning
    assert abr.count(ABN) == 2  # bounded: one retry
    result = check_compliance(invoice(), "tax_invoice", abn_record=answer.record)
    assert "abn_active" not in result and result["verdict"] == "compliant"


def test_abn_lookup_malformed_answer_gives_a_warning(abr, tmp_path) -> None:
    abr.raw[ABN] = "<html>Service unavailable</html>"
    answer = client(abr, tmp_path).lookup(ABN)
    assert answer.record is None and "cannot be read" in answer.warning
    abr.raw[OTHER] = 'callback({"Abn": "51824753556", "AbnStatus": "Active"})'  # someone else's ABN
    assert client(abr, tmp_path).lookup(OTHER).record is None


def test_abn_lookup_refused_guid_and_server_errors_give_warnings(abr, tmp_path) -> None:
    refused = AbnLookup("ffffffff-0000-0000-0000-000000000000", base_url=abr.url, cache_path=tmp_path / "c.sqlite")
    answer = refused.lookup(ABN)
    assert answer.record is None and "LLAMA_VISION_ABR_GUID" in answer.warning
    assert "ffffffff" not in answer.warning
    abr.statuses[OTHER] = [503, 503]
    answer = client(abr, tmp_path, retries=1).lookup(OTHER)
    assert answer.record is None and "HTTP 503" in answer.warning
    abr.statuses[OTHER] = [503]  # one failure, then an answer: the retry wins
    assert client(abr, tmp_path, retries=1).lookup(OTHER).record is not None


def test_abn_lookup_offline_gives_a_warning(tmp_path) -> None:
    with FakeAbrServer(guid=GUID) as server:
        url = server.url
    answer = AbnLookup(GUID, base_url=url, timeout=1, retries=0, cache_path=tmp_path / "c.sqlite").lookup(ABN)
    assert answer.record is None and "cannot reach 127.0.0.1" in answer.warning


def test_abn_lookup_cache_asks_once_per_abn_and_expires(abr, tmp_path) -> None:
    now = [1_000_000.0]
    lookup = client(abr, tmp_path, cache_seconds=3600, clock=lambda: now[0])
    assert lookup.lookup(ABN).from_cache is False
    second = lookup.lookup(ABN)
    assert second.from_cache is True and second.record is not None and second.record.active
    assert abr.count(ABN) == 1
    # A new client on the same file (the next batch) still uses it; an unknown ABN is cached too.
    again = client(abr, tmp_path, cache_seconds=3600, clock=lambda: now[0])
    assert again.lookup(ABN).from_cache and abr.count(ABN) == 1
    again.lookup(OTHER)
    again.lookup(OTHER)
    assert abr.count(OTHER) == 1
    now[0] += 3601
    assert lookup.lookup(ABN).from_cache is False and abr.count(ABN) == 2


def test_abn_lookup_concurrent_lookups_of_one_abn_make_one_request(abr, tmp_path) -> None:
    abr.delays[ABN] = 0.2
    lookup = client(abr, tmp_path)
    answers: list[AbnRecord | None] = []
    threads = [threading.Thread(target=lambda: answers.append(lookup.lookup(ABN).record)) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(answers) == 6 and all(a is not None and a.active for a in answers)
    assert abr.count(ABN) == 1


def test_parse_answer_reads_the_jsonp_shape() -> None:
    text = ('callback({"Abn":"51824753556","AbnStatus":"Active","AbnStatusEffectiveFrom":"2000-11-01",'
            '"BusinessName":[{"OrganisationName":"Bunnings"}],"EntityName":"BUNNINGS GROUP LIMITED",'
            '"Gst":"2000-07-01T00:00:00","Message":""})')
    record = parse_answer(text, ABN)
    assert record.business_names == ("Bunnings",) and record.gst_from == "2000-07-01"
    assert parse_answer('callback({"Abn":"","Message":"Search text is not a valid ABN or ACN"})', ABN).found is False


def test_abn_lookup_is_off_without_a_guid_and_the_guid_is_secret(tmp_path) -> None:
    assert lookup_for(load_settings(abr_guid="")) is None
    settings = load_settings(abr_guid=GUID, abr_cache=str(tmp_path / "c.sqlite"))
    lookup = lookup_for(settings)
    assert lookup is not None and lookup is lookup_for(settings)  # one per process
    assert GUID not in repr(settings) and GUID not in repr(lookup)


# -- through the pipeline: only when configured ---------------------------------------------------


def _pipeline_result(tmp_path: Path, **overrides: object):
    from PIL import Image

    from llama_vision.pipeline import extract
    from tests.fakes import FakeEngine, fake_settings
    from tests.test_pipeline import GOOD_ANSWER, classifying_responder

    engine = FakeEngine(fake_settings(tmp_path, **overrides), responder=classifying_responder(GOOD_ANSWER))
    return extract(Image.new("RGB", (640, 800), "white"), engine=engine, file_name="inv.png")


def test_abn_lookup_rule_in_the_pipeline_a_cancelled_abn_is_non_compliant(abr, tmp_path) -> None:
    abn = ABN  # the ABN GOOD_ANSWER prints
    abr.add(abn, entity="SOMEONE ELSE PTY LTD", status="Cancelled", status_from="2010-01-01", gst=None)
    result = _pipeline_result(tmp_path, abr_guid=GUID, abr_url=abr.url)
    assert result.compliance["abn_active"] is False and result.compliance["verdict"] == "non_compliant"
    assert "abn_lookup" in result.timings and abr.count(abn) == 1


def test_abn_lookup_is_never_asked_without_a_guid(abr, tmp_path) -> None:
    result = _pipeline_result(tmp_path, abr_url=abr.url)
    assert "abn_active" not in result.compliance and abr.requests == []


def test_abn_lookup_offline_in_the_pipeline_warns_and_keeps_the_other_checks(tmp_path) -> None:
    with FakeAbrServer(guid=GUID) as server:
        url = server.url  # closed: nothing listens there any more
    result = _pipeline_result(tmp_path, abr_guid=GUID, abr_url=url, abr_retries=0, abr_timeout=1)
    assert any("ABN Lookup did not answer" in w for w in result.warnings)
    assert "abn_active" not in result.compliance and result.compliance["abn_valid"] is True
