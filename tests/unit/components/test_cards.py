"""KPI cards as a reader sees them: formatted numbers, direction in words and arrows."""

from __future__ import annotations

import math
from typing import Any

import dash_bootstrap_components as dbc
import pytest

from components.cards import format_value, kpi_card, kpi_row
from data import catalog
from data.repository.reads import Summary


def text_of(node: Any) -> str:
    """All text in a component tree, in reading order, as a screen reader would get it."""
    if node is None:
        return ""
    if isinstance(node, str | int | float):
        return str(node)
    if isinstance(node, list | tuple):
        return "".join(text_of(child) for child in node)
    return text_of(getattr(node, "children", None))


def summary(code: str, latest: float | None, avg_7d: float | None,
            avg_prev_30d: float | None) -> Summary:
    metric = catalog.get(code)
    return Summary(code, metric.name, metric.canonical_unit, latest,
                   None if latest is None else 1_709_251_200, avg_7d, avg_prev_30d)


def card_text(code: str, latest: float | None, avg_7d: float | None,
              avg_prev_30d: float | None) -> str:
    return text_of(kpi_card(summary(code, latest, avg_7d, avg_prev_30d), catalog.get(code)))


@pytest.mark.parametrize(
    ("code", "value", "expected"),
    [
        ("resting_heart_rate", 62.4, "62 bpm"),
        ("body_mass", 71.43, "71.4 kg"),
        ("steps", 8234, "8,234 steps"),
        ("steps", 12_345_678, "12,345,678 steps"),
        ("spo2", 97, "97%"),
        ("body_temperature", 36.65, "36.6 °C"),
        ("sleep_stage", 432, "7 h 12 min"),
        ("sleep_stage", 45, "45 min"),
        ("sleep_stage", 480, "8 h 0 min"),
        ("body_mass", -0.04, "0.0 kg"),
        ("body_mass", None, "—"),
        ("body_mass", math.nan, "—"),
    ],
)
def test_format_value(code: str, value: float | None, expected: str) -> None:
    assert format_value(value, catalog.get(code)) == expected


def test_card_shows_latest_average_and_a_rise_with_sign_arrow_and_words() -> None:
    text = card_text("body_mass", 71.43, 72.6, 71.4)
    assert text.startswith("Weight71.4 kg")
    assert "7-day avg: 72.6 kg" in text
    assert text.endswith("vs previous 30 days: ▲ up +1.2 kg (+1.7%)")


def test_card_shows_a_fall_with_a_down_arrow() -> None:
    card = kpi_card(summary("steps", 6500, 7000, 8000), catalog.get("steps"))
    text = text_of(card)
    assert "8,234" not in text and "6,500 steps" in text
    assert text.endswith("vs previous 30 days: ▼ down -1,000 steps (-12.5%)")
    change = card.children.children[-1]
    assert "kpi-change-down" in change.className
    arrow = change.children[1]
    assert arrow.children == "▼" and getattr(arrow, "aria-hidden") == "true"


def test_sleep_card_speaks_hours_and_minutes() -> None:
    text = card_text("sleep_stage", 432, 432, 420)
    assert "Sleep7 h 12 min" in text
    assert text.endswith("▲ up +12 min (+2.9%)")


def test_card_without_data_says_so() -> None:
    text = card_text("resting_heart_rate", None, None, None)
    assert text == "Resting heart rateNo data"


def test_card_without_a_baseline_or_change_says_so() -> None:
    assert card_text("resting_heart_rate", 60, 61, None).endswith(
        "vs previous 30 days: not enough data"
    )
    assert card_text("resting_heart_rate", 60, 61.2, 61.0).endswith(
        "vs previous 30 days: no change"
    )


def test_card_id_class_and_metric_check() -> None:
    card = kpi_card(summary("steps", 1, 1, 1), catalog.get("steps"))
    assert isinstance(card, dbc.Card)
    assert card.id == {"type": "kpi-card", "metric": "steps"}
    assert card.className == "kpi-card"
    with pytest.raises(ValueError, match="'steps' but the metric is 'spo2'"):
        kpi_card(summary("steps", 1, 1, 1), catalog.get("spo2"))


def test_kpi_row_gives_each_card_a_responsive_column() -> None:
    cards = [kpi_card(summary(code, 1, 1, 1), catalog.get(code)) for code in ("steps", "spo2")]
    row = kpi_row(cards)
    assert isinstance(row, dbc.Row)
    assert [col.children for col in row.children] == cards
    assert all((col.xs, col.sm) == (12, 6) for col in row.children)
