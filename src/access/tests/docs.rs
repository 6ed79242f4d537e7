//! Keeps `docs/access-control.md` true: its permission matrix is rendered from the built-in
//! grants and must appear in the guide exactly, and each cell must be what the built-in policy
//! decides.

use crate::access::policy::builtin_grants;
use crate::access::{
    Action, ApiKeyId, CustomerId, Decision, DefaultPolicy, Policy, Principal, Request, Resource,
    Role, Scope, StaffId, Who,
};

const GUIDE: &str = include_str!("../../../docs/access-control.md");
const SCHEMA: &str = include_str!("../../store/schema/0003_access.sql");

/// The matrix's columns, in order, with their headings.
fn columns() -> Vec<(&'static str, Who)> {
    let mut columns = vec![("system", Who::System)];
    columns.extend(Role::ALL.iter().map(|&r| (r.as_str(), Who::Role(r))));
    columns.push(("customer", Who::Customer));
    columns.push(("anonymous", Who::Anonymous));
    columns
}

/// One cell: `✓` for any resource, `own` for the principal's own resources only, `—` for none.
fn cell(action: Action, who: Who) -> &'static str {
    let grants = builtin_grants(action);
    if grants.contains(&(who, Scope::Any)) {
        "✓"
    } else if grants.contains(&(who, Scope::Own)) {
        "own"
    } else {
        "—"
    }
}

/// The permission matrix of the built-in policy as a markdown table: one row per action in
/// `Action::ALL` order, one column per principal kind or role.
fn render_matrix() -> String {
    let columns = columns();
    let mut out = String::from("| action |");
    for (heading, _) in &columns {
        out.push_str(&format!(" {heading} |"));
    }
    out.push_str("\n|---|");
    out.push_str(&"---|".repeat(columns.len()));
    out.push('\n');
    for &action in Action::ALL {
        out.push_str(&format!("| `{}` |", action.as_str()));
        for &(_, who) in &columns {
            out.push_str(&format!(" {} |", cell(action, who)));
        }
        out.push('\n');
    }
    out
}

/// The table in the guide that starts with the matrix's heading row: that line and every
/// following line that is part of the table.
fn table_in_guide() -> String {
    let heading = render_matrix()
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();
    let starts: Vec<usize> = GUIDE
        .lines()
        .enumerate()
        .filter(|(_, line)| line.trim_end() == heading)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(
        starts.len(),
        1,
        "the guide must hold exactly one permission matrix"
    );
    let mut table = String::new();
    for line in GUIDE.lines().skip(starts[0]) {
        if !line.starts_with('|') {
            break;
        }
        table.push_str(line);
        table.push('\n');
    }
    table
}

#[test]
fn the_guide_holds_exactly_the_rendered_matrix() {
    let rendered = render_matrix();
    assert!(
        GUIDE.contains(&rendered),
        "docs/access-control.md is out of date; its matrix must read:\n\n{rendered}"
    );
    assert_eq!(
        table_in_guide(),
        rendered,
        "the guide's matrix has rows the built-in policy does not"
    );
}

#[test]
fn the_rendered_matrix_has_a_row_per_action_and_a_column_per_principal() {
    let rendered = render_matrix();
    let lines: Vec<&str> = rendered.lines().collect();
    assert_eq!(lines.len(), Action::ALL.len() + 2);
    for line in &lines {
        assert_eq!(line.matches('|').count(), 11, "{line}");
    }
    assert_eq!(
        lines[0],
        "| action | system | owner | manager | support | accountant | warehouse | marketing | customer | anonymous |"
    );
    for (line, action) in lines.iter().skip(2).zip(Action::ALL) {
        assert!(
            line.starts_with(&format!("| `{}` |", action.as_str())),
            "{line}"
        );
    }
}

/// A staff member, a customer with the same id bytes, and resources of every kind.
struct Fixture {
    me: StaffId,
    me_customer: CustomerId,
    resources: Vec<Resource>,
}

fn fixture() -> Fixture {
    let me = StaffId::from_bytes([1; 16]);
    let me_customer = CustomerId::from_bytes([1; 16]);
    Fixture {
        me,
        me_customer,
        resources: vec![
            Resource::Staff(me),
            Resource::Staff(StaffId::from_bytes([2; 16])),
            Resource::StaffDirectory,
            Resource::ApiKey(ApiKeyId::from_bytes([1; 16])),
            Resource::ApiKeys,
            Resource::AuditLog,
            Resource::Outbox,
            Resource::Customer(me_customer),
            Resource::Customer(CustomerId::from_bytes([2; 16])),
            Resource::Customers,
            Resource::Product(crate::ProductId::from_bytes([1; 16])),
            Resource::Catalog,
            Resource::Stock(crate::VariantId::from_bytes([1; 16])),
            Resource::Settings,
            Resource::Order {
                id: crate::OrderId::from_bytes([1; 16]),
                customer: Some(me_customer),
            },
            Resource::Orders,
            Resource::Coupons,
            Resource::WebhookEndpoint(crate::integrations::webhooks::EndpointId::from_bytes(
                [1; 16],
            )),
            Resource::Webhooks,
        ],
    }
}

/// The one resource a principal of column `who` owns: a staff member's own account, a
/// customer's own customer account (anything else owns nothing; `AuditLog` stands for that).
fn own_resource(f: &Fixture, who: Who) -> Resource {
    match who {
        Who::Role(_) => Resource::Staff(f.me),
        Who::Customer => Resource::Customer(f.me_customer),
        _ => Resource::AuditLog,
    }
}

fn decide(principal: &Principal, action: Action, resource: &Resource) -> Decision {
    DefaultPolicy::new().decide(&Request::new(principal, action, resource))
}

#[test]
fn every_cell_is_what_the_builtin_policy_decides() {
    let f = fixture();
    for &action in Action::ALL {
        for (heading, who) in columns() {
            let principal = match who {
                Who::System => Principal::system(),
                Who::Role(role) => Principal::staff(f.me, role),
                Who::Customer => Principal::customer(f.me_customer),
                Who::Anonymous => Principal::anonymous(),
            };
            let cell = cell(action, who);
            for resource in &f.resources {
                let expected = match cell {
                    "✓" => Decision::Allow,
                    "own" if *resource == own_resource(&f, who) => Decision::Allow,
                    // A customer's orders are theirs too.
                    "own"
                        if who == Who::Customer
                            && matches!(resource, Resource::Order { customer: Some(c), .. } if *c == f.me_customer) =>
                    {
                        Decision::Allow
                    }
                    _ => Decision::Deny,
                };
                assert_eq!(
                    decide(&principal, action, resource),
                    expected,
                    "{action} by {heading} on {resource}: the matrix says {cell}"
                );
            }
        }
    }
}

/// The guide says API keys act with their role's column; an API key owns no staff account, so
/// an `own` cell gives it nothing.
#[test]
fn api_keys_act_with_their_roles_column() {
    let f = fixture();
    for &action in Action::ALL {
        for role in Role::ALL {
            // Same id bytes as the staff member `me`, to show that bytes do not make an owner.
            let key = Principal::api_key(ApiKeyId::from_bytes([1; 16]), role);
            let cell = cell(action, Who::Role(role));
            for resource in &f.resources {
                let expected = if cell == "✓" {
                    Decision::Allow
                } else {
                    Decision::Deny
                };
                assert_eq!(
                    decide(&key, action, resource),
                    expected,
                    "{action} by an API key with role {role} on {resource}: the matrix says {cell}"
                );
            }
        }
    }
}

/// Names the guide relies on exist where it says they do.
#[test]
fn the_guide_names_real_things() {
    for trigger in [
        "shopkeep_audit_no_update",
        "shopkeep_audit_no_delete",
        "shopkeep_audit_append_only",
    ] {
        assert!(GUIDE.contains(trigger), "the guide does not name {trigger}");
        assert!(
            SCHEMA.contains(&format!("CREATE TRIGGER {trigger}")),
            "no trigger {trigger}"
        );
    }
    assert!(SCHEMA.contains("'the audit log is append-only'"));
    assert!(GUIDE.contains("the audit log is append-only"));
    for action in Action::ALL {
        assert!(
            GUIDE.contains(&format!("`{}`", action.as_str())),
            "{action}"
        );
    }
    for role in Role::ALL {
        assert!(GUIDE.contains(&format!("`{}`", role.as_str())), "{role}");
    }
    assert!(
        GUIDE.contains("shopkeep v1 audit mac"),
        "the audit key's HKDF label"
    );
    assert!(GUIDE.contains("shk_<12 hex digits>_<43 characters>"));
}
