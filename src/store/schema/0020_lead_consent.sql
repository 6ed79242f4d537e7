-- Leads' marketing consent, in the one consent ledger (issue 17: "a consent ledger that covers
-- leads as well as customers"). A ledger row now belongs to a customer or to a lead, never both
-- and never neither. SQLite cannot relax NOT NULL in place, so the table is rebuilt under the
-- same name, its rows, sequence numbers, index and append-only trigger kept.
CREATE TABLE shopkeep_consents_rebuilt (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id  BLOB REFERENCES shopkeep_customers (id),
    lead_id      BLOB REFERENCES shopkeep_leads (id),
    channel      TEXT NOT NULL CHECK (channel IN ('email', 'sms', 'phone', 'post', 'push')),
    event        TEXT NOT NULL CHECK (event IN ('requested', 'confirmed', 'granted', 'withdrawn')),
    source       TEXT NOT NULL,
    text_version TEXT,
    recorded_by  TEXT NOT NULL,
    at           TEXT NOT NULL,
    CHECK ((customer_id IS NULL) <> (lead_id IS NULL))
) STRICT;
INSERT INTO shopkeep_consents_rebuilt
    (seq, customer_id, channel, event, source, text_version, recorded_by, at)
    SELECT seq, customer_id, channel, event, source, text_version, recorded_by, at
    FROM shopkeep_customer_consents;
DROP TABLE shopkeep_customer_consents;
ALTER TABLE shopkeep_consents_rebuilt RENAME TO shopkeep_customer_consents;
CREATE INDEX shopkeep_customer_consents_customer ON shopkeep_customer_consents (customer_id, seq);
CREATE INDEX shopkeep_customer_consents_lead ON shopkeep_customer_consents (lead_id, seq)
    WHERE lead_id IS NOT NULL;
CREATE TRIGGER shopkeep_customer_consents_no_update BEFORE UPDATE ON shopkeep_customer_consents
BEGIN
    SELECT RAISE(ABORT, 'the consent ledger is append-only');
END;

-- Double opt-in confirmation tokens of leads, as shopkeep_customer_tokens holds customers':
-- only the keyed hash is stored, and auth_mac binds the hash to its lead.
CREATE TABLE shopkeep_lead_tokens (
    token_hash   BLOB PRIMARY KEY NOT NULL CHECK (length(token_hash) = 32),
    lead_id      BLOB NOT NULL REFERENCES shopkeep_leads (id),
    channel      TEXT NOT NULL,
    source       TEXT NOT NULL,
    text_version TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    auth_mac     BLOB NOT NULL CHECK (length(auth_mac) = 32)
) STRICT, WITHOUT ROWID;
CREATE INDEX shopkeep_lead_tokens_lead ON shopkeep_lead_tokens (lead_id, channel);
