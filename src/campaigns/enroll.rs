//! Flow triggers: the scans that enrol people, one per trigger, run by `run_due`.
//!
//! Triggers are scans rather than hooks in checkout or registration, so the hot paths pay
//! nothing for flows. Each run has a `subject_key` naming what enrolled it, unique per flow,
//! so a scan that runs twice (two workers, a retry) enrols nobody twice.

use std::time::Duration;

use super::events::RunChanged;
use super::model::{FlowId, FlowTrigger, MessageId, RunId};
use crate::access::CustomerId;
use crate::clock::Timestamp;
use crate::error::Result;
use crate::leads::LeadId;
use crate::sql::{Column, ColumnResult, Param, Row, ValueRef, args};
use crate::store::Tx;

/// How many people one scan of one flow enrols at most (the next `run_due` goes on).
const SCAN: i64 = 500;

/// Whom a run is for.
#[derive(Debug, Clone, Copy)]
pub(super) enum Person {
    Customer(CustomerId),
    Lead(LeadId),
}

/// What a new run is about.
struct Enrolment {
    key: String,
    person: Person,
    cart: Option<Vec<u8>>,
    order: Option<Vec<u8>>,
}

/// Where a new flow's scan starts: after everything that exists now, for the triggers that
/// follow a sequence (consent confirmations, orders); nothing for the state-based ones.
pub(super) fn initial_cursor(tx: &Tx<'_>, trigger: FlowTrigger) -> Result<String> {
    let sql = match trigger {
        FlowTrigger::Welcome | FlowTrigger::LeadNurture => {
            "SELECT coalesce(max(seq), 0) FROM shopkeep_customer_consents"
        }
        FlowTrigger::PostPurchase => {
            "SELECT coalesce(hex((SELECT id FROM shopkeep_orders ORDER BY id DESC LIMIT 1)), '')"
        }
        FlowTrigger::AbandonedCart { .. } | FlowTrigger::WinBack => return Ok(String::new()),
    };
    tx.query_row(sql, args![], |r| r.get::<CursorText>(0).map(|c| c.0))
}

/// A scan cursor as read: an integer in decimal, text as it is, anything else as nothing.
struct CursorText(String);

impl Column for CursorText {
    fn column(value: ValueRef<'_>) -> ColumnResult<Self> {
        Ok(CursorText(match value {
            ValueRef::Integer(n) => n.to_string(),
            ValueRef::Text(_) => value.as_str()?.to_owned(),
            ValueRef::Null | ValueRef::Real(_) | ValueRef::Blob(_) => String::new(),
        }))
    }
}

/// Runs every active flow's trigger scan; returns how many people entered a flow.
pub(super) fn enroll_all(tx: &Tx<'_>) -> Result<u64> {
    let flows: Vec<(FlowId, String, Option<i64>, String)> = tx.query_map(
        "SELECT id, trigger, idle_secs, cursor FROM shopkeep_flows WHERE status = 'active'",
        args![],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )?;
    let mut enrolled = 0;
    for (flow, trigger, idle, cursor) in flows {
        let trigger = FlowTrigger::from_stored(&trigger, idle)?;
        let (found, next_cursor) = scan(tx, flow, trigger, &cursor)?;
        for enrolment in found {
            if start(tx, flow, &enrolment)? {
                enrolled += 1;
            }
        }
        if next_cursor != cursor {
            tx.execute(
                "UPDATE shopkeep_flows SET cursor = ?2 WHERE id = ?1",
                args![flow, next_cursor],
            )?;
        }
    }
    Ok(enrolled)
}

/// The people `trigger` finds for `flow`, and the scan's next cursor.
fn scan(
    tx: &Tx<'_>,
    flow: FlowId,
    trigger: FlowTrigger,
    cursor: &str,
) -> Result<(Vec<Enrolment>, String)> {
    match trigger {
        FlowTrigger::Welcome | FlowTrigger::LeadNurture => {
            let after: i64 = cursor.parse().unwrap_or(0);
            let leads = matches!(trigger, FlowTrigger::LeadNurture);
            let sql = if leads {
                "SELECT seq, lead_id FROM shopkeep_customer_consents
                 WHERE seq > ?1 AND lead_id IS NOT NULL AND channel = 'email' AND event = 'confirmed'
                 ORDER BY seq LIMIT ?2"
            } else {
                "SELECT seq, customer_id FROM shopkeep_customer_consents
                 WHERE seq > ?1 AND customer_id IS NOT NULL AND channel = 'email' AND event = 'confirmed'
                 ORDER BY seq LIMIT ?2"
            };
            let rows: Vec<(i64, Vec<u8>)> = query(tx, sql, args![after, SCAN])?;
            let next = rows.last().map_or(after, |r| r.0);
            let found = rows
                .into_iter()
                .filter_map(|(_, id)| {
                    let id: [u8; 16] = id.try_into().ok()?;
                    Some(if leads {
                        let lead = LeadId::from_bytes(id);
                        Enrolment {
                            key: format!("lead:{lead}"),
                            person: Person::Lead(lead),
                            cart: None,
                            order: None,
                        }
                    } else {
                        let customer = CustomerId::from_bytes(id);
                        Enrolment {
                            key: format!("welcome:{customer}"),
                            person: Person::Customer(customer),
                            cart: None,
                            order: None,
                        }
                    })
                })
                .collect();
            Ok((found, next.to_string()))
        }
        FlowTrigger::PostPurchase => {
            let after = hex_bytes(cursor);
            let rows: Vec<(Vec<u8>, Vec<u8>)> = query(
                tx,
                "SELECT id, customer_id FROM shopkeep_orders WHERE id > ?1 ORDER BY id LIMIT ?2",
                args![after, SCAN],
            )?;
            let next = rows
                .last()
                .map_or_else(|| cursor.to_owned(), |r| to_hex(&r.0));
            let found = rows
                .into_iter()
                .filter_map(|(order, customer)| {
                    let customer = CustomerId::from_bytes(customer.try_into().ok()?);
                    Some(Enrolment {
                        key: format!("order:{}", to_hex(&order)),
                        person: Person::Customer(customer),
                        cart: None,
                        order: Some(order),
                    })
                })
                .collect();
            Ok((found, next))
        }
        FlowTrigger::AbandonedCart { idle } => {
            let cutoff = tx.now().checked_sub(idle)?;
            let rows: Vec<(Vec<u8>, Vec<u8>, String)> = query(
                tx,
                "SELECT c.id, c.customer_id, 'cart:' || hex(c.id) || '@' || c.updated_at
                 FROM shopkeep_carts c
                 WHERE c.customer_id IS NOT NULL AND c.updated_at <= ?1
                   AND EXISTS (SELECT 1 FROM shopkeep_cart_lines l WHERE l.cart_id = c.id)
                   AND NOT EXISTS (SELECT 1 FROM shopkeep_flow_runs r
                       WHERE r.flow_id = ?2 AND r.cart_id = c.id
                         AND (r.status = 'active'
                              OR r.subject_key = 'cart:' || hex(c.id) || '@' || c.updated_at))
                 LIMIT ?3",
                args![cutoff, flow, SCAN],
            )?;
            let found = rows
                .into_iter()
                .filter_map(|(cart, customer, key)| {
                    let customer = CustomerId::from_bytes(customer.try_into().ok()?);
                    Some(Enrolment {
                        key,
                        person: Person::Customer(customer),
                        cart: Some(cart),
                        order: None,
                    })
                })
                .collect();
            Ok((found, String::new()))
        }
        FlowTrigger::WinBack => {
            let rows: Vec<(Vec<u8>, String)> = query(
                tx,
                "SELECT s.customer_id, 'lapse:' || hex(s.customer_id) || '@' || s.last_order_at
                 FROM shopkeep_customer_scores s
                 JOIN shopkeep_customers c ON c.id = s.customer_id AND c.erased_at IS NULL
                 WHERE s.segment = 'at_risk'
                   AND NOT EXISTS (SELECT 1 FROM shopkeep_flow_runs r WHERE r.flow_id = ?1
                       AND r.subject_key = 'lapse:' || hex(s.customer_id) || '@' || s.last_order_at)
                 LIMIT ?2",
                args![flow, SCAN],
            )?;
            let found = rows
                .into_iter()
                .filter_map(|(customer, key)| {
                    let customer = CustomerId::from_bytes(customer.try_into().ok()?);
                    Some(Enrolment {
                        key,
                        person: Person::Customer(customer),
                        cart: None,
                        order: None,
                    })
                })
                .collect();
            Ok((found, String::new()))
        }
    }
}

fn query<T: FromRow>(tx: &Tx<'_>, sql: &str, params: &[&dyn Param]) -> Result<Vec<T>> {
    tx.query_map(sql, params, T::from_row)
}

/// A row of a scan, read by position.
trait FromRow: Sized {
    fn from_row(row: &Row<'_>) -> Result<Self>;
}

impl<A: Column, B: Column> FromRow for (A, B) {
    fn from_row(r: &Row<'_>) -> Result<Self> {
        Ok((r.get(0)?, r.get(1)?))
    }
}

impl<A: Column, B: Column, C: Column> FromRow for (A, B, C) {
    fn from_row(r: &Row<'_>) -> Result<Self> {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
    }
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

fn hex_bytes(text: &str) -> Vec<u8> {
    (0..text.len() / 2)
        .filter_map(|i| {
            text.get(2 * i..2 * i + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
        })
        .collect()
}

/// Starts a run of `flow` for `enrolment` unless its subject already has one; queues the
/// first step. Returns whether a run started.
fn start(tx: &Tx<'_>, flow: FlowId, enrolment: &Enrolment) -> Result<bool> {
    let run = RunId::generate(tx.now())?;
    let (customer, lead) = match enrolment.person {
        Person::Customer(c) => (Some(c), None),
        Person::Lead(l) => (None, Some(l)),
    };
    let inserted = tx.execute(
        "INSERT INTO shopkeep_flow_runs
                 (id, flow_id, subject_key, customer_id, lead_id, cart_id, order_id, status, started_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'active', ?8)
             ON CONFLICT (flow_id, subject_key) DO NOTHING",
        args![
            run,
            flow,
            enrolment.key,
            customer,
            lead,
            enrolment.cart,
            enrolment.order,
            tx.now()
        ],
    )?;
    if inserted == 0 {
        return Ok(false);
    }
    queue_step(tx, flow, run, 0, enrolment.person, tx.now())?;
    tx.emit(&RunChanged {
        run_id: run,
        flow_id: flow,
        status: "active",
        reason: None,
    })?;
    Ok(true)
}

/// Queues step `position` of `flow` for `run`, due its delay after `after`. Returns false if
/// the flow has no such step (the run is through).
pub(super) fn queue_step(
    tx: &Tx<'_>,
    flow: FlowId,
    run: RunId,
    position: i64,
    person: Person,
    after: Timestamp,
) -> Result<bool> {
    let delay: Option<i64> = tx.query_opt(
        "SELECT delay_secs FROM shopkeep_flow_steps WHERE flow_id = ?1 AND position = ?2",
        args![flow, position],
        |r| r.get(0),
    )?;
    let Some(delay) = delay else {
        return Ok(false);
    };
    let due = after.checked_add(Duration::from_secs(u64::try_from(delay).unwrap_or(0)))?;
    let (customer, lead) = match person {
        Person::Customer(c) => (Some(c), None),
        Person::Lead(l) => (None, Some(l)),
    };
    tx.execute(
        "INSERT INTO shopkeep_sends (id, run_id, position, customer_id, lead_id, due_at, state)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'due')",
        args![
            MessageId::generate(tx.now())?,
            run,
            position,
            customer,
            lead,
            due
        ],
    )?;
    Ok(true)
}
