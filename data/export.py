"""Points of a series as rows for people and scripts (CSV, JSON): used by CLI and API."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

from data.repository import Series

FIELDS = ("time_local", "time_utc", "utc_offset", "value", "unit", "source")


def rows(series: Series) -> Iterator[dict[str, object]]:
    """One dict per point: local wall-clock time with its offset, UTC time, value, unit."""
    for i in range(len(series)):
        offset = timedelta(seconds=int(series.t_local[i] - series.t_utc[i]))
        utc = datetime.fromtimestamp(int(series.t_utc[i]), UTC)
        local = utc.astimezone(timezone(offset))
        yield {
            "time_local": local.isoformat(),
            "time_utc": utc.isoformat().replace("+00:00", "Z"),
            "utc_offset": local.strftime("%z"),
            "value": round(float(series.value[i]), 4),
            "unit": series.unit,
            "source": series.source[i] if series.source else "",
        }


def to_csv(series: Series) -> str:
    """CSV with a header row."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows(series))
    return out.getvalue()


def to_json(series: Series) -> str:
    """A JSON document: metric, unit, resolution and the points."""
    return json.dumps({
        "metric": series.metric, "unit": series.unit, "resolution": series.resolution,
        "points": list(rows(series)),
    })
