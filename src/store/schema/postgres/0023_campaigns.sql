-- PostgreSQL twin of ../0023_campaigns.sql, converted type for type: INTEGER is bigint, TEXT text, BLOB
-- bytea (length() of a 16- or 32-byte blob is octet_length()), REAL double precision,
-- json_valid() is shopkeep_json_valid() (0005); STRICT and WITHOUT ROWID dropped.\n-- shopkeep_message_clicks.seq, a rowid alias, is an identity column BY DEFAULT: the database\n-- numbers rows inserted without one, as SQLite's rowid does.

-- Campaigns and automated flows (issue 17). Sending means: a row of shopkeep_sends becomes
-- `sent` and an outbox event tells the host's mailer; the message itself is rendered when the
-- host asks for it. Rows hold ids, states and template sources, never personal data: names and
-- addresses stay sealed in the customers' and leads' tables.

-- How often and when marketing may reach one person: one row, absent until the owner sets it
-- (then the documented defaults apply). Quiet hours are minutes after local midnight in the
-- shop's time zone; `quiet_from` > `quiet_until` spans midnight.
CREATE TABLE shopkeep_send_policy (
    id           bigint PRIMARY KEY NOT NULL CHECK (id = 1),
    max_messages bigint NOT NULL CHECK (max_messages BETWEEN 1 AND 1000),
    window_secs  bigint NOT NULL CHECK (window_secs > 0),
    quiet_from   bigint CHECK (quiet_from BETWEEN 0 AND 1439),
    quiet_until  bigint CHECK (quiet_until BETWEEN 0 AND 1439),
    updated_at   text NOT NULL,
    CHECK ((quiet_from IS NULL) = (quiet_until IS NULL))
);

-- One-off campaigns: a template (the sources; fixed once scheduled) and a time to send. The
-- audience is resolved when the campaign is scheduled, into its rows of shopkeep_sends.
CREATE TABLE shopkeep_campaigns (
    id         bytea PRIMARY KEY NOT NULL CHECK (octet_length(id) = 16),
    name       text NOT NULL,
    subject    text NOT NULL,
    text_body  text NOT NULL,
    html_body  text NOT NULL,
    status     text NOT NULL
               CHECK (status IN ('draft', 'scheduled', 'sending', 'sent', 'cancelled')),
    send_at    text,
    created_at text NOT NULL,
    updated_at text NOT NULL,
    version    bigint NOT NULL DEFAULT 1 CHECK (version > 0),
    CHECK (status = 'draft' OR send_at IS NOT NULL)
);
CREATE INDEX shopkeep_campaigns_due ON shopkeep_campaigns (send_at) WHERE status = 'scheduled';
CREATE INDEX shopkeep_campaigns_sending ON shopkeep_campaigns (id) WHERE status = 'sending';

-- Automated flows: a trigger and a sequence of steps (fixed at creation). `idle_secs` is the
-- abandoned-cart wait; `cursor` is how far the trigger scan has read (a consent ledger
-- sequence number, or an order's placing time).
CREATE TABLE shopkeep_flows (
    id         bytea PRIMARY KEY NOT NULL CHECK (octet_length(id) = 16),
    name       text NOT NULL,
    trigger    text NOT NULL CHECK (trigger IN
                   ('welcome', 'abandoned_cart', 'post_purchase', 'win_back', 'lead_nurture')),
    idle_secs  bigint CHECK (idle_secs > 0),
    status     text NOT NULL CHECK (status IN ('active', 'paused')),
    cursor     text NOT NULL,
    created_at text NOT NULL,
    updated_at text NOT NULL,
    version    bigint NOT NULL DEFAULT 1 CHECK (version > 0),
    CHECK ((trigger = 'abandoned_cart') = (idle_secs IS NOT NULL))
);
CREATE INDEX shopkeep_flows_active ON shopkeep_flows (trigger) WHERE status = 'active';

CREATE TABLE shopkeep_flow_steps (
    flow_id    bytea NOT NULL REFERENCES shopkeep_flows (id),
    position   bigint NOT NULL CHECK (position >= 0),
    delay_secs bigint NOT NULL CHECK (delay_secs >= 0),
    subject    text NOT NULL,
    text_body  text NOT NULL,
    html_body  text NOT NULL,
    PRIMARY KEY (flow_id, position)
);

-- One person going through a flow. `subject_key` names what enrolled them (a cart in one
-- idle state, an order, a customer's lapse after one last order, a lead) so that a scan never
-- enrols the same thing twice.
CREATE TABLE shopkeep_flow_runs (
    id          bytea PRIMARY KEY NOT NULL CHECK (octet_length(id) = 16),
    flow_id     bytea NOT NULL REFERENCES shopkeep_flows (id),
    subject_key text NOT NULL,
    customer_id bytea REFERENCES shopkeep_customers (id),
    lead_id     bytea REFERENCES shopkeep_leads (id),
    cart_id     bytea,
    order_id    bytea,
    status      text NOT NULL CHECK (status IN ('active', 'completed', 'stopped')),
    stop_reason text,
    started_at  text NOT NULL,
    ended_at    text,
    UNIQUE (flow_id, subject_key),
    CHECK ((customer_id IS NULL) <> (lead_id IS NULL))
);
CREATE INDEX shopkeep_flow_runs_active_cart ON shopkeep_flow_runs (flow_id, cart_id)
    WHERE status = 'active';

-- The durable queue of messages: one row per campaign recipient or flow step. A row is `due`
-- until `run_due` sends it (an outbox event), skips it (no consent, suppressed, capped) or
-- cancels it (its flow stopped); a worker holds a due row by its lease while it decides.
CREATE TABLE shopkeep_sends (
    id          bytea PRIMARY KEY NOT NULL CHECK (octet_length(id) = 16),
    campaign_id bytea REFERENCES shopkeep_campaigns (id),
    run_id      bytea REFERENCES shopkeep_flow_runs (id),
    position    bigint,
    customer_id bytea REFERENCES shopkeep_customers (id),
    lead_id     bytea REFERENCES shopkeep_leads (id),
    due_at      text NOT NULL,
    state       text NOT NULL CHECK (state IN ('due', 'sent', 'skipped', 'cancelled')),
    reason      text,
    lease_token bytea,
    lease_until text,
    sent_at     text,
    UNIQUE (campaign_id, customer_id),
    CHECK ((campaign_id IS NULL) <> (run_id IS NULL)),
    CHECK ((run_id IS NULL) = (position IS NULL)),
    CHECK ((customer_id IS NULL) <> (lead_id IS NULL)),
    CHECK ((state = 'sent') = (sent_at IS NOT NULL))
);
CREATE INDEX shopkeep_sends_due ON shopkeep_sends (due_at) WHERE state = 'due';
-- The frequency cap counts what one person was sent within the window.
CREATE INDEX shopkeep_sends_customer ON shopkeep_sends (customer_id, sent_at)
    WHERE state = 'sent' AND customer_id IS NOT NULL;
CREATE INDEX shopkeep_sends_lead ON shopkeep_sends (lead_id, sent_at)
    WHERE state = 'sent' AND lead_id IS NOT NULL;
CREATE INDEX shopkeep_sends_run ON shopkeep_sends (run_id, position) WHERE run_id IS NOT NULL;

-- Clicks the host reported with a signed tracking token, for last-click attribution.
CREATE TABLE shopkeep_message_clicks (
    seq         bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    message_id  bytea NOT NULL REFERENCES shopkeep_sends (id),
    customer_id bytea REFERENCES shopkeep_customers (id),
    url         text NOT NULL,
    at          text NOT NULL
);
CREATE INDEX shopkeep_message_clicks_customer ON shopkeep_message_clicks (customer_id, at)
    WHERE customer_id IS NOT NULL;
CREATE INDEX shopkeep_message_clicks_message ON shopkeep_message_clicks (message_id);
