//! Issued invoices and credit notes: the stored record around an [`InvoiceDocument`].

use super::model::{Date, DocumentKind, InvoiceDocument};
use super::render::{Profile, to_ubl};
use crate::access::CustomerId;
use crate::clock::Timestamp;
use crate::error::Result;
use crate::ids::define_id;
use crate::orders::OrderId;

define_id!(
    /// An issued invoice's or credit note's id (a time-ordered UUID).
    InvoiceId,
    "invoice_id"
);

/// An issued invoice or credit note: its number, the order it bills, and the document exactly
/// as issued. Nothing can change it; a correction is a credit note.
///
/// The document holds the buyer's name and address (personal data): `Debug` redacts the buyer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Invoice {
    pub(crate) id: InvoiceId,
    pub(crate) order: OrderId,
    pub(crate) customer: CustomerId,
    pub(crate) original: Option<InvoiceId>,
    pub(crate) issued_at: Timestamp,
    pub(crate) deletable_from: Date,
    pub(crate) document: InvoiceDocument,
}

impl Invoice {
    /// Its id.
    pub fn id(&self) -> InvoiceId {
        self.id
    }

    /// Its number, unique and gapless within its series and year (EN 16931 BT-1).
    pub fn number(&self) -> &str {
        self.document.number()
    }

    /// Invoice or credit note (with the original's number and date).
    pub fn kind(&self) -> &DocumentKind {
        self.document.kind()
    }

    /// Whether it is a credit note.
    pub fn is_credit_note(&self) -> bool {
        matches!(self.document.kind(), DocumentKind::CreditNote { .. })
    }

    /// The order it bills or credits.
    pub fn order(&self) -> OrderId {
        self.order
    }

    /// The customer it was issued to.
    pub fn customer(&self) -> CustomerId {
        self.customer
    }

    /// For a credit note, the invoice it corrects.
    pub fn original(&self) -> Option<InvoiceId> {
        self.original
    }

    /// When it was issued (the issue date, BT-2, is this instant's date in the shop's zone).
    pub fn issued_at(&self) -> Timestamp {
        self.issued_at
    }

    /// The first day on which the retention purge may delete it: from the moment that day has
    /// begun everywhere on earth (12:00 UTC, midnight in UTC-12), whatever the shop's zone.
    pub fn deletable_from(&self) -> Date {
        self.deletable_from
    }

    /// The document as issued: seller, buyer, lines, VAT breakdown, totals.
    pub fn document(&self) -> &InvoiceDocument {
        &self.document
    }

    /// The EN 16931 e-invoice: a UBL 2.1 `Invoice` or `CreditNote` for `profile`.
    ///
    /// # Errors
    ///
    /// The errors of [`to_ubl`]: a currency with more than 2 decimals, or a field the
    /// profile requires that the document lacks (XRechnung), named in the error.
    pub fn to_ubl(&self, profile: Profile) -> Result<String> {
        to_ubl(&self.document, profile)
    }
}
