"""Parse in a second process while this one writes: the import takes max(parse, store)
instead of their sum on a machine with two cores.

The queue is bounded, so memory stays at a few batches whatever the file's size. Rows
cross as numpy columns (`RowColumns`), not as tuples: pickling columns costs the parser
about what pickling tuples did, and the writer then neither unpickles 50,000 tuples per
batch nor turns them into columns again.
"""

from __future__ import annotations

import gc
import multiprocessing
import queue as queues
import traceback
from collections.abc import Iterator

from data.collectors.apple_health import Batch, ExportError, Report, open_export, parse
from data.collectors.apple_health_types import RowColumns

QUEUE_BATCHES = 3


def batches(path: str, report: Report, batch_size: int = 50_000) -> Iterator[Batch]:
    """The parser's batches; `report` is filled in when the iteration ends."""
    if multiprocessing.current_process().daemon:
        # daemonic workers (Celery's prefork pool) may not start processes: parse inline
        yield from parse(open_export(path), report, batch_size=batch_size)
        return
    context = multiprocessing.get_context("spawn")
    queue = context.Queue(maxsize=QUEUE_BATCHES)
    worker = context.Process(target=_produce, args=(path, queue, batch_size), daemon=True)
    worker.start()
    try:
        while True:
            try:
                kind, payload = queue.get(timeout=1.0)
            except queues.Empty:
                if not worker.is_alive():
                    raise RuntimeError(
                        f"the parser process died (exit code {worker.exitcode})") from None
                continue
            if kind == "batch":
                yield payload
                continue
            if kind == "report":
                report.__dict__.update(payload.__dict__)
                return
            if kind == "export-error":
                raise ExportError(payload)
            raise RuntimeError(f"the parser process failed:\n{payload}")
    finally:
        if worker.is_alive():
            worker.terminate()
        worker.join(timeout=10)


def _produce(path: str, queue, batch_size: int) -> None:
    # This process only parses and exits: the rows and attribute dicts it makes are freed
    # by reference counting and form no cycles, so the cyclic collector would only walk
    # the batch being built, over and over (about 4% of the parse).
    gc.disable()
    report = Report()
    try:
        for batch in parse(open_export(path), report, batch_size=batch_size):
            batch.rows = RowColumns.from_rows(batch.rows)
            queue.put(("batch", batch))
        queue.put(("report", report))
    except ExportError as exc:
        queue.put(("export-error", str(exc)))
    except Exception:  # reported to the parent, which fails the job
        queue.put(("crash", traceback.format_exc()))
