//! Marketing analytics, computed inside the shop's own database: RFM scores and segments,
//! cohorts, product affinity, sales reports, abandoned carts and audiences, customer lifetime
//! value ([`clv`]: the BG/NBD and Gamma-Gamma models), and the campaign [`Attribution`] that
//! orders carry from checkout; and the [`SuppressionRepo`], the addresses no marketing may go
//! to (hard bounces, complaints, objections), kept without storing a single address.
//!
//! Everything is read through [`MarketingRepo`] ([`Store::marketing`](crate::Store::marketing)):
//! one [`Action`](crate::access::Action) per report, allowed to the `marketing` role and the
//! owner, never to customers; each report reads one snapshot on the reader pool. Reports name
//! customers by their pseudonymous [`CustomerId`](crate::access::CustomerId) only. The
//! [marketing guide](crate::guide::marketing) gives each metric's formula and a worked example.

mod attribution;
mod audience;
pub mod clv;
mod clv_repo;
mod facts;
#[cfg(feature = "parquet")]
mod parquet;
mod repo;
mod report;
mod rfm;
mod scores;
mod suppression;
pub(crate) mod suppression_repo;

pub use attribution::Attribution;
pub use audience::{AudiencePage, AudienceQuery};
pub use clv::{BgNbd, ClvModel, ClvPrediction, CustomerSummary, GammaGamma};
#[cfg(feature = "parquet")]
#[cfg_attr(docsrs, doc(cfg(feature = "parquet")))]
pub use parquet::{FactTable, ParquetExport};
pub use repo::MarketingRepo;
pub use report::{
    AbandonedCart, AbandonedCartPage, Affinity, Cohort, CohortReport, SalesGrouping, SalesQuery,
    SalesReport, SalesRow,
};
pub use rfm::{CustomerRfm, RfmReport, Segment};
pub use scores::{
    ClvNotFitted, ClvOutcome, CustomerScore, DEFAULT_CLV_HORIZON_DAYS, MAX_CLV_HORIZON_DAYS,
    ScorePage, ScoreRefresh,
};
pub use suppression::{MAX_SUPPRESSION_NOTE, Suppression, SuppressionId, SuppressionReason};
pub use suppression_repo::SuppressionRepo;

pub(crate) use repo::{audience_in, load_attribution, record_attribution};
