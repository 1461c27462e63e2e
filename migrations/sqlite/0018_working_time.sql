-- depends: 0015_settlement_lines
-- Working time (projections/working_time): what employers report, 36 agreements, disaster work
-- and a site's terms. Reports are kept as the latest of each day or month; the log keeps every
-- report, and `positions` names the events behind each row.
CREATE TABLE working_time_days (
    technician_id text NOT NULL,
    employer_business_id text NOT NULL,
    work_date TEXT NOT NULL,
    statutory_minutes integer NOT NULL,
    overtime_minutes integer NOT NULL,
    holiday_minutes integer NOT NULL,
    reported_by text NOT NULL,
    reported_at TEXT NOT NULL,
    reason text,
    positions text NOT NULL,
    PRIMARY KEY (technician_id, employer_business_id, work_date)
);
-- The overtime monitor's figures per worker x employer x month, kept as each report comes:
-- the days' sums, and the month's own report (NULL: none), which stands in their place.
CREATE TABLE working_time_months (
    technician_id text NOT NULL,
    employer_business_id text NOT NULL,
    month TEXT NOT NULL,
    days_reported integer NOT NULL,
    day_statutory_minutes integer NOT NULL,
    day_overtime_minutes integer NOT NULL,
    day_holiday_minutes integer NOT NULL,
    month_statutory_minutes integer,
    month_overtime_minutes integer,
    month_holiday_minutes integer,
    positions text NOT NULL,
    PRIMARY KEY (technician_id, employer_business_id, month)
);
CREATE INDEX working_time_months_employer ON working_time_months (employer_business_id, month);
CREATE TABLE overtime_agreements (
    business_id text NOT NULL,
    start_month TEXT NOT NULL,
    special_clause INTEGER NOT NULL,
    concluded_by text NOT NULL,
    reason text,
    positions text NOT NULL,
    PRIMARY KEY (business_id, start_month)
);
CREATE TABLE disaster_work_periods (
    position INTEGER NOT NULL PRIMARY KEY,
    business_id text NOT NULL,
    first_day TEXT NOT NULL,
    last_day TEXT NOT NULL,
    reason text NOT NULL,
    declared_by text NOT NULL,
    withdrawn_position INTEGER
);
CREATE INDEX disaster_work_periods_business ON disaster_work_periods (business_id, first_day);
-- A site's terms, set by its prime: its orderer (発注者) and rotating shifts (交替制).
CREATE TABLE site_terms (
    site_id text NOT NULL PRIMARY KEY,
    orderer_business_id text,
    rotating_shifts INTEGER NOT NULL,
    positions text NOT NULL
);
CREATE INDEX site_terms_orderer ON site_terms (orderer_business_id);
-- Periods a site's closure rate leaves out (year-end holidays, off-site fabrication).
CREATE TABLE closure_exclusions (
    position INTEGER NOT NULL PRIMARY KEY,
    site_id text NOT NULL,
    first_day TEXT NOT NULL,
    last_day TEXT NOT NULL,
    kind text NOT NULL,
    reason text NOT NULL,
    excluded_by text NOT NULL,
    withdrawn_position INTEGER
);
CREATE INDEX closure_exclusions_site ON closure_exclusions (site_id, first_day);
-- Keys of the orderer (発注者) role: admin issues them (ledger/key_powers.py). SQLite cannot
-- change a CHECK constraint: the table is rebuilt with the new role, every column kept.
CREATE TABLE api_keys_next (
    key_id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('reader', 'prime_contractor', 'site_manager', 'employer',
                                       'worker', 'auditor', 'admin', 'orderer')),
    subject_id TEXT NOT NULL,
    created_at TEXT NOT NULL,  -- UTC, ISO 8601
    revoked_at TEXT,
    expires_at TEXT,           -- NULL: a bootstrap key from the CLI
    issued_by TEXT,            -- key_id; NULL: the command line
    holder TEXT,               -- the person it was given to
    scope_kind TEXT CHECK (scope_kind IN ('site', 'worker')),  -- NULL: the whole party
    approves INTEGER NOT NULL DEFAULT 0  -- a site manager's grant
);
INSERT INTO api_keys_next (key_id, token_hash, role, subject_id, created_at, revoked_at,
                           expires_at, issued_by, holder, scope_kind, approves)
SELECT key_id, token_hash, role, subject_id, created_at, revoked_at, expires_at, issued_by,
       holder, scope_kind, approves FROM api_keys;
DROP TABLE api_keys;
ALTER TABLE api_keys_next RENAME TO api_keys;
CREATE INDEX api_keys_role_idx ON api_keys (role) WHERE revoked_at IS NULL;
-- One employer's workers with counted work in a month (the overtime monitor's list): from the
-- month rows (a row a worker, month, site, employer, trade), not a scan of every record.
CREATE INDEX work_day_months_employer ON work_day_months (employer_business_id, month);
