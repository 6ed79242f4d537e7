//! Confirmations: snapshots of the built-in templates, escaping, host templates.

use super::*;

fn sample() -> Confirmation {
    Confirmation {
        shop: ShopView {
            name: "Beispiel Haushaltswaren GmbH".into(),
            address: vec!["Hauptstr. 1".into(), "10115 Berlin".into(), "DE".into()],
            vat_id: Some("DE123456789".into()),
        },
        order_number: "1042".into(),
        placed_on: "2026-11-28".into(),
        customer: CustomerView {
            name: "Ana <b>Lima</b>".into(),
            email: "ana@example.com".into(),
        },
        billing: vec![
            "Ana Lima".into(),
            "Rua Augusta 1".into(),
            "1100-053 Lisboa".into(),
            "PT".into(),
        ],
        shipping: vec![
            "Ana Lima".into(),
            "Rua Augusta 1".into(),
            "1100-053 Lisboa".into(),
            "PT".into(),
        ],
        prices_include_vat: true,
        lines: vec![
            LineView {
                sku: "MUG-1".into(),
                name: "Enamel mug".into(),
                quantity: 3,
                unit_price: "12.90 EUR".into(),
                amount: "38.70 EUR".into(),
                vat_rate: "19.00".into(),
            },
            LineView {
                sku: "BOOK-7".into(),
                name: "Bread & Butter: a cookbook for <every> kitchen, revised".into(),
                quantity: 1,
                unit_price: "24.00 EUR".into(),
                amount: "24.00 EUR".into(),
                vat_rate: "7.00".into(),
            },
        ],
        discount: Some("5.00 EUR".into()),
        charges: vec![ChargeView {
            label: "Shipping".into(),
            amount: "4.90 EUR".into(),
        }],
        vat: vec![
            VatView {
                rate: "7.00".into(),
                taxable: "20.64 EUR".into(),
                tax: "1.45 EUR".into(),
            },
            VatView {
                rate: "19.00".into(),
                taxable: "34.04 EUR".into(),
                tax: "6.47 EUR".into(),
            },
        ],
        net_total: "54.68 EUR".into(),
        vat_total: "7.92 EUR".into(),
        gross_total: "62.60 EUR".into(),
    }
}

#[test]
fn the_text_confirmation_is_aligned() {
    let text = sample().render_text(&Templates::builtin()).unwrap();
    insta::assert_snapshot!(text);
    // Every amount column ends at the same position.
    let ends: Vec<usize> = text
        .lines()
        .filter(|l| l.trim_end().ends_with("EUR") && l.contains("  "))
        .map(|l| l.trim_end().chars().count())
        .collect();
    assert!(ends.len() >= 6, "{ends:?}");
    assert!(ends.windows(2).all(|w| w[0] == w[1]), "{ends:?}");
}

#[test]
fn the_html_confirmation_escapes_every_value() {
    let html = sample().render_html(&Templates::builtin()).unwrap();
    insta::assert_snapshot!(html);
    assert!(
        html.contains("Ana &lt;b&gt;Lima&lt;&#x2f;b&gt;")
            || html.contains("Ana &lt;b&gt;Lima&lt;/b&gt;"),
        "{html}"
    );
    assert!(!html.contains("<every>"));
    assert!(html.contains("Bread &amp; Butter"));
}

#[test]
fn a_host_template_replaces_the_builtin_and_typos_fail_loudly() {
    let templates = Templates::builtin()
        .with_text("{{ order_number }} for {{ customer.name }}: {{ gross_total }}")
        .unwrap();
    assert_eq!(
        sample().render_text(&templates).unwrap(),
        "1042 for Ana <b>Lima</b>: 62.60 EUR"
    );

    let typo = Templates::builtin().with_text("{{ gross_totl }}").unwrap();
    let err = sample().render_text(&typo).unwrap_err();
    assert_eq!(
        err.kind(),
        crate::ErrorKind::Validation { field: "template" }
    );

    let broken = Templates::builtin().with_html("{% for %}");
    assert_eq!(
        broken.unwrap_err().kind(),
        crate::ErrorKind::Validation { field: "template" }
    );
}

#[test]
fn debug_shows_no_personal_data() {
    let shown = format!("{:?}", sample());
    assert!(!shown.contains("Ana") && !shown.contains("Augusta") && !shown.contains("example.com"));
}
