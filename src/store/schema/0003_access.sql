-- Access control: staff accounts, sessions, API keys and the tamper-evident audit log.

-- Staff accounts. Email and name are personal data: ciphertexts under the staff member's data
-- key (subject 'staff:<id>'), bound to this table, their column and the row id. The email is
-- found through its keyed blind index.
CREATE TABLE shopkeep_staff (
    id            BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 16),
    email_index   BLOB NOT NULL UNIQUE CHECK (length(email_index) = 32),
    email         BLOB NOT NULL,
    name          BLOB NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('owner', 'manager', 'support', 'accountant', 'warehouse')),
    password_hash TEXT NOT NULL,
    disabled_at   TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    version       INTEGER NOT NULL DEFAULT 1 CHECK (version > 0)
) STRICT;

-- Login sessions of customers and staff. Only the keyed hash of the token is stored.
CREATE TABLE shopkeep_sessions (
    token_hash   BLOB PRIMARY KEY NOT NULL CHECK (length(token_hash) = 32),
    holder_kind  TEXT NOT NULL CHECK (holder_kind IN ('staff', 'customer')),
    holder_id    BLOB NOT NULL CHECK (length(holder_id) = 16),
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    revoked_at   TEXT
) STRICT, WITHOUT ROWID;
CREATE INDEX shopkeep_sessions_holder ON shopkeep_sessions (holder_kind, holder_id);

-- API keys for back-office integrations. The key is `shk_<prefix>_<secret>`; the prefix is
-- public and finds the row, only the keyed hash of the whole key is stored.
CREATE TABLE shopkeep_api_keys (
    id           BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 16),
    prefix       TEXT NOT NULL UNIQUE,
    key_hash     BLOB NOT NULL CHECK (length(key_hash) = 32),
    label        TEXT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('owner', 'manager', 'support', 'accountant', 'warehouse')),
    created_by   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at   TEXT
) STRICT;

-- Failed logins (customers and staff) per email blind index, whether or not an account has
-- that email, so that throttling reveals nothing about which accounts exist. Customer and staff
-- emails are indexed under different labels, so their rows never collide. Rows older than the
-- throttle's quiet period are deleted as new failures arrive.
CREATE TABLE shopkeep_login_failures (
    email_index     BLOB PRIMARY KEY NOT NULL CHECK (length(email_index) = 32),
    failures        INTEGER NOT NULL CHECK (failures > 0),
    last_failure_at TEXT NOT NULL,
    blocked_until   TEXT
) STRICT, WITHOUT ROWID;
CREATE INDEX shopkeep_login_failures_age ON shopkeep_login_failures (last_failure_at);

-- The audit log: append-only, each entry MACed over the previous entry's MAC and its own
-- fields under the audit key (see docs/access-control.md).
CREATE TABLE shopkeep_audit (
    seq       INTEGER PRIMARY KEY NOT NULL CHECK (seq > 0),
    at        TEXT NOT NULL,
    principal TEXT NOT NULL,
    action    TEXT NOT NULL,
    resource  TEXT NOT NULL,
    outcome   TEXT NOT NULL CHECK (outcome IN ('allowed', 'denied')),
    mac       BLOB NOT NULL CHECK (length(mac) = 32)
) STRICT;

-- Entries are only ever appended at the end: this also stops INSERT OR REPLACE from overwriting
-- an entry (SQLite fires no delete trigger for REPLACE).
CREATE TRIGGER shopkeep_audit_append_only BEFORE INSERT ON shopkeep_audit
WHEN NEW.seq IS NOT (SELECT coalesce(max(seq), 0) + 1 FROM shopkeep_audit)
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

CREATE TRIGGER shopkeep_audit_no_update BEFORE UPDATE ON shopkeep_audit
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

CREATE TRIGGER shopkeep_audit_no_delete BEFORE DELETE ON shopkeep_audit
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
