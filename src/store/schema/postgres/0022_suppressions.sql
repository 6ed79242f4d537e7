-- PostgreSQL twin of ../0022_suppressions.sql, converted type for type: INTEGER is bigint, TEXT text, BLOB
-- bytea (length() of a 16- or 32-byte blob is octet_length()), REAL double precision,
-- json_valid() is shopkeep_json_valid() (0005); STRICT and WITHOUT ROWID dropped.

-- The suppression list (issue 17): addresses the shop must never send marketing to, whatever
-- the consent ledger says (hard bounces, complaints, entries made by hand). No email is stored,
-- not even sealed: an entry holds the keyed blind indexes of the normalised address under the
-- two field labels the shop already looks addresses up by (`customer_email`, as in
-- shopkeep_customers.email_index, and `lead_email`, as in shopkeep_leads.email_index), so a
-- campaign checks a customer or a lead with the index already on their row, one point query
-- each. Nothing links an entry to a customer or a lead: it outlives their erasure, as an
-- objection to direct marketing (GDPR Art. 21(3)) must.
CREATE TABLE shopkeep_suppressions (
    id             bytea PRIMARY KEY NOT NULL CHECK (octet_length(id) = 16),
    customer_index bytea NOT NULL UNIQUE CHECK (octet_length(customer_index) = 32),
    lead_index     bytea NOT NULL UNIQUE CHECK (octet_length(lead_index) = 32),
    reason         text NOT NULL CHECK (reason IN ('hard_bounce', 'complaint', 'manual')),
    -- A short note (a ticket number, "bounced 550 5.1.1"); never an address.
    note           text,
    recorded_at    text NOT NULL,
    recorded_by    text NOT NULL
);

-- Unsubscribe tokens of leads, one per lead and channel, as shopkeep_customer_unsubscribe
-- holds customers': found by keyed hash, and kept encrypted under the lead's data key (bound to
-- `<lead id>/<channel>`) so that the same token can be handed out for every message. A lead's
-- erasure deletes its rows.
CREATE TABLE shopkeep_lead_unsubscribe (
    lead_id     bytea NOT NULL REFERENCES shopkeep_leads (id),
    channel     text NOT NULL,
    token_hash  bytea NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
    token       bytea NOT NULL,
    created_at  text NOT NULL,
    PRIMARY KEY (lead_id, channel)
);
