//! UBL 2.1 `Invoice` and `CreditNote` documents conforming to EN 16931 (and XRechnung 3.0).
//!
//! One function per UBL aggregate, in the order the UBL schema wants them. Every text and
//! attribute value is escaped by quick-xml.

use quick_xml::escape::escape;

use crate::error::{Error, Result};
use crate::invoices::model::{DocumentKind, DocumentLine, InvoiceDocument};
use crate::{Address, Currency, ElectronicAddress, Money, VatCategory, VatTreatment};

const NS_INVOICE: &str = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2";
const NS_CREDIT_NOTE: &str = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2";
const NS_CAC: &str = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2";
const NS_CBC: &str = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2";
const EN16931: &str = "urn:cen.eu:en16931:2017";
const XRECHNUNG: &str = "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0";
const PEPPOL_BILLING: &str = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0";

/// The rule set a UBL document is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Profile {
    /// Plain EN 16931 (CustomizationID `urn:cen.eu:en16931:2017`).
    En16931,
    /// The German CIUS XRechnung 3.0: buyer reference (Leitweg-ID), seller contact, electronic
    /// addresses of both parties and payment instructions are required.
    XRechnung,
}

/// Renders `document` as a UBL 2.1 `Invoice` (or `CreditNote`) for `profile`.
///
/// ```
/// use shopkeep::{Currency, Email, Money};
/// use shopkeep::catalog::{Contact, PostalAddress, Seller};
/// use shopkeep::customers::{Address, Country, Phone, VatId};
/// use shopkeep::invoices::{
///     Date, DocumentKind, DocumentLine, InvoiceBuyer, InvoiceDocument, Profile, to_ubl,
/// };
/// use shopkeep::money::TaxRate;
/// use shopkeep::orders::{PriceMode, PricedLine, VatCategory, VatTreatment};
///
/// let de = Country::parse("DE")?;
/// let seller = Seller::new(
///     "Kaffeerösterei Beispiel GmbH",
///     PostalAddress::new("Hauptstraße 1", "10115", "Berlin", de)?,
///     Contact::new("Erika Mustermann", Phone::parse("+49 30 1234567")?, Email::parse("shop@example.com")?)?,
/// )?
/// .vat_id(VatId::parse("DE123456789")?);
/// let buyer = InvoiceBuyer::consumer(Address::new("Max Muster", "Marktplatz 5", "München", de)?);
/// let vat = VatTreatment::new(VatCategory::Standard, TaxRate::parse("19")?, None)?;
/// let mug = PricedLine::new(Money::parse("12.90", Currency::EUR)?, 2, vat)?;
/// let doc = InvoiceDocument::builder(
///     DocumentKind::Invoice, "INV-2026-000001", Date::new(2026, 3, 1)?, Currency::EUR,
///     PriceMode::TaxExclusive, seller, buyer,
/// )
/// .line(DocumentLine::new("1", "Mug", mug)?)
/// .build()?;
/// let xml = to_ubl(&doc, Profile::En16931)?;
/// assert!(xml.contains(r#"<cbc:PayableAmount currencyID="EUR">30.70</cbc:PayableAmount>"#));
/// Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// A `Validation` error naming the field:
/// - `currency`: a currency with more than 2 decimals (KWD, BHD), which EN 16931 cannot express
///   (UBL-DT-01); the amounts are never rounded to fit;
/// - with [`Profile::XRechnung`]: `buyer.buyer_reference` (BT-10, the Leitweg-ID),
///   `buyer.electronic_address` (BT-49), `seller_electronic_address` (BT-34),
///   `buyer.postal_code`, `seller.bank_account` (payment instructions, BR-DE-1) when missing.
pub fn to_ubl(document: &InvoiceDocument, profile: Profile) -> Result<String> {
    check_currency(document.currency)?;
    if let Some(acc) = &document.accounting {
        check_currency(acc.vat_total.currency())?;
    }
    if profile == Profile::XRechnung {
        check_xrechnung(document)?;
    }
    let mut x = Xml::default();
    x.out
        .push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let (root, ns) = match document.kind {
        DocumentKind::Invoice => ("Invoice", NS_INVOICE),
        DocumentKind::CreditNote { .. } => ("CreditNote", NS_CREDIT_NOTE),
    };
    x.open_with(
        root,
        &[("xmlns", ns), ("xmlns:cac", NS_CAC), ("xmlns:cbc", NS_CBC)],
    );
    header(&mut x, document, profile);
    supplier_party(&mut x, document);
    customer_party(&mut x, document);
    delivery(&mut x, document);
    payment_means(&mut x, document);
    payment_terms(&mut x, document);
    allowances_and_charges(&mut x, document)?;
    tax_totals(&mut x, document);
    legal_monetary_total(&mut x, document);
    for (line, total) in document.lines.iter().zip(document.totals.lines()) {
        document_line(&mut x, document, line, total.net());
    }
    x.close(root);
    Ok(x.out)
}

fn check_currency(currency: Currency) -> Result<()> {
    if currency.exponent() > 2 {
        return Err(Error::validation(
            "currency",
            format!(
                "{} has {} decimals; EN 16931 amounts have at most 2, and shopkeep does not round \
                 an invoice to fit",
                currency.code(),
                currency.exponent()
            ),
        ));
    }
    Ok(())
}

fn check_xrechnung(d: &InvoiceDocument) -> Result<()> {
    let business = d.buyer.business.as_ref();
    let missing = |field: &'static str, what: &str| {
        Err(Error::validation(
            field,
            format!("XRechnung requires {what}"),
        ))
    };
    if business.and_then(|b| b.buyer_reference()).is_none() {
        return missing("buyer.buyer_reference", "the buyer reference (BT-10)");
    }
    if business.and_then(|b| b.electronic_address()).is_none() {
        return missing(
            "buyer.electronic_address",
            "the buyer's electronic address (BT-49)",
        );
    }
    if d.seller_endpoint.is_none() {
        return missing(
            "seller_electronic_address",
            "the seller's electronic address (BT-34)",
        );
    }
    if d.buyer.address.postal_code().is_none() {
        return missing("buyer.postal_code", "the buyer's post code (BR-DE-9)");
    }
    // A deliver-to address (BG-15) needs its city and post code (BR-DE-10, BR-DE-11); a
    // delivery country alone would be an address with neither.
    let delivery_post_code = d.delivery_address.as_ref().map(Address::postal_code);
    if d.delivery_country.is_some() && delivery_post_code.flatten().is_none() {
        return missing(
            "delivery_address",
            "a deliver-to address with city and post code (BR-DE-10, BR-DE-11)",
        );
    }
    if d.seller.bank().is_none() {
        return missing(
            "seller.bank_account",
            "payment instructions (BR-DE-1): the seller's bank account",
        );
    }
    Ok(())
}

/// IDs, dates, type code, notes, currencies, buyer reference and the billing reference.
fn header(x: &mut Xml, d: &InvoiceDocument, profile: Profile) {
    match profile {
        Profile::En16931 => x.leaf("cbc:CustomizationID", EN16931),
        Profile::XRechnung => {
            x.leaf("cbc:CustomizationID", XRECHNUNG);
            x.leaf("cbc:ProfileID", PEPPOL_BILLING);
        }
    }
    x.leaf("cbc:ID", &d.number);
    x.leaf("cbc:IssueDate", &d.issue_date.to_string());
    match &d.kind {
        DocumentKind::Invoice => {
            if let Some(due) = d.due_date {
                x.leaf("cbc:DueDate", &due.to_string());
            }
            x.leaf("cbc:InvoiceTypeCode", d.kind.type_code());
        }
        DocumentKind::CreditNote { .. } => x.leaf("cbc:CreditNoteTypeCode", d.kind.type_code()),
    }
    for note in &d.notes {
        x.leaf("cbc:Note", note);
    }
    x.leaf("cbc:DocumentCurrencyCode", d.currency.code());
    if let Some(acc) = &d.accounting {
        x.leaf("cbc:TaxCurrencyCode", acc.vat_total.currency().code());
    }
    if let Some(reference) = d.buyer.business.as_ref().and_then(|b| b.buyer_reference()) {
        x.leaf("cbc:BuyerReference", reference);
    }
    if let DocumentKind::CreditNote {
        original_number,
        original_date,
    } = &d.kind
    {
        x.open("cac:BillingReference");
        x.open("cac:InvoiceDocumentReference");
        x.leaf("cbc:ID", original_number);
        x.leaf("cbc:IssueDate", &original_date.to_string());
        x.close("cac:InvoiceDocumentReference");
        x.close("cac:BillingReference");
    }
}

/// The seller (BG-4): endpoint, identifier, address, VAT id and tax number, legal entity,
/// contact.
fn supplier_party(x: &mut Xml, d: &InvoiceDocument) {
    let s = &d.seller;
    x.open("cac:AccountingSupplierParty");
    x.open("cac:Party");
    if let Some(endpoint) = &d.seller_endpoint {
        endpoint_id(x, endpoint);
    }
    if let Some(identifier) = s.identifier_code() {
        x.open("cac:PartyIdentification");
        x.leaf_with(
            "cbc:ID",
            &[("schemeID", identifier.scheme())],
            identifier.value(),
        );
        x.close("cac:PartyIdentification");
    }
    let a = s.address();
    postal_address(
        x,
        a.line1(),
        a.second_line(),
        a.city(),
        Some(a.post_code()),
        None,
        a.country().as_str(),
    );
    if !d.outside_scope()
        && let Some(vat_id) = s.vat_id_number()
    {
        party_tax_scheme(x, vat_id.as_str(), "VAT");
    }
    if let Some(tax_number) = s.tax_number_text() {
        party_tax_scheme(x, tax_number, "FC");
    }
    x.open("cac:PartyLegalEntity");
    x.leaf("cbc:RegistrationName", s.legal_name());
    if let Some(registration) = s.registration_text() {
        x.leaf("cbc:CompanyID", registration);
    }
    x.close("cac:PartyLegalEntity");
    let c = s.contact();
    x.open("cac:Contact");
    x.leaf("cbc:Name", c.name());
    x.leaf("cbc:Telephone", c.phone().as_str());
    x.leaf("cbc:ElectronicMail", c.email().as_str());
    x.close("cac:Contact");
    x.close("cac:Party");
    x.close("cac:AccountingSupplierParty");
}

/// The buyer (BG-7): endpoint, address, VAT id, legal entity.
fn customer_party(x: &mut Xml, d: &InvoiceDocument) {
    let b = &d.buyer;
    x.open("cac:AccountingCustomerParty");
    x.open("cac:Party");
    if let Some(endpoint) = b.business.as_ref().and_then(|b| b.electronic_address()) {
        endpoint_id(x, endpoint);
    }
    let a = &b.address;
    postal_address(
        x,
        a.line1(),
        a.line2(),
        a.city(),
        a.postal_code(),
        a.region(),
        a.country().as_str(),
    );
    if !d.outside_scope()
        && let Some(vat_id) = b.vat_id()
    {
        party_tax_scheme(x, vat_id.as_str(), "VAT");
    }
    x.open("cac:PartyLegalEntity");
    x.leaf("cbc:RegistrationName", &b.name);
    x.close("cac:PartyLegalEntity");
    x.close("cac:Party");
    x.close("cac:AccountingCustomerParty");
}

fn endpoint_id(x: &mut Xml, address: &ElectronicAddress) {
    x.leaf_with(
        "cbc:EndpointID",
        &[("schemeID", address.scheme())],
        address.value(),
    );
}

fn postal_address(
    x: &mut Xml,
    line1: &str,
    line2: Option<&str>,
    city: &str,
    post_code: Option<&str>,
    region: Option<&str>,
    country: &str,
) {
    address(
        x,
        "cac:PostalAddress",
        line1,
        line2,
        city,
        post_code,
        region,
        country,
    );
}

/// An address in `element` (`cac:PostalAddress` of a party, `cac:Address` of a delivery).
#[allow(clippy::too_many_arguments)]
fn address(
    x: &mut Xml,
    element: &str,
    line1: &str,
    line2: Option<&str>,
    city: &str,
    post_code: Option<&str>,
    region: Option<&str>,
    country: &str,
) {
    x.open(element);
    x.leaf("cbc:StreetName", line1);
    if let Some(line2) = line2 {
        x.leaf("cbc:AdditionalStreetName", line2);
    }
    x.leaf("cbc:CityName", city);
    if let Some(post_code) = post_code {
        x.leaf("cbc:PostalZone", post_code);
    }
    if let Some(region) = region {
        x.leaf("cbc:CountrySubentity", region);
    }
    country_code(x, country);
    x.close(element);
}

fn country_code(x: &mut Xml, country: &str) {
    x.open("cac:Country");
    x.leaf("cbc:IdentificationCode", country);
    x.close("cac:Country");
}

fn party_tax_scheme(x: &mut Xml, company_id: &str, scheme: &str) {
    x.open("cac:PartyTaxScheme");
    x.leaf("cbc:CompanyID", company_id);
    tax_scheme(x, scheme);
    x.close("cac:PartyTaxScheme");
}

fn tax_scheme(x: &mut Xml, scheme: &str) {
    x.open("cac:TaxScheme");
    x.leaf("cbc:ID", scheme);
    x.close("cac:TaxScheme");
}

/// Delivery information (BG-13): actual delivery date and deliver-to country.
fn delivery(x: &mut Xml, d: &InvoiceDocument) {
    if d.supply_date.is_none() && d.delivery_country.is_none() {
        return;
    }
    x.open("cac:Delivery");
    if let Some(date) = d.supply_date {
        x.leaf("cbc:ActualDeliveryDate", &date.to_string());
    }
    if let Some(a) = &d.delivery_address {
        x.open("cac:DeliveryLocation");
        address(
            x,
            "cac:Address",
            a.line1(),
            a.line2(),
            a.city(),
            a.postal_code(),
            a.region(),
            a.country().as_str(),
        );
        x.close("cac:DeliveryLocation");
        x.open("cac:DeliveryParty");
        x.open("cac:PartyName");
        x.leaf("cbc:Name", a.recipient());
        x.close("cac:PartyName");
        x.close("cac:DeliveryParty");
    } else if let Some(country) = d.delivery_country {
        x.open("cac:DeliveryLocation");
        x.open("cac:Address");
        country_code(x, country.as_str());
        x.close("cac:Address");
        x.close("cac:DeliveryLocation");
    }
    x.close("cac:Delivery");
}

/// Payment instructions (BG-16): SEPA credit transfer (code 58) to the seller's account.
fn payment_means(x: &mut Xml, d: &InvoiceDocument) {
    let Some(bank) = d.seller.bank() else {
        return;
    };
    x.open("cac:PaymentMeans");
    x.leaf("cbc:PaymentMeansCode", "58");
    if let (DocumentKind::CreditNote { .. }, Some(due)) = (&d.kind, d.due_date) {
        x.leaf("cbc:PaymentDueDate", &due.to_string());
    }
    x.leaf("cbc:PaymentID", &d.number);
    x.open("cac:PayeeFinancialAccount");
    x.leaf("cbc:ID", bank.iban().as_str());
    if let Some(bic) = bank.bic_code() {
        x.open("cac:FinancialInstitutionBranch");
        x.leaf("cbc:ID", bic.as_str());
        x.close("cac:FinancialInstitutionBranch");
    }
    x.close("cac:PayeeFinancialAccount");
    x.close("cac:PaymentMeans");
}

/// Payment terms (BT-20).
fn payment_terms(x: &mut Xml, d: &InvoiceDocument) {
    if let Some(terms) = &d.payment_terms {
        x.open("cac:PaymentTerms");
        x.leaf("cbc:Note", terms);
        x.close("cac:PaymentTerms");
    }
}

/// Document-level allowances (BG-20, one per VAT group with a discount share) and charges
/// (BG-21, one per charge, at its net amount).
fn allowances_and_charges(x: &mut Xml, d: &InvoiceDocument) -> Result<()> {
    if let Some(reason) = &d.discount_reason {
        for group in d.totals.vat_groups() {
            if !group.allowance_net().is_zero() {
                allowance_charge(x, false, reason, group.allowance_net(), group.vat());
            }
        }
    }
    // Charge nets are in charge order; each charge's treatment is in the group it joined.
    for (i, (reason, net)) in d
        .charge_reasons
        .iter()
        .zip(d.totals.charges_net())
        .enumerate()
    {
        let vat = d
            .charge_vats
            .get(i)
            .ok_or_else(|| Error::validation("charge", "a charge lost its VAT treatment"))?;
        allowance_charge(x, true, reason, *net, vat);
    }
    Ok(())
}

fn allowance_charge(x: &mut Xml, charge: bool, reason: &str, amount: Money, vat: &VatTreatment) {
    x.open("cac:AllowanceCharge");
    x.leaf("cbc:ChargeIndicator", if charge { "true" } else { "false" });
    x.leaf("cbc:AllowanceChargeReason", reason);
    amount_leaf(x, "cbc:Amount", amount);
    tax_category(x, "cac:TaxCategory", vat, false);
    x.close("cac:AllowanceCharge");
}

/// A `TaxCategory` (or `ClassifiedTaxCategory`): code, rate (not for `O`), and in the VAT
/// breakdown the exemption reason.
fn tax_category(x: &mut Xml, element: &str, vat: &VatTreatment, with_reason: bool) {
    x.open(element);
    x.leaf("cbc:ID", vat.category().code());
    if vat.category() != VatCategory::OutsideScope {
        x.leaf("cbc:Percent", &vat.rate().to_percent_string());
    }
    if with_reason && let Some(reason) = vat.exemption_reason() {
        x.leaf("cbc:TaxExemptionReason", reason);
    }
    tax_scheme(x, "VAT");
    x.close(element);
}

/// The VAT total (BT-110) with one subtotal per VAT group (BG-23), and the VAT total in the
/// accounting currency (BT-111) when there is one.
fn tax_totals(x: &mut Xml, d: &InvoiceDocument) {
    x.open("cac:TaxTotal");
    amount_leaf(x, "cbc:TaxAmount", d.totals.vat_total());
    for group in d.totals.vat_groups() {
        x.open("cac:TaxSubtotal");
        amount_leaf(x, "cbc:TaxableAmount", group.taxable());
        amount_leaf(x, "cbc:TaxAmount", group.tax());
        tax_category(x, "cac:TaxCategory", group.vat(), true);
        x.close("cac:TaxSubtotal");
    }
    x.close("cac:TaxTotal");
    if let Some(acc) = &d.accounting {
        x.open("cac:TaxTotal");
        amount_leaf(x, "cbc:TaxAmount", acc.vat_total);
        x.close("cac:TaxTotal");
    }
}

/// Document totals (BG-22): BT-106 to BT-112 and BT-115.
fn legal_monetary_total(x: &mut Xml, d: &InvoiceDocument) {
    let t = &d.totals;
    x.open("cac:LegalMonetaryTotal");
    amount_leaf(x, "cbc:LineExtensionAmount", t.line_net_total());
    amount_leaf(x, "cbc:TaxExclusiveAmount", t.net_total());
    amount_leaf(x, "cbc:TaxInclusiveAmount", t.gross_total());
    amount_leaf(x, "cbc:AllowanceTotalAmount", t.allowance_total());
    amount_leaf(x, "cbc:ChargeTotalAmount", t.charge_total());
    if let Some(paid) = d.prepaid {
        amount_leaf(x, "cbc:PrepaidAmount", paid);
    }
    amount_leaf(x, "cbc:PayableAmount", d.amount_due());
    x.close("cac:LegalMonetaryTotal");
}

/// One `InvoiceLine` or `CreditNoteLine` (BG-25). The net price (BT-146) is the line net over
/// the quantity when that divides exactly; otherwise the line net is stated as the price of
/// the whole quantity (base quantity BT-149), so that quantity × price = line net exactly.
fn document_line(x: &mut Xml, d: &InvoiceDocument, line: &DocumentLine, net: Money) {
    let (element, quantity) = match d.kind {
        DocumentKind::Invoice => ("cac:InvoiceLine", "cbc:InvoicedQuantity"),
        DocumentKind::CreditNote { .. } => ("cac:CreditNoteLine", "cbc:CreditedQuantity"),
    };
    let qty = line.priced.quantity();
    x.open(element);
    x.leaf("cbc:ID", &line.id);
    x.leaf_with(quantity, &[("unitCode", &line.unit)], &qty.to_string());
    amount_leaf(x, "cbc:LineExtensionAmount", net);
    x.open("cac:Item");
    x.leaf("cbc:Name", &line.name);
    if let Some(sku) = &line.sku {
        x.open("cac:SellersItemIdentification");
        x.leaf("cbc:ID", sku);
        x.close("cac:SellersItemIdentification");
    }
    tax_category(x, "cac:ClassifiedTaxCategory", line.priced.vat(), false);
    x.close("cac:Item");
    x.open("cac:Price");
    let whole = i64::from(qty);
    if net.minor() % whole == 0 {
        amount_leaf(
            x,
            "cbc:PriceAmount",
            Money::new(net.minor() / whole, net.currency()),
        );
    } else {
        amount_leaf(x, "cbc:PriceAmount", net);
        x.leaf_with(
            "cbc:BaseQuantity",
            &[("unitCode", &line.unit)],
            &qty.to_string(),
        );
    }
    x.close("cac:Price");
    x.close(element);
}

fn amount_leaf(x: &mut Xml, element: &str, amount: Money) {
    x.leaf_with(
        element,
        &[("currencyID", amount.currency().code())],
        &amount.to_decimal_string(),
    );
}

/// A small indenting XML writer; quick-xml escapes every value.
#[derive(Default)]
struct Xml {
    out: String,
    depth: usize,
}

impl Xml {
    fn indent(&mut self) {
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
    }

    fn start(&mut self, name: &str, attributes: &[(&str, &str)]) {
        self.indent();
        self.out.push('<');
        self.out.push_str(name);
        for (key, value) in attributes {
            self.out.push(' ');
            self.out.push_str(key);
            self.out.push_str("=\"");
            self.out.push_str(&escape(*value));
            self.out.push('"');
        }
        self.out.push('>');
    }

    fn open_with(&mut self, name: &str, attributes: &[(&str, &str)]) {
        self.start(name, attributes);
        self.out.push('\n');
        self.depth += 1;
    }

    fn open(&mut self, name: &str) {
        self.open_with(name, &[]);
    }

    fn close(&mut self, name: &str) {
        self.depth = self.depth.saturating_sub(1);
        self.indent();
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push_str(">\n");
    }

    fn leaf_with(&mut self, name: &str, attributes: &[(&str, &str)], text: &str) {
        self.start(name, attributes);
        self.out.push_str(&escape(text));
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push_str(">\n");
    }

    fn leaf(&mut self, name: &str, text: &str) {
        self.leaf_with(name, &[], text);
    }
}
