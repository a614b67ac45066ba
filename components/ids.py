"""Every component id in one place; pattern-matching dicts for repeated widgets."""

from __future__ import annotations

PATIENT_STORE = "patient-store"
PATIENT_HEADER = "patient-header"
KPI_ROW = "kpi-row"
LOCATION = "url"


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

# Clinical patient page
CLIN_RANGE = "clin-range"
CLIN_CUSTOM = "clin-custom-range"
CLIN_RANGE_TEXT = "clin-range-text"
CLIN_NOTES_VERSION = "clin-notes-version"
CLIN_REVIEW_TEXT = "clin-review-text"
CLIN_REVIEW_BUTTON = "clin-review-button"
CLIN_NOTE_WHEN = "clin-note-when"
CLIN_NOTE_TEXT = "clin-note-text"
CLIN_NOTE_ADD = "clin-note-add"
CLIN_NOTE_STATUS = "clin-note-status"
CLIN_NOTE_LIST = "clin-note-list"
CLIN_NIGHT = "clin-night"
CLIN_HEATMAP_METRIC = "clin-heatmap-metric"
CLIN_GLUCOSE_SECTION = "clin-glucose-section"
REPORT_START = "report-start"
REPORT_CANCEL = "report-cancel"
REPORT_TOKEN = "report-token"
REPORT_PROGRESS = "report-progress"
REPORT_STATUS = "report-status"

# Triage list
TRIAGE_SORT = "triage-sort"
TRIAGE_FILTER = "triage-filter"
TRIAGE_PAGE = "triage-page"
TRIAGE_COUNT = "triage-count"


def clin_graph(name: str) -> str:
    """A chart of the clinical patient page."""
    return f"clin-graph-{name}"


def clin_stats(panel: str) -> str:
    """The statistics list of a clinical panel."""
    return f"clin-stats-{panel}"
