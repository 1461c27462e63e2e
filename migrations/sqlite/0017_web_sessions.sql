-- depends: 0015_settlement_lines
-- The web app's sessions (/app): a browser signed in with an API key holds a random session secret
-- in an HttpOnly cookie; only its SHA-256 is kept here, with the key it acts as (checked against
-- api_keys on every request, so a revoked key ends its sessions), the form token (CSRF) and the
-- expiry. Sign-out stamps ended_at. Not part of the ledger: sessions are access, not facts.
CREATE TABLE web_sessions (
    session_hash text PRIMARY KEY,
    key_id text NOT NULL,
    csrf_token text NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,        -- UTC, ISO 8601 (as created_at)
    ended_at TEXT
);
CREATE INDEX web_sessions_key ON web_sessions (key_id);
