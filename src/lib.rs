//! shopkeep is an embeddable commerce backend: a web shop's server, a point of sale or a CLI
//! links it to keep customers, products, orders and invoices in **one SQLite file**, with the
//! rules and the security of that data built in. The host owns transport (HTTP, gRPC, a GUI);
//! shopkeep owns the data. A shop that outgrows one machine moves to PostgreSQL (feature
//! `postgres`) with one line changed: `Store::connect_postgres` instead of `Store::open`.
//!
//! ```
//! use shopkeep::catalog::{NewProduct, Sku, TaxCategory};
//! use shopkeep::{Currency, KeyRing, Money, Store};
//!
//! let store = Store::open_in_memory(KeyRing::generate()?)?; // `Store::open(path, key)` for a file
//! let admin = store.system(); // the trusted principal for setup and background jobs
//! let mug = NewProduct::new(Sku::parse("MUG-1")?, "Enamel mug", TaxCategory::Standard)?
//!     .price(Money::parse("12.90", Currency::EUR)?);
//! let mug = store.products(&admin).create(mug)?;
//! assert_eq!(mug.name(), "Enamel mug");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # A tour of the crate
//!
//! The root holds what every program needs: the [`Store`] (opened with [`StoreOptions`] or
//! directly), the master [`KeyRing`], the acting [`Principal`], [`Money`] and [`Currency`],
//! [`Email`], and [`Error`], [`ErrorKind`] and [`Result`]. Everything else lives in the module
//! of its domain:
//!
//! | Module | What it holds | Start with |
//! |---|---|---|
//! | [`store`] | the SQLite file (or PostgreSQL schema): open, migrate, back up, rotate keys, maintain | [`Store`] |
//! | [`access`] | principals, the policy, staff, sessions, API keys, the audit log | [`access::Role`], [`access::Policy`] |
//! | [`catalog`] | products and variants, stock, the shop's settings and tax table | [`catalog::NewProduct`], [`catalog::ShopSettings`] |
//! | [`customers`] | accounts, login, addresses, consent, GDPR access and erasure | [`customers::NewCustomer`] |
//! | [`orders`] | carts, checkout, coupons, payment, shipping, refunds, totals and VAT | [`orders::Checkout`] |
//! | [`invoices`] | EN 16931 invoices and credit notes, as UBL, text, HTML or PDF | [`invoices::InvoiceRepo`] |
//! | [`events`] | the transactional outbox, for email tools, CRMs and webhooks | [`events::Events`] |
//! | [`money`] | exact money, ISO 4217 currencies, tax rates, explicit rounding | [`Money`] |
//! | [`clock`] | timestamps and the injectable clock | [`clock::ManualClock`] |
//! | [`crypto`] | the master key and passwords | [`crypto::Password`] |
//! | [`guide`] | the guides: architecture, security, access control, each domain | [`guide::architecture`] |
//!
//! Each repository comes from a [`Store`] method that takes the acting principal
//! (`store.products(&principal)`, `store.orders(&principal)`, …).
//!
//! # The whole flow
//!
//! Open a store, set up the shop's first owner, log in and recognise the session on the next
//! request, give a back-office integration an API key, create a product with stock, register
//! and log in a customer, set up the shop, let the customer fill a cart and check out (a retry
//! returns the same order), record the payment, issue the invoice (an EN 16931 e-invoice),
//! ship, work with exact money, check the audit log, drain the event outbox, and take a
//! consistent backup while the shop runs. `examples/checkout.rs` does the same and writes the
//! documents.
//!
//! ```
//! use std::time::Duration;
//! use shopkeep::{Currency, Email, KeyRing, Money, Principal, Store};
//! use shopkeep::access::{AuditVerification, NewApiKey, NewStaff, Role};
//! use shopkeep::catalog::{
//!     Contact, CountryTaxes, NewProduct, PostalAddress, Seller, ShopSettings, Sku, StockChange,
//!     TaxCategory, TaxTable,
//! };
//! use shopkeep::crypto::Password;
//! use shopkeep::customers::{Address, Country, NewCustomer, Phone, VatId};
//! use shopkeep::money::{Rounding, TaxRate};
//! use shopkeep::invoices::Profile;
//! use shopkeep::orders::{
//!     CartRef, Checkout, IdempotencyKey, OrderStatus, Payment, PriceMode, Shipment,
//! };
//!
//! # let dir = tempfile::tempdir()?;
//! # let path = dir.path().join("shop.db");
//! // The host keeps the 32-byte master key outside the database (a secret manager, an env var).
//! let master = "6b6565702d746869732d6f75742d6f662d7468652d64622d6469726563746f72";
//! let store = Store::open(&path, KeyRing::from_hex(master)?)?; // creates or migrates the schema
//! let system = store.system(); // the trusted principal for setup and background jobs
//!
//! // The first owner, then a login: the host keeps the session token in a cookie.
//! let email = Email::parse("olga@example.com")?;
//! let passphrase = "correct horse battery staple";
//! store.staff(&system).create(NewStaff::new(email.clone(), "Olga Owner", Role::Owner, Password::new(passphrase))?)?;
//! let login = store.login_staff(&email, &Password::new(passphrase))?;
//! let olga = store.principal_from_session(login.token())?; // on the next request
//! assert_eq!(olga.role(), Some(Role::Owner));
//!
//! // An API key for the accounting export: its secret is shown once.
//! let erp = store.api_keys(&olga).create(NewApiKey::new("ERP export", Role::Accountant)?)?;
//! let erp_principal = store.principal_from_api_key(erp.secret())?;
//! assert_eq!(erp_principal.role(), Some(Role::Accountant));
//!
//! // A product with stock, and a customer who registers and logs in.
//! let mug = NewProduct::new(Sku::parse("MUG-1")?, "Enamel mug", TaxCategory::Standard)?
//!     .price(Money::parse("12.90", Currency::EUR)?)
//!     .track_stock(true);
//! let mug = store.products(&olga).create(mug)?;
//! store.stock(&olga).adjust(mug.variants()[0].id(), StockChange::receipt(40))?;
//! let ana = Email::parse("ana@example.com")?;
//! let new = NewCustomer::new(ana.clone(), Password::new("my cat is called Biscuit"), "Ana Lima")?;
//! store.customers(&Principal::anonymous()).register(new)?;
//! let ana = store.principal_from_session(store.login(&ana, &Password::new("my cat is called Biscuit"))?.token())?;
//! let ana_id = ana.customer_id().ok_or("not a customer")?;
//!
//! // The shop's legal details, price mode and tax table; Ana's address; her cart; checkout.
//! let de = Country::parse("DE")?;
//! let office = PostalAddress::new("Hauptstr. 1", "10115", "Berlin", de)?;
//! let contact = Contact::new("Olga Owner", Phone::parse("+49 30 1234567")?, email.clone())?;
//! // E-invoices identify the seller by VAT id, registration or seller identifier (BR-CO-26).
//! let seller = Seller::new("Beispiel GmbH", office, contact)?.vat_id(VatId::parse("DE123456788")?);
//! let taxes = TaxTable::new().country(de, CountryTaxes::new(TaxRate::parse("19")?));
//! let settings = ShopSettings::builder(seller, PriceMode::TaxInclusive, Currency::EUR)
//!     .tax_table(taxes)
//!     .build()?;
//! store.settings(&olga).update(0, &settings)?;
//! store.customers(&ana).add_address(ana_id, Address::new("Ana Lima", "Torstr. 5", "Berlin", de)?)?;
//! store.carts(&ana).add(CartRef::Customer(ana_id), mug.variants()[0].id(), 2)?;
//! let request = || Ok::<_, shopkeep::Error>(Checkout::from_cart(ana_id, IdempotencyKey::new("req-7f3a")?));
//! let order = store.orders(&ana).checkout(request()?)?.into_order();
//! assert_eq!(order.total().to_string(), "25.80 EUR");
//! assert_eq!(order.vat_total().to_string(), "4.12 EUR"); // included in the price
//! let retried = store.orders(&ana).checkout(request()?)?; // the client retried: same order
//! assert!(retried.is_replay()); // an HTTP host answers 200 instead of 201
//! assert_eq!(retried.order().number(), order.number());
//!
//! // The payment gateway confirms the payment; the accountant's integration issues the invoice,
//! // numbered without gaps and unchangeable from now on; the warehouse ships.
//! store.orders(&system).mark_paid(order.id(), Payment::new("pi_3Nx2", order.total())?)?;
//! let invoice = store.invoices(&erp_principal).issue(order.id())?;
//! assert_eq!(invoice.number(), format!("INV-{}-000001", invoice.document().issue_date().year()));
//! let e_invoice = invoice.to_ubl(Profile::En16931)?; // EN 16931 UBL 2.1
//! assert!(e_invoice.contains("<cbc:PrepaidAmount")); // issued after payment: nothing due
//! let shipped = store.orders(&system).ship(order.id(), Shipment::new().carrier("DHL")?)?;
//! assert_eq!(shipped.status(), OrderStatus::Shipped);
//!
//! // Money is integer minor units of a currency: no floats, no silent rounding.
//! let mug = Money::parse("12.90", Currency::EUR)?;
//! let net = mug.checked_mul(3)?;
//! let vat = TaxRate::parse("19")?.tax_on(net, Rounding::HalfUp)?;
//! assert_eq!(net.checked_add(vat)?.to_string(), "46.05 EUR");
//!
//! // Every write and every refusal is in the tamper-evident audit log.
//! let AuditVerification::Intact { entries, .. } = store.audit_log(&olga).verify(None)? else {
//!     panic!("the audit log was tampered with");
//! };
//! assert!(entries >= 3);
//!
//! // The delivery job drains the outbox of events, at least once.
//! for event in store.events(&system).poll(100, Duration::from_secs(60))? {
//!     store.events(&system).ack(&[event.id()])?;
//! }
//!
//! // A consistent copy, taken while writers carry on; it opens like any store.
//! # let backup = dir.path().join("backup.db");
//! store.backup_to(&backup)?;
//! Store::open(&backup, KeyRing::from_hex(master)?)?.verify_integrity()?;
//! Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Design in one paragraph
//!
//! A [`Store`] holds one writer connection and a pool of readers on a WAL-mode SQLite file.
//! Every write runs in a `BEGIN IMMEDIATE` transaction through one helper; every "now" comes from
//! the store's [clock](clock::Clock); every failure is one [`Error`] with an [`ErrorKind`] to
//! match on. Money is [`Money`]: an `i64` of minor units and a [`Currency`], with checked
//! arithmetic. Every repository method takes the acting [`Principal`] and asks the
//! [policy](access::Policy) first; personal data is encrypted field by field under
//! per-subject keys ([`KeyRing`]). The [`guide`] covers the model in full:
//! [architecture](guide::architecture), [security](guide::security),
//! [access control](guide::access_control), [orders](guide::orders),
//! [invoicing](guide::invoicing), [catalogue](guide::catalog).
//!
//! # Calling from async code
//!
//! Every call blocks. An async host runs calls on its blocking pool
//! (`tokio::task::spawn_blocking(move || store.schema_version())`); [`Store`] is cheap to clone
//! into the closure.
//!
//! # Features
//!
//! - `bundled` (default): compile SQLite from source instead of linking the system library.
//! - `insecure-test-params`: enables `PasswordParams::insecure_for_tests()`, cheap argon2
//!   parameters for test suites. Never in production.
//! - `bench-internals`: hidden, unstable entry points for the crate's own benchmarks.
//! - `query-log`: hidden, logs every statement the connections run, for the query-plan test.
//! - `pdf`: `invoices::to_pdf`, invoices and credit notes as A4 PDF documents with an
//!   embedded font.
//! - `postgres`: `Store::connect_postgres`, the store on a PostgreSQL server (over TLS with
//!   `StoreOptions::postgres_tls`), and `StoreOptions::import_sqlite`, the move of a shop's
//!   file there (see [backends](guide::backends)).
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]

pub mod access;
#[cfg(feature = "bench-internals")]
pub mod bench_internals;
pub mod campaigns;
pub mod catalog;
pub mod clock;
pub mod crypto;
pub mod customers;
mod email;
mod error;
pub mod events;
pub mod guide;
mod ids;
pub mod integrations;
pub mod invoices;
pub mod leads;
pub mod marketing;
pub mod money;
pub mod orders;
#[cfg(feature = "query-log")]
pub mod query_log;
mod serde_text;
mod sql;
pub mod store;
mod templates;
mod text;

// Inlined: the root lists what a first program needs as its own items, not as re-exports.
#[doc(inline)]
pub use access::Principal;
#[doc(inline)]
pub use crypto::KeyRing;
pub use email::Email;
pub use error::{Error, ErrorKind, FieldError, Result, StockShortage};
#[doc(inline)]
pub use money::{Currency, Money};
#[doc(inline)]
pub use store::{Store, StoreOptions};

// The crate's own code names types by their old flat paths (`crate::Order`); these aliases keep
// those paths working inside the crate without putting them back on the public root.
#[allow(unused_imports)]
pub(crate) use access::{
    Action, ApiKeyId, ApiKeyInfo, ApiKeyRepo, ApiKeySecret, AuditEntry, AuditHead, AuditLog,
    AuditProblem, AuditVerification, CreatedApiKey, CustomerId, Decision, DefaultPolicy, Login,
    LoginThrottle, NewApiKey, NewStaff, Outcome, Policy, PrincipalKind, Request, Resource, Role,
    Rule, Scope, SessionSettings, SessionToken, StaffId, StaffMember, StaffRepo, Who,
};
#[allow(unused_imports)]
pub(crate) use catalog::{
    AppliedTax, BankAccount, Bic, Contact, CountryTaxes, Cursor, Iban, InvoiceIssue, InvoiceSeries,
    NewProduct, NewVariant, Page, PostalAddress, Product, ProductId, ProductOrder, ProductQuery,
    ProductRepo, ProductStatus, ProductUpdate, Seller, SellerIdentifier, SettingsRepo,
    ShopSettings, ShopSettingsBuilder, Sku, StockChange, StockMovement, StockReason, StockRepo,
    SupplyKind, TaxCategory, TaxTable, TimeZone, Variant, VariantId, VariantOption,
};
#[allow(unused_imports)]
pub(crate) use clock::{Clock, ManualClock, SystemClock, Timestamp};
#[allow(unused_imports)]
pub(crate) use crypto::{
    Password, PasswordHash, PasswordHasher, PasswordParams, PasswordPolicy, Verification,
};
#[allow(unused_imports)]
pub(crate) use customers::{
    Address, AddressId, AddressKind, BusinessDetails, Channel, ConsentEvent, ConsentRecord,
    ConsentRepo, ConsentRequest, ConsentState, ConsentStatus, ConsentToken, Country, Customer,
    CustomerAddress, CustomerExport, CustomerPage, CustomerRepo, ElectronicAddress, EmailReindex,
    NewCustomer, Phone, ProfileUpdate, ResetToken, UnsubscribeToken, VatId,
};
#[allow(unused_imports)]
pub(crate) use events::{Event, EventId, Events};
#[allow(unused_imports)]
pub(crate) use invoices::{
    Date, DocumentKind, DocumentLine, Invoice, InvoiceBuyer, InvoiceDocument,
    InvoiceDocumentBuilder, InvoiceId, InvoiceRepo, InvoiceTemplates, Profile, VatAccounting,
    to_html, to_text, to_ubl,
};
#[allow(unused_imports)]
pub(crate) use money::{Rounding, TaxRate};
#[allow(unused_imports)]
pub(crate) use orders::{
    BuyerSnapshot, Cart, CartDigest, CartId, CartLine, CartPreview, CartRef, CartRepo, CartToken,
    Charge, Checkout, Confirmation, Coupon, CouponCode, CouponRepo, CouponValue, EXPIRY_BATCH,
    GuestCart, IDEMPOTENCY_RETENTION, IdempotencyKey, LineTotal, MAX_CART_LINES, MAX_QUANTITY,
    Order, OrderCharge, OrderId, OrderLine, OrderNumber, OrderPage, OrderQuery, OrderRepo,
    OrderStatus, OrderVat, Payment, PaymentRecord, PriceMode, PricedLine, Refund, RefundId,
    RefundRecord, RefundedLine, Shipment, Shipping, Templates, Totals, VatCategory, VatGroup,
    VatTreatment,
};
#[allow(unused_imports)]
pub(crate) use store::{ConnectionReport, ConnectionRole, Durability, WalScrub};
