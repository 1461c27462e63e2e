-- depends: 0019_entry_checks_accounts
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
CREATE INDEX working_time_months_employer_worker
    ON working_time_months (employer_business_id, month, technician_id);
DROP INDEX work_day_months_employer;
CREATE INDEX work_day_months_employer_worker
    ON work_day_months (employer_business_id, month, technician_id);
