-- depends: 0001_event_store
-- Read models (projections/). Every row names the log positions of the events behind it
-- (positions / event_positions, a JSON array), so an auditor can ask why.
-- Times are UTC; work dates are JST calendar dates.

CREATE TABLE projection_positions (
    name text NOT NULL PRIMARY KEY,
    position INTEGER NOT NULL
);

CREATE TABLE aggregate_keys (
    aggregate_id text PRIMARY KEY,
    kind text NOT NULL,
    natural_key text NOT NULL
);

CREATE TABLE businesses (
    business_id text PRIMARY KEY,
    name text NOT NULL,
    kentaikyo_contract_number text,
    kentaikyo_since TEXT,
    positions text NOT NULL
);

CREATE TABLE workers (
    technician_id text PRIMARY KEY,
    name text NOT NULL,
    foreman_training_on TEXT,
    kentaikyo_member_number text,
    kentaikyo_since TEXT,
    social_insurance text,
    positions text NOT NULL
);

CREATE TABLE worker_employments (
    technician_id text NOT NULL,
    business_id text NOT NULL,
    since TEXT NOT NULL,
    until TEXT,
    is_primary INTEGER NOT NULL,
    positions text NOT NULL,
    PRIMARY KEY (technician_id, business_id, since)
);

CREATE TABLE worker_qualifications (
    technician_id text NOT NULL,
    qualification text NOT NULL,
    acquired_on TEXT NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (technician_id, qualification)
);

CREATE TABLE worker_certificates (
    position INTEGER PRIMARY KEY,
    technician_id text NOT NULL,
    certifier_business_id text NOT NULL,
    relation text NOT NULL,
    trade text NOT NULL,
    period_start TEXT NOT NULL,
    period_end TEXT NOT NULL,
    work_days integer NOT NULL,
    foreman_days integer NOT NULL,
    team_leader_days integer NOT NULL
);

CREATE TABLE sites (
    site_id text PRIMARY KEY,
    name text NOT NULL,
    prime_business_id text NOT NULL,
    kentaikyo_method text NOT NULL,
    opened_on TEXT NOT NULL,
    closed_on TEXT,
    positions text NOT NULL
);

CREATE TABLE site_structure (
    site_id text NOT NULL,
    business_id text NOT NULL,
    parent_business_id text,
    tier integer NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (site_id, business_id)
);

CREATE TABLE roster_history (
    site_id text NOT NULL,
    technician_id text NOT NULL,
    from_position INTEGER NOT NULL,
    employer_business_id text NOT NULL,
    trade text NOT NULL,
    role_position text NOT NULL,
    since TEXT NOT NULL,
    PRIMARY KEY (site_id, technician_id, from_position)
);

CREATE TABLE reader_registry (
    reader_id text PRIMARY KEY,
    site_id text NOT NULL,
    direction_mode text NOT NULL,
    registered_at_position INTEGER NOT NULL,
    retired_at_position INTEGER
);

CREATE TABLE card_registry (
    card_id text PRIMARY KEY,
    technician_id text NOT NULL,
    issued_at_position INTEGER NOT NULL,
    revoked_at_position INTEGER
);

CREATE TABLE tap_facts (
    tap_id text PRIMARY KEY,
    technician_id text,
    site_id text,
    reader_id text NOT NULL,
    card_id text,
    direction text NOT NULL,
    reader_time TEXT NOT NULL,
    received_at TEXT NOT NULL,
    position INTEGER NOT NULL,
    flags text NOT NULL
);

CREATE TABLE site_exceptions (
    tap_id text PRIMARY KEY,
    site_id text,
    reader_id text NOT NULL,
    kind text NOT NULL,
    technician_id text,
    card_id text,
    reader_time TEXT NOT NULL,
    position INTEGER NOT NULL
);

CREATE TABLE requests (
    request_id text PRIMARY KEY,
    kind text NOT NULL,
    technician_id text NOT NULL,
    site_id text NOT NULL,
    work_date TEXT NOT NULL,
    employer_business_id text NOT NULL,
    prime_business_id text NOT NULL,
    payload text NOT NULL,
    status text NOT NULL,
    reason text,
    requested_by text NOT NULL,
    requested_at TEXT NOT NULL,
    decided_by text,
    decided_at TEXT,
    positions text NOT NULL
);

CREATE TABLE work_records (
    technician_id text NOT NULL,
    site_id text NOT NULL,
    work_date TEXT NOT NULL,
    employer_business_id text,
    trade text,
    role_position text,
    work_content text,
    first_entry TEXT,
    last_exit TEXT,
    minutes_on_site integer,
    source text NOT NULL,
    status text NOT NULL,
    flags text NOT NULL,
    event_positions text NOT NULL,
    PRIMARY KEY (technician_id, site_id, work_date)
);

CREATE INDEX tap_facts_worker_time ON tap_facts (technician_id, reader_time);
CREATE INDEX site_exceptions_site ON site_exceptions (site_id, reader_time);
CREATE INDEX requests_worker_date ON requests (technician_id, work_date);
CREATE INDEX requests_site_status ON requests (site_id, status);
CREATE INDEX work_records_site_date ON work_records (site_id, work_date);
CREATE INDEX work_records_worker_date ON work_records (technician_id, work_date);
CREATE INDEX roster_history_worker ON roster_history (technician_id);
