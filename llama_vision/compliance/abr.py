"""The ABN Lookup checks (issue I item 5), from an ABR record; pure functions, no network.

- abn_active: the ABN was active on the invoice date (active now, or cancelled after that date).
  A GST credit needs a supplier with an ABN in force when the supply was made.
- gst_registered_on_date: the supplier was registered for GST on the invoice date. The ABR's
  `Gst` is the start of the current registration; none means no GST may be charged (an invoice
  that charges GST anyway gives no credit).
- supplier_name_matches_abn: the printed supplier name is, fuzzily, the ABN's entity name or one
  of its business names (punctuation, case and "Pty Ltd" ignored). A mismatch is for a person to
  look at (a trading name the ABR does not list, or another business's ABN), not a failure by
  itself.

Each is None (not_applicable) when there is nothing to check: no lookup, an unknown ABN, no date.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from difflib import SequenceMatcher

from stdnum.au import abn as _stdnum_abn

from llama_vision.abn_lookup import AbnRecord
from llama_vision.compliance.facts import Facts, Outcome

ABR_CHECKS: tuple[str, ...] = ("abn_active", "gst_registered_on_date", "supplier_name_matches_abn")
#: SequenceMatcher ratio above which two normalised names are the same business.
NAME_MATCH_RATIO = 0.85
_NOISE = frozenset({"PTY", "LTD", "LIMITED", "PROPRIETARY", "CO", "COMPANY", "INC", "THE", "AND", "TRADING", "AS",
                    "TA", "TRUSTEE", "FOR", "TRUST", "ATF", "AUST", "AUSTRALIA"})


def _day(iso_or_printed: str | None) -> date | None:
    if not iso_or_printed:
        return None
    for pattern in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(iso_or_printed, pattern).date()
        except ValueError:
            continue
    return None


def _shown(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def _tokens(name: str) -> list[str]:
    words = re.findall(r"[A-Z0-9]+", name.upper().replace("&", " AND ").replace("'", ""))
    return [w for w in words if w not in _NOISE] or words


def name_similarity(printed: str, registered: str) -> float:
    """0-1: how alike two business names are once case, punctuation and 'Pty Ltd' are set aside.
    A printed name whose every word is in the registered one (a shortened name) counts as 1."""
    a, b = _tokens(printed), _tokens(registered)
    if not a or not b:
        return 0.0
    if set(a) <= set(b) and sum(len(w) for w in a) >= 4:
        return 1.0
    return max(SequenceMatcher(None, " ".join(a), " ".join(b)).ratio(),
               SequenceMatcher(None, "".join(sorted(a)), "".join(sorted(b))).ratio())


def _active(record: AbnRecord, invoice_day: date | None) -> Outcome:
    abn = _stdnum_abn.format(record.abn)
    if record.active:
        return Outcome(True, f"ABN Lookup: ABN {abn} is active.")
    since = _day(record.status_from)
    if invoice_day and since and invoice_day < since:
        return Outcome(True, f"ABN Lookup: ABN {abn} was cancelled on {_shown(since)}, after the invoice date.")
    reason = f"ABN Lookup: ABN {abn} is {(record.status or 'not active').lower()}"
    if since:
        reason += f" since {_shown(since)}" + (", before the invoice date" if invoice_day else "")
    return Outcome(False, reason + ".")


def _gst(record: AbnRecord, invoice_day: date | None) -> Outcome:
    since = _day(record.gst_from)
    if since is None:
        return Outcome(False, "ABN Lookup: the supplier is not registered for GST.")
    if invoice_day is None:
        return Outcome(None, f"ABN Lookup: registered for GST from {_shown(since)}; no invoice date to compare.")
    if invoice_day < since:
        return Outcome(False, f"ABN Lookup: registered for GST only from {_shown(since)}, after the invoice date "
                              f"{_shown(invoice_day)}.")
    return Outcome(True, f"ABN Lookup: registered for GST from {_shown(since)}, before the invoice date.")


def _name(record: AbnRecord, supplier: str | None) -> Outcome:
    names = record.names()
    if not supplier or not names:
        return Outcome(None, "No supplier name to compare with the ABN's names." if names else
                             "ABN Lookup holds no name for this ABN.")
    score, best = max((name_similarity(supplier, n), n) for n in names)
    if score >= NAME_MATCH_RATIO:
        return Outcome(True, f"ABN Lookup: '{supplier}' matches the registered name '{best}'.")
    shown = "', '".join(names[:4])
    return Outcome(False, f"ABN Lookup: '{supplier}' is not a name registered to this ABN ('{shown}').")


def abr_rules(facts: Facts, record: AbnRecord | None) -> dict[str, Outcome]:
    """The three ABN Lookup checks; {} when no lookup was made (ABN Lookup off, or no valid ABN)."""
    if record is None:
        return {}
    if not record.found:
        unknown = Outcome(False, f"ABN Lookup does not know ABN {_stdnum_abn.format(record.abn)} "
                                 f"({record.message or 'no record found'}).")
        return {"abn_active": unknown,
                "gst_registered_on_date": Outcome(None, "Not checked: the ABN is not on the register."),
                "supplier_name_matches_abn": Outcome(None, "Not checked: the ABN is not on the register.")}
    invoice_day = _day(facts.date)
    return {"abn_active": _active(record, invoice_day), "gst_registered_on_date": _gst(record, invoice_day),
            "supplier_name_matches_abn": _name(record, facts.supplier)}


def abr_advice(facts: Facts, outcomes: dict[str, Outcome]) -> list[str]:
    """What to do about a failed ABN Lookup check."""
    who, advice = facts.who, []
    active, gst, name = (outcomes.get(key) for key in ABR_CHECKS)
    if active is not None and active.ok is False:
        advice.append(f"{active.reason} No GST credit can be claimed on an ABN that was not in force: ask {who} "
                      "for their current ABN and a new tax invoice.")
    if gst is not None and gst.ok is False:
        advice.append(f"{gst.reason} A supplier not registered for GST on the invoice date cannot charge GST, so "
                      f"no GST credit can be claimed: ask {who} for a corrected invoice without GST, or a refund of "
                      "the GST charged.")
    if name is not None and name.ok is False:
        advice.append(f"{name.reason} Check that the ABN belongs to {who} (a trading name not on the register, "
                      "or another business's ABN) before claiming.")
    return advice
