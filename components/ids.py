"""Every component id in one place; pattern-matching dicts for repeated widgets."""

from __future__ import annotations

PATIENT_STORE = "patient-store"
PATIENT_HEADER = "patient-header"
KPI_ROW = "kpi-row"
LOCATION = "url"


def trend(metric: str) -> dict[str, str]:
    """A small trend chart on an overview page."""
    return {"type": "trend-graph", "metric": metric}


EXPLORER_PATIENT = "explorer-patient"
EXPLORER_TITLE = "explorer-title"
EXPLORER_GRAPH = "explorer-graph"
EXPLORER_RANGE = "explorer-range"
EXPLORER_CUSTOM = "explorer-custom-range"
EXPLORER_ROLLING = "explorer-rolling"
EXPLORER_METRIC = "explorer-metric"
EXPLORER_STATUS = "explorer-status"

PATIENT_TABLE = "patient-table"
PATIENT_SEARCH = "patient-search"

JOB_START = "job-start"
JOB_CANCEL = "job-cancel"
JOB_PROGRESS = "job-progress"
JOB_STATUS = "job-status"
JOB_TOKEN = "job-token"

SOURCES_PATIENT = "sources-patient"
ACTIVE_JOB = "active-job"
JOB_POLL = "job-poll"
UPLOAD_FILE = "upload-file"
UPLOAD_SLOT = "upload-file-slot"
UPLOAD_START = "upload-start"
UPLOAD_PROGRESS = "upload-progress"
UPLOAD_STATUS = "upload-status"
JOB_VIEW = "job-view"
JOB_CANCEL_IMPORT = "job-cancel-import"
JOB_HISTORY = "job-history"
PRIORITY_SAVE = "priority-save"
PRIORITY_STATUS = "priority-status"
