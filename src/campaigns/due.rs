//! `run_due`: start due campaigns, enrol flows, then decide each due message under a lease.
//!
//! A worker first claims up to `limit` due messages in one transaction, writing a random
//! lease token and a lease end on each; then it decides them in a second transaction, where
//! every change is conditional on its own token still being there. Two workers never claim the
//! same row (the claim is one UPDATE); a worker that dies after claiming leaves rows another
//! takes once the lease ends; a worker whose lease ran out and was taken over changes nothing.
//! Deciding a message and queuing its outbox event commit together, so each message is sent
//! exactly once.

use std::time::Duration;

use super::enroll::{self, Person};
use super::events::{CampaignChanged, Queued, RunChanged};
use super::model::{CampaignId, CampaignStatus, FlowId, MessageId, RunId, RunReport};
use super::policy::{self, SendPolicy};
use super::repo::CampaignRepo;
use crate::access::{Action, CustomerId, Resource};
use crate::catalog::TimeZone;
use crate::clock::Timestamp;
use crate::crypto::secret::random_array;
use crate::customers::{Channel, ConsentStatus};
use crate::error::{Error, Result};
use crate::leads::LeadId;
use crate::sql::{Param, args};
use crate::store::Tx;

/// How long a claim holds a message.
const LEASE: Duration = Duration::from_secs(300);
/// How long a paused flow's due step waits before it is looked at again.
const PAUSED_RETRY: Duration = Duration::from_secs(3600);
/// The most messages one call decides.
const MAX_LIMIT: usize = 1000;

/// What becomes of one due message.
enum Decision {
    Send,
    /// Not sent, for good (a campaign's recipient): the reason.
    Skip(&'static str),
    /// Not sent; its flow run ends here: the reason.
    Stop(&'static str),
    /// Not yet: due again at the time, for the reason.
    Defer(Timestamp, &'static str),
}

/// A due message as claimed.
struct Due {
    campaign: Option<CampaignId>,
    run: Option<RunId>,
    position: Option<i64>,
    person: Person,
}

/// The run a flow message belongs to.
struct Run {
    flow: FlowId,
    trigger: String,
    flow_active: bool,
    active: bool,
    cart: Option<Vec<u8>>,
    order: Option<Vec<u8>>,
    started_at: Timestamp,
}

impl CampaignRepo<'_> {
    /// Does what is due at the store clock's "now" (a [`ManualClock`](crate::clock::ManualClock)
    /// in tests): starts the scheduled campaigns whose time came, enrols whoever the active
    /// flows' triggers find, then decides up to `limit` (1 to 1,000) due messages — sends
    /// each (a `message.queued` outbox event), skips it, or moves it later.
    ///
    /// Every message is checked when it is due, not when it was queued: the recipient's
    /// current email consent (in the one ledger of customers and leads), erasure, the flow's
    /// stop condition (the cart checked out, the customer ordered again, the lead closed), the
    /// quiet hours and the frequency cap of the [`SendPolicy`]. The host calls this from a
    /// worker every minute or so; it is idempotent, and safe with several workers at once
    /// (leases; see the module source). Call it again while it reports work done.
    ///
    /// # Errors
    ///
    /// `Validation` (field `limit`) outside 1 to 1,000; `Forbidden` without
    /// [`Action::ManageCampaigns`].
    pub fn run_due(&self, limit: usize) -> Result<RunReport> {
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(Error::validation(
                "limit",
                "a run decides 1 to 1,000 messages",
            ));
        }
        let store = self.store;
        let started = store.write(|tx| {
            tx.authorize(
                self.principal,
                Action::ManageCampaigns,
                &Resource::Campaigns,
            )?;
            Ok(RunReport {
                campaigns_started: start_campaigns(tx)?,
                enrolled: enroll::enroll_all(tx)?,
                ..RunReport::default()
            })
        })?;
        let lease: [u8; 16] = random_array()?;
        let claimed = store.write(|tx| claim(tx, &lease, limit))?;
        store.write(|tx| {
            // A fresh copy per attempt: a retried transaction must not count twice.
            let mut report = started;
            let policy = policy::load(tx)?;
            let zone = match crate::catalog::current_settings(tx)? {
                Some(settings) => settings.time_zone(),
                None => TimeZone::parse("UTC")?,
            };
            for &id in &claimed {
                decide(tx, id, &lease, &policy, &zone, &mut report)?;
            }
            finish_campaigns(tx)?;
            if !report.is_idle() {
                tx.audit(
                    self.principal,
                    Action::ManageCampaigns,
                    &Resource::Campaigns,
                )?;
            }
            Ok(report)
        })
    }
}

/// Moves scheduled campaigns whose time came to `sending`.
fn start_campaigns(tx: &Tx<'_>) -> Result<u64> {
    let started: Vec<CampaignId> = tx.query_map(
        "UPDATE shopkeep_campaigns SET status = 'sending', updated_at = ?1,
                     version = version + 1
                 WHERE status = 'scheduled' AND send_at <= ?1 RETURNING id",
        args![tx.now()],
        |r| r.get(0),
    )?;
    for &id in &started {
        tx.emit(&CampaignChanged {
            campaign_id: id,
            status: CampaignStatus::Sending.as_str(),
        })?;
    }
    Ok(u64::try_from(started.len()).unwrap_or(u64::MAX))
}

/// Moves sending campaigns with nothing left due to `sent`.
fn finish_campaigns(tx: &Tx<'_>) -> Result<()> {
    let finished: Vec<CampaignId> = tx.query_map(
        "UPDATE shopkeep_campaigns SET status = 'sent', updated_at = ?1,
                     version = version + 1
                 WHERE status = 'sending' AND NOT EXISTS (SELECT 1 FROM shopkeep_sends s
                     WHERE s.campaign_id = shopkeep_campaigns.id AND s.state = 'due')
                 RETURNING id",
        args![tx.now()],
        |r| r.get(0),
    )?;
    for id in finished {
        tx.emit(&CampaignChanged {
            campaign_id: id,
            status: CampaignStatus::Sent.as_str(),
        })?;
    }
    Ok(())
}

/// Claims up to `limit` due messages whose lease is free, oldest due first.
fn claim(tx: &Tx<'_>, lease: &[u8; 16], limit: usize) -> Result<Vec<MessageId>> {
    let until = tx.now().checked_add(LEASE)?;
    tx.query_map(
        "UPDATE shopkeep_sends SET lease_token = ?1, lease_until = ?2
             WHERE id IN (SELECT id FROM shopkeep_sends
                 WHERE state = 'due' AND due_at <= ?3 AND (lease_until IS NULL OR lease_until <= ?3)
                 ORDER BY due_at LIMIT ?4)
             RETURNING id",
        args![
            lease.as_slice(),
            until,
            tx.now(),
            i64::try_from(limit).unwrap_or(i64::MAX)
        ],
        |r| r.get(0),
    )
}

/// Decides one claimed message, if this worker's lease still holds it.
fn decide(
    tx: &Tx<'_>,
    id: MessageId,
    lease: &[u8; 16],
    policy: &SendPolicy,
    zone: &TimeZone,
    report: &mut RunReport,
) -> Result<()> {
    let Some(due) = load_due(tx, id, lease)? else {
        return Ok(());
    };
    let run = match due.run {
        Some(run) => Some(load_run(tx, run)?),
        None => None,
    };
    let decision = judge(tx, &due, run.as_ref(), policy, zone)?;
    let now = tx.now();
    match decision {
        Decision::Send => {
            settle(tx, id, lease, "sent", None, Some(now))?;
            tx.emit(&Queued {
                message_id: id,
                campaign_id: due.campaign,
                flow_id: run.as_ref().map(|r| r.flow),
                customer_id: customer_of(due.person),
                lead_id: lead_of(due.person),
            })?;
            report.sent += 1;
            if let (Some(run_id), Some(run), Some(position)) = (due.run, &run, due.position) {
                let queued =
                    enroll::queue_step(tx, run.flow, run_id, position + 1, due.person, now)?;
                if !queued {
                    end_run(tx, run_id, run.flow, "completed", None)?;
                }
            }
        }
        Decision::Skip(reason) => {
            settle(tx, id, lease, "skipped", Some(reason), None)?;
            report.skipped += 1;
        }
        Decision::Stop(reason) => {
            settle(tx, id, lease, "cancelled", Some(reason), None)?;
            if let (Some(run_id), Some(run)) = (due.run, &run) {
                end_run(tx, run_id, run.flow, "stopped", Some(reason))?;
            }
            report.cancelled += 1;
        }
        Decision::Defer(until, reason) => {
            tx.execute(
                "UPDATE shopkeep_sends SET due_at = ?3, reason = ?4, lease_token = NULL,
                     lease_until = NULL
                 WHERE id = ?1 AND lease_token = ?2",
                args![id, lease.as_slice(), until, reason],
            )?;
            report.deferred += 1;
        }
    }
    Ok(())
}

/// The checks, in order: the flow's own state and stop condition, the person (erased, no
/// consent, suppressed), quiet hours, the frequency cap.
fn judge(
    tx: &Tx<'_>,
    due: &Due,
    run: Option<&Run>,
    policy: &SendPolicy,
    zone: &TimeZone,
) -> Result<Decision> {
    let now = tx.now();
    // A campaign's recipient who may not be reached is skipped; a flow's run ends.
    let refuse = |reason| {
        if run.is_some() {
            Decision::Stop(reason)
        } else {
            Decision::Skip(reason)
        }
    };
    if let Some(run) = run {
        if !run.active {
            return Ok(Decision::Stop("run_ended"));
        }
        if !run.flow_active {
            return Ok(Decision::Defer(
                now.checked_add(PAUSED_RETRY)?,
                "flow_paused",
            ));
        }
        if let Some(reason) = stop_condition(tx, due.person, run)? {
            return Ok(Decision::Stop(reason));
        }
    }
    if !reachable(tx, due.person)? {
        return Ok(refuse("no_consent"));
    }
    if super::suppressed(tx, due.person)? {
        return Ok(refuse("suppressed"));
    }
    if let Some(until) = policy.quiet_until(zone, now)? {
        return Ok(Decision::Defer(until, "quiet_hours"));
    }
    let since = now.checked_sub(policy.window())?;
    let (sent, oldest) = sent_since(tx, due.person, since)?;
    if sent >= u64::from(policy.max_messages()) {
        return Ok(match (run, oldest) {
            (Some(_), Some(oldest)) => {
                Decision::Defer(oldest.checked_add(policy.window())?, "frequency_cap")
            }
            _ => Decision::Skip("frequency_cap"),
        });
    }
    Ok(Decision::Send)
}

/// Whether the person is not erased and has a current email marketing consent.
fn reachable(tx: &Tx<'_>, person: Person) -> Result<bool> {
    match person {
        Person::Customer(id) => {
            if crate::customers::ensure_active(tx, id).is_err() {
                return Ok(false);
            }
            Ok(crate::customers::consent_status(tx, id, Channel::Email)? == ConsentStatus::Granted)
        }
        Person::Lead(id) => {
            let open: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM shopkeep_leads WHERE id = ?1 AND erased_at IS NULL)",
                args![id],
                |r| r.get(0),
            )?;
            Ok(open
                && crate::customers::consent_repo::lead_state_in(tx, id, Channel::Email)?.status()
                    == ConsentStatus::Granted)
        }
    }
}

/// Why a flow run ends before this step, if it does.
fn stop_condition(tx: &Tx<'_>, person: Person, run: &Run) -> Result<Option<&'static str>> {
    let exists = |sql: &str, params: &[&dyn Param]| -> Result<bool> {
        tx.query_row(sql, params, |r| r.get(0))
    };
    let ordered_since = |customer: CustomerId| {
        exists(
            "SELECT EXISTS (SELECT 1 FROM shopkeep_orders WHERE customer_id = ?1 AND placed_at >= ?2)",
            args![customer, run.started_at],
        )
    };
    Ok(match (run.trigger.as_str(), person) {
        ("abandoned_cart", Person::Customer(customer)) => {
            if ordered_since(customer)? {
                Some("checked_out")
            } else if !exists(
                "SELECT EXISTS (SELECT 1 FROM shopkeep_cart_lines WHERE cart_id = ?1)",
                args![run.cart],
            )? {
                Some("cart_emptied")
            } else {
                None
            }
        }
        ("post_purchase", _) => exists(
            "SELECT EXISTS (SELECT 1 FROM shopkeep_orders WHERE id = ?1
                 AND status IN ('cancelled', 'expired'))",
            args![run.order],
        )?
        .then_some("order_cancelled"),
        ("win_back", Person::Customer(customer)) => {
            ordered_since(customer)?.then_some("ordered_again")
        }
        ("lead_nurture", Person::Lead(lead)) => exists(
            "SELECT NOT EXISTS (SELECT 1 FROM shopkeep_leads WHERE id = ?1
                 AND erased_at IS NULL AND customer_id IS NULL AND status NOT IN ('won', 'lost'))",
            args![lead],
        )?
        .then_some("lead_closed"),
        _ => None,
    })
}

/// How many marketing messages the person was sent since `since`, and the oldest of them.
fn sent_since(tx: &Tx<'_>, person: Person, since: Timestamp) -> Result<(u64, Option<Timestamp>)> {
    let (sql, id): (&str, &dyn Param) = match &person {
        Person::Customer(c) => (
            "SELECT count(*), min(sent_at) FROM shopkeep_sends
             WHERE customer_id = ?1 AND state = 'sent' AND sent_at > ?2",
            c,
        ),
        Person::Lead(l) => (
            "SELECT count(*), min(sent_at) FROM shopkeep_sends
             WHERE lead_id = ?1 AND state = 'sent' AND sent_at > ?2",
            l,
        ),
    };
    let (count, oldest): (i64, Option<Timestamp>) =
        tx.query_row(sql, args![id, since], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok((u64::try_from(count).unwrap_or(0), oldest))
}

fn customer_of(person: Person) -> Option<CustomerId> {
    match person {
        Person::Customer(c) => Some(c),
        Person::Lead(_) => None,
    }
}

fn lead_of(person: Person) -> Option<LeadId> {
    match person {
        Person::Lead(l) => Some(l),
        Person::Customer(_) => None,
    }
}

/// Sets a message's final state, if this worker's lease still holds it.
fn settle(
    tx: &Tx<'_>,
    id: MessageId,
    lease: &[u8; 16],
    state: &str,
    reason: Option<&str>,
    sent_at: Option<Timestamp>,
) -> Result<()> {
    tx.execute(
        "UPDATE shopkeep_sends SET state = ?3, reason = ?4, sent_at = ?5, lease_token = NULL,
             lease_until = NULL
         WHERE id = ?1 AND lease_token = ?2",
        args![id, lease.as_slice(), state, reason, sent_at],
    )?;
    Ok(())
}

/// Ends a run as `completed` or `stopped`.
fn end_run(
    tx: &Tx<'_>,
    run: RunId,
    flow: FlowId,
    status: &'static str,
    reason: Option<&'static str>,
) -> Result<()> {
    let ended = tx.execute(
        "UPDATE shopkeep_flow_runs SET status = ?2, stop_reason = ?3, ended_at = ?4
             WHERE id = ?1 AND status = 'active'",
        args![run, status, reason, tx.now()],
    )?;
    if ended == 0 {
        // Already ended (a stale due step of a stopped run): nothing to announce again.
        return Ok(());
    }
    tx.emit(&RunChanged {
        run_id: run,
        flow_id: flow,
        status,
        reason,
    })
}

/// A claimed message, if `lease` still holds it and it is still due.
fn load_due(tx: &Tx<'_>, id: MessageId, lease: &[u8; 16]) -> Result<Option<Due>> {
    type Row = (
        Option<CampaignId>,
        Option<RunId>,
        Option<i64>,
        Option<CustomerId>,
        Option<LeadId>,
    );
    let row: Option<Row> = tx.query_opt(
        "SELECT campaign_id, run_id, position, customer_id, lead_id FROM shopkeep_sends
             WHERE id = ?1 AND state = 'due' AND lease_token = ?2",
        args![id, lease.as_slice()],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
    )?;
    let Some((campaign, run, position, customer, lead)) = row else {
        return Ok(None);
    };
    let person = match (customer, lead) {
        (Some(c), _) => Person::Customer(c),
        (None, Some(l)) => Person::Lead(l),
        (None, None) => return Ok(None),
    };
    Ok(Some(Due {
        campaign,
        run,
        position,
        person,
    }))
}

fn load_run(tx: &Tx<'_>, id: RunId) -> Result<Run> {
    tx.query_row(
        "SELECT r.flow_id, f.trigger, f.status = 'active', r.status = 'active', r.cart_id,
             r.order_id, r.started_at
         FROM shopkeep_flow_runs r JOIN shopkeep_flows f ON f.id = r.flow_id
         WHERE r.id = ?1",
        args![id],
        |r| {
            Ok(Run {
                flow: r.get(0)?,
                trigger: r.get(1)?,
                flow_active: r.get(2)?,
                active: r.get(3)?,
                cart: r.get(4)?,
                order: r.get(5)?,
                started_at: r.get(6)?,
            })
        },
    )
}
