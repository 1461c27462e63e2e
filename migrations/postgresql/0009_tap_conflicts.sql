-- depends: 0008_projection_failures
-- A tap ID resent with other content is kept as a conflicting version (Tap.ConflictingObservation)
-- and listed in the site's exceptions beside the version stored first: a row is one version of a
-- tap, keyed by its content hash. Rows projected before this migration have no hash ('') until
-- `ledger replay` rebuilds them.
ALTER TABLE site_exceptions ADD COLUMN content_hash text NOT NULL DEFAULT '';
ALTER TABLE site_exceptions ADD COLUMN stored_content_hash text;  -- a conflict's first version
ALTER TABLE site_exceptions DROP CONSTRAINT site_exceptions_pkey;
ALTER TABLE site_exceptions ADD PRIMARY KEY (tap_id, content_hash);
ALTER TABLE site_exceptions ALTER COLUMN content_hash DROP DEFAULT;
