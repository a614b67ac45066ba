"""The repository: the only place that speaks SQL.

Split by concern into mixins (people and access, writes and rollups, reads) that share one
engine and one cache; callers only ever see `Repository`.
"""

from data.repository.audit import AuditCheck, AuditEvent, AuditMixin
from data.repository.clinical import Buckets, ClinicalMixin, Note, Readings, Review
from data.repository.consent import ConsentMixin
from data.repository.identities import IdentityMixin
from data.repository.imports import ActivityMixin, ImportsMixin, Job, Upload
from data.repository.keys import ApiKey, KeysMixin
from data.repository.observations import ObservationBatch, UpsertResult, WriteMixin
from data.repository.people import PatientRecord, PeopleMixin, UserRecord
from data.repository.reads import ReadMixin, Series, SleepMixin, SleepNights, Summary
from data.repository.secrets import SecretsMixin
from data.repository.sessions import SessionsMixin
from data.repository.triage import TriageMixin, TriageRow


class Repository(
    PeopleMixin, WriteMixin, ReadMixin, SleepMixin, ImportsMixin, ActivityMixin, KeysMixin,
    ClinicalMixin, TriageMixin, AuditMixin, SessionsMixin, ConsentMixin, IdentityMixin,
    SecretsMixin,
):
    """All persistence for HealthDash. Reads of patient data take a `Principal`."""


__all__ = [
    "ApiKey",
    "AuditCheck",
    "AuditEvent",
    "Buckets",
    "Job",
    "Note",
    "ObservationBatch",
    "PatientRecord",
    "Readings",
    "Repository",
    "Review",
    "Series",
    "SleepNights",
    "Summary",
    "TriageRow",
    "Upload",
    "UpsertResult",
    "UserRecord",
]
