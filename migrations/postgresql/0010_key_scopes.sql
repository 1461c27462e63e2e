-- depends: 0009_tap_conflicts
-- Keys issued through the API (/v1/keys): each has an expiry, names the key that issued it, and
-- may be scoped to sites or workers (a 管理者, a 現場管理者); a key without a scope acts for its
-- whole party. Every issue, expiry and revocation is in `key_events`, append-only.
ALTER TABLE api_keys DROP CONSTRAINT IF EXISTS api_keys_role_check;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_role_check
    CHECK (role IN ('reader', 'prime_contractor', 'site_manager', 'employer', 'worker',
                    'auditor', 'admin'));
ALTER TABLE api_keys ADD COLUMN expires_at timestamptz;       -- NULL: a bootstrap key from the CLI
ALTER TABLE api_keys ADD COLUMN issued_by text;               -- key_id; NULL: the command line
ALTER TABLE api_keys ADD COLUMN holder text;                  -- the person it was given to
ALTER TABLE api_keys ADD COLUMN scope_kind text
    CHECK (scope_kind IN ('site', 'worker'));                 -- NULL: the whole party
ALTER TABLE api_keys ADD COLUMN approves boolean NOT NULL DEFAULT false;  -- a site manager's grant

CREATE TABLE api_key_scopes (
    key_id text NOT NULL,                         -- written with its key, in one transaction
    subject_id text NOT NULL,                                 -- a site ID or a technician ID
    PRIMARY KEY (key_id, subject_id)
);

CREATE TABLE key_events (
    event_id text PRIMARY KEY,
    recorded_at timestamptz NOT NULL,
    key_id text NOT NULL,
    kind text NOT NULL CHECK (kind IN ('issued', 'expired', 'revoked')),
    actor text NOT NULL,                                      -- role:id, or cli:<user>
    by_key_id text,                                           -- NULL: the command line
    detail text NOT NULL                                      -- JSON: what the key is
);
CREATE INDEX key_events_key ON key_events (key_id, recorded_at);
CREATE INDEX key_events_time ON key_events (recorded_at);

CREATE FUNCTION key_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'key_events is append-only';
END;
$$;
CREATE TRIGGER key_events_no_change BEFORE UPDATE OR DELETE ON key_events
FOR EACH ROW EXECUTE FUNCTION key_events_append_only();
