//! The policy: who may perform which action on which resource.
//!
//! Deny by default: an action is allowed only if some rule allows it and no rule denies it.
//! Rules are a set, so their order never matters, and explicit denials always win.

use std::fmt;

use super::action::Action;
use super::principal::{Kind, Principal};
use super::resource::Resource;
use super::role::Role;

/// A question put to the policy: may `principal` perform `action` on `resource`?
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    principal: &'a Principal,
    action: Action,
    resource: &'a Resource,
}

impl<'a> Request<'a> {
    /// A request; hosts build these to test their own policies.
    pub fn new(principal: &'a Principal, action: Action, resource: &'a Resource) -> Self {
        Request {
            principal,
            action,
            resource,
        }
    }

    /// Who asks.
    pub fn principal(&self) -> &'a Principal {
        self.principal
    }

    /// What they ask to do.
    pub fn action(&self) -> Action {
        self.action
    }

    /// On what.
    pub fn resource(&self) -> &'a Resource {
        self.resource
    }
}

/// The policy's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The action may proceed.
    Allow,
    /// The action is refused (and the refusal is audited).
    Deny,
}

/// Decides every request. Implement it to replace [`DefaultPolicy`] entirely; most hosts adjust
/// the default instead with [`DefaultPolicy::allow`] and [`DefaultPolicy::deny`].
///
/// A policy must be a pure function of the request: the store calls it on every repository
/// call, inside transactions, so it must be fast and must not block.
pub trait Policy: Send + Sync + fmt::Debug + 'static {
    /// Answers one request.
    fn decide(&self, request: &Request<'_>) -> Decision;
}

/// Which principals a rule is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Who {
    /// Visitors who have not logged in.
    Anonymous,
    /// Any logged-in customer.
    Customer,
    /// Staff members and API keys of this role.
    Role(Role),
    /// The host's trusted system principal.
    System,
}

impl Who {
    fn matches(self, principal: &Principal) -> bool {
        match (self, principal.inner()) {
            (Who::Anonymous, Kind::Anonymous)
            | (Who::Customer, Kind::Customer(_))
            | (Who::System, Kind::System) => true,
            (
                Who::Role(role),
                Kind::Staff { role: actual, .. } | Kind::ApiKey { role: actual, .. },
            ) => role == *actual,
            _ => false,
        }
    }
}

impl fmt::Display for Who {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Who::Anonymous => f.write_str("anonymous"),
            Who::Customer => f.write_str("customer"),
            Who::Role(role) => role.fmt(f),
            Who::System => f.write_str("system"),
        }
    }
}

/// Which resources a rule covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Scope {
    /// Any resource.
    Any,
    /// Only resources the principal owns (their own account, their own orders).
    Own,
}

/// One rule: `who` may (or may not) perform `action` on resources in `scope`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rule {
    who: Who,
    action: Action,
    scope: Scope,
}

impl Rule {
    /// A rule.
    pub fn new(who: Who, action: Action, scope: Scope) -> Self {
        Rule { who, action, scope }
    }

    fn matches(&self, request: &Request<'_>) -> bool {
        self.action == request.action
            && self.who.matches(request.principal)
            && match self.scope {
                Scope::Any => true,
                Scope::Own => request.resource.is_owned_by(request.principal),
            }
    }
}

/// The built-in policy: the permission matrix of `docs/access-control.md`, adjustable by the
/// host with extra allow and deny rules.
///
/// ```
/// use shopkeep::access::{Action, DefaultPolicy, Role, Scope, Who};
///
/// // Let support staff read the audit log, and never let warehouse API keys or staff read staff.
/// let policy = DefaultPolicy::new()
///     .allow(Who::Role(Role::Support), Action::ReadAuditLog, Scope::Any)
///     .deny(Who::Role(Role::Warehouse), Action::ReadStaff, Scope::Any);
/// # let _ = policy;
/// ```
#[derive(Debug, Clone)]
pub struct DefaultPolicy {
    allows: Vec<Rule>,
    denies: Vec<Rule>,
}

impl Default for DefaultPolicy {
    fn default() -> Self {
        Self::new()
    }
}

impl DefaultPolicy {
    /// The built-in matrix.
    pub fn new() -> Self {
        let allows = Action::ALL
            .iter()
            .flat_map(|&action| {
                builtin_grants(action)
                    .iter()
                    .map(move |&(who, scope)| Rule::new(who, action, scope))
            })
            .collect();
        DefaultPolicy {
            allows,
            denies: Vec::new(),
        }
    }

    /// A policy that allows nothing, to build a matrix from scratch.
    pub fn deny_all() -> Self {
        DefaultPolicy {
            allows: Vec::new(),
            denies: Vec::new(),
        }
    }

    /// Adds a permission.
    #[must_use]
    pub fn allow(mut self, who: Who, action: Action, scope: Scope) -> Self {
        self.allows.push(Rule::new(who, action, scope));
        self
    }

    /// Adds an explicit denial, which beats every permission.
    #[must_use]
    pub fn deny(mut self, who: Who, action: Action, scope: Scope) -> Self {
        self.denies.push(Rule::new(who, action, scope));
        self
    }

    /// The permission rules (for documentation and tests).
    pub fn allow_rules(&self) -> &[Rule] {
        &self.allows
    }
}

impl Policy for DefaultPolicy {
    fn decide(&self, request: &Request<'_>) -> Decision {
        if self.denies.iter().any(|r| r.matches(request)) {
            Decision::Deny
        } else if self.allows.iter().any(|r| r.matches(request)) {
            Decision::Allow
        } else {
            Decision::Deny
        }
    }
}

impl Rule {
    /// Who the rule is about.
    pub fn who(&self) -> Who {
        self.who
    }

    /// The action it covers.
    pub fn action(&self) -> Action {
        self.action
    }

    /// The resources it covers.
    pub fn scope(&self) -> Scope {
        self.scope
    }
}

use Scope::{Any, Own};
use Who::{Role as R, System};

/// The system and the owner, over anything: the grants of the owner's own decisions.
const SYSTEM_OWNER: &[(Who, Scope)] = &[(System, Any), (R(Role::Owner), Any)];
/// The system, the owner and managers, over anything: the grants of running the shop.
const SYSTEM_OWNER_MANAGER: &[(Who, Scope)] = &[
    (System, Any),
    (R(Role::Owner), Any),
    (R(Role::Manager), Any),
];

/// The system, the owner and marketing staff, over anything: the grants of analytics.
const SYSTEM_OWNER_MARKETING: &[(Who, Scope)] = &[
    (System, Any),
    (R(Role::Owner), Any),
    (R(Role::Marketing), Any),
];

/// The built-in grants of each action. An exhaustive `match`: a new action does not compile
/// until someone decides who may perform it.
pub(crate) fn builtin_grants(action: Action) -> &'static [(Who, Scope)] {
    match action {
        Action::CreateStaff | Action::ChangeStaffRole | Action::DisableStaff => SYSTEM_OWNER,
        Action::ReadStaff => &[
            (System, Any),
            (R(Role::Owner), Any),
            (R(Role::Manager), Any),
            (R(Role::Support), Own),
            (R(Role::Accountant), Own),
            (R(Role::Warehouse), Own),
            (R(Role::Marketing), Own),
        ],
        Action::ChangeStaffPassword => &[
            (R(Role::Owner), Own),
            (R(Role::Manager), Own),
            (R(Role::Support), Own),
            (R(Role::Accountant), Own),
            (R(Role::Warehouse), Own),
            (R(Role::Marketing), Own),
        ],
        Action::CreateApiKey | Action::ReadApiKey | Action::RevokeApiKey => SYSTEM_OWNER,
        Action::ReadAuditLog => &[
            (System, Any),
            (R(Role::Owner), Any),
            (R(Role::Accountant), Any),
        ],
        Action::ConsumeEvents => SYSTEM_OWNER,
        Action::RegisterCustomer => &[
            (System, Any),
            (R(Role::Owner), Any),
            (R(Role::Manager), Any),
            (R(Role::Support), Any),
            (Who::Anonymous, Any),
        ],
        Action::ReadCustomer | Action::UpdateCustomer => &[
            (System, Any),
            (R(Role::Owner), Any),
            (R(Role::Manager), Any),
            (R(Role::Support), Any),
            (Who::Customer, Own),
        ],
        Action::SearchCustomers => &[
            (System, Any),
            (R(Role::Owner), Any),
            (R(Role::Manager), Any),
            (R(Role::Support), Any),
        ],
        Action::ChangeCustomerPassword => &[(Who::Customer, Own)],
        Action::ManageConsent => &[(System, Any), (Who::Customer, Own)],
        Action::ExportCustomer => &[
            (System, Any),
            (R(Role::Owner), Any),
            (R(Role::Support), Any),
            (Who::Customer, Own),
        ],
        Action::EraseCustomer => &[(System, Any), (R(Role::Owner), Any), (Who::Customer, Own)],
        Action::ReadProduct => &[
            (System, Any),
            (R(Role::Owner), Any),
            (R(Role::Manager), Any),
            (R(Role::Support), Any),
            (R(Role::Accountant), Any),
            (R(Role::Warehouse), Any),
            (R(Role::Marketing), Any),
            (Who::Customer, Any),
            (Who::Anonymous, Any),
        ],
        Action::CreateProduct | Action::UpdateProduct | Action::ArchiveProduct => {
            SYSTEM_OWNER_MANAGER
        }
        Action::AdjustStock => &[
            (System, Any),
            (R(Role::Owner), Any),
            (R(Role::Manager), Any),
            (R(Role::Warehouse), Any),
        ],
        Action::ReadStockLedger => &[
            (System, Any),
            (R(Role::Owner), Any),
            (R(Role::Manager), Any),
            (R(Role::Accountant), Any),
            (R(Role::Warehouse), Any),
        ],
        Action::ReadSettings => &[
            (System, Any),
            (R(Role::Owner), Any),
            (R(Role::Manager), Any),
            (R(Role::Support), Any),
            (R(Role::Accountant), Any),
            (R(Role::Warehouse), Any),
        ],
        Action::UpdateSettings => SYSTEM_OWNER,
        Action::PlaceOrder => &[(System, Any), (Who::Customer, Own)],
        Action::ReadOrder => &[
            (System, Any),
            (R(Role::Owner), Any),
            (R(Role::Manager), Any),
            (R(Role::Support), Any),
            (R(Role::Accountant), Any),
            (Who::Customer, Own),
        ],
        Action::ManageCoupons => SYSTEM_OWNER_MANAGER,
        Action::RecordPayment | Action::RefundOrder | Action::IssueInvoice => &[
            (System, Any),
            (R(Role::Owner), Any),
            (R(Role::Manager), Any),
            (R(Role::Accountant), Any),
        ],
        Action::FulfilOrder => &[
            (System, Any),
            (R(Role::Owner), Any),
            (R(Role::Manager), Any),
            (R(Role::Warehouse), Any),
        ],
        // Customers only while unpaid: `OrderRepo::cancel` refuses them a paid order.
        Action::CancelOrder => &[
            (System, Any),
            (R(Role::Owner), Any),
            (R(Role::Manager), Any),
            (R(Role::Support), Any),
            (Who::Customer, Own),
        ],
        Action::ExpireOrders => SYSTEM_OWNER_MANAGER,
        Action::ReadInvoice => &[
            (System, Any),
            (R(Role::Owner), Any),
            (R(Role::Manager), Any),
            (R(Role::Support), Any),
            (R(Role::Accountant), Any),
            (Who::Customer, Own),
        ],
        // Deleting legal records is the owner's decision alone, never an automated job's.
        Action::PurgeInvoices => &[(R(Role::Owner), Any)],
        // Analytics read pseudonymous ids and figures, never personal data: marketing staff
        // and the owner; customers never.
        Action::ReadRfm
        | Action::RefreshScores
        | Action::ReadCohorts
        | Action::ReadAffinity
        | Action::ReadSales
        | Action::ReadAbandonedCarts
        | Action::QueryAudience
        | Action::ExportAnalytics => SYSTEM_OWNER_MARKETING,
        // The contact form is public: visitors and customers alike send it.
        Action::SubmitLead => &[(System, Any), (Who::Customer, Any), (Who::Anonymous, Any)],
        // Leads hold personal data: the staff who answer and nurture them, never customers.
        Action::ReadLead | Action::UpdateLead => &[
            (System, Any),
            (R(Role::Owner), Any),
            (R(Role::Support), Any),
            (R(Role::Marketing), Any),
        ],
        // As for customers: handing out or destroying a person's data is not marketing's call.
        Action::ExportLead => &[
            (System, Any),
            (R(Role::Owner), Any),
            (R(Role::Support), Any),
        ],
        Action::EraseLead => SYSTEM_OWNER,
        // Where the shop's events go, signed with secrets the crate keeps: the owner's
        // decision; the delivery job runs as the system or an owner's API key, like the
        // outbox's consumer.
        Action::ManageWebhooks | Action::DeliverWebhooks => SYSTEM_OWNER,
        // Gateway events come from the host's webhook handler: the system, or an owner's
        // API key for an integration; never staff at a screen, never customers.
        Action::ProcessPaymentEvent => SYSTEM_OWNER,
        // Who may refund may say which lines a gateway's refund was for; who keeps the books
        // reads the reconciliation.
        Action::AllocateGatewayRefund | Action::ReadPayments => &[
            (System, Any),
            (R(Role::Owner), Any),
            (R(Role::Manager), Any),
            (R(Role::Accountant), Any),
        ],
        // A consented contact's personal data handed to the shop's CRM: those who run the
        // shop and its marketing, and the host's sync job; not support (who read single
        // customers to help them), never customers.
        // Marketing mail to consented people: those who run the marketing, and the host's
        // worker; rendering a message reads the recipient's name and address, as the CRM
        // export does.
        Action::ManageCampaigns => SYSTEM_OWNER_MARKETING,
        Action::ExportCrmContact => &[
            (System, Any),
            (R(Role::Owner), Any),
            (R(Role::Manager), Any),
            (R(Role::Marketing), Any),
        ],
        // The suppression list holds no personal data (keyed hashes only) and is marketing's
        // own instrument, as audiences are: marketing staff, the owner, and the system (the
        // host's bounce and complaint processing); never customers.
        Action::ReadSuppressions | Action::ManageSuppressions => SYSTEM_OWNER_MARKETING,
    }
}
