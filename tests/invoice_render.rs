//! Plain-text, HTML and PDF invoices: fixed scenarios in, snapshots out, plus the content each
//! must state (EU VAT Directive Art. 226, EN 16931), escaping and host templates.
#![allow(clippy::unwrap_used, clippy::panic)]

mod documents;

use documents::*;
use shopkeep::invoices::{InvoiceDocument, InvoiceTemplates, to_html, to_text};
use shopkeep::orders::{Charge, PriceMode};
use shopkeep::{Currency, ErrorKind};

/// A consumer in Germany, gross prices at 19 % and 7 %, a coupon and shipping.
fn b2c_inclusive() -> InvoiceDocument {
    let eur = Currency::EUR;
    invoice("INV-2026-000020", eur, PriceMode::TaxInclusive, consumer())
        .line(line("1", "Enamel mug", money("12.90", eur), 3, s19()))
        .line(line(
            "2",
            "Cookbook \"Coffee & Cake\"",
            money("24.00", eur),
            1,
            s7(),
        ))
        .line(line("3", "Tea 100 g", money("2.49", eur), 4, s7()))
        .discount(money("5.00", eur), "Coupon WELCOME5")
        .charge("Shipping", Charge::new(money("4.90", eur), s19()).unwrap())
        .build()
        .unwrap()
}

fn reverse_charge() -> InvoiceDocument {
    installation_reverse_charge("INV-2026-000021")
}

fn export() -> InvoiceDocument {
    export_chf("INV-2026-000022")
}

fn intra_community() -> InvoiceDocument {
    beans_to_france("INV-2026-000026").build().unwrap()
}

fn exempt() -> InvoiceDocument {
    exempt_course("INV-2026-000023")
}

fn jpy() -> InvoiceDocument {
    jpy_b2b("INV-2026-000024")
}

fn credit() -> InvoiceDocument {
    returned_bag("CN-2026-000003")
}

/// Markup in every text a customer or staff member can type.
fn escaping() -> InvoiceDocument {
    let eur = Currency::EUR;
    let buyer = shopkeep::invoices::InvoiceBuyer::consumer(
        shopkeep::customers::Address::new(
            "<script>alert(1)</script>",
            "Main St & 5th",
            "Berlin",
            country("DE"),
        )
        .unwrap(),
    );
    invoice("INV-2026-000025", eur, PriceMode::TaxExclusive, buyer)
        .line(line("1", "<b>Bold</b> mug", money("10.00", eur), 1, s19()))
        .note("<img src=x onerror=alert(2)>")
        .build()
        .unwrap()
}

fn scenarios() -> Vec<(&'static str, InvoiceDocument)> {
    vec![
        ("b2c_inclusive_de", b2c_inclusive()),
        ("b2b_reverse_charge", reverse_charge()),
        ("export_g", export()),
        ("intra_community_k", intra_community()),
        ("exempt_e", exempt()),
        ("jpy", jpy()),
        ("credit_note", credit()),
        ("escaping", escaping()),
    ]
}

#[test]
fn snapshots_of_every_scenario() -> TestResult {
    let templates = InvoiceTemplates::builtin();
    for (name, document) in scenarios() {
        insta::assert_snapshot!(format!("{name}_text"), to_text(&document, &templates)?);
        insta::assert_snapshot!(format!("{name}_html"), to_html(&document, &templates)?);
    }
    Ok(())
}

/// What every document states, in text and in HTML: Art. 226 of the VAT Directive.
#[test]
fn every_legally_required_field_is_printed() -> TestResult {
    let templates = InvoiceTemplates::builtin();
    for (name, d) in scenarios() {
        let text = to_text(&d, &templates)?;
        let html = to_html(&d, &templates)?;
        let t = d.totals();
        let mut expected = vec![
            d.number().to_owned(),
            d.issue_date().to_string(),
            "DE123456789".to_owned(),
            "Hauptstraße 1".to_owned(),
            "10115 Berlin".to_owned(),
            t.net_total().to_string(),
            t.vat_total().to_string(),
            t.gross_total().to_string(),
        ];
        for g in t.vat_groups() {
            expected.push(g.taxable().to_string());
            expected.push(g.tax().to_string());
            expected.push(g.vat().rate().to_string());
        }
        for total in t.lines() {
            expected.push(total.shown().to_string());
        }
        if name != "credit_note" {
            expected.push("Supply date".to_owned());
            expected.push("2026-03-10".to_owned());
        }
        for want in &expected {
            assert!(
                text.contains(want.as_str()),
                "{name}: text lacks {want}\n{text}"
            );
            assert!(html.contains(want.as_str()), "{name}: HTML lacks {want}");
        }
        if name != "escaping" {
            let streets = ["Marktplatz 5", "Bahnhofstrasse 1", "Rue de la Paix 10"];
            assert!(
                streets.iter().any(|s| text.contains(s)),
                "{name}: the buyer's address"
            );
        }
    }
    Ok(())
}

#[test]
fn category_wording_and_exemption_reasons() -> TestResult {
    let templates = InvoiceTemplates::builtin();
    let text = to_text(&reverse_charge(), &templates)?;
    assert!(text.contains("AE Reverse charge"), "{text}");
    assert!(text.contains(REVERSE));
    assert!(
        text.contains("VAT ID: DE811907980"),
        "the buyer's VAT id:\n{text}"
    );
    assert!(text.contains("1280.00 EUR"));

    let text = to_text(&export(), &templates)?;
    assert!(text.contains("G Export outside the EU"));
    assert!(text.contains(EXPORT));
    assert!(text.contains("178.00 CHF"), "{text}"); // 6 × 26.50 + 19.00

    let text = to_text(&intra_community(), &templates)?;
    assert!(text.contains("K Intra-community supply"));
    assert!(text.contains(INTRA));
    assert!(
        text.contains("VAT ID: FR40303265045"),
        "the buyer's VAT id:\n{text}"
    );
    assert!(text.contains("Delivered to:         FR"), "{text}");

    let text = to_text(&exempt(), &templates)?;
    assert!(text.contains("E Exempt from VAT"));
    assert!(text.contains(EXEMPT));
    Ok(())
}

#[test]
fn jpy_amounts_have_no_decimals() -> TestResult {
    let text = to_text(&jpy(), &InvoiceTemplates::builtin())?;
    assert!(text.contains("3980 JPY"), "{text}");
    assert!(text.contains("11940 JPY"), "{text}"); // 3 × 3980
    assert!(
        !text.contains("JPY.") && !text.contains(".00 JPY"),
        "{text}"
    );
    Ok(())
}

#[test]
fn a_credit_note_names_the_invoice_it_corrects() -> TestResult {
    let templates = InvoiceTemplates::builtin();
    let text = to_text(&credit(), &templates)?;
    assert!(text.contains("Credit note CN-2026-000003"), "{text}");
    assert!(
        text.contains("Corrects invoice:     INV-2026-000001 of 2026-03-14"),
        "{text}"
    );
    assert!(text.contains("Amount credited"));
    let html = to_html(&credit(), &templates)?;
    assert!(html.contains("<dt>Corrects invoice</dt><dd>INV-2026-000001 of 2026-03-14</dd>"));
    Ok(())
}

#[test]
fn tax_inclusive_documents_say_so() -> TestResult {
    let text = to_text(&b2c_inclusive(), &InvoiceTemplates::builtin())?;
    assert!(text.contains("Prices include VAT"));
    // 3 × 12.90 + 24.00 + 4 × 2.49 − 5.00 + 4.90 = 72.56 paid.
    assert!(
        text.contains(
            "Amount due                                                         72.56 EUR"
        ),
        "{text}"
    );
    assert!(text.contains("Coupon WELCOME5"));
    assert!(text.contains("Shipping"));
    Ok(())
}

/// Art. 226 (8) VAT Directive: with gross prices every line also states its net amount (BT-131),
/// labelled, in its own place: the row under the line in text, a column in HTML.
#[test]
fn tax_inclusive_lines_state_their_net_amount() -> TestResult {
    let templates = InvoiceTemplates::builtin();
    let d = b2c_inclusive();
    let text = to_text(&d, &templates)?;
    let html = to_html(&d, &templates)?;
    let rows: Vec<&str> = text.lines().collect();
    assert!(
        html.contains(r#"<th class="num">Net of VAT</th>"#),
        "{html}"
    );
    let nets: Vec<String> = d
        .totals()
        .lines()
        .iter()
        .map(|t| t.net().to_string())
        .collect();
    assert_eq!(nets, ["32.52 EUR", "22.43 EUR", "9.31 EUR"]); // 38.70 / 1.19, 24.00 / 1.07, ...
    // The scenario's lines are numbered 1, 2, 3.
    for (id, total) in (1..).zip(d.totals().lines()) {
        let (shown, net) = (total.shown().to_string(), total.net().to_string());
        // Text: the row right under the line's own row.
        let at = rows
            .iter()
            .position(|r| r.starts_with(&format!("{id:<4}")) && r.ends_with(&shown))
            .unwrap();
        assert!(
            rows[at + 1].starts_with("    ") && rows[at + 1].trim() == format!("net of VAT {net}"),
            "line {id}: {:?}\n{text}",
            rows[at + 1]
        );
        // HTML: the cell after the gross amount, in the same row.
        assert!(
            html.contains(&format!(
                r#"<td class="num">{shown}</td><td class="num">{net}</td></tr>"#
            )),
            "line {id}: {html}"
        );
    }
    Ok(())
}

/// Net prices need no second figure: tax-exclusive documents print no net row or column.
#[test]
fn tax_exclusive_lines_have_no_net_row() -> TestResult {
    let templates = InvoiceTemplates::builtin();
    for (name, d) in scenarios() {
        if d.totals().mode() == PriceMode::TaxInclusive {
            continue;
        }
        let text = to_text(&d, &templates)?.to_lowercase();
        let html = to_html(&d, &templates)?.to_lowercase();
        assert!(!text.contains("net of vat"), "{name}: {text}");
        assert!(!html.contains("net of vat"), "{name}: {html}");
    }
    Ok(())
}

#[test]
fn the_text_invoice_is_aligned() -> TestResult {
    let templates = InvoiceTemplates::builtin();
    for (name, d) in scenarios() {
        let text = to_text(&d, &templates)?;
        let code = d.currency().code();
        // Every line that ends in an amount ends in the same column.
        let ends: Vec<usize> = text
            .lines()
            .filter(|l| l.ends_with(code) && l.contains("   ") && !l.starts_with("Currency"))
            .map(|l| l.chars().count())
            .collect();
        assert!(ends.len() > 4, "{name}: {ends:?}");
        assert!(ends.iter().all(|e| *e == 76), "{name}: {ends:?}\n{text}");
    }
    Ok(())
}

#[test]
fn html_escapes_every_value() -> TestResult {
    let html = to_html(&escaping(), &InvoiceTemplates::builtin())?;
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"),
        "{html}"
    );
    assert!(html.contains("&lt;b&gt;Bold&lt;&#x2f;b&gt; mug"));
    assert!(html.contains("&lt;img src=x onerror=alert(2)&gt;"));
    assert!(html.contains("Main St &amp; 5th"));
    assert!(!html.contains("<script>") && !html.contains("<b>") && !html.contains("<img"));
    // Self-contained: nothing is fetched when the page is opened or printed.
    assert!(!html.contains("http://") && !html.contains("https://") && !html.contains("src=\""));
    Ok(())
}

#[test]
fn host_templates_replace_the_builtin_ones() -> TestResult {
    let templates = InvoiceTemplates::builtin()
        .with_text("{{ title }} {{ number }} for {{ buyer.name }}: {{ amount_due }}")?
        .with_html("<p>{{ buyer.name }}</p>")?;
    let d = escaping();
    assert_eq!(
        to_text(&d, &templates)?,
        "Invoice INV-2026-000025 for <script>alert(1)</script>: 11.90 EUR"
    );
    assert_eq!(
        to_html(&d, &templates)?,
        "<p>&lt;script&gt;alert(1)&lt;&#x2f;script&gt;</p>"
    );

    // Broken sources are refused when given; unknown values when rendering.
    let field = |e: shopkeep::Error| -> &'static str {
        match e.kind() {
            ErrorKind::Validation { field } => field,
            other => panic!("{other:?}"),
        }
    };
    let broken = InvoiceTemplates::builtin()
        .with_text("{% if %}")
        .unwrap_err();
    assert_eq!(field(broken), "template");
    let unknown = InvoiceTemplates::builtin().with_text("{{ no_such_value }}")?;
    assert_eq!(field(to_text(&d, &unknown).unwrap_err()), "template");
    Ok(())
}

#[cfg(feature = "pdf")]
mod pdf {
    use super::*;
    use shopkeep::invoices::to_pdf;

    /// The text a reader (or an archive's indexer) gets out of the PDF, whitespace collapsed.
    fn extract(pdf: &[u8]) -> String {
        let text = pdf_extract::extract_text_from_mem(pdf).unwrap();
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// Asserts that `text` holds each of `wants`, one after the other.
    fn in_order(text: &str, wants: impl IntoIterator<Item = String>, name: &str) {
        let mut from = 0;
        for want in wants {
            let at = text[from..].find(&want);
            assert!(
                at.is_some(),
                "{name}: PDF lacks {want:?} after {:?}\n{text}",
                &text[..from]
            );
            from += at.unwrap() + want.len();
        }
    }

    #[test]
    fn the_pdf_states_what_the_invoice_states() -> TestResult {
        for (name, d) in scenarios() {
            let pdf = to_pdf(&d)?;
            assert!(pdf.starts_with(b"%PDF-1.7"), "{name}");
            let text = extract(&pdf);
            let t = d.totals();
            let mut expected = vec![
                d.number().to_owned(),
                "VAT ID DE123456789".to_owned(),
                "Kaffeerösterei Beispiel & Söhne GmbH".to_owned(),
                format!("Total without VAT {}", t.net_total()),
                format!("Total VAT {}", t.vat_total()),
                format!("Total with VAT {}", t.gross_total()),
                "page 1 of 1".to_owned(),
            ];
            for g in t.vat_groups() {
                expected.push(format!("{} {} {}", g.vat().rate(), g.taxable(), g.tax()));
                if let Some(reason) = g.vat().exemption_reason() {
                    expected.push(reason.to_owned());
                }
            }
            for want in &expected {
                assert!(
                    text.contains(want.as_str()),
                    "{name}: PDF lacks {want:?}\n{text}"
                );
            }
        }
        let text = extract(&to_pdf(&reverse_charge())?);
        for want in [
            "Bau Beispiel GmbH",
            "VAT ID DE811907980",
            "AE Reverse charge",
            "Amount due 1280.00 EUR",
            "IBAN DE02 1203 0000 0000 2020 51, BIC BYLADEM1001",
            "Supply date 2026-03-10",
            "HRB 12345 B",
        ] {
            assert!(text.contains(want), "PDF lacks {want:?}\n{text}");
        }
        let text = extract(&to_pdf(&credit())?);
        assert!(text.contains("Credit note"), "{text}");
        assert!(text.contains("Corrects invoice"), "{text}");
        assert!(text.contains("INV-2026-000001 of 2026-03-14"), "{text}");
        let text = extract(&to_pdf(&jpy())?);
        assert!(text.contains("11940 JPY"), "{text}");
        Ok(())
    }

    /// Writes the scenarios' PDFs to `target/invoice-pdf/` for a person to look at.
    #[test]
    fn the_same_document_gives_the_same_bytes() -> TestResult {
        let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/invoice-pdf");
        std::fs::create_dir_all(&dir)?;
        for (name, d) in scenarios() {
            let pdf = to_pdf(&d)?;
            assert_eq!(pdf, to_pdf(&d)?, "{name}");
            std::fs::write(dir.join(format!("{name}.pdf")), pdf)?;
        }
        Ok(())
    }

    #[test]
    fn long_invoices_continue_on_further_pages() -> TestResult {
        let eur = Currency::EUR;
        let mut builder = invoice("INV-2026-000030", eur, PriceMode::TaxExclusive, consumer());
        for i in 1..=120 {
            let name = if i % 10 == 0 {
                format!(
                    "Line {i}: a long description that wraps over more than one row of the table, to test wrapping"
                )
            } else {
                format!("Line {i}")
            };
            builder = builder.line(line(&i.to_string(), &name, money("1.00", eur), 1, s19()));
        }
        let d = builder.build()?;
        let pdf = to_pdf(&d)?;
        let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/invoice-pdf");
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join("multi_page.pdf"), &pdf)?;
        let text = extract(&pdf);
        let pages = (1..10)
            .find(|n| text.contains(&format!("page {n} of {n}")))
            .unwrap();
        assert!(pages >= 3, "{pages} pages");
        for n in 1..=pages {
            assert!(text.contains(&format!("page {n} of {pages}")), "{text}");
        }
        assert!(text.contains("Description (continued)"));
        assert!(text.contains("Line 120: a long description"));
        assert!(text.contains("Amount due 142.80 EUR"), "{text}"); // 120.00 + 19 %
        Ok(())
    }

    /// The net row under each line (Art. 226 (8)) only with gross prices, read back in order.
    #[test]
    fn the_pdf_states_each_lines_net_only_with_gross_prices() -> TestResult {
        for (name, d) in scenarios() {
            let text = extract(&to_pdf(&d)?);
            if d.totals().mode() == PriceMode::TaxExclusive {
                assert!(
                    !text.to_lowercase().contains("net of vat"),
                    "{name}: {text}"
                );
                continue;
            }
            // Each line's gross amount, then (after its name and SKU) its net amount.
            let wants = (1..).zip(d.totals().lines()).flat_map(|(id, total)| {
                [
                    total.shown().to_string(),
                    format!("SKU-{id} net of VAT {}", total.net()),
                ]
            });
            in_order(&text, wants, name);
        }
        Ok(())
    }

    /// With gross prices each line takes a row more when nothing else fills it: lines without a
    /// SKU still flow over pages, wrap, and keep their net.
    #[test]
    fn long_tax_inclusive_invoices_keep_each_net_across_pages() -> TestResult {
        let eur = Currency::EUR;
        let mut builder = invoice("INV-2026-000033", eur, PriceMode::TaxInclusive, consumer());
        for i in 1..=120 {
            let id = i.to_string();
            let line = if i % 10 == 0 {
                let name = format!(
                    "Line {i}: a long description that wraps over more than one row of the table, to test wrapping"
                );
                line(&id, &name, money("1.00", eur), 1, s19())
            } else {
                let priced = shopkeep::orders::PricedLine::new(money("1.00", eur), 1, s19())?;
                shopkeep::invoices::DocumentLine::new(&id, &format!("Line {i}"), priced)?
            };
            builder = builder.line(line);
        }
        let d = builder.build()?;
        let pdf = to_pdf(&d)?;
        assert_eq!(pdf, to_pdf(&d)?);
        let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/invoice-pdf");
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join("multi_page_inclusive.pdf"), &pdf)?;
        let text = extract(&pdf);
        let pages = (1..20)
            .find(|n| text.contains(&format!("page {n} of {n}")))
            .unwrap();
        assert!(pages >= 4, "{pages} pages");
        for n in 1..=pages {
            assert!(text.contains(&format!("page {n} of {pages}")), "{text}");
        }
        // 1.00 gross at 19 % is 0.84 net (0.85 for a few: the lines' nets add up to the
        // group's), once per line, after the line's name.
        assert_eq!(text.matches("net of VAT ").count(), 120, "{text}");
        let wants = (1..)
            .zip(d.totals().lines())
            .flat_map(|(i, total)| [format!("Line {i}"), format!("net of VAT {}", total.net())]);
        in_order(&text, wants, "multi-page");
        assert!(text.contains("Line 120: a long description that wraps over more than one row of the table, to test wrapping SKU-120 net of VAT"), "{text}");
        assert!(text.contains("Description (continued)"));
        assert!(text.contains("Sum of lines (net) 100.84 EUR"), "{text}");
        assert!(text.contains("Amount due 120.00 EUR"), "{text}");
        Ok(())
    }

    /// Long names and reasons wrap; nothing is cut off.
    #[test]
    fn long_texts_wrap_and_are_kept_whole() -> TestResult {
        let eur = Currency::EUR;
        let company = "Allgemeine Kaffeehandels- und Röstereigesellschaft für Nord- und \
                       Süddeutschland mit beschränkter Haftung";
        let reason = "Loyalty discount for customers who have ordered every month for at least \
                      two years, granted once";
        let d = invoice(
            "INV-2026-000032",
            eur,
            PriceMode::TaxExclusive,
            business(company, Some("DE811907980"), "DE"),
        )
        .line(line("1", "Mug", money("100.00", eur), 1, s19()))
        .discount(money("10.00", eur), reason)
        .build()?;
        let pdf = to_pdf(&d)?;
        let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/invoice-pdf");
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join("long_texts.pdf"), &pdf)?;
        let text = extract(&pdf);
        assert!(text.contains(company), "{text}");
        assert!(text.contains(reason), "{text}");
        assert!(text.contains("-10.00 EUR"), "{text}");
        Ok(())
    }

    #[test]
    fn characters_the_font_lacks_print_as_question_marks() -> TestResult {
        let eur = Currency::EUR;
        let buyer = shopkeep::invoices::InvoiceBuyer::consumer(
            shopkeep::customers::Address::new("山田 太郎", "Main St 1", "Tokyo", country("JP"))
                .unwrap(),
        );
        let d = invoice("INV-2026-000031", eur, PriceMode::TaxExclusive, buyer)
            .line(line(
                "1",
                "Ελληνικά Кириллица ½ €",
                money("1.00", eur),
                1,
                s19(),
            ))
            .build()?;
        let text = extract(&to_pdf(&d)?);
        assert!(text.contains("Ελληνικά Кириллица ½ €"), "{text}");
        assert!(text.contains("Bill to ?? ??"), "{text}");
        Ok(())
    }
}
