//! Every operation the crate offers, as the policy sees it.

use std::fmt;

/// An operation a principal asks to perform. Every repository method authorises exactly one.
///
/// The enum grows as capabilities arrive (it is `#[non_exhaustive]`); the built-in policy's
/// matrix is an exhaustive `match`, so a new action cannot be added without deciding who may
/// perform it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Action {
    /// Create a staff account.
    CreateStaff,
    /// Read a staff account, or list them.
    ReadStaff,
    /// Change a staff member's role.
    ChangeStaffRole,
    /// Disable a staff account (its sessions end at once).
    DisableStaff,
    /// Change a staff member's password.
    ChangeStaffPassword,
    /// Create an API key.
    CreateApiKey,
    /// Read an API key's metadata (never its secret), or list them.
    ReadApiKey,
    /// Revoke an API key.
    RevokeApiKey,
    /// Read or verify the audit log.
    ReadAuditLog,
    /// Poll and acknowledge outbox events (for the host's delivery job).
    ConsumeEvents,
    /// Register a customer account.
    RegisterCustomer,
    /// Read a customer's profile, addresses and consents.
    ReadCustomer,
    /// Change a customer's profile or addresses.
    UpdateCustomer,
    /// Change a customer's password (self-service: the current password is required).
    ChangeCustomerPassword,
    /// Record or withdraw a customer's marketing consent, or get their unsubscribe link.
    ManageConsent,
    /// Export everything held about a customer (GDPR Art. 15 and 20).
    ExportCustomer,
    /// Erase a customer (GDPR Art. 17).
    EraseCustomer,
    /// Find customers by email, or list them.
    SearchCustomers,
    /// Read products: get, list, search (staff also see archived ones).
    ReadProduct,
    /// Create a product with its variants.
    CreateProduct,
    /// Change a product: name, description, tax category, prices, variants.
    UpdateProduct,
    /// Archive a product, or put it back on sale.
    ArchiveProduct,
    /// Record a stock movement (receipt, adjustment, sale, return, reservation release).
    AdjustStock,
    /// Read a variant's stock ledger.
    ReadStockLedger,
    /// Read the shop's settings.
    ReadSettings,
    /// Change the shop's settings.
    UpdateSettings,
    /// Shop as a customer: fill their cart and check it out (customers for themselves).
    PlaceOrder,
    /// Read orders: one, a customer's, or all of them (customers their own).
    ReadOrder,
    /// Create and list coupon codes.
    ManageCoupons,
    /// Record that an order was paid (the gateway confirmed it).
    RecordPayment,
    /// Ship an order, and mark it completed.
    FulfilOrder,
    /// Cancel an order before it ships (customers their own, while unpaid).
    CancelOrder,
    /// Refund a paid order, in full or in part.
    RefundOrder,
    /// Expire unpaid orders older than a given age (a background job).
    ExpireOrders,
    /// Issue an order's invoice (credit notes are issued by refunds and cancellations).
    IssueInvoice,
    /// Read invoices and credit notes (customers their own).
    ReadInvoice,
    /// Delete invoices whose legal retention period has passed.
    PurgeInvoices,
    /// Read the RFM report (recency, frequency, monetary value and segment per customer).
    ReadRfm,
    /// Recompute the stored customer scores that audiences filter on (a maintenance job).
    RefreshScores,
    /// Read the cohort report (retention and revenue by first-purchase month).
    ReadCohorts,
    /// Read product affinity (products bought together).
    ReadAffinity,
    /// Read sales reports (by period, product, coupon, campaign).
    ReadSales,
    /// List abandoned carts.
    ReadAbandonedCarts,
    /// Evaluate an audience (a segment query) to customer ids.
    QueryAudience,
    /// Export the marketing facts (orders, lines, customer ids, scores) as Parquet files.
    ExportAnalytics,
    /// Submit the shop's contact form (a lead).
    SubmitLead,
    /// Read leads: one, or a list of them.
    ReadLead,
    /// Move a lead through its status pipeline.
    UpdateLead,
    /// Export everything held about a lead (GDPR Art. 15 and 20).
    ExportLead,
    /// Erase a lead (GDPR Art. 17).
    EraseLead,
    /// Register, read, list, enable, disable and delete webhook endpoints; read their delivery
    /// log; list and re-queue dead letters.
    ManageWebhooks,
    /// Run the webhook delivery job: fan events out, take due deliveries, report outcomes.
    DeliverWebhooks,
    /// Process a payment gateway's event (a verified webhook): mark paid, queue a refund,
    /// record a dispute.
    ProcessPaymentEvent,
    /// Allocate a refund the gateway reported (an amount only) to an order's lines, or link
    /// it to a refund already made.
    AllocateGatewayRefund,
    /// Read the payment gateway records: the refund queue, disputes, the reconciliation.
    ReadPayments,
    /// Export one consented contact (a customer or a lead) with the fields a CRM takes.
    ExportCrmContact,
    /// Create, schedule and cancel campaigns; create, pause and resume flows; set the send
    /// policy; run what is due; render a queued message; read attribution.
    ManageCampaigns,
    /// Ask whether an email is on the suppression list, or list its entries (which hold no
    /// email).
    ReadSuppressions,
    /// Add an email to the suppression list, or take one off it.
    ManageSuppressions,
}

impl Action {
    /// Every action, in a stable order (for matrices and documentation).
    pub const ALL: &'static [Action] = &[
        Action::CreateStaff,
        Action::ReadStaff,
        Action::ChangeStaffRole,
        Action::DisableStaff,
        Action::ChangeStaffPassword,
        Action::CreateApiKey,
        Action::ReadApiKey,
        Action::RevokeApiKey,
        Action::ReadAuditLog,
        Action::ConsumeEvents,
        Action::RegisterCustomer,
        Action::ReadCustomer,
        Action::UpdateCustomer,
        Action::ChangeCustomerPassword,
        Action::ManageConsent,
        Action::ExportCustomer,
        Action::EraseCustomer,
        Action::SearchCustomers,
        Action::ReadProduct,
        Action::CreateProduct,
        Action::UpdateProduct,
        Action::ArchiveProduct,
        Action::AdjustStock,
        Action::ReadStockLedger,
        Action::ReadSettings,
        Action::UpdateSettings,
        Action::PlaceOrder,
        Action::ReadOrder,
        Action::ManageCoupons,
        Action::RecordPayment,
        Action::FulfilOrder,
        Action::CancelOrder,
        Action::RefundOrder,
        Action::ExpireOrders,
        Action::IssueInvoice,
        Action::ReadInvoice,
        Action::PurgeInvoices,
        Action::ReadRfm,
        Action::RefreshScores,
        Action::ReadCohorts,
        Action::ReadAffinity,
        Action::ReadSales,
        Action::ReadAbandonedCarts,
        Action::QueryAudience,
        Action::ExportAnalytics,
        Action::SubmitLead,
        Action::ReadLead,
        Action::UpdateLead,
        Action::ExportLead,
        Action::EraseLead,
        Action::ManageWebhooks,
        Action::DeliverWebhooks,
        Action::ProcessPaymentEvent,
        Action::AllocateGatewayRefund,
        Action::ReadPayments,
        Action::ExportCrmContact,
        Action::ManageCampaigns,
        Action::ReadSuppressions,
        Action::ManageSuppressions,
    ];

    /// The stable snake-case name, as written to the audit log.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::CreateStaff => "create_staff",
            Action::ReadStaff => "read_staff",
            Action::ChangeStaffRole => "change_staff_role",
            Action::DisableStaff => "disable_staff",
            Action::ChangeStaffPassword => "change_staff_password",
            Action::CreateApiKey => "create_api_key",
            Action::ReadApiKey => "read_api_key",
            Action::RevokeApiKey => "revoke_api_key",
            Action::ReadAuditLog => "read_audit_log",
            Action::ConsumeEvents => "consume_events",
            Action::RegisterCustomer => "register_customer",
            Action::ReadCustomer => "read_customer",
            Action::UpdateCustomer => "update_customer",
            Action::ChangeCustomerPassword => "change_customer_password",
            Action::ManageConsent => "manage_consent",
            Action::ExportCustomer => "export_customer",
            Action::EraseCustomer => "erase_customer",
            Action::SearchCustomers => "search_customers",
            Action::ReadProduct => "read_product",
            Action::CreateProduct => "create_product",
            Action::UpdateProduct => "update_product",
            Action::ArchiveProduct => "archive_product",
            Action::AdjustStock => "adjust_stock",
            Action::ReadStockLedger => "read_stock_ledger",
            Action::ReadSettings => "read_settings",
            Action::UpdateSettings => "update_settings",
            Action::PlaceOrder => "place_order",
            Action::ReadOrder => "read_order",
            Action::ManageCoupons => "manage_coupons",
            Action::RecordPayment => "record_payment",
            Action::FulfilOrder => "fulfil_order",
            Action::CancelOrder => "cancel_order",
            Action::RefundOrder => "refund_order",
            Action::ExpireOrders => "expire_orders",
            Action::IssueInvoice => "issue_invoice",
            Action::ReadInvoice => "read_invoice",
            Action::PurgeInvoices => "purge_invoices",
            Action::ReadRfm => "read_rfm",
            Action::RefreshScores => "refresh_scores",
            Action::ReadCohorts => "read_cohorts",
            Action::ReadAffinity => "read_affinity",
            Action::ReadSales => "read_sales",
            Action::ReadAbandonedCarts => "read_abandoned_carts",
            Action::QueryAudience => "query_audience",
            Action::ExportAnalytics => "export_analytics",
            Action::SubmitLead => "submit_lead",
            Action::ReadLead => "read_lead",
            Action::UpdateLead => "update_lead",
            Action::ExportLead => "export_lead",
            Action::EraseLead => "erase_lead",
            Action::ManageWebhooks => "manage_webhooks",
            Action::DeliverWebhooks => "deliver_webhooks",
            Action::ProcessPaymentEvent => "process_payment_event",
            Action::AllocateGatewayRefund => "allocate_gateway_refund",
            Action::ReadPayments => "read_payments",
            Action::ExportCrmContact => "export_crm_contact",
            Action::ManageCampaigns => "manage_campaigns",
            Action::ReadSuppressions => "read_suppressions",
            Action::ManageSuppressions => "manage_suppressions",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
