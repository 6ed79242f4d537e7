-- PostgreSQL twin of ../0016_leads.sql, converted type for type: INTEGER is bigint, TEXT text, BLOB
-- bytea (length() of a 16- or 32-byte blob is octet_length()), REAL double precision,
-- json_valid() is shopkeep_json_valid() (0005); STRICT and WITHOUT ROWID dropped.

-- Leads: submissions of the shop's contact form. Every column of personal data is a ciphertext
-- under the lead's own data key (subject 'lead:<id>'), bound to this table, its column and the
-- row id, exactly like customers' fields (docs/security.md). The email is found through its
-- keyed blind index (field label 'lead_email', separate from customers' emails); one person may
-- send the form more than once, so the index is not unique.
--
-- Erasure keeps a tombstone (id, status, dates, customer link) with every personal column NULL
-- and the data key destroyed.
CREATE TABLE shopkeep_leads (
    id           bytea PRIMARY KEY NOT NULL CHECK (octet_length(id) = 16),
    email_index  bytea CHECK (octet_length(email_index) = 32),
    email        bytea,
    name         bytea,
    message      bytea,
    -- The PDF, sealed whole; NULL when the form carried none.
    attachment   bytea,
    status       text NOT NULL DEFAULT 'new'
                 CHECK (status IN ('new', 'contacted', 'qualified', 'won', 'lost')),
    -- Reserved for the scoring rules of a later step (opened emails, visits, purchases).
    score        bigint NOT NULL DEFAULT 0,
    -- The customer who registered with the lead's email (the conversion).
    customer_id  bytea REFERENCES shopkeep_customers (id),
    created_at   text NOT NULL,
    updated_at   text NOT NULL,
    erased_at    text,
    version      bigint NOT NULL DEFAULT 1 CHECK (version > 0),
    CHECK ((erased_at IS NULL) = (email_index IS NOT NULL AND email IS NOT NULL
                                  AND name IS NOT NULL AND message IS NOT NULL)),
    CHECK (erased_at IS NULL OR attachment IS NULL)
);
CREATE INDEX shopkeep_leads_email ON shopkeep_leads (email_index) WHERE email_index IS NOT NULL;
CREATE INDEX shopkeep_leads_status ON shopkeep_leads (status, id);
