//! The shop flow, end to end, on a fresh database.
//!
//! ```text
//! cargo run --example checkout                 # a fresh database in a temporary directory
//! cargo run --example checkout -- --db shop.db # or a file of your choosing (created if missing)
//! ```
//!
//! This example grows with each capability of shopkeep; today it opens the store, shows what it
//! opened, and takes a verified backup.
#![allow(clippy::print_stdout)]

use std::error::Error;
use std::path::PathBuf;

use shopkeep::{Currency, KeyRing, Money, Store, TaxRate};

fn main() -> Result<(), Box<dyn Error>> {
    let (path, _tempdir) = database_path()?;

    let store = Store::open(&path, master_key()?)?;
    println!("opened   {}", path.display());
    println!("schema   version {}", store.schema_version()?);
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

    let price = Money::parse("12.90", Currency::EUR)?;
    let vat = TaxRate::parse("19")?;
    let net_of_three = price.checked_mul(3)?;
    let tax = vat.tax_on(net_of_three, Default::default())?;
    println!(
        "money    3 × {price} = {net_of_three}, VAT {vat} = {tax}, gross {}",
        net_of_three.checked_add(tax)?
    );

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
