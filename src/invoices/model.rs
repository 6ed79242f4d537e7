//! The invoice document model: everything an invoice or credit note states, validated against
//! what EN 16931 requires, with every amount taken from [`Totals`] so that each figure is the
//! sum of its parts.

use std::fmt;

use chrono::{Datelike, NaiveDate};

use crate::error::{Error, ErrorKind, Result};
use crate::text;
use crate::{
    Address, BusinessDetails, Charge, Country, Currency, ElectronicAddress, Money, PriceMode,
    PricedLine, Seller, Totals, VatCategory, VatTreatment,
};

/// The longest free text (notes, reasons, names) a document accepts, in characters.
const MAX_TEXT: usize = 1000;

/// A calendar date (no time, no zone): an issue, supply or due date as printed on a document.
///
/// ```
/// use shopkeep::invoices::Date;
///
/// let d = Date::new(2026, 2, 28)?;
/// assert_eq!(d.to_string(), "2026-02-28");
/// assert!(Date::new(2026, 2, 30).is_err());
/// Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(NaiveDate);

impl Date {
    /// The date `year-month-day`.
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `date`) if there is no such day, or the year is outside
    /// 1000 to 9999 (ISO 8601 dates in UBL have four-digit years).
    pub fn new(year: i32, month: u32, day: u32) -> Result<Date> {
        NaiveDate::from_ymd_opt(year, month, day)
            .filter(|d| (1000..=9999).contains(&d.year()))
            .map(Date)
            .ok_or_else(|| Error::validation("date", "no such calendar day"))
    }

    /// Reads ISO 8601 `YYYY-MM-DD`, as [`Display`](fmt::Display) writes it.
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `date`) for other text, or as [`Date::new`].
    pub fn parse(text: &str) -> Result<Date> {
        let date = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
            .map_err(|_| Error::validation("date", "a date is written YYYY-MM-DD"))?;
        Date::from_naive(date)
    }

    /// The year.
    pub fn year(self) -> i32 {
        self.0.year()
    }

    pub(crate) fn naive(self) -> NaiveDate {
        self.0
    }

    /// A calendar date from chrono's, if its year has four digits.
    pub(crate) fn from_naive(date: NaiveDate) -> Result<Date> {
        Date::new(date.year(), date.month(), date.day())
    }
}

crate::serde_text::text_serde!(Date, Date::parse);

impl fmt::Display for Date {
    /// ISO 8601, `YYYY-MM-DD`, as UBL writes dates.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%d"))
    }
}

/// Whether the document is an invoice or a credit note.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize),
    serde(tag = "type", rename_all = "snake_case")
)]
#[non_exhaustive]
pub enum DocumentKind {
    /// A commercial invoice (UNTDID 1001 code 380).
    Invoice,
    /// A credit note (code 381) correcting the invoice it names (BG-3).
    CreditNote {
        /// The number of the invoice it corrects (BT-25).
        original_number: String,
        /// That invoice's issue date (BT-26).
        original_date: Date,
    },
}

impl DocumentKind {
    /// A credit note for the invoice `original_number` issued on `original_date`.
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `original_number`) for an empty or malformed number.
    pub fn credit_note(original_number: &str, original_date: Date) -> Result<DocumentKind> {
        Ok(DocumentKind::CreditNote {
            original_number: text::required("original_number", original_number, 100)?,
            original_date,
        })
    }

    /// The UNTDID 1001 document type code: `380` or `381`.
    pub fn type_code(&self) -> &'static str {
        match self {
            DocumentKind::Invoice => "380",
            DocumentKind::CreditNote { .. } => "381",
        }
    }
}

/// The buyer as the document states it: a snapshot, not a reference to the customer record.
#[derive(Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct InvoiceBuyer {
    pub(crate) name: String,
    pub(crate) address: Address,
    pub(crate) business: Option<BusinessDetails>,
}

impl InvoiceBuyer {
    /// A consumer: the name is the address's recipient.
    pub fn consumer(address: Address) -> InvoiceBuyer {
        InvoiceBuyer {
            name: address.recipient().to_owned(),
            address,
            business: None,
        }
    }

    /// A business: the name is the company; VAT id, buyer reference (BT-10) and electronic
    /// address (BT-49) come from `details`.
    pub fn business(address: Address, details: BusinessDetails) -> InvoiceBuyer {
        InvoiceBuyer {
            name: details.company().to_owned(),
            address,
            business: Some(details),
        }
    }

    /// The buyer's name (BT-44).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The buyer's VAT id (BT-48), if a business with one.
    pub fn vat_id(&self) -> Option<&crate::VatId> {
        self.business.as_ref().and_then(BusinessDetails::vat_id)
    }
}

impl fmt::Debug for InvoiceBuyer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InvoiceBuyer")
            .field("name", &"<redacted>")
            .field("business", &self.business.is_some())
            .finish_non_exhaustive()
    }
}

/// One invoice line: an identifier, the item's name and SKU, the unit of measure and the priced
/// line (unit price, quantity, VAT treatment) that [`Totals::compute`] totals.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct DocumentLine {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) sku: Option<String>,
    pub(crate) unit: String,
    pub(crate) priced: PricedLine,
}

impl DocumentLine {
    /// A line with unit `C62` ("one", UN/ECE Recommendation 20).
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `line_id` or `item_name`) for an empty or malformed text.
    pub fn new(id: &str, name: &str, priced: PricedLine) -> Result<DocumentLine> {
        Ok(DocumentLine {
            id: text::required("line_id", id, 100)?,
            name: text::required("item_name", name, 200)?,
            sku: None,
            unit: "C62".to_owned(),
            priced,
        })
    }

    /// Sets the seller's item identifier (BT-155).
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `sku`) for an empty or malformed SKU.
    pub fn sku(mut self, sku: &str) -> Result<DocumentLine> {
        self.sku = Some(text::required("sku", sku, 100)?);
        Ok(self)
    }

    /// Sets the unit of measure (BT-130), a UN/ECE Recommendation 20 code such as `C62`,
    /// `H87` (piece), `KGM` or `HUR`.
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `unit`) unless the code is 1 to 3 capital letters or digits.
    pub fn unit(mut self, code: &str) -> Result<DocumentLine> {
        let ok = (1..=3).contains(&code.len())
            && code
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        if !ok {
            return Err(Error::validation(
                "unit",
                "a unit is a UN/ECE Recommendation 20 code",
            ));
        }
        self.unit = code.to_owned();
        Ok(self)
    }
}

/// The VAT total restated in the seller's VAT accounting currency (BT-6, BT-111).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct VatAccounting {
    pub(crate) vat_total: Money,
}

impl VatAccounting {
    /// The VAT total in the accounting currency (BT-111).
    pub fn vat_total(&self) -> Money {
        self.vat_total
    }
}

/// A validated invoice or credit note, ready to render. Built with [`InvoiceDocument::builder`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct InvoiceDocument {
    pub(crate) kind: DocumentKind,
    pub(crate) number: String,
    pub(crate) issue_date: Date,
    pub(crate) supply_date: Option<Date>,
    pub(crate) due_date: Option<Date>,
    pub(crate) payment_terms: Option<String>,
    pub(crate) currency: Currency,
    pub(crate) accounting: Option<VatAccounting>,
    pub(crate) seller: Seller,
    pub(crate) seller_endpoint: Option<ElectronicAddress>,
    pub(crate) buyer: InvoiceBuyer,
    pub(crate) delivery_country: Option<Country>,
    pub(crate) delivery_address: Option<Address>,
    pub(crate) notes: Vec<String>,
    pub(crate) lines: Vec<DocumentLine>,
    pub(crate) discount_reason: Option<String>,
    pub(crate) charge_reasons: Vec<String>,
    pub(crate) charge_vats: Vec<VatTreatment>,
    pub(crate) totals: Totals,
    pub(crate) prepaid: Option<Money>,
}

impl InvoiceDocument {
    /// Starts a document of `kind` numbered `number`, issued on `issue_date`, in `currency`,
    /// with prices in `mode`, from `seller` to `buyer`.
    pub fn builder(
        kind: DocumentKind,
        number: &str,
        issue_date: Date,
        currency: Currency,
        mode: PriceMode,
        seller: Seller,
        buyer: InvoiceBuyer,
    ) -> InvoiceDocumentBuilder {
        InvoiceDocumentBuilder {
            kind,
            number: number.to_owned(),
            issue_date,
            currency,
            mode,
            seller,
            buyer,
            seller_endpoint: None,
            supply_date: None,
            due_date: None,
            payment_terms: None,
            accounting: None,
            delivery_country: None,
            delivery_address: None,
            notes: Vec::new(),
            lines: Vec::new(),
            discount: None,
            charges: Vec::new(),
            prepaid: None,
            issued: false,
            stated: None,
        }
    }

    /// Invoice or credit note.
    pub fn kind(&self) -> &DocumentKind {
        &self.kind
    }

    /// The document number (BT-1).
    pub fn number(&self) -> &str {
        &self.number
    }

    /// The issue date (BT-2).
    pub fn issue_date(&self) -> Date {
        self.issue_date
    }

    /// The document currency (BT-5).
    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// The lines.
    pub fn lines(&self) -> &[DocumentLine] {
        &self.lines
    }

    /// The totals: line nets, VAT breakdown, BT-106 to BT-112.
    pub fn totals(&self) -> &Totals {
        &self.totals
    }

    /// The VAT total in the VAT accounting currency, if one was set.
    pub fn vat_accounting(&self) -> Option<&VatAccounting> {
        self.accounting.as_ref()
    }

    /// The amount already paid (BT-113), if any.
    pub fn prepaid(&self) -> Option<Money> {
        self.prepaid
    }

    /// The amount due for payment (BT-115): the total with VAT less what was already paid.
    pub fn amount_due(&self) -> Money {
        let gross = self.totals.gross_total();
        // `build` keeps the prepaid amount between zero and the gross total.
        self.prepaid
            .and_then(|p| gross.checked_sub(p).ok())
            .unwrap_or(gross)
    }

    /// Whether every line is outside the scope of VAT (category `O`).
    pub(crate) fn outside_scope(&self) -> bool {
        self.totals
            .vat_groups()
            .iter()
            .all(|g| g.vat().category() == VatCategory::OutsideScope)
    }
}

/// Builds an [`InvoiceDocument`]; [`build`](InvoiceDocumentBuilder::build) validates it.
#[derive(Debug, Clone)]
pub struct InvoiceDocumentBuilder {
    kind: DocumentKind,
    number: String,
    issue_date: Date,
    currency: Currency,
    mode: PriceMode,
    seller: Seller,
    buyer: InvoiceBuyer,
    seller_endpoint: Option<ElectronicAddress>,
    supply_date: Option<Date>,
    due_date: Option<Date>,
    payment_terms: Option<String>,
    accounting: Option<(Currency, String)>,
    delivery_country: Option<Country>,
    delivery_address: Option<Address>,
    notes: Vec<String>,
    lines: Vec<DocumentLine>,
    discount: Option<(Money, String)>,
    charges: Vec<(String, Charge)>,
    prepaid: Option<Money>,
    /// Whether the document was issued already and is being read back (see
    /// [`already_issued`](Self::already_issued)).
    issued: bool,
    stated: Option<Totals>,
}

impl InvoiceDocumentBuilder {
    /// Uses `totals` instead of computing them: a credit note's, computed against its invoice
    /// so that all its notes net it to zero (`orders::netting`). `build` checks that they
    /// state the document's lines.
    pub(crate) fn stated_totals(mut self, totals: Totals) -> Self {
        self.stated = Some(totals);
        self
    }

    /// Adds a line.
    #[must_use]
    pub fn line(mut self, line: DocumentLine) -> Self {
        self.lines.push(line);
        self
    }

    /// Sets the order discount (a coupon) and its reason text: it becomes one document-level
    /// allowance (BG-20) per VAT group.
    #[must_use]
    pub fn discount(mut self, amount: Money, reason: &str) -> Self {
        self.discount = Some((amount, reason.to_owned()));
        self
    }

    /// Adds a document-level charge (BG-21) such as shipping, with its reason text.
    #[must_use]
    pub fn charge(mut self, reason: &str, charge: Charge) -> Self {
        self.charges.push((reason.to_owned(), charge));
        self
    }

    /// States an amount already paid (BT-113), e.g. the whole total of an invoice issued after
    /// payment; the amount due (BT-115) is the total with VAT less it.
    #[must_use]
    pub fn prepaid(mut self, amount: Money) -> Self {
        self.prepaid = Some(amount);
        self
    }

    /// Sets the supply (actual delivery) date (BT-72).
    #[must_use]
    pub fn supply_date(mut self, date: Date) -> Self {
        self.supply_date = Some(date);
        self
    }

    /// Sets the country the goods are delivered to (BT-80).
    #[must_use]
    pub fn delivery_country(mut self, country: Country) -> Self {
        self.delivery_country = Some(country);
        self
    }

    /// Sets the deliver-to address (BG-15), and with it the delivery country (BT-80).
    #[must_use]
    pub fn delivery_address(mut self, address: Address) -> Self {
        self.delivery_country = Some(address.country());
        self.delivery_address = Some(address);
        self
    }

    /// Sets the payment terms text (BT-20) and the due date (BT-9).
    #[must_use]
    pub fn payment_terms(mut self, terms: &str, due: Date) -> Self {
        self.payment_terms = Some(terms.to_owned());
        self.due_date = Some(due);
        self
    }

    /// Adds a free-text note (BT-22).
    #[must_use]
    pub fn note(mut self, note: &str) -> Self {
        self.notes.push(note.to_owned());
        self
    }

    /// Sets the seller's electronic address (BT-34), which XRechnung requires.
    #[must_use]
    pub fn seller_electronic_address(mut self, address: ElectronicAddress) -> Self {
        self.seller_endpoint = Some(address);
        self
    }

    /// States the VAT total also in the seller's VAT accounting `currency` (BT-6, BT-111),
    /// converted at `rate` (units of `currency` per unit of the document currency, a decimal
    /// such as `"0.9412"`, supplied by the host), rounded half away from zero.
    #[must_use]
    pub fn vat_accounting(mut self, currency: Currency, rate: &str) -> Self {
        self.accounting = Some((currency, rate.to_owned()));
        self
    }

    /// Marks a document read back from storage, to be built as it was issued: invoices issued
    /// before BR-CO-26 was enforced may state a seller without identifier, and as legal
    /// records they must stay readable.
    pub(crate) fn already_issued(mut self) -> Self {
        self.issued = true;
        self
    }

    /// Computes the totals and checks the document against EN 16931.
    ///
    /// # Errors
    ///
    /// A `Validation` error naming the field:
    /// - `number`, `note`, `payment_terms`, `discount_reason`, `charge_reason`: empty or
    ///   malformed text; `lines`: no line;
    /// - `seller.vat_id`: the seller has neither VAT id nor tax number, or a `K` or `G` line
    ///   needs the seller's VAT id;
    /// - `seller.identifier`: the seller has neither VAT id, legal registration id nor seller
    ///   identifier, one of which identifies it (BR-CO-26; a tax number does not count);
    /// - `seller.registration`: a document outside the scope of VAT (`O`) needs the seller's
    ///   legal registration id or seller identifier, since it carries no VAT id (BR-O-02,
    ///   BR-CO-26);
    /// - `buyer.vat_id`: an `AE` or `K` line needs a business buyer with a VAT id;
    /// - `delivery_country`, `supply_date`: a `K` line needs both;
    /// - `vat_category`: `O` lines mixed with other categories;
    /// - `vat_accounting`: a malformed rate, or the document currency itself;
    /// - `due_date`: a due date before the issue date;
    /// - `prepaid`: a prepaid amount in another currency, negative, or above the total;
    ///
    /// and the errors of [`Totals::compute`] (currency mismatch, discount out of range).
    pub fn build(self) -> Result<InvoiceDocument> {
        let number = text::required("number", &self.number, 100)?;
        if self.lines.is_empty() {
            return Err(Error::validation("lines", "a document needs a line"));
        }
        let notes = self
            .notes
            .iter()
            .map(|n| text::required("note", n, MAX_TEXT))
            .collect::<Result<Vec<_>>>()?;
        let payment_terms = self
            .payment_terms
            .as_deref()
            .map(|t| text::required("payment_terms", t, MAX_TEXT))
            .transpose()?;
        if self.due_date.is_some_and(|d| d < self.issue_date) {
            return Err(Error::validation(
                "due_date",
                "the due date is before the issue date",
            ));
        }
        let (discount, discount_reason) = match &self.discount {
            Some((amount, reason)) if !amount.is_zero() => (
                *amount,
                Some(text::required("discount_reason", reason, MAX_TEXT)?),
            ),
            _ => (Money::zero(self.currency), None),
        };
        let charge_reasons = self
            .charges
            .iter()
            .map(|(r, _)| text::required("charge_reason", r, MAX_TEXT))
            .collect::<Result<Vec<_>>>()?;
        let priced: Vec<PricedLine> = self.lines.iter().map(|l| l.priced.clone()).collect();
        let charges: Vec<Charge> = self.charges.iter().map(|(_, c)| c.clone()).collect();
        let totals = match &self.stated {
            None => Totals::compute(self.mode, self.currency, &priced, discount, &charges)?,
            Some(stated) => {
                let fits = stated.lines().len() == priced.len()
                    && stated.charges_net().len() == charges.len()
                    && stated.mode() == self.mode
                    && stated.lines().iter().zip(&priced).all(|(t, p)| {
                        p.unit_price()
                            .checked_mul(i64::from(p.quantity()))
                            .is_ok_and(|shown| shown == t.shown())
                    });
                if !fits {
                    return Err(Error::new(
                        ErrorKind::Storage,
                        "stated totals do not state the document's lines",
                    ));
                }
                stated.clone()
            }
        };

        self.check_parties(&totals)?;
        if let Some(paid) = self.prepaid {
            let gross = totals.gross_total();
            if paid.currency() != gross.currency()
                || paid.is_negative()
                || paid.minor() > gross.minor()
            {
                return Err(Error::validation(
                    "prepaid",
                    "the amount paid is between zero and the total, in the document's currency",
                ));
            }
        }

        let accounting = match &self.accounting {
            None => None,
            Some((currency, rate)) => {
                if *currency == self.currency {
                    return Err(Error::validation(
                        "vat_accounting",
                        "the VAT accounting currency is the document currency",
                    ));
                }
                Some(VatAccounting {
                    vat_total: convert(totals.vat_total(), *currency, rate)?,
                })
            }
        };

        Ok(InvoiceDocument {
            kind: self.kind,
            number,
            issue_date: self.issue_date,
            supply_date: self.supply_date,
            due_date: self.due_date,
            payment_terms,
            currency: self.currency,
            accounting,
            seller: self.seller,
            seller_endpoint: self.seller_endpoint,
            buyer: self.buyer,
            delivery_country: self.delivery_country,
            delivery_address: self.delivery_address,
            notes,
            lines: self.lines,
            discount_reason,
            charge_reasons,
            charge_vats: charges.iter().map(|c| c.vat().clone()).collect(),
            totals,
            prepaid: self.prepaid,
        })
    }

    /// The per-category rules of EN 16931 on the parties, delivery and dates.
    fn check_parties(&self, totals: &Totals) -> Result<()> {
        let seller = &self.seller;
        if seller.vat_id_number().is_none() && seller.tax_number_text().is_none() {
            return Err(Error::validation(
                "seller.vat_id",
                "the seller needs a VAT id or a tax number",
            ));
        }
        if !self.issued {
            seller.check_identified("seller.identifier")?;
        }
        let categories: Vec<VatCategory> = totals
            .vat_groups()
            .iter()
            .map(|g| g.vat().category())
            .collect();
        let has = |c: VatCategory| categories.contains(&c);
        let buyer_vat = self.buyer.vat_id().is_some();
        if has(VatCategory::OutsideScope) {
            if categories.iter().any(|c| *c != VatCategory::OutsideScope) {
                return Err(Error::validation(
                    "vat_category",
                    "lines outside the scope of VAT (O) need a document of their own (BR-O-11)",
                ));
            }
            if seller.registration_text().is_none() && seller.identifier_code().is_none() {
                return Err(Error::validation(
                    "seller.registration",
                    "a document outside the scope of VAT carries no VAT id, so it needs the \
                     seller's legal registration id or seller identifier (BR-O-02, BR-CO-26)",
                ));
            }
        }
        if (has(VatCategory::IntraCommunitySupply) || has(VatCategory::Export))
            && seller.vat_id_number().is_none()
        {
            return Err(Error::validation(
                "seller.vat_id",
                "intra-community supplies (K) and exports (G) need the seller's VAT id",
            ));
        }
        if (has(VatCategory::ReverseCharge) || has(VatCategory::IntraCommunitySupply)) && !buyer_vat
        {
            return Err(Error::validation(
                "buyer.vat_id",
                "reverse charge (AE) and intra-community supplies (K) need the buyer's VAT id",
            ));
        }
        if has(VatCategory::IntraCommunitySupply) {
            if self.delivery_country.is_none() {
                return Err(Error::validation(
                    "delivery_country",
                    "an intra-community supply (K) needs the delivery country",
                ));
            }
            if self.supply_date.is_none() {
                return Err(Error::validation(
                    "supply_date",
                    "an intra-community supply (K) needs the supply date",
                ));
            }
        }
        Ok(())
    }
}

/// Converts `amount` into `to` at the decimal `rate`, rounding half away from zero.
fn convert(amount: Money, to: Currency, rate: &str) -> Result<Money> {
    let bad = || {
        Error::validation(
            "vat_accounting",
            "an exchange rate is a positive decimal with at most 9 decimals",
        )
    };
    let (int, frac) = rate.split_once('.').unwrap_or((rate, ""));
    if int.is_empty()
        || frac.len() > 9
        || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
        || int.len() > 9
    {
        return Err(bad());
    }
    let digits: i128 = format!("{int}{frac}").parse().map_err(|_| bad())?;
    if digits == 0 {
        return Err(bad());
    }
    let pow = |e: u32| 10_i128.pow(e);
    let frac_len = u32::try_from(frac.len()).map_err(|_| bad())?;
    let num = i128::from(amount.minor()) * digits * pow(u32::from(to.exponent()));
    let den = pow(frac_len) * pow(u32::from(amount.currency().exponent()));
    let (q, r) = (num / den, num % den);
    let rounded = if r.abs() * 2 >= den {
        q + num.signum()
    } else {
        q
    };
    let minor = i64::try_from(rounded)
        .map_err(|_| Error::new(crate::ErrorKind::Overflow, "amount out of range"))?;
    Ok(Money::new(minor, to))
}
