//! Leads: the shop's contact form ("get in touch"), and the pipeline staff move its
//! submissions along.
//!
//! - [`LeadForm`] is what a visitor sends: name, email, message, an optional PDF, the terms
//!   ticked. [`LeadRepo::submit`] checks every rule and answers every failure at once, as an
//!   [`InvalidFields`](crate::ErrorKind::InvalidFields) error whose
//!   [`field_errors`](crate::Error::field_errors) a form shows beside its fields; nothing is
//!   written then. The attachment is checked by its content, not its name (`pdf`).
//! - Submissions are throttled per client key (IP or fingerprint, which the host passes) and
//!   per email.
//! - A lead's personal data and PDF are encrypted under a data key of its own, as a
//!   customer's are; its email is found through a keyed blind index. [`LeadRepo::export`] and
//!   [`LeadRepo::erase`] are the GDPR rights of access and erasure.
//! - Staff move a lead along [`LeadStatus`]; each move is audited and emits an outbox event
//!   with ids only.
//! - A customer who registers with a lead's email converts it: the lead names the customer.
//! - The form's optional marketing opt-in ([`LeadForm::marketing_opt_in`]) is recorded in the
//!   consent ledger customers use, with double opt-in ([`LeadRepo::confirmation_token`],
//!   [`Store::confirm_consent`](crate::Store::confirm_consent)); nurturing asks
//!   [`LeadRepo::has_marketing_consent`], and each message carries the lead's unsubscribe
//!   link ([`LeadRepo::unsubscribe_token`]), which the customers' endpoint
//!   ([`Store::unsubscribe`](crate::Store::unsubscribe)) redeems. Conversion carries the
//!   consent history over.
//! - The host reports what a lead does ([`LeadRepo::record_activity`]); the lead's score is
//!   the capped sum of their points, and [`LeadRepo::top`] lists the best.
//!
//! The [leads guide](crate::guide::leads) has the rules, the messages and what is still to
//! come (nurturing).
//!
//! ```
//! use shopkeep::leads::{LeadForm, LeadStatus};
//! use shopkeep::{ErrorKind, KeyRing, Principal, Store};
//!
//! let store = Store::open_in_memory(KeyRing::generate()?)?;
//! let visitor = Principal::anonymous();
//! let err = store
//!     .leads(&visitor)
//!     .submit(LeadForm::new("", "ana@", "Hi"), "203.0.113.7")
//!     .unwrap_err();
//! assert_eq!(err.kind(), ErrorKind::InvalidFields);
//! assert_eq!(err.field_errors().len(), 4); // name, email, message, terms
//!
//! let form = LeadForm::new("Ana Lima", "ana@example.com", "Do you ship to Norway?")
//!     .accept_terms(true);
//! let lead = store.leads(&visitor).submit(form, "203.0.113.7")?;
//! let staff = store.system();
//! let lead = store.leads(&staff).set_status(lead.id(), lead.version(), LeadStatus::Contacted)?;
//! assert_eq!(lead.status(), LeadStatus::Contacted);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub(crate) mod consent;
mod events;
mod form;
mod model;
mod pdf;
mod repo;
mod score;
mod storage;

pub(crate) use consent::{confirm_lead_consent, unsubscribe_lead};
pub use form::{
    ATTACHMENT_INVALID, EMAIL_INVALID, LeadForm, MESSAGE_TOO_SHORT, NAME_MISSING, OPT_IN_INVALID,
    TERMS_NOT_ACCEPTED,
};
pub use model::{ActivityRecord, Lead, LeadExport, LeadId, LeadStatus};
pub use repo::LeadRepo;
pub(crate) use repo::link_to_customer;
pub use score::{Activity, ActivityKind, MAX_SCORE};
pub(crate) use storage::{email_index as lead_email_index, load as load_lead};

/// The largest attachment [`LeadForm::attachment`] accepts: 10 MB = 10,485,760 bytes.
pub const MAX_ATTACHMENT_BYTES: usize = pdf::MAX_BYTES;
