-- depends: 0015_settlement_lines
-- Working time (projections/working_time): what employers report, 36 agreements, disaster work
-- and a site's terms. Reports are kept as the latest of each day or month; the log keeps every
-- report, and `positions` names the events behind each row.
CREATE TABLE working_time_days (
    technician_id text NOT NULL,
    employer_business_id text NOT NULL,
    work_date date NOT NULL,
    statutory_minutes integer NOT NULL,
    overtime_minutes integer NOT NULL,
    holiday_minutes integer NOT NULL,
    reported_by text NOT NULL,
    reported_at timestamptz NOT NULL,
    reason text,
    positions text NOT NULL,
    PRIMARY KEY (technician_id, employer_business_id, work_date)
);
-- The overtime monitor's figures per worker x employer x month, kept as each report comes:
-- the days' sums, and the month's own report (NULL: none), which stands in their place.
CREATE TABLE working_time_months (
    technician_id text NOT NULL,
    employer_business_id text NOT NULL,
    month date NOT NULL,
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
    start_month date NOT NULL,
    special_clause boolean NOT NULL,
    concluded_by text NOT NULL,
    reason text,
    positions text NOT NULL,
    PRIMARY KEY (business_id, start_month)
);
CREATE TABLE disaster_work_periods (
    position bigint NOT NULL PRIMARY KEY,
    business_id text NOT NULL,
    first_day date NOT NULL,
    last_day date NOT NULL,
    reason text NOT NULL,
    declared_by text NOT NULL,
    withdrawn_position bigint
);
CREATE INDEX disaster_work_periods_business ON disaster_work_periods (business_id, first_day);
-- A site's terms, set by its prime: its orderer (発注者) and rotating shifts (交替制).
CREATE TABLE site_terms (
    site_id text NOT NULL PRIMARY KEY,
    orderer_business_id text,
    rotating_shifts boolean NOT NULL,
    positions text NOT NULL
);
CREATE INDEX site_terms_orderer ON site_terms (orderer_business_id);
-- Periods a site's closure rate leaves out (year-end holidays, off-site fabrication).
CREATE TABLE closure_exclusions (
    position bigint NOT NULL PRIMARY KEY,
    site_id text NOT NULL,
    first_day date NOT NULL,
    last_day date NOT NULL,
    kind text NOT NULL,
    reason text NOT NULL,
    excluded_by text NOT NULL,
    withdrawn_position bigint
);
CREATE INDEX closure_exclusions_site ON closure_exclusions (site_id, first_day);
-- Keys of the orderer (発注者) role: admin issues them (ledger/key_powers.py).
ALTER TABLE api_keys DROP CONSTRAINT IF EXISTS api_keys_role_check;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_role_check
    CHECK (role IN ('reader', 'prime_contractor', 'site_manager', 'employer', 'worker',
                    'auditor', 'admin', 'orderer'));
-- One employer's workers with counted work in a month (the overtime monitor's list): from the
-- month rows (a row a worker, month, site, employer, trade), not a scan of every record.
CREATE INDEX work_day_months_employer ON work_day_months (employer_business_id, month);
