-- depends: 0008_projection_failures
-- A tap ID resent with other content is kept as a conflicting version (Tap.ConflictingObservation)
-- and listed in the site's exceptions beside the version stored first: a row is one version of a
-- tap, keyed by its content hash. Rows projected before this migration have no hash ('') until
-- `ledger replay` rebuilds them. SQLite cannot change a primary key in place: the table is copied.
CREATE TABLE site_exceptions_0009 (
    tap_id text NOT NULL,
    site_id text,
    reader_id text NOT NULL,
    kind text NOT NULL,
    technician_id text,
    card_id text,
    reader_time TEXT NOT NULL,
    position INTEGER NOT NULL,
    -- the columns PostgreSQL's ALTER TABLE adds, in its order, so rows compare alike
    content_hash text NOT NULL,
    stored_content_hash text,  -- a conflict's first version
    PRIMARY KEY (tap_id, content_hash)
);
INSERT INTO site_exceptions_0009 (tap_id, content_hash, site_id, reader_id, kind, technician_id,
                                  card_id, reader_time, position)
    SELECT tap_id, '', site_id, reader_id, kind, technician_id, card_id, reader_time, position
    FROM site_exceptions;
DROP TABLE site_exceptions;
ALTER TABLE site_exceptions_0009 RENAME TO site_exceptions;
CREATE INDEX site_exceptions_site ON site_exceptions (site_id, reader_time);
