//! Campaigns and flows end to end on a real database file with a manual clock: the
//! abandoned-cart flow (two reminders, then checkout stops it), consent re-checked at send
//! time, quiet hours, the frequency cap, a campaign to an audience with two workers at once,
//! rendering, click tracking and last-click attribution.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::time::Duration;

use mail_parser::MessageParser;
use shopkeep::Email;
use shopkeep::ErrorKind;
use shopkeep::Store;
use shopkeep::campaigns::{
    Campaign, CampaignStatus, FlowStep, FlowTrigger, MessageId, MessageTemplate, NewCampaign,
    NewFlow, SendPolicy, TrackingLinks,
};
use shopkeep::catalog::TaxCategory;
use shopkeep::customers::{Channel, ConsentRequest};
use shopkeep::integrations::email::{Composer, LinkBase, Sender, UnsubscribeLinks};
use shopkeep::marketing::AudienceQuery;
use shopkeep::orders::{Checkout, PriceMode};
use shopkeep::{Principal, access::CustomerId};

use common::{Shop, customer, eur, fill, key, pay, place, product, shop};

const HOUR: Duration = Duration::from_secs(3600);

fn reminder() -> MessageTemplate {
    MessageTemplate::new(
        "{{ name }}, your cart is waiting",
        "{% for line in cart %}{{ line.quantity }} x {{ line.name }}\n{% endfor %}Back to it: {{ track('https://shop.example/cart') }}",
        "<ul>{% for line in cart %}<li>{{ line.name }}</li>{% endfor %}</ul><a href=\"{{ track('https://shop.example/cart') }}\">Back</a>",
    )
    .unwrap()
}

/// Registers a customer with a confirmed email marketing consent.
fn consenting(store: &Store, email: &str) -> (Principal, CustomerId) {
    let buyer = customer(store, email, "DE");
    let id = buyer.customer_id().unwrap();
    let system = store.system();
    let token = store
        .consents(&system)
        .grant(
            id,
            ConsentRequest::new(Channel::Email, "checkout", "v1").unwrap(),
        )
        .unwrap()
        .unwrap();
    store.confirm_consent(&token).unwrap();
    (buyer, id)
}

/// The `message.queued` events in the outbox, oldest first, as JSON.
fn queued(store: &Store) -> Vec<serde_json::Value> {
    common::db::texts(
        store,
        "SELECT data FROM shopkeep_outbox WHERE type = 'message.queued' ORDER BY seq",
    )
    .iter()
    .map(|d| serde_json::from_str(d).unwrap())
    .collect()
}

/// Creates campaign `name` and schedules it now to every scored customer.
fn send_now(store: &Store, name: &str, template: MessageTemplate) -> Campaign {
    let system = store.system();
    let campaigns = store.campaigns(&system);
    let draft = campaigns
        .create_campaign(NewCampaign::new(name, template).unwrap())
        .unwrap();
    campaigns
        .schedule(
            draft.id(),
            draft.version(),
            &AudienceQuery::new(),
            store.now(),
        )
        .unwrap()
}

fn message_id(event: &serde_json::Value) -> MessageId {
    MessageId::parse(event["message_id"].as_str().unwrap()).unwrap()
}

fn composer(store: &Store) -> Composer {
    Composer::new(
        Sender::new("Beispiel Shop", Email::parse("news@shop.example").unwrap()).unwrap(),
        store.now(),
    )
}

fn unsubscribe() -> UnsubscribeLinks {
    UnsubscribeLinks::new(LinkBase::parse("https://shop.example/unsubscribe").unwrap())
}

fn tracking() -> TrackingLinks {
    TrackingLinks::new(LinkBase::parse("https://shop.example/c").unwrap())
}

/// A shop whose send policy lets everything through in daytime (the cap tests set their own).
fn marketing_shop() -> Shop {
    let shop = shop(PriceMode::TaxInclusive);
    let system = shop.store.system();
    shop.store
        .campaigns(&system)
        .set_policy(SendPolicy::new(100, 7 * 24 * HOUR).unwrap())
        .unwrap();
    shop
}

#[test]
fn an_abandoned_cart_gets_two_reminders_then_checkout_stops_the_flow() {
    let shop = marketing_shop();
    let store = &shop.store;
    let system = store.system();
    let mug = product(store, "MUG-1", eur("12.00"), TaxCategory::Standard, 10);
    let (ana, ana_id) = consenting(store, "ana@example.com");
    let campaigns = store.campaigns(&system);
    let flow = campaigns
        .create_flow(
            NewFlow::new("cart", FlowTrigger::AbandonedCart { idle: 4 * HOUR })
                .unwrap()
                .step(FlowStep::new(Duration::ZERO, reminder()))
                .unwrap()
                .step(FlowStep::new(24 * HOUR, reminder()))
                .unwrap()
                .step(FlowStep::new(48 * HOUR, reminder()))
                .unwrap(),
        )
        .unwrap();
    fill(store, &ana, &[(mug, 2)]);

    // Not idle long enough yet: nothing.
    shop.clock.advance(3 * HOUR);
    assert!(campaigns.run_due(100).unwrap().is_idle());

    // Idle for 4 hours: enrolled, first reminder sent.
    shop.clock.advance(HOUR + Duration::from_secs(60));
    let report = campaigns.run_due(100).unwrap();
    assert_eq!((report.enrolled(), report.sent()), (1, 1), "{report:?}");
    // Running again at once sends nothing twice.
    assert!(campaigns.run_due(100).unwrap().is_idle());
    let events = queued(store);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["flow_id"], flow.id().to_string());
    assert_eq!(events[0]["customer_id"], ana_id.to_string());

    // The message names the cart's lines and carries the one-click headers.
    let message = campaigns
        .message(
            message_id(&events[0]),
            &composer(store),
            &unsubscribe(),
            Some(&tracking()),
        )
        .unwrap();
    let parsed = MessageParser::default().parse(message.as_bytes()).unwrap();
    assert_eq!(parsed.subject(), Some("Ana Example, your cart is waiting"));
    let text = parsed.body_text(0).unwrap();
    assert!(text.contains("2 x MUG-1"), "{text}");
    assert!(text.contains("https://shop.example/c?token="), "{text}");
    assert!(
        !text.contains("Back to it: https://shop.example/cart"),
        "{text}"
    );
    assert!(parsed.header("List-Unsubscribe-Post").is_some());

    // A day later: the second reminder.
    shop.clock.advance(24 * HOUR);
    assert_eq!(campaigns.run_due(100).unwrap().sent(), 1);
    assert_eq!(queued(store).len(), 2);

    // Ana checks out her cart: the third reminder is cancelled, the run stopped.
    let _ = store
        .orders(&ana)
        .checkout(Checkout::from_cart(ana_id, key("cart-order")))
        .unwrap();
    shop.clock.advance(48 * HOUR);
    let report = campaigns.run_due(100).unwrap();
    assert_eq!((report.sent(), report.cancelled()), (0, 1), "{report:?}");
    assert_eq!(queued(store).len(), 2, "no third reminder");
    let flow = campaigns.flow(flow.id()).unwrap();
    assert_eq!(flow.runs_stopped(), 1);
    assert_eq!(flow.counts().sent(), 2);
    assert_eq!(flow.counts().cancelled(), 1);
    assert_eq!(
        common::count_where(
            store,
            "shopkeep_flow_runs",
            "stop_reason = 'checked_out' AND status = 'stopped'"
        ),
        1
    );
    // The cart is empty now and the checked-out state is never enrolled again.
    shop.clock.advance(100 * HOUR);
    assert!(campaigns.run_due(100).unwrap().is_idle());
}

#[test]
fn withdrawing_consent_stops_a_flow_at_its_next_step() {
    let shop = marketing_shop();
    let store = &shop.store;
    let system = store.system();
    let mug = product(store, "MUG-1", eur("12.00"), TaxCategory::Standard, 10);
    let (ana, ana_id) = consenting(store, "ana@example.com");
    let campaigns = store.campaigns(&system);
    campaigns
        .create_flow(
            NewFlow::new("cart", FlowTrigger::AbandonedCart { idle: HOUR })
                .unwrap()
                .step(FlowStep::new(Duration::ZERO, reminder()))
                .unwrap()
                .step(FlowStep::new(HOUR, reminder()))
                .unwrap(),
        )
        .unwrap();
    fill(store, &ana, &[(mug, 1)]);
    shop.clock.advance(2 * HOUR);
    assert_eq!(campaigns.run_due(100).unwrap().sent(), 1);
    let first = message_id(&queued(store)[0]);
    store
        .consents(&system)
        .withdraw(ana_id, Channel::Email, "preferences")
        .unwrap();
    // The message already queued must not go out any more: rendering refuses it.
    let err = campaigns
        .message(first, &composer(store), &unsubscribe(), None)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidTransition);
    shop.clock.advance(2 * HOUR);
    let report = campaigns.run_due(100).unwrap();
    assert_eq!((report.sent(), report.cancelled()), (0, 1), "{report:?}");
    assert_eq!(
        common::count_where(store, "shopkeep_flow_runs", "stop_reason = 'no_consent'"),
        1
    );
}

#[test]
fn quiet_hours_defer_and_the_frequency_cap_skips_a_campaign_recipient() {
    let shop = shop(PriceMode::TaxInclusive);
    let store = &shop.store;
    let system = store.system();
    let campaigns = store.campaigns(&system);
    // One message a day, quiet from 08:00 to 12:00 local (the test shop keeps UTC; the clock
    // stands at 09:00, inside the quiet hours).
    campaigns
        .set_policy(
            SendPolicy::new(1, 24 * HOUR)
                .unwrap()
                .quiet_hours("08:00", "12:00")
                .unwrap(),
        )
        .unwrap();
    let mug = product(store, "MUG-1", eur("12.00"), TaxCategory::Standard, 10);
    let (ana, _) = consenting(store, "ana@example.com");
    pay(store, &place(store, &ana, &[(mug, 1)], None));
    store.marketing(&system).refresh_scores().unwrap();
    let template = MessageTemplate::new("News", "Hello {{ name }}", "<p>Hello</p>").unwrap();
    let first = send_now(store, "first", template.clone());
    assert_eq!(first.counts().due(), 1);
    let report = campaigns.run_due(100).unwrap();
    assert_eq!((report.sent(), report.deferred()), (0, 1), "{report:?}");
    // Not before noon.
    shop.clock.advance(2 * HOUR + Duration::from_secs(59 * 60));
    assert!(campaigns.run_due(100).unwrap().is_idle());
    // At noon the quiet hours end.
    shop.clock.advance(Duration::from_secs(60));
    assert_eq!(campaigns.run_due(100).unwrap().sent(), 1);
    assert_eq!(
        campaigns.campaign(first.id()).unwrap().status(),
        CampaignStatus::Sent
    );

    // A second campaign the same afternoon: over the cap of one a day, skipped.
    let second = send_now(store, "second", template);
    let report = campaigns.run_due(100).unwrap();
    assert_eq!((report.sent(), report.skipped()), (0, 1), "{report:?}");
    let second = campaigns.campaign(second.id()).unwrap();
    assert_eq!(second.counts().skipped(), 1);
    assert_eq!(second.status(), CampaignStatus::Sent);
    assert_eq!(queued(store).len(), 1);
}

#[test]
fn a_campaign_reaches_only_consenting_members_once_even_with_two_workers() {
    let shop = marketing_shop();
    let store = &shop.store;
    let system = store.system();
    let mug = product(store, "MUG-1", eur("12.00"), TaxCategory::Standard, 1000);
    let mut consenting_ids = Vec::new();
    for i in 0..30 {
        let email = format!("c{i}@example.com");
        let buyer = if i % 3 == 0 {
            customer(store, &email, "DE")
        } else {
            let (buyer, id) = consenting(store, &email);
            consenting_ids.push(id);
            buyer
        };
        pay(store, &place(store, &buyer, &[(mug, 1)], None));
    }
    store.marketing(&system).refresh_scores().unwrap();
    let campaigns = store.campaigns(&system);
    let template = MessageTemplate::new("News", "Hello {{ name }}", "<p>Hello</p>").unwrap();
    let campaign = send_now(store, "news", template);
    assert_eq!(campaign.counts().due(), 30);
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                let system = store.system();
                loop {
                    let report = store.campaigns(&system).run_due(4).unwrap();
                    if report.is_idle() {
                        break;
                    }
                }
            });
        }
    });
    let events = queued(store);
    let mut sent: Vec<String> = events
        .iter()
        .map(|e| e["customer_id"].as_str().unwrap().to_owned())
        .collect();
    sent.sort();
    let mut expected: Vec<String> = consenting_ids.iter().map(ToString::to_string).collect();
    expected.sort();
    assert_eq!(sent, expected, "each consenting member exactly once");
    assert!(
        events
            .iter()
            .all(|e| e["campaign_id"] == campaign.id().to_string())
    );
    let campaign = campaigns.campaign(campaign.id()).unwrap();
    assert_eq!(campaign.status(), CampaignStatus::Sent);
    assert_eq!(
        (campaign.counts().sent(), campaign.counts().skipped()),
        (20, 10)
    );
}

#[test]
fn a_click_is_verified_recorded_and_attributes_the_next_order() {
    let shop = marketing_shop();
    let store = &shop.store;
    let system = store.system();
    let mug = product(store, "MUG-1", eur("12.00"), TaxCategory::Standard, 100);
    let (ana, _) = consenting(store, "ana@example.com");
    let first_order = pay(store, &place(store, &ana, &[(mug, 1)], None));
    store.marketing(&system).refresh_scores().unwrap();
    let campaigns = store.campaigns(&system);
    let template = MessageTemplate::new(
        "Mugs",
        "See {{ track('https://shop.example/mugs') }}",
        "<a href=\"{{ track('https://shop.example/mugs') }}\">mugs</a>",
    )
    .unwrap();
    let campaign = send_now(store, "mugs", template);
    campaigns.run_due(100).unwrap();
    let id = message_id(&queued(store)[0]);
    let message = campaigns
        .message(id, &composer(store), &unsubscribe(), Some(&tracking()))
        .unwrap();
    let parsed = MessageParser::default().parse(message.as_bytes()).unwrap();
    let text = parsed.body_text(0).unwrap().into_owned();
    let token = text
        .split("token=")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();

    // A token altered in any way is refused and records nothing.
    let mut forged = token.clone();
    forged.pop();
    forged.push(if token.ends_with('A') { 'B' } else { 'A' });
    assert_eq!(
        store.record_click(&forged).unwrap_err().kind(),
        ErrorKind::Validation { field: "token" }
    );
    assert_eq!(common::count(store, "shopkeep_message_clicks"), 0);

    shop.clock.advance(HOUR);
    let click = store.record_click(&token).unwrap();
    assert_eq!(click.url(), "https://shop.example/mugs");
    assert_eq!(click.message(), id);

    // An order placed a day later is attributed to the message; the one before it is not.
    shop.clock.advance(24 * HOUR);
    let order = place(store, &ana, &[(mug, 1)], None);
    let week = 7 * 24 * HOUR;
    let attribution = campaigns.attribution(order.id(), week).unwrap().unwrap();
    assert_eq!(attribution.message(), id);
    assert_eq!(attribution.campaign(), Some(campaign.id()));
    assert!(
        campaigns
            .attribution(first_order.id(), week)
            .unwrap()
            .is_none()
    );
    // Outside a 12-hour window, nothing.
    assert!(
        campaigns
            .attribution(order.id(), 12 * HOUR)
            .unwrap()
            .is_none()
    );
}

#[test]
fn customers_may_not_manage_campaigns_and_nothing_is_written() {
    let shop = marketing_shop();
    let store = &shop.store;
    let (ana, _) = consenting(store, "ana@example.com");
    let before = common::count(store, "shopkeep_campaigns");
    let template = MessageTemplate::new("News", "Hello", "<p>Hello</p>").unwrap();
    let err = store
        .campaigns(&ana)
        .create_campaign(NewCampaign::new("news", template).unwrap())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    assert_eq!(common::count(store, "shopkeep_campaigns"), before);
    assert_eq!(
        store.campaigns(&ana).run_due(10).unwrap_err().kind(),
        ErrorKind::Forbidden
    );
}

#[test]
fn bad_templates_and_policies_are_refused_up_front() {
    assert!(MessageTemplate::new("{{ name", "x", "y").is_err());
    assert!(MessageTemplate::new("Hi", "{{ unknown_value }}", "<p></p>").is_err());
    assert!(MessageTemplate::new("Hi\n{{ name }}", "x", "<p></p>").is_err());
    assert!(SendPolicy::new(0, HOUR).is_err());
    assert!(SendPolicy::new(1, Duration::from_secs(1)).is_err());
    assert!(SendPolicy::default().quiet_hours("09:00", "09:00").is_err());
    assert!(SendPolicy::default().quiet_hours("9:00", "10:00").is_err());
    assert!(
        NewFlow::new(
            "cart",
            FlowTrigger::AbandonedCart {
                idle: Duration::from_secs(5)
            }
        )
        .is_err()
    );
}

#[test]
fn a_message_claimed_by_a_worker_that_died_is_sent_once_its_lease_ends() {
    let shop = marketing_shop();
    let store = &shop.store;
    let system = store.system();
    let mug = product(store, "MUG-1", eur("12.00"), TaxCategory::Standard, 10);
    let (ana, _) = consenting(store, "ana@example.com");
    pay(store, &place(store, &ana, &[(mug, 1)], None));
    store.marketing(&system).refresh_scores().unwrap();
    let campaigns = store.campaigns(&system);
    let template = MessageTemplate::new("News", "Hello {{ name }}", "<p>Hello</p>").unwrap();
    send_now(store, "news", template);
    // A worker claimed the message (its lease token and a lease end five minutes on) and
    // died before deciding it.
    let lease_end = store.now().checked_add(Duration::from_secs(300)).unwrap();
    let token = "00112233445566778899aabbccddeeff";
    let until = lease_end.to_rfc3339();
    common::db::run(
        store,
        &if store.path().is_some() {
            format!("UPDATE shopkeep_sends SET lease_token = x'{token}', lease_until = '{until}'")
        } else {
            format!(
                "UPDATE shopkeep_sends SET lease_token = decode('{token}', 'hex'), \
                 lease_until = '{until}'"
            )
        },
    );
    // While the lease holds, another worker leaves it alone.
    let report = campaigns.run_due(100).unwrap();
    assert_eq!(report.sent(), 0, "{report:?}");
    assert!(queued(store).is_empty());
    // Once it ends, the message is taken over and sent, once.
    shop.clock.advance(Duration::from_secs(301));
    assert_eq!(campaigns.run_due(100).unwrap().sent(), 1);
    assert!(campaigns.run_due(100).unwrap().is_idle());
    assert_eq!(queued(store).len(), 1);
}

#[test]
fn a_suppressed_address_is_skipped_and_a_consenting_lead_is_nurtured_and_can_unsubscribe() {
    use shopkeep::integrations::email::{ONE_CLICK_BODY, one_click_unsubscribe};
    use shopkeep::leads::LeadForm;
    use shopkeep::marketing::SuppressionReason;

    let shop = marketing_shop();
    let store = &shop.store;
    let system = store.system();
    let campaigns = store.campaigns(&system);
    let template = MessageTemplate::new(
        "Hello {{ name }}",
        "Thanks for writing to us.",
        "<p>Thanks for writing to us.</p>",
    )
    .unwrap();
    let flow = campaigns
        .create_flow(
            NewFlow::new("nurture", FlowTrigger::LeadNurture)
                .unwrap()
                .step(FlowStep::new(Duration::ZERO, template.clone()))
                .unwrap()
                .step(FlowStep::new(24 * HOUR, template))
                .unwrap(),
        )
        .unwrap();
    let submit = |email: &str| {
        let form = LeadForm::new("Lee Lead", email, "Do you ship mugs to Norway?")
            .accept_terms(true)
            .marketing_opt_in("newsletter-v1");
        let lead = store
            .leads(&Principal::anonymous())
            .submit(form, "198.51.100.1")
            .unwrap()
            .id();
        store
            .confirm_consent(&store.leads(&system).confirmation_token(lead).unwrap())
            .unwrap();
        lead
    };
    let lee = submit("lee@example.com");
    // A second lead whose address bounced: on the suppression list (in another spelling).
    submit("bounced@example.com");
    store
        .suppressions(&system)
        .add(
            &Email::parse("Bounced@Example.com").unwrap(),
            SuppressionReason::HardBounce,
            None,
        )
        .unwrap();

    let report = campaigns.run_due(100).unwrap();
    assert_eq!(
        (report.enrolled(), report.sent(), report.cancelled()),
        (2, 1, 1),
        "{report:?}"
    );
    let events = queued(store);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["lead_id"], lee.to_string());
    assert_eq!(events[0]["flow_id"], flow.id().to_string());
    assert_eq!(
        common::count_where(store, "shopkeep_flow_runs", "stop_reason = 'suppressed'"),
        1
    );

    // The lead's message carries her own unsubscribe link; one click ends the nurturing.
    let message = campaigns
        .message(
            message_id(&events[0]),
            &composer(store),
            &unsubscribe(),
            None,
        )
        .unwrap();
    let parsed = MessageParser::default().parse(message.as_bytes()).unwrap();
    assert_eq!(parsed.subject(), Some("Hello Lee Lead"));
    let raw = String::from_utf8_lossy(message.as_bytes()).into_owned();
    let header = raw
        .lines()
        .find(|l| l.starts_with("List-Unsubscribe: <"))
        .unwrap();
    let token = header
        .split("token=")
        .nth(1)
        .unwrap()
        .split('>')
        .next()
        .unwrap()
        .to_owned();
    one_click_unsubscribe(store, &token, ONE_CLICK_BODY.as_bytes()).unwrap();
    assert!(
        !store
            .leads(&system)
            .has_marketing_consent(lee, Channel::Email)
            .unwrap()
    );
    shop.clock.advance(25 * HOUR);
    let report = campaigns.run_due(100).unwrap();
    assert_eq!((report.sent(), report.cancelled()), (0, 1), "{report:?}");
    assert_eq!(queued(store).len(), 1);
}

#[test]
fn welcome_post_purchase_and_win_back_enrol_on_their_triggers_and_stop_on_theirs() {
    let shop = marketing_shop();
    let store = &shop.store;
    let system = store.system();
    let campaigns = store.campaigns(&system);
    let mug = product(store, "MUG-1", eur("12.00"), TaxCategory::Standard, 100);
    let template = MessageTemplate::new("For {{ name }}", "Hello", "<p>Hello</p>").unwrap();
    let two_steps = |name: &str, trigger| {
        campaigns
            .create_flow(
                NewFlow::new(name, trigger)
                    .unwrap()
                    .step(FlowStep::new(Duration::ZERO, template.clone()))
                    .unwrap()
                    .step(FlowStep::new(24 * HOUR, template.clone()))
                    .unwrap(),
            )
            .unwrap()
    };
    let welcome = two_steps("welcome", FlowTrigger::Welcome);
    let follow_up = two_steps("follow-up", FlowTrigger::PostPurchase);
    let win_back = two_steps("win-back", FlowTrigger::WinBack);

    // Ana confirms her consent after the flows exist: welcomed.
    let (ana, ana_id) = consenting(store, "ana@example.com");
    assert_eq!(campaigns.run_due(100).unwrap().sent(), 1);
    assert_eq!(campaigns.flow(welcome.id()).unwrap().runs_active(), 1);

    // She orders, then cancels: followed up once, then the run stops.
    let order = place(store, &ana, &[(mug, 1)], None);
    assert_eq!(campaigns.run_due(100).unwrap().sent(), 1);
    store
        .orders(&system)
        .cancel(order.id(), "changed her mind")
        .unwrap();
    shop.clock.advance(25 * HOUR);
    campaigns.run_due(100).unwrap();
    let follow_up = campaigns.flow(follow_up.id()).unwrap();
    assert_eq!(
        (follow_up.counts().sent(), follow_up.runs_stopped()),
        (1, 1),
        "{follow_up:?}"
    );
    assert_eq!(
        common::count_where(
            store,
            "shopkeep_flow_runs",
            "stop_reason = 'order_cancelled'"
        ),
        1
    );
    // The welcome series went on to its second step and is through.
    assert_eq!(campaigns.flow(welcome.id()).unwrap().runs_completed(), 1);

    // The score refresh puts her among those at risk: the win-back starts; she orders again
    // and the rest of it is cancelled.
    pay(store, &place(store, &ana, &[(mug, 1)], None));
    store.marketing(&system).refresh_scores().unwrap();
    let id: String = ana_id.to_string().chars().filter(|c| *c != '-').collect();
    common::db::run(
        store,
        &if store.path().is_some() {
            format!(
                "UPDATE shopkeep_customer_scores SET segment = 'at_risk' WHERE customer_id = x'{id}'"
            )
        } else {
            format!(
                "UPDATE shopkeep_customer_scores SET segment = 'at_risk' \
                 WHERE customer_id = decode('{id}', 'hex')"
            )
        },
    );
    shop.clock.advance(HOUR);
    let report = campaigns.run_due(100).unwrap();
    assert_eq!(
        report.enrolled(),
        2,
        "the win-back and the new order's follow-up: {report:?}"
    );
    assert_eq!(campaigns.flow(win_back.id()).unwrap().counts().sent(), 1);
    place(store, &ana, &[(mug, 1)], None);
    shop.clock.advance(25 * HOUR);
    campaigns.run_due(100).unwrap();
    let win_back = campaigns.flow(win_back.id()).unwrap();
    assert_eq!(
        (win_back.runs_stopped(), win_back.counts().cancelled()),
        (1, 1)
    );
    assert_eq!(
        common::count_where(store, "shopkeep_flow_runs", "stop_reason = 'ordered_again'"),
        1
    );
}

#[test]
fn recommendations_are_best_sellers_the_recipient_has_not_bought() {
    let shop = marketing_shop();
    let store = &shop.store;
    let system = store.system();
    let mug = product(store, "MUG-1", eur("12.00"), TaxCategory::Standard, 100);
    let tea = product(store, "TEA-1", eur("5.00"), TaxCategory::Standard, 100);
    let pot = product(store, "POT-1", eur("30.00"), TaxCategory::Standard, 100);
    // Bob makes tea the best seller, then mugs, then pots.
    let bob = customer(store, "bob@example.com", "DE");
    pay(
        store,
        &place(store, &bob, &[(tea, 5), (mug, 3), (pot, 1)], None),
    );
    let (ana, _) = consenting(store, "ana@example.com");
    pay(store, &place(store, &ana, &[(mug, 1)], None));
    store.marketing(&system).refresh_scores().unwrap();
    let template = MessageTemplate::new(
        "Picked for you",
        "{% for p in recommendations %}[{{ p.name }}]{% endfor %}",
        "<p></p>",
    )
    .unwrap();
    send_now(store, "picks", template);
    store.campaigns(&system).run_due(100).unwrap();
    let events = queued(store);
    assert_eq!(events.len(), 1, "only Ana consented");
    let message = store
        .campaigns(&system)
        .message(
            message_id(&events[0]),
            &composer(store),
            &unsubscribe(),
            None,
        )
        .unwrap();
    let parsed = MessageParser::default().parse(message.as_bytes()).unwrap();
    // Best first, without the mugs Ana bought.
    assert_eq!(parsed.body_text(0).unwrap().trim(), "[TEA-1][POT-1]");
}
