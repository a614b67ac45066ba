"""The repository: the only place that speaks SQL.

Split by concern into mixins (people and access, writes and rollups, reads) that share one
engine and one cache; callers only ever see `Repository`.
"""

from data.repository.imports import ActivityMixin, ImportsMixin, Job, Upload
from data.repository.keys import ApiKey, KeysMixin
from data.repository.observations import ObservationBatch, UpsertResult, WriteMixin
from data.repository.people import PatientRecord, PeopleMixin, UserRecord
from data.repository.reads import ReadMixin, Series, SleepMixin, SleepNights, Summary


class Repository(
    PeopleMixin, WriteMixin, ReadMixin, SleepMixin, ImportsMixin, ActivityMixin, KeysMixin
):
    """All persistence for HealthDash. Reads of patient data take a `Principal`."""


__all__ = [
    "ApiKey",
    "Job",
    "ObservationBatch",
    "PatientRecord",
    "Repository",
    "Series",
    "SleepNights",
    "Summary",
    "Upload",
    "UpsertResult",
    "UserRecord",
]
