//! The guides: how shopkeep works and why, one page per subject.
//!
//! These are the Markdown files of the repository's `docs/` folder, included here so that they
//! travel with the API documentation. Start with [`architecture`], then read the page of the
//! domain you work on; [`compared`] sets shopkeep beside other commerce backends, and
//! [`changelog`] lists what each version brought.

#[doc = include_str!("../docs/architecture.md")]
pub mod architecture {}

#[doc = include_str!("../docs/security.md")]
pub mod security {}

#[doc = include_str!("../docs/access-control.md")]
pub mod access_control {}

#[doc = include_str!("../docs/catalog.md")]
pub mod catalog {}

#[doc = include_str!("../docs/orders.md")]
pub mod orders {}

#[doc = include_str!("../docs/invoicing.md")]
pub mod invoicing {}

#[doc = include_str!("../docs/compared.md")]
pub mod compared {}

#[doc = include_str!("../CHANGELOG.md")]
pub mod changelog {}
