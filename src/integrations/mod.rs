//! Integrations: what a shop exchanges with payment gateways, webhook receivers, mail servers
//! and CRMs, without doing the network itself.
//!
//! shopkeep leaves transport to the host. Everything the host would otherwise hand-write around
//! a request — checking a signature, refusing a replay, building a signed request or an RFC 5322
//! message, recording what was delivered and what is due again — lives here, as pure functions
//! and repositories like the rest of the crate. The host does the HTTP or SMTP call and reports
//! the outcome back.

pub mod crm;
pub mod email;
pub mod payments;
pub mod webhooks;
