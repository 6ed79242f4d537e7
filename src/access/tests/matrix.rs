//! The authorisation matrix, through the repositories: for every action, every kind of
//! principal, and own / someone else's / missing objects, the call succeeds, answers "not
//! found", or answers "forbidden" exactly as the table below says, and every refusal is audited.
//!
//! The table is written out by hand (it is the specification); the built-in policy must agree
//! with it. `cells` is an exhaustive `match` over `Action`: a new action does not compile until
//! it has a row here.

use std::sync::Mutex;

use crate::access::session::SessionSettings;
use crate::access::{
    Action, ApiKeyId, CustomerId, Decision, DefaultPolicy, NewApiKey, NewStaff, Policy, Principal,
    Request, Role, StaffId,
};
use crate::crypto::{Password, PasswordParams};
use crate::{
    Address, Channel, ConsentRequest, Country, Email, Error, ErrorKind, KeyRing, NewCustomer,
    ProfileUpdate, Store,
};

/// What a principal kind may do: on any object, only on its own, or not at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cell {
    Any,
    Own,
    No,
}
use Cell::{Any, No, Own};

/// The columns of the matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Actor {
    System,
    Staff(Role),
    ApiKey(Role),
    Customer,
    Anonymous,
}

/// Columns: system, owner, manager, support, accountant, warehouse, marketing, customer,
/// anonymous.
fn cells(action: Action) -> [Cell; 9] {
    match action {
        Action::CreateStaff => [Any, Any, No, No, No, No, No, No, No],
        Action::ReadStaff => [Any, Any, Any, Own, Own, Own, Own, No, No],
        Action::ChangeStaffRole => [Any, Any, No, No, No, No, No, No, No],
        Action::DisableStaff => [Any, Any, No, No, No, No, No, No, No],
        Action::ChangeStaffPassword => [No, Own, Own, Own, Own, Own, Own, No, No],
        Action::CreateApiKey => [Any, Any, No, No, No, No, No, No, No],
        Action::ReadApiKey => [Any, Any, No, No, No, No, No, No, No],
        Action::RevokeApiKey => [Any, Any, No, No, No, No, No, No, No],
        Action::ReadAuditLog => [Any, Any, No, No, Any, No, No, No, No],
        Action::ConsumeEvents => [Any, Any, No, No, No, No, No, No, No],
        Action::RegisterCustomer => [Any, Any, Any, Any, No, No, No, No, Any],
        Action::ReadCustomer => [Any, Any, Any, Any, No, No, No, Own, No],
        Action::UpdateCustomer => [Any, Any, Any, Any, No, No, No, Own, No],
        Action::ChangeCustomerPassword => [No, No, No, No, No, No, No, Own, No],
        Action::ManageConsent => [Any, No, No, No, No, No, No, Own, No],
        Action::ExportCustomer => [Any, Any, No, Any, No, No, No, Own, No],
        Action::EraseCustomer => [Any, Any, No, No, No, No, No, Own, No],
        Action::SearchCustomers => [Any, Any, Any, Any, No, No, No, No, No],
        Action::ReadProduct => [Any, Any, Any, Any, Any, Any, Any, Any, Any],
        Action::CreateProduct => [Any, Any, Any, No, No, No, No, No, No],
        Action::UpdateProduct => [Any, Any, Any, No, No, No, No, No, No],
        Action::ArchiveProduct => [Any, Any, Any, No, No, No, No, No, No],
        Action::AdjustStock => [Any, Any, Any, No, No, Any, No, No, No],
        Action::ReadStockLedger => [Any, Any, Any, No, Any, Any, No, No, No],
        Action::ReadSettings => [Any, Any, Any, Any, Any, Any, No, No, No],
        Action::UpdateSettings => [Any, Any, No, No, No, No, No, No, No],
        Action::PlaceOrder => [Any, No, No, No, No, No, No, Own, No],
        Action::ReadOrder => [Any, Any, Any, Any, Any, No, No, Own, No],
        Action::ManageCoupons => [Any, Any, Any, No, No, No, No, No, No],
        Action::RecordPayment => [Any, Any, Any, No, Any, No, No, No, No],
        Action::FulfilOrder => [Any, Any, Any, No, No, Any, No, No, No],
        Action::CancelOrder => [Any, Any, Any, Any, No, No, No, Own, No],
        Action::RefundOrder => [Any, Any, Any, No, Any, No, No, No, No],
        Action::ExpireOrders => [Any, Any, Any, No, No, No, No, No, No],
        Action::IssueInvoice => [Any, Any, Any, No, Any, No, No, No, No],
        Action::ReadInvoice => [Any, Any, Any, Any, Any, No, No, Own, No],
        Action::PurgeInvoices => [No, Any, No, No, No, No, No, No, No],
        Action::ReadRfm
        | Action::RefreshScores
        | Action::ReadCohorts
        | Action::ReadAffinity
        | Action::ReadSales
        | Action::ReadAbandonedCarts
        | Action::QueryAudience
        | Action::ExportAnalytics => [Any, Any, No, No, No, No, Any, No, No],
        Action::SubmitLead => [Any, No, No, No, No, No, No, Any, Any],
        Action::ReadLead | Action::UpdateLead => [Any, Any, No, Any, No, No, Any, No, No],
        Action::ExportLead => [Any, Any, No, Any, No, No, No, No, No],
        Action::EraseLead => [Any, Any, No, No, No, No, No, No, No],
        Action::ManageWebhooks => [Any, Any, No, No, No, No, No, No, No],
        Action::DeliverWebhooks => [Any, Any, No, No, No, No, No, No, No],
        Action::ProcessPaymentEvent => [Any, Any, No, No, No, No, No, No, No],
        Action::AllocateGatewayRefund | Action::ReadPayments => {
            [Any, Any, Any, No, Any, No, No, No, No]
        }
        Action::ExportCrmContact => [Any, Any, Any, No, No, No, Any, No, No],
        Action::ManageCampaigns => [Any, Any, No, No, No, No, Any, No, No],
        Action::ReadSuppressions | Action::ManageSuppressions => {
            [Any, Any, No, No, No, No, Any, No, No]
        }
    }
}

/// Whether `action` works on leads (which nobody owns, customers included).
fn is_lead_action(action: Action) -> bool {
    matches!(
        action,
        Action::SubmitLead
            | Action::ReadLead
            | Action::UpdateLead
            | Action::ExportLead
            | Action::EraseLead
    )
}

/// Whether `action` works on the catalogue or the shop's settings.
fn is_catalog_action(action: Action) -> bool {
    matches!(
        action,
        Action::ReadProduct
            | Action::CreateProduct
            | Action::UpdateProduct
            | Action::ArchiveProduct
            | Action::AdjustStock
            | Action::ReadStockLedger
            | Action::ReadSettings
            | Action::UpdateSettings
    )
}

/// Whether `action` moves one order through its lifecycle (the order's customer owns it).
fn is_order_action(action: Action) -> bool {
    matches!(
        action,
        Action::RecordPayment | Action::FulfilOrder | Action::CancelOrder | Action::RefundOrder
    )
}

/// Whether `action` works on customer accounts (whose owner is a customer, not a staff member).
fn is_customer_action(action: Action) -> bool {
    matches!(
        action,
        Action::RegisterCustomer
            | Action::ReadCustomer
            | Action::UpdateCustomer
            | Action::ChangeCustomerPassword
            | Action::ManageConsent
            | Action::ExportCustomer
            | Action::EraseCustomer
            | Action::SearchCustomers
            | Action::PlaceOrder
            | Action::ReadOrder
    )
}

/// Whether `action` reads the marketing analytics (all on the shop as a whole).
fn is_marketing_action(action: Action) -> bool {
    matches!(
        action,
        Action::ReadRfm
            | Action::RefreshScores
            | Action::ReadCohorts
            | Action::ReadAffinity
            | Action::ReadSales
            | Action::ReadAbandonedCarts
            | Action::QueryAudience
            | Action::ExportAnalytics
            | Action::ManageCampaigns
    )
}

fn cell(action: Action, actor: Actor) -> Cell {
    let [
        system,
        owner,
        manager,
        support,
        accountant,
        warehouse,
        marketing,
        customer,
        anonymous,
    ] = cells(action);
    match actor {
        Actor::System => system,
        Actor::Staff(role) | Actor::ApiKey(role) => match role {
            Role::Owner => owner,
            Role::Manager => manager,
            Role::Support => support,
            Role::Accountant => accountant,
            Role::Warehouse => warehouse,
            Role::Marketing => marketing,
        },
        Actor::Customer => customer,
        Actor::Anonymous => anonymous,
    }
}

/// What the call is made on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    /// The actor's own object (its staff or customer account).
    Own,
    /// Someone else's object.
    Other,
    /// An id that does not exist.
    Missing,
    /// The collection (create, list).
    Collection,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Done,
    NotFound,
    Forbidden,
}

/// Which action reads the objects `action` works on, if it works on single objects.
fn read_action(action: Action) -> Action {
    match action {
        Action::CreateApiKey | Action::ReadApiKey | Action::RevokeApiKey => Action::ReadApiKey,
        Action::ReadProduct
        | Action::CreateProduct
        | Action::UpdateProduct
        | Action::ArchiveProduct => Action::ReadProduct,
        Action::AdjustStock | Action::ReadStockLedger => Action::ReadStockLedger,
        Action::ReadSettings | Action::UpdateSettings => Action::ReadSettings,
        Action::IssueInvoice => Action::ReadOrder,
        Action::ReadInvoice => Action::ReadInvoice,
        // A customer's and a lead's contact alike: who may read customers may read the leads
        // among the actors the matrix runs (support both, the rest neither, or is allowed).
        Action::ExportCrmContact => Action::ReadCustomer,
        a if is_order_action(a) => Action::ReadOrder,
        a if is_customer_action(a) => Action::ReadCustomer,
        a if is_lead_action(a) => Action::ReadLead,
        Action::ManageWebhooks | Action::DeliverWebhooks => Action::ManageWebhooks,
        _ => Action::ReadStaff,
    }
}

fn permitted(cell: Cell, target: Target) -> bool {
    match cell {
        Any => true,
        Own => target == Target::Own,
        No => false,
    }
}

fn expected(action: Action, actor: Actor, target: Target) -> Expect {
    if permitted(cell(action, actor), target) {
        return if target == Target::Missing {
            Expect::NotFound
        } else {
            Expect::Done
        };
    }
    if target == Target::Collection {
        return Expect::Forbidden;
    }
    let read = read_action(action);
    if read != action && permitted(cell(read, actor), target) {
        Expect::Forbidden
    } else {
        Expect::NotFound
    }
}

/// The targets each action is exercised on.
fn targets(action: Action, actor: Actor) -> Vec<Target> {
    let own = if is_customer_action(action) || is_order_action(action) {
        actor == Actor::Customer
    } else {
        matches!(actor, Actor::Staff(_))
    };
    match action {
        Action::CreateStaff
        | Action::CreateApiKey
        | Action::ReadAuditLog
        | Action::ConsumeEvents
        | Action::RegisterCustomer
        | Action::SearchCustomers
        | Action::ManageCoupons
        | Action::ExpireOrders
        | Action::PurgeInvoices => vec![Target::Collection],
        Action::ReadRfm
        | Action::RefreshScores
        | Action::ReadCohorts
        | Action::ReadAffinity
        | Action::ReadSales
        | Action::ReadAbandonedCarts
        | Action::QueryAudience
        | Action::ExportAnalytics
        | Action::ManageCampaigns => vec![Target::Collection],
        // Orders and invoices of other customers are exercised in tests/invoices.rs, which
        // has a shop to place them in.
        Action::IssueInvoice | Action::ReadInvoice => vec![Target::Missing],
        Action::ReadStaff => {
            let mut t = vec![Target::Other, Target::Missing, Target::Collection];
            if own {
                t.push(Target::Own);
            }
            t
        }
        Action::ChangeStaffRole
        | Action::DisableStaff
        | Action::ChangeStaffPassword
        | Action::ReadCustomer
        | Action::UpdateCustomer
        | Action::ChangeCustomerPassword
        | Action::ManageConsent
        | Action::ExportCustomer
        | Action::EraseCustomer
        | Action::PlaceOrder => {
            let mut t = vec![Target::Other, Target::Missing];
            if own {
                t.push(Target::Own);
            }
            t
        }
        Action::RecordPayment | Action::FulfilOrder | Action::CancelOrder | Action::RefundOrder => {
            let mut t = vec![Target::Other, Target::Missing];
            if own {
                t.push(Target::Own);
            }
            t
        }
        Action::ReadOrder => {
            let mut t = vec![Target::Other, Target::Missing, Target::Collection];
            if own {
                t.push(Target::Own);
            }
            t
        }
        Action::ReadApiKey => vec![Target::Other, Target::Missing, Target::Collection],
        Action::RevokeApiKey => vec![Target::Other, Target::Missing],
        Action::ReadProduct => vec![Target::Other, Target::Missing, Target::Collection],
        Action::CreateProduct | Action::ReadSettings | Action::UpdateSettings => {
            vec![Target::Collection]
        }
        Action::UpdateProduct
        | Action::ArchiveProduct
        | Action::AdjustStock
        | Action::ReadStockLedger => vec![Target::Other, Target::Missing],
        Action::SubmitLead => vec![Target::Collection],
        Action::ReadLead => vec![Target::Other, Target::Missing, Target::Collection],
        Action::UpdateLead | Action::ExportLead | Action::EraseLead => {
            vec![Target::Other, Target::Missing]
        }
        Action::ManageWebhooks => vec![Target::Other, Target::Missing, Target::Collection],
        Action::DeliverWebhooks => vec![Target::Collection],
        // The payment records are one resource, owned by nobody.
        Action::ProcessPaymentEvent | Action::AllocateGatewayRefund | Action::ReadPayments => {
            vec![Target::Collection]
        }
        Action::ExportCrmContact => vec![Target::Other, Target::Missing],
        // The suppression list is one resource, owned by nobody.
        Action::ReadSuppressions | Action::ManageSuppressions => vec![Target::Collection],
    }
}

const PASSWORD: &str = "a perfectly long test passphrase";

pub(super) fn test_store(policy: impl Policy) -> Store {
    Store::options()
        .password_params(PasswordParams::insecure_for_tests())
        .policy(policy)
        .sessions(SessionSettings::default())
        .open_in_memory(KeyRing::from_master_key([5; 32]))
        .unwrap()
}

pub(super) fn create_staff(store: &Store, email: &str, role: Role) -> StaffId {
    let system = store.system();
    let new = NewStaff::new(
        Email::parse(email).unwrap(),
        "Test Person",
        role,
        Password::new(PASSWORD),
    )
    .unwrap();
    store.staff(&system).create(new).unwrap().id()
}

pub(super) fn register_customer(store: &Store, email: &str) -> CustomerId {
    let new = NewCustomer::new(
        Email::parse(email).unwrap(),
        Password::new(PASSWORD),
        "Test Customer",
    )
    .unwrap();
    store
        .customers(&Principal::anonymous())
        .register(new)
        .unwrap()
        .id()
}

/// A store with a second owner, a support member, an API key and a customer to act on, and
/// the actor, authenticated the real way (password login and session, or API key).
struct Scene {
    store: Store,
    actor: Principal,
    own: Option<StaffId>,
    own_customer: Option<CustomerId>,
    other_staff: StaffId,
    other_key: ApiKeyId,
    other_customer: CustomerId,
}

fn scene(actor: Actor) -> Scene {
    let store = test_store(DefaultPolicy::new());
    let system = store.system();
    create_staff(&store, "second.owner@example.com", Role::Owner);
    let other_staff = create_staff(&store, "target@example.com", Role::Support);
    let other_key = store
        .api_keys(&system)
        .create(NewApiKey::new("target", Role::Warehouse).unwrap())
        .unwrap()
        .info()
        .id();
    let other_customer = register_customer(&store, "target.customer@example.com");
    let mut own_customer = None;
    let (actor, own) = match actor {
        Actor::System => (system, None),
        Actor::Anonymous => (Principal::anonymous(), None),
        Actor::Customer => {
            let id = register_customer(&store, "actor.customer@example.com");
            own_customer = Some(id);
            let login = store
                .login(
                    &Email::parse("actor.customer@example.com").unwrap(),
                    &Password::new(PASSWORD),
                )
                .unwrap();
            (store.principal_from_session(login.token()).unwrap(), None)
        }
        Actor::Staff(role) => {
            let id = create_staff(&store, "actor@example.com", role);
            let login = store
                .login_staff(
                    &Email::parse("actor@example.com").unwrap(),
                    &Password::new(PASSWORD),
                )
                .unwrap();
            (
                store.principal_from_session(login.token()).unwrap(),
                Some(id),
            )
        }
        Actor::ApiKey(role) => {
            let created = store
                .api_keys(&system)
                .create(NewApiKey::new("actor", role).unwrap())
                .unwrap();
            (
                store.principal_from_api_key(created.secret()).unwrap(),
                None,
            )
        }
    };
    Scene {
        store,
        actor,
        own,
        own_customer,
        other_staff,
        other_key,
        other_customer,
    }
}

fn run(scene: &Scene, action: Action, target: Target) -> Result<(), Error> {
    if is_marketing_action(action) {
        return run_marketing(scene, action);
    }
    if is_lead_action(action) {
        return run_lead(scene, action, target);
    }
    if matches!(action, Action::ManageWebhooks | Action::DeliverWebhooks) {
        return run_webhooks(scene, action, target);
    }
    if matches!(
        action,
        Action::ProcessPaymentEvent | Action::AllocateGatewayRefund | Action::ReadPayments
    ) {
        return run_payments(scene, action);
    }
    if action == Action::ExportCrmContact {
        return run_crm(scene, target);
    }
    if matches!(
        action,
        Action::ReadSuppressions | Action::ManageSuppressions
    ) {
        return run_suppressions(scene, action);
    }
    if is_order_action(action) || action == Action::ExpireOrders {
        return run_order(scene, action, target);
    }
    if is_customer_action(action) {
        return run_customer(scene, action, target);
    }
    if is_catalog_action(action) {
        return run_catalog(scene, action, target);
    }
    let store = &scene.store;
    let missing_staff = StaffId::from_bytes([0xee; 16]);
    let staff_id = match target {
        Target::Own => scene.own.unwrap(),
        Target::Missing => missing_staff,
        _ => scene.other_staff,
    };
    let key_id = match target {
        Target::Missing => ApiKeyId::from_bytes([0xee; 16]),
        _ => scene.other_key,
    };
    let staff = store.staff(&scene.actor);
    let keys = store.api_keys(&scene.actor);
    match action {
        Action::CreateStaff => {
            let new = NewStaff::new(
                Email::parse("new@example.com").unwrap(),
                "New Person",
                Role::Warehouse,
                Password::new(PASSWORD),
            )?;
            staff.create(new).map(drop)
        }
        Action::ReadStaff if target == Target::Collection => staff.list().map(drop),
        Action::ReadStaff => staff.get(staff_id).map(drop),
        Action::ChangeStaffRole => staff.change_role(staff_id, Role::Accountant).map(drop),
        Action::DisableStaff => staff.disable(staff_id),
        Action::ChangeStaffPassword => staff.change_password(
            staff_id,
            &Password::new(PASSWORD),
            &Password::new("another perfectly long passphrase"),
        ),
        Action::CreateApiKey => keys.create(NewApiKey::new("new", Role::Support)?).map(drop),
        Action::ReadApiKey if target == Target::Collection => keys.list().map(drop),
        Action::ReadApiKey => keys.get(key_id).map(drop),
        Action::RevokeApiKey => keys.revoke(key_id),
        Action::ReadAuditLog => {
            let log = store.audit_log(&scene.actor);
            log.list(0, 10)?;
            log.head()?;
            log.verify(None).map(drop)
        }
        Action::ConsumeEvents => {
            let events = store.events(&scene.actor);
            let batch = events.poll(10, std::time::Duration::from_secs(60))?;
            let ids: Vec<_> = batch.iter().map(crate::Event::id).collect();
            events.ack(&ids)
        }
        Action::ManageCoupons => {
            let coupons = store.coupons(&scene.actor);
            let code = crate::CouponCode::parse("WELCOME10")?;
            coupons.create(&crate::Coupon::percent(code, 1000)?)?;
            coupons.list().map(drop)
        }
        Action::IssueInvoice => store
            .invoices(&scene.actor)
            .issue(crate::OrderId::from_bytes([0xee; 16]))
            .map(drop),
        Action::ReadInvoice => store
            .invoices(&scene.actor)
            .get(crate::InvoiceId::from_bytes([0xee; 16]))
            .map(drop),
        Action::PurgeInvoices => store.invoices(&scene.actor).purge_expired().map(drop),
        _ => run_customer(scene, action, target),
    }
}

/// The customer actions of `run`, each through every repository method that authorises it.
fn run_customer(scene: &Scene, action: Action, target: Target) -> Result<(), Error> {
    let store = &scene.store;
    let id = match target {
        Target::Own => scene.own_customer.unwrap(),
        Target::Missing => CustomerId::from_bytes([0xee; 16]),
        _ => scene.other_customer,
    };
    let customers = store.customers(&scene.actor);
    let consents = store.consents(&scene.actor);
    match action {
        Action::RegisterCustomer => {
            let new = NewCustomer::new(
                Email::parse("new.customer@example.com").unwrap(),
                Password::new(PASSWORD),
                "New Customer",
            )?;
            customers.register(new).map(drop)
        }
        Action::SearchCustomers => {
            customers.list(None, 10)?;
            let email = Email::parse("target.customer@example.com").unwrap();
            customers.find_by_email(&email).map(drop)
        }
        Action::ReadCustomer => {
            customers.get(id)?;
            customers.addresses(id)?;
            consents.state(id)?;
            consents.history(id).map(drop)
        }
        Action::UpdateCustomer => {
            customers.update(id, ProfileUpdate::new(1).name("Renamed")?)?;
            let de = Country::parse("DE")?;
            customers
                .add_address(id, Address::new("T. Customer", "Main St 1", "Berlin", de)?)
                .map(drop)
        }
        Action::ChangeCustomerPassword => customers.change_password(
            id,
            &Password::new(PASSWORD),
            &Password::new("another perfectly long passphrase"),
        ),
        Action::ManageConsent => {
            consents.grant(id, ConsentRequest::new(Channel::Sms, "test", "v1")?)?;
            consents.unsubscribe_token(id, Channel::Sms)?;
            consents.withdraw(id, Channel::Sms, "test")
        }
        Action::ExportCustomer => customers.export(id).map(drop),
        Action::EraseCustomer => customers.erase(id),
        Action::PlaceOrder => store
            .carts(&scene.actor)
            .get(crate::CartRef::Customer(id))
            .map(drop),
        Action::ReadOrder if target == Target::Collection => store
            .orders(&scene.actor)
            .list(&crate::OrderQuery::new())
            .map(drop),
        Action::ReadOrder => store.orders(&scene.actor).list_for(id, None, 10).map(drop),
        other => panic!("{other:?} is not a customer action"),
    }
}

/// The marketing actions of `run`, each through the repository method that authorises it, in
/// a shop with settings (written by the system, so they add no denial).
fn run_marketing(scene: &Scene, action: Action) -> Result<(), Error> {
    use crate::marketing::{AudienceQuery, SalesGrouping, SalesQuery};
    let store = &scene.store;
    let system = store.system();
    if store.settings(&system).get().unwrap().is_none() {
        store.settings(&system).update(0, &shop_settings()).unwrap();
    }
    let marketing = store.marketing(&scene.actor);
    let day = crate::Date::new(2026, 1, 1).unwrap();
    match action {
        Action::ReadRfm => marketing.rfm().map(drop),
        Action::RefreshScores => marketing.refresh_scores().map(drop),
        Action::ReadCohorts => marketing.cohorts().map(drop),
        Action::ReadAffinity => marketing.affinity(day, day, 5).map(drop),
        Action::ReadSales => marketing
            .sales(&SalesQuery::new(day, day, SalesGrouping::Day)?)
            .map(drop),
        Action::ReadAbandonedCarts => marketing
            .abandoned_carts(std::time::Duration::from_secs(3600), None, 10)
            .map(drop),
        Action::QueryAudience => marketing
            .audience(&AudienceQuery::new(), None, 10)
            .map(drop),
        Action::ManageCampaigns => store.campaigns(&scene.actor).run_due(10).map(drop),
        #[cfg(feature = "parquet")]
        Action::ExportAnalytics => marketing
            .export_parquet_to(|_| Ok(std::io::sink()))
            .map(drop),
        // Without the feature there is no export to run: ask the policy as it would.
        #[cfg(not(feature = "parquet"))]
        Action::ExportAnalytics => store.read(|tx| {
            tx.authorize(
                &scene.actor,
                Action::ExportAnalytics,
                &crate::access::Resource::Analytics,
            )
        }),
        other => panic!("{other:?} is not a marketing action"),
    }
}

/// The lead actions of `run`, each through every repository method that authorises it, on a
/// lead the system submitted (which adds no denial).
fn run_lead(scene: &Scene, action: Action, target: Target) -> Result<(), Error> {
    use crate::leads::{LeadForm, LeadId, LeadStatus};
    let store = &scene.store;
    let form =
        || LeadForm::new("Lee Lead", "lee@example.com", "Please call me back.").accept_terms(true);
    let id = match target {
        Target::Missing => LeadId::from_bytes([0xee; 16]),
        _ => store.leads(&store.system()).submit(form(), "matrix")?.id(),
    };
    let leads = store.leads(&scene.actor);
    match action {
        Action::SubmitLead => leads.submit(form(), "actor").map(drop),
        Action::ReadLead if target == Target::Collection => {
            leads.list(None, None, 10)?;
            leads.top(10).map(drop)
        }
        Action::ReadLead => {
            leads.get(id)?;
            leads.consent(id)?;
            leads.consent_history(id)?;
            leads.has_marketing_consent(id, Channel::Email)?;
            leads.attachment(id).map(drop)
        }
        Action::UpdateLead => {
            leads.set_status(id, 1, LeadStatus::Contacted)?;
            let visit = crate::leads::Activity::new(crate::leads::ActivityKind::SiteVisit, "v1")?;
            leads.record_activity(id, &visit, store.now())?;
            leads.withdraw_consent(id, Channel::Email, "matrix")
        }
        Action::ExportLead => leads.export(id).map(drop),
        Action::EraseLead => leads.erase(id),
        other => panic!("{other:?} is not a lead action"),
    }
}

/// The CRM export of `run`: a consented customer's and a consented lead's contact, both made
/// by the system (which adds no denial).
fn run_crm(scene: &Scene, target: Target) -> Result<(), Error> {
    use crate::leads::{LeadForm, LeadId};
    let store = &scene.store;
    let system = store.system();
    let (customer, lead) = match target {
        Target::Missing => (
            CustomerId::from_bytes([0xee; 16]),
            LeadId::from_bytes([0xee; 16]),
        ),
        _ => {
            let sms = ConsentRequest::new(Channel::Sms, "matrix", "v1")?;
            store.consents(&system).grant(scene.other_customer, sms)?;
            let form = LeadForm::new("Lee Lead", "lee@example.com", "Please call me back.")
                .accept_terms(true)
                .marketing_opt_in("v1");
            let lead = store.leads(&system).submit(form, "matrix")?.id();
            store.confirm_consent(&store.leads(&system).confirmation_token(lead)?)?;
            (scene.other_customer, lead)
        }
    };
    let crm = store.crm(&scene.actor);
    crm.customer_contact(customer)?;
    crm.lead_contact(lead).map(drop)
}

/// The suppression list actions of `run`, each through every repository method that
/// authorises it, on a list the system put an address on (which adds no denial).
fn run_suppressions(scene: &Scene, action: Action) -> Result<(), Error> {
    use crate::marketing::SuppressionReason;
    let store = &scene.store;
    let bounced = Email::parse("bounced@example.com").unwrap();
    let system = store.system();
    store
        .suppressions(&system)
        .add(&bounced, SuppressionReason::HardBounce, None)?;
    let list = store.suppressions(&scene.actor);
    match action {
        Action::ReadSuppressions => {
            list.contains(&bounced)?;
            list.list(None, 10).map(drop)
        }
        Action::ManageSuppressions => {
            let objected = Email::parse("objected@example.com").unwrap();
            let entry = list.add(&objected, SuppressionReason::Manual, Some("phone call"))?;
            list.remove(&bounced)?;
            list.remove_entry(entry.id()).map(drop)
        }
        other => panic!("{other:?} is not a suppression list action"),
    }
}

/// The webhook actions of `run`, each through every repository method that authorises it, on
/// an endpoint the system registered (which adds no denial).
fn run_webhooks(scene: &Scene, action: Action, target: Target) -> Result<(), Error> {
    use crate::integrations::webhooks::{DeliveryOutcome, EndpointId, NewEndpoint};
    let store = &scene.store;
    let system = store.system();
    let new = || NewEndpoint::new("https://hooks.example.com/matrix", ["lead.submitted"]);
    let id = match target {
        Target::Missing => EndpointId::from_bytes([0xee; 16]),
        _ => store.webhooks(&system).register(new()?)?.endpoint().id(),
    };
    let webhooks = store.webhooks(&scene.actor);
    match action {
        Action::ManageWebhooks if target == Target::Collection => {
            webhooks.register(new()?)?;
            webhooks.list()?;
            webhooks.dead_letters(None, 10).map(drop)
        }
        Action::ManageWebhooks => {
            webhooks.get(id)?;
            webhooks.deliveries(id, None, 10)?;
            webhooks.set_enabled(id, false)?;
            webhooks.delete(id)
        }
        Action::DeliverWebhooks => {
            // A lead for the endpoint to take, so that every job step has work.
            let form =
                crate::leads::LeadForm::new("Lee Lead", "lee@example.com", "Please call me back.")
                    .accept_terms(true);
            store.leads(&system).submit(form, "matrix")?;
            webhooks.fan_out(10)?;
            let due = webhooks.due(10, std::time::Duration::from_secs(30))?;
            for request in due {
                webhooks.report(
                    request.delivery(),
                    request.attempt(),
                    &DeliveryOutcome::status(200)?,
                )?;
            }
            Ok(())
        }
        other => panic!("{other:?} is not a webhook action"),
    }
}

/// The payment gateway actions of `run`, each through every repository method that
/// authorises it; what they act on is prepared by the system (which adds no denial).
fn run_payments(scene: &Scene, action: Action) -> Result<(), Error> {
    use crate::integrations::payments::{
        Gateway, GatewayEvent, GatewayEventKind, GatewayRefund, Outcome,
    };
    let store = &scene.store;
    let system = store.system();
    let payments = store.payments(&scene.actor);
    match action {
        Action::ProcessPaymentEvent => {
            let kind = GatewayEventKind::ignored("customer.created")?;
            let event = GatewayEvent::new(Gateway::STRIPE, "evt_matrix", kind)?;
            payments.process(&event).map(drop)
        }
        Action::AllocateGatewayRefund => {
            let variant = open_shop(store);
            let order = place_order(store, variant, scene.other_customer);
            let payment = crate::Payment::new("pi_matrix", order.total()).unwrap();
            store
                .orders(&system)
                .mark_paid(order.id(), payment)
                .unwrap();
            // The gateway reports a refund made in shopkeep first (linked), then the rest
            // (allocated to the lines left).
            let made = store
                .orders(&system)
                .refund(order.id(), crate::Refund::lines([(0, 1)]))
                .unwrap();
            let queue = |id: &str, total| {
                let refund = GatewayRefund::new("pi_matrix", total).unwrap();
                let kind = GatewayEventKind::Refunded(refund);
                let event = GatewayEvent::new(Gateway::STRIPE, id, kind).unwrap();
                match store.payments(&system).process(&event).unwrap().outcome() {
                    Outcome::RefundQueued { queued, .. } => *queued,
                    other => panic!("not queued: {other:?}"),
                }
            };
            let first = queue("evt_made", made.gross_total());
            let rest = queue("evt_rest", order.total());
            payments.link_refund(first, made.id())?;
            payments
                .allocate_refund(rest, crate::Refund::full())
                .map(drop)
        }
        Action::ReadPayments => {
            payments.refund_queue(None, 10)?;
            payments.disputes(crate::OrderId::from_bytes([0xee; 16]))?;
            let now = store.now();
            let later = now.checked_add(std::time::Duration::from_secs(60))?;
            payments.reconcile(now, later).map(drop)
        }
        other => panic!("{other:?} is not a payment action"),
    }
}

/// A shop that sells one mug: settings and a product with stock (written by the system, so
/// they add no denial).
fn open_shop(store: &Store) -> crate::VariantId {
    use crate::{NewProduct, Sku, StockChange, TaxCategory};
    let system = store.system();
    if store.settings(&system).get().unwrap().is_none() {
        store.settings(&system).update(0, &shop_settings()).unwrap();
    }
    let mug = NewProduct::new(
        Sku::parse("ORDER-MUG").unwrap(),
        "Mug",
        TaxCategory::Standard,
    )
    .unwrap()
    .price(crate::Money::parse("12.90", crate::Currency::EUR).unwrap());
    let variant = store.products(&system).create(mug).unwrap().variants()[0].id();
    store
        .stock(&system)
        .adjust(variant, StockChange::receipt(50))
        .unwrap();
    variant
}

/// An order of `customer` (who gets a shipping address), placed by the system.
fn place_order(store: &Store, variant: crate::VariantId, customer: CustomerId) -> crate::Order {
    let system = store.system();
    let de = Country::parse("DE").unwrap();
    let address = Address::new("T. Customer", "Main St 1", "Berlin", de).unwrap();
    let added = store
        .customers(&system)
        .add_address(customer, address)
        .unwrap();
    store
        .customers(&system)
        .set_default_address(customer, added.id(), crate::AddressKind::Shipping)
        .unwrap();
    store
        .carts(&system)
        .add(crate::CartRef::Customer(customer), variant, 2)
        .unwrap();
    let key = crate::IdempotencyKey::new(&format!("matrix-{customer}")).unwrap();
    store
        .orders(&system)
        .checkout(crate::Checkout::from_cart(customer, key))
        .unwrap()
        .into_order()
}

/// The order lifecycle actions of `run`, each through every repository method that
/// authorises it, on an order in the state the method moves on from (prepared by the system).
fn run_order(scene: &Scene, action: Action, target: Target) -> Result<(), Error> {
    let store = &scene.store;
    let system = store.system();
    let orders = store.orders(&scene.actor);
    if action == Action::ExpireOrders {
        return orders
            .expire_unpaid(std::time::Duration::from_secs(3600))
            .map(drop);
    }
    let variant = open_shop(store);
    let customer = match target {
        Target::Own => scene.own_customer.unwrap(),
        _ => scene.other_customer,
    };
    let order = place_order(store, variant, customer);
    let id = match target {
        Target::Missing => crate::OrderId::from_bytes([0xee; 16]),
        _ => order.id(),
    };
    let pay = || {
        let payment = crate::Payment::new("psp_matrix", order.total()).unwrap();
        store
            .orders(&system)
            .mark_paid(order.id(), payment)
            .unwrap();
    };
    match action {
        Action::RecordPayment => orders
            .mark_paid(id, crate::Payment::new("psp_1", order.total())?)
            .map(drop),
        Action::FulfilOrder => {
            pay();
            orders.ship(id, crate::Shipment::new())?;
            orders.complete(id).map(drop)
        }
        Action::CancelOrder => orders.cancel(id, "changed my mind").map(drop),
        Action::RefundOrder => {
            pay();
            orders.refund(id, crate::Refund::full()).map(drop)
        }
        other => panic!("{other:?} is not an order action"),
    }
}

fn denials(store: &Store) -> usize {
    let system = store.system();
    store
        .audit_log(&system)
        .list(0, 10_000)
        .unwrap()
        .iter()
        .filter(|e| e.outcome() == crate::Outcome::Denied)
        .count()
}

fn actors() -> Vec<Actor> {
    let mut all = vec![Actor::System, Actor::Customer, Actor::Anonymous];
    for role in Role::ALL {
        all.push(Actor::Staff(role));
        all.push(Actor::ApiKey(role));
    }
    all
}

#[test]
fn every_action_for_every_principal_on_every_kind_of_object() {
    let mut checked = 0;
    for &action in Action::ALL {
        for actor in actors() {
            for target in targets(action, actor) {
                let scene = scene(actor);
                let before = denials(&scene.store);
                let outcome = run(&scene, action, target);
                let got = match &outcome {
                    Ok(()) => Expect::Done,
                    Err(e) if e.kind() == ErrorKind::NotFound => Expect::NotFound,
                    Err(e) if e.kind() == ErrorKind::Forbidden => Expect::Forbidden,
                    Err(e) => panic!("{action:?} by {actor:?} on {target:?}: unexpected {e}"),
                };
                let want = expected(action, actor, target);
                assert_eq!(
                    got, want,
                    "{action:?} by {actor:?} on {target:?}: {outcome:?}"
                );
                let refused = !permitted(cell(action, actor), target);
                let audited = denials(&scene.store) - before;
                assert_eq!(
                    audited,
                    usize::from(refused),
                    "{action:?} by {actor:?} on {target:?}: denials audited"
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 240, "only {checked} cases");
}

#[test]
fn hidden_and_missing_objects_answer_with_the_same_words() {
    let scene = scene(Actor::Staff(Role::Warehouse));
    let hidden = run(&scene, Action::ReadStaff, Target::Other).unwrap_err();
    let missing = run(&scene, Action::ReadStaff, Target::Missing).unwrap_err();
    assert_eq!(hidden.to_string(), missing.to_string());
    let hidden = run(&scene, Action::RevokeApiKey, Target::Other).unwrap_err();
    let missing = run(&scene, Action::RevokeApiKey, Target::Missing).unwrap_err();
    assert_eq!(hidden.to_string(), missing.to_string());
}

#[test]
fn the_built_in_policy_agrees_with_the_table() {
    let policy = DefaultPolicy::new();
    for &action in Action::ALL {
        for actor in actors() {
            let scene_principal = match actor {
                Actor::System => Principal::system(),
                Actor::Anonymous => Principal::anonymous(),
                Actor::Customer => Principal::customer(CustomerId::from_bytes([1; 16])),
                Actor::Staff(role) => Principal::staff(StaffId::from_bytes([2; 16]), role),
                Actor::ApiKey(role) => Principal::api_key(ApiKeyId::from_bytes([3; 16]), role),
            };
            let customers = is_customer_action(action) || is_order_action(action);
            let order = |byte| crate::Resource::Order {
                id: crate::OrderId::from_bytes([9; 16]),
                customer: Some(CustomerId::from_bytes([byte; 16])),
            };
            let (own, other) = if is_order_action(action) {
                (order(1), order(4))
            } else if customers {
                (
                    crate::Resource::Customer(CustomerId::from_bytes([1; 16])),
                    crate::Resource::Customer(CustomerId::from_bytes([4; 16])),
                )
            } else {
                (
                    crate::Resource::Staff(StaffId::from_bytes([2; 16])),
                    crate::Resource::Staff(StaffId::from_bytes([4; 16])),
                )
            };
            let decide =
                |r| policy.decide(&Request::new(&scene_principal, action, r)) == Decision::Allow;
            let want = cell(action, actor);
            let owner = if customers {
                actor == Actor::Customer
            } else {
                matches!(actor, Actor::Staff(_))
            };
            let own_expected = owner && want != No;
            assert_eq!(decide(&other), want == Any, "{action:?} {actor:?} other");
            assert_eq!(
                decide(&own),
                want == Any || own_expected && want == Own,
                "{action:?} {actor:?} own"
            );
        }
    }
}

/// Records every action asked of the policy, then answers like the default policy.
#[derive(Debug, Default)]
struct Recording {
    asked: Mutex<Vec<Action>>,
    inner: DefaultPolicy,
}

impl Policy for std::sync::Arc<Recording> {
    fn decide(&self, request: &Request<'_>) -> Decision {
        self.asked.lock().unwrap().push(request.action());
        self.inner.decide(request)
    }
}

#[test]
fn every_repository_method_asks_for_exactly_its_action() {
    let recording = std::sync::Arc::new(Recording::default());
    let store = test_store(std::sync::Arc::clone(&recording));
    let take = || std::mem::take(&mut *recording.asked.lock().unwrap());
    let system = store.system();
    let staff = store.staff(&system);
    let keys = store.api_keys(&system);
    let log = store.audit_log(&system);

    let expect = |what: &str, result: Result<(), Error>, action: Option<Action>| {
        let asked = take();
        let distinct: std::collections::BTreeSet<_> = asked.iter().copied().collect();
        let want: std::collections::BTreeSet<_> = action.into_iter().collect();
        assert_eq!(distinct, want, "{what} asked for {asked:?} ({result:?})");
    };

    let email = Email::parse("rec@example.com").unwrap();
    let new = NewStaff::new(
        email.clone(),
        "Rec Ord",
        Role::Owner,
        Password::new(PASSWORD),
    )
    .unwrap();
    let id = staff.create(new).unwrap().id();
    expect("staff.create", Ok(()), Some(Action::CreateStaff));
    let second = NewStaff::new(
        Email::parse("two@example.com").unwrap(),
        "Two",
        Role::Owner,
        Password::new(PASSWORD),
    )
    .unwrap();
    staff.create(second).unwrap();
    take();
    expect(
        "staff.get",
        staff.get(id).map(drop),
        Some(Action::ReadStaff),
    );
    expect(
        "staff.list",
        staff.list().map(drop),
        Some(Action::ReadStaff),
    );
    expect(
        "staff.change_role",
        staff.change_role(id, Role::Manager).map(drop),
        Some(Action::ChangeStaffRole),
    );
    // A staff member changes their own password (the system may not: a refusal also asks
    // whether the object is visible at all, which would muddy the count).
    let own = store
        .login_staff(&email, &Password::new(PASSWORD))
        .unwrap()
        .into_parts()
        .0;
    take();
    let pw = Password::new(PASSWORD);
    let result =
        store
            .staff(&own)
            .change_password(id, &pw, &Password::new("yet another long passphrase"));
    expect(
        "staff.change_password",
        result,
        Some(Action::ChangeStaffPassword),
    );
    expect(
        "staff.disable",
        staff.disable(id),
        Some(Action::DisableStaff),
    );

    let created = keys
        .create(NewApiKey::new("k", Role::Support).unwrap())
        .unwrap();
    expect("api_keys.create", Ok(()), Some(Action::CreateApiKey));
    expect(
        "api_keys.list",
        keys.list().map(drop),
        Some(Action::ReadApiKey),
    );
    expect(
        "api_keys.get",
        keys.get(created.info().id()).map(drop),
        Some(Action::ReadApiKey),
    );
    expect(
        "api_keys.revoke",
        keys.revoke(created.info().id()),
        Some(Action::RevokeApiKey),
    );

    expect(
        "audit_log.list",
        log.list(0, 5).map(drop),
        Some(Action::ReadAuditLog),
    );
    expect(
        "audit_log.head",
        log.head().map(drop),
        Some(Action::ReadAuditLog),
    );
    expect(
        "audit_log.verify",
        log.verify(None).map(drop),
        Some(Action::ReadAuditLog),
    );

    // Authentication is not authorisation: it asks the policy nothing.
    let login = store.login_staff(
        &Email::parse("two@example.com").unwrap(),
        &Password::new(PASSWORD),
    );
    let token = login.unwrap().into_parts().1;
    expect("login_staff", Ok(()), None);
    expect(
        "principal_from_session",
        store.principal_from_session(&token).map(drop),
        None,
    );
    expect("logout", store.logout(&token), None);
    expect(
        "principal_from_api_key",
        store.principal_from_api_key(created.secret()).map(drop),
        None,
    );

    every_customer_method_asks_for_exactly_its_action(&store, &expect, take);
}

/// Checks that one call asked the policy for exactly one action (or none).
type ExpectFn<'a> = &'a dyn Fn(&str, Result<(), Error>, Option<Action>);

fn every_customer_method_asks_for_exactly_its_action(
    store: &Store,
    expect: ExpectFn<'_>,
    take: impl Fn() -> Vec<Action>,
) {
    let system = store.system();
    let customers = store.customers(&system);
    let consents = store.consents(&system);
    let email = Email::parse("rec.customer@example.com").unwrap();
    let new = NewCustomer::new(email.clone(), Password::new(PASSWORD), "Rec").unwrap();
    let id = customers.register(new).unwrap().id();
    expect("customers.register", Ok(()), Some(Action::RegisterCustomer));
    expect(
        "customers.get",
        customers.get(id).map(drop),
        Some(Action::ReadCustomer),
    );
    expect(
        "customers.find_by_email",
        customers.find_by_email(&email).map(drop),
        Some(Action::SearchCustomers),
    );
    expect(
        "customers.list",
        customers.list(None, 5).map(drop),
        Some(Action::SearchCustomers),
    );
    let change = ProfileUpdate::new(1).name("Rec Ord").unwrap();
    expect(
        "customers.update",
        customers.update(id, change).map(drop),
        Some(Action::UpdateCustomer),
    );
    let de = Country::parse("DE").unwrap();
    let address = Address::new("Rec", "Main St 1", "Berlin", de).unwrap();
    let added = customers.add_address(id, address.clone()).unwrap();
    expect(
        "customers.add_address",
        Ok(()),
        Some(Action::UpdateCustomer),
    );
    expect(
        "customers.addresses",
        customers.addresses(id).map(drop),
        Some(Action::ReadCustomer),
    );
    expect(
        "customers.update_address",
        customers.update_address(id, added.id(), address).map(drop),
        Some(Action::UpdateCustomer),
    );
    expect(
        "customers.set_default_address",
        customers.set_default_address(id, added.id(), crate::AddressKind::Shipping),
        Some(Action::UpdateCustomer),
    );
    expect(
        "customers.remove_address",
        customers.remove_address(id, added.id()),
        Some(Action::UpdateCustomer),
    );
    let request = ConsentRequest::new(Channel::Email, "test", "v1").unwrap();
    let confirmation = consents.grant(id, request).unwrap().unwrap();
    expect("consents.grant", Ok(()), Some(Action::ManageConsent));
    expect(
        "consents.state",
        consents.state(id).map(drop),
        Some(Action::ReadCustomer),
    );
    expect(
        "consents.history",
        consents.history(id).map(drop),
        Some(Action::ReadCustomer),
    );
    let unsubscribe = consents.unsubscribe_token(id, Channel::Email).unwrap();
    expect(
        "consents.unsubscribe_token",
        Ok(()),
        Some(Action::ManageConsent),
    );
    expect(
        "consents.withdraw",
        consents.withdraw(id, Channel::Post, "test"),
        Some(Action::ManageConsent),
    );
    expect(
        "customers.export",
        customers.export(id).map(drop),
        Some(Action::ExportCustomer),
    );

    // The customer changes their own password (nobody else may).
    let (me, _) = store
        .login(&email, &Password::new(PASSWORD))
        .unwrap()
        .into_parts();
    take();
    let result = store.customers(&me).change_password(
        id,
        &Password::new(PASSWORD),
        &Password::new("yet another long passphrase"),
    );
    expect(
        "customers.change_password",
        result,
        Some(Action::ChangeCustomerPassword),
    );

    // Token flows and logins authenticate; they ask the policy nothing.
    expect(
        "confirm_consent",
        store.confirm_consent(&confirmation),
        None,
    );
    expect("unsubscribe", store.unsubscribe(&unsubscribe), None);
    let reset = store.request_password_reset(&email).unwrap().unwrap();
    expect("request_password_reset", Ok(()), None);
    let pw = Password::new("a reset long passphrase");
    expect("reset_password", store.reset_password(&reset, &pw), None);
    expect("login", store.login(&email, &pw).map(drop), None);

    expect(
        "customers.erase",
        customers.erase(id),
        Some(Action::EraseCustomer),
    );
}

/// Valid shop settings, for the settings actions.
fn shop_settings() -> crate::ShopSettings {
    let de = Country::parse("DE").unwrap();
    let seller = crate::Seller::new(
        "Test GmbH",
        crate::PostalAddress::new("Main St 1", "10115", "Berlin", de).unwrap(),
        crate::Contact::new(
            "Olga",
            crate::Phone::parse("+49 30 1234567").unwrap(),
            Email::parse("olga@example.com").unwrap(),
        )
        .unwrap(),
    )
    .unwrap()
    .tax_number("27/123/45678")
    .unwrap()
    .registration("HRB 12345, Amtsgericht Berlin")
    .unwrap();
    let table = crate::TaxTable::new().country(
        de,
        crate::CountryTaxes::new(crate::TaxRate::parse("19").unwrap()),
    );
    crate::ShopSettings::builder(seller, crate::PriceMode::TaxInclusive, crate::Currency::EUR)
        .tax_table(table)
        .invoice_issue(crate::InvoiceIssue::AtCheckout)
        .build()
        .unwrap()
}

/// The catalogue and settings actions of `run`, each through every repository method that
/// authorises it. The product acted on is created first by the system (an allowed write, so
/// it adds no denial to the count).
fn run_catalog(scene: &Scene, action: Action, target: Target) -> Result<(), Error> {
    use crate::{
        NewProduct, ProductId, ProductQuery, ProductUpdate, Sku, StockChange, TaxCategory,
        VariantId,
    };
    let store = &scene.store;
    let system = store.system();
    let made = store.products(&system).create(NewProduct::new(
        Sku::parse("MUG-1")?,
        "Mug",
        TaxCategory::Standard,
    )?)?;
    let (product, variant) = match target {
        Target::Missing => (
            ProductId::from_bytes([0xee; 16]),
            VariantId::from_bytes([0xee; 16]),
        ),
        _ => (made.id(), made.variants()[0].id()),
    };
    let products = store.products(&scene.actor);
    let stock = store.stock(&scene.actor);
    let settings = store.settings(&scene.actor);
    match action {
        Action::ReadProduct if target == Target::Collection => {
            products.list(&ProductQuery::new())?;
            products.search("mug", 10)?;
            products.get_by_sku(&Sku::parse("MUG-1")?).map(drop)
        }
        Action::ReadProduct => products.get(product).map(drop),
        Action::CreateProduct => {
            let new = NewProduct::new(Sku::parse("NEW-1")?, "New", TaxCategory::Reduced)?;
            products.create(new).map(drop)
        }
        Action::UpdateProduct => products
            .update(product, 1, ProductUpdate::new().name("Renamed"))
            .map(drop),
        Action::ArchiveProduct => {
            products.archive(product, 1)?;
            products.restore(product, 2).map(drop)
        }
        Action::AdjustStock => stock.adjust(variant, StockChange::receipt(5)).map(drop),
        Action::ReadStockLedger => stock.ledger(variant, 0, 10).map(drop),
        Action::ReadSettings => settings.get().map(drop),
        Action::UpdateSettings => settings.update(0, &shop_settings()).map(drop),
        other => panic!("{other:?} is not a catalogue action"),
    }
}

#[test]
fn every_marketing_method_asks_for_exactly_its_action() {
    use crate::marketing::{AudienceQuery, SalesGrouping, SalesQuery};
    let recording = std::sync::Arc::new(Recording::default());
    let store = test_store(std::sync::Arc::clone(&recording));
    let system = store.system();
    store.settings(&system).update(0, &shop_settings()).unwrap();
    let take = || std::mem::take(&mut *recording.asked.lock().unwrap());
    take();
    let expect = |what: &str, result: Result<(), Error>, action: Action| {
        let asked = take();
        let distinct: std::collections::BTreeSet<_> = asked.iter().copied().collect();
        assert_eq!(
            distinct,
            [action].into(),
            "{what} asked for {asked:?} ({result:?})"
        );
        result.unwrap();
    };
    let marketing = store.marketing(&system);
    let day = crate::Date::new(2026, 1, 1).unwrap();
    expect("rfm", marketing.rfm().map(drop), Action::ReadRfm);
    expect(
        "refresh_scores",
        marketing.refresh_scores().map(drop),
        Action::RefreshScores,
    );
    expect(
        "cohorts",
        marketing.cohorts().map(drop),
        Action::ReadCohorts,
    );
    expect(
        "affinity",
        marketing.affinity(day, day, 3).map(drop),
        Action::ReadAffinity,
    );
    let query = SalesQuery::new(day, day, SalesGrouping::Month).unwrap();
    expect(
        "sales",
        marketing.sales(&query).map(drop),
        Action::ReadSales,
    );
    expect(
        "abandoned_carts",
        marketing
            .abandoned_carts(std::time::Duration::from_secs(60), None, 5)
            .map(drop),
        Action::ReadAbandonedCarts,
    );
    expect(
        "audience",
        marketing.audience(&AudienceQuery::new(), None, 5).map(drop),
        Action::QueryAudience,
    );
    let campaigns = store.campaigns(&system);
    expect(
        "run_due",
        campaigns.run_due(5).map(drop),
        Action::ManageCampaigns,
    );
    expect(
        "policy",
        campaigns.policy().map(drop),
        Action::ManageCampaigns,
    );
    expect(
        "scores",
        marketing.scores(None, 5).map(drop),
        Action::ReadRfm,
    );
    #[cfg(feature = "parquet")]
    expect(
        "export_parquet_to",
        marketing
            .export_parquet_to(|_| Ok(std::io::sink()))
            .map(drop),
        Action::ExportAnalytics,
    );
    let list = store.suppressions(&system);
    let email = Email::parse("bounced@example.com").unwrap();
    let manage = Action::ManageSuppressions;
    let read = Action::ReadSuppressions;
    let added = list.add(&email, crate::marketing::SuppressionReason::Complaint, None);
    let id = added.as_ref().map(crate::marketing::Suppression::id).ok();
    expect("suppressions.add", added.map(drop), manage);
    expect(
        "suppressions.contains",
        list.contains(&email).map(drop),
        read,
    );
    expect("suppressions.list", list.list(None, 5).map(drop), read);
    expect("suppressions.remove", list.remove(&email).map(drop), manage);
    expect(
        "suppressions.remove_entry",
        list.remove_entry(id.unwrap()).map(drop),
        manage,
    );
}

#[test]
fn every_catalog_method_asks_for_exactly_its_action() {
    use crate::{NewProduct, ProductQuery, ProductUpdate, Sku, StockChange, TaxCategory};
    let recording = std::sync::Arc::new(Recording::default());
    let store = test_store(std::sync::Arc::clone(&recording));
    let take = || std::mem::take(&mut *recording.asked.lock().unwrap());
    let expect = |what: &str, result: Result<(), Error>, action: Action| {
        let asked = take();
        let distinct: std::collections::BTreeSet<_> = asked.iter().copied().collect();
        assert_eq!(
            distinct,
            [action].into(),
            "{what} asked for {asked:?} ({result:?})"
        );
        result.unwrap();
    };
    let system = store.system();
    let products = store.products(&system);
    let stock = store.stock(&system);
    let settings = store.settings(&system);

    let new = NewProduct::new(Sku::parse("MUG-1").unwrap(), "Mug", TaxCategory::Standard).unwrap();
    let created = products.create(new);
    let (id, variant) = match &created {
        Ok(p) => (p.id(), p.variants()[0].id()),
        Err(e) => panic!("{e}"),
    };
    expect("products.create", created.map(drop), Action::CreateProduct);
    expect(
        "products.get",
        products.get(id).map(drop),
        Action::ReadProduct,
    );
    let sku = Sku::parse("MUG-1").unwrap();
    expect(
        "products.get_by_sku",
        products.get_by_sku(&sku).map(drop),
        Action::ReadProduct,
    );
    expect(
        "products.list",
        products.list(&ProductQuery::new()).map(drop),
        Action::ReadProduct,
    );
    expect(
        "products.search",
        products.search("mug", 5).map(drop),
        Action::ReadProduct,
    );
    let update = ProductUpdate::new().description("Stoneware");
    expect(
        "products.update",
        products.update(id, 1, update).map(drop),
        Action::UpdateProduct,
    );
    expect(
        "products.archive",
        products.archive(id, 2).map(drop),
        Action::ArchiveProduct,
    );
    expect(
        "products.restore",
        products.restore(id, 3).map(drop),
        Action::ArchiveProduct,
    );
    let receipt = StockChange::receipt(3);
    expect(
        "stock.adjust",
        stock.adjust(variant, receipt).map(drop),
        Action::AdjustStock,
    );
    expect(
        "stock.ledger",
        stock.ledger(variant, 0, 5).map(drop),
        Action::ReadStockLedger,
    );
    expect(
        "settings.get",
        settings.get().map(drop),
        Action::ReadSettings,
    );
    let saved = settings.update(0, &shop_settings()).map(drop);
    expect("settings.update", saved, Action::UpdateSettings);
}

#[test]
fn every_order_method_asks_for_exactly_its_action() {
    use crate::{
        CartRef, Checkout, Coupon, CouponCode, IdempotencyKey, NewProduct, OrderQuery, Sku,
        StockChange, TaxCategory,
    };
    let recording = std::sync::Arc::new(Recording::default());
    let store = test_store(std::sync::Arc::clone(&recording));
    let take = || std::mem::take(&mut *recording.asked.lock().unwrap());
    let expect = |what: &str, result: Result<(), Error>, action: Option<Action>| {
        let asked = take();
        let distinct: std::collections::BTreeSet<_> = asked.iter().copied().collect();
        let want: std::collections::BTreeSet<_> = action.into_iter().collect();
        assert_eq!(distinct, want, "{what} asked for {asked:?} ({result:?})");
        result.unwrap();
    };
    let system = store.system();
    store.settings(&system).update(0, &shop_settings()).unwrap();
    let mug = NewProduct::new(Sku::parse("MUG-1").unwrap(), "Mug", TaxCategory::Standard)
        .unwrap()
        .price(crate::Money::parse("12.90", crate::Currency::EUR).unwrap());
    let variant = store.products(&system).create(mug).unwrap().variants()[0].id();
    store
        .stock(&system)
        .adjust(variant, StockChange::receipt(5))
        .unwrap();
    let id = register_customer(&store, "orders.customer@example.com");
    let de = Country::parse("DE").unwrap();
    store
        .customers(&system)
        .add_address(
            id,
            Address::new("T. Customer", "Main St 1", "Berlin", de).unwrap(),
        )
        .unwrap();
    take();

    let carts = store.carts(&system);
    let orders = store.orders(&system);
    let coupons = store.coupons(&system);
    let me = CartRef::Customer(id);
    let place = Some(Action::PlaceOrder);
    expect("carts.get", carts.get(me).map(drop), place);
    expect("carts.add", carts.add(me, variant, 2).map(drop), place);
    expect(
        "carts.set_quantity",
        carts.set_quantity(me, variant, 1).map(drop),
        place,
    );
    expect(
        "carts.preview",
        carts.preview(me, None, None).map(drop),
        place,
    );
    let guest = carts.open_guest().unwrap();
    expect("carts.open_guest", Ok(()), None);
    let token = guest.token();
    expect(
        "carts.add (guest)",
        carts.add(CartRef::Guest(token), variant, 1).map(drop),
        None,
    );
    expect("carts.merge", carts.merge(token, id).map(drop), place);
    let code = CouponCode::parse("TEN").unwrap();
    let coupon = Coupon::percent(code.clone(), 1000).unwrap();
    expect(
        "coupons.create",
        coupons.create(&coupon).map(drop),
        Some(Action::ManageCoupons),
    );
    expect(
        "coupons.list",
        coupons.list().map(drop),
        Some(Action::ManageCoupons),
    );
    let key = IdempotencyKey::new("k1").unwrap();
    let order = orders.checkout(Checkout::from_cart(id, key).coupon(code));
    let order_id = order.as_ref().map(|o| o.order().id()).ok();
    expect("orders.checkout", order.map(drop), place);
    let read = Some(Action::ReadOrder);
    expect("orders.get", orders.get(order_id.unwrap()).map(drop), read);
    expect(
        "orders.list_for",
        orders.list_for(id, None, 10).map(drop),
        read,
    );
    expect(
        "orders.list",
        orders.list(&OrderQuery::new()).map(drop),
        read,
    );
    expect("carts.remove", carts.remove(me, variant).map(drop), place);

    let invoices = store.invoices(&system);
    let issue = invoices.issue(order_id.unwrap());
    let invoice = issue.as_ref().map(crate::Invoice::id).ok();
    let number = issue
        .as_ref()
        .map(|i| i.number().to_owned())
        .unwrap_or_default();
    expect(
        "invoices.issue",
        issue.map(drop),
        Some(Action::IssueInvoice),
    );
    let read_invoice = Some(Action::ReadInvoice);
    expect(
        "invoices.get",
        invoices.get(invoice.unwrap()).map(drop),
        read_invoice,
    );
    expect(
        "invoices.by_number",
        invoices.by_number(&number).map(drop),
        read_invoice,
    );
    expect(
        "invoices.for_order",
        invoices.for_order(order_id.unwrap()).map(drop),
        read_invoice,
    );
    create_staff(&store, "purger@example.com", Role::Owner);
    let login = store
        .login_staff(
            &Email::parse("purger@example.com").unwrap(),
            &Password::new(PASSWORD),
        )
        .unwrap();
    let owner = store.principal_from_session(login.token()).unwrap();
    take();
    expect(
        "invoices.purge_expired",
        store.invoices(&owner).purge_expired().map(drop),
        Some(Action::PurgeInvoices),
    );
    let order_id = order_id.unwrap();
    let total = orders.get(order_id).unwrap().total();
    take();
    let payment = crate::Payment::new("psp_rec", total).unwrap();
    expect(
        "orders.mark_paid",
        orders.mark_paid(order_id, payment).map(drop),
        Some(Action::RecordPayment),
    );
    expect("orders.payment", orders.payment(order_id).map(drop), read);
    let refund = crate::Refund::lines([(0, 1)]).restock(true);
    expect(
        "orders.refund",
        orders.refund(order_id, refund).map(drop),
        Some(Action::RefundOrder),
    );
    expect("orders.refunds", orders.refunds(order_id).map(drop), read);
    let fulfil = Some(Action::FulfilOrder);
    expect(
        "orders.ship",
        orders.ship(order_id, crate::Shipment::new()).map(drop),
        fulfil,
    );
    expect(
        "orders.complete",
        orders.complete(order_id).map(drop),
        fulfil,
    );
    carts.add(me, variant, 1).unwrap();
    let key = IdempotencyKey::new("k2").unwrap();
    let second = orders
        .checkout(Checkout::from_cart(id, key))
        .unwrap()
        .into_order()
        .id();
    take();
    expect(
        "orders.cancel",
        orders.cancel(second, "test").map(drop),
        Some(Action::CancelOrder),
    );
    expect(
        "orders.expire_unpaid",
        orders
            .expire_unpaid(std::time::Duration::from_secs(60))
            .map(drop),
        Some(Action::ExpireOrders),
    );
}

#[test]
fn every_webhook_method_asks_for_exactly_its_action() {
    use crate::integrations::webhooks::{DeliveryOutcome, NewEndpoint};
    let recording = std::sync::Arc::new(Recording::default());
    let store = test_store(std::sync::Arc::clone(&recording));
    let take = || std::mem::take(&mut *recording.asked.lock().unwrap());
    let expect = |what: &str, result: Result<(), Error>, action: Option<Action>| {
        let asked = take();
        let distinct: std::collections::BTreeSet<_> = asked.iter().copied().collect();
        let want: std::collections::BTreeSet<_> = action.into_iter().collect();
        assert_eq!(distinct, want, "{what} asked for {asked:?} ({result:?})");
        result.unwrap();
    };
    let system = store.system();
    let webhooks = store.webhooks(&system);
    let manage = Some(Action::ManageWebhooks);
    let deliver = Some(Action::DeliverWebhooks);
    let new = NewEndpoint::new("https://hooks.example.com/", ["lead.submitted"]).unwrap();
    let registered = webhooks.register(new);
    let id = registered.as_ref().map(|r| r.endpoint().id()).unwrap();
    expect("webhooks.register", registered.map(drop), manage);
    let form = crate::leads::LeadForm::new("Lee Lead", "lee@example.com", "Please call me back.")
        .accept_terms(true);
    store.leads(&system).submit(form, "recording").unwrap();
    take();
    expect("webhooks.fan_out", webhooks.fan_out(10).map(drop), deliver);
    let due = webhooks.due(10, std::time::Duration::from_secs(30));
    let request = due.as_ref().map(|d| d[0].clone()).unwrap();
    expect("webhooks.due", due.map(drop), deliver);
    let outcome = DeliveryOutcome::status(500).unwrap();
    let reported = webhooks.report(request.delivery(), request.attempt(), &outcome);
    expect("webhooks.report", reported.map(drop), deliver);
    let delivery = request.delivery();
    expect("webhooks.get", webhooks.get(id).map(drop), manage);
    expect("webhooks.list", webhooks.list().map(drop), manage);
    expect(
        "webhooks.delivery",
        webhooks.delivery(delivery).map(drop),
        manage,
    );
    expect(
        "webhooks.deliveries",
        webhooks.deliveries(id, None, 10).map(drop),
        manage,
    );
    expect(
        "webhooks.attempts",
        webhooks.attempts(delivery).map(drop),
        manage,
    );
    expect(
        "webhooks.dead_letters",
        webhooks.dead_letters(None, 10).map(drop),
        manage,
    );
    let requeue = webhooks.requeue(delivery).map(drop);
    assert_eq!(
        requeue.as_ref().map_err(Error::kind),
        Err(ErrorKind::InvalidTransition)
    );
    expect("webhooks.requeue", Ok(()), manage);
    expect(
        "webhooks.set_enabled",
        webhooks.set_enabled(id, false).map(drop),
        manage,
    );
    expect("webhooks.delete", webhooks.delete(id), manage);
}

#[test]
fn every_lead_consent_score_and_crm_method_asks_for_exactly_its_action() {
    use crate::leads::{Activity, ActivityKind, LeadForm};
    let recording = std::sync::Arc::new(Recording::default());
    let store = test_store(std::sync::Arc::clone(&recording));
    let take = || std::mem::take(&mut *recording.asked.lock().unwrap());
    let expect = |what: &str, result: Result<(), Error>, action: Option<Action>| {
        let asked = take();
        let distinct: std::collections::BTreeSet<_> = asked.iter().copied().collect();
        let want: std::collections::BTreeSet<_> = action.into_iter().collect();
        assert_eq!(distinct, want, "{what} asked for {asked:?} ({result:?})");
        result.unwrap();
    };
    let system = store.system();
    let leads = store.leads(&system);
    let form = LeadForm::new("Lee Lead", "lee@example.com", "Please call me back.")
        .accept_terms(true)
        .marketing_opt_in("v1");
    let id = leads.submit(form, "recording").unwrap().id();
    expect("leads.submit", Ok(()), Some(Action::SubmitLead));
    let read = Some(Action::ReadLead);
    let update = Some(Action::UpdateLead);
    let token = leads.confirmation_token(id).unwrap();
    expect("leads.confirmation_token", Ok(()), update);
    // The link's holder is nobody: confirming asks the policy nothing.
    expect("confirm_consent", store.confirm_consent(&token), None);
    expect("leads.consent", leads.consent(id).map(drop), read);
    expect(
        "leads.consent_history",
        leads.consent_history(id).map(drop),
        read,
    );
    expect(
        "leads.has_marketing_consent",
        leads.has_marketing_consent(id, Channel::Email).map(drop),
        read,
    );
    let visit = Activity::new(ActivityKind::SiteVisit, "v1").unwrap();
    expect(
        "leads.record_activity",
        leads.record_activity(id, &visit, store.now()).map(drop),
        update,
    );
    expect("leads.top", leads.top(10).map(drop), read);
    let crm = store.crm(&system);
    expect(
        "crm.lead_contact",
        crm.lead_contact(id).map(drop),
        Some(Action::ExportCrmContact),
    );
    expect(
        "leads.withdraw_consent",
        leads.withdraw_consent(id, Channel::Email, "recording"),
        update,
    );
    let new = NewCustomer::new(
        Email::parse("crm@example.com").unwrap(),
        Password::new(PASSWORD),
        "Crm Contact",
    )
    .unwrap();
    let customer = store.customers(&system).register(new).unwrap().id();
    let post = ConsentRequest::new(Channel::Post, "recording", "v1").unwrap();
    store.consents(&system).grant(customer, post).unwrap();
    take();
    expect(
        "crm.customer_contact",
        crm.customer_contact(customer).map(drop),
        Some(Action::ExportCrmContact),
    );
}
