-- Lead scoring (issue 17): the activities the host reports (email opens, link clicks, site
-- visits, purchases after conversion), each once by the id the host gives it, with the points
-- it earned under the documented rules (docs/leads.md); the lead's score column is their sum.
CREATE TABLE shopkeep_lead_activities (
    activity_id TEXT PRIMARY KEY NOT NULL,
    lead_id     BLOB NOT NULL REFERENCES shopkeep_leads (id),
    kind        TEXT NOT NULL
                CHECK (kind IN ('email_opened', 'link_clicked', 'site_visit', 'purchase')),
    at          TEXT NOT NULL,
    points      INTEGER NOT NULL CHECK (points >= 0),
    recorded_at TEXT NOT NULL
) STRICT, WITHOUT ROWID;
-- The points a lead already earned by one kind (the per-kind caps), and erasure.
CREATE INDEX shopkeep_lead_activities_lead ON shopkeep_lead_activities (lead_id, kind);
-- "Top leads": open leads by score, best first.
CREATE INDEX shopkeep_leads_by_score ON shopkeep_leads (score DESC, id)
    WHERE erased_at IS NULL;
