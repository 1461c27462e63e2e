-- depends: 0011_worker_consents
-- Events the projection could not project (projections/quarantine.py). The projection goes on
-- past them, so one bad event cannot stop it for everyone; each stays here, named by its log
-- position, until a retry projects it. A read model table: a rebuild makes a fresh list.
CREATE TABLE quarantined_events (
    position bigint NOT NULL PRIMARY KEY,
    event_type text NOT NULL,            -- e.g. Tap.Recorded
    error_kind text NOT NULL,            -- the exception's type, e.g. OverflowError
    error_message text NOT NULL,
    technician_id text,                  -- the worker and site it is about, when known
    site_id text,
    first_seen_at timestamptz NOT NULL,
    last_tried_at timestamptz NOT NULL,
    attempts integer NOT NULL
);
CREATE INDEX quarantined_events_technician ON quarantined_events (technician_id);
CREATE INDEX quarantined_events_site ON quarantined_events (site_id);
-- Counts the quarantined events retried in place: a runner that sees it change drops the facts
-- it kept between batches, which the retried event's rows made stale.
ALTER TABLE projection_positions ADD COLUMN retried bigint NOT NULL DEFAULT 0;
