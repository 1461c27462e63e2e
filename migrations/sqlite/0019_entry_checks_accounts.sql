-- depends: 0015_settlement_lines
-- 入場時の確認 (projections/entry_checks.py): a site's entry rules, a worker's social-insurance
-- records and qualification expiries, each row with the log position it was stored at, so a tap is
-- judged by what was stored before it.
CREATE TABLE site_entry_rules (
    position INTEGER PRIMARY KEY,
    site_id text NOT NULL,
    kind text NOT NULL,  -- checks | qualification | work_area | training_institution
    qualification text,
    trade text,  -- '' = every trade on the site
    work_area text,  -- qualification: '' = the whole site; work_area: the gate's area
    reader_id text,  -- work_area: the gate
    withdrawn_position INTEGER
);
CREATE INDEX site_entry_rules_site ON site_entry_rules (site_id);
CREATE TABLE worker_insurance_history (
    position INTEGER PRIMARY KEY,
    technician_id text NOT NULL,
    as_of TEXT NOT NULL,
    health text NOT NULL,
    pension text NOT NULL,
    employment text NOT NULL,
    exempt_reasons text NOT NULL,
    confirmed_by text NOT NULL
);
CREATE INDEX worker_insurance_history_worker ON worker_insurance_history (technician_id);
CREATE TABLE worker_qualification_expiries (
    position INTEGER PRIMARY KEY,
    technician_id text NOT NULL,
    qualification text NOT NULL,
    expires_on TEXT NOT NULL
);
CREATE INDEX worker_qualification_expiries_worker ON worker_qualification_expiries (technician_id);
CREATE INDEX worker_qualification_expiries_date ON worker_qualification_expiries (expires_on);
-- 建退共の口座 (projections/kentaikyo/accounts.py): a contracting employer's points bought, used and
-- credited (one row an event), and the wage-payment dates that set a report's due date.
CREATE TABLE kentaikyo_account_entries (
    position INTEGER PRIMARY KEY,
    business_id text NOT NULL,
    kind text NOT NULL,  -- purchase | use | rebate
    entry_date TEXT NOT NULL,
    points INTEGER NOT NULL,  -- purchase and rebate add, use subtracts (stored positive)
    reference text NOT NULL,  -- purchase ID, report month, or campaign:purchase
    ccus_linked INTEGER NOT NULL
);
CREATE INDEX kentaikyo_account_entries_business ON kentaikyo_account_entries (business_id, entry_date);
CREATE TABLE kentaikyo_wage_payments (
    business_id text NOT NULL,
    month text NOT NULL,
    paid_on TEXT NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (business_id, month, position)
);
-- The worker-days an applied report paid for (PointsUsed.days), one row each: what coverage
-- reconciliation (projections/queries/kentaikyo_accounts.py) compares the work records with.
CREATE TABLE kentaikyo_contributions (
    position INTEGER NOT NULL,
    business_id text NOT NULL,
    technician_id text NOT NULL,
    site_id text NOT NULL,
    work_date TEXT NOT NULL,
    PRIMARY KEY (position, technician_id, site_id, work_date)
);
CREATE INDEX kentaikyo_contributions_worker ON kentaikyo_contributions (technician_id, work_date);
