//! Lead scoring: the activities the host reports, the points each earns, and the "top leads"
//! list. The rules are in the [leads guide](crate::guide::leads).
//!
//! A score is a sum of points under per-kind caps, stored on the lead: no decay over time, so
//! the stored score is always exact without a job recomputing it, and the cap keeps one noisy
//! signal (mail clients that open every message, a visitor reloading a page) from outweighing
//! the rest.

use std::fmt;

use serde::Serialize;

use super::events;
use super::model::{Lead, LeadId};
use super::repo::LeadRepo;
use super::storage;
use crate::access::{Action, Resource};
use crate::clock::Timestamp;
use crate::error::{Error, ErrorKind, Result};
use crate::sql::args;
use crate::text;

/// The longest activity id a host may pass, in characters.
const MAX_ACTIVITY_ID: usize = 100;
/// The largest page [`LeadRepo::top`] returns.
const MAX_PAGE: usize = 500;
/// The highest score a lead can reach: the sum of the per-kind caps.
pub const MAX_SCORE: i64 = 100;

/// What a lead did, as the host reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ActivityKind {
    /// Opened an email (the host's tracking pixel). Weak evidence: some mail clients open
    /// every message.
    EmailOpened,
    /// Followed a link in an email.
    LinkClicked,
    /// Visited the shop's site (a session the host attributes to the lead).
    SiteVisit,
    /// Bought something: counts only for a lead that converted to a customer.
    Purchase,
}

impl ActivityKind {
    /// Every kind, in a stable order.
    pub const ALL: &'static [ActivityKind] = &[
        ActivityKind::EmailOpened,
        ActivityKind::LinkClicked,
        ActivityKind::SiteVisit,
        ActivityKind::Purchase,
    ];

    /// The stable snake-case name, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            ActivityKind::EmailOpened => "email_opened",
            ActivityKind::LinkClicked => "link_clicked",
            ActivityKind::SiteVisit => "site_visit",
            ActivityKind::Purchase => "purchase",
        }
    }

    /// The points one activity of this kind earns.
    pub fn points(self) -> i64 {
        match self {
            ActivityKind::EmailOpened => 1,
            ActivityKind::LinkClicked => 3,
            ActivityKind::SiteVisit => 2,
            ActivityKind::Purchase => 20,
        }
    }

    /// The most points a lead can earn by activities of this kind, over its life.
    pub fn cap(self) -> i64 {
        match self {
            ActivityKind::EmailOpened => 10,
            ActivityKind::LinkClicked => 30,
            ActivityKind::SiteVisit => 20,
            ActivityKind::Purchase => 40,
        }
    }
}

impl fmt::Display for ActivityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One activity the host reports: its kind, and the host's own id for it (an email's message
/// id and event, a visit's session id, an order id), which makes reporting it again harmless.
///
/// ```
/// use shopkeep::leads::{Activity, ActivityKind};
///
/// let open = Activity::new(ActivityKind::EmailOpened, "msg-4711/open")?;
/// assert_eq!(open.kind(), ActivityKind::EmailOpened);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activity {
    kind: ActivityKind,
    id: String,
}

impl Activity {
    /// An activity of `kind` with the host's id `id`.
    ///
    /// # Errors
    ///
    /// `Validation` (field `activity_id`) for an empty id, one over 100 characters or one with
    /// control characters.
    pub fn new(kind: ActivityKind, id: &str) -> Result<Activity> {
        Ok(Activity {
            kind,
            id: text::required("activity_id", id, MAX_ACTIVITY_ID)?,
        })
    }

    /// The kind.
    pub fn kind(&self) -> ActivityKind {
        self.kind
    }

    /// The host's id.
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// The points an activity of `kind` earns for a lead that already earned `earned` points by
/// that kind: its points, cut to what is left under the kind's cap.
pub(super) fn award(kind: ActivityKind, earned: i64) -> i64 {
    kind.cap().saturating_sub(earned).clamp(0, kind.points())
}

impl LeadRepo<'_> {
    /// Records an activity of a lead the host observed at `at`, and adds the points it earns
    /// to the lead's score (the rules: [`ActivityKind::points`], [`ActivityKind::cap`]). Needs
    /// [`Action::UpdateLead`] (staff, or the system principal for the host's tracking jobs).
    ///
    /// Idempotent by the activity's id: reporting the same activity again changes nothing and
    /// answers the lead as it is. A score change does not bump the lead's version, so staff
    /// moving the lead along its pipeline never conflict with tracking. Audited; emits
    /// `lead.activity_recorded` with the lead's id, the kind, the points earned and the score.
    ///
    /// # Errors
    ///
    /// `NotFound` for an unknown, erased or hidden lead; `Forbidden` if the principal may read
    /// it but not update it; `Validation` (field `at`) for a time after now; `Conflict` if the
    /// activity id was recorded for another lead or kind; `InvalidTransition` for a purchase
    /// of a lead that has not converted to a customer.
    pub fn record_activity(&self, id: LeadId, activity: &Activity, at: Timestamp) -> Result<Lead> {
        let store = self.store;
        store.write(|tx| {
            tx.authorize(self.principal, Action::UpdateLead, &Resource::Lead(id))?;
            let lead = storage::load(tx, store, id)?;
            if at > tx.now() {
                return Err(Error::validation(
                    "at",
                    "an activity cannot be reported before it happens",
                ));
            }
            let kind = activity.kind;
            let seen: Option<(LeadId, String)> = tx.query_opt(
                "SELECT lead_id, kind FROM shopkeep_lead_activities WHERE activity_id = ?1",
                args![activity.id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            if let Some((lead_id, stored_kind)) = seen {
                if lead_id == id && stored_kind == kind.as_str() {
                    return Ok(lead);
                }
                return Err(Error::new(
                    ErrorKind::Conflict,
                    "the activity id was recorded for another lead or kind",
                ));
            }
            if kind == ActivityKind::Purchase && lead.customer.is_none() {
                return Err(Error::new(
                    ErrorKind::InvalidTransition,
                    "a purchase counts only for a lead that converted to a customer",
                ));
            }
            let earned: i64 = tx.query_row(
                "SELECT coalesce(sum(points), 0) FROM shopkeep_lead_activities
                     WHERE lead_id = ?1 AND kind = ?2",
                args![id, kind.as_str()],
                |r| r.get(0),
            )?;
            let points = award(kind, earned);
            let now = tx.now();
            tx.execute(
                "INSERT INTO shopkeep_lead_activities
                     (activity_id, lead_id, kind, at, points, recorded_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                args![activity.id, id, kind.as_str(), at, points, now],
            )?;
            let score = lead.score.saturating_add(points);
            if points > 0 {
                tx.execute(
                    "UPDATE shopkeep_leads SET score = ?2 WHERE id = ?1",
                    args![id, score],
                )?;
            }
            tx.audit(self.principal, Action::UpdateLead, &Resource::Lead(id))?;
            tx.emit(&events::ActivityRecorded {
                lead_id: id,
                kind: kind.as_str(),
                points,
                score,
            })?;
            Ok(Lead { score, ..lead })
        })
    }

    /// The leads that are not erased, best score first (ties: oldest first), at most `limit`
    /// (capped at 500): the "top leads" list. Needs [`Action::ReadLead`].
    ///
    /// # Errors
    ///
    /// `Forbidden` without the permission.
    pub fn top(&self, limit: usize) -> Result<Vec<Lead>> {
        let store = self.store;
        store.read(|tx| {
            tx.authorize(self.principal, Action::ReadLead, &Resource::Leads)?;
            let ids: Vec<LeadId> = tx.query_map(
                "SELECT id FROM shopkeep_leads WHERE erased_at IS NULL
                         ORDER BY score DESC, id LIMIT ?1",
                args![i64::try_from(limit.min(MAX_PAGE)).unwrap_or(0)],
                |r| r.get(0),
            )?;
            ids.into_iter()
                .map(|id| storage::load(tx, store, id))
                .collect()
        })
    }
}

/// A lead's activities, oldest first (ties in the order of their ids), for its export.
pub(super) fn activities_in(
    tx: &crate::store::Tx<'_>,
    id: LeadId,
) -> Result<Vec<super::model::ActivityRecord>> {
    let rows: Vec<(String, String, Timestamp, i64)> = tx.query_map(
        "SELECT activity_id, kind, at, points FROM shopkeep_lead_activities
             WHERE lead_id = ?1 ORDER BY at, activity_id",
        args![id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )?;
    rows.into_iter()
        .map(|(id, kind, at, points)| {
            let kind = ActivityKind::ALL
                .iter()
                .copied()
                .find(|k| k.as_str() == kind)
                .ok_or_else(|| Error::new(ErrorKind::Storage, "an unknown activity is stored"))?;
            Ok(super::model::ActivityRecord {
                id,
                kind,
                at,
                points,
            })
        })
        .collect()
}

/// Forgets a lead's activities (its erasure): their ids are the host's and may name it.
pub(super) fn erase(tx: &crate::store::Tx<'_>, id: LeadId) -> Result<()> {
    tx.execute(
        "DELETE FROM shopkeep_lead_activities WHERE lead_id = ?1",
        args![id],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn points_stop_at_each_kinds_cap() {
        use ActivityKind::*;
        // Hand-computed: 11 opens earn 10 points (the 11th none); a click after 28 click
        // points earns the 2 left; a visit at the cap earns nothing.
        let mut earned = 0;
        let mut awarded = Vec::new();
        for _ in 0..11 {
            let p = award(EmailOpened, earned);
            awarded.push(p);
            earned += p;
        }
        assert_eq!(awarded, [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0]);
        assert_eq!(award(LinkClicked, 28), 2);
        assert_eq!(award(SiteVisit, 20), 0);
        assert_eq!(award(Purchase, 0), 20);
        assert_eq!(award(Purchase, 40), 0);
        let caps: i64 = ActivityKind::ALL.iter().map(|k| k.cap()).sum();
        assert_eq!(caps, MAX_SCORE);
    }

    proptest! {
        /// Whatever the activities, each kind earns exactly min(count × points, cap), and the
        /// score never passes MAX_SCORE.
        #[test]
        fn a_score_is_the_capped_sum(kinds in proptest::collection::vec(0usize..4, 0..200)) {
            let mut earned = [0i64; 4];
            for &k in &kinds {
                let kind = ActivityKind::ALL[k];
                earned[k] += award(kind, earned[k]);
            }
            for (k, kind) in ActivityKind::ALL.iter().enumerate() {
                let count = i64::try_from(kinds.iter().filter(|&&x| x == k).count()).unwrap();
                prop_assert_eq!(earned[k], (count * kind.points()).min(kind.cap()));
            }
            prop_assert!(earned.iter().sum::<i64>() <= MAX_SCORE);
        }
    }
}
