//! TLS for the TCP listener: a PEM certificate chain and key (`--tls-cert`, `--tls-key`),
//! rustls with the ring provider, ALPN http/1.1.

use anyhow::{anyhow, bail, Context, Result};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::path::Path;
use std::sync::Arc;
use tokio_rustls::rustls;
use tokio_rustls::TlsAcceptor;

/// The acceptor for a certificate chain and its private key, both PEM files.
pub fn acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor> {
    let certs = read_certs(cert)?;
    let key = read_key(key)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("the TLS provider has no protocol versions")?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| anyhow!("the TLS certificate and key do not go together: {e}"))?;
    // One server connection speaks HTTP/1.1 (upgrades for exec, attach and WebSockets).
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    readable(path, "--tls-cert")?;
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| anyhow!("--tls-cert {}: not a PEM certificate: {e}", path.display()))?;
    if certs.is_empty() {
        bail!(
            "--tls-cert {}: no PEM certificate (-----BEGIN CERTIFICATE-----) in the file",
            path.display()
        );
    }
    Ok(certs)
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>> {
    readable(path, "--tls-key")?;
    PrivateKeyDer::from_pem_file(path).map_err(|e| {
        anyhow!(
            "--tls-key {}: not a PEM private key (PKCS#8, PKCS#1 or SEC1): {e}",
            path.display()
        )
    })
}

fn readable(path: &Path, flag: &str) -> Result<()> {
    std::fs::File::open(path)
        .map(drop)
        .with_context(|| format!("{flag} {}: cannot read the file", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_and_non_pem_files_are_named_in_the_error() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        let garbage = dir.path().join("garbage.pem");
        std::fs::write(&garbage, "not a certificate\n").unwrap();
        let err = format!("{:#}", acceptor(&missing, &garbage).err().unwrap());
        assert!(
            err.contains("--tls-cert") && err.contains("cannot read"),
            "{err}"
        );
        let err = format!("{:#}", acceptor(&garbage, &garbage).err().unwrap());
        assert!(err.contains("--tls-cert") && err.contains("PEM"), "{err}");
    }
}
