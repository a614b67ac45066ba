"""`healthdash`: the command line (migrate, seed, users, export, serve)."""

from __future__ import annotations

import argparse
import logging
import sys

from data import audit_context
from data.access import ROLES, Principal
from settings import get_settings


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=get_settings().log_level, format="%(levelname)s %(message)s")
    try:
        return args.func(args) or 0
    except (ValueError, KeyError, PermissionError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="healthdash", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("init-db", help="migrate the database to the newest schema")
    p.set_defaults(func=_init_db)

    p = sub.add_parser("seed-demo", help="create demo accounts with a year of synthetic data")
    p.add_argument("--seed", type=int, default=None, help="generator seed (default DEMO_SEED)")
    p.add_argument("--patients", type=int, default=25, help="patients of the demo clinician")
    p.add_argument("--days", type=int, default=365, help="days of data per patient")
    p.add_argument("--hr-interval", type=int, default=60,
                   help="demo patient's heart-rate sampling, seconds")
    p.add_argument("--clinic-hr-interval", type=int, default=300,
                   help="clinic patients' heart-rate sampling, seconds")
    p.set_defaults(func=_seed_demo)

    p = sub.add_parser("create-user", help="add a login (a patient user gets a patient record)")
    p.add_argument("email")
    p.add_argument("--role", required=True, choices=ROLES)
    p.add_argument("--name", help="display name (default: the e-mail)")
    p.add_argument("--timezone", default="UTC", help="IANA zone of a patient (default UTC)")
    p.add_argument("--password-stdin", action="store_true",
                   help="read the password from standard input (else it is prompted for)")
    p.set_defaults(func=_create_user)

    p = sub.add_parser("export", help="print a patient's series as CSV or JSON")
    p.add_argument("--patient", type=int, required=True)
    p.add_argument("--metric", required=True)
    p.add_argument("--start", help="ISO date or time; naive values are the patient's local time")
    p.add_argument("--end", help="ISO date or time (exclusive)")
    p.add_argument("--resolution", choices=("raw", "hour", "day"), default="day")
    p.add_argument("--format", choices=("csv", "json"), default="csv")
    p.set_defaults(func=_export)

    p = sub.add_parser("recompute-rollups", help="rebuild a patient's hourly and daily rollups")
    p.add_argument("--patient", type=int, required=True)
    p.set_defaults(func=_recompute)

    p = sub.add_parser("import", help="import data files (Apple Health export.zip / export.xml)")
    isub = p.add_subparsers(dest="kind", required=True)
    q = isub.add_parser("apple-health", help="import an Apple Health export.zip or export.xml")
    q.add_argument("path", help="export.zip or export.xml")
    who = q.add_mutually_exclusive_group(required=True)
    who.add_argument("--patient", type=int, help="id of the patient the data belongs to")
    who.add_argument("--new-patient", metavar="NAME", help="create the patient first")
    q.add_argument("--timezone", default="UTC", help="home zone of a new patient")
    q.set_defaults(func=_import_apple_health)
    q = isub.add_parser("resume", help="finish an import job that was stopped or killed")
    q.add_argument("job_id")
    q.set_defaults(func=_resume_import)

    p = sub.add_parser("api-key", help="API keys for scripts")
    ksub = p.add_subparsers(dest="action", required=True)
    q = ksub.add_parser("create", help="print a new API key (shown once)")
    q.add_argument("--user", required=True, metavar="EMAIL")
    q.add_argument("--scope", action="append", choices=("read", "ingest"), required=True,
                   help="repeat for several scopes")
    q.set_defaults(func=_api_key_create)

    p = sub.add_parser("audit", help="the audit log")
    asub = p.add_subparsers(dest="action", required=True)
    q = asub.add_parser("verify", help="check the hash chain; exit 1 if an event was changed "
                                       "or deleted")
    q.set_defaults(func=_audit_verify)

    p = sub.add_parser("rotate-key", help="re-encrypt every stored secret under the newest key "
                                          "of SECRET_KEYS")
    p.add_argument("--new-key", action="store_true",
                   help="only print a fresh key to put in front of SECRET_KEYS, then exit")
    p.set_defaults(func=_rotate_key)

    p = sub.add_parser("run", help="serve the app (HOST:PORT; production: gunicorn app:server)")
    p.set_defaults(func=_run)
    return parser


def _repository():
    from data.db import make_engine
    from data.repository import Repository

    return Repository(make_engine(get_settings().resolved_database_url))


def _init_db(_args) -> int:
    from data.db import detect_capabilities, make_engine
    from data.migrate import upgrade

    engine = make_engine(get_settings().resolved_database_url)
    upgrade(engine)
    print(f"schema is current; {detect_capabilities(engine).describe()}")
    return 0


def _seed_demo(args) -> int:
    from auth.passwords import hash_password
    from data import seed

    settings = get_settings()
    report = seed.seed_demo(
        _repository(), hash_password,
        seed=args.seed if args.seed is not None else settings.demo_seed,
        clinic_patients=args.patients, days=args.days, hr_interval_s=args.hr_interval,
        clinic_hr_interval_s=args.clinic_hr_interval,
        progress=lambda msg: print(f"  {msg}", flush=True),
    )
    if report.created:
        print(f"seeded {report.patients} patients, {report.rows:,} rows in {report.seconds:.1f} s")
    else:
        print("demo data already present")
    print(f"demo logins (password: {seed.DEMO_PASSWORD}):")
    for role, email in (("patient", seed.PATIENT_EMAIL), ("clinician", seed.CLINICIAN_EMAIL),
                        ("admin", seed.ADMIN_EMAIL)):
        print(f"  {role:<10} {email}")
    return 0


def _create_user(args) -> int:
    import getpass

    from auth.passwords import hash_password

    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass()
    repo = _repository()
    user_id = repo.create_user(args.email, args.name or args.email, args.role,
                               hash_password(password))
    print(f"user id: {user_id}")
    if args.role == "patient":
        patient_id = repo.create_patient(args.name or args.email, args.timezone, user_id=user_id)
        print(f"patient id: {patient_id}")
    return 0


@audit_context.in_scope("cli export")
def _export(args) -> int:
    from data.export import to_csv, to_json
    from data.queries import SeriesQuery
    from data.timeparse import parse_instant

    repo = _repository()
    system = Principal.system()
    audit_context.annotate(format=args.format, metric=args.metric, resolution=args.resolution)
    patient = repo.patient(system, args.patient)
    start = parse_instant(args.start, patient.timezone) if args.start else None
    end = parse_instant(args.end, patient.timezone) if args.end else None
    result = repo.series(system, SeriesQuery(args.patient, args.metric, start, end,
                                             max_points=None, resolution=args.resolution))
    sys.stdout.write(to_csv(result) if args.format == "csv" else to_json(result) + "\n")
    return 0


def _recompute(args) -> int:
    days = _repository().recompute_rollups(
        args.patient, progress=lambda done, total: print(f"\r{done}/{total}", end="", flush=True)
    )
    print(f"\nrebuilt {days:,} days")
    return 0


def _import_apple_health(args) -> int:
    from pathlib import Path

    path = Path(args.path)
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    repo = _repository()
    system = Principal.system()
    patient_id = args.patient
    if args.new_patient:
        patient_id = repo.create_patient(args.new_patient, args.timezone)
        print(f"patient id: {patient_id}")
    repo.patient(system, patient_id)
    job = repo.create_job(system, patient_id, "apple_health", path.name, str(path.resolve()),
                          path.stat().st_size)
    print(f"job id: {job.id}")
    return _run_job(repo, job.id)


def _resume_import(args) -> int:
    return _run_job(_repository(), args.job_id)


def _run_job(repo, job_id: str) -> int:
    import time

    from data.importer import run_import

    started = time.perf_counter()

    def bar(job) -> None:
        share = job.bytes_done / job.bytes_total if job.bytes_total else 0.0
        elapsed = time.perf_counter() - started
        print(f"\r[{'#' * int(share * 30):<30}] {share:6.1%}  {job.records_done:>11,} records  "
              f"{elapsed:6.1f} s  {job.records_done / max(elapsed, 1e-9):>9,.0f} rec/s",
              end="", flush=True)

    job = run_import(repo, job_id, on_batch=bar)
    print()
    report = job.report or {}
    for hk_type, counts in sorted(report.get("types", {}).items()):
        print(f"  {hk_type:<55} imported {counts['imported']:>9,}  duplicates "
              f"{counts['duplicates']:>9,}  not understood {counts['not_understood']:>7,}")
    for warning in report.get("warnings", [])[:20]:
        print(f"  warning: {warning}")
    print(f"{job.state}: {job.rows_inserted:,} new rows, {job.rows_duplicate:,} already stored"
          + (f" — {job.message}" if job.message else ""))
    return 0 if job.state == "done" else 1


def _api_key_create(args) -> int:
    repo = _repository()
    user = repo.user_by_email(args.user)
    if user is None:
        raise ValueError(f"no user with e-mail {args.user}")
    print(repo.create_api_key(user.id, args.scope))
    return 0


def _audit_verify(_args) -> int:
    check = _repository().verify_audit()
    if check.ok:
        print(f"audit log intact: {check.events:,} events checked")
        print(f"head hash: {check.head}")
        return 0
    print(f"audit log BROKEN at event {check.first_bad_id}: {check.problem}")
    print(f"events checked before it: {check.events:,}")
    print(f"last good hash: {check.head}")
    return 1


def _rotate_key(args) -> int:
    from data.secrets import SecretBox, generate_key

    if args.new_key:
        print(generate_key())
        print("put it first in SECRET_KEYS (keep the old keys after it), restart, then run "
              "`healthdash rotate-key`", file=sys.stderr)
        return 0
    settings = get_settings()
    box = SecretBox.from_settings(settings.secret_keys, settings.secret_key)
    repo = _repository()
    repo.configure_secrets(box)
    count = repo.rotate_secrets()
    print(f"re-encrypted {count:,} secret{'s' if count != 1 else ''} under the newest key "
          f"({box.size} key{'s' if box.size != 1 else ''} in SECRET_KEYS)")
    if box.size > 1:
        print("the older keys can now be removed from SECRET_KEYS")
    return 0


def _run(_args) -> int:
    from app import create_app

    settings = get_settings()
    create_app(settings).run(host=settings.host, port=settings.port, debug=settings.debug)
    return 0


if __name__ == "__main__":
    sys.exit(main())
