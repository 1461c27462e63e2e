-- depends: 0012_quarantine
-- The lines of issued settlements and seals, content-addressed (ledger/storage/lines.py): part of
-- the write side, not a read model. An event names a set of lines by the SHA-256 of their
-- canonical encoding, so the event stays small whatever the month's size. Rows are only ever
-- added; the same content always lands on the same key, so a retried write adds nothing.

-- A chunk of consecutive lines (JSON lines), keyed by the SHA-256 of its own bytes.
CREATE TABLE settlement_line_chunks (
    digest text PRIMARY KEY,
    line_count integer NOT NULL,
    lines text NOT NULL
);

-- A complete set: its lines are its chunks' lines in order; `digest` is the SHA-256 over all of
-- them. Written after every chunk it lists, so a set that exists is whole.
CREATE TABLE settlement_line_sets (
    digest text PRIMARY KEY,
    line_count integer NOT NULL,
    chunks text NOT NULL             -- JSON [chunk digest, ...]
);

-- One positions table: the jobs' projection runs on the same log follower as the read models,
-- on its own row of projection_positions.
INSERT INTO projection_positions (name, position)
    SELECT name, position FROM job_projection_positions
    WHERE name NOT IN (SELECT name FROM projection_positions);
DROP TABLE job_projection_positions;
