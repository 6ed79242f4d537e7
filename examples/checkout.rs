//! The shop flow, end to end, on a fresh database.
//!
//! ```text
//! cargo run --example checkout                 # a fresh database in a temporary directory
//! cargo run --example checkout -- --db shop.db # or a file of your choosing (created if missing)
//! ```
//!
//! This example grows with each capability of shopkeep. Today it opens the store, sets up the
//! shop (owner, settings with a German tax table, products with stock, a back-office API key),
//! registers and logs in a customer, prices their basket the EN 16931 way, checks the audit log,
//! drains the event outbox and takes a verified backup. Checkout and invoices come next.
#![allow(clippy::print_stdout)]

use std::error::Error;
use std::path::PathBuf;
use std::time::Duration;

use shopkeep::{
    AuditVerification, Contact, Country, CountryTaxes, Currency, Email, ErrorKind, KeyRing, Money,
    NewApiKey, NewCustomer, NewProduct, NewStaff, Password, Phone, PostalAddress, PriceMode,
    PricedLine, Principal, Role, Seller, ShopSettings, Sku, StockChange, Store, TaxCategory,
    TaxRate, TaxTable, TimeZone, Totals, VatCategory, VatId, VatTreatment,
};

fn main() -> Result<(), Box<dyn Error>> {
    let (path, _tempdir) = database_path()?;
    let store = Store::open(&path, master_key()?)?;
    println!(
        "opened   {} (schema version {})",
        path.display(),
        store.schema_version()?
    );
    for conn in store.connection_report()? {
        println!(
            "conn     {:?}: journal={} durability={:?} foreign_keys={} secure_delete={}",
            conn.role(),
            conn.journal_mode(),
            conn.durability(),
            conn.foreign_keys(),
            conn.secure_delete()
        );
    }

    // Setup, as the host's trusted system principal: the first owner (once per database).
    let system = store.system();
    let email = Email::parse("olga@example.com")?;
    let passphrase = Password::new("correct horse battery staple");
    let owner = NewStaff::new(email.clone(), "Olga Owner", Role::Owner, passphrase)?;
    match store.staff(&system).create(owner) {
        Ok(member) => println!(
            "staff    created {} <{}> as {}",
            member.name(),
            member.email().as_str(),
            member.role()
        ),
        Err(e) if e.kind() == ErrorKind::Conflict => println!("staff    owner already exists"),
        Err(e) => return Err(e.into()),
    }

    // A login, then the session token recognised on the "next request".
    let login = store.login_staff(&email, &Password::new("correct horse battery staple"))?;
    let olga = store.principal_from_session(login.token())?;
    println!("login    {:?}, session until {}", olga, login.expires_at());

    let erp = store
        .api_keys(&olga)
        .create(NewApiKey::new("ERP export", Role::Accountant)?)?;
    println!(
        "api key  {} (prefix {}, shown once)",
        erp.info().label(),
        erp.info().prefix()
    );

    // The shop's settings: seller, gross (B2C) prices, the German tax table, Berlin time.
    let de = Country::parse("DE")?;
    let settings_repo = store.settings(&olga);
    let version = settings_repo.get()?.map_or(0, |s| s.version());
    let seller = Seller::new(
        "Beispiel Haushaltswaren GmbH",
        PostalAddress::new("Hauptstr. 1", "10115", "Berlin", de)?,
        Contact::new(
            "Olga Owner",
            Phone::parse("+49 30 1234567")?,
            Email::parse("billing@example.com")?,
        )?,
    )?
    .vat_id(VatId::parse("DE123456789")?);
    let german = CountryTaxes::new(TaxRate::parse("19")?).reduced(TaxRate::parse("7")?);
    let settings = ShopSettings::builder(seller, PriceMode::TaxInclusive, Currency::EUR)
        .tax_table(TaxTable::new().country(de, german))
        .time_zone(TimeZone::parse("Europe/Berlin")?)
        .build()?;
    let settings = settings_repo.update(version, &settings)?;
    println!(
        "settings version {}, prices {:?}",
        settings.version(),
        settings.price_mode()
    );

    // Two products with stock: a mug (19 %) and a cookbook (7 %).
    let catalog = [
        ("MUG-1", "Enamel mug", TaxCategory::Standard, "12.90", 40),
        (
            "BOOK-7",
            "Bread & Butter cookbook",
            TaxCategory::Reduced,
            "24.00",
            5,
        ),
    ];
    let mut basket = Vec::new();
    for (sku, name, category, price, stock) in catalog {
        let product = match store.products(&olga).get_by_sku(&Sku::parse(sku)?) {
            Ok(product) => product,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                let new = NewProduct::new(Sku::parse(sku)?, name, category)?
                    .price(Money::parse(price, Currency::EUR)?)
                    .track_stock(true);
                let product = store.products(&olga).create(new)?;
                let variant = product.variants().first().ok_or("no variant")?.id();
                store
                    .stock(&olga)
                    .adjust(variant, StockChange::receipt(stock))?;
                product
            }
            Err(e) => return Err(e.into()),
        };
        println!(
            "product  {} {} at {} gross",
            product.sku(),
            product.name(),
            price
        );
        basket.push((product, category));
    }

    // A customer registers and logs in.
    let ana_email = Email::parse("ana.lima@example.com")?;
    let registration = NewCustomer::new(
        ana_email.clone(),
        Password::new("my cat is called Biscuit"),
        "Ana Lima",
    )?;
    match store
        .customers(&Principal::anonymous())
        .register(registration)
    {
        Ok(customer) => println!("customer registered {}", customer.id()),
        Err(e) if e.kind() == ErrorKind::Conflict => println!("customer already registered"),
        Err(e) => return Err(e.into()),
    }
    let ana = store.login(&ana_email, &Password::new("my cat is called Biscuit"))?;
    let ana_principal = store.principal_from_session(ana.token())?;
    let profile = store
        .customers(&ana_principal)
        .get(ana_principal.customer_id().ok_or("no id")?)?;
    println!("customer {} <{}>", profile.name(), profile.email().as_str());

    // Her basket, priced as checkout will: VAT per rate group, on gross prices.
    let mut lines = Vec::new();
    for ((product, category), quantity) in basket.iter().zip([3, 1]) {
        let rate = settings.tax_table().tax_for(de, *category)?.rate();
        let vat = VatTreatment::new(VatCategory::Standard, rate, None)?;
        let price = product
            .variants()
            .first()
            .ok_or("no variant")?
            .price(Currency::EUR)
            .ok_or("no EUR price")?;
        lines.push(PricedLine::new(price, quantity, vat)?);
    }
    let coupon = Money::parse("5.00", Currency::EUR)?;
    let totals = Totals::compute(settings.price_mode(), Currency::EUR, &lines, coupon, &[])?;
    for ((product, _), (line, total)) in basket.iter().zip(lines.iter().zip(totals.lines())) {
        println!(
            "line     {} × {:<24} {:>10}",
            line.quantity(),
            product.name(),
            total.shown().to_string()
        );
    }
    println!("coupon   {:>37}", format!("-{coupon}"));
    for group in totals.vat_groups() {
        println!(
            "VAT      {:>5} % of {:>10} = {:>10}",
            group.vat().rate().to_percent_string(),
            group.taxable().to_string(),
            group.tax().to_string()
        );
    }
    println!(
        "total    net {} + VAT {} = {}",
        totals.net_total(),
        totals.vat_total(),
        totals.gross_total()
    );

    match store.audit_log(&olga).verify(None)? {
        AuditVerification::Intact { entries, head } => {
            let head = head.map(|h| h.to_string()).unwrap_or_default();
            println!("audit    {entries} entries intact; keep the head elsewhere: {head}");
        }
        broken => println!("audit    BROKEN: {broken:?}"),
    }

    let events = store.events(&system);
    let batch = events.poll(100, Duration::from_secs(60))?;
    events.ack(&batch.iter().map(|e| e.id()).collect::<Vec<_>>())?;
    println!(
        "outbox   {} events delivered, {} pending",
        batch.len(),
        events.pending()?
    );

    store.logout(ana.token())?;
    store.logout(login.token())?;
    let backup = path.with_extension("backup.db");
    store.backup_to(&backup)?;
    Store::open(&backup, master_key()?)?.verify_integrity()?;
    println!("backup   {} (verified)", backup.display());
    Ok(())
}

/// A real host reads its master key from a secret manager or the environment and keeps it away
/// from the database file and its backups. The fallback is for this demo only.
fn master_key() -> Result<KeyRing, Box<dyn Error>> {
    let hex = std::env::var("SHOPKEEP_MASTER_KEY").unwrap_or_else(|_| {
        "6b6565702d746869732d6f75742d6f662d7468652d64622d6469726563746f72".into()
    });
    Ok(KeyRing::from_hex(&hex)?)
}

/// `--db PATH` if given, else a fresh file in a temporary directory (kept alive by the guard).
fn database_path() -> Result<(PathBuf, Option<tempfile::TempDir>), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    match (args.next().as_deref(), args.next()) {
        (Some("--db"), Some(path)) => Ok((PathBuf::from(path), None)),
        (None, None) => {
            let dir = tempfile::tempdir()?;
            Ok((dir.path().join("shop.db"), Some(dir)))
        }
        _ => Err("usage: checkout [--db PATH]".into()),
    }
}
