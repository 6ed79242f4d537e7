//! Authenticated authority: a keyed MAC over the columns of a row that decide who owns it or
//! what it lets someone do (an order's customer, a password hash, a staff role, a session's
//! holder). Someone who can write the database file but has not the master key can still edit
//! those columns; the MAC, verified on every read, turns such an edit into a `Crypto` error.
//!
//! ```text
//! auth_mac = HMAC-SHA256(auth-MAC key, lp(FORMAT) || lp(table) || (lp(column) || lp(value))...)
//! value    = 0x00 for NULL, or 0x01 || the stored bytes (a BLOB as is, TEXT as UTF-8)
//! ```
//!
//! The bound columns of each table are listed here once: the repositories write and verify
//! them, the upgrade that MACs rows written before (`store::auth_macs`) reads the same list.
//! `docs/security.md` documents the format byte by byte.

/// The format label, first input of every MAC: a new format gets a new label.
pub(crate) const FORMAT: &[u8] = b"shopkeep/auth-mac v1";

/// A table whose rows carry a MAC over some of their columns in the column `auth_mac`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BoundTable {
    /// The table's name, as bound into the MAC.
    pub(crate) name: &'static str,
    /// The column that identifies a row (for the upgrade's UPDATE).
    pub(crate) key: &'static str,
    /// The bound columns, in MAC order.
    pub(crate) columns: &'static [&'static str],
}

/// Customers: whose password hash a row holds.
pub(crate) const CUSTOMERS: BoundTable = BoundTable {
    name: "shopkeep_customers",
    key: "id",
    columns: &["id", "password_hash"],
};

/// Password-reset and consent tokens: which customer a token acts for.
pub(crate) const CUSTOMER_TOKENS: BoundTable = BoundTable {
    name: "shopkeep_customer_tokens",
    key: "token_hash",
    columns: &["token_hash", "customer_id", "purpose"],
};

/// Leads' consent confirmation tokens: which lead a token confirms for. Not in [`ALL`]: the
/// table was created with its MAC column, so the upgrade has no rows to MAC.
pub(crate) const LEAD_TOKENS: BoundTable = BoundTable {
    name: "shopkeep_lead_tokens",
    key: "token_hash",
    columns: &["token_hash", "lead_id", "channel"],
};

/// Staff accounts: role, password hash and whether the account is disabled.
pub(crate) const STAFF: BoundTable = BoundTable {
    name: "shopkeep_staff",
    key: "id",
    columns: &["id", "role", "password_hash", "disabled_at"],
};

/// Sessions: whose session a token hash opens, and until when.
pub(crate) const SESSIONS: BoundTable = BoundTable {
    name: "shopkeep_sessions",
    key: "token_hash",
    columns: &["token_hash", "holder_kind", "holder_id", "expires_at"],
};

/// API keys: which key hash a prefix finds, and the role it grants.
pub(crate) const API_KEYS: BoundTable = BoundTable {
    name: "shopkeep_api_keys",
    key: "id",
    columns: &["id", "prefix", "key_hash", "role"],
};

/// Orders: the customer who placed the order (and may read it).
pub(crate) const ORDERS: BoundTable = BoundTable {
    name: "shopkeep_orders",
    key: "id",
    columns: &["id", "customer_id"],
};

/// Invoices and credit notes: the order and the customer they were issued for.
pub(crate) const INVOICES: BoundTable = BoundTable {
    name: "shopkeep_invoices",
    key: "id",
    columns: &["id", "order_id", "customer_id"],
};

/// Every bound table, in the order the upgrade MACs them.
pub(crate) const ALL: [BoundTable; 7] = [
    CUSTOMERS,
    CUSTOMER_TOKENS,
    STAFF,
    SESSIONS,
    API_KEYS,
    ORDERS,
    INVOICES,
];

/// The encoded value of one column: `0x00` for NULL, `0x01 || bytes` otherwise, so that NULL
/// and an empty value differ.
pub(crate) fn encode_value(value: Option<&[u8]>) -> Vec<u8> {
    match value {
        None => vec![0],
        Some(bytes) => {
            let mut out = Vec::with_capacity(bytes.len() + 1);
            out.push(1);
            out.extend_from_slice(bytes);
            out
        }
    }
}
