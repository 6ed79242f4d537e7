//! What an action is performed on, with its owner.

use std::fmt;

use super::action::Action;
use super::principal::{ApiKeyId, CustomerId, Kind, Principal, StaffId};

/// The object of an action. A resource that belongs to someone carries its owner, so that
/// "a staff member reads their own account" is decided by the policy, not by each repository.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Resource {
    /// One staff account; owned by that staff member.
    Staff(StaffId),
    /// The set of staff accounts (to create one, or to list them).
    StaffDirectory,
    /// One API key.
    ApiKey(ApiKeyId),
    /// The set of API keys (to create one, or to list them).
    ApiKeys,
    /// The audit log.
    AuditLog,
    /// The outbox of events.
    Outbox,
    /// One customer account, with its addresses and consents; owned by that customer.
    Customer(CustomerId),
    /// The set of customer accounts (to register one, to search or list them).
    Customers,
    /// One product of the catalogue.
    Product(crate::catalog::ProductId),
    /// The catalogue as a whole (to create a product, to list, search or find by SKU).
    Catalog,
    /// One variant's stock and its ledger.
    Stock(crate::catalog::VariantId),
    /// The shop's settings.
    Settings,
    /// One order; owned by the customer who placed it (`None` for an order that does not
    /// exist, which nobody owns).
    Order {
        /// The order.
        id: crate::orders::OrderId,
        /// The customer who placed it.
        customer: Option<CustomerId>,
    },
    /// All orders (to list them).
    Orders,
    /// The coupon codes.
    Coupons,
    /// One invoice or credit note; owned by the customer it was issued to (`None` for one
    /// that does not exist).
    Invoice {
        /// The invoice.
        id: crate::invoices::InvoiceId,
        /// The customer it was issued to.
        customer: Option<CustomerId>,
    },
    /// All invoices (to list them, or to purge those past their retention).
    Invoices,
    /// The shop's marketing analytics: reports, stored scores, audiences.
    Analytics,
    /// One lead (a contact-form submission); owned by nobody, customers included.
    Lead(crate::leads::LeadId),
    /// The set of leads (to submit one, or to list them).
    Leads,
    /// One webhook endpoint, with its deliveries.
    WebhookEndpoint(crate::integrations::webhooks::EndpointId),
    /// Webhooks as a whole: registering and listing endpoints, the dead letters, the delivery
    /// job.
    Webhooks,
    /// The payment gateway records: processed events, gateway payments, the refund queue,
    /// disputes.
    Payments,
    /// Campaigns, flows, their messages and the send policy.
    Campaigns,
    /// The suppression list: addresses the shop never sends marketing to (owned by nobody).
    Suppressions,
}

impl Resource {
    /// Whether `principal` owns this resource.
    pub fn is_owned_by(&self, principal: &Principal) -> bool {
        match (self, principal.inner()) {
            (Resource::Staff(id), Kind::Staff { id: actor, .. }) => id == actor,
            (Resource::Customer(id), Kind::Customer(actor)) => id == actor,
            (
                Resource::Order {
                    customer: Some(id), ..
                },
                Kind::Customer(actor),
            ) => id == actor,
            (
                Resource::Invoice {
                    customer: Some(id), ..
                },
                Kind::Customer(actor),
            ) => id == actor,
            _ => false,
        }
    }

    /// The action that reads this one object, if it is one object. A principal who may not
    /// read an object is told it does not exist; one who may read it but not act on it is
    /// told they are forbidden.
    pub(crate) fn read_action(&self) -> Option<Action> {
        match self {
            Resource::Staff(_) => Some(Action::ReadStaff),
            Resource::ApiKey(_) => Some(Action::ReadApiKey),
            Resource::Customer(_) => Some(Action::ReadCustomer),
            Resource::Product(_) => Some(Action::ReadProduct),
            Resource::Stock(_) => Some(Action::ReadStockLedger),
            Resource::Order { .. } => Some(Action::ReadOrder),
            Resource::Invoice { .. } => Some(Action::ReadInvoice),
            Resource::Lead(_) => Some(Action::ReadLead),
            Resource::WebhookEndpoint(_) => Some(Action::ManageWebhooks),
            Resource::StaffDirectory
            | Resource::ApiKeys
            | Resource::AuditLog
            | Resource::Outbox
            | Resource::Customers
            | Resource::Catalog
            | Resource::Settings
            | Resource::Orders
            | Resource::Coupons
            | Resource::Invoices
            | Resource::Analytics
            | Resource::Leads
            | Resource::Webhooks
            | Resource::Payments
            | Resource::Campaigns => None,
            Resource::Suppressions => None,
        }
    }
}

/// The pseudonymous form written to the audit log: kinds and ids, never personal data.
impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Resource::Staff(id) => write!(f, "staff:{id}"),
            Resource::StaffDirectory => f.write_str("staff"),
            Resource::ApiKey(id) => write!(f, "api_key:{id}"),
            Resource::ApiKeys => f.write_str("api_keys"),
            Resource::AuditLog => f.write_str("audit_log"),
            Resource::Outbox => f.write_str("outbox"),
            Resource::Customer(id) => write!(f, "customer:{id}"),
            Resource::Customers => f.write_str("customers"),
            Resource::Product(id) => write!(f, "product:{id}"),
            Resource::Catalog => f.write_str("catalog"),
            Resource::Stock(id) => write!(f, "stock:{id}"),
            Resource::Settings => f.write_str("settings"),
            Resource::Order { id, .. } => write!(f, "order:{id}"),
            Resource::Orders => f.write_str("orders"),
            Resource::Coupons => f.write_str("coupons"),
            Resource::Invoice { id, .. } => write!(f, "invoice:{id}"),
            Resource::Invoices => f.write_str("invoices"),
            Resource::Analytics => f.write_str("analytics"),
            Resource::Lead(id) => write!(f, "lead:{id}"),
            Resource::Leads => f.write_str("leads"),
            Resource::WebhookEndpoint(id) => write!(f, "webhook_endpoint:{id}"),
            Resource::Webhooks => f.write_str("webhooks"),
            Resource::Payments => f.write_str("payments"),
            Resource::Campaigns => f.write_str("campaigns"),
            Resource::Suppressions => f.write_str("suppressions"),
        }
    }
}
