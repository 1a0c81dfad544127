"""The team commands outside team mode: a sentence saying what to set, and exit code 3."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop import cli


def test_worker_needs_team_mode(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["worker"]) == cli.EXIT_SETUP
    err = capsys.readouterr().err
    assert "restyle-cli worker needs team mode: set RESTYLE_DATABASE_URL" in err
    assert "Traceback" not in err


def test_worker_needs_the_shared_assets_folder(home: Path, pg_url: str,
                                               monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("RESTYLE_DATABASE_URL", pg_url)
    assert cli.main(["worker", "--concurrency", "2"]) == cli.EXIT_SETUP
    assert "needs the team's shared assets folder: set RESTYLE_ASSETS_DIR" in (
        capsys.readouterr().err)


def test_a_remote_batch_needs_team_mode(home: Path, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["batch", "--provider", "tryonapi", "--task", "tryon", "--person",
                     str(tmp_path), "--remote", "--yes"])
    assert code == cli.EXIT_SETUP
    err = capsys.readouterr().err
    assert "batch --remote needs team mode: set RESTYLE_DATABASE_URL" in err


def test_queue_goes_with_remote(home: Path, tmp_path: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["batch", "--provider", "local", "--task", "recolor", "--image",
                     str(tmp_path), "--queue", "studio", "--yes"])
    assert code == cli.EXIT_USAGE
    assert "--queue names the team's task queue for --remote." in capsys.readouterr().err


def test_worker_concurrency_is_checked(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["worker", "--concurrency", "0"]) == cli.EXIT_USAGE
    assert "must be 1 to 256, not 0" in capsys.readouterr().err


def _clerk(owner_url: str, name: str) -> str:
    """A user who may read and write every table there is now (and use the sequences) but
    create none, as a team's administrator might give its desks; its URL."""
    import psycopg

    with psycopg.connect(owner_url, autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{name}" LOGIN')
        conn.execute(f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public'
                     f' TO "{name}"')
        conn.execute(f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO "{name}"')
    url = owner_url.replace("postgresql://postgres@", f"postgresql://{name}@")
    assert url != owner_url
    return url


def _remote_batch(tmp_path: Path) -> int:
    from tests.team.support import make_pictures

    images = make_pictures(tmp_path / "rooms", 2, "room", 5)
    return cli.main(["batch", "--provider", "local", "--task", "upscale", "--image",
                     str(images[0].parent), "--param", "factor=2", "--remote", "--yes"])


def test_a_remote_batch_whose_user_may_not_create_the_queue_stops_before_any_job(
        home: Path, pg_cluster: object, tmp_path: Path,
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """A team database user who may read and write the history but not create tables, before
    anyone made the queue's: `batch --remote` says so and what to do, exit 3, and no job is
    stored for a queue that is not there."""
    import psycopg

    from desktop.core.store import History
    from tests.pg_cluster import PgCluster

    assert isinstance(pg_cluster, PgCluster)
    owner_url = pg_cluster.create_database()
    History(owner_url).close()  # the history's tables, not the queue's
    monkeypatch.setenv("RESTYLE_DATABASE_URL", _clerk(owner_url, f"clerk_{owner_url[-6:]}"))
    monkeypatch.setenv("RESTYLE_ASSETS_DIR", str(tmp_path / "assets"))
    code = _remote_batch(tmp_path)
    err = capsys.readouterr().err
    assert code == cli.EXIT_SETUP, err
    assert "Could not set up the team's task queue in the team database" in err
    assert "have the database's owner run `restyle-cli db upgrade` once" in err
    assert "Traceback" not in err
    with psycopg.connect(owner_url, autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM jobs").fetchone() == (0,)


def test_after_the_owners_db_upgrade_a_user_who_may_only_use_the_tables_queues_a_batch(
        home: Path, pg_cluster: object, tmp_path: Path,
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """README's set-up for a restricted desk user: the owner's `db upgrade` makes the history's
    and the queue's tables; the desk's user, granted only their use, queues a batch."""
    import psycopg

    from tests.pg_cluster import PgCluster

    assert isinstance(pg_cluster, PgCluster)
    owner_url = pg_cluster.create_database()
    monkeypatch.setenv("RESTYLE_DATABASE_URL", owner_url)
    assert cli.main(["db", "upgrade"]) == cli.EXIT_OK
    assert "Created the team's task queue tables." in capsys.readouterr().out
    monkeypatch.setenv("RESTYLE_DATABASE_URL", _clerk(owner_url, f"desk_{owner_url[-6:]}"))
    monkeypatch.setenv("RESTYLE_ASSETS_DIR", str(tmp_path / "assets"))
    code = _remote_batch(tmp_path)
    out, err = capsys.readouterr()
    assert code == cli.EXIT_OK, err
    assert "2 jobs waiting in the team's queue 'default'" in out
    with psycopg.connect(owner_url, autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM jobs WHERE state = 'queued'").fetchone() == (
            2,)
        assert conn.execute("SELECT count(*) FROM procrastinate_jobs WHERE status = 'todo'"
                            ).fetchone() == (2,)
