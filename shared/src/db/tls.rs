//! TLS for Postgres connections: Azure Database for PostgreSQL requires it; a local server
//! started with `sslmode=disable` in the URL never negotiates it.

use std::sync::Arc;
use tokio_postgres_rustls::MakeRustlsConnect;

pub fn connector() -> MakeRustlsConnect {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("aws-lc-rs supports the default TLS versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    MakeRustlsConnect::new(config)
}
