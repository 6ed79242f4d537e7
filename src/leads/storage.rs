//! Where lead data lives and how it is sealed: the table, the data subject, the blind
//! indexes, and reading a lead back.

use std::sync::Arc;

use super::model::{Lead, LeadId, LeadStatus};
use crate::access::Resource;
use crate::clock::Timestamp;
use crate::crypto::data_keys::{DataKey, Subject};
use crate::crypto::field::{self, Place};
use crate::crypto::keys::Mac256;
use crate::email::Email;
use crate::error::{Error, ErrorKind, Result};
use crate::sql::args;
use crate::store::{Store, Tx, not_found};

pub(super) const LEADS: &str = "shopkeep_leads";
/// Blind-index field label of leads' emails (separate from customers' and staff emails).
const EMAIL_INDEX: &str = "lead_email";
/// Blind-index field label of the client keys (IP, fingerprint) submissions are throttled by.
const CLIENT_INDEX: &str = "lead_client";

/// The data subject whose key seals a lead's fields.
pub(super) fn subject(id: LeadId) -> Subject {
    Subject::lead(&id.to_string())
}

/// The blind index of a lead's email: the same for every spelling of one mailbox.
/// `shopkeep_leads.email_index` holds it; the suppression list keeps it too.
pub(crate) fn email_index(store: &Store, email: &Email) -> Mac256 {
    store.keys().blind_index(EMAIL_INDEX, &email.normalized())
}

/// The blind index of a client key, so that the throttle never stores an IP address.
pub(super) fn client_index(store: &Store, client_key: &str) -> Mac256 {
    store.keys().blind_index(CLIENT_INDEX, client_key)
}

/// Encrypts `plain` for `column` of lead `id`.
pub(super) fn seal(key: &DataKey, id: LeadId, column: &str, plain: &[u8]) -> Result<Vec<u8>> {
    let row = id.as_bytes().as_slice();
    field::encrypt(
        key,
        Place {
            table: LEADS,
            column,
            row,
        },
        plain,
    )
}

/// Decrypts `column` of lead `id`.
fn open(key: &DataKey, id: LeadId, column: &str, stored: &[u8]) -> Result<Vec<u8>> {
    let row = id.as_bytes().as_slice();
    let plain = field::decrypt(
        key,
        Place {
            table: LEADS,
            column,
            row,
        },
        stored,
    )?;
    Ok(plain.to_vec())
}

fn open_text(key: &DataKey, id: LeadId, column: &str, stored: &[u8]) -> Result<String> {
    String::from_utf8(open(key, id, column, stored)?)
        .map_err(|_| Error::new(ErrorKind::Crypto, "a decrypted field is not text"))
}

/// The data key of a lead that must have one.
pub(super) fn key(tx: &Tx<'_>, store: &Store, id: LeadId) -> Result<Arc<DataKey>> {
    store
        .data_key(tx, &subject(id))?
        .ok_or_else(|| Error::new(ErrorKind::Crypto, "the lead's data key is missing"))
}

/// A lead row as stored, fields still sealed.
struct Row {
    email: Vec<u8>,
    name: Vec<u8>,
    message: Vec<u8>,
    has_attachment: bool,
    status: String,
    score: i64,
    customer: Option<crate::access::CustomerId>,
    created_at: Timestamp,
    updated_at: Timestamp,
    version: i64,
}

/// Reads and decrypts a lead that is not erased.
///
/// # Errors
///
/// `NotFound` for an unknown or erased lead; `Crypto` if a field cannot be decrypted.
pub(crate) fn load(tx: &Tx<'_>, store: &Store, id: LeadId) -> Result<Lead> {
    let row = tx
        .query_opt(
            "SELECT email, name, message, attachment IS NOT NULL, status, score, customer_id,
                    created_at, updated_at, version
             FROM shopkeep_leads WHERE id = ?1 AND erased_at IS NULL",
            args![id],
            |r| {
                Ok(Row {
                    email: r.get(0)?,
                    name: r.get(1)?,
                    message: r.get(2)?,
                    has_attachment: r.get(3)?,
                    status: r.get(4)?,
                    score: r.get(5)?,
                    customer: r.get(6)?,
                    created_at: r.get(7)?,
                    updated_at: r.get(8)?,
                    version: r.get(9)?,
                })
            },
        )?
        .ok_or_else(|| not_found(&Resource::Lead(id)))?;
    let key = key(tx, store, id)?;
    Ok(Lead {
        id,
        email: Email::from_stored(&open_text(&key, id, "email", &row.email)?)?,
        name: open_text(&key, id, "name", &row.name)?,
        message: open_text(&key, id, "message", &row.message)?,
        has_attachment: row.has_attachment,
        status: LeadStatus::parse(&row.status)?,
        score: row.score,
        customer: row.customer,
        created_at: row.created_at,
        updated_at: row.updated_at,
        version: u64::try_from(row.version).unwrap_or(0),
    })
}

/// Reads and decrypts the attachment of a lead that is not erased.
///
/// # Errors
///
/// `NotFound` for an unknown or erased lead; `Crypto` if it cannot be decrypted.
pub(super) fn load_attachment(tx: &Tx<'_>, store: &Store, id: LeadId) -> Result<Option<Vec<u8>>> {
    let stored: Option<Vec<u8>> = tx
        .query_opt(
            "SELECT attachment FROM shopkeep_leads WHERE id = ?1 AND erased_at IS NULL",
            args![id],
            |r| r.get(0),
        )?
        .ok_or_else(|| not_found(&Resource::Lead(id)))?;
    match stored {
        Some(stored) => {
            let key = key(tx, store, id)?;
            Ok(Some(open(&key, id, "attachment", &stored)?))
        }
        None => Ok(None),
    }
}
