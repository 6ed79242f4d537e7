//! TLS to PostgreSQL (`StoreOptions::postgres_tls`): a store reaches a server on another machine
//! encrypted, verifies the server's certificate and name (libpq's `verify-full`) and never
//! falls back to plain text; a client certificate logs it in where the server asks for one.
//!
//! The tests that need a server run against the one `SHOPKEEP_TEST_POSTGRES_TLS` names (a libpq
//! string for TLS on loopback, without `user`), with the certificates of
//! `scripts/tls_test_certs.sh` in `SHOPKEEP_TEST_POSTGRES_TLS_DIR`, and the schema they use made
//! through `SHOPKEEP_TEST_POSTGRES`. `.ci/run` sets all three; without them those tests say they
//! are skipped.
#![cfg(feature = "postgres")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout
)]

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::postgres::{PgSchema, conninfo, psql};
use common::{eur, on_hand, product};
use shopkeep::catalog::TaxCategory;
use shopkeep::crypto::PasswordParams;
use shopkeep::store::PostgresTls;
use shopkeep::{ErrorKind, KeyRing, Store};

/// The TLS server, its certificates and the plain server the schemas are made on.
struct Tls {
    conninfo: String,
    dir: PathBuf,
    admin: String,
}

impl Tls {
    fn get() -> Option<Tls> {
        let admin = conninfo()?;
        let conninfo = std::env::var("SHOPKEEP_TEST_POSTGRES_TLS").ok();
        let dir = std::env::var("SHOPKEEP_TEST_POSTGRES_TLS_DIR").ok();
        let (Some(conninfo), Some(dir)) = (conninfo, dir) else {
            println!(
                "skipped on PostgreSQL over TLS: SHOPKEEP_TEST_POSTGRES_TLS and \
                 SHOPKEEP_TEST_POSTGRES_TLS_DIR not set"
            );
            return None;
        };
        Some(Tls {
            conninfo,
            dir: PathBuf::from(dir),
            admin,
        })
    }

    fn pem(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.dir.join(name)).unwrap()
    }

    /// TLS that trusts the test authority only.
    fn roots(&self) -> PostgresTls {
        PostgresTls::from_root_pem(&self.pem("ca.pem")).unwrap()
    }

    /// The connection string of `schema` over TLS, as `user`, under `application_name`.
    fn config(&self, schema: &PgSchema, user: &str, name: &str) -> String {
        format!(
            "{} user={user} application_name={name} options=-csearch_path={}",
            self.conninfo,
            schema.name()
        )
    }

    /// Runs `sql` on the plain server and returns its one value.
    fn value(&self, sql: &str) -> String {
        let out = psql(&self.admin, sql);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }
}

/// How many tables `schema` holds: none, after a connection that was refused.
fn tables(schema: &PgSchema) -> String {
    let out = schema.run(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema();",
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn connect(config: &str, tls: Option<PostgresTls>) -> shopkeep::Result<Store> {
    let mut options = Store::options()
        .password_params(PasswordParams::insecure_for_tests())
        .clock(common::clock())
        .pool_timeout(Duration::from_secs(2));
    if let Some(tls) = tls {
        options = options.postgres_tls(tls);
    }
    options.connect_postgres(config, KeyRing::from_master_key([8; 32]))
}

/// A unique `application_name`, so that a query on `pg_stat_activity` sees this store only.
fn app_name(test: &str) -> String {
    format!("shopkeep_tls_{test}_{}", std::process::id())
}

fn assert_storage(result: shopkeep::Result<Store>, says: &str) {
    let err = result.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Storage, "{err}");
    assert!(err.to_string().contains(says), "{err}");
}

#[test]
fn a_store_over_tls_works_and_every_connection_it_holds_is_encrypted() {
    let Some(tls) = Tls::get() else { return };
    let schema = PgSchema::create(&tls.admin);
    let name = app_name("encrypted");
    let store = connect(&tls.config(&schema, "postgres", &name), Some(tls.roots())).unwrap();
    let mug = product(&store, "MUG-1", eur("12.00"), TaxCategory::Standard, 7);
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| assert_eq!(on_hand(&store, mug), 7));
        }
    });
    let sessions = format!(
        "SELECT count(*) FILTER (WHERE s.ssl), count(*) FILTER (WHERE NOT s.ssl)
         FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid)
         WHERE a.application_name = '{name}';"
    );
    let counts = tls.value(&sessions);
    let (encrypted, plain) = counts.split_once('|').unwrap();
    assert!(encrypted.parse::<u32>().unwrap() >= 1, "{counts}");
    assert_eq!(plain, "0", "{counts}");
}

#[test]
fn a_server_the_roots_do_not_vouch_for_is_refused_before_anything_is_written() {
    let Some(tls) = Tls::get() else { return };
    let schema = PgSchema::create(&tls.admin);
    let config = tls.config(&schema, "postgres", &app_name("refused"));

    // Mozilla's roots do not know the test authority.
    assert_storage(
        connect(&config, Some(PostgresTls::public_roots())),
        "UnknownIssuer",
    );
    // The certificate names "localhost"; the same server reached as 127.0.0.1 is not it.
    let by_address = config.replacen("host=localhost", "host=127.0.0.1", 1);
    assert_ne!(by_address, config);
    assert_storage(
        connect(&by_address, Some(tls.roots())),
        "not valid for name",
    );
    // Without TLS, the server's loopback port (hostssl only) refuses the plain login, and the
    // store never upgrades to TLS on its own.
    assert_storage(connect(&config, None), "no encryption");
    assert_eq!(tables(&schema), "0");
}

#[test]
fn a_client_certificate_logs_in_the_role_it_names_and_nothing_else_does() {
    let Some(tls) = Tls::get() else { return };
    let schema = PgSchema::create(&tls.admin);
    tls.value(&format!(
        "GRANT ALL ON SCHEMA {} TO shop_cert; SELECT 1;",
        schema.name()
    ));
    let name = app_name("cert");
    let config = tls.config(&schema, "shop_cert", &name);

    // The role logs in by certificate only: TLS without one is turned away.
    assert_storage(
        connect(&config, Some(tls.roots())),
        "requires a valid client certificate",
    );
    assert_eq!(tables(&schema), "0");

    let with_certificate = tls
        .roots()
        .client_certificate(&tls.pem("client.pem"), &tls.pem("client.key"))
        .unwrap();
    let store = connect(&config, Some(with_certificate)).unwrap();
    let mug = product(&store, "MUG-1", eur("12.00"), TaxCategory::Standard, 3);
    assert_eq!(on_hand(&store, mug), 3);
    let users = tls.value(&format!(
        "SELECT string_agg(DISTINCT usename, ',') FROM pg_stat_activity
         WHERE application_name = '{name}';"
    ));
    assert_eq!(users, "shop_cert");
}

#[test]
fn certificates_and_keys_that_do_not_parse_or_fit_are_refused_with_the_field() {
    let garbage =
        b"-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n";
    for pem in [&b""[..], b"hello", garbage] {
        let err = PostgresTls::from_root_pem(pem).unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::Validation {
                field: "root_certificates"
            },
            "{err}"
        );
    }
    let Some(tls) = Tls::get() else { return };
    let roots = tls.roots();
    let client = tls.pem("client.pem");
    let err = roots
        .clone()
        .client_certificate(&client, b"no key here")
        .unwrap_err();
    assert_eq!(err.field(), Some("client_key"), "{err}");
    // The server's key is a good key, but not the one the client certificate was made for.
    let err = roots
        .clone()
        .client_certificate(&client, &tls.pem("server.key"))
        .unwrap_err();
    assert_eq!(err.field(), Some("client_key"), "{err}");
    let err = roots
        .client_certificate(b"", &tls.pem("client.key"))
        .unwrap_err();
    assert_eq!(err.field(), Some("client_certificate"), "{err}");

    // Debug says what is trusted and whether a certificate is presented, never the key.
    let with_key = tls
        .roots()
        .client_certificate(&client, &tls.pem("client.key"))
        .unwrap();
    let shown = format!("{with_key:?}");
    assert_eq!(shown, "PostgresTls { roots: 1, client_certificate: true }");
}

#[test]
fn an_sslmode_that_contradicts_the_tls_settings_is_refused() {
    // Neither needs a server: both are refused before the first connection.
    let err = connect("host=localhost sslmode=require", None).unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Validation { field: "config" },
        "{err}"
    );
    let err = connect(
        "host=localhost sslmode=disable",
        Some(PostgresTls::public_roots()),
    )
    .unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Validation { field: "config" },
        "{err}"
    );

    // PostgreSQL speaks no TLS on a Unix socket: with TLS settings that is an error, never a
    // plain connection.
    let Some(admin) = conninfo() else { return };
    let schema = PgSchema::create(&admin);
    assert_storage(
        connect(&schema.config(), Some(PostgresTls::public_roots())),
        "TLS",
    );
    assert_eq!(tables(&schema), "0");
}
