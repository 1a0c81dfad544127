"""`restyle-cli db upgrade` and `restyle-cli db copy`: a real desk's history (jobs run by the
engine, with their files, a batch, reviews and votes) copied into a real PostgreSQL database,
nothing lost; conflicts, bad targets and newer histories refused in sentences."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop import cli
from desktop.cli.errors import EXIT_JOB_FAILED, EXIT_OK, EXIT_SETUP, EXIT_USAGE
from desktop.core.assets import AssetStore
from desktop.core.batches import Batch, BatchState, ItemState, Matrix, Variant, expand
from desktop.core.model import JobSpec, JobState
from desktop.core.store import MIGRATIONS, SCHEMA_VERSION, History
from desktop.core.store.batches import BatchStore
from desktop.core.store.copy import TABLES
from desktop.core.store.reviews import ReviewStore
from tests.core.exports.support import Sample, sample


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sample]:
    """A desk's history: eight jobs (run by the engine, with real files), reviews, votes and
    a batch."""
    made = sample(tmp_path_factory.mktemp("desk"))
    matrix = Matrix("tryon", ("local",), "person", ("ana.png",),
                    (Variant("red", {"garment": ["red.png"]}),))
    items = expand(matrix)
    items[0] = items[0].evolve(state=ItemState.STARTED, job_id=made.tryons[0].id, attempts=1)
    BatchStore(made.place.history).create(
        Batch("batch0001", "Spring shoot", "tryon", BatchState.FINISHED, matrix, 40.0,
              1_700_000_000.25, 1_700_000_001.5), items)
    made.place.close()
    yield made


def sqlite_url(made: Sample) -> str:
    return f"sqlite:///{made.place.root / 'history.sqlite3'}"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def every_row(target: Path | str) -> dict[str, list[tuple]]:
    """Every table's rows as stored, in key order (the asset rows without their local date)."""
    history = History(target)
    try:
        found: dict[str, list[tuple]] = {}
        with history.reading() as conn:
            for table, key in TABLES:
                cursor = conn.execute(f"SELECT * FROM {table} ORDER BY {', '.join(key)}")
                names = [d[0] for d in cursor.description]
                found[table] = [tuple(v for n, v in zip(names, row, strict=True)
                                      if not (table == "assets" and n == "created_at"))
                                for row in cursor.fetchall()]
        return found
    finally:
        history.close()


def test_a_desks_history_is_copied_whole_with_its_files(
        desk: Sample, pg_url: str, tmp_path: Path, home: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    shared = tmp_path / "team-assets"
    code, out, err = run(capsys, "db", "copy", "--from", sqlite_url(desk), "--to", pg_url,
                         "--assets-from", str(desk.place.root / "assets"),
                         "--assets-to", str(shared))
    assert code == EXIT_OK, err
    before = every_row(sqlite_url(desk))
    counts = {t: len(rows) for t, rows in before.items()}
    assert counts["jobs"] == 7 and counts["reviews"] == 4 and counts["votes"] == 3
    assert counts["batches"] == 1 and counts["batch_items"] == 1 and counts["outputs"] >= 4
    assert out.strip() == (
        f"Copied 7 jobs, {counts['assets']} images, 1 batch, 4 reviews, 3 votes from"
        f" {desk.place.root / 'history.sqlite3'} to PostgreSQL database"
        f" {pg_url.rsplit('/', 1)[1]} (postgres@127.0.0.1:{pg_url.split(':')[2].split('/')[0]});"
        f" {counts['assets']} files copied, 0 already in place; checked: counts, hashes and"
        " reviews match.")
    assert "Comparing" in err  # progress goes to stderr
    assert every_row(pg_url) == before  # every row of every table, field by field
    # The files: one per asset row, under its content address, the bytes its name says.
    store = AssetStore(shared, shared=True)
    team, mine = History(pg_url), History(sqlite_url(desk))
    try:
        for job in desk.jobs:
            assert team.get(job.id) == mine.get(job.id) is not None
            for output in job.outputs:
                data = store.path_for(output.sha256, output.mime).read_bytes()
                assert hashlib.sha256(data).hexdigest() == output.sha256
        assert ReviewStore(team).all() == ReviewStore(mine).all() != []
        assert ReviewStore(team).votes() == ReviewStore(mine).votes() != []
        assert BatchStore(team).items("batch0001") == BatchStore(mine).items("batch0001")
    finally:
        team.close()
        mine.close()
    assert not [p for p in shared.rglob("*.tmp")]

    # Copying again changes nothing and says so.
    code, out, _ = run(capsys, "db", "copy", "--from", sqlite_url(desk), "--to", pg_url,
                       "--assets-from", str(desk.place.root / "assets"),
                       "--assets-to", str(shared), "--json")
    assert code == EXIT_OK
    report = json.loads(out)
    assert report["tables"]["jobs"] == {"source": 7, "copied": 0, "skipped": 7}
    assert report["files"] == {"copied": 0, "present": counts["assets"], "missing": []}
    assert report["checked"] == ["counts", "hashes", "reviews", "votes"]
    assert report["schema"] == SCHEMA_VERSION and "postgres@127.0.0.1" in report["target"]
    assert report["message"].startswith("Copied 0 jobs, 0 images, 0 batches, 0 reviews,")
    assert every_row(pg_url) == before


def test_a_row_that_differs_in_the_target_stops_the_whole_copy(
        desk: Sample, pg_url: str, tmp_path: Path, home: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "db", "copy", "--from", sqlite_url(desk), "--to", pg_url)[0] == EXIT_OK
    # The team marked a job a favourite since; the desk made a new job meanwhile.
    team = History(pg_url)
    team.set_favorite(desk.upscale.id, True)
    team.close()
    copy = tmp_path / "desk-copy.sqlite3"
    with sqlite3.connect(desk.place.root / "history.sqlite3") as src, \
            sqlite3.connect(copy) as dst:
        src.backup(dst)
    later = History(copy)
    later.save_job(desk.upscale.evolve(id="newjob000000000000000000000000000"))
    later.close()
    before = every_row(pg_url)
    code, out, err = run(capsys, "db", "copy", "--from", f"sqlite:///{copy}", "--to", pg_url)
    assert code == EXIT_JOB_FAILED and out == ""
    assert f"Nothing was copied: 1 row(s) of the source are in the target already with other" \
           f" values (jobs {desk.upscale.id})" in err
    assert every_row(pg_url) == before  # not even the new job


def test_same_database_missing_source_and_lone_assets_flag_are_usage_errors(
        desk: Sample, pg_url: str, tmp_path: Path, home: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "db", "copy", "--from", pg_url,
                       "--to", pg_url.replace("postgres@127.0.0.1", "other:pw@localhost"))
    assert code == EXIT_USAGE and "are the same database" in err and "pw" not in err
    code, _, err = run(capsys, "db", "copy", "--from", sqlite_url(desk),
                       "--to", f"sqlite:///{desk.place.root}/../machine-a/history.sqlite3")
    assert code == EXIT_USAGE and "are the same database" in err
    code, _, err = run(capsys, "db", "copy", "--from", f"sqlite:///{tmp_path}/nope.sqlite3",
                       "--to", pg_url)
    assert code == EXIT_USAGE and "There is no history at" in err
    assert not (tmp_path / "nope.sqlite3").exists()
    code, _, err = run(capsys, "db", "copy", "--from", sqlite_url(desk), "--to", pg_url,
                       "--assets-to", str(tmp_path / "x"))
    assert code == EXIT_USAGE and "Give both --assets-from and --assets-to" in err


def test_an_unreachable_server_is_a_setup_error_without_the_password(
        desk: Sample, home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.core.test_store_backends import closed_port

    code, out, err = run(capsys, "db", "copy", "--from", sqlite_url(desk), "--to",
                         f"postgresql://ana:Very-Secret@127.0.0.1:{closed_port()}/team")
    assert code == EXIT_SETUP and out == ""
    assert err.startswith("restyle-cli: The target cannot be used. The team history,"
                          " PostgreSQL database team (ana@127.0.0.1:")
    assert "connection refused" in err and "Very-Secret" not in err
    assert "Traceback" not in err


def test_a_history_from_a_newer_restyle_is_refused(
        pg_url: str, tmp_path: Path, home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    newer = tmp_path / "newer.sqlite3"
    with sqlite3.connect(newer) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    code, _, err = run(capsys, "db", "copy", "--from", f"sqlite:///{newer}", "--to", pg_url)
    assert code == EXIT_SETUP
    assert "The source cannot be used" in err and "newer Restyle" in err
    code, _, err = run(capsys, "db", "upgrade", "--database", str(newer))
    assert code == EXIT_SETUP and "newer Restyle" in err


def test_a_damaged_image_file_stops_the_copy_before_any_row(
        desk: Sample, pg_url: str, tmp_path: Path, home: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    assets = tmp_path / "assets"
    shutil.copytree(desk.place.root / "assets", assets)
    output = desk.tryons[0].outputs[0]
    damaged = AssetStore(assets).path_for(output.sha256, output.mime)
    damaged.write_bytes(damaged.read_bytes()[:-10])
    code, _, err = run(capsys, "db", "copy", "--from", sqlite_url(desk), "--to", pg_url,
                       "--assets-from", str(assets), "--assets-to", str(tmp_path / "team"))
    assert code == EXIT_SETUP and "is not the file its name says" in err
    team = History(pg_url)
    assert team.count() == 0
    team.close()
    assert not AssetStore(tmp_path / "team").path_for(output.sha256, output.mime).exists()
    assert not list((tmp_path / "team").rglob("*.tmp"))


# -- db upgrade --------------------------------------------------------------------------------
def old_history(path: Path, version: int) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    for step in MIGRATIONS[:version]:
        conn.executescript(step)
    conn.execute(f"PRAGMA user_version = {version}")
    spec = json.dumps(JobSpec("local", "recolor").to_dict())
    conn.execute("INSERT INTO jobs (id, provider, task, state, spec, created_at, updated_at)"
                 " VALUES ('old', 'local', 'recolor', 'succeeded', ?, 1, 1)", (spec,))
    conn.close()


def test_upgrade_says_from_which_schema_to_which(tmp_path: Path, home: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "old.sqlite3"
    old_history(path, 2)
    code, out, _ = run(capsys, "db", "upgrade", "--database", f"sqlite:///{path}")
    assert code == EXIT_OK
    assert out.strip() == (f"Upgraded the history {path} from schema 2 to {SCHEMA_VERSION}"
                           f" (schema 2 -> {SCHEMA_VERSION}).")
    history = History(path)
    job = history.get("old")
    assert job is not None and job.state == JobState.SUCCEEDED
    history.close()
    code, out, _ = run(capsys, "db", "upgrade", "--database", str(path), "--json")
    assert code == EXIT_OK
    assert json.loads(out) == {
        "database": str(path), "schema_before": SCHEMA_VERSION,
        "schema_after": SCHEMA_VERSION, "upgraded": False, "created": False,
        "queue_tables": None,
        "message": f"The history {path} is up to date (schema {SCHEMA_VERSION} ->"
                   f" {SCHEMA_VERSION}: nothing to do)."}
    code, _, err = run(capsys, "db", "upgrade", "--database", str(tmp_path / "typo.sqlite3"))
    assert code == EXIT_USAGE and "There is no history at" in err
    assert not (tmp_path / "typo.sqlite3").exists()


def test_upgrade_defaults_to_the_configured_team_database(
        pg_url: str, home: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("RESTYLE_DATABASE_URL", pg_url)
    code, out, _ = run(capsys, "db", "upgrade", "--json")
    assert code == EXIT_OK
    done = json.loads(out)
    assert (done["schema_before"], done["schema_after"]) == (0, SCHEMA_VERSION)
    assert done["created"] is True and done["database"].startswith("PostgreSQL database t_")
    assert f"(schema 0 -> {SCHEMA_VERSION})" in done["message"]
    # The team database's owner sets the task queue up at the same time (the team extra).
    assert done["queue_tables"] == "created"
    assert done["message"].endswith("Created the team's task queue tables.")
    code, out, _ = run(capsys, "db", "upgrade")
    assert code == EXIT_OK and "is up to date" in out
    assert out.strip().endswith("The team's task queue tables are in place.")
    assert not (home / "data" / "history.sqlite3").exists()  # the desk's file was not made


def test_upgrade_defaults_to_the_desks_own_file(home: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "db", "upgrade")
    assert code == EXIT_OK
    assert out.strip() == (f"Created the history {home / 'data' / 'history.sqlite3'} at schema"
                           f" {SCHEMA_VERSION} (schema 0 -> {SCHEMA_VERSION}).")


def test_a_desk_still_working_on_a_job_is_not_copied(
        desk: Sample, pg_url: str, tmp_path: Path, home: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    import time

    busy = tmp_path / "busy.sqlite3"
    with sqlite3.connect(desk.place.root / "history.sqlite3") as src, \
            sqlite3.connect(busy) as dst:
        src.backup(dst)
    history = History(busy)
    running = desk.upscale.evolve(id="running00000000000000000000000000",
                                  state=JobState.RUNNING, remote_id="r-9", outputs=())
    history.save_job(running, owner="desk-pid-1", lease_until=time.time() + 60)
    history.close()
    code, _, err = run(capsys, "db", "copy", "--from", f"sqlite:///{busy}", "--to", pg_url)
    assert code == EXIT_JOB_FAILED
    assert "a Restyle is still working on 1 job(s)" in err and "copy again" in err
    team = History(pg_url)
    assert team.count() == 0
    team.close()
    # Once its lease lapses (the desk closed), the job is copied as it stands: a team worker
    # resumes it from its remote id.
    history = History(busy)
    history.release("desk-pid-1")
    history.close()
    assert run(capsys, "db", "copy", "--from", f"sqlite:///{busy}", "--to", pg_url)[0] == 0
    team = History(pg_url)
    copied = team.get(running.id)
    assert copied is not None and copied.remote_id == "r-9" and copied.owner is None
    team.close()
