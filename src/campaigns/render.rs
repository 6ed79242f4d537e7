//! Rendering a queued message into the RFC 5322 bytes the host's mailer sends.

use std::sync::{Arc, Mutex, PoisonError};

use super::enroll::Person;
use super::model::{CampaignId, MessageId, RunId};
use super::repo::CampaignRepo;
use super::template::{CartLine, Context, MessageTemplate, Product, Tracker};
use super::tracking::{TrackingLinks, tracked_link};
use crate::access::{Action, CustomerId, Resource};
use crate::customers::{Channel, ConsentStatus};
use crate::email::Email;
use crate::error::{Error, ErrorKind, Result};
use crate::integrations::email::{
    Composer, MarketingContent, Message, Recipient, UnsubscribeLinks,
};
use crate::leads::LeadId;
use crate::sql::{Row, args};
use crate::store::{Tx, not_found};

/// How many products a message recommends at most.
const RECOMMENDATIONS: usize = 3;
/// The best sellers of how many days recommendations come from.
const BEST_SELLER_DAYS: u64 = 90;

/// What a sent message is made of.
struct Sent {
    campaign: Option<CampaignId>,
    run: Option<RunId>,
    position: Option<i64>,
    person: Person,
}

impl CampaignRepo<'_> {
    /// The message `id` as RFC 5322 bytes, for the host's mailer: on each `message.queued`
    /// event, render and send. Its template is personalised for the recipient (name,
    /// recommendations, the cart of a cart reminder); its links to `track(url)` become
    /// signed [`TrackingLinks`] (or stay as they are without them); it carries the
    /// recipient's own one-click unsubscribe link ([`Composer::marketing`]).
    ///
    /// The recipient's consent is checked again here: a message whose recipient withdrew
    /// consent (or was erased) after it was queued is refused, and must not be sent.
    /// Rendering reads personal data and is audited.
    ///
    /// # Errors
    ///
    /// `NotFound` for an unknown message; `InvalidTransition` for one that was not sent
    /// (skipped, cancelled, still due) or whose recipient may no longer be emailed;
    /// `Forbidden` without [`Action::ManageCampaigns`]; `Validation` (field `template`) if a
    /// template fails on this recipient's data.
    pub fn message(
        &self,
        id: MessageId,
        composer: &Composer,
        unsubscribe: &UnsubscribeLinks,
        tracking: Option<&TrackingLinks>,
    ) -> Result<Message> {
        let store = self.store;
        store.write(|tx| {
            tx.authorize(
                self.principal,
                Action::ManageCampaigns,
                &Resource::Campaigns,
            )?;
            let sent = load_sent(tx, id)?;
            let template = template_of(tx, &sent)?;
            let (email, name, resource) = match sent.person {
                Person::Customer(customer) => {
                    refuse_unless(
                        crate::customers::ensure_active(tx, customer).is_ok()
                            && crate::customers::consent_status(tx, customer, Channel::Email)?
                                == ConsentStatus::Granted,
                    )?;
                    let buyer = crate::customers::load_buyer(tx, store, customer)?;
                    (
                        Email::parse(&buyer.email)?,
                        buyer.name,
                        Resource::Customer(customer),
                    )
                }
                Person::Lead(lead) => {
                    let found = crate::leads::load_lead(tx, store, lead);
                    let found = match found {
                        Ok(found) => found,
                        Err(e) if e.kind() == ErrorKind::NotFound => return Err(withdrawn()),
                        Err(e) => return Err(e),
                    };
                    refuse_unless(
                        crate::customers::consent_repo::lead_state_in(tx, lead, Channel::Email)?
                            .status()
                            == ConsentStatus::Granted,
                    )?;
                    (
                        found.email().clone(),
                        found.name().to_owned(),
                        Resource::Lead(lead),
                    )
                }
            };
            let context = Context {
                name: name.clone(),
                recommendations: recommendations(tx, sent.person)?,
                cart: cart_lines(tx, &sent)?,
            };
            let tracker: Tracker = {
                let store = store.clone();
                let links = tracking.cloned();
                Arc::new(move |url: &str| tracked_link(&store, links.as_ref(), id, url))
            };
            let rendered = template.render(&context, tracker)?;
            let content = MarketingContent::new(&rendered.subject, &rendered.text, &rendered.html)?;
            let token = match sent.person {
                Person::Customer(customer) => {
                    crate::customers::consent_repo::customer_unsubscribe_token_in(
                        tx,
                        store,
                        customer,
                        Channel::Email,
                    )?
                }
                Person::Lead(lead) => crate::leads::consent::lead_unsubscribe_token_in(
                    tx,
                    store,
                    lead,
                    Channel::Email,
                )?,
            };
            let message = composer.marketing(
                &Recipient::new(email).name(&name),
                &content,
                &token,
                unsubscribe,
            )?;
            tx.audit(self.principal, Action::ManageCampaigns, &resource)?;
            Ok(message)
        })
    }
}

fn withdrawn() -> Error {
    Error::new(
        ErrorKind::InvalidTransition,
        "the recipient may no longer be emailed: do not send this message",
    )
}

fn refuse_unless(reachable: bool) -> Result<()> {
    if reachable { Ok(()) } else { Err(withdrawn()) }
}

fn load_sent(tx: &Tx<'_>, id: MessageId) -> Result<Sent> {
    type Fields = (
        String,
        Option<CampaignId>,
        Option<RunId>,
        Option<i64>,
        Option<CustomerId>,
        Option<LeadId>,
    );
    let row: Option<Fields> = tx.query_opt(
        "SELECT state, campaign_id, run_id, position, customer_id, lead_id
             FROM shopkeep_sends WHERE id = ?1",
        args![id],
        |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        },
    )?;
    let Some((state, campaign, run, position, customer, lead)) = row else {
        return Err(not_found(&Resource::Campaigns));
    };
    if state != "sent" {
        return Err(Error::new(
            ErrorKind::InvalidTransition,
            format!("the message was not sent (it is {state})"),
        ));
    }
    let person = match (customer, lead) {
        (Some(c), _) => Person::Customer(c),
        (None, Some(l)) => Person::Lead(l),
        (None, None) => return Err(not_found(&Resource::Campaigns)),
    };
    Ok(Sent {
        campaign,
        run,
        position,
        person,
    })
}

/// The template a message was sent with: its campaign's, or its flow step's.
fn template_of(tx: &Tx<'_>, sent: &Sent) -> Result<MessageTemplate> {
    let read = |r: &Row<'_>| {
        Ok(MessageTemplate {
            subject: r.get(0)?,
            text: r.get(1)?,
            html: r.get(2)?,
        })
    };
    let found = match (sent.campaign, sent.run, sent.position) {
        (Some(campaign), _, _) => tx.query_opt(
            "SELECT subject, text_body, html_body FROM shopkeep_campaigns WHERE id = ?1",
            args![campaign],
            read,
        )?,
        (None, Some(run), Some(position)) => tx.query_opt(
            "SELECT s.subject, s.text_body, s.html_body
                 FROM shopkeep_flow_runs r JOIN shopkeep_flow_steps s
                     ON s.flow_id = r.flow_id AND s.position = ?2
                 WHERE r.id = ?1",
            args![run, position],
            read,
        )?,
        _ => None,
    };
    found.ok_or_else(|| not_found(&Resource::Campaigns))
}

/// The lines of the cart a reminder is about (empty for every other message).
fn cart_lines(tx: &Tx<'_>, sent: &Sent) -> Result<Vec<CartLine>> {
    let Some(run) = sent.run else {
        return Ok(Vec::new());
    };
    tx.query_map(
        "SELECT v.sku, p.name, l.quantity
             FROM shopkeep_flow_runs r
             JOIN shopkeep_cart_lines l ON l.cart_id = r.cart_id
             JOIN shopkeep_variants v ON v.id = l.variant_id
             JOIN shopkeep_products p ON p.id = v.product_id
             WHERE r.id = ?1 ORDER BY l.seq",
        args![run],
        |r| {
            Ok(CartLine {
                sku: r.get(0)?,
                name: r.get(1)?,
                quantity: r.get(2)?,
            })
        },
    )
}

/// The best sellers recommendations are drawn from, computed at most once an hour per store:
/// every message of a campaign would otherwise read 90 days of order lines again.
#[derive(Default)]
struct BestSellers(Mutex<Option<(i64, Ranked)>>);

/// Products by id, best first.
type Ranked = Arc<Vec<(Vec<u8>, Product)>>;

/// Up to three active products for `person`: the best sellers (by units) of the last 90 days,
/// among the top 20, that the customer has not bought. Leads have bought nothing.
fn recommendations(tx: &Tx<'_>, person: Person) -> Result<Vec<Product>> {
    let best = best_sellers(tx)?;
    let bought: Vec<Vec<u8>> = match person {
        Person::Customer(customer) => tx.query_map(
            "SELECT DISTINCT v.product_id FROM shopkeep_orders o
                     JOIN shopkeep_order_lines l ON l.order_id = o.id
                     JOIN shopkeep_variants v ON v.id = l.variant_id
                     WHERE o.customer_id = ?1",
            args![customer],
            |r| r.get(0),
        )?,
        Person::Lead(_) => Vec::new(),
    };
    Ok(best
        .iter()
        .filter(|(id, _)| !bought.contains(id))
        .take(RECOMMENDATIONS)
        .map(|(_, product)| product.clone())
        .collect())
}

/// The 20 best-selling active products of the last 90 days, with their ids, from the cache
/// while it is from this hour.
fn best_sellers(tx: &Tx<'_>) -> Result<Ranked> {
    let hour = tx.now().unix_millis().div_euclid(3_600_000);
    let cache = tx.cache::<BestSellers>();
    let mut slot = cache.0.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((at, list)) = slot.as_ref()
        && *at == hour
    {
        return Ok(Arc::clone(list));
    }
    let since = tx
        .now()
        .checked_sub(std::time::Duration::from_secs(BEST_SELLER_DAYS * 24 * 3600))?;
    // PostgreSQL selects only grouped columns (its shopkeep_products key is seq; id is UNIQUE),
    // so it groups by all three. SQLite keeps `GROUP BY p.id`: grouped by the three columns, its
    // planner scans the order lines instead of starting from the recent orders
    // (tests/query_plans.rs counts the rows stepped).
    let list: Vec<(Vec<u8>, Product)> = tx.query_map(
        tx.dialect(
            "SELECT p.id, p.sku, p.name
             FROM shopkeep_orders o
             JOIN shopkeep_order_lines l ON l.order_id = o.id
             JOIN shopkeep_variants v ON v.id = l.variant_id
             JOIN shopkeep_products p ON p.id = v.product_id AND p.status = 'active'
             WHERE o.placed_at >= ?1 AND o.status NOT IN ('cancelled', 'expired')
             GROUP BY p.id ORDER BY sum(l.quantity) DESC, p.sku LIMIT 20",
            "SELECT p.id, p.sku, p.name
             FROM shopkeep_orders o
             JOIN shopkeep_order_lines l ON l.order_id = o.id
             JOIN shopkeep_variants v ON v.id = l.variant_id
             JOIN shopkeep_products p ON p.id = v.product_id AND p.status = 'active'
             WHERE o.placed_at >= ?1 AND o.status NOT IN ('cancelled', 'expired')
             GROUP BY p.id, p.sku, p.name ORDER BY sum(l.quantity) DESC, p.sku LIMIT 20",
        ),
        args![since],
        |r| {
            Ok((
                r.get(0)?,
                Product {
                    sku: r.get(1)?,
                    name: r.get(2)?,
                },
            ))
        },
    )?;
    let list = Arc::new(list);
    *slot = Some((hour, Arc::clone(&list)));
    Ok(list)
}
