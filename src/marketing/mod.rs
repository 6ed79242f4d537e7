//! Marketing analytics computed from the shop's own data.
//!
//! [`clv`]: customer lifetime value with the BG/NBD and Gamma-Gamma models.

pub mod clv;

pub use clv::{BgNbd, ClvModel, ClvPrediction, CustomerSummary, GammaGamma};
