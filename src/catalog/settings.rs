//! The shop's settings: seller, price mode, currencies, tax table, invoice series and time zone.

use std::collections::BTreeSet;
use std::fmt;

use chrono::{Datelike, NaiveDate, TimeZone as _, Timelike};

use super::seller::Seller;
use super::tax::TaxTable;
use crate::clock::Timestamp;
use crate::error::{Error, ErrorKind, Result};
use crate::invoices::check_invoiceable;
use crate::money::Currency;
use crate::orders::PriceMode;

/// When an order's invoice is issued: the earliest point at which
/// [`InvoiceRepo::issue`](crate::InvoiceRepo::issue) accepts an order.
///
/// The host calls `issue` at that point (after `checkout`, or after `mark_paid`), rather than
/// shopkeep issuing inside those calls: recording a payment the gateway confirmed must never
/// fail because an invoice cannot be issued yet (a seller detail missing, an exchange rate the
/// host has not supplied), and the host decides when its accounting integration runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize),
    serde(rename_all = "snake_case")
)]
pub enum InvoiceIssue {
    /// Once the order is paid (the default: no invoice, and no number, for unpaid orders).
    OnPayment,
    /// From checkout on, before payment (for invoices payable later).
    AtCheckout,
}

impl InvoiceIssue {
    /// The stable snake-case name, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            InvoiceIssue::OnPayment => "on_payment",
            InvoiceIssue::AtCheckout => "at_checkout",
        }
    }

    pub(crate) fn parse(text: &str) -> Result<InvoiceIssue> {
        match text {
            "on_payment" => Ok(InvoiceIssue::OnPayment),
            "at_checkout" => Ok(InvoiceIssue::AtCheckout),
            _ => Err(Error::validation("invoice_issue", "unknown invoice issue")),
        }
    }
}

/// The shop's IANA time zone (`Europe/Berlin`). Invoice years, coupon windows and "today" on
/// documents are the shop's local dates, not UTC ones.
///
/// ```
/// use shopkeep::catalog::TimeZone;
/// use shopkeep::clock::Timestamp;
///
/// let berlin = TimeZone::parse("Europe/Berlin")?;
/// // 00:30 on 1 January in Berlin is still 31 December in UTC.
/// let at = Timestamp::parse_rfc3339("2025-12-31T23:30:00Z")?;
/// assert_eq!(berlin.local_year(at), 2026);
/// assert!(TimeZone::parse("Mars/Olympus_Mons").is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeZone(chrono_tz::Tz);

impl TimeZone {
    /// Looks up a zone of the IANA time zone database by its exact name.
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `time_zone`) for a name the database does not have.
    pub fn parse(name: &str) -> Result<TimeZone> {
        name.parse::<chrono_tz::Tz>().map(TimeZone).map_err(|_| {
            Error::validation(
                "time_zone",
                "a time zone is an IANA name such as \"Europe/Berlin\"",
            )
        })
    }

    /// The IANA name.
    pub fn name(&self) -> &'static str {
        self.0.name()
    }

    /// The calendar year of `at` in this zone.
    pub fn local_year(&self, at: Timestamp) -> i32 {
        self.local_date(at).year()
    }

    /// The calendar date of `at` in this zone.
    pub(crate) fn local_date(&self, at: Timestamp) -> NaiveDate {
        let utc = chrono::DateTime::from_timestamp_millis(at.unix_millis()).unwrap_or_default();
        self.0.from_utc_datetime(&utc.naive_utc()).date_naive()
    }

    /// The local date of `at` and its minute of the day (0 to 1,439) in this zone.
    pub(crate) fn local_minute(&self, at: Timestamp) -> (NaiveDate, u32) {
        let utc = chrono::DateTime::from_timestamp_millis(at.unix_millis()).unwrap_or_default();
        let local = self.0.from_utc_datetime(&utc.naive_utc());
        (local.date_naive(), local.hour() * 60 + local.minute())
    }

    /// The instant local `date` reaches `minute` of its day in this zone. A local time that
    /// a daylight-saving change skips counts from the end of the gap; one it repeats, from
    /// its first occurrence.
    pub(crate) fn instant(&self, date: NaiveDate, minute: u32) -> Result<Timestamp> {
        let time = chrono::NaiveTime::from_hms_opt(minute / 60, minute % 60, 0)
            .ok_or_else(|| Error::validation("minute", "a minute of the day is 0 to 1,439"))?;
        let mut local = date.and_time(time);
        // Gaps are at most a few hours; step through one an hour at a time.
        for _ in 0..4 {
            if let Some(at) = self.0.from_local_datetime(&local).earliest() {
                return Timestamp::from_unix_millis(at.timestamp_millis());
            }
            local += chrono::Duration::hours(1);
        }
        Err(Error::new(
            ErrorKind::Overflow,
            "no instant has that local time",
        ))
    }
}

impl fmt::Debug for TimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TimeZone({})", self.name())
    }
}

// As its IANA name (`"Europe/Berlin"`).
#[cfg(feature = "serde")]
impl serde::Serialize for TimeZone {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl fmt::Display for TimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The longest series pattern, in characters.
const MAX_PATTERN: usize = 40;
/// The most digits a padded sequence number may ask for.
const MAX_PAD: usize = 12;

/// The pattern invoice numbers are made from: literal text with a `{seq}` placeholder (the
/// sequence number, `{seq:06}` to zero-pad it to six digits) and optionally `{year}` (the
/// shop's local year; a series with a year starts again at 1 each year).
///
/// Literal text is ASCII letters, digits and `- _ / . #`. The default is `INV-{year}-{seq:06}`.
/// Numbering itself (gapless, inside the issuing transaction) belongs to invoicing; this type
/// only checks the pattern and renders a number from it.
///
/// ```
/// use shopkeep::catalog::InvoiceSeries;
///
/// let series = InvoiceSeries::parse("INV-{year}-{seq:06}")?;
/// assert_eq!(series.render(2026, 42)?, "INV-2026-000042");
/// assert!(series.resets_yearly());
/// assert!(InvoiceSeries::parse("INV-{year}").is_err()); // no sequence number
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InvoiceSeries {
    pattern: String,
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Part {
    Literal(String),
    Year,
    Seq { pad: usize },
}

impl InvoiceSeries {
    /// Parses a pattern.
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `invoice_series`) if the pattern is longer than 40
    /// characters, has other literal characters, an unknown or unclosed placeholder, no
    /// `{seq}` or more than one of a placeholder, or pads to more than 12 digits.
    pub fn parse(pattern: &str) -> Result<InvoiceSeries> {
        let invalid = |why: &str| Error::validation("invoice_series", why.to_owned());
        if pattern.chars().count() > MAX_PATTERN {
            return Err(invalid(
                "an invoice series pattern has at most 40 characters",
            ));
        }
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut rest = pattern;
        while let Some(c) = rest.chars().next() {
            if c == '{' {
                let end = rest
                    .find('}')
                    .ok_or_else(|| invalid("a placeholder is not closed with '}'"))?;
                let name = rest.get(1..end).unwrap_or_default();
                let part = match name {
                    "year" => Part::Year,
                    "seq" => Part::Seq { pad: 0 },
                    _ => match name.strip_prefix("seq:0") {
                        Some(digits) => {
                            let pad = digits
                                .parse::<usize>()
                                .ok()
                                .filter(|p| (1..=MAX_PAD).contains(p))
                                .ok_or_else(|| {
                                    invalid("{seq:0N} pads to between 1 and 12 digits")
                                })?;
                            Part::Seq { pad }
                        }
                        None => {
                            return Err(invalid("the placeholders are {year}, {seq} and {seq:0N}"));
                        }
                    },
                };
                if !literal.is_empty() {
                    parts.push(Part::Literal(std::mem::take(&mut literal)));
                }
                parts.push(part);
                rest = rest.get(end + 1..).unwrap_or_default();
            } else {
                if !(c.is_ascii_alphanumeric() || "-_/.#".contains(c)) {
                    return Err(invalid(
                        "an invoice series has only ASCII letters, digits, - _ / . # and placeholders",
                    ));
                }
                literal.push(c);
                rest = rest.get(c.len_utf8()..).unwrap_or_default();
            }
        }
        if !literal.is_empty() {
            parts.push(Part::Literal(literal));
        }
        let seqs = parts
            .iter()
            .filter(|p| matches!(p, Part::Seq { .. }))
            .count();
        let years = parts.iter().filter(|p| matches!(p, Part::Year)).count();
        if seqs != 1 || years > 1 {
            return Err(invalid(
                "an invoice series has exactly one {seq} and at most one {year}",
            ));
        }
        Ok(InvoiceSeries {
            pattern: pattern.to_owned(),
            parts,
        })
    }

    /// The pattern as written.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// Whether the pattern holds `{year}`, so that numbering starts again each year.
    pub fn resets_yearly(&self) -> bool {
        self.parts.iter().any(|p| matches!(p, Part::Year))
    }

    /// The invoice number for sequence number `seq` in local year `year`.
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `seq`) for a sequence number of zero; numbers start at 1.
    pub fn render(&self, year: i32, seq: u64) -> Result<String> {
        if seq == 0 {
            return Err(Error::validation("seq", "invoice numbers start at 1"));
        }
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Literal(text) => out.push_str(text),
                Part::Year => out.push_str(&year.to_string()),
                Part::Seq { pad } => out.push_str(&format!("{seq:0pad$}")),
            }
        }
        Ok(out)
    }
}

impl InvoiceSeries {
    /// The default credit note series, `CN-{year}-{seq:06}`.
    fn default_credit_notes() -> InvoiceSeries {
        InvoiceSeries {
            pattern: "CN-{year}-{seq:06}".to_owned(),
            parts: vec![
                Part::Literal("CN-".to_owned()),
                Part::Year,
                Part::Literal("-".to_owned()),
                Part::Seq { pad: 6 },
            ],
        }
    }
}

// As its pattern (`"INV-{year}-{seq:5}"`).
#[cfg(feature = "serde")]
impl serde::Serialize for InvoiceSeries {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.pattern())
    }
}

impl Default for InvoiceSeries {
    fn default() -> InvoiceSeries {
        InvoiceSeries {
            pattern: "INV-{year}-{seq:06}".to_owned(),
            parts: vec![
                Part::Literal("INV-".to_owned()),
                Part::Year,
                Part::Literal("-".to_owned()),
                Part::Seq { pad: 6 },
            ],
        }
    }
}

/// The shop's one settings record, read by checkout and invoicing.
///
/// Build it with [`ShopSettings::builder`]; save it with
/// [`SettingsRepo::update`](crate::SettingsRepo::update), which needs the version it was read
/// at ([`version`](ShopSettings::version), 0 before the first save) so that two admins cannot
/// silently overwrite each other.
///
/// ```
/// use shopkeep::{Currency, Email};
/// use shopkeep::catalog::{
///     Contact, CountryTaxes, PostalAddress, Seller, ShopSettings, TaxTable, TimeZone,
/// };
/// use shopkeep::customers::{Country, Phone, VatId};
/// use shopkeep::money::TaxRate;
/// use shopkeep::orders::PriceMode;
///
/// let de = Country::parse("DE")?;
/// let seller = Seller::new(
///     "Beispiel GmbH",
///     PostalAddress::new("Hauptstr. 1", "10115", "Berlin", de)?,
///     Contact::new("Olga Owner", Phone::parse("+49 30 1234567")?, Email::parse("billing@example.com")?)?,
/// )?
/// .vat_id(VatId::parse("DE123456789")?);
/// let settings = ShopSettings::builder(seller, PriceMode::TaxInclusive, Currency::EUR)
///     .accept_currency(Currency::CHF)
///     .tax_table(TaxTable::new().country(de, CountryTaxes::new(TaxRate::parse("19")?)))
///     .time_zone(TimeZone::parse("Europe/Berlin")?)
///     .build()?;
/// assert!(settings.accepts(Currency::CHF));
/// assert_eq!(settings.version(), 0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ShopSettings {
    pub(crate) seller: Seller,
    pub(crate) price_mode: PriceMode,
    pub(crate) base_currency: Currency,
    pub(crate) accepted_currencies: BTreeSet<Currency>,
    pub(crate) tax_table: TaxTable,
    pub(crate) invoice_series: InvoiceSeries,
    pub(crate) invoice_issue: InvoiceIssue,
    pub(crate) credit_note_series: InvoiceSeries,
    pub(crate) payment_terms_days: u16,
    pub(crate) invoice_retention_years: u16,
    pub(crate) time_zone: TimeZone,
    pub(crate) version: u64,
    pub(crate) updated_at: Option<Timestamp>,
}

impl ShopSettings {
    /// Starts settings with the seller, the price mode and the base currency. Defaults: only
    /// the base currency accepted, an empty tax table (which [`build`](ShopSettingsBuilder::build)
    /// refuses), series `INV-{year}-{seq:06}`, invoices issued on payment, time zone UTC.
    pub fn builder(
        seller: Seller,
        price_mode: PriceMode,
        base_currency: Currency,
    ) -> ShopSettingsBuilder {
        ShopSettingsBuilder {
            settings: ShopSettings {
                seller,
                price_mode,
                base_currency,
                accepted_currencies: BTreeSet::from([base_currency]),
                tax_table: TaxTable::new(),
                invoice_series: InvoiceSeries::default(),
                invoice_issue: InvoiceIssue::OnPayment,
                credit_note_series: InvoiceSeries::default_credit_notes(),
                payment_terms_days: 14,
                invoice_retention_years: 10,
                time_zone: TimeZone(chrono_tz::UTC),
                version: 0,
                updated_at: None,
            },
        }
    }

    /// A builder holding these settings (and their version), to change some and save again.
    pub fn to_builder(&self) -> ShopSettingsBuilder {
        ShopSettingsBuilder {
            settings: self.clone(),
        }
    }

    /// The seller.
    pub fn seller(&self) -> &Seller {
        &self.seller
    }

    /// Whether prices include VAT.
    pub fn price_mode(&self) -> PriceMode {
        self.price_mode
    }

    /// The currency the books are kept in.
    pub fn base_currency(&self) -> Currency {
        self.base_currency
    }

    /// The currencies prices may be set and paid in, the base currency among them.
    pub fn accepted_currencies(&self) -> impl Iterator<Item = Currency> + '_ {
        self.accepted_currencies.iter().copied()
    }

    /// Whether prices may be set and paid in `currency`.
    pub fn accepts(&self, currency: Currency) -> bool {
        self.accepted_currencies.contains(&currency)
    }

    /// The tax table.
    pub fn tax_table(&self) -> &TaxTable {
        &self.tax_table
    }

    /// The invoice number pattern.
    pub fn invoice_series(&self) -> &InvoiceSeries {
        &self.invoice_series
    }

    /// When invoices are issued.
    pub fn invoice_issue(&self) -> InvoiceIssue {
        self.invoice_issue
    }

    /// The series credit notes are numbered in (default `CN-{year}-{seq:06}`), separate from
    /// the invoices'.
    pub fn credit_note_series(&self) -> &InvoiceSeries {
        &self.credit_note_series
    }

    /// Days from an invoice's issue date to its due date (default 14; 0 means due on issue).
    pub fn payment_terms_days(&self) -> u16 {
        self.payment_terms_days
    }

    /// Years an issued invoice is kept before [`InvoiceRepo::purge_expired`] may delete it
    /// (default 10, the longest EU period; 1 to 30). Counted from the end of the issue year.
    ///
    /// [`InvoiceRepo::purge_expired`]: crate::InvoiceRepo::purge_expired
    pub fn invoice_retention_years(&self) -> u16 {
        self.invoice_retention_years
    }

    /// The shop's time zone.
    pub fn time_zone(&self) -> TimeZone {
        self.time_zone
    }

    /// The saved version these settings were read at; 0 for settings never saved.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// When this version was saved; `None` for settings never saved.
    pub fn updated_at(&self) -> Option<Timestamp> {
        self.updated_at
    }
}

/// Builds [`ShopSettings`]; from [`ShopSettings::builder`] or [`ShopSettings::to_builder`].
#[derive(Debug, Clone)]
#[must_use]
pub struct ShopSettingsBuilder {
    settings: ShopSettings,
}

impl ShopSettingsBuilder {
    /// Replaces the seller.
    pub fn seller(mut self, seller: Seller) -> Self {
        self.settings.seller = seller;
        self
    }

    /// Sets the price mode.
    pub fn price_mode(mut self, mode: PriceMode) -> Self {
        self.settings.price_mode = mode;
        self
    }

    /// Sets the base currency (it is accepted too).
    pub fn base_currency(mut self, currency: Currency) -> Self {
        self.settings.base_currency = currency;
        self.settings.accepted_currencies.insert(currency);
        self
    }

    /// Accepts one more currency.
    pub fn accept_currency(mut self, currency: Currency) -> Self {
        self.settings.accepted_currencies.insert(currency);
        self
    }

    /// Stops accepting a currency (the base currency stays accepted).
    pub fn drop_currency(mut self, currency: Currency) -> Self {
        if currency != self.settings.base_currency {
            self.settings.accepted_currencies.remove(&currency);
        }
        self
    }

    /// Sets the tax table.
    pub fn tax_table(mut self, table: TaxTable) -> Self {
        self.settings.tax_table = table;
        self
    }

    /// Sets the invoice number pattern.
    pub fn invoice_series(mut self, series: InvoiceSeries) -> Self {
        self.settings.invoice_series = series;
        self
    }

    /// Sets when invoices are issued.
    pub fn invoice_issue(mut self, issue: InvoiceIssue) -> Self {
        self.settings.invoice_issue = issue;
        self
    }

    /// Sets the series credit notes are numbered in.
    pub fn credit_note_series(mut self, series: InvoiceSeries) -> Self {
        self.settings.credit_note_series = series;
        self
    }

    /// Sets the days from an invoice's issue date to its due date (0 to 365).
    pub fn payment_terms_days(mut self, days: u16) -> Self {
        self.settings.payment_terms_days = days;
        self
    }

    /// Sets how many years issued invoices are kept (1 to 30).
    pub fn invoice_retention_years(mut self, years: u16) -> Self {
        self.settings.invoice_retention_years = years;
        self
    }

    /// Sets the shop's time zone.
    pub fn time_zone(mut self, zone: TimeZone) -> Self {
        self.settings.time_zone = zone;
        self
    }

    /// Checks the rules that span fields and returns the settings.
    ///
    /// # Errors
    ///
    /// A `Validation` error: field `seller_identifier` if e-invoices could not identify the
    /// seller, which needs a VAT id, a legal registration id or a seller identifier (EN 16931
    /// BR-CO-26; a tax number alone does not count); field `seller_country` if the seller is
    /// established outside the EU, Switzerland and the United Kingdom, whose VAT the
    /// checkout's rules do not know; field `vat_id` if the seller has neither a VAT id nor a
    /// tax number; field `tax_table` if the table has no rates for the seller's country; field
    /// `base_currency` or `accepted_currencies` for a currency with more than two decimals
    /// (KWD, BHD, ...), whose amounts an EN 16931 invoice cannot state (UBL-DT-01); field
    /// `credit_note_series` if it is the invoice series (each needs its own gapless count);
    /// field `payment_terms_days` above 365; field `invoice_retention_years` outside 1 to 30.
    pub fn build(self) -> Result<ShopSettings> {
        self.settings.seller.check_identified("seller_identifier")?;
        crate::orders::vat_rules::check_seller_country(self.settings.seller.address().country())?;
        // An order in a currency EN 16931 cannot state could be placed and paid, but never
        // invoiced: refuse to sell in it at all.
        check_invoiceable(self.settings.base_currency, "base_currency")?;
        for currency in &self.settings.accepted_currencies {
            check_invoiceable(*currency, "accepted_currencies")?;
        }
        self.build_stored()
    }

    /// [`build`](Self::build) for settings read back from the database: every rule but the
    /// ones about invoices and VAT (BR-CO-26, UBL-DT-01, the seller's country), which settings saved before they were
    /// enforced may break. Such settings still load, so that the shop keeps running and an
    /// admin can read and correct them; issuing refuses the invoices they cannot produce.
    pub(crate) fn build_stored(self) -> Result<ShopSettings> {
        let s = self.settings;
        if s.seller.vat_id_number().is_none() && s.seller.tax_number_text().is_none() {
            return Err(Error::validation(
                "vat_id",
                "the seller needs a VAT id or a tax number",
            ));
        }
        let home = s.seller.address().country();
        if s.tax_table.get(home).is_none() {
            return Err(Error::validation(
                "tax_table",
                format!("the tax table needs the rates of the seller's country, {home}"),
            ));
        }
        if s.credit_note_series.pattern() == s.invoice_series.pattern() {
            return Err(Error::validation(
                "credit_note_series",
                "credit notes need a series of their own",
            ));
        }
        if s.payment_terms_days > 365 {
            return Err(Error::validation(
                "payment_terms_days",
                "payment terms are at most 365 days",
            ));
        }
        if !(1..=30).contains(&s.invoice_retention_years) {
            return Err(Error::validation(
                "invoice_retention_years",
                "invoices are kept for 1 to 30 years",
            ));
        }
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn series_patterns_parse_and_render() {
        let cases = [
            ("INV-{year}-{seq:06}", 2026, 7, "INV-2026-000007"),
            ("{seq}", 2026, 123, "123"),
            ("R/{year}/{seq:03}", 2027, 1234, "R/2027/1234"),
            ("#{seq:012}", 1, 1, "#000000000001"),
        ];
        for (pattern, year, seq, want) in cases {
            assert_eq!(
                InvoiceSeries::parse(pattern)
                    .unwrap()
                    .render(year, seq)
                    .unwrap(),
                want
            );
        }
        assert!(!InvoiceSeries::parse("{seq}").unwrap().resets_yearly());
        assert_eq!(
            InvoiceSeries::default(),
            InvoiceSeries::parse("INV-{year}-{seq:06}").unwrap()
        );
        for bad in [
            "",
            "INV",
            "{year}",
            "{seq}{seq}",
            "{year}{year}{seq}",
            "{seq",
            "{seq:6}",
            "{seq:00}",
            "{seq:013}",
            "{month}{seq}",
            "INV {seq}",
            "ÄR-{seq}",
            "}{seq}",
            &format!("{}{{seq}}", "A".repeat(40)),
        ] {
            let err = InvoiceSeries::parse(bad).unwrap_err();
            assert_eq!(
                err.kind(),
                ErrorKind::Validation {
                    field: "invoice_series"
                },
                "{bad:?}"
            );
        }
        assert!(InvoiceSeries::default().render(2026, 0).is_err());
        assert_eq!(
            InvoiceSeries::default_credit_notes(),
            InvoiceSeries::parse("CN-{year}-{seq:06}").unwrap()
        );
    }

    #[test]
    fn local_dates_follow_the_zone_and_daylight_saving() {
        let berlin = TimeZone::parse("Europe/Berlin").unwrap();
        let ts = |s| Timestamp::parse_rfc3339(s).unwrap();
        assert_eq!(berlin.local_year(ts("2025-12-31T22:59:59Z")), 2025);
        assert_eq!(berlin.local_year(ts("2025-12-31T23:00:00Z")), 2026);
        // Summer time: UTC+2.
        assert_eq!(
            berlin.local_date(ts("2026-06-30T22:30:00Z")).to_string(),
            "2026-07-01"
        );
        let utc = TimeZone::parse("UTC").unwrap();
        assert_eq!(utc.local_year(ts("2025-12-31T23:30:00Z")), 2025);
        for bad in ["", "europe/berlin", "Berlin", "CET+1", "Mars/Olympus_Mons"] {
            assert!(TimeZone::parse(bad).is_err(), "{bad}");
        }
    }
}
