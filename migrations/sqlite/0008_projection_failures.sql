-- depends: 0007_work_day_months
-- The projection's last failure, where every API process can read it (api/projection_service.py):
-- with `ledger serve --workers N` the projection runs in the supervising process, and each
-- worker's /v1/ready reports it from here. One row per failing projection, deleted once a batch
-- commits again.
CREATE TABLE projection_failures (
    name text PRIMARY KEY,
    process text NOT NULL,           -- host:pid of the projecting process
    error text NOT NULL,
    failed_at TEXT NOT NULL
);
