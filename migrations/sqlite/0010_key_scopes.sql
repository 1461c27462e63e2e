-- depends: 0009_tap_conflicts
-- Keys issued through the API (/v1/keys): each has an expiry, names the key that issued it, and
-- may be scoped to sites or workers (a 管理者, a 現場管理者); a key without a scope acts for its
-- whole party. Every issue, expiry and revocation is in `key_events`, append-only.
-- SQLite cannot change a CHECK constraint: the table is rebuilt with the new role.
CREATE TABLE api_keys_next (
    key_id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('reader', 'prime_contractor', 'site_manager', 'employer',
                                       'worker', 'auditor', 'admin')),
    subject_id TEXT NOT NULL,
    created_at TEXT NOT NULL,  -- UTC, ISO 8601
    revoked_at TEXT,
    expires_at TEXT,           -- NULL: a bootstrap key from the CLI
    issued_by TEXT,            -- key_id; NULL: the command line
    holder TEXT,               -- the person it was given to
    scope_kind TEXT CHECK (scope_kind IN ('site', 'worker')),  -- NULL: the whole party
    approves INTEGER NOT NULL DEFAULT 0  -- a site manager's grant
);
INSERT INTO api_keys_next (key_id, token_hash, role, subject_id, created_at, revoked_at)
SELECT key_id, token_hash, role, subject_id, created_at, revoked_at FROM api_keys;
DROP TABLE api_keys;
ALTER TABLE api_keys_next RENAME TO api_keys;
CREATE INDEX api_keys_role_idx ON api_keys (role) WHERE revoked_at IS NULL;

CREATE TABLE api_key_scopes (
    key_id TEXT NOT NULL,       -- written with its key, in one transaction
    subject_id TEXT NOT NULL,  -- a site ID or a technician ID
    PRIMARY KEY (key_id, subject_id)
);

CREATE TABLE key_events (
    event_id TEXT PRIMARY KEY,
    recorded_at TEXT NOT NULL,  -- UTC, ISO 8601
    key_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('issued', 'expired', 'revoked')),
    actor TEXT NOT NULL,        -- role:id, or cli:<user>
    by_key_id TEXT,             -- NULL: the command line
    detail TEXT NOT NULL        -- JSON: what the key is
);
CREATE INDEX key_events_key ON key_events (key_id, recorded_at);
CREATE INDEX key_events_time ON key_events (recorded_at);

CREATE TRIGGER key_events_no_update BEFORE UPDATE ON key_events
BEGIN SELECT RAISE(ABORT, 'key_events is append-only'); END;
CREATE TRIGGER key_events_no_delete BEFORE DELETE ON key_events
BEGIN SELECT RAISE(ABORT, 'key_events is append-only'); END;
