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

/// The same order in a tax-exclusive shop: lines, discount and shipping are net.
fn sample_exclusive() -> Confirmation {
    let mut c = sample();
    c.prices_include_vat = false;
    for (line, (unit, amount)) in c
        .lines
        .iter_mut()
        .zip([("10.84 EUR", "32.52 EUR"), ("22.43 EUR", "22.43 EUR")])
    {
        line.unit_price = unit.into();
        line.amount = amount.into();
    }
    c.discount = Some("4.39 EUR".into());
    if let Some(shipping) = c.charges.first_mut() {
        shipping.amount = "4.12 EUR".into();
    }
    c
}

/// The amount rows of a text confirmation, in order: (label, amount in cents). An amount row
/// ends in an amount (`-5.00 EUR`) after a run of spaces; the label is what precedes that run.
fn amount_rows(text: &str) -> Vec<(String, i64)> {
    text.lines()
        .filter_map(|l| {
            let l = l.trim_end().strip_suffix(" EUR")?;
            let (label, amount) = l.rsplit_once(' ')?;
            let label = label.trim_end();
            let label = label.split("  ").next().unwrap_or(label);
            let cents = amount.replace('.', "").parse::<i64>().ok()?;
            Some((label.to_owned(), cents))
        })
        .collect()
}

fn sum(rows: &[(String, i64)]) -> i64 {
    rows.iter().map(|(_, cents)| cents).sum()
}

fn row(rows: &[(String, i64)], label: &str) -> usize {
    rows.iter()
        .position(|(l, _)| l == label)
        .unwrap_or_else(|| panic!("no row {label:?} in {rows:?}"))
}

#[test]
fn tax_inclusive_rows_add_up_as_printed() {
    let text = sample().render_text(&Templates::builtin()).unwrap();
    assert!(text.contains("Price incl. VAT") && text.contains("Amount incl. VAT"));
    let rows = amount_rows(&text);
    // Gross lines, less the discount, plus shipping: the total directly below them.
    let total = row(&rows, "Total");
    assert_eq!(sum(&rows[..total]), rows[total].1, "{text}");
    // What the total includes: the VAT rows and the amount without VAT, adding up to it again.
    let net = row(&rows, "Amount without VAT");
    assert_eq!(net, rows.len() - 1, "{text}");
    assert_eq!(sum(&rows[total + 1..]), rows[total].1, "{text}");
    assert_eq!(rows.len(), 2 + 2 + 1 + 2 + 1, "{rows:?}");
}

#[test]
fn tax_exclusive_rows_add_up_as_printed() {
    let text = sample_exclusive()
        .render_text(&Templates::builtin())
        .unwrap();
    insta::assert_snapshot!(text);
    assert!(text.contains("Price excl. VAT") && text.contains("Amount excl. VAT"));
    let rows = amount_rows(&text);
    // Net lines, less the discount, plus shipping: the total without VAT; then VAT on top.
    let net = row(&rows, "Total without VAT");
    let total = row(&rows, "Total");
    assert_eq!(sum(&rows[..net]), rows[net].1, "{text}");
    assert_eq!(sum(&rows[net..total]), rows[total].1, "{text}");
    assert_eq!(total, rows.len() - 1, "{text}");
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
