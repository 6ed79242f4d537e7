-- PostgreSQL twin of ../0020_lead_consent.sql. Differs: PostgreSQL relaxes NOT NULL and adds a
-- column and a CHECK in place, so the consent ledger is altered rather than rebuilt; its rows,
-- identity sequence, index and append-only trigger stay as they are. The end state is the
-- SQLite file's except column order: `lead_id` comes last instead of after `customer_id`
-- (shopkeep names every column it writes and reads). Otherwise bytea/octet_length, STRICT and
-- WITHOUT ROWID dropped.
ALTER TABLE shopkeep_customer_consents
    ALTER COLUMN customer_id DROP NOT NULL,
    ADD COLUMN lead_id bytea REFERENCES shopkeep_leads (id),
    ADD CHECK ((customer_id IS NULL) <> (lead_id IS NULL));
CREATE INDEX shopkeep_customer_consents_lead ON shopkeep_customer_consents (lead_id, seq)
    WHERE lead_id IS NOT NULL;

-- Double opt-in confirmation tokens of leads, as shopkeep_customer_tokens holds customers':
-- only the keyed hash is stored, and auth_mac binds the hash to its lead.
CREATE TABLE shopkeep_lead_tokens (
    token_hash   bytea PRIMARY KEY NOT NULL CHECK (octet_length(token_hash) = 32),
    lead_id      bytea NOT NULL REFERENCES shopkeep_leads (id),
    channel      text NOT NULL,
    source       text NOT NULL,
    text_version text NOT NULL,
    created_at   text NOT NULL,
    expires_at   text NOT NULL,
    auth_mac     bytea NOT NULL CHECK (octet_length(auth_mac) = 32)
);
CREATE INDEX shopkeep_lead_tokens_lead ON shopkeep_lead_tokens (lead_id, channel);
