-- depends: 0003_read_models
-- Nightly jobs (ledger/jobs, projections/settlement): their runs, their locks, and the read
-- models of the events they issue. Times are UTC; work dates are JST calendar dates.

-- One row per run of a scheduled or hand-started job, so the health endpoint can show them.
CREATE TABLE job_runs (
    run_id text PRIMARY KEY,
    job text NOT NULL,
    period text NOT NULL,            -- the day or month the run is about
    owner text NOT NULL,             -- host:pid:thread that ran it
    started_at TEXT NOT NULL,
    finished_at TEXT,
    outcome text NOT NULL,           -- running | succeeded | failed
    counts text NOT NULL,            -- JSON object
    detail text
);
CREATE INDEX job_runs_job_period ON job_runs (job, period, outcome);
CREATE INDEX job_runs_started ON job_runs (started_at);

-- SQLite has no advisory locks: a row taken inside BEGIN IMMEDIATE, with an owner and an expiry
-- so a crashed owner does not block the job forever.
CREATE TABLE job_locks (
    job text PRIMARY KEY,
    owner text NOT NULL,
    expires_at TEXT NOT NULL
);

-- Tracking of the settlement projection. Kept apart from projection_positions, which a rebuild of
-- the ledger's read models replaces wholesale.
CREATE TABLE job_projection_positions (
    name text PRIMARY KEY,
    position INTEGER NOT NULL
);

-- What each day close listed, one row per finding (DayClose.Closed).
CREATE TABLE day_close_exceptions (
    site_id text NOT NULL,
    work_date TEXT NOT NULL,
    kind text NOT NULL,              -- missing_exit | unknown_card | silent_reader
    subject text NOT NULL,           -- technician ID, tap ID or reader ID
    detail text NOT NULL,            -- JSON
    position INTEGER NOT NULL,       -- log position of the DayClose.Closed event
    PRIMARY KEY (site_id, work_date, kind, subject)
);
CREATE INDEX day_close_exceptions_date ON day_close_exceptions (work_date);

CREATE TABLE day_closes (
    site_id text NOT NULL,
    work_date TEXT NOT NULL,
    findings integer NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (site_id, work_date)
);

-- The seal chain (DailySeal.Sealed), one row per day.
CREATE TABLE daily_seals (
    day TEXT PRIMARY KEY,
    first_position INTEGER NOT NULL,  -- exclusive
    last_position INTEGER NOT NULL,   -- inclusive
    event_count integer NOT NULL,
    seal_hash text NOT NULL,
    previous_hash text NOT NULL,
    position INTEGER NOT NULL
);

-- Issued Kentaikyo settlements (KentaikyoSettlement.Issued): one summary row per month.
CREATE TABLE kentaikyo_settlements (
    month text PRIMARY KEY,
    points_yen integer NOT NULL,
    adjustment_yen integer NOT NULL,
    day_lines integer NOT NULL,
    adjustment_lines integer NOT NULL,
    files text NOT NULL,             -- JSON {file name: sha256}
    issued_at TEXT NOT NULL,
    position INTEGER NOT NULL
);

-- Site usage fee bills (SiteFeeAccount.MonthBilled), per prime contractor and month.
CREATE TABLE site_fee_bills (
    prime_business_id text NOT NULL,
    month text NOT NULL,
    usage_yen integer NOT NULL,
    carried_in_yen integer NOT NULL,
    billed_yen integer NOT NULL,
    carried_out_yen integer NOT NULL,
    outcome text NOT NULL,           -- billed | carried_over | nothing_due
    lines text NOT NULL,             -- JSON [[site_id, work_month, worker_days, yen], ...]
    position INTEGER NOT NULL,
    PRIMARY KEY (prime_business_id, month)
);
