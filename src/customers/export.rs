//! The GDPR export document (Art. 15 and 20): everything held about one customer.

use std::fmt;

use serde::Serialize;

use super::address::CustomerAddress;
use super::consent::{ConsentRecord, ConsentState};
use super::fields;
use super::model::Customer;
use crate::clock::Timestamp;
use crate::error::{Error, ErrorKind, Result};

/// The format name and version written into every export.
const FORMAT: &str = "shopkeep.customer-export.v1";

/// Everything the store holds about one customer, decrypted: profile, addresses, the consent
/// ledger and the consent state derived from it. Serialises to one JSON document (see
/// [`to_json`](Self::to_json)) for the customer to download. Personal data: `Debug` shows the
/// customer's id only.
///
/// Orders and invoice references join the document as the checkout and invoice capabilities
/// arrive.
#[derive(Clone, Serialize)]
pub struct CustomerExport {
    pub(super) format: &'static str,
    #[serde(serialize_with = "fields::timestamp")]
    pub(super) exported_at: Timestamp,
    pub(super) profile: Customer,
    pub(super) addresses: Vec<CustomerAddress>,
    pub(super) consent: Vec<ConsentState>,
    pub(super) consent_history: Vec<ConsentRecord>,
}

impl CustomerExport {
    pub(super) fn new(
        exported_at: Timestamp,
        profile: Customer,
        addresses: Vec<CustomerAddress>,
        consent: Vec<ConsentState>,
        consent_history: Vec<ConsentRecord>,
    ) -> CustomerExport {
        CustomerExport {
            format: FORMAT,
            exported_at,
            profile,
            addresses,
            consent,
            consent_history,
        }
    }

    /// When the export was made.
    pub fn exported_at(&self) -> Timestamp {
        self.exported_at
    }

    /// The profile.
    pub fn profile(&self) -> &Customer {
        &self.profile
    }

    /// The address book.
    pub fn addresses(&self) -> &[CustomerAddress] {
        &self.addresses
    }

    /// The current consent of every channel.
    pub fn consent(&self) -> &[ConsentState] {
        &self.consent
    }

    /// Every row of the consent ledger, oldest first.
    pub fn consent_history(&self) -> &[ConsentRecord] {
        &self.consent_history
    }

    /// The document as pretty-printed JSON, with `"format": "shopkeep.customer-export.v1"`.
    ///
    /// # Errors
    ///
    /// `Storage` if the document cannot be encoded (it always can; the error exists so that a
    /// failure is never a panic).
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self).map_err(|e| {
            Error::new(ErrorKind::Storage, "the export could not be encoded").with_source(e)
        })
    }
}

impl fmt::Debug for CustomerExport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CustomerExport")
            .field("customer", &self.profile.id)
            .field("exported_at", &self.exported_at)
            .finish_non_exhaustive()
    }
}
