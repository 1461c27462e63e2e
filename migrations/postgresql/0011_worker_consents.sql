-- depends: 0010_key_scopes
-- What waits for the worker's consent (Issue 13): a business's claim to employ a registered worker
-- (所属事業者の関連付け), and a career certificate (経歴証明) by a prime or upper subcontractor. Neither
-- counts until confirmed: a confirmed employment goes to worker_employments, a confirmed certificate
-- to worker_certificates. status: pending, confirmed or declined.
CREATE TABLE worker_employment_requests (
    technician_id text NOT NULL,
    business_id text NOT NULL,
    since date NOT NULL,
    is_primary boolean NOT NULL,
    status text NOT NULL,
    requested_position bigint NOT NULL,
    decided_position bigint,
    PRIMARY KEY (technician_id, business_id, requested_position)
);

CREATE TABLE worker_certificate_proposals (
    certificate_id text PRIMARY KEY,
    technician_id text NOT NULL,
    certifier_business_id text NOT NULL,
    relation text NOT NULL,
    trade text NOT NULL,
    period_start date NOT NULL,
    period_end date NOT NULL,
    work_days integer NOT NULL,
    foreman_days integer NOT NULL,
    team_leader_days integer NOT NULL,
    basis text NOT NULL,
    status text NOT NULL,
    proposed_position bigint NOT NULL,
    decided_position bigint
);

CREATE INDEX worker_employment_requests_business ON worker_employment_requests (business_id);
CREATE INDEX worker_certificate_proposals_worker ON worker_certificate_proposals (technician_id);
