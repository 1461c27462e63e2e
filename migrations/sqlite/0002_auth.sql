-- API keys: bearer tokens stored as SHA-256 hashes, never in clear. The token carries its key_id,
-- so a request looks up one row and compares hashes in constant time.
-- depends: 0001_event_store
CREATE TABLE IF NOT EXISTS api_keys (
    key_id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('reader', 'prime_contractor', 'employer', 'worker',
                                       'auditor', 'admin')),
    subject_id TEXT NOT NULL,  -- reader ID, business ID, technician ID, or a person's name
    created_at TEXT NOT NULL,  -- ISO 8601 with offset
    revoked_at TEXT
);

CREATE INDEX IF NOT EXISTS api_keys_role_idx ON api_keys (role) WHERE revoked_at IS NULL;
