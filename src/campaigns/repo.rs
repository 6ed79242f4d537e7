//! Campaigns and flows as staff manage them: create, schedule, cancel, pause, read.

use std::time::Duration;

use super::events::{CampaignChanged, FlowChanged};
use super::model::{
    Campaign, CampaignId, CampaignStatus, Flow, FlowId, FlowStatus, FlowTrigger, NewCampaign,
    NewFlow, SendCounts,
};
use super::policy::{self, SendPolicy};
use super::tracking::{self, MessageAttribution};
use crate::access::{Action, Principal, Resource};
use crate::clock::Timestamp;
use crate::error::{Error, ErrorKind, Result};
use crate::marketing::AudienceQuery;
use crate::orders::OrderId;
use crate::sql::{Param, args};
use crate::store::{Store, Tx, not_found};

/// The longest attribution window: 90 days.
pub const MAX_ATTRIBUTION_WINDOW: Duration = Duration::from_secs(90 * 24 * 3600);
/// How many audience members one page of scheduling reads.
const AUDIENCE_PAGE: usize = 1000;

/// Campaigns, flows and their messages, as seen by one principal. From [`Store::campaigns`].
///
/// Every method needs [`Action::ManageCampaigns`] (the owner, marketing staff and the system:
/// the host's worker calling [`run_due`](Self::run_due)); customers never. Clicks need no
/// principal: [`Store::record_click`].
#[derive(Debug)]
pub struct CampaignRepo<'s> {
    pub(super) store: &'s Store,
    pub(super) principal: &'s Principal,
}

impl Store {
    /// Campaigns and flows, for `principal`.
    ///
    /// ```
    /// use shopkeep::campaigns::{MessageTemplate, NewCampaign};
    /// use shopkeep::{KeyRing, Store};
    ///
    /// let store = Store::open_in_memory(KeyRing::generate()?)?;
    /// let system = store.system();
    /// let template = MessageTemplate::new("News", "Hello {{ name }}", "<p>Hello {{ name }}</p>")?;
    /// let draft = store.campaigns(&system).create_campaign(NewCampaign::new("news", template)?)?;
    /// assert_eq!(draft.name(), "news");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn campaigns<'s>(&'s self, principal: &'s Principal) -> CampaignRepo<'s> {
        CampaignRepo {
            store: self,
            principal,
        }
    }
}

fn invalid_transition(message: &str) -> Error {
    Error::new(ErrorKind::InvalidTransition, message)
}

fn stale() -> Error {
    Error::new(
        ErrorKind::Conflict,
        "the campaign was changed meanwhile: read it again",
    )
}

impl CampaignRepo<'_> {
    fn authorize(&self, tx: &Tx<'_>) -> Result<()> {
        tx.authorize(
            self.principal,
            Action::ManageCampaigns,
            &Resource::Campaigns,
        )
    }

    /// Creates a draft campaign.
    ///
    /// # Errors
    ///
    /// `Forbidden` without [`Action::ManageCampaigns`].
    pub fn create_campaign(&self, new: NewCampaign) -> Result<Campaign> {
        self.store.write(|tx| {
            self.authorize(tx)?;
            let id = CampaignId::generate(tx.now())?;
            tx.execute(
                "INSERT INTO shopkeep_campaigns
                     (id, name, subject, text_body, html_body, status, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'draft', ?6, ?6)",
                args![
                    id,
                    new.name,
                    new.template.subject,
                    new.template.text,
                    new.template.html,
                    tx.now()
                ],
            )?;
            tx.audit(
                self.principal,
                Action::ManageCampaigns,
                &Resource::Campaigns,
            )?;
            tx.emit(&CampaignChanged {
                campaign_id: id,
                status: CampaignStatus::Draft.as_str(),
            })?;
            load_campaign(tx, id)
        })
    }

    /// Schedules a draft campaign to `audience` at `send_at` (a time already past means: at
    /// the next [`run_due`](Self::run_due)). The audience is resolved now, from the scores of
    /// the last [`refresh_scores`](crate::marketing::MarketingRepo::refresh_scores): each
    /// member gets one queued message. Consent, the suppression list and the frequency cap are
    /// checked when each message is due, not here, so a withdrawal in between is honoured.
    ///
    /// # Errors
    ///
    /// `NotFound` for an unknown campaign; `Conflict` if `version` is not the stored one;
    /// `InvalidTransition` unless it is a draft; the audience's errors (`Validation`,
    /// `NotConfigured` without shop settings); `Forbidden` without the action. Nothing is
    /// written on error.
    pub fn schedule(
        &self,
        id: CampaignId,
        version: u64,
        audience: &AudienceQuery,
        send_at: Timestamp,
    ) -> Result<Campaign> {
        audience.check()?;
        self.store.write(|tx| {
            self.authorize(tx)?;
            let campaign = load_campaign(tx, id)?;
            if campaign.version != version {
                return Err(stale());
            }
            if campaign.status != CampaignStatus::Draft {
                return Err(invalid_transition("only a draft campaign can be scheduled"));
            }
            let mut after = None;
            loop {
                let page = crate::marketing::audience_in(tx, audience, after, AUDIENCE_PAGE)?;
                for customer in &page.customers {
                    let message = super::MessageId::generate(tx.now())?;
                    tx.execute(
                        "INSERT INTO shopkeep_sends (id, campaign_id, customer_id, due_at, state)
                     VALUES (?1, ?2, ?3, ?4, 'due')",
                        args![message, id, *customer, send_at],
                    )?;
                }
                match page.next {
                    Some(next) => after = Some(next),
                    None => break,
                }
            }
            set_campaign_status(tx, id, CampaignStatus::Scheduled, Some(send_at))?;
            tx.audit(
                self.principal,
                Action::ManageCampaigns,
                &Resource::Campaigns,
            )?;
            tx.emit(&CampaignChanged {
                campaign_id: id,
                status: CampaignStatus::Scheduled.as_str(),
            })?;
            load_campaign(tx, id)
        })
    }

    /// Cancels a scheduled or sending campaign: its messages still due are cancelled; those
    /// already sent stay sent.
    ///
    /// # Errors
    ///
    /// `NotFound` for an unknown campaign; `InvalidTransition` for a draft, sent or cancelled
    /// one; `Forbidden` without the action.
    pub fn cancel(&self, id: CampaignId) -> Result<Campaign> {
        self.store.write(|tx| {
            self.authorize(tx)?;
            let campaign = load_campaign(tx, id)?;
            if !matches!(
                campaign.status,
                CampaignStatus::Scheduled | CampaignStatus::Sending
            ) {
                return Err(invalid_transition(
                    "only a scheduled or sending campaign can be cancelled",
                ));
            }
            tx.execute(
                "UPDATE shopkeep_sends SET state = 'cancelled', reason = 'campaign_cancelled',
                     lease_token = NULL, lease_until = NULL
                 WHERE campaign_id = ?1 AND state = 'due'",
                args![id],
            )?;
            set_campaign_status(tx, id, CampaignStatus::Cancelled, campaign.send_at)?;
            tx.audit(
                self.principal,
                Action::ManageCampaigns,
                &Resource::Campaigns,
            )?;
            tx.emit(&CampaignChanged {
                campaign_id: id,
                status: CampaignStatus::Cancelled.as_str(),
            })?;
            load_campaign(tx, id)
        })
    }

    /// A campaign, with its messages counted by state.
    ///
    /// # Errors
    ///
    /// `NotFound` for an unknown campaign; `Forbidden` without the action.
    pub fn campaign(&self, id: CampaignId) -> Result<Campaign> {
        self.store.read(|tx| {
            self.authorize(tx)?;
            load_campaign(tx, id)
        })
    }

    /// Creates an active flow: from now on, [`run_due`](Self::run_due) enrols whoever its
    /// trigger finds (only what happens after this moment, for the welcome and post-purchase
    /// triggers).
    ///
    /// # Errors
    ///
    /// `Validation` (field `steps`) for a flow without steps; `Forbidden` without the action.
    pub fn create_flow(&self, new: NewFlow) -> Result<Flow> {
        if new.steps.is_empty() {
            return Err(Error::validation("steps", "a flow has at least one step"));
        }
        self.store.write(|tx| {
            self.authorize(tx)?;
            let id = FlowId::generate(tx.now())?;
            let cursor = super::enroll::initial_cursor(tx, new.trigger)?;
            tx.execute(
                "INSERT INTO shopkeep_flows
                     (id, name, trigger, idle_secs, status, cursor, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, 'active', ?5, ?6, ?6)",
                args![
                    id,
                    new.name,
                    new.trigger.as_str(),
                    new.trigger.idle_secs(),
                    cursor,
                    tx.now()
                ],
            )?;
            for (position, s) in new.steps.iter().enumerate() {
                tx.execute(
                    "INSERT INTO shopkeep_flow_steps
                         (flow_id, position, delay_secs, subject, text_body, html_body)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    args![
                        id,
                        i64::try_from(position).unwrap_or(i64::MAX),
                        i64::try_from(s.delay.as_secs()).unwrap_or(i64::MAX),
                        s.template.subject,
                        s.template.text,
                        s.template.html
                    ],
                )?;
            }
            tx.audit(
                self.principal,
                Action::ManageCampaigns,
                &Resource::Campaigns,
            )?;
            tx.emit(&FlowChanged {
                flow_id: id,
                status: FlowStatus::Active.as_str(),
            })?;
            load_flow(tx, id)
        })
    }

    /// Pauses a flow: nobody new is enrolled, and the due steps of its runs wait (they are
    /// re-checked, consent included, when it is resumed).
    ///
    /// # Errors
    ///
    /// `NotFound` for an unknown flow; `Forbidden` without the action.
    pub fn pause_flow(&self, id: FlowId) -> Result<Flow> {
        self.set_flow_status(id, FlowStatus::Paused)
    }

    /// Resumes a paused flow.
    ///
    /// # Errors
    ///
    /// As [`pause_flow`](Self::pause_flow).
    pub fn resume_flow(&self, id: FlowId) -> Result<Flow> {
        self.set_flow_status(id, FlowStatus::Active)
    }

    fn set_flow_status(&self, id: FlowId, status: FlowStatus) -> Result<Flow> {
        self.store.write(|tx| {
            self.authorize(tx)?;
            let changed = tx.execute(
                "UPDATE shopkeep_flows SET status = ?2, updated_at = ?3, version = version + 1
                     WHERE id = ?1 AND status <> ?2",
                args![id, status.as_str(), tx.now()],
            )?;
            let flow = load_flow(tx, id)?;
            if changed > 0 {
                tx.audit(
                    self.principal,
                    Action::ManageCampaigns,
                    &Resource::Campaigns,
                )?;
                tx.emit(&FlowChanged {
                    flow_id: id,
                    status: status.as_str(),
                })?;
            }
            Ok(flow)
        })
    }

    /// A flow, with its runs and messages counted.
    ///
    /// # Errors
    ///
    /// `NotFound` for an unknown flow; `Forbidden` without the action.
    pub fn flow(&self, id: FlowId) -> Result<Flow> {
        self.store.read(|tx| {
            self.authorize(tx)?;
            load_flow(tx, id)
        })
    }

    /// Sets the [`SendPolicy`] (frequency cap and quiet hours) every later decision uses.
    ///
    /// # Errors
    ///
    /// `Forbidden` without the action.
    pub fn set_policy(&self, policy: SendPolicy) -> Result<()> {
        self.store.write(|tx| {
            self.authorize(tx)?;
            policy::save(tx, &policy)?;
            tx.audit(
                self.principal,
                Action::ManageCampaigns,
                &Resource::Campaigns,
            )
        })
    }

    /// The send policy in force (the default until one is set).
    ///
    /// # Errors
    ///
    /// `Forbidden` without the action.
    pub fn policy(&self) -> Result<SendPolicy> {
        self.store.read(|tx| {
            self.authorize(tx)?;
            policy::load(tx)
        })
    }

    /// The message order `order` is attributed to: the last tracked link its customer clicked
    /// within `window` before the order was placed ([`Store::record_click`]), or `None`.
    /// Computed when asked, so the window is the caller's choice (last-click attribution with
    /// a 7-day window is common).
    ///
    /// # Errors
    ///
    /// `Validation` (field `window`) for a window over 90 days; `NotFound` for an unknown
    /// order; `Forbidden` without the action.
    pub fn attribution(
        &self,
        order: OrderId,
        window: Duration,
    ) -> Result<Option<MessageAttribution>> {
        if window > MAX_ATTRIBUTION_WINDOW {
            return Err(Error::validation(
                "window",
                "an attribution window is at most 90 days",
            ));
        }
        self.store.read(|tx| {
            self.authorize(tx)?;
            let row: Option<(crate::access::CustomerId, Timestamp)> = tx.query_opt(
                "SELECT customer_id, placed_at FROM shopkeep_orders WHERE id = ?1",
                args![order],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            let Some((customer, placed_at)) = row else {
                return Err(not_found(&Resource::Order {
                    id: order,
                    customer: None,
                }));
            };
            let from = placed_at.checked_sub(window)?;
            tracking::last_click(tx, customer, from, placed_at)
        })
    }
}

/// Moves a campaign to `status`.
pub(super) fn set_campaign_status(
    tx: &Tx<'_>,
    id: CampaignId,
    status: CampaignStatus,
    send_at: Option<Timestamp>,
) -> Result<()> {
    tx.execute(
        "UPDATE shopkeep_campaigns SET status = ?2, send_at = ?3, updated_at = ?4,
             version = version + 1
         WHERE id = ?1",
        args![id, status.as_str(), send_at, tx.now()],
    )?;
    Ok(())
}

/// Counts messages by state where `column` = `id`.
fn counts(tx: &Tx<'_>, sql: &str, id: &dyn Param) -> Result<SendCounts> {
    let mut counts = SendCounts::default();
    let rows = tx.query_map(sql, args![id], |r| {
        Ok((r.get::<String>(0)?, r.get::<i64>(1)?))
    })?;
    for (state, n) in rows {
        let n = u64::try_from(n).unwrap_or(0);
        match state.as_str() {
            "due" => counts.due = n,
            "sent" => counts.sent = n,
            "skipped" => counts.skipped = n,
            _ => counts.cancelled = n,
        }
    }
    Ok(counts)
}

/// A campaign by id.
pub(super) fn load_campaign(tx: &Tx<'_>, id: CampaignId) -> Result<Campaign> {
    let row: Option<(String, String, Option<Timestamp>, Timestamp, i64)> = tx.query_opt(
        "SELECT name, status, send_at, created_at, version FROM shopkeep_campaigns WHERE id = ?1",
        args![id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
    )?;
    let Some((name, status, send_at, created_at, version)) = row else {
        return Err(not_found(&Resource::Campaigns));
    };
    Ok(Campaign {
        id,
        name,
        status: CampaignStatus::from_stored(&status)?,
        send_at,
        created_at,
        version: u64::try_from(version).unwrap_or(0),
        counts: counts(
            tx,
            "SELECT state, count(*) FROM shopkeep_sends WHERE campaign_id = ?1 GROUP BY state",
            &id,
        )?,
    })
}

/// A flow by id.
pub(super) fn load_flow(tx: &Tx<'_>, id: FlowId) -> Result<Flow> {
    let row: Option<(String, String, Option<i64>, String, i64)> = tx.query_opt(
        "SELECT name, trigger, idle_secs, status, version FROM shopkeep_flows WHERE id = ?1",
        args![id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
    )?;
    let Some((name, trigger, idle, status, version)) = row else {
        return Err(not_found(&Resource::Campaigns));
    };
    let steps: i64 = tx.query_row(
        "SELECT count(*) FROM shopkeep_flow_steps WHERE flow_id = ?1",
        args![id],
        |r| r.get(0),
    )?;
    let mut runs = [0u64; 3];
    {
        let rows = tx.query_map(
            "SELECT status, count(*) FROM shopkeep_flow_runs WHERE flow_id = ?1 GROUP BY status",
            args![id],
            |r| Ok((r.get::<String>(0)?, r.get::<i64>(1)?)),
        )?;
        for (status, n) in rows {
            let slot = match status.as_str() {
                "active" => 0,
                "completed" => 1,
                _ => 2,
            };
            if let Some(count) = runs.get_mut(slot) {
                *count = u64::try_from(n).unwrap_or(0);
            }
        }
    }
    let [runs_active, runs_completed, runs_stopped] = runs;
    Ok(Flow {
        id,
        name,
        trigger: FlowTrigger::from_stored(&trigger, idle)?,
        status: FlowStatus::from_stored(&status)?,
        steps: usize::try_from(steps).unwrap_or(0),
        version: u64::try_from(version).unwrap_or(0),
        runs_active,
        runs_completed,
        runs_stopped,
        counts: counts(
            tx,
            "SELECT s.state, count(*) FROM shopkeep_flow_runs r
             JOIN shopkeep_sends s ON s.run_id = r.id
             WHERE r.flow_id = ?1 GROUP BY s.state",
            &id,
        )?,
    })
}
