"""Clinical review on SQLite and PostgreSQL: notes, reviews, triage rows, panel numbers.

Every expected number below is worked out by hand from the readings written in the test.
"""

from __future__ import annotations

import pytest

from components.clinical_stats import bp_stats, spo2_stats, weight_stats
from data import panels
from data.access import AccessDenied, Principal
from data.repository import ObservationBatch, Repository
from tests.integration.test_repository import KINDS, off, reading, ts

KINDS = {**KINDS, "Cuff": "other", "Ring": "other"}


@pytest.fixture
def clinic(repo: Repository):
    """One patient on doc's care team, another clinician, the patient's own login, an admin."""
    doc = repo.create_user("doc@example.org", "Dr Doc", "clinician", None)
    other = repo.create_user("other@example.org", "Dr Other", "clinician", None)
    own = repo.create_user("ada@example.org", "Ada", "patient", None)
    admin = repo.create_user("admin@example.org", "Admin", "admin", None)
    pid = repo.create_patient("Ada Example", "Europe/Paris", user_id=own)
    repo.add_to_care_team(doc, pid)
    return {
        "pid": pid,
        "doc": Principal(doc, "clinician"),
        "other": Principal(other, "clinician"),
        "patient": Principal(own, "patient", pid),
        "admin": Principal(admin, "admin"),
    }


def bp(when: str, systolic: float, diastolic: float) -> list[tuple]:
    return [reading("bp_systolic", when, systolic, "Cuff"),
            reading("bp_diastolic", when, diastolic, "Cuff")]


def write(repo: Repository, pid: int, rows: list[tuple]) -> None:
    repo.upsert_observations(ObservationBatch(pid, rows, KINDS))


WEEK = [*bp("2026-11-20 07:30", 150, 95), *bp("2026-11-20 20:00", 130, 85),
        *bp("2026-11-21 08:00", 122, 79), *bp("2026-11-21 21:00", 118, 77)]
NOV = panels.Window(0, ts("2026-11-01 00:00"), ts("2026-11-22 00:00"), "Europe/Paris")


def window(pid: int) -> panels.Window:
    return panels.Window(pid, NOV.start, NOV.end, NOV.tz)


def test_blood_pressure_panel_pairs_readings_and_splits_morning_and_evening(repo, clinic):
    write(repo, clinic["pid"], WEEK)
    panel = panels.blood_pressure(repo, clinic["doc"], window(clinic["pid"]))
    assert panel.systolic.tolist() == [150, 130, 122, 118]
    assert panel.diastolic.tolist() == [95, 85, 79, 77]
    text = {s.key: (s.text, s.detail) for s in bp_stats(panel)}
    # (150+130+122+118)/4 = 130, (95+85+79+77)/4 = 84: stage 1 by the systolic
    assert text["bp_mean"] == ("130/84 mmHg", "Stage 1 hypertension · 4 readings")
    assert text["bp_morning"] == ("136/87 mmHg", "2 readings")  # 07:30 and 08:00
    assert text["bp_evening"] == ("124/81 mmHg", "2 readings")  # 20:00 and 21:00
    assert text["bp_latest"] == ("118/77 mmHg", "Normal")
    shares = panel.summary.category_share
    for label in ("Normal", "Elevated", "Stage 1 hypertension", "Stage 2 hypertension"):
        assert shares[label] == pytest.approx(25.0)


def test_spo2_nights_are_dated_by_the_morning_and_skip_daytime(repo, clinic):
    write(repo, clinic["pid"], [
        reading("spo2", "2026-11-20 23:00", 93, "Ring"),
        reading("spo2", "2026-11-21 03:00", 88, "Ring"),
        reading("spo2", "2026-11-21 12:00", 97, "Ring"),  # daytime: not part of a night
    ])
    panel = panels.spo2(repo, clinic["doc"], window(clinic["pid"]))
    assert panel.nightly.night.tolist() == [ts("2026-11-21 00:00") + off("2026-11-21 00:00") * 60]
    assert panel.nightly.min.tolist() == [88]
    assert panel.nightly.mean.tolist() == [90.5]
    assert [s.text for s in spo2_stats(panel)] == ["88%", "90.5%"]


def test_weight_change_over_the_range(repo, clinic):
    rows = [reading("body_mass", f"2026-11-{d + 1:02d} 07:00", 80 + d / 10, "Scale")
            for d in range(21)]
    write(repo, clinic["pid"], rows)
    panel = panels.weight(repo, clinic["doc"], window(clinic["pid"]))
    text = {s.key: s.text for s in weight_stats(panel)}
    # last 7-day average: mean(81.4 … 82.0) = 81.7; first: 80.0 alone; change +1.7 kg
    assert text == {"weight_latest": "81.7 kg", "weight_change": "+1.7 kg"}


def test_notes_are_written_by_the_care_team_and_the_patient_only(repo, clinic):
    pid = clinic["pid"]
    at = ts("2026-11-20 09:00")
    version = repo.data_version(pid)
    repo.add_note(clinic["doc"], pid, at, "  started   amlodipine 5 mg ")
    repo.add_note(clinic["patient"], pid, at + 3600, "felt dizzy")
    assert repo.data_version(pid) == version + 2, "a note invalidates cached charts"
    found = repo.notes(clinic["doc"], pid)
    assert [(n.author, n.text) for n in found] == [("Dr Doc", "started amlodipine 5 mg"),
                                                   ("Ada", "felt dizzy")]
    assert found[0].t_local == at + 60 * 60  # Paris is UTC+1 in November
    for who in ("other", "admin"):
        with pytest.raises(AccessDenied):
            repo.add_note(clinic[who], pid, at, "not mine to write")
        with pytest.raises(AccessDenied):
            repo.notes(clinic[who], pid)
    for bad, message in (("   ", "needs some text"), ("x" * 501, "at most 500")):
        with pytest.raises(ValueError, match=message):
            repo.add_note(clinic["doc"], pid, at, bad)
    assert len(repo.notes(clinic["patient"], pid)) == 2, "a refused note stores nothing"


def test_mark_reviewed_is_a_clinicians_act_and_shows_in_the_list(repo, clinic):
    pid = clinic["pid"]
    assert repo.triage(clinic["doc"])[0].review is None
    review = repo.mark_reviewed(clinic["doc"], pid, at_ts=ts("2026-11-21 10:00"))
    assert (review.reviewer, review.reviewed_ts) == ("Dr Doc", ts("2026-11-21 10:00"))
    for who in ("patient", "other", "admin"):
        with pytest.raises(AccessDenied):
            repo.mark_reviewed(clinic[who], pid)
    row = repo.triage(clinic["doc"])[0]
    assert row.review == review


def test_triage_row_flags_and_figures_follow_new_data(repo, clinic):
    pid = clinic["pid"]
    now = ts("2026-11-22 12:00")
    write(repo, pid, [*WEEK, reading("spo2", "2026-11-21 03:00", 87, "Ring")])
    [row] = repo.triage(clinic["doc"], now=now)
    assert row.stats["bp"]["latest"] == [118, 77]
    assert row.stats["bp"]["mean_7d"] == [130, 84]
    assert row.stats["spo2_min_7d"] == 87
    # last reading 21 Nov 21:00 Paris = 20:00 UTC; 22 Nov 12:00 Paris is 15 h later
    assert row.days_without_data == pytest.approx(15 / 24)
    assert [f["code"] for f in row.flags] == ["spo2_low"]
    assert row.flags[0]["severity"] == 3, "below 88% is high severity"
    # a new stage 2 reading moves the data version on: the summary is recomputed
    write(repo, pid, bp("2026-11-22 08:00", 165, 102))
    [row] = repo.triage(clinic["doc"], now=now)
    assert row.stats["bp"]["latest"] == [165, 102]
    assert row.stats["bp"]["category"] == "Stage 2 hypertension"
    assert {f["code"] for f in row.flags} >= {"bp_stage_2", "spo2_low"}
    assert row.severity == 3
    # ten days later with nothing new, the same row says the data stopped
    [row] = repo.triage(clinic["doc"], now=now + 10 * 86400)
    assert "missing_data" in {f["code"] for f in row.flags}


def test_triage_lists_only_the_care_team(repo, clinic):
    stranger = repo.create_patient("Zed Stranger", "UTC")
    write(repo, stranger, bp("2026-11-20 08:00", 190, 125))
    assert [r.patient.name for r in repo.triage(clinic["doc"])] == ["Ada Example"]
    assert repo.triage(clinic["other"]) == []
    assert repo.triage(clinic["admin"]) == []
    with pytest.raises(AccessDenied):
        repo.patient_flags(clinic["doc"], stranger)


def test_glucose_panel_time_in_ranges(repo, clinic):
    values = [50, 65, 100, 120, 150, 170, 175, 190, 260, 140]
    rows = [reading("blood_glucose", f"2026-11-20 {h:02d}:00", v, "Cgm")
            for h, v in enumerate(values)]
    repo.upsert_observations(ObservationBatch(clinic["pid"], rows, {**KINDS, "Cgm": "other"}))
    panel = panels.glucose(repo, clinic["doc"], window(clinic["pid"]))
    # 10 readings: 1 < 54, 1 in 54–69, 6 in 70–180, 1 in 181–250, 1 > 250
    assert (panel.tir.very_low, panel.tir.low, panel.tir.in_range, panel.tir.high,
            panel.tir.very_high) == (10, 10, 60, 10, 10)
    assert panel.summary.mean == pytest.approx(142.0)
    assert panel.summary.gmi == pytest.approx(3.31 + 0.02392 * 142.0)
    assert not panel.agp.representative, "one day of readings is not a representative AGP"
