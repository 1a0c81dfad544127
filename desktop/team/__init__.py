"""Team mode's workers (issue 15): jobs waiting in a task queue in the team's PostgreSQL
database, run by `restyle-cli worker` processes on any number of machines.

- `queue`: the procrastinate app (PsycopgConnector), its one task, and deferring a job;
- `schema`: procrastinate's tables and the team's slot table, created once, safely;
- `slots`: each provider's concurrency limit across the whole team;
- `sweep`: jobs whose worker is gone are handed to the queue again;
- `worker`: one worker process (the engine, the queue, the sweep, a clean stop).

Only ids travel through the queue: a worker reads the job from the history and the keys from
its own keyring or environment. No Qt here.
"""

#: The queue `restyle-cli worker` and `batch --remote` use when none is named.
DEFAULT_QUEUE = "default"
