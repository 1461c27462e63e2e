-- depends: 0012_quarantine
-- A flagged tap the site's staff resolved (projections/resolutions.py): the decision (JSON: kind,
-- technician_id, reason, log position), who decided and when. NULL: still open.
ALTER TABLE site_exceptions ADD COLUMN resolution text;
ALTER TABLE site_exceptions ADD COLUMN resolved_by text;
ALTER TABLE site_exceptions ADD COLUMN resolved_at TEXT;
-- The log position of the staff decision that gave an unknown card's tap to a worker (NULL: none):
-- the work record the tap counts in names the decision among its events.
ALTER TABLE tap_facts ADD COLUMN assigned_position INTEGER;
-- A past day's entry no exit closed, resolved by the site's staff (Site.MissingExitResolved): the
-- exit as they stated it (NULL: left at a time unknown), never a tap. One row a decision; the
-- missing-exits list shows the latest beside the record, which keeps its card times.
CREATE TABLE exit_resolutions (
    position INTEGER NOT NULL PRIMARY KEY,
    site_id text NOT NULL,
    technician_id text NOT NULL,
    work_date TEXT NOT NULL,
    exit_at TEXT,
    reason text NOT NULL,
    resolved_by text NOT NULL,
    resolved_at TEXT NOT NULL
);
CREATE INDEX exit_resolutions_site ON exit_resolutions (site_id, work_date);
