//! Email messages: every message parses back as a mail client reads it, attachments carry
//! the right content types, the unsubscribe headers are on marketing mail only, one-click
//! unsubscribing withdraws consent exactly once, and no data value can add a header.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{Shop, customer, pay_as, place, product, seller, settings, shop_with};
use common::{count_where, dump};
use mail_parser::{MessageParser, MimeHeaders};
use proptest::prelude::*;
use shopkeep::access::CustomerId;
use shopkeep::catalog::{ShopSettings, TaxCategory};
use shopkeep::customers::{
    Channel, ConsentEvent, ConsentRequest, ConsentToken, ResetToken, UnsubscribeToken,
};
use shopkeep::integrations::email::{
    Composer, EmailTemplates, LinkBase, MarketingContent, Message, MessageKind, ONE_CLICK_BODY,
    Recipient, Sender, UnsubscribeLinks, one_click_unsubscribe,
};
use shopkeep::invoices::{Invoice, Profile, to_pdf};
use shopkeep::orders::{Order, PriceMode, Shipment};
use shopkeep::{Email, ErrorKind};

/// The seed every composer here derives its boundaries and Message-IDs from.
const SEED: u64 = 17;

/// The headers a message may carry, each at most once.
const TRANSACTIONAL_HEADERS: &[&str] = &[
    "From",
    "Reply-To",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "MIME-Version",
    "Content-Type",
];

struct Sold {
    shop: Shop,
    settings: ShopSettings,
    order: Order,
    invoice: Invoice,
    ana: CustomerId,
}

/// A shop whose customer Ana bought two mugs and a book, paid, and got her invoice.
fn sold() -> Sold {
    let settings = settings(seller(Some("DE123456788")), PriceMode::TaxInclusive)
        .build()
        .unwrap();
    let shop = shop_with(settings.clone());
    let store = &shop.store;
    let mug = product(
        store,
        "MUG",
        common::eur("12.90"),
        TaxCategory::Standard,
        10,
    );
    let book = product(
        store,
        "BOOK",
        common::eur("20.00"),
        TaxCategory::Reduced,
        10,
    );
    let buyer = customer(store, "ana@example.com", "DE");
    let ana = buyer.customer_id().unwrap();
    let order = pay_as(
        store,
        &place(store, &buyer, &[(mug, 2), (book, 1)], None),
        "psp_123",
    );
    let invoice = store.invoices(&store.system()).issue(order.id()).unwrap();
    Sold {
        shop,
        settings,
        order,
        invoice,
        ana,
    }
}

fn composer(s: &Sold) -> Composer {
    let sender = Sender::from_settings(&s.settings)
        .unwrap()
        .reply_to(Email::parse("help@example.com").unwrap());
    Composer::new(sender, s.shop.store.now()).deterministic(SEED)
}

fn ana() -> Recipient {
    Recipient::new(Email::parse("ana@example.com").unwrap()).name("Ana Example")
}

fn link(url: &str) -> LinkBase {
    LinkBase::parse(url).unwrap()
}

fn links() -> UnsubscribeLinks {
    UnsubscribeLinks::new(link("https://shop.example/unsubscribe"))
        .mailto(Email::parse("unsubscribe@example.com").unwrap())
}

fn spring_sale() -> MarketingContent {
    MarketingContent::new(
        "Spring sale: 20 % off mugs",
        "Hello Ana,\n20 % off mugs this week.\n",
        "<p>Hello Ana,</p><p>20 % off mugs this week.</p>",
    )
    .unwrap()
}

/// Ana's email consent, asked for and confirmed; her unsubscribe token.
fn subscribed(s: &Sold) -> UnsubscribeToken {
    let store = &s.shop.store;
    let system = store.system();
    let request = ConsentRequest::new(Channel::Email, "checkout", "newsletter-v1").unwrap();
    let confirm = store
        .consents(&system)
        .grant(s.ana, request)
        .unwrap()
        .unwrap();
    store.confirm_consent(&confirm).unwrap();
    store
        .consents(&system)
        .unsubscribe_token(s.ana, Channel::Email)
        .unwrap()
}

/// Every message of each kind, to Ana.
fn every_message(s: &Sold) -> Vec<Message> {
    let composer = composer(s);
    let parcel = Shipment::new()
        .carrier("DHL")
        .unwrap()
        .tracking("00340434161094042557")
        .unwrap();
    vec![
        composer.order_confirmation(&s.order, &s.settings).unwrap(),
        composer
            .invoice(&s.invoice, &ana(), Profile::En16931)
            .unwrap(),
        composer
            .password_reset(
                &ana(),
                &ResetToken::new("shr_reset-token"),
                &link("https://shop.example/reset"),
            )
            .unwrap(),
        composer
            .consent_confirmation(
                &ana(),
                &ConsentToken::new("shc_confirm-token"),
                &link("https://shop.example/confirm?lang=en"),
            )
            .unwrap(),
        composer
            .shipping_notice(&s.order, &parcel, &s.settings)
            .unwrap(),
        composer
            .marketing(
                &ana(),
                &spring_sale(),
                &UnsubscribeToken::new("shu_unsubscribe-token"),
                &links(),
            )
            .unwrap(),
    ]
}

/// The header block of a message, unfolded: (name, value) in order.
fn header_fields(bytes: &[u8]) -> Vec<(String, String)> {
    let text = std::str::from_utf8(bytes).expect("7-bit headers");
    let head = &text[..text
        .find("\r\n\r\n")
        .expect("a blank line ends the headers")];
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in head.split("\r\n") {
        if line.starts_with([' ', '\t']) {
            fields.last_mut().expect("no continuation first").1 += line;
        } else {
            let (name, value) = line.split_once(':').expect("a header line has a colon");
            fields.push((name.to_owned(), value.trim().to_owned()));
        }
    }
    fields
}

/// The header names of a message, checked to be the expected set, each once.
fn assert_headers(message: &Message) {
    let mut names: Vec<String> = header_fields(message.as_bytes())
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    let mut expected: Vec<&str> = TRANSACTIONAL_HEADERS.to_vec();
    if message.kind().is_marketing() {
        expected.extend(["List-Unsubscribe", "List-Unsubscribe-Post"]);
    }
    names.sort();
    expected.sort_unstable();
    assert_eq!(names, expected, "{:?}", message.kind());
}

/// The message as a snapshot shows it: LF line ends, the PDF's base64 replaced by its size.
fn snapshot_text(message: &Message) -> String {
    let text = String::from_utf8(message.as_bytes().to_vec()).unwrap();
    let mut out = String::new();
    // 0: elsewhere, 1: in the PDF part's headers, 2: in its base64 body.
    let mut pdf = 0;
    let mut pdf_lines = 0;
    for line in text.split("\r\n") {
        match pdf {
            1 if line.is_empty() => pdf = 2,
            2 if line.starts_with("--shopkeep-") => {
                out.push_str(&format!("[{pdf_lines} lines of base64 PDF]\n\n"));
                pdf = 0;
            }
            2 => {
                pdf_lines += 1;
                continue;
            }
            _ => {}
        }
        out.push_str(line);
        out.push('\n');
        if line.starts_with("Content-Type: application/pdf") {
            pdf = 1;
        }
    }
    out
}

#[test]
fn every_message_parses_back_with_its_headers_and_bodies() {
    let s = sold();
    let messages = every_message(&s);
    let kinds: Vec<MessageKind> = messages.iter().map(Message::kind).collect();
    assert_eq!(
        kinds,
        [
            MessageKind::OrderConfirmation,
            MessageKind::Invoice,
            MessageKind::PasswordReset,
            MessageKind::ConsentConfirmation,
            MessageKind::ShippingNotice,
            MessageKind::Marketing,
        ]
    );
    let number = s.order.number().to_string();
    let expectations: [(&str, &str, &str); 6] = [
        (
            &format!("Your order {number} at Beispiel GmbH"),
            "Thank you for your order, Ana Example.",
            "Ana Example",
        ),
        (
            &format!("Invoice {} from Beispiel GmbH", s.invoice.number()),
            s.invoice.number(),
            s.invoice.number(),
        ),
        (
            "Reset your password for Beispiel GmbH",
            "https://shop.example/reset?token=shr_reset-token",
            "href=\"https:&#x2f;&#x2f;shop.example&#x2f;reset?token=shr_reset-token\"",
        ),
        (
            "Please confirm your subscription to Beispiel GmbH",
            "https://shop.example/confirm?lang=en&token=shc_confirm-token",
            "lang=en&amp;token=shc_confirm-token",
        ),
        (
            &format!("Your order {number} from Beispiel GmbH is on its way"),
            "Tracking number: 00340434161094042557",
            "    2 x MUG",
        ),
        (
            "Spring sale: 20 % off mugs",
            "20 % off mugs",
            "<p>Hello Ana,</p>",
        ),
    ];
    for (message, (subject, text, html)) in messages.iter().zip(expectations) {
        let kind = message.kind();
        assert_headers(message);
        assert!(
            message
                .as_bytes()
                .windows(2)
                .filter(|w| *w == b"\r\n")
                .count()
                == message.as_bytes().iter().filter(|&&b| b == b'\n').count(),
            "{kind:?}: every line ends in CRLF"
        );
        let parsed = MessageParser::default().parse(message.as_bytes()).unwrap();
        assert_eq!(parsed.subject(), Some(subject), "{kind:?}");
        let from = parsed.from().unwrap().first().unwrap();
        assert_eq!(
            (from.name(), from.address()),
            (Some("Beispiel GmbH"), Some("billing@example.com"))
        );
        let reply_to = parsed.reply_to().unwrap().first().unwrap();
        assert_eq!(reply_to.address(), Some("help@example.com"));
        let to = parsed.to().unwrap().first().unwrap();
        assert_eq!(
            (to.name(), to.address()),
            (Some("Ana Example"), Some("ana@example.com"))
        );
        // The Date is the store clock's, not the machine's.
        assert_eq!(
            parsed.date().unwrap().to_timestamp(),
            s.shop.store.now().unix_millis() / 1000
        );
        assert!(parsed.message_id().unwrap().ends_with("@example.com"));
        let body_text = parsed.body_text(0).unwrap();
        let body_html = parsed.body_html(0).unwrap();
        assert!(body_text.contains(text), "{kind:?}: {body_text}");
        if kind == MessageKind::ShippingNotice {
            // The text body lists what was shipped; the HTML one in a table.
            assert!(body_text.contains(html), "{body_text}");
            assert!(body_html.contains("<td>MUG</td>"), "{body_html}");
        } else {
            assert!(body_html.contains(html), "{kind:?}: {body_html}");
        }
        assert!(
            body_html.starts_with("<"),
            "{kind:?}: the HTML part is HTML"
        );
        assert!(!body_text.contains('<') || kind == MessageKind::Marketing);
    }
}

#[test]
fn each_message_matches_its_snapshot() {
    let s = sold();
    for message in every_message(&s) {
        insta::assert_snapshot!(message.kind().as_str(), snapshot_text(&message));
    }
}

#[test]
fn messages_are_deterministic_under_a_seed_and_unique_without() {
    let s = sold();
    let a = every_message(&s);
    let b = every_message(&s);
    assert_eq!(a, b);
    let sender = Sender::from_settings(&s.settings).unwrap();
    let random = Composer::new(sender, s.shop.store.now());
    let reset = |c: &Composer| {
        c.password_reset(
            &ana(),
            &ResetToken::new("shr_x"),
            &link("https://shop.example/reset"),
        )
        .unwrap()
    };
    let (one, two) = (reset(&random), reset(&random));
    assert_ne!(one, two);
    let id = |m: &Message| {
        let parsed = MessageParser::default().parse(m.as_bytes()).unwrap();
        parsed.message_id().unwrap().to_owned()
    };
    assert_ne!(id(&one), id(&two));
}

#[test]
fn the_invoice_carries_its_pdf_and_its_ubl() {
    let s = sold();
    let message = composer(&s)
        .invoice(&s.invoice, &ana(), Profile::En16931)
        .unwrap();
    let parsed = MessageParser::default().parse(message.as_bytes()).unwrap();
    let attachments: Vec<_> = parsed.attachments().collect();
    assert_eq!(attachments.len(), 2);
    let number = s.invoice.number();
    let pdf = attachments[0];
    let ct = pdf.content_type().unwrap();
    assert_eq!((ct.ctype(), ct.subtype()), ("application", Some("pdf")));
    assert_eq!(
        pdf.attachment_name(),
        Some(format!("{number}.pdf").as_str())
    );
    assert_eq!(pdf.contents(), to_pdf(s.invoice.document()).unwrap());
    assert!(pdf.contents().starts_with(b"%PDF-"));
    let ubl = attachments[1];
    let ct = ubl.content_type().unwrap();
    assert_eq!((ct.ctype(), ct.subtype()), ("application", Some("xml")));
    assert_eq!(
        ubl.attachment_name(),
        Some(format!("{number}.xml").as_str())
    );
    assert_eq!(
        std::str::from_utf8(ubl.contents()).unwrap(),
        s.invoice.to_ubl(Profile::En16931).unwrap()
    );
    // The body is the invoice itself, in both forms; the other messages attach nothing.
    assert!(parsed.body_text(0).unwrap().contains("Amount due"));
    for other in every_message(&s) {
        let other_parsed = MessageParser::default().parse(other.as_bytes()).unwrap();
        let expected = usize::from(other.kind() == MessageKind::Invoice) * 2;
        assert_eq!(
            other_parsed.attachment_count(),
            expected,
            "{:?}",
            other.kind()
        );
    }
}

#[test]
fn unsubscribe_headers_are_on_marketing_mail_only() {
    let s = sold();
    for message in every_message(&s) {
        let fields = header_fields(message.as_bytes());
        let get = |name: &str| {
            fields
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        if message.kind().is_marketing() {
            assert_eq!(
                get("List-Unsubscribe").as_deref(),
                Some(
                    "<https://shop.example/unsubscribe?token=shu_unsubscribe-token>, \
                     <mailto:unsubscribe@example.com?subject=unsubscribe%20shu_unsubscribe-token>"
                )
            );
            assert_eq!(
                get("List-Unsubscribe-Post").as_deref(),
                Some("List-Unsubscribe=One-Click")
            );
        } else {
            assert_eq!(get("List-Unsubscribe"), None, "{:?}", message.kind());
            assert_eq!(get("List-Unsubscribe-Post"), None, "{:?}", message.kind());
        }
    }
}

/// How many `withdrawn` rows Ana's email consent has in the ledger.
fn withdrawals(s: &Sold) -> usize {
    let store = &s.shop.store;
    store
        .consents(&store.system())
        .history(s.ana)
        .unwrap()
        .iter()
        .filter(|r| r.channel() == Channel::Email && r.event() == ConsentEvent::Withdrawn)
        .count()
}

fn email_granted(s: &Sold) -> bool {
    let store = &s.shop.store;
    store
        .consents(&store.system())
        .state(s.ana)
        .unwrap()
        .iter()
        .any(|c| c.channel() == Channel::Email && c.is_granted())
}

#[test]
fn one_click_withdraws_consent_exactly_once() {
    let s = sold();
    let store = &s.shop.store;
    let token = subscribed(&s);
    assert!(email_granted(&s));
    // The token in the message's header is the one the handler takes.
    let message = composer(&s)
        .marketing(&ana(), &spring_sale(), &token, &links())
        .unwrap();
    let header = header_fields(message.as_bytes())
        .into_iter()
        .find(|(n, _)| n == "List-Unsubscribe")
        .unwrap()
        .1;
    let from_header = header
        .split("token=")
        .nth(1)
        .and_then(|rest| rest.split('>').next())
        .unwrap();
    assert_eq!(from_header, token.as_str());

    let audited = || count_where(store, "shopkeep_audit", "action = 'unsubscribe'");
    one_click_unsubscribe(store, from_header, ONE_CLICK_BODY.as_bytes()).unwrap();
    assert!(!email_granted(&s));
    assert_eq!(withdrawals(&s), 1);
    assert_eq!(audited(), 1);
    let history = store.consents(&store.system()).history(s.ana).unwrap();
    let last = history.last().unwrap();
    assert_eq!(
        (last.event(), last.source(), last.recorded_by()),
        (ConsentEvent::Withdrawn, "unsubscribe_link", "anonymous")
    );
    // A provider retrying the POST changes nothing.
    one_click_unsubscribe(store, from_header, ONE_CLICK_BODY.as_bytes()).unwrap();
    one_click_unsubscribe(store, from_header, ONE_CLICK_BODY.as_bytes()).unwrap();
    assert_eq!(withdrawals(&s), 1);
    assert_eq!(audited(), 1);
}

#[test]
fn bad_one_click_requests_are_refused_and_change_nothing() {
    let s = sold();
    let store = &s.shop.store;
    let token = subscribed(&s);
    let tables = [
        "shopkeep_customer_consents",
        "shopkeep_audit",
        "shopkeep_outbox",
    ];
    let before = dump(store, &tables);
    let bad_bodies: [&[u8]; 6] = [
        b"",
        b"List-Unsubscribe=One-Click\r\n",
        b"list-unsubscribe=one-click",
        b"List-Unsubscribe=One-Click&x=1",
        b" List-Unsubscribe=One-Click",
        b"unsubscribe",
    ];
    for body in bad_bodies {
        let err = one_click_unsubscribe(store, token.as_str(), body).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Validation { field: "body" });
    }
    let mut wrong = token.as_str().to_owned();
    wrong.push('x');
    for bad in ["", "shu_", wrong.as_str(), "shr_not-an-unsubscribe-token"] {
        let err = one_click_unsubscribe(store, bad, ONE_CLICK_BODY.as_bytes()).unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::Validation { field: "token" },
            "{bad:?}"
        );
    }
    assert_eq!(dump(store, &tables), before);
    assert!(email_granted(&s));
}

#[test]
fn host_templates_replace_the_built_in_ones() {
    let s = sold();
    let templates = EmailTemplates::builtin()
        .with_subject(MessageKind::PasswordReset, "{{ shop }}:\nnew password\n")
        .unwrap()
        .with_text(MessageKind::PasswordReset, "Go to {{ link }}")
        .unwrap()
        .with_html(
            MessageKind::PasswordReset,
            "<a href=\"{{ link }}\">{{ name }}</a>",
        )
        .unwrap();
    let message = composer(&s)
        .templates(templates)
        .password_reset(
            &Recipient::new(Email::parse("ana@example.com").unwrap()).name("<b>Ana</b>"),
            &ResetToken::new("shr_t"),
            &link("https://shop.example/reset"),
        )
        .unwrap();
    let parsed = MessageParser::default().parse(message.as_bytes()).unwrap();
    // A line break in a host's subject template becomes a space, not a new header.
    assert_eq!(parsed.subject(), Some("Beispiel GmbH: new password"));
    assert_eq!(
        parsed.body_text(0).unwrap().trim_end(),
        "Go to https://shop.example/reset?token=shr_t"
    );
    assert!(
        parsed
            .body_html(0)
            .unwrap()
            .contains("&lt;b&gt;Ana&lt;&#x2f;b&gt;")
    );
    // Broken templates are refused when given; bodies of kinds without one are not templates.
    let refused = [
        EmailTemplates::builtin().with_text(MessageKind::ShippingNotice, "{% for %}"),
        EmailTemplates::builtin().with_text(MessageKind::OrderConfirmation, "x"),
        EmailTemplates::builtin().with_html(MessageKind::Marketing, "x"),
        EmailTemplates::builtin().with_subject(MessageKind::Marketing, "x"),
    ];
    for result in refused {
        let err = result.unwrap_err();
        assert_eq!(err.field(), Some("template"));
    }
    // A template naming a value that does not exist fails at render, with a typed error.
    let strict = EmailTemplates::builtin()
        .with_subject(MessageKind::ShippingNotice, "{{ no_such_value }}")
        .unwrap();
    let parcel = Shipment::new();
    let err = composer(&s)
        .templates(strict)
        .shipping_notice(&s.order, &parcel, &s.settings)
        .unwrap_err();
    assert_eq!(err.field(), Some("template"));
}

#[test]
fn senders_and_content_refuse_what_would_break_a_header() {
    let shop = Email::parse("shop@example.com").unwrap();
    for bad in [
        "",
        "  ",
        "Shop\r\nBcc: x@example.com",
        "Shop\nX: y",
        "Shop\u{7}",
    ] {
        let err = Sender::new(bad, shop.clone()).unwrap_err();
        assert_eq!(err.field(), Some("sender_name"), "{bad:?}");
    }
    let err = MarketingContent::new("\r\n", "text", "<p>html</p>").unwrap_err();
    assert_eq!(err.field(), Some("subject"));
    let err = MarketingContent::new("Sale", " ", "<p>html</p>").unwrap_err();
    assert_eq!(err.field(), Some("body"));
}

#[test]
fn debug_shows_no_address_name_or_body() {
    let s = sold();
    for message in every_message(&s) {
        let shown = format!("{message:?}");
        for secret in [
            "ana@example.com",
            "Ana",
            "billing@example.com",
            "token",
            "Mug",
        ] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }
    let shown = format!("{:?} {:?} {:?}", ana(), spring_sale(), composer(&s));
    for secret in ["ana@example.com", "Ana", "billing@example.com", "mugs"] {
        assert!(!shown.contains(secret), "{shown}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Whatever a name or subject holds (line breaks, `Bcc:` lines, NULs, any Unicode), the
    /// message has exactly the expected headers, and the name and subject read back as given,
    /// line breaks and control characters turned into spaces.
    #[test]
    fn no_data_value_adds_a_header(
        name in any::<String>(),
        subject in "\\PC*(\r\n|\n|\r)(Bcc|To|Content-Type): [a-z@.]{1,20}\\PC*",
        noise in proptest::collection::vec(any::<char>(), 0..20),
    ) {
        let name = format!("{name}\r\nBcc: evil@example.com{}", noise.iter().collect::<String>());
        let composer = Composer::new(
            Sender::new("Shop", Email::parse("shop@example.com").unwrap())
                .unwrap()
                .reply_to(Email::parse("help@example.com").unwrap()),
            common::at("2026-11-28T09:00:00Z"),
        )
        .deterministic(SEED);
        let to = Recipient::new(Email::parse("ana@example.com").unwrap()).name(&name);
        let content = MarketingContent::new(&subject, "text", "<p>html</p>").unwrap();
        let message = composer
            .marketing(&to, &content, &UnsubscribeToken::new("shu_t"), &links())
            .unwrap();
        assert_headers(&message);
        let fields = header_fields(message.as_bytes());
        // The injected `Bcc:` is text inside the display name; the address is the one given.
        let to_field = &fields.iter().find(|(n, _)| n == "To").unwrap().1;
        prop_assert!(to_field.ends_with("<ana@example.com>"), "{}", to_field);
        prop_assert!(message.as_bytes().split(|&b| b == b'\n').all(|line| line.len() <= 998));
        let parsed = MessageParser::default().parse(message.as_bytes()).unwrap();
        let spaced = |text: &str| {
            text.split(|c: char| c.is_whitespace() || c.is_control())
                .filter(|w| !w.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        };
        let (want_subject, want_name) = (spaced(&subject), spaced(&name));
        prop_assert_eq!(parsed.subject(), Some(want_subject.as_str()));
        let to = parsed.to().unwrap().first().unwrap();
        prop_assert_eq!(to.address(), Some("ana@example.com"));
        prop_assert_eq!(to.name(), Some(want_name.as_str()));
        prop_assert!(parsed.bcc().is_none());
    }
}
