-- depends: 0005_query_indexes
-- Every read by an auditor (or an admin: the roles that read without a scope) is logged here before
-- it is answered, so a read that could not be logged is refused (DESIGN §2: every read is itself
-- logged). Append-only: the API inserts and never updates or deletes.
CREATE TABLE audit_reads (
    read_id text PRIMARY KEY,
    read_at timestamptz NOT NULL,
    actor text NOT NULL,            -- role:id
    method text NOT NULL,
    path text NOT NULL,
    query text NOT NULL             -- the query string as sent (cursor, dates …)
);
CREATE INDEX audit_reads_actor_time ON audit_reads (actor, read_at);
CREATE INDEX audit_reads_time ON audit_reads (read_at);

CREATE FUNCTION audit_reads_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_reads is append-only';
END;
$$;
CREATE TRIGGER audit_reads_no_change BEFORE UPDATE OR DELETE ON audit_reads
FOR EACH ROW EXECUTE FUNCTION audit_reads_append_only();
