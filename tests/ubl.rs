//! UBL 2.1 rendering of invoices and credit notes.
//!
//! `corpus` writes a set of realistic documents to `target/einvoice/en16931/` and
//! `target/einvoice/xrechnung/`, which `.ci/run` feeds to the official EN 16931 and XRechnung
//! rules (`../shared/einvoice/validate.sh`). The other tests pin a few documents as snapshots
//! and check the refusals.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::PathBuf;

mod documents;

use documents::*;
use shopkeep::catalog::{BankAccount, Contact, Iban, PostalAddress, Seller, SellerIdentifier};
use shopkeep::customers::{Address, ElectronicAddress, Phone, VatId};
use shopkeep::invoices::{
    DocumentKind, InvoiceBuyer, InvoiceDocument, InvoiceDocumentBuilder, Profile, to_ubl,
};
use shopkeep::orders::{Charge, PriceMode, VatCategory};
use shopkeep::{Currency, Email, ErrorKind};

fn corpus_en16931() -> Vec<(&'static str, InvoiceDocument)> {
    let eur = Currency::EUR;
    let outside = vat(
        VatCategory::OutsideScope,
        "0",
        Some("Not subject to VAT: donation"),
    );
    let zero = vat(VatCategory::ZeroRated, "0", None);
    let chf = Currency::CHF;
    let jpy = Currency::JPY;

    vec![
        ("b2b-mixed-coupon-shipping", b2b_mixed()),
        (
            "b2c-inclusive-rounding",
            invoice("INV-2026-000002", eur, PriceMode::TaxInclusive, consumer())
                .line(line("1", "Sticker", money("0.99", eur), 3, s19()))
                .line(line("2", "Mug", money("19.99", eur), 1, s19()))
                .line(line("3", "Tea 100 g", money("2.49", eur), 7, s7()))
                .line(line("4", "Magazine", money("0.99", eur), 3, s7()))
                .discount(money("5.00", eur), "Coupon WELCOME5")
                .charge("Shipping", Charge::new(money("4.90", eur), s19()).unwrap())
                .build()
                .unwrap(),
        ),
        (
            "b2c-inclusive-odd-cents",
            invoice("INV-2026-000003", eur, PriceMode::TaxInclusive, consumer())
                .line(line("1", "Pen", money("0.99", eur), 3, s19()))
                .line(line("2", "Notebook", money("19.99", eur), 3, s19()))
                .discount(money("0.01", eur), "Rounding goodwill")
                .build()
                .unwrap(),
        ),
        (
            "zero-rated",
            invoice("INV-2026-000004", eur, PriceMode::TaxExclusive, consumer())
                .line(line("1", "Printed newspaper", money("3.20", eur), 5, zero))
                .line(line("2", "Tote bag", money("9.99", eur), 1, s19()))
                .build()
                .unwrap(),
        ),
        ("exempt", exempt_course("INV-2026-000005")),
        (
            "reverse-charge",
            installation_reverse_charge("INV-2026-000006"),
        ),
        (
            "intra-community-supply",
            beans_to_france("INV-2026-000007")
                .discount(money("21.00", eur), "Volume discount")
                .build()
                .unwrap(),
        ),
        ("export-chf", export_chf("INV-2026-000008")),
        (
            "chf-with-eur-vat-accounting",
            invoice("INV-2026-000009", chf, PriceMode::TaxInclusive, consumer())
                .line(line("1", "Grinder", money("129.90", chf), 1, s19()))
                .line(line("2", "Chocolate", money("3.95", chf), 4, s7()))
                .vat_accounting(eur, "1.0650")
                .build()
                .unwrap(),
        ),
        ("jpy", jpy_b2b("INV-2026-000010")),
        (
            "jpy-inclusive",
            invoice("INV-2026-000011", jpy, PriceMode::TaxInclusive, consumer())
                .line(line("1", "Drip bags", money("333", jpy), 7, s19()))
                .line(line("2", "Tea", money("999", jpy), 1, s7()))
                .build()
                .unwrap(),
        ),
        (
            "outside-scope",
            invoice("INV-2026-000012", eur, PriceMode::TaxExclusive, consumer())
                .line(line(
                    "1",
                    "Donation to the coffee farmers' fund",
                    money("50.00", eur),
                    1,
                    outside,
                ))
                .build()
                .unwrap(),
        ),
        (
            "credit-note-full",
            b2b_mixed_contents(credit_note("CN-2026-000001", "INV-2026-000001", cafe()))
                .build()
                .unwrap(),
        ),
        ("credit-note-partial", returned_bag("CN-2026-000002")),
        ("seller-swiss-uid", swiss_seller_invoice()),
        ("seller-norwegian-org", norwegian_seller_invoice()),
        ("seller-registration-only", registered_seller_invoice()),
    ]
}

/// A seller at `street`, `post_code` `city` in `code`, reached at `phone`, with no identifier
/// yet.
fn seller_in(name: &str, street: &str, post_code: &str, city: &str, code: &str) -> Seller {
    let phone = match code {
        "CH" => "+41 44 123 45 67",
        "NO" => "+47 22 12 34 56",
        _ => "+49 30 1234567",
    };
    Seller::new(
        name,
        PostalAddress::new(street, post_code, city, country(code)).unwrap(),
        Contact::new(
            "Erika Muster",
            Phone::parse(phone).unwrap(),
            Email::parse("billing@example.com").unwrap(),
        )
        .unwrap(),
    )
    .unwrap()
}

/// A consumer at `street`, `post_code` `city` in `code`.
fn consumer_in(street: &str, post_code: &str, city: &str, code: &str) -> InvoiceBuyer {
    InvoiceBuyer::consumer(
        Address::new("Max Muster", street, city, country(code))
            .unwrap()
            .with_postal_code(post_code)
            .unwrap(),
    )
}

/// An invoice of two bags of beans at `rate` % from `seller` to `buyer` in `currency`.
fn beans_from(
    number: &str,
    seller: Seller,
    buyer: InvoiceBuyer,
    currency: Currency,
    rate: &str,
) -> InvoiceDocument {
    let standard = vat(VatCategory::Standard, rate, None);
    InvoiceDocument::builder(
        DocumentKind::Invoice,
        number,
        date(2026, 3, 14),
        currency,
        PriceMode::TaxExclusive,
        seller,
        buyer,
    )
    .line(line(
        "1",
        "Espresso beans 1 kg",
        money("24.90", currency),
        2,
        standard,
    ))
    .build()
    .unwrap()
}

/// A Swiss seller identified by its UID: as VAT id (`CHE-... MWST`, BT-31) and as seller
/// identifier (scheme 0183, BT-29); Swiss VAT in CHF.
fn swiss_seller_invoice() -> InvoiceDocument {
    let seller = seller_in(
        "Rösterei Beispiel AG",
        "Bahnhofstrasse 1",
        "8001",
        "Zürich",
        "CH",
    )
    .vat_id(VatId::parse("CHE-116.281.710 MWST").unwrap())
    .identifier(SellerIdentifier::new("0183", "CHE-116.281.710").unwrap())
    .bank_account(BankAccount::new(
        Iban::parse("CH93 0076 2011 6238 5295 7").unwrap(),
    ));
    let buyer = consumer_in("Marktgasse 5", "3011", "Bern", "CH");
    beans_from("CH-2026-000001", seller, buyer, Currency::CHF, "8.1")
}

/// A Norwegian seller identified by its VAT id (`NO...MVA`, BT-31) and its organisation number
/// (scheme 0192, BT-29); Norwegian VAT in NOK.
fn norwegian_seller_invoice() -> InvoiceDocument {
    let seller = seller_in(
        "Kaffebrenneriet Eksempel AS",
        "Karl Johans gate 1",
        "0154",
        "Oslo",
        "NO",
    )
    .vat_id(VatId::parse("NO 923 609 016 MVA").unwrap())
    .identifier(SellerIdentifier::new("0192", "923 609 016").unwrap());
    let buyer = consumer_in("Bryggen 1", "5003", "Bergen", "NO");
    beans_from("NO-2026-000001", seller, buyer, Currency::NOK, "25")
}

/// A German seller with no VAT id, identified only by its commercial register entry (BT-30);
/// its tax number (BT-32) is what the taxed lines need (BR-S-02).
fn registered_seller_invoice() -> InvoiceDocument {
    let seller = seller_in(
        "Kaffee Beispiel UG",
        "Hauptstraße 1",
        "10115",
        "Berlin",
        "DE",
    )
    .tax_number("30/123/45678")
    .unwrap()
    .registration("HRB 54321 B, Amtsgericht Charlottenburg")
    .unwrap();
    beans_from("DE-2026-000001", seller, consumer(), Currency::EUR, "19")
}

fn xrechnung_invoice() -> InvoiceDocument {
    let eur = Currency::EUR;
    invoice(
        "INV-2026-000100",
        eur,
        PriceMode::TaxExclusive,
        xrechnung_buyer(),
    )
    .seller_electronic_address(
        ElectronicAddress::new("EM", "rechnung@beispiel-verkauf.de").unwrap(),
    )
    .line(line(
        "1",
        "Espresso beans 1 kg",
        money("24.90", eur),
        10,
        s19(),
    ))
    .line(line("2", "Cookbook", money("18.00", eur), 3, s7()))
    .discount(money("15.00", eur), "Framework agreement discount")
    .charge("Shipping", Charge::new(money("6.90", eur), s19()).unwrap())
    .build()
    .unwrap()
}

fn corpus_xrechnung() -> Vec<(&'static str, InvoiceDocument)> {
    let eur = Currency::EUR;
    vec![
        ("xrechnung-invoice", xrechnung_invoice()),
        (
            "xrechnung-credit-note",
            credit_note("CN-2026-000100", "INV-2026-000100", xrechnung_buyer())
                .seller_electronic_address(
                    ElectronicAddress::new("EM", "rechnung@beispiel-verkauf.de").unwrap(),
                )
                .line(line("2", "Cookbook", money("18.00", eur), 1, s7()))
                .supply_date(date(2026, 3, 10))
                .build()
                .unwrap(),
        ),
    ]
}

fn write_corpus(
    folder: &str,
    documents: &[(&str, InvoiceDocument)],
    profile: Profile,
) -> TestResult {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target/einvoice")
        .join(folder);
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    std::fs::create_dir_all(&dir)?;
    for (name, document) in documents {
        std::fs::write(dir.join(format!("{name}.xml")), to_ubl(document, profile)?)?;
    }
    Ok(())
}

/// The validation corpus: `.ci/run` runs the official rules on these files.
#[test]
fn corpus() -> TestResult {
    let documents = corpus_en16931();
    let categories: std::collections::BTreeSet<&str> = documents
        .iter()
        .flat_map(|(_, d)| {
            d.totals()
                .vat_groups()
                .iter()
                .map(|g| g.vat().category().code())
        })
        .collect();
    assert_eq!(categories.len(), VatCategory::ALL.len(), "{categories:?}");
    write_corpus("en16931", &documents, Profile::En16931)?;
    write_corpus("xrechnung", &corpus_xrechnung(), Profile::XRechnung)?;
    Ok(())
}

#[test]
fn snapshot_b2b_invoice() -> TestResult {
    insta::assert_snapshot!(to_ubl(&b2b_mixed(), Profile::En16931)?);
    Ok(())
}

#[test]
fn snapshot_partial_credit_note() -> TestResult {
    insta::assert_snapshot!(to_ubl(&returned_bag("CN-2026-000002"), Profile::En16931)?);
    Ok(())
}

#[test]
fn snapshot_xrechnung_invoice() -> TestResult {
    insta::assert_snapshot!(to_ubl(&xrechnung_invoice(), Profile::XRechnung)?);
    Ok(())
}

#[test]
fn totals_add_up_in_the_document() -> TestResult {
    let xml = to_ubl(&b2b_mixed(), Profile::En16931)?;
    // 4 × 24.90 + 2 × 18.00 = 135.60; coupon 10.00; shipping 6.90; net 132.50.
    for expected in [
        r#"<cbc:LineExtensionAmount currencyID="EUR">135.60</cbc:LineExtensionAmount>"#,
        r#"<cbc:AllowanceTotalAmount currencyID="EUR">10.00</cbc:AllowanceTotalAmount>"#,
        r#"<cbc:ChargeTotalAmount currencyID="EUR">6.90</cbc:ChargeTotalAmount>"#,
        r#"<cbc:TaxExclusiveAmount currencyID="EUR">132.50</cbc:TaxExclusiveAmount>"#,
        "<cbc:Percent>19.00</cbc:Percent>",
        "Kaffeerösterei Beispiel &amp; Söhne GmbH",
        "Thank you for your order &lt;3",
    ] {
        assert!(xml.contains(expected), "missing {expected}");
    }
    Ok(())
}

fn field_of(error: shopkeep::Error) -> &'static str {
    match error.kind() {
        ErrorKind::Validation { field } => field,
        other => panic!("not a validation error: {other:?}"),
    }
}

#[test]
fn kwd_is_refused_not_rounded() -> TestResult {
    let kwd = Currency::KWD;
    let doc = invoice("INV-KW-1", kwd, PriceMode::TaxExclusive, consumer())
        .line(line("1", "Mug", money("1.250", kwd), 1, s19()))
        .build()?;
    let err = to_ubl(&doc, Profile::En16931).unwrap_err();
    assert!(err.message().contains("KWD"), "{}", err.message());
    assert_eq!(field_of(err), "currency");
    Ok(())
}

#[test]
fn jpy_amounts_have_no_decimals() -> TestResult {
    let jpy = Currency::JPY;
    let doc = invoice("INV-JP-1", jpy, PriceMode::TaxExclusive, consumer())
        .line(line("1", "Mug", money("1500", jpy), 2, s19()))
        .build()?;
    let xml = to_ubl(&doc, Profile::En16931)?;
    assert!(xml.contains(r#"<cbc:PayableAmount currencyID="JPY">3570</cbc:PayableAmount>"#));
    Ok(())
}

#[test]
fn the_model_refuses_incomplete_documents() {
    let eur = Currency::EUR;
    let intra = vat(VatCategory::IntraCommunitySupply, "0", Some(INTRA));
    let reverse = vat(VatCategory::ReverseCharge, "0", Some("Reverse charge"));
    let outside = vat(VatCategory::OutsideScope, "0", Some("Not subject to VAT"));
    let base = |buyer| invoice("INV-X", eur, PriceMode::TaxExclusive, buyer);
    let k_line = || line("1", "Beans", money("10.00", eur), 1, intra.clone());

    let cases: Vec<(&str, InvoiceDocumentBuilder)> = vec![
        ("lines", base(consumer())),
        (
            "buyer.vat_id",
            base(consumer())
                .line(k_line())
                .delivery_country(country("FR")),
        ),
        (
            "buyer.vat_id",
            base(business("No VAT id SARL", None, "FR")).line(line(
                "1",
                "Work",
                money("10.00", eur),
                1,
                reverse,
            )),
        ),
        (
            "delivery_country",
            base(business("Exemple SARL", Some("FR40303265045"), "FR")).line(k_line()),
        ),
        (
            "vat_category",
            base(consumer())
                .line(line("1", "Gift", money("10.00", eur), 1, outside))
                .line(line("2", "Mug", money("10.00", eur), 1, s19())),
        ),
        (
            "discount_reason",
            base(consumer())
                .line(line("1", "Mug", money("10.00", eur), 1, s19()))
                .discount(money("1.00", eur), " "),
        ),
        (
            "due_date",
            base(consumer())
                .line(line("1", "Mug", money("10.00", eur), 1, s19()))
                .payment_terms("Now", date(2026, 1, 1)),
        ),
    ];
    for (field, builder) in cases {
        let err = builder.build().unwrap_err();
        assert_eq!(field_of(err), field);
    }

    // A K line without a supply date.
    let no_date = InvoiceDocument::builder(
        DocumentKind::Invoice,
        "INV-X",
        date(2026, 3, 14),
        eur,
        PriceMode::TaxExclusive,
        seller(),
        business("Exemple SARL", Some("FR40303265045"), "FR"),
    )
    .line(k_line())
    .delivery_country(country("FR"));
    assert_eq!(field_of(no_date.build().unwrap_err()), "supply_date");

    // A seller with neither VAT id nor tax number.
    let bare = Seller::new(
        "Bare GmbH",
        PostalAddress::new("Weg 1", "10115", "Berlin", country("DE")).unwrap(),
        Contact::new(
            "A",
            Phone::parse("+49 30 1234567").unwrap(),
            Email::parse("a@example.com").unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    let doc = InvoiceDocument::builder(
        DocumentKind::Invoice,
        "INV-X",
        date(2026, 3, 14),
        eur,
        PriceMode::TaxExclusive,
        bare,
        consumer(),
    )
    .line(line("1", "Mug", money("10.00", eur), 1, s19()));
    assert_eq!(field_of(doc.build().unwrap_err()), "seller.vat_id");
}

#[test]
fn a_seller_identified_only_by_a_tax_number_is_refused_naming_br_co_26() {
    let eur = Currency::EUR;
    let document = |seller: Seller| {
        InvoiceDocument::builder(
            DocumentKind::Invoice,
            "INV-X",
            date(2026, 3, 14),
            eur,
            PriceMode::TaxExclusive,
            seller,
            consumer(),
        )
        .line(line("1", "Mug", money("10.00", eur), 1, s19()))
        .build()
    };
    let tax_number_only = || {
        seller_in("Bare GmbH", "Weg 1", "10115", "Berlin", "DE")
            .tax_number("27/123/45678")
            .unwrap()
    };
    let err = document(tax_number_only()).unwrap_err();
    assert!(err.message().contains("BR-CO-26"), "{err}");
    assert_eq!(field_of(err), "seller.identifier");

    // A seller identifier alone (with the tax number the taxed line needs) is enough, and
    // UBL states it as the party identification with its scheme.
    let gln = SellerIdentifier::new("0088", "4000001000005").unwrap();
    let xml = to_ubl(
        &document(tax_number_only().identifier(gln.clone())).unwrap(),
        Profile::En16931,
    )
    .unwrap();
    // It also identifies the seller where a document outside the scope of VAT omits VAT ids.
    let outside = vat(VatCategory::OutsideScope, "0", Some("Not subject to VAT"));
    let donation = |seller: Seller| {
        InvoiceDocument::builder(
            DocumentKind::Invoice,
            "INV-O",
            date(2026, 3, 14),
            eur,
            PriceMode::TaxExclusive,
            seller,
            consumer(),
        )
        .line(line(
            "1",
            "Donation",
            money("10.00", eur),
            1,
            outside.clone(),
        ))
        .build()
    };
    let vat_id_only = seller_in("Bare GmbH", "Weg 1", "10115", "Berlin", "DE")
        .vat_id(VatId::parse("DE123456789").unwrap());
    assert_eq!(
        field_of(donation(vat_id_only.clone()).unwrap_err()),
        "seller.registration"
    );
    donation(vat_id_only.identifier(gln)).unwrap();
    assert!(
        xml.contains(
            "<cac:PartyIdentification>\n        \
             <cbc:ID schemeID=\"0088\">4000001000005</cbc:ID>"
        ),
        "{xml}"
    );
}

#[test]
fn seller_identities_are_stated_in_their_ubl_places() -> TestResult {
    let swiss = to_ubl(&swiss_seller_invoice(), Profile::En16931)?;
    for expected in [
        r#"<cbc:ID schemeID="0183">CHE116281710</cbc:ID>"#,
        "<cbc:CompanyID>CHE-116.281.710 MWST</cbc:CompanyID>",
    ] {
        assert!(swiss.contains(expected), "missing {expected}: {swiss}");
    }
    let norwegian = to_ubl(&norwegian_seller_invoice(), Profile::En16931)?;
    for expected in [
        r#"<cbc:ID schemeID="0192">923609016</cbc:ID>"#,
        "<cbc:CompanyID>NO923609016MVA</cbc:CompanyID>",
    ] {
        assert!(
            norwegian.contains(expected),
            "missing {expected}: {norwegian}"
        );
    }
    // BT-30 goes to the legal entity; the tax number to a tax scheme other than VAT.
    let registered = to_ubl(&registered_seller_invoice(), Profile::En16931)?;
    for expected in [
        "<cbc:CompanyID>HRB 54321 B, Amtsgericht Charlottenburg</cbc:CompanyID>\n      \
         </cac:PartyLegalEntity>",
        "<cbc:CompanyID>30/123/45678</cbc:CompanyID>\n        <cac:TaxScheme>\n          \
         <cbc:ID>FC</cbc:ID>",
    ] {
        assert!(
            registered.contains(expected),
            "missing {expected}: {registered}"
        );
    }
    assert!(!registered.contains("PartyIdentification"), "{registered}");
    // No VAT id: the tax number's is the only party tax scheme.
    assert_eq!(registered.matches("<cac:PartyTaxScheme>").count(), 1);
    Ok(())
}

#[test]
fn xrechnung_needs_its_fields() -> TestResult {
    let eur = Currency::EUR;
    // A consumer has no buyer reference.
    let doc = invoice("INV-X", eur, PriceMode::TaxExclusive, consumer())
        .line(line("1", "Mug", money("10.00", eur), 1, s19()))
        .build()?;
    assert_eq!(
        field_of(to_ubl(&doc, Profile::XRechnung).unwrap_err()),
        "buyer.buyer_reference"
    );
    // Without the seller's electronic address.
    let doc = invoice("INV-X", eur, PriceMode::TaxExclusive, xrechnung_buyer())
        .line(line("1", "Mug", money("10.00", eur), 1, s19()))
        .build()?;
    assert_eq!(
        field_of(to_ubl(&doc, Profile::XRechnung).unwrap_err()),
        "seller_electronic_address"
    );
    assert!(to_ubl(&doc, Profile::En16931).is_ok());
    Ok(())
}

#[test]
fn vat_total_in_the_accounting_currency() -> TestResult {
    let chf = Currency::CHF;
    let doc = invoice("INV-CH-1", chf, PriceMode::TaxInclusive, consumer())
        .line(line("1", "Grinder", money("129.90", chf), 1, s19()))
        .line(line("2", "Chocolate", money("3.95", chf), 4, s7()))
        .vat_accounting(Currency::EUR, "1.0650")
        .build()?;
    // VAT 20.74 + 1.03 = 21.77 CHF; × 1.065 = 23.18505 EUR, rounded half away from zero.
    assert_eq!(doc.totals().vat_total(), money("21.77", chf));
    let accounting = doc.vat_accounting().map(|a| a.vat_total());
    assert_eq!(accounting, Some(money("23.19", Currency::EUR)));
    let xml = to_ubl(&doc, Profile::En16931)?;
    assert!(xml.contains("<cbc:TaxCurrencyCode>EUR</cbc:TaxCurrencyCode>"));
    assert!(xml.contains(r#"<cbc:TaxAmount currencyID="EUR">23.19</cbc:TaxAmount>"#));
    for rate in ["", "abc", "0", "-1.2", "1.0000000001"] {
        let err = invoice("INV-CH-1", chf, PriceMode::TaxInclusive, consumer())
            .line(line("1", "Grinder", money("129.90", chf), 1, s19()))
            .vat_accounting(Currency::EUR, rate)
            .build()
            .unwrap_err();
        assert_eq!(field_of(err), "vat_accounting", "rate {rate:?}");
    }
    Ok(())
}

#[test]
fn inexact_unit_prices_use_a_base_quantity() -> TestResult {
    let eur = Currency::EUR;
    let doc = invoice("INV-X", eur, PriceMode::TaxInclusive, consumer())
        .line(line("1", "Sticker", money("0.99", eur), 3, s19()))
        .build()?;
    // 2.97 gross at 19 % is 2.50 net: not a multiple of 3 cents.
    assert_eq!(
        doc.totals().lines().first().map(|l| l.net()),
        Some(money("2.50", eur))
    );
    let xml = to_ubl(&doc, Profile::En16931)?;
    assert!(xml.contains(r#"<cbc:PriceAmount currencyID="EUR">2.50</cbc:PriceAmount>"#));
    assert!(xml.contains(r#"<cbc:BaseQuantity unitCode="C62">3</cbc:BaseQuantity>"#));
    Ok(())
}

#[test]
fn a_prepaid_amount_is_subtracted_from_the_amount_due_and_checked() -> TestResult {
    let eur = |a: &str| money(a, Currency::EUR);
    let build = |paid: shopkeep::Money| {
        invoice(
            "INV-P-1",
            Currency::EUR,
            PriceMode::TaxExclusive,
            consumer(),
        )
        .line(line("1", "Mug", eur("10.00"), 1, s19()))
        .prepaid(paid)
        .build()
    };
    let part = build(eur("4.00"))?;
    assert_eq!(part.amount_due(), eur("7.90"));
    let xml = to_ubl(&part, Profile::En16931)?;
    assert!(xml.contains(r#"<cbc:PrepaidAmount currencyID="EUR">4.00</cbc:PrepaidAmount>"#));
    assert!(xml.contains(r#"<cbc:PayableAmount currencyID="EUR">7.90</cbc:PayableAmount>"#));
    for bad in [eur("11.91"), eur("-0.01"), money("1.00", Currency::CHF)] {
        let err = build(bad).unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::Validation { field: "prepaid" },
            "{bad}"
        );
    }
    Ok(())
}
