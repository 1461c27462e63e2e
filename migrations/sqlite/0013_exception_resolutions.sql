-- depends: 0012_quarantine
-- A flagged tap the site's staff resolved (projections/resolutions.py): the decision (JSON: kind,
-- technician_id, reason, log position), who decided and when. NULL: still open.
ALTER TABLE site_exceptions ADD COLUMN resolution text;
ALTER TABLE site_exceptions ADD COLUMN resolved_by text;
ALTER TABLE site_exceptions ADD COLUMN resolved_at TEXT;
