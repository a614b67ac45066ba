"""Start import jobs off the web request: a Celery task in production, a process otherwise.

Job state lives in the database, so the page that started an import can be closed and
reopened, and the API can report on it, whichever process runs the job.
"""

from __future__ import annotations

import logging
import multiprocessing
from typing import Any, Protocol

from data import audit_context

log = logging.getLogger(__name__)
TASK_NAME = "healthdash.run_import"


class Dispatcher(Protocol):
    """Something that runs `run_import(job_id)` somewhere else."""

    def submit(self, job_id: str) -> None: ...


class ProcessDispatcher:
    """One fresh process per job (embedded mode, no broker)."""

    def __init__(self, database_url: str):
        self._url = database_url
        self._context = multiprocessing.get_context("spawn")

    def submit(self, job_id: str) -> None:
        """Start the job in a new process and return at once."""
        process = self._context.Process(target=run_in_process, args=(self._url, job_id),
                                        name=f"import-{job_id}", daemon=False)
        process.start()
        log.info("import %s started in process %s", job_id, process.pid)


class CeleryDispatcher:
    """Send the job to the Celery workers."""

    def __init__(self, celery_app: Any):
        self._celery = celery_app

    def submit(self, job_id: str) -> None:
        """Queue the job for a worker."""
        self._celery.send_task(TASK_NAME, args=[job_id])


@audit_context.in_scope("job import")
def run_in_process(database_url: str, job_id: str) -> None:
    """Entry point of a job process or task: a repository of its own, then the import."""
    from data.db import make_engine
    from data.importer import run_import
    from data.repository import Repository

    engine = make_engine(database_url)
    try:
        run_import(Repository(engine), job_id)
    finally:
        engine.dispose()
