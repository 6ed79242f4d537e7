//! The campaign and flow types: ids, what staff create, what they read back.

use std::time::Duration;

use serde::Serialize;

use super::template::MessageTemplate;
use crate::clock::Timestamp;
use crate::error::{Error, ErrorKind, Result};
use crate::ids::define_id;

define_id!(
    /// A campaign's id.
    CampaignId,
    "campaign_id"
);
define_id!(
    /// An automated flow's id.
    FlowId,
    "flow_id"
);
define_id!(
    /// One message to one person: a campaign recipient's, or one step of a flow run. The
    /// `message.queued` event names it; [`CampaignRepo::message`](super::CampaignRepo::message)
    /// renders it; click tokens and attribution point back to it.
    MessageId,
    "message_id"
);
define_id!(
    /// One person's way through a flow.
    RunId,
    "run_id"
);

/// The longest campaign or flow name, in characters.
const MAX_NAME: usize = 200;

fn name(field: &'static str, text: &str) -> Result<String> {
    crate::text::required(field, text, MAX_NAME)
}

/// Where a campaign is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CampaignStatus {
    /// Created, not scheduled: its template may still be replaced.
    Draft,
    /// Waiting for its time; [`CampaignRepo::run_due`](super::CampaignRepo::run_due) starts it.
    Scheduled,
    /// Its recipients are queued; some are still due.
    Sending,
    /// Every recipient was sent to or skipped.
    Sent,
    /// Stopped by staff: what was still due was cancelled.
    Cancelled,
}

impl CampaignStatus {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            CampaignStatus::Draft => "draft",
            CampaignStatus::Scheduled => "scheduled",
            CampaignStatus::Sending => "sending",
            CampaignStatus::Sent => "sent",
            CampaignStatus::Cancelled => "cancelled",
        }
    }

    pub(crate) fn from_stored(text: &str) -> Result<CampaignStatus> {
        Ok(match text {
            "draft" => CampaignStatus::Draft,
            "scheduled" => CampaignStatus::Scheduled,
            "sending" => CampaignStatus::Sending,
            "sent" => CampaignStatus::Sent,
            "cancelled" => CampaignStatus::Cancelled,
            other => return Err(stored_error(format!("unknown campaign status {other:?}"))),
        })
    }
}

/// A campaign to create: a name and a template. Its audience and time are given when it is
/// [scheduled](super::CampaignRepo::schedule).
///
/// ```
/// use shopkeep::campaigns::{MessageTemplate, NewCampaign};
///
/// let template = MessageTemplate::new(
///     "Spring sale",
///     "Hello {{ name }}, 20 % off mugs: {{ track('https://shop.example/mugs') }}",
///     "<p>Hello {{ name }}, <a href=\"{{ track('https://shop.example/mugs') }}\">20 % off</a></p>",
/// )?;
/// let campaign = NewCampaign::new("spring-sale", template)?;
/// # let _ = campaign;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct NewCampaign {
    pub(crate) name: String,
    pub(crate) template: MessageTemplate,
}

impl NewCampaign {
    /// A campaign named `name` (shown in reports and events).
    ///
    /// # Errors
    ///
    /// `Validation` (field `name`) for an empty, too long (over 200 characters) or
    /// unprintable name.
    pub fn new(name: &str, template: MessageTemplate) -> Result<NewCampaign> {
        Ok(NewCampaign {
            name: self::name("name", name)?,
            template,
        })
    }
}

/// How many of a campaign's (or a flow's) messages are in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SendCounts {
    pub(crate) due: u64,
    pub(crate) sent: u64,
    pub(crate) skipped: u64,
    pub(crate) cancelled: u64,
}

impl SendCounts {
    /// Queued and not yet decided.
    pub fn due(&self) -> u64 {
        self.due
    }

    /// Sent: the host's mailer was told (a `message.queued` event).
    pub fn sent(&self) -> u64 {
        self.sent
    }

    /// Not sent: no current consent, a suppressed address, an erased person, the frequency
    /// cap.
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    /// Not sent because the campaign was cancelled or the flow run stopped.
    pub fn cancelled(&self) -> u64 {
        self.cancelled
    }
}

/// A campaign as stored, with how far its sending got.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Campaign {
    pub(crate) id: CampaignId,
    pub(crate) name: String,
    pub(crate) status: CampaignStatus,
    pub(crate) send_at: Option<Timestamp>,
    pub(crate) created_at: Timestamp,
    pub(crate) version: u64,
    pub(crate) counts: SendCounts,
}

impl Campaign {
    /// The id.
    pub fn id(&self) -> CampaignId {
        self.id
    }

    /// The name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Where it is in its life.
    pub fn status(&self) -> CampaignStatus {
        self.status
    }

    /// When it is (or was) to be sent; `None` for a draft.
    pub fn send_at(&self) -> Option<Timestamp> {
        self.send_at
    }

    /// When it was created.
    pub fn created_at(&self) -> Timestamp {
        self.created_at
    }

    /// The row version, for optimistic concurrency.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Its messages by state.
    pub fn counts(&self) -> SendCounts {
        self.counts
    }
}

/// What starts a flow for a person. Each trigger is a scan [`run_due`](super::CampaignRepo::run_due)
/// makes, so checkout and registration pay nothing for flows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FlowTrigger {
    /// Welcome series: a customer confirmed their email consent (double opt-in) after the
    /// flow was created.
    Welcome,
    /// Abandoned-cart reminders: a customer's cart has had items and no change for `idle`.
    /// The run stops when the cart is checked out or emptied; each step is one reminder, so
    /// the number of steps is the most reminders a cart gets.
    AbandonedCart {
        /// How long a cart must be left alone before the first reminder is due.
        idle: Duration,
    },
    /// Post-purchase follow-up: a customer placed an order after the flow was created. The run
    /// stops if the order is cancelled or expires.
    PostPurchase,
    /// Win-back: a customer is in the "at risk" RFM segment of the last
    /// [`refresh_scores`](crate::marketing::MarketingRepo::refresh_scores). The run stops when
    /// they order again. A customer re-enters only after a newer order lapses again.
    WinBack,
    /// Lead nurturing: a lead has a current marketing consent. The run stops when the lead is
    /// won, lost or becomes a customer.
    LeadNurture,
}

impl FlowTrigger {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            FlowTrigger::Welcome => "welcome",
            FlowTrigger::AbandonedCart { .. } => "abandoned_cart",
            FlowTrigger::PostPurchase => "post_purchase",
            FlowTrigger::WinBack => "win_back",
            FlowTrigger::LeadNurture => "lead_nurture",
        }
    }

    pub(crate) fn idle_secs(self) -> Option<i64> {
        match self {
            FlowTrigger::AbandonedCart { idle } => {
                Some(i64::try_from(idle.as_secs()).unwrap_or(i64::MAX))
            }
            _ => None,
        }
    }

    pub(crate) fn from_stored(text: &str, idle_secs: Option<i64>) -> Result<FlowTrigger> {
        Ok(match (text, idle_secs) {
            ("welcome", None) => FlowTrigger::Welcome,
            ("abandoned_cart", Some(secs)) => FlowTrigger::AbandonedCart {
                idle: Duration::from_secs(u64::try_from(secs).unwrap_or(0)),
            },
            ("post_purchase", None) => FlowTrigger::PostPurchase,
            ("win_back", None) => FlowTrigger::WinBack,
            ("lead_nurture", None) => FlowTrigger::LeadNurture,
            (other, _) => return Err(stored_error(format!("unknown flow trigger {other:?}"))),
        })
    }
}

/// One message of a flow: sent `delay` after the previous step (the first: after the run
/// starts; for abandoned carts the run starts once the cart has been idle long enough).
#[derive(Debug, Clone)]
pub struct FlowStep {
    pub(crate) delay: Duration,
    pub(crate) template: MessageTemplate,
}

impl FlowStep {
    /// A step sent `delay` after the one before it.
    pub fn new(delay: Duration, template: MessageTemplate) -> FlowStep {
        FlowStep { delay, template }
    }
}

/// The most steps a flow may have.
pub const MAX_FLOW_STEPS: usize = 20;
/// The longest delay of one step: a year.
pub const MAX_STEP_DELAY: Duration = Duration::from_secs(366 * 24 * 3600);

/// A flow to create: a name, a trigger and its steps, fixed once created (to change a
/// flow's messages, create a new flow and pause the old one, so that every message sent can
/// be traced to the text it had).
///
/// ```
/// use std::time::Duration;
/// use shopkeep::campaigns::{FlowStep, FlowTrigger, MessageTemplate, NewFlow};
///
/// let hour = Duration::from_secs(3600);
/// let reminder = MessageTemplate::new(
///     "Still thinking it over?",
///     "{% for line in cart %}{{ line.quantity }} x {{ line.name }}\n{% endfor %}",
///     "<ul>{% for line in cart %}<li>{{ line.name }}</li>{% endfor %}</ul>",
/// )?;
/// let flow = NewFlow::new("cart reminders", FlowTrigger::AbandonedCart { idle: 4 * hour })?
///     .step(FlowStep::new(Duration::ZERO, reminder.clone()))?
///     .step(FlowStep::new(24 * hour, reminder))?;
/// # let _ = flow;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct NewFlow {
    pub(crate) name: String,
    pub(crate) trigger: FlowTrigger,
    pub(crate) steps: Vec<FlowStep>,
}

impl NewFlow {
    /// A flow without steps yet.
    ///
    /// # Errors
    ///
    /// `Validation` (field `name`) for an empty, too long or unprintable name; `Validation`
    /// (field `idle`) for an abandoned-cart wait under a minute or over a year.
    pub fn new(name: &str, trigger: FlowTrigger) -> Result<NewFlow> {
        if let FlowTrigger::AbandonedCart { idle } = trigger
            && (idle < Duration::from_secs(60) || idle > MAX_STEP_DELAY)
        {
            return Err(Error::validation(
                "idle",
                "a cart counts as abandoned after a minute to a year",
            ));
        }
        Ok(NewFlow {
            name: self::name("name", name)?,
            trigger,
            steps: Vec::new(),
        })
    }

    /// Adds a step after the others.
    ///
    /// # Errors
    ///
    /// `Validation` (field `steps`) beyond [`MAX_FLOW_STEPS`]; `Validation` (field `delay`)
    /// for a delay over a year.
    pub fn step(mut self, step: FlowStep) -> Result<NewFlow> {
        if self.steps.len() >= MAX_FLOW_STEPS {
            return Err(Error::validation("steps", "a flow has at most 20 steps"));
        }
        if step.delay > MAX_STEP_DELAY {
            return Err(Error::validation("delay", "a step waits at most a year"));
        }
        self.steps.push(step);
        Ok(self)
    }
}

/// Whether a flow enrols people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FlowStatus {
    /// Enrolling and sending.
    Active,
    /// Enrolling nobody; due steps of its runs wait until it is resumed.
    Paused,
}

impl FlowStatus {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            FlowStatus::Active => "active",
            FlowStatus::Paused => "paused",
        }
    }

    pub(crate) fn from_stored(text: &str) -> Result<FlowStatus> {
        match text {
            "active" => Ok(FlowStatus::Active),
            "paused" => Ok(FlowStatus::Paused),
            other => Err(stored_error(format!("unknown flow status {other:?}"))),
        }
    }
}

/// A flow as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Flow {
    pub(crate) id: FlowId,
    pub(crate) name: String,
    #[serde(serialize_with = "trigger_name")]
    pub(crate) trigger: FlowTrigger,
    pub(crate) status: FlowStatus,
    pub(crate) steps: usize,
    pub(crate) version: u64,
    pub(crate) runs_active: u64,
    pub(crate) runs_completed: u64,
    pub(crate) runs_stopped: u64,
    pub(crate) counts: SendCounts,
}

fn trigger_name<S: serde::Serializer>(
    trigger: &FlowTrigger,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(trigger.as_str())
}

impl Flow {
    /// The id.
    pub fn id(&self) -> FlowId {
        self.id
    }

    /// The name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What enrols people.
    pub fn trigger(&self) -> FlowTrigger {
        self.trigger
    }

    /// Active or paused.
    pub fn status(&self) -> FlowStatus {
        self.status
    }

    /// How many steps it has.
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// The row version, for optimistic concurrency.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Runs still going.
    pub fn runs_active(&self) -> u64 {
        self.runs_active
    }

    /// Runs that sent (or skipped) every step.
    pub fn runs_completed(&self) -> u64 {
        self.runs_completed
    }

    /// Runs stopped early: the cart checked out, consent withdrawn, the customer ordered
    /// again, the lead closed.
    pub fn runs_stopped(&self) -> u64 {
        self.runs_stopped
    }

    /// Its messages by state.
    pub fn counts(&self) -> SendCounts {
        self.counts
    }
}

/// What one [`run_due`](super::CampaignRepo::run_due) did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RunReport {
    pub(crate) campaigns_started: u64,
    pub(crate) enrolled: u64,
    pub(crate) sent: u64,
    pub(crate) skipped: u64,
    pub(crate) deferred: u64,
    pub(crate) cancelled: u64,
}

impl RunReport {
    /// Scheduled campaigns whose time came: their recipients were queued.
    pub fn campaigns_started(&self) -> u64 {
        self.campaigns_started
    }

    /// People who entered a flow.
    pub fn enrolled(&self) -> u64 {
        self.enrolled
    }

    /// Messages sent (a `message.queued` event each).
    pub fn sent(&self) -> u64 {
        self.sent
    }

    /// Messages not sent, for good: no consent, suppressed, erased, a campaign's capped
    /// recipient.
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    /// Messages moved later: quiet hours, a flow step over the frequency cap, a paused flow.
    pub fn deferred(&self) -> u64 {
        self.deferred
    }

    /// Messages cancelled because their flow run stopped.
    pub fn cancelled(&self) -> u64 {
        self.cancelled
    }

    /// Whether the call found nothing to do: the host's worker may sleep.
    pub fn is_idle(&self) -> bool {
        *self == RunReport::default()
    }
}

/// The error for a stored value shopkeep never writes: the row was edited outside it.
pub(crate) fn stored_error(message: String) -> Error {
    Error::new(ErrorKind::Storage, message)
}
