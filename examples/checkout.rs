//! The shop flow, end to end, on a fresh database: what a shop owner wants to see.
//!
//! ```text
//! cargo run --example checkout                       # a fresh database in a temporary directory
//! cargo run --example checkout -- --db shop.db       # or a file of your choosing (run it again:
//!                                                    # the same shop, another order)
//! cargo run --example checkout -- --out my-documents # where the documents go (./checkout-out)
//! ```
//!
//! The owner sets up the shop (seller, German tax table, products at 19 % and 7 %, a coupon);
//! a customer registers, logs in, fills her cart, applies the coupon and checks out with an
//! idempotency key; a retry of the same checkout returns the same order; the gateway's payment
//! is recorded, the invoice issued and the order shipped. The order confirmation and the
//! invoice (text, HTML, PDF and the EN 16931 e-invoice) are written to `--out`.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::error::Error;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use shopkeep::access::{AuditVerification, NewStaff, Role};
use shopkeep::catalog::{
    Contact, CountryTaxes, NewProduct, PostalAddress, Seller, ShopSettings, Sku, StockChange,
    TaxCategory, TaxTable, TimeZone,
};
use shopkeep::crypto::Password;
use shopkeep::customers::{Country, NewCustomer, Phone, VatId};
use shopkeep::invoices::{InvoiceTemplates, Profile, to_html, to_pdf, to_text};
use shopkeep::money::TaxRate;
use shopkeep::orders::{
    CartRef, Checkout, Confirmation, Coupon, CouponCode, IdempotencyKey, Order, Payment, PriceMode,
    Shipment, Shipping, Templates,
};
use shopkeep::{Currency, Email, ErrorKind, KeyRing, Money, Principal, Store};

fn main() -> ExitCode {
    // Errors print as text (`conflict: ...`), not as the `Debug` a `Result` from `main` would show.
    match Args::parse().and_then(|args| run(&args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The whole flow on `args.db`: the first run sets the shop up, every run places a new order.
pub(crate) fn run(args: &Args) -> Result<(), Box<dyn Error>> {
    let store = Store::open(&args.db, master_key()?)?;
    println!(
        "database  {} (schema version {}){}",
        args.db.display(),
        store.schema_version()?,
        if args.tempdir.is_some() {
            "\n          temporary: deleted when the example ends; pass --db shop.db to keep it"
        } else {
            ""
        }
    );

    // The shop owner: created once by the host's trusted system principal, then logged in.
    let system = store.system();
    let owner_email = Email::parse("olga@example.com")?;
    let owner_password = "correct horse battery staple";
    let owner = NewStaff::new(
        owner_email.clone(),
        "Olga Owner",
        Role::Owner,
        Password::new(owner_password),
    )?;
    ignore_existing(store.staff(&system).create(owner).map(drop))?;
    let login = store.login_staff(&owner_email, &Password::new(owner_password))?;
    let olga = store.principal_from_session(login.token())?;

    let settings = set_up_shop(&store, &olga)?;
    let seller = settings.seller();
    println!(
        "seller    {}, {} {}, VAT id {}",
        seller.legal_name(),
        seller.address().post_code(),
        seller.address().city(),
        seller.vat_id_number().map_or("-", |v| v.as_str())
    );

    // A customer registers, then logs in; the host keeps only her session token.
    let email = Email::parse("ana.lima@example.com")?;
    let password = "my cat is called Biscuit";
    let de = Country::parse("DE")?;
    let home = shopkeep::customers::Address::new("Ana Lima", "Marktplatz 5", "München", de)?
        .with_postal_code("80331")?;
    let registration = NewCustomer::new(email.clone(), Password::new(password), "Ana Lima")?
        .shipping_address(home);
    ignore_existing(
        store
            .customers(&Principal::anonymous())
            .register(registration)
            .map(drop),
    )?;
    let session = store.login(&email, &Password::new(password))?;
    let ana = store.principal_from_session(session.token())?;
    let me = ana
        .customer_id()
        .ok_or("a customer session names its customer")?;
    let profile = store.customers(&ana).get(me)?;
    println!(
        "customer  {} <{}>",
        profile.name(),
        profile.email().as_str()
    );

    // Her cart: three mugs and a cookbook, then checkout with the coupon and shipping.
    let cart = CartRef::Customer(me);
    for (sku, quantity) in [("MUG-1", 3), ("BOOK-7", 1)] {
        let product = store.products(&ana).get_by_sku(&Sku::parse(sku)?)?;
        let variant = product
            .variants()
            .first()
            .ok_or("a product has a variant")?;
        // Run after run the same database sells out: the owner receives a delivery in time.
        if variant.on_hand().is_some_and(|n| n < u64::from(quantity)) {
            store
                .stock(&olga)
                .adjust(variant.id(), StockChange::receipt(10))?;
            println!("stock     {sku} ran low: 10 received");
        }
        store
            .carts(&ana)
            .set_quantity(cart, variant.id(), quantity)?;
    }
    // The client makes one key per checkout attempt and reuses it on every retry.
    let key = format!("checkout-{}", store.now().unix_millis());
    let request = Checkout::from_cart(me, IdempotencyKey::new(&key)?)
        .coupon(CouponCode::parse("WELCOME10")?)
        .shipping(Shipping::new(
            "Standard shipping (DHL)",
            Money::parse("4.90", Currency::EUR)?,
            TaxCategory::Standard,
        )?);
    let order = store.orders(&ana).checkout(request.clone())?.into_order();
    // The client timed out and sent the same request again: the same order comes back.
    let retry = store.orders(&ana).checkout(request)?.into_order();
    println!(
        "order     {} placed; the retry with the same idempotency key returned order {}",
        order.number(),
        retry.number()
    );
    print_order(&order);

    // The gateway confirms the payment; the back office invoices and ships. A gateway's
    // reference names one payment: a second order paid with the same one would be refused.
    let reference = format!("psp_demo_{}", order.number());
    let payment = Payment::new(&reference, order.total())?;
    store.orders(&olga).mark_paid(order.id(), payment)?;
    let invoice = store.invoices(&olga).issue(order.id())?;
    let shipment = Shipment::new()
        .carrier("DHL")?
        .tracking("00340434161094042557")?;
    let order = store.orders(&olga).ship(order.id(), shipment)?;
    println!(
        "paid      {reference} {}; invoice {}; order {}",
        order.total(),
        invoice.number(),
        order.status()
    );

    // The documents the host would email or archive.
    std::fs::create_dir_all(&args.out)?;
    let confirmation = Confirmation::for_order(&order, &settings)?;
    let templates = Templates::builtin();
    let invoice_templates = InvoiceTemplates::builtin();
    let stem = format!("invoice-{}", file_safe(invoice.number()));
    let files: [(String, Vec<u8>); 6] = [
        (
            "order-confirmation.txt".into(),
            confirmation.render_text(&templates)?.into_bytes(),
        ),
        (
            "order-confirmation.html".into(),
            confirmation.render_html(&templates)?.into_bytes(),
        ),
        (
            format!("{stem}.txt"),
            to_text(invoice.document(), &invoice_templates)?.into_bytes(),
        ),
        (
            format!("{stem}.html"),
            to_html(invoice.document(), &invoice_templates)?.into_bytes(),
        ),
        (format!("{stem}.pdf"), to_pdf(invoice.document())?),
        (
            format!("{stem}.xml"),
            invoice.to_ubl(Profile::En16931)?.into_bytes(),
        ),
    ];
    for (name, bytes) in files {
        let path = args.out.join(name);
        std::fs::write(&path, &bytes)?;
        println!("wrote     {} ({} bytes)", path.display(), bytes.len());
    }

    // What the back office checks: the audit chain, and the events for email and CRM tools.
    match store.audit_log(&olga).verify(None)? {
        AuditVerification::Intact { entries, .. } => {
            println!("audit     {entries} entries, intact")
        }
        broken => println!("audit     BROKEN: {broken:?}"),
    }
    let events = store.events(&system);
    let batch = events.poll(100, Duration::from_secs(60))?;
    let kinds: Vec<&str> = batch.iter().map(|e| e.kind()).collect();
    events.ack(&batch.iter().map(|e| e.id()).collect::<Vec<_>>())?;
    println!(
        "outbox    {} events delivered: {}",
        batch.len(),
        kinds.join(", ")
    );

    store.logout(session.token())?;
    store.logout(login.token())?;
    Ok(())
}

/// The shop's settings, catalogue and coupon, created on the first run.
fn set_up_shop(store: &Store, olga: &Principal) -> Result<ShopSettings, Box<dyn Error>> {
    let de = Country::parse("DE")?;
    let settings_repo = store.settings(olga);
    if let Some(settings) = settings_repo.get()? {
        return Ok(settings);
    }
    let seller = Seller::new(
        "Beispiel Haushaltswaren GmbH",
        PostalAddress::new("Hauptstr. 1", "10115", "Berlin", de)?,
        Contact::new(
            "Olga Owner",
            Phone::parse("+49 30 1234567")?,
            Email::parse("billing@example.com")?,
        )?,
    )?
    .vat_id(VatId::parse("DE123456788")?)
    .tax_number("27/123/45678")?
    .bank_account(shopkeep::catalog::BankAccount::new(
        shopkeep::catalog::Iban::parse("DE89 3704 0044 0532 0130 00")?,
    ));
    let german = CountryTaxes::new(TaxRate::parse("19")?).reduced(TaxRate::parse("7")?);
    let settings = ShopSettings::builder(seller, PriceMode::TaxInclusive, Currency::EUR)
        .tax_table(TaxTable::new().country(de, german))
        .time_zone(TimeZone::parse("Europe/Berlin")?)
        .build()?;
    let settings = settings_repo.update(0, &settings)?;

    for (sku, name, category, price, stock) in [
        ("MUG-1", "Enamel mug", TaxCategory::Standard, "12.90", 40),
        (
            "BOOK-7",
            "Bread & Butter cookbook",
            TaxCategory::Reduced,
            "24.00",
            5,
        ),
    ] {
        let new = NewProduct::new(Sku::parse(sku)?, name, category)?
            .price(Money::parse(price, Currency::EUR)?)
            .track_stock(true);
        let product = store.products(olga).create(new)?;
        let variant = product
            .variants()
            .first()
            .ok_or("a product has a variant")?;
        store
            .stock(olga)
            .adjust(variant.id(), StockChange::receipt(stock))?;
    }
    store
        .coupons(olga)
        .create(&Coupon::percent(CouponCode::parse("WELCOME10")?, 1000)?)?;
    Ok(settings)
}

fn print_order(order: &Order) {
    for line in order.lines() {
        println!(
            "line      {} × {:<26} {:>10} {:>5} % VAT",
            line.quantity(),
            line.name(),
            line.amount().to_string(),
            line.vat().rate().to_percent_string()
        );
    }
    if let Some(code) = order.coupon() {
        let discount: i64 = order.lines().iter().map(|l| l.discount().minor()).sum();
        let discount = Money::new(discount, order.currency());
        println!("coupon    {code:<30} {:>10}", format!("-{discount}"));
    }
    for charge in order.charges() {
        println!(
            "charge    {:<30} {:>10}",
            charge.reason(),
            charge.amount().to_string()
        );
    }
    for group in order.vat_breakdown() {
        println!(
            "VAT       {:>5} % of {:>10} = {:>10}",
            group.vat().rate().to_percent_string(),
            group.taxable().to_string(),
            group.tax().to_string()
        );
    }
    println!(
        "total     net {} + VAT {} = {}",
        order.net_total(),
        order.vat_total(),
        order.total()
    );
}

/// An invoice number as a file name: anything but letters, digits, `-` and `_` becomes `_`.
fn file_safe(number: &str) -> String {
    number
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// A second run on the same `--db` finds the owner and the customer already there.
fn ignore_existing(result: shopkeep::Result<()>) -> shopkeep::Result<()> {
    match result {
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(()),
        other => other,
    }
}

/// A real host reads its master key from a secret manager or the environment and keeps it away
/// from the database file and its backups. The fallback is for this demo only.
fn master_key() -> Result<KeyRing, Box<dyn Error>> {
    let hex = std::env::var("SHOPKEEP_MASTER_KEY").unwrap_or_else(|_| {
        "6b6565702d746869732d6f75742d6f662d7468652d64622d6469726563746f72".into()
    });
    Ok(KeyRing::from_hex(&hex)?)
}

pub(crate) struct Args {
    pub(crate) db: PathBuf,
    pub(crate) out: PathBuf,
    /// The default database's temporary directory, kept alive until the end.
    pub(crate) tempdir: Option<tempfile::TempDir>,
}

impl Args {
    /// `--db PATH` (default: a fresh file in a temporary directory) and `--out DIR` (default
    /// `./checkout-out`).
    fn parse() -> Result<Args, Box<dyn Error>> {
        let mut db = None;
        let mut out = PathBuf::from("checkout-out");
        let mut args = std::env::args().skip(1);
        while let Some(flag) = args.next() {
            let value = args
                .next()
                .ok_or("usage: checkout [--db PATH] [--out DIR]")?;
            match flag.as_str() {
                "--db" => db = Some(PathBuf::from(value)),
                "--out" => out = PathBuf::from(value),
                _ => return Err("usage: checkout [--db PATH] [--out DIR]".into()),
            }
        }
        let (db, tempdir) = match db {
            Some(path) => (path, None),
            None => {
                let dir = tempfile::tempdir()?;
                (dir.path().join("shop.db"), Some(dir))
            }
        };
        Ok(Args { db, out, tempdir })
    }
}
