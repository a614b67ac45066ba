"""Demo data: one patient login, one clinician with a care team, one admin, a year each."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import date, timedelta

from data.db import make_engine
from data.demo import SOURCES, PatientProfile, demo_profiles, generate
from data.repository import ObservationBatch, Repository

log = logging.getLogger(__name__)

DEMO_PASSWORD = "demo-password"
PATIENT_EMAIL = "patient@demo.healthdash.example"
CLINICIAN_EMAIL = "clinician@demo.healthdash.example"
ADMIN_EMAIL = "admin@demo.healthdash.example"


@dataclass(frozen=True)
class SeedReport:
    """What seeding did, for the command line."""

    created: bool
    patients: int
    rows: int
    seconds: float


def seed_demo(
    repo: Repository, hash_password: Callable[[str], str], *, seed: int = 7,
    clinic_patients: int = 25, days: int = 365, end: date | None = None,
    hr_interval_s: int = 60, clinic_hr_interval_s: int = 300, workers: int | None = None,
    progress: Callable[[str], None] = lambda _msg: None,
) -> SeedReport:
    """Create the demo accounts and their data; does nothing when they already exist.

    The demo patient's watch records heart rate every minute (a year is about 500,000
    readings: the benchmark's case); the clinic's patients every five minutes, the Apple
    Watch's usual background rate. Patients load in parallel processes (one per core):
    generating and rolling up is CPU work, and SQLite serialises the short write
    transactions itself.
    """
    started = time.perf_counter()
    if repo.user_by_email(PATIENT_EMAIL) is not None:
        return SeedReport(False, 0, 0, 0.0)
    end = end or date.today()
    password = hash_password(DEMO_PASSWORD)
    me, clinic = demo_profiles(clinic_patients, seed)
    patient_user = repo.create_user(PATIENT_EMAIL, me.name, "patient", password)
    clinician = repo.create_user(CLINICIAN_EMAIL, "Dr. Demo Clinician", "clinician", password)
    repo.create_user(ADMIN_EMAIL, "Demo Admin", "admin", password)
    jobs = [(_create(repo, me, user_id=patient_user), me, seed, hr_interval_s)]
    for i, profile in enumerate(clinic, start=1):
        jobs.append((_create(repo, profile, clinician=clinician), profile, seed + i,
                     clinic_hr_interval_s))
    url = repo.engine.url.render_as_string(hide_password=False)
    rows = 0
    with ProcessPoolExecutor(max_workers=workers or min(2, os.cpu_count() or 1)) as pool:
        futures = {
            pool.submit(_load, url, pid, profile, s, end, days, interval): profile.name
            for pid, profile, s, interval in jobs
        }
        for done, future in enumerate(as_completed(futures), start=1):
            count = future.result()
            rows += count
            progress(f"{futures[future]}: {count:,} rows ({done}/{len(jobs)})")
    return SeedReport(True, len(jobs), rows, time.perf_counter() - started)


def _create(repo: Repository, profile: PatientProfile, user_id: int | None = None,
            clinician: int | None = None) -> int:
    patient_id = repo.create_patient(
        profile.name, profile.timezone, profile.birth_date, profile.sex, user_id
    )
    if clinician is not None:
        repo.add_to_care_team(clinician, patient_id)
    return patient_id


def _load(url: str, patient_id: int, profile: PatientProfile, seed: int, end: date, days: int,
          hr_interval_s: int) -> int:
    """Generate and store one patient's data (runs in a worker process)."""
    engine = make_engine(url)
    repo = Repository(engine)
    count = 0
    last = end - timedelta(days=profile.silent_days)
    for chunk in generate(profile, seed, last, days - profile.silent_days,
                          hr_interval_s=hr_interval_s):
        repo.upsert_observations(ObservationBatch(patient_id, chunk, dict(SOURCES)))
        count += len(chunk)
    repo.refresh_summary(patient_id)  # the clinic list reads it; computed once here
    engine.dispose()
    return count
