//! TLS to the PostgreSQL server: rustls (with the `ring` provider, chosen explicitly so that a
//! host whose tree also enables another provider does not make rustls ask which to use),
//! verifying the server's certificate chain and its name, as libpq's `sslmode=verify-full`.

use std::fmt;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ClientConfig, RootCertStore};

use crate::error::{Error, Result};

/// How the store's connections to a PostgreSQL server are encrypted and whom they trust
/// (feature `postgres`): given to [`StoreOptions::postgres_tls`](super::super::StoreOptions::postgres_tls).
///
/// With it, every connection must be TLS (the server refusing TLS is an error, never a plain
/// fallback), and the server must present a certificate for the name in the connection string's
/// `host`, signed by one of the roots given here: PostgreSQL's `sslmode=verify-full`. Without
/// it, connections are plain, for a server on a Unix socket or a private network.
///
/// ```
/// use shopkeep::store::PostgresTls;
///
/// // A server whose certificate a public authority signed (a managed database, say):
/// let public = PostgresTls::public_roots();
/// // A server with a certificate of the shop's own authority (PostgreSQL's `sslrootcert`):
/// let pem = b"-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n";
/// assert!(PostgresTls::from_root_pem(pem).is_err());
/// ```
#[derive(Clone)]
pub struct PostgresTls {
    roots: Arc<RootCertStore>,
    client: Option<ClientIdentity>,
}

/// A client certificate chain and its key, for the server's `cert` authentication.
#[derive(Clone)]
struct ClientIdentity {
    chain: Vec<CertificateDer<'static>>,
    key: Arc<PrivateKeyDer<'static>>,
}

impl PostgresTls {
    /// Trusts the certificate authorities browsers trust (Mozilla's list, compiled in: the same
    /// on every machine), for a server whose certificate a public authority signed.
    pub fn public_roots() -> Self {
        PostgresTls {
            roots: Arc::new(RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            }),
            client: None,
        }
    }

    /// Trusts only the certificate authorities in `pem` (one or more `BEGIN CERTIFICATE`
    /// blocks: PostgreSQL's `sslrootcert`, the shop's own authority or the server's
    /// self-signed certificate).
    ///
    /// # Errors
    ///
    /// `Validation` (field `root_certificates`) if `pem` holds no certificate, a block that
    /// does not decode, or a certificate that cannot serve as a root.
    pub fn from_root_pem(pem: &[u8]) -> Result<Self> {
        let certificates = certificates(pem, "root_certificates")?;
        let mut roots = RootCertStore::empty();
        for certificate in certificates {
            roots.add(certificate).map_err(|err| {
                Error::validation(
                    "root_certificates",
                    format!("not a usable root certificate: {err}"),
                )
            })?;
        }
        Ok(PostgresTls {
            roots: Arc::new(roots),
            client: None,
        })
    }

    /// Also presents a client certificate, for a server that authenticates the store by
    /// certificate (`cert` in `pg_hba.conf`; PostgreSQL's `sslcert` and `sslkey`). `chain_pem`
    /// holds the certificate first, then any intermediates; `key_pem` its private key (PKCS #8,
    /// PKCS #1 or SEC1, unencrypted).
    ///
    /// # Errors
    ///
    /// `Validation` (field `client_certificate`) if `chain_pem` holds no certificate or a block
    /// that does not decode, and (field `client_key`) if `key_pem` holds no private key, or one
    /// that does not match the certificate or of a kind TLS cannot sign with.
    pub fn client_certificate(mut self, chain_pem: &[u8], key_pem: &[u8]) -> Result<Self> {
        let chain = certificates(chain_pem, "client_certificate")?;
        let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|err| {
            Error::validation("client_key", format!("no private key in the PEM: {err}"))
        })?;
        self.client = Some(ClientIdentity {
            chain,
            key: Arc::new(key),
        });
        // Built once here so that a key that does not fit the certificate fails now, not at
        // the first connection.
        self.client_config()?;
        Ok(self)
    }

    /// The rustls configuration every connection of the pool uses.
    pub(super) fn client_config(&self) -> Result<ClientConfig> {
        // rustls deprecates ring's provider because it has no post-quantum key exchange; the
        // one that has (aws-lc-rs) needs cmake and a C build, which the SMTP feature already
        // declined. The classical key exchanges it offers are those PostgreSQL's OpenSSL speaks.
        #[allow(deprecated)]
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|err| Error::validation("postgres_tls", err.to_string()))?
            .with_root_certificates(Arc::clone(&self.roots));
        match &self.client {
            None => Ok(builder.with_no_client_auth()),
            Some(identity) => builder
                .with_client_auth_cert(identity.chain.clone(), identity.key.clone_key())
                .map_err(|err| {
                    Error::validation(
                        "client_key",
                        format!("the key does not fit the certificate: {err}"),
                    )
                }),
        }
    }
}

/// The certificates of the `CERTIFICATE` blocks of `pem`, at least one.
fn certificates(pem: &[u8], field: &'static str) -> Result<Vec<CertificateDer<'static>>> {
    let certificates = CertificateDer::pem_slice_iter(pem)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|err| Error::validation(field, format!("not PEM certificates: {err}")))?;
    if certificates.is_empty() {
        return Err(Error::validation(
            field,
            "no BEGIN CERTIFICATE block in the PEM",
        ));
    }
    Ok(certificates)
}

/// Names how many roots it trusts and whether it presents a certificate, never the key.
impl fmt::Debug for PostgresTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresTls")
            .field("roots", &self.roots.len())
            .field("client_certificate", &self.client.is_some())
            .finish()
    }
}
