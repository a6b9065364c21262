"""Calibration maths: reliability table, ECE, accepted accuracy/coverage, isotonic fit."""

from __future__ import annotations

import pytest

from llama_vision.confidence_map import ConfidenceMap
from llama_vision.evaluation.calibration import (
    accepted, expected_calibration_error, fit_isotonic, reliability_table,
)


def test_perfectly_calibrated_buckets_have_zero_error() -> None:
    pairs = [(0.25, True)] + [(0.25, False)] * 3 + [(0.95, True)] * 19 + [(0.95, False)]
    assert expected_calibration_error(pairs) == pytest.approx(0.0)
    table = reliability_table(pairs)
    assert [(r["low"], r["count"]) for r in table] == [(0.2, 4), (0.9, 20)]


def test_overconfidence_is_measured() -> None:
    pairs = [(0.9, True), (0.9, False)]  # says 90 %, right half the time
    assert expected_calibration_error(pairs) == pytest.approx(0.4)
    assert expected_calibration_error([]) is None
    assert reliability_table([(1.0, True)])[0]["high"] == 1.0  # 1.0 falls in the top bucket


def test_accepted_counts_only_fields_at_or_above_the_threshold() -> None:
    pairs = [(0.99, True), (0.95, True), (0.9, False), (0.3, False)]
    out = accepted(pairs, 0.9)
    assert out["accepted"] == 3 and out["coverage"] == 0.75 and out["accuracy"] == pytest.approx(2 / 3)
    assert accepted(pairs, 1.0)["accuracy"] is None


def test_isotonic_fit_is_monotone_and_maps_to_the_measured_rate() -> None:
    pairs = [(0.5, False)] * 8 + [(0.5, True)] * 2 + [(0.8, True)] * 9 + [(0.8, False)] + [(0.7, True)]
    fit = fit_isotonic(pairs, prior=0.0)
    assert fit(0.5) == pytest.approx(0.2)
    assert fit(0.8) >= fit(0.7) >= fit(0.5)
    assert list(fit.values) == sorted(fit.values)
    after = [(fit(c), r) for c, r in pairs]
    assert expected_calibration_error(after) < expected_calibration_error(pairs)


def test_the_prior_keeps_a_lone_right_answer_from_claiming_certainty() -> None:
    fit = fit_isotonic([(0.1, False)] * 5 + [(0.99, True)], prior=1.0)
    assert fit(0.99) < 1.0


def test_a_map_without_centers_is_a_step_function_and_round_trips() -> None:
    fit = ConfidenceMap((0.0, 0.6), (0.3, 0.9))
    assert ConfidenceMap.from_dict(fit.to_dict()) == fit
    assert fit(0.5) == 0.3 and fit(0.7) == 0.9 and fit(-1) == 0.3
    with pytest.raises(ValueError, match="ascending"):
        ConfidenceMap.from_dict({"edges": [0.5, 0.1], "values": [0.1, 0.2]})
    with pytest.raises(ValueError, match="centers"):
        ConfidenceMap.from_dict({"edges": [0.1, 0.5], "values": [0.1, 0.2], "centers": [0.6, 0.3]})


def test_the_fitted_map_moves_with_the_raw_confidence_inside_and_below_its_blocks() -> None:
    """A field that was always right in fitting still loses confidence when the recogniser is less
    sure than anything seen in fitting: no block is a constant."""
    fit = fit_isotonic([(0.85, True), (0.9, True), (0.95, True)] * 10, prior=1.0)
    assert len(fit.edges) == 1 and fit.centers == pytest.approx((0.9,))
    assert fit(0.95) == fit(0.9) == pytest.approx(1.0)
    assert fit(0.6) == pytest.approx(0.6 / 0.9) and fit(0.6) < fit(0.8) < fit(0.9)
    two = fit_isotonic([(0.5, False)] * 5 + [(0.5, True)] * 5 + [(0.9, True)] * 10, prior=0.0)
    assert two(0.7) == pytest.approx((two(0.5) + two(0.9)) / 2)  # halfway between the block centres
    assert ConfidenceMap.from_dict(two.to_dict()).to_dict() == two.to_dict()


def test_the_shipped_ocr_calibration_is_valid_and_the_engine_reads_it_the_same_way() -> None:
    from llama_vision.engines.ocr.engine import CALIBRATION_FILE, _calibration
    from llama_vision.evaluation.calibration import load_calibration

    fits = load_calibration(CALIBRATION_FILE)
    assert {"total", "date", "supplier_abn", "supplier_name"} <= set(fits)
    engine_fits = _calibration()
    for name, fit in fits.items():
        for raw in (0.0, 0.3, 0.6, 0.75, 0.9, 0.99):
            assert engine_fits[name](raw) == fit(raw)
            assert 0.0 <= fit(raw) <= 1.0
        assert fit.centers, f"{name}: refit with scripts/fit_calibration.py (the shipped map has no centers)"
