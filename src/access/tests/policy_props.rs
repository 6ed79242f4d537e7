//! Property tests of [`DefaultPolicy`]: deny by default, explicit denials win, rule order does
//! not matter, more permissions never take one away, and the built-in matrix gives the system
//! principal what it says.
//!
//! Decisions are checked against a reference matcher written here from the documented
//! semantics, using only the principals' and resources' public accessors, not the policy's own
//! matching code.

use std::collections::BTreeSet;

use proptest::prelude::*;

use crate::access::policy::builtin_grants;
use crate::access::{
    Action, ApiKeyId, CustomerId, Decision, DefaultPolicy, Policy, Principal, PrincipalKind,
    Request, Resource, Role, Rule, Scope, StaffId, Who,
};

// ---------------------------------------------------------------------------------------------
// The reference model.

/// Whether `who` names `principal`: by kind, and for staff and API keys by role.
fn who_matches(who: Who, principal: &Principal) -> bool {
    match who {
        Who::Anonymous => principal.kind() == PrincipalKind::Anonymous,
        Who::Customer => principal.kind() == PrincipalKind::Customer,
        Who::System => principal.kind() == PrincipalKind::System,
        Who::Role(role) => {
            matches!(
                principal.kind(),
                PrincipalKind::Staff | PrincipalKind::ApiKey
            ) && principal.role() == Some(role)
        }
    }
}

/// Whether `principal` owns `resource`: a staff member their own staff account, a customer
/// their own customer account. A principal of another kind whose id has the same bytes owns
/// nothing; an API key owns nothing at all. (A new resource with an
/// owner must be added here; until it is, the properties below fail on its own-scope rules.)
fn owns(principal: &Principal, resource: &Resource) -> bool {
    match resource {
        Resource::Staff(id) => principal.staff_id() == Some(*id),
        Resource::Customer(id) => principal.customer_id() == Some(*id),
        Resource::Order {
            customer: Some(id), ..
        } => principal.customer_id() == Some(*id),
        _ => false,
    }
}

/// Whether one rule, written as a tuple, covers the request.
fn rule_matches(rule: (Who, Action, Scope), req: &Req) -> bool {
    let (who, action, scope) = rule;
    action == req.action
        && who_matches(who, &req.principal)
        && match scope {
            Scope::Any => true,
            Scope::Own => owns(&req.principal, &req.resource),
        }
}

/// The documented decision: allowed iff some allow rule matches and no deny rule does.
fn reference(
    allows: &[(Who, Action, Scope)],
    denies: &[(Who, Action, Scope)],
    req: &Req,
) -> Decision {
    let denied = denies.iter().any(|&r| rule_matches(r, req));
    let allowed = allows.iter().any(|&r| rule_matches(r, req));
    if allowed && !denied {
        Decision::Allow
    } else {
        Decision::Deny
    }
}

fn build(allows: &[(Who, Action, Scope)], denies: &[(Who, Action, Scope)]) -> DefaultPolicy {
    let policy = allows
        .iter()
        .fold(DefaultPolicy::deny_all(), |p, &(w, a, s)| p.allow(w, a, s));
    denies.iter().fold(policy, |p, &(w, a, s)| p.deny(w, a, s))
}

/// An owned request (the policy's `Request` borrows).
#[derive(Debug, Clone)]
struct Req {
    principal: Principal,
    action: Action,
    resource: Resource,
}

impl Req {
    fn decide(&self, policy: &impl Policy) -> Decision {
        policy.decide(&Request::new(&self.principal, self.action, &self.resource))
    }
}

// ---------------------------------------------------------------------------------------------
// Generators.

/// Ids from a pool of three, so that principals often own the resource (and customers and API
/// keys often share bytes with a staff id), or now and then any 16 bytes.
fn id_bytes() -> impl Strategy<Value = [u8; 16]> {
    prop_oneof![
        4 => (0u8..3).prop_map(|n| [n; 16]),
        1 => any::<[u8; 16]>(),
    ]
}

fn role() -> impl Strategy<Value = Role> {
    prop::sample::select(Role::ALL.to_vec())
}

fn action() -> impl Strategy<Value = Action> {
    prop::sample::select(Action::ALL.to_vec())
}

fn who() -> impl Strategy<Value = Who> {
    prop_oneof![
        Just(Who::Anonymous),
        Just(Who::Customer),
        Just(Who::System),
        role().prop_map(Who::Role),
    ]
}

fn scope() -> impl Strategy<Value = Scope> {
    prop_oneof![Just(Scope::Any), Just(Scope::Own)]
}

fn rule() -> impl Strategy<Value = (Who, Action, Scope)> {
    (who(), action(), scope())
}

fn rules(max: usize) -> impl Strategy<Value = Vec<(Who, Action, Scope)>> {
    prop::collection::vec(rule(), 0..max)
}

fn principal() -> impl Strategy<Value = Principal> {
    prop_oneof![
        Just(Principal::anonymous()),
        Just(Principal::system()),
        id_bytes().prop_map(|b| Principal::customer(CustomerId::from_bytes(b))),
        (id_bytes(), role()).prop_map(|(b, r)| Principal::staff(StaffId::from_bytes(b), r)),
        (id_bytes(), role()).prop_map(|(b, r)| Principal::api_key(ApiKeyId::from_bytes(b), r)),
    ]
}

/// Resources, including the acting staff member's or customer's own account when there is one.
fn resource(own: Option<Resource>) -> BoxedStrategy<Resource> {
    let others = prop_oneof![
        id_bytes().prop_map(|b| Resource::Staff(StaffId::from_bytes(b))),
        Just(Resource::StaffDirectory),
        id_bytes().prop_map(|b| Resource::ApiKey(ApiKeyId::from_bytes(b))),
        Just(Resource::ApiKeys),
        Just(Resource::AuditLog),
        Just(Resource::Outbox),
        id_bytes().prop_map(|b| Resource::Customer(CustomerId::from_bytes(b))),
        Just(Resource::Customers),
        id_bytes().prop_map(|b| Resource::Product(crate::ProductId::from_bytes(b))),
        Just(Resource::Catalog),
        id_bytes().prop_map(|b| Resource::Stock(crate::VariantId::from_bytes(b))),
        Just(Resource::Settings),
        (id_bytes(), id_bytes()).prop_map(|(o, c)| Resource::Order {
            id: crate::OrderId::from_bytes(o),
            customer: Some(CustomerId::from_bytes(c)),
        }),
        Just(Resource::Orders),
        Just(Resource::Coupons),
    ];
    match own {
        Some(mine) => prop_oneof![2 => Just(mine), 5 => others].boxed(),
        None => others.boxed(),
    }
}

fn request() -> impl Strategy<Value = Req> {
    principal().prop_flat_map(|principal| {
        let own = principal
            .staff_id()
            .map(Resource::Staff)
            .or(principal.customer_id().map(Resource::Customer));
        (Just(principal), action(), resource(own)).prop_map(|(principal, action, resource)| Req {
            principal,
            action,
            resource,
        })
    })
}

/// Every combination of a fixed set of principals, actions and resources (24 principals × every action × 12 resources),
/// with ids shared across kinds, for properties that must hold for *every* request.
fn universe() -> Vec<Req> {
    let ids = [[0u8; 16], [1; 16]];
    let mut principals = vec![Principal::anonymous(), Principal::system()];
    for bytes in ids {
        principals.push(Principal::customer(CustomerId::from_bytes(bytes)));
        for role in Role::ALL {
            principals.push(Principal::staff(StaffId::from_bytes(bytes), role));
            principals.push(Principal::api_key(ApiKeyId::from_bytes(bytes), role));
        }
    }
    let resources = [
        Resource::Staff(StaffId::from_bytes([0; 16])),
        Resource::Staff(StaffId::from_bytes([1; 16])),
        Resource::Staff(StaffId::from_bytes([2; 16])),
        Resource::StaffDirectory,
        Resource::ApiKey(ApiKeyId::from_bytes([0; 16])),
        Resource::ApiKey(ApiKeyId::from_bytes([1; 16])),
        Resource::ApiKeys,
        Resource::AuditLog,
        Resource::Outbox,
        Resource::Customer(CustomerId::from_bytes([0; 16])),
        Resource::Customer(CustomerId::from_bytes([1; 16])),
        Resource::Customers,
        Resource::Product(crate::ProductId::from_bytes([1; 16])),
        Resource::Catalog,
        Resource::Stock(crate::VariantId::from_bytes([1; 16])),
        Resource::Settings,
        Resource::Order {
            id: crate::OrderId::from_bytes([1; 16]),
            customer: Some(CustomerId::from_bytes([1; 16])),
        },
        Resource::Orders,
        Resource::Coupons,
    ];
    let mut all = Vec::new();
    for principal in &principals {
        for &action in Action::ALL {
            for resource in &resources {
                all.push(Req {
                    principal: principal.clone(),
                    action,
                    resource: resource.clone(),
                });
            }
        }
    }
    all
}

/// A rule that certainly matches `req`: its principal's `Who`, its action, and `Own` when the
/// principal owns the resource (or at random `Any`).
fn matching_rule(req: &Req, prefer_own: bool) -> (Who, Action, Scope) {
    let who = match (req.principal.kind(), req.principal.role()) {
        (PrincipalKind::Anonymous, _) => Who::Anonymous,
        (PrincipalKind::Customer, _) => Who::Customer,
        (PrincipalKind::System, _) => Who::System,
        (_, Some(role)) => Who::Role(role),
        (kind, None) => unreachable!("a {kind:?} principal without a role"),
    };
    let scope = if prefer_own && owns(&req.principal, &req.resource) {
        Scope::Own
    } else {
        Scope::Any
    };
    (who, req.action, scope)
}

// ---------------------------------------------------------------------------------------------
// Sanity of the reference model itself, on hand-picked cases.

#[test]
fn the_reference_model_agrees_with_hand_picked_cases() {
    let me = StaffId::from_bytes([1; 16]);
    let support = Principal::staff(me, Role::Support);
    let key_same_bytes = Principal::api_key(ApiKeyId::from_bytes([1; 16]), Role::Support);
    let customer_same_bytes = Principal::customer(CustomerId::from_bytes([1; 16]));
    let mine = Resource::Staff(me);
    let theirs = Resource::Staff(StaffId::from_bytes([2; 16]));
    assert!(owns(&support, &mine));
    assert!(!owns(&support, &theirs));
    assert!(
        !owns(&key_same_bytes, &mine),
        "an API key owns no staff account"
    );
    assert!(
        !owns(&customer_same_bytes, &mine),
        "a customer owns no staff account"
    );
    assert!(who_matches(Who::Role(Role::Support), &key_same_bytes));
    assert!(!who_matches(Who::Role(Role::Owner), &support));
    assert!(!who_matches(Who::Customer, &Principal::anonymous()));

    let policy =
        DefaultPolicy::deny_all().allow(Who::Role(Role::Support), Action::ReadStaff, Scope::Own);
    let decide =
        |p: &Principal, r: &Resource| policy.decide(&Request::new(p, Action::ReadStaff, r));
    assert_eq!(decide(&support, &mine), Decision::Allow);
    assert_eq!(decide(&support, &theirs), Decision::Deny);
    assert_eq!(decide(&key_same_bytes, &mine), Decision::Deny);
    assert_eq!(
        decide(&Principal::staff(me, Role::Manager), &mine),
        Decision::Deny,
        "another role's own-scope rule does not apply"
    );
}

// ---------------------------------------------------------------------------------------------
// The properties.

proptest! {
    /// (a) With no rules, nothing is allowed, whoever asks.
    #[test]
    fn deny_all_denies_every_request(req in request()) {
        prop_assert_eq!(req.decide(&DefaultPolicy::deny_all()), Decision::Deny);
    }

    /// (a) A policy of allow rules allows exactly the requests some rule matches.
    #[test]
    fn allow_rules_allow_exactly_what_they_match(allows in rules(24), req in request()) {
        let policy = build(&allows, &[]);
        prop_assert_eq!(req.decide(&policy), reference(&allows, &[], &req));
    }

    /// (a) The same, for every request of the universe, with deny rules too.
    #[test]
    fn decisions_match_the_reference_for_every_request(allows in rules(24), denies in rules(6)) {
        let policy = build(&allows, &denies);
        for req in universe() {
            prop_assert_eq!(req.decide(&policy), reference(&allows, &denies, &req), "{:?}", req);
        }
    }

    /// (a) A rule added for the request itself allows it (when nothing denies it): the
    /// generated rules are not merely failing to match.
    #[test]
    fn a_matching_allow_rule_allows(allows in rules(12), req in request(), prefer_own in any::<bool>()) {
        let mut allows = allows;
        allows.push(matching_rule(&req, prefer_own));
        prop_assert_eq!(req.decide(&build(&allows, &[])), Decision::Allow);
    }

    /// (b) A deny rule that matches the request wins over any allow rules, wherever it is.
    #[test]
    fn a_matching_deny_beats_every_allow(
        allows in rules(24),
        denies in rules(6),
        req in request(),
        prefer_own in any::<bool>(),
        position in any::<prop::sample::Index>(),
    ) {
        let mut allows = allows;
        // Make sure the request would be allowed without the denial.
        allows.push(matching_rule(&req, !prefer_own));
        let mut denies = denies;
        denies.insert(position.index(denies.len() + 1), matching_rule(&req, prefer_own));
        prop_assert_eq!(req.decide(&build(&allows, &denies)), Decision::Deny);
        // The built-in matrix with the same denial: denied too.
        let (w, a, s) = matching_rule(&req, prefer_own);
        prop_assert_eq!(req.decide(&DefaultPolicy::new().deny(w, a, s)), Decision::Deny);
    }

    /// (b) Denials are also added after allows in any interleaving of builder calls; a deny
    /// given before the allow still wins.
    #[test]
    fn deny_wins_whatever_the_builder_order(req in request(), prefer_own in any::<bool>()) {
        let (w, a, s) = matching_rule(&req, prefer_own);
        let deny_first = DefaultPolicy::deny_all().deny(w, a, s).allow(w, a, Scope::Any).allow(w, a, s);
        let deny_last = DefaultPolicy::deny_all().allow(w, a, Scope::Any).allow(w, a, s).deny(w, a, s);
        prop_assert_eq!(req.decide(&deny_first), Decision::Deny);
        prop_assert_eq!(req.decide(&deny_last), Decision::Deny);
    }

    /// (c) Shuffling the rules (and repeating some) changes no decision.
    #[test]
    fn rule_order_does_not_matter(
        (allows, shuffled_allows) in rules(24).prop_flat_map(|v| (Just(v.clone()), Just(v).prop_shuffle())),
        (denies, shuffled_denies) in rules(6).prop_flat_map(|v| (Just(v.clone()), Just(v).prop_shuffle())),
        duplicate in any::<prop::sample::Index>(),
    ) {
        let original = build(&allows, &denies);
        let mut shuffled_allows = shuffled_allows;
        if !shuffled_allows.is_empty() {
            let again = shuffled_allows[duplicate.index(shuffled_allows.len())];
            shuffled_allows.push(again);
        }
        let shuffled = build(&shuffled_allows, &shuffled_denies);
        for req in universe() {
            prop_assert_eq!(req.decide(&original), req.decide(&shuffled), "{:?}", req);
        }
    }

    /// (d) Without deny rules, one more allow rule never turns an Allow into a Deny, and it
    /// adds exactly the requests it matches.
    #[test]
    fn adding_an_allow_is_monotone_without_denies(allows in rules(24), extra in rule()) {
        let before = build(&allows, &[]);
        let mut more = allows.clone();
        more.push(extra);
        let after = build(&more, &[]);
        for req in universe() {
            let (b, a) = (req.decide(&before), req.decide(&after));
            if b == Decision::Allow {
                prop_assert_eq!(a, Decision::Allow, "{:?}", req);
            }
            let expected = if b == Decision::Allow || rule_matches(extra, &req) {
                Decision::Allow
            } else {
                Decision::Deny
            };
            prop_assert_eq!(a, expected, "{:?}", req);
        }
    }

    /// (d) With the deny rules held fixed, one more allow rule never turns an Allow into a Deny,
    /// and never allows what a denial covers.
    #[test]
    fn adding_an_allow_is_monotone_with_fixed_denies(
        allows in rules(24),
        denies in rules(6),
        extra in rule(),
    ) {
        let before = build(&allows, &denies);
        let mut more = allows.clone();
        more.push(extra);
        let after = build(&more, &denies);
        for req in universe() {
            if req.decide(&before) == Decision::Allow {
                prop_assert_eq!(req.decide(&after), Decision::Allow, "{:?}", req);
            }
            if denies.iter().any(|&d| rule_matches(d, &req)) {
                prop_assert_eq!(req.decide(&after), Decision::Deny, "{:?}", req);
            }
        }
    }

    /// (d) The built-in matrix adjusted with more allows keeps everything it allowed.
    #[test]
    fn adding_to_the_builtin_matrix_takes_nothing_away(extra in rules(6), req in request()) {
        let builtin = DefaultPolicy::new();
        let adjusted = extra.iter().fold(DefaultPolicy::new(), |p, &(w, a, s)| p.allow(w, a, s));
        if req.decide(&builtin) == Decision::Allow {
            prop_assert_eq!(req.decide(&adjusted), Decision::Allow);
        }
    }

    /// (e) The built-in policy decides every request as its matrix says.
    #[test]
    fn the_builtin_policy_is_its_matrix(req in request()) {
        let grants: Vec<(Who, Action, Scope)> = Action::ALL
            .iter()
            .flat_map(|&a| builtin_grants(a).iter().map(move |&(w, s)| (w, a, s)))
            .collect();
        prop_assert_eq!(req.decide(&DefaultPolicy::new()), reference(&grants, &[], &req));
    }

    /// (e) The system principal may do everything the matrix grants it, on any resource, and
    /// nothing else.
    #[test]
    fn the_system_principal_gets_what_the_matrix_grants(action in action(), resource in resource(None)) {
        let system = Principal::system();
        let granted = builtin_grants(action)
            .iter()
            .any(|&(who, scope)| who == Who::System && scope == Scope::Any);
        let decision = DefaultPolicy::new().decide(&Request::new(&system, action, &resource));
        prop_assert_eq!(decision == Decision::Allow, granted, "{:?} on {:?}", action, resource);
    }
}

/// Actions the built-in matrix deliberately withholds from the system principal. Changing a
/// password is self-service (the current password is required) and the system owns no account;
/// deleting legal records past their retention is a person's (the owner's) decision.
/// A new action withheld from the system must be added here on purpose.
const WITHHELD_FROM_SYSTEM: &[Action] = &[
    Action::ChangeStaffPassword,
    Action::ChangeCustomerPassword,
    Action::PurgeInvoices,
];

#[test]
fn the_system_principal_may_do_everything_but_the_deliberate_exceptions() {
    let system = Principal::system();
    let policy = DefaultPolicy::new();
    for req in universe() {
        if req.principal != system {
            continue;
        }
        let expected = if WITHHELD_FROM_SYSTEM.contains(&req.action) {
            Decision::Deny
        } else {
            Decision::Allow
        };
        assert_eq!(req.decide(&policy), expected, "{req:?}");
    }
    let withheld: BTreeSet<Action> = Action::ALL
        .iter()
        .copied()
        .filter(|&a| !builtin_grants(a).contains(&(Who::System, Scope::Any)))
        .collect();
    assert_eq!(withheld, WITHHELD_FROM_SYSTEM.iter().copied().collect());
    // The system never acts under `Own`: it owns nothing, so such a grant would be dead.
    for &action in Action::ALL {
        assert!(
            !builtin_grants(action).contains(&(Who::System, Scope::Own)),
            "{action}: an own-scope grant to the system principal can never apply"
        );
    }
}

#[test]
fn the_builtin_allow_rules_are_the_matrix() {
    let from_matrix: Vec<Rule> = Action::ALL
        .iter()
        .flat_map(|&a| {
            builtin_grants(a)
                .iter()
                .map(move |&(w, s)| Rule::new(w, a, s))
        })
        .collect();
    assert_eq!(DefaultPolicy::new().allow_rules(), from_matrix.as_slice());
    assert!(DefaultPolicy::deny_all().allow_rules().is_empty());
    assert_eq!(
        DefaultPolicy::default().allow_rules(),
        DefaultPolicy::new().allow_rules()
    );
}
