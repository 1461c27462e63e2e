-- depends: 0019_entry_checks_accounts
-- As-of replays as jobs (api/replays.py): an auditor's or admin's request, its progress and, once
-- it has ended, its answer, kept until `kept_until` (LEDGER_REPLAY_KEEP_HOURS) and then removed.
-- In the database, not in a process, so that any of the API's processes answers its status and
-- a restart keeps a finished answer. A job is run by one process (`owner`, which stamps
-- `heartbeat_at` while it runs); a job whose process is gone is marked failed, not left running.
-- Not part of the ledger: a replay reads the log, it adds nothing to it. Moments are UTC ISO 8601
-- text, dates ISO text (as elsewhere on SQLite).
CREATE TABLE replay_jobs (
    replay_id text PRIMARY KEY,
    requested_by text NOT NULL,      -- role:id
    as_of TEXT NOT NULL,
    technician_id text NOT NULL,
    date_from TEXT NOT NULL,
    date_to TEXT NOT NULL,
    status text NOT NULL,            -- queued | running | done | failed
    requested_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    kept_until TEXT,          -- set when the job ends
    owner text,                      -- host:pid:instance of the process running it
    heartbeat_at TEXT,
    stop_position INTEGER,            -- the last log position the replay reads
    events_to_read INTEGER,
    events_read INTEGER NOT NULL DEFAULT 0,
    result text,                     -- JSON: the answer (ReplayPublic)
    failure text                     -- JSON: {status, field, rule, detail}
);
CREATE INDEX replay_jobs_requester ON replay_jobs (requested_by, requested_at, replay_id);
CREATE INDEX replay_jobs_status ON replay_jobs (status, requested_at);
CREATE INDEX replay_jobs_kept_until ON replay_jobs (kept_until);
