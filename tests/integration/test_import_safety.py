"""Hostile and damaged files through the whole import job: clear errors, nothing stored."""

from __future__ import annotations

import zipfile

from sqlalchemy import func, select

from bench.applehealth_gen import generate_export
from data.access import Principal
from data.importer import run_import
from data.schema import observations

SYSTEM = Principal.system()
HEADER = '<?xml version="1.0" encoding="UTF-8"?>\n'
BODY = ('<HealthData locale="en_US">\n <ExportDate value="2024-01-09 22:40:00 +0200"/>\n'
        ' <Record type="HKQuantityTypeIdentifierHeartRate" sourceName="Watch" unit="count/min"'
        ' startDate="2024-01-01 01:01:36 +0200" endDate="2024-01-01 01:01:36 +0200"'
        ' value="&lol9;"/>\n</HealthData>\n')


def run(repo, path):
    patient = repo.create_patient("Anna Example", "Europe/Paris")
    job = repo.create_job(SYSTEM, patient, "apple_health", path.name, str(path),
                          path.stat().st_size)
    return run_import(repo, job.id)


def stored(repo) -> int:
    with repo.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(observations)).scalar_one()


def test_billion_laughs_is_refused_before_reading_anything(repo, tmp_path):
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10))
    path = tmp_path / "export.xml"
    path.write_text(f"{HEADER}<!DOCTYPE HealthData [{entities}]>\n{BODY}")
    job = run(repo, path)
    assert job.state == "failed" and "entit" in job.message.lower()
    assert stored(repo) == 0


def test_external_entities_are_refused_and_never_fetched(repo, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("do not read me")
    path = tmp_path / "export.xml"
    path.write_text(f'{HEADER}<!DOCTYPE HealthData [<!ENTITY lol9 SYSTEM "file://{secret}">]>'
                    f"\n{BODY}")
    job = run(repo, path)
    assert job.state == "failed" and "entit" in job.message.lower()
    assert "do not read me" not in (job.message + str(job.report))
    assert stored(repo) == 0


def test_a_zip_bomb_is_refused_by_its_compression_ratio(repo, tmp_path):
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive, archive.open(
            "apple_health_export/export.xml", "w", force_zip64=True) as member:
        member.write(HEADER.encode() + b"<HealthData>")
        block = b" " * (1 << 20)
        for _ in range(512):
            member.write(block)
    job = run(repo, path)
    assert job.state == "failed"
    assert "times its packed size" in job.message and "zip bomb" in job.message
    assert stored(repo) == 0


def test_the_broken_ios16_dtd_and_stray_control_characters_import_fully(repo, tmp_path):
    path = tmp_path / "export.zip"
    truth = generate_export(path, records=5000, seed=9, broken_dtd=True)
    job = run(repo, path)
    assert job.state == "done", job.message
    assert job.records_done == truth.total_records
    assert job.report["export_version"] == 12
    assert any("control character" in w.lower() for w in job.report["warnings"])
