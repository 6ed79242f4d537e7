-- PostgreSQL twin of ../0021_lead_score.sql, converted type for type: INTEGER is bigint, TEXT text, BLOB
-- bytea (length() of a 16- or 32-byte blob is octet_length()), REAL double precision,
-- json_valid() is shopkeep_json_valid() (0005); STRICT and WITHOUT ROWID dropped.

-- Lead scoring (issue 17): the activities the host reports (email opens, link clicks, site
-- visits, purchases after conversion), each once by the id the host gives it, with the points
-- it earned under the documented rules (docs/leads.md); the lead's score column is their sum.
CREATE TABLE shopkeep_lead_activities (
    activity_id text PRIMARY KEY NOT NULL,
    lead_id     bytea NOT NULL REFERENCES shopkeep_leads (id),
    kind        text NOT NULL
                CHECK (kind IN ('email_opened', 'link_clicked', 'site_visit', 'purchase')),
    at          text NOT NULL,
    points      bigint NOT NULL CHECK (points >= 0),
    recorded_at text NOT NULL
);
-- The points a lead already earned by one kind (the per-kind caps), and erasure.
CREATE INDEX shopkeep_lead_activities_lead ON shopkeep_lead_activities (lead_id, kind);
-- "Top leads": open leads by score, best first.
CREATE INDEX shopkeep_leads_by_score ON shopkeep_leads (score DESC, id)
    WHERE erased_at IS NULL;
