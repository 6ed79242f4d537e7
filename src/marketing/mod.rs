//! Marketing analytics, computed inside the shop's own database: RFM scores and segments,
//! cohorts, product affinity, sales reports, abandoned carts and audiences, and the campaign
//! [`Attribution`] that orders carry from checkout.
//!
//! Everything is read through [`MarketingRepo`] ([`Store::marketing`](crate::Store::marketing)):
//! one [`Action`](crate::Action) per report, allowed to the `marketing` role and the owner,
//! never to customers; each report reads one snapshot on the reader pool. Reports name
//! customers by their pseudonymous [`CustomerId`](crate::CustomerId) only. See
//! `docs/marketing.md` for each metric's formula and a worked example.

mod attribution;
mod audience;
mod repo;
mod report;
mod rfm;

pub use attribution::Attribution;
pub use audience::{AudiencePage, AudienceQuery};
pub use repo::MarketingRepo;
pub use report::{
    AbandonedCart, AbandonedCartPage, Affinity, Cohort, CohortReport, SalesGrouping, SalesQuery,
    SalesReport, SalesRow,
};
pub use rfm::{CustomerRfm, RfmReport, Segment};

pub(crate) use repo::{load_attribution, record_attribution};
