-- depends: 0020_replay_jobs
-- Bounded reads (projections/queries/paging.py): each site-level list reads one page in index
-- order with LIMIT, after the previous page's key, so a page costs the same on a site of a
-- million rows as on a small one. An index per list, its equality columns then its page order.
-- Each new index extends an old one, which goes: left beside it, SQLite's planner may pick the
-- shorter one and sort what it found.
DROP INDEX work_records_site_date;
CREATE INDEX work_records_site_day_worker ON work_records (site_id, work_date, technician_id);
-- Entries with no exit (on site now, missing exits): few on any site, however long its history.
CREATE INDEX work_records_site_open ON work_records (site_id, work_date, technician_id)
    WHERE status = 'counted' AND first_entry IS NOT NULL AND last_exit IS NULL;
DROP INDEX site_exceptions_site;
CREATE INDEX site_exceptions_site_time ON site_exceptions (site_id, reader_time, position);
-- The prime's inbox: pending requests only, oldest first.
CREATE INDEX requests_prime_pending ON requests (prime_business_id, requested_at, request_id)
    WHERE status = 'pending';
-- The overtime monitor's workers of an employer's month, by worker (they extend the indexes of
-- 0018, which go).
DROP INDEX working_time_months_employer;
CREATE INDEX working_time_months_employer_worker ON working_time_months (employer_business_id, month, technician_id);
DROP INDEX work_day_months_employer;
CREATE INDEX work_day_months_employer_worker ON work_day_months (employer_business_id, month, technician_id);
-- A worker's records by date, then site (the records list's page order; it extends the index of
-- 0003, which goes).
DROP INDEX work_records_worker_date;
CREATE INDEX work_records_worker_day_site ON work_records (technician_id, work_date, site_id);
-- A business's employment claims and a certifier's proposed certificates, in the order made (one
-- worker's own are few: its primary keys and 0011's index serve them).
DROP INDEX worker_employment_requests_business;
CREATE INDEX worker_employment_requests_business_made ON worker_employment_requests (business_id, requested_position);
CREATE INDEX worker_certificate_proposals_certifier_made ON worker_certificate_proposals (certifier_business_id, proposed_position);
-- An orderer's sites, by site ID (it extends 0018's index, which goes).
DROP INDEX site_terms_orderer;
CREATE INDEX site_terms_orderer_site ON site_terms (orderer_business_id, site_id);
