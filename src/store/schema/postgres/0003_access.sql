-- PostgreSQL twin of ../0003_access.sql. Differs: INTEGER is bigint, BLOB is bytea and length()
-- of a blob is octet_length(); STRICT and WITHOUT ROWID dropped. The role CHECKs are named so
-- that 0014 can replace them. The triggers run PL/pgSQL functions that raise the SQLite file's
-- message with SQLSTATE P0001: `shopkeep_refuse()` (defined here, used by every later
-- unconditional refusal) raises its first trigger argument. The audit log also refuses
-- TRUNCATE, which PostgreSQL has and row triggers do not see.

-- Raises its trigger argument: the one function behind every plain "append-only" trigger.
CREATE FUNCTION shopkeep_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = TG_ARGV[0];
END;
$$;

CREATE TABLE shopkeep_staff (
    id            bytea PRIMARY KEY NOT NULL CHECK (octet_length(id) = 16),
    email_index   bytea NOT NULL UNIQUE CHECK (octet_length(email_index) = 32),
    email         bytea NOT NULL,
    name          bytea NOT NULL,
    role          text NOT NULL CONSTRAINT shopkeep_staff_role_check
                  CHECK (role IN ('owner', 'manager', 'support', 'accountant', 'warehouse')),
    password_hash text NOT NULL,
    disabled_at   text,
    created_at    text NOT NULL,
    updated_at    text NOT NULL,
    version       bigint NOT NULL DEFAULT 1 CHECK (version > 0)
);

CREATE TABLE shopkeep_sessions (
    token_hash   bytea PRIMARY KEY NOT NULL CHECK (octet_length(token_hash) = 32),
    holder_kind  text NOT NULL CHECK (holder_kind IN ('staff', 'customer')),
    holder_id    bytea NOT NULL CHECK (octet_length(holder_id) = 16),
    created_at   text NOT NULL,
    last_seen_at text NOT NULL,
    expires_at   text NOT NULL,
    revoked_at   text
);
CREATE INDEX shopkeep_sessions_holder ON shopkeep_sessions (holder_kind, holder_id);

CREATE TABLE shopkeep_api_keys (
    id           bytea PRIMARY KEY NOT NULL CHECK (octet_length(id) = 16),
    prefix       text NOT NULL UNIQUE,
    key_hash     bytea NOT NULL CHECK (octet_length(key_hash) = 32),
    label        text NOT NULL,
    role         text NOT NULL CONSTRAINT shopkeep_api_keys_role_check
                 CHECK (role IN ('owner', 'manager', 'support', 'accountant', 'warehouse')),
    created_by   text NOT NULL,
    created_at   text NOT NULL,
    last_used_at text,
    revoked_at   text
);

CREATE TABLE shopkeep_login_failures (
    email_index     bytea PRIMARY KEY NOT NULL CHECK (octet_length(email_index) = 32),
    failures        bigint NOT NULL CHECK (failures > 0),
    last_failure_at text NOT NULL,
    blocked_until   text
);
CREATE INDEX shopkeep_login_failures_age ON shopkeep_login_failures (last_failure_at);

-- `seq` is assigned by the caller (the next in the chain), as on SQLite.
CREATE TABLE shopkeep_audit (
    seq       bigint PRIMARY KEY NOT NULL CHECK (seq > 0),
    at        text NOT NULL,
    principal text NOT NULL,
    action    text NOT NULL,
    resource  text NOT NULL,
    outcome   text NOT NULL CHECK (outcome IN ('allowed', 'denied')),
    mac       bytea NOT NULL CHECK (octet_length(mac) = 32)
);

CREATE FUNCTION shopkeep_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.seq IS DISTINCT FROM (SELECT coalesce(max(seq), 0) + 1 FROM shopkeep_audit) THEN
        RAISE EXCEPTION 'the audit log is append-only';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER shopkeep_audit_append_only BEFORE INSERT ON shopkeep_audit
FOR EACH ROW EXECUTE FUNCTION shopkeep_audit_append_only();

CREATE TRIGGER shopkeep_audit_no_update BEFORE UPDATE ON shopkeep_audit
FOR EACH ROW EXECUTE FUNCTION shopkeep_refuse('the audit log is append-only');

CREATE TRIGGER shopkeep_audit_no_delete BEFORE DELETE ON shopkeep_audit
FOR EACH ROW EXECUTE FUNCTION shopkeep_refuse('the audit log is append-only');

CREATE TRIGGER shopkeep_audit_no_truncate BEFORE TRUNCATE ON shopkeep_audit
FOR EACH STATEMENT EXECUTE FUNCTION shopkeep_refuse('the audit log is append-only');
