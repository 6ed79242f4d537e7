//! The shop flow, end to end, on a fresh database.
//!
//! ```text
//! cargo run --example checkout                 # a fresh database in a temporary directory
//! cargo run --example checkout -- --db shop.db # or a file of your choosing (created if missing)
//! ```
//!
//! This example grows with each capability of shopkeep. Today it opens the store, sets up the
//! shop's owner and a back-office API key, logs in, prices a basket with exact money, checks
//! the audit log, drains the event outbox and takes a verified backup.
#![allow(clippy::print_stdout)]

use std::error::Error;
use std::path::PathBuf;
use std::time::Duration;

use shopkeep::{
    AuditVerification, Currency, Email, ErrorKind, KeyRing, Money, NewApiKey, NewStaff, Password,
    Role, Rounding, Store, TaxRate,
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

    // Exact money: 3 mugs at 12.90 EUR net, 19 % VAT.
    let price = Money::parse("12.90", Currency::EUR)?;
    let vat_rate = TaxRate::parse("19")?;
    let net = price.checked_mul(3)?;
    let vat = vat_rate.tax_on(net, Rounding::HalfUp)?;
    println!(
        "money    3 × {price} = {net}, VAT {vat_rate} = {vat}, gross {}",
        net.checked_add(vat)?
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
