"""The history's schema: `MIGRATIONS[i]` takes a database from version i to i + 1.

Every step is plain SQL that SQLite and PostgreSQL both run (`CREATE TABLE`, `ALTER TABLE ...
ADD COLUMN`, `CREATE INDEX`), so the team back-end can apply the same steps.
"""

from __future__ import annotations

import sqlite3

MIGRATIONS: tuple[str, ...] = (
    # 0 -> 1: the first schema.
    """
    CREATE TABLE jobs (
        id TEXT PRIMARY KEY,
        provider TEXT NOT NULL,
        task TEXT NOT NULL,
        state TEXT NOT NULL,
        spec TEXT NOT NULL,
        remote_id TEXT,
        remote_data TEXT NOT NULL DEFAULT '{}',
        attempts INTEGER NOT NULL DEFAULT 0,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        started_at REAL,
        finished_at REAL,
        deadline_at REAL,
        cost_credits REAL,
        error_code TEXT,
        error_message TEXT,
        provider_code TEXT,
        progress REAL,
        favorite INTEGER NOT NULL DEFAULT 0,
        note TEXT NOT NULL DEFAULT '',
        search_text TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX jobs_created ON jobs(created_at DESC);
    CREATE INDEX jobs_state ON jobs(state);
    CREATE INDEX jobs_provider_task ON jobs(provider, task);
    CREATE TABLE assets (
        sha256 TEXT PRIMARY KEY,
        mime TEXT NOT NULL,
        size INTEGER NOT NULL,
        width INTEGER,
        height INTEGER,
        created_at REAL NOT NULL
    );
    CREATE TABLE job_inputs (
        job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
        role TEXT NOT NULL,
        position INTEGER NOT NULL,
        sha256 TEXT NOT NULL REFERENCES assets(sha256),
        PRIMARY KEY (job_id, role, position)
    );
    CREATE INDEX job_inputs_sha ON job_inputs(sha256);
    CREATE TABLE outputs (
        job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        sha256 TEXT NOT NULL REFERENCES assets(sha256),
        kind TEXT NOT NULL DEFAULT 'image',
        label TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (job_id, position)
    );
    CREATE INDEX outputs_sha ON outputs(sha256);
    """,
    # 1 -> 2: who works on a job (a lease with a heartbeat), cross-process cancel requests, and
    # when its submit was sent (a job list searched too early proves nothing).
    # Plain ALTER TABLE ... ADD COLUMN, so the same step runs on PostgreSQL.
    """
    ALTER TABLE jobs ADD COLUMN owner TEXT;
    ALTER TABLE jobs ADD COLUMN lease_until REAL;
    ALTER TABLE jobs ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE jobs ADD COLUMN submitted_at REAL;
    CREATE INDEX jobs_owner ON jobs(owner);
    """,
    # 2 -> 3: batches (a matrix of jobs with a budget), reviews of outputs, blind A/B votes.
    """
    CREATE TABLE batches (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        task TEXT NOT NULL,
        state TEXT NOT NULL,
        matrix TEXT NOT NULL DEFAULT '{}',
        budget_credits REAL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE INDEX batches_created ON batches(created_at);
    CREATE TABLE batch_items (
        batch_id TEXT NOT NULL REFERENCES batches(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        row_index INTEGER NOT NULL,
        col_index INTEGER NOT NULL,
        provider TEXT NOT NULL,
        spec TEXT NOT NULL,
        expected_credits REAL,
        state TEXT NOT NULL,
        job_id TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        note TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (batch_id, position)
    );
    CREATE INDEX batch_items_job ON batch_items(job_id);
    CREATE TABLE reviews (
        job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        reviewer TEXT NOT NULL,
        verdict TEXT,
        stars INTEGER,
        tags TEXT NOT NULL DEFAULT '[]',
        note TEXT NOT NULL DEFAULT '',
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        PRIMARY KEY (job_id, position, reviewer)
    );
    CREATE INDEX reviews_job ON reviews(job_id);
    CREATE TABLE votes (
        id TEXT PRIMARY KEY,
        left_job TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
        left_position INTEGER NOT NULL,
        right_job TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
        right_position INTEGER NOT NULL,
        outcome TEXT NOT NULL,
        reviewer TEXT NOT NULL,
        created_at REAL NOT NULL
    );
    CREATE INDEX votes_left ON votes(left_job);
    CREATE INDEX votes_right ON votes(right_job);
    """,
    # 3 -> 4: indexes in the history list's order (created_at DESC, id DESC, walked
    # backwards), so a keyset page (paging.py) seeks to its cursor instead of reading every
    # row before it: one for the whole list (it replaces jobs_created, its prefix), one each
    # behind the state and provider filters (jobs_state_created replaces jobs_state).
    """
    CREATE INDEX jobs_created_id ON jobs(created_at, id);
    CREATE INDEX jobs_state_created ON jobs(state, created_at, id);
    CREATE INDEX jobs_provider_created ON jobs(provider, created_at, id);
    DROP INDEX jobs_created;
    DROP INDEX jobs_state;
    """,
    # 4 -> 5: team mode. `queue` names the task queue a job waits in for the team's workers
    # (NULL: the process that made it runs it); the index finds a queue's unfinished jobs.
    """
    ALTER TABLE jobs ADD COLUMN queue TEXT;
    CREATE INDEX jobs_queue ON jobs(queue, state);
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)

#: Statements only the team back-end runs, after the step that brings the schema to the key's
#: version and in its transaction (what SQLite has no counterpart for: change notifications).
POSTGRES_AFTER: dict[int, tuple[str, ...]] = {
    # Every change another desk must see is announced on the channel `restyle_changes`, by
    # triggers, whoever writes (a window, a CLI, a worker, psql): payload "<table>:<key>".
    # NOTIFY is sent at commit and folded per transaction, so a batch writing 60 rows sends
    # one notice per row changed, never an uncommitted one. A job's heartbeat (lease_until)
    # and cancel flags are not announced: windows do not show them.
    5: (
        """
        CREATE OR REPLACE FUNCTION restyle_notify_change() RETURNS trigger AS $$
        DECLARE
            rec RECORD;
            key TEXT;
        BEGIN
            IF TG_OP = 'DELETE' THEN rec := OLD; ELSE rec := NEW; END IF;
            IF TG_TABLE_NAME = 'jobs' OR TG_TABLE_NAME = 'batches' THEN
                key := rec.id;
            ELSIF TG_TABLE_NAME = 'batch_items' THEN
                key := rec.batch_id;
            ELSIF TG_TABLE_NAME = 'votes' THEN
                key := rec.left_job || ',' || rec.right_job;
            ELSE
                key := rec.job_id;
            END IF;
            PERFORM pg_notify('restyle_changes', TG_TABLE_NAME || ':' || key);
            RETURN NULL;
        END;
        $$ LANGUAGE plpgsql
        """,
        """
        CREATE TRIGGER jobs_changed AFTER INSERT OR DELETE OR UPDATE OF state, progress,
            remote_id, note, favorite, error_code, cost_credits, finished_at ON jobs
            FOR EACH ROW EXECUTE FUNCTION restyle_notify_change()
        """,
        """
        CREATE TRIGGER reviews_changed AFTER INSERT OR UPDATE OR DELETE ON reviews
            FOR EACH ROW EXECUTE FUNCTION restyle_notify_change()
        """,
        """
        CREATE TRIGGER votes_changed AFTER INSERT OR UPDATE OR DELETE ON votes
            FOR EACH ROW EXECUTE FUNCTION restyle_notify_change()
        """,
        """
        CREATE TRIGGER batches_changed AFTER INSERT OR UPDATE OR DELETE ON batches
            FOR EACH ROW EXECUTE FUNCTION restyle_notify_change()
        """,
        """
        CREATE TRIGGER batch_items_changed AFTER INSERT OR UPDATE OR DELETE ON batch_items
            FOR EACH ROW EXECUTE FUNCTION restyle_notify_change()
        """,
    ),
}


def statements(script: str) -> list[str]:
    """Split a migration script into statements (executescript would commit our transaction)."""
    statements: list[str] = []
    current = ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    if current.strip():
        statements.append(current.strip())
    return statements
