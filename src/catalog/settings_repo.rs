//! The settings' SQL: one row holding a JSON document, written and read only through the
//! validating model types.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::seller::{BankAccount, Bic, Contact, Iban, PostalAddress, Seller, SellerIdentifier};
use super::settings::{InvoiceIssue, InvoiceSeries, ShopSettings, TimeZone};
use super::sql::{int, uint};
use super::tax::{CountryTaxes, TaxTable};
use crate::access::{Action, Principal, Resource};
use crate::customers::{Country, ElectronicAddress, Phone, VatId};
use crate::email::Email;
use crate::error::{Error, ErrorKind, Result};
use crate::money::{Currency, TaxRate};
use crate::orders::PriceMode;
use crate::sql::args;
use crate::store::{Store, Tx};

/// The shop's settings, as seen by one principal. From [`Store::settings`].
#[derive(Debug)]
pub struct SettingsRepo<'s> {
    store: &'s Store,
    principal: &'s Principal,
}

impl Store {
    /// The shop's settings, for `principal`.
    ///
    /// ```
    /// use shopkeep::{Currency, Email, ErrorKind, KeyRing, Store};
    /// use shopkeep::catalog::{
    ///     Contact, CountryTaxes, PostalAddress, Seller, ShopSettings, TaxTable, TimeZone,
    /// };
    /// use shopkeep::customers::{Country, Phone};
    /// use shopkeep::money::TaxRate;
    /// use shopkeep::orders::PriceMode;
    ///
    /// let store = Store::open_in_memory(KeyRing::generate()?)?;
    /// let admin = store.system();
    /// assert!(store.settings(&admin).get()?.is_none()); // a new shop has none yet
    ///
    /// let de = Country::parse("DE")?;
    /// let seller = Seller::new(
    ///     "Beispiel GmbH",
    ///     PostalAddress::new("Hauptstr. 1", "10115", "Berlin", de)?,
    ///     Contact::new("Olga Owner", Phone::parse("+49 30 1234567")?, Email::parse("billing@example.com")?)?,
    /// )?
    /// .tax_number("27/123/45678")?
    /// .registration("HRB 12345, Amtsgericht Berlin")?;
    /// let settings = ShopSettings::builder(seller, PriceMode::TaxInclusive, Currency::EUR)
    ///     .tax_table(TaxTable::new().country(de, CountryTaxes::new(TaxRate::parse("19")?)))
    ///     .time_zone(TimeZone::parse("Europe/Berlin")?)
    ///     .build()?;
    /// let saved = store.settings(&admin).update(0, &settings)?;
    /// assert_eq!(saved.version(), 1);
    ///
    /// // A second save that still names version 0 read stale settings: refused.
    /// let err = store.settings(&admin).update(0, &settings).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::Conflict);
    /// Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn settings<'s>(&'s self, principal: &'s Principal) -> SettingsRepo<'s> {
        SettingsRepo {
            store: self,
            principal,
        }
    }
}

impl SettingsRepo<'_> {
    /// The current settings, or `None` if they were never saved. Needs
    /// [`Action::ReadSettings`].
    ///
    /// # Errors
    ///
    /// `Forbidden` without the permission.
    pub fn get(&self) -> Result<Option<ShopSettings>> {
        self.store.read(|tx| {
            tx.authorize(self.principal, Action::ReadSettings, &Resource::Settings)?;
            current(tx)
        })
    }

    /// Saves `settings`, replacing the current ones, if they are still at `expected_version`
    /// (the [`version`](ShopSettings::version) they were read at; 0 for the first save).
    /// Returns them at their new version. Needs [`Action::UpdateSettings`]; audited.
    ///
    /// # Errors
    ///
    /// `Forbidden` without the permission; `Conflict` if the settings were saved since
    /// `expected_version` (read them again, reapply the change, save again).
    pub fn update(&self, expected_version: u64, settings: &ShopSettings) -> Result<ShopSettings> {
        let document = serde_json::to_string(&Document::from(settings)).map_err(|e| {
            Error::new(ErrorKind::Storage, "the settings could not be encoded").with_source(e)
        })?;
        self.store.write(|tx| {
            tx.authorize(self.principal, Action::UpdateSettings, &Resource::Settings)?;
            let stored: i64 = tx
                .query_opt(
                    "SELECT version FROM shopkeep_settings WHERE id = 1",
                    args![],
                    |r| r.get(0),
                )?
                .unwrap_or(0);
            let stored = uint(stored);
            if stored != expected_version {
                return Err(Error::new(
                    ErrorKind::Conflict,
                    format!(
                        "the settings are at version {stored}, not {expected_version}: read them again"
                    ),
                ));
            }
            let version = stored + 1;
            tx.execute(
                "INSERT INTO shopkeep_settings (id, version, document, updated_at, updated_by)
                 VALUES (1, ?1, ?2, ?3, ?4)
                 ON CONFLICT (id) DO UPDATE SET version = excluded.version,
                     document = excluded.document, updated_at = excluded.updated_at,
                     updated_by = excluded.updated_by",
                args![
                    int(version),
                    document,
                    tx.now(),
                    self.principal.audit_name()
                ],
            )?;
            tx.audit(self.principal, Action::UpdateSettings, &Resource::Settings)?;
            let mut saved = settings.clone();
            saved.version = version;
            saved.updated_at = Some(tx.now());
            Ok(saved)
        })
    }
}

/// The current settings inside a transaction, for checkout and invoicing (no authorisation:
/// the caller has authorised its own action).
pub(crate) fn current(tx: &Tx<'_>) -> Result<Option<ShopSettings>> {
    let row: Option<(i64, String, crate::clock::Timestamp)> = tx.query_opt(
        "SELECT version, document, updated_at FROM shopkeep_settings WHERE id = 1",
        args![],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let Some((version, document, updated_at)) = row else {
        return Ok(None);
    };
    tx.cache::<SettingsCache>()
        .get_or_parse(document, uint(version), updated_at)
}

/// The settings one store parsed last. Checkout reads the settings on every order: parsing and
/// re-validating the document each time is a large share of its cost, so each store keeps the
/// last document it parsed, keyed by its whole text, version and time (settings depend on
/// nothing else, and a document changed outside shopkeep is parsed again).
#[derive(Default)]
struct SettingsCache(std::sync::Mutex<Option<(String, ShopSettings)>>);

impl SettingsCache {
    fn get_or_parse(
        &self,
        document: String,
        version: u64,
        updated_at: crate::clock::Timestamp,
    ) -> Result<Option<ShopSettings>> {
        let mut last = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((text, cached)) = &*last
            && *text == document
            && cached.version == version
            && cached.updated_at == Some(updated_at)
        {
            return Ok(Some(cached.clone()));
        }
        let parsed = parse(version, &document, updated_at)?;
        *last = Some((document, parsed.clone()));
        Ok(Some(parsed))
    }
}

fn parse(
    version: u64,
    document: &str,
    updated_at: crate::clock::Timestamp,
) -> Result<ShopSettings> {
    let corrupt = |e: Error| {
        Error::new(
            ErrorKind::Storage,
            format!("the stored settings are invalid: {}", e.message()),
        )
    };
    let document: Document = serde_json::from_str(document).map_err(|e| {
        Error::new(ErrorKind::Storage, "the stored settings are invalid").with_source(e)
    })?;
    let mut settings = document.into_settings().map_err(corrupt)?;
    settings.version = version;
    settings.updated_at = Some(updated_at);
    Ok(settings)
}

/// The stored form. Each field is read back through the model's validating constructors, so
/// a document edited outside shopkeep cannot produce settings the API would have refused.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Document {
    seller: SellerDocument,
    price_mode: String,
    base_currency: Currency,
    accepted_currencies: Vec<Currency>,
    tax_table: BTreeMap<String, CountryDocument>,
    invoice_series: String,
    invoice_issue: String,
    // Added after the first release: documents written before read as the defaults.
    #[serde(default = "default_credit_note_series")]
    credit_note_series: String,
    #[serde(default = "default_payment_terms_days")]
    payment_terms_days: u16,
    #[serde(default = "default_retention_years")]
    invoice_retention_years: u16,
    time_zone: String,
}

fn default_credit_note_series() -> String {
    "CN-{year}-{seq:06}".to_owned()
}

fn default_payment_terms_days() -> u16 {
    14
}

fn default_retention_years() -> u16 {
    10
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SellerDocument {
    legal_name: String,
    address: AddressDocument,
    contact: ContactDocument,
    // Added with BR-CO-26: sellers written before have none.
    #[serde(default)]
    identifier: Option<IdentifierDocument>,
    vat_id: Option<String>,
    tax_number: Option<String>,
    registration: Option<String>,
    bank_account: Option<BankDocument>,
    #[serde(default)]
    electronic_address: Option<EndpointDocument>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct IdentifierDocument {
    scheme: String,
    value: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EndpointDocument {
    scheme: String,
    value: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct AddressDocument {
    line1: String,
    line2: Option<String>,
    post_code: String,
    city: String,
    country: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ContactDocument {
    name: String,
    phone: String,
    email: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BankDocument {
    iban: String,
    bic: Option<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CountryDocument {
    standard: TaxRate,
    reduced: Option<TaxRate>,
    exemption_reason: Option<String>,
}

impl From<&ShopSettings> for Document {
    fn from(s: &ShopSettings) -> Document {
        Document {
            seller: SellerDocument::from(s.seller()),
            price_mode: price_mode_name(s.price_mode()).to_owned(),
            base_currency: s.base_currency(),
            accepted_currencies: s.accepted_currencies().collect(),
            tax_table: s
                .tax_table()
                .countries()
                .map(|(code, t)| {
                    (
                        code.as_str().to_owned(),
                        CountryDocument {
                            standard: t.standard_rate(),
                            reduced: t.reduced_rate(),
                            exemption_reason: t.exemption_reason_text().map(str::to_owned),
                        },
                    )
                })
                .collect(),
            invoice_series: s.invoice_series().pattern().to_owned(),
            invoice_issue: s.invoice_issue().as_str().to_owned(),
            credit_note_series: s.credit_note_series().pattern().to_owned(),
            payment_terms_days: s.payment_terms_days(),
            invoice_retention_years: s.invoice_retention_years(),
            time_zone: s.time_zone().name().to_owned(),
        }
    }
}

impl Document {
    fn into_settings(self) -> Result<ShopSettings> {
        let seller = self.seller.into_seller()?;
        let mut table = TaxTable::new();
        for (code, c) in self.tax_table {
            let mut taxes = CountryTaxes::new(c.standard);
            if let Some(reduced) = c.reduced {
                taxes = taxes.reduced(reduced);
            }
            if let Some(reason) = &c.exemption_reason {
                taxes = taxes.exemption_reason(reason)?;
            }
            table = table.country(Country::parse(&code)?, taxes);
        }
        let mut builder =
            ShopSettings::builder(seller, price_mode(&self.price_mode)?, self.base_currency)
                .tax_table(table)
                .invoice_series(InvoiceSeries::parse(&self.invoice_series)?)
                .invoice_issue(InvoiceIssue::parse(&self.invoice_issue)?)
                .credit_note_series(InvoiceSeries::parse(&self.credit_note_series)?)
                .payment_terms_days(self.payment_terms_days)
                .invoice_retention_years(self.invoice_retention_years)
                .time_zone(TimeZone::parse(&self.time_zone)?);
        for currency in self.accepted_currencies {
            builder = builder.accept_currency(currency);
        }
        builder.build_stored()
    }
}

impl From<&Seller> for SellerDocument {
    fn from(seller: &Seller) -> SellerDocument {
        let address = seller.address();
        let contact = seller.contact();
        SellerDocument {
            legal_name: seller.legal_name().to_owned(),
            address: AddressDocument {
                line1: address.line1().to_owned(),
                line2: address.second_line().map(str::to_owned),
                post_code: address.post_code().to_owned(),
                city: address.city().to_owned(),
                country: address.country().as_str().to_owned(),
            },
            contact: ContactDocument {
                name: contact.name().to_owned(),
                phone: contact.phone().as_str().to_owned(),
                email: contact.email().as_str().to_owned(),
            },
            identifier: seller.identifier_code().map(|i| IdentifierDocument {
                scheme: i.scheme().to_owned(),
                value: i.value().to_owned(),
            }),
            vat_id: seller.vat_id_number().map(|v| v.as_str().to_owned()),
            tax_number: seller.tax_number_text().map(str::to_owned),
            registration: seller.registration_text().map(str::to_owned),
            bank_account: seller.bank().map(|b| BankDocument {
                iban: b.iban().as_str().to_owned(),
                bic: b.bic_code().map(|c| c.as_str().to_owned()),
            }),
            electronic_address: seller.endpoint().map(|e| EndpointDocument {
                scheme: e.scheme().to_owned(),
                value: e.value().to_owned(),
            }),
        }
    }
}

impl SellerDocument {
    fn into_seller(self) -> Result<Seller> {
        let d = self;
        let a = d.address;
        let mut address =
            PostalAddress::new(&a.line1, &a.post_code, &a.city, Country::parse(&a.country)?)?;
        if let Some(line2) = &a.line2 {
            address = address.line2(line2)?;
        }
        let contact = Contact::new(
            &d.contact.name,
            Phone::parse(&d.contact.phone)?,
            Email::parse(&d.contact.email)?,
        )?;
        let mut seller = Seller::new(&d.legal_name, address, contact)?;
        if let Some(identifier) = &d.identifier {
            seller = seller.identifier(SellerIdentifier::new(
                &identifier.scheme,
                &identifier.value,
            )?);
        }
        if let Some(vat_id) = &d.vat_id {
            seller = seller.vat_id(VatId::parse(vat_id)?);
        }
        if let Some(number) = &d.tax_number {
            seller = seller.tax_number(number)?;
        }
        if let Some(registration) = &d.registration {
            seller = seller.registration(registration)?;
        }
        if let Some(bank) = &d.bank_account {
            let mut account = BankAccount::new(Iban::parse(&bank.iban)?);
            if let Some(bic) = &bank.bic {
                account = account.bic(Bic::parse(bic)?);
            }
            seller = seller.bank_account(account);
        }
        if let Some(e) = &d.electronic_address {
            seller = seller.electronic_address(ElectronicAddress::new(&e.scheme, &e.value)?);
        }
        Ok(seller)
    }
}

/// The seller as a JSON document (an issued invoice keeps the seller it stated).
pub(crate) fn seller_to_json(seller: &Seller) -> Result<String> {
    serde_json::to_string(&SellerDocument::from(seller))
        .map_err(|e| Error::new(ErrorKind::Storage, "the seller cannot be stored").with_source(e))
}

/// Reads a seller written by [`seller_to_json`], through the validating constructors.
pub(crate) fn seller_from_json(json: &str) -> Result<Seller> {
    let document: SellerDocument = serde_json::from_str(json).map_err(|e| {
        Error::new(ErrorKind::Storage, "a stored seller is malformed").with_source(e)
    })?;
    document.into_seller()
}

/// The stored name of a price mode.
fn price_mode_name(mode: PriceMode) -> &'static str {
    match mode {
        PriceMode::TaxExclusive => "tax_exclusive",
        PriceMode::TaxInclusive => "tax_inclusive",
    }
}

fn price_mode(name: &str) -> Result<PriceMode> {
    match name {
        "tax_exclusive" => Ok(PriceMode::TaxExclusive),
        "tax_inclusive" => Ok(PriceMode::TaxInclusive),
        _ => Err(Error::validation("price_mode", "unknown price mode")),
    }
}
