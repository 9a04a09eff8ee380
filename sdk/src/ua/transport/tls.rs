//! TLS client configuration (rustls, ring provider) and how TLS failures
//! become [`TransportFailure`]s.
//!
//! Certificate verification is always on here: nothing in this crate builds
//! a configuration that skips it. A caller that needs other roots (an
//! enterprise CA, a test CA) passes a [`RootCertStore`] to
//! [`client_config_with_roots`], or a whole [`ClientConfig`] of its own in
//! [`TransportConfig::tls`](super::TransportConfig::tls).
//!
//! ```
//! use ocer::ua::transport::tls;
//!
//! // Mozilla's roots (webpki-roots): always available, no file access.
//! let config = tls::client_config_with_roots(tls::webpki_roots())?;
//! assert!(config.alpn_protocols.is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::io;
use std::sync::Arc;

use rustls::{ClientConfig, RootCertStore};

use crate::sip::{TransportFailure, TransportFailureKind};

/// Why a TLS configuration could not be built.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum TlsSetupError {
    /// rustls refused the configuration.
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
    /// The TLS server name is neither a DNS name nor an IP address.
    #[error("invalid TLS server name {0:?}")]
    InvalidServerName(String),
}

/// Mozilla's root certificates, as shipped in `webpki-roots`.
pub fn webpki_roots() -> RootCertStore {
    RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    }
}

/// The operating system's trusted roots (`rustls-native-certs`). Certificates
/// that cannot be read or parsed are skipped and logged; the store may come
/// back empty.
pub fn system_roots() -> RootCertStore {
    let loaded = rustls_native_certs::load_native_certs();
    for error in &loaded.errors {
        tracing::warn!(%error, "skipping system root certificates that cannot be loaded");
    }
    let mut roots = RootCertStore::empty();
    let (added, ignored) = roots.add_parsable_certificates(loaded.certs);
    if ignored > 0 {
        tracing::warn!(added, ignored, "some system root certificates do not parse");
    }
    roots
}

/// A client configuration that verifies servers against `roots`: ring
/// provider, TLS 1.2 and 1.3, no client certificate.
pub fn client_config_with_roots(roots: RootCertStore) -> Result<ClientConfig, TlsSetupError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// The default client configuration: the system's roots
/// ([`system_roots`]), or, when the system has none, Mozilla's
/// ([`mod@webpki_roots`]). Verification is on either way.
pub fn default_client_config() -> Result<Arc<ClientConfig>, TlsSetupError> {
    let mut roots = system_roots();
    if roots.is_empty() {
        tracing::info!("no system root certificates; trusting webpki-roots");
        roots = webpki_roots();
    }
    client_config_with_roots(roots).map(Arc::new)
}

/// The server name to verify: `name` if given, else the IP address.
pub(crate) fn server_name(
    name: Option<&str>,
    addr: std::net::SocketAddr,
) -> Result<rustls::pki_types::ServerName<'static>, TlsSetupError> {
    match name {
        Some(name) => rustls::pki_types::ServerName::try_from(name.to_owned())
            .map_err(|_| TlsSetupError::InvalidServerName(name.to_owned())),
        None => Ok(rustls::pki_types::ServerName::IpAddress(addr.ip().into())),
    }
}

/// Describes an IO error from a TLS stream: a rejected certificate is
/// [`TransportFailureKind::Certificate`], another TLS error
/// [`TransportFailureKind::Tls`], anything else as for a plain socket.
pub(crate) fn failure_from_io(error: &io::Error) -> TransportFailure {
    let Some(tls) = error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    else {
        return TransportFailure::from_io(error);
    };
    let kind = match tls {
        rustls::Error::InvalidCertificate(_)
        | rustls::Error::NoCertificatesPresented
        | rustls::Error::AlertReceived(
            rustls::AlertDescription::BadCertificate
            | rustls::AlertDescription::UnknownCA
            | rustls::AlertDescription::CertificateExpired
            | rustls::AlertDescription::CertificateRevoked
            | rustls::AlertDescription::CertificateUnknown
            | rustls::AlertDescription::UnsupportedCertificate,
        ) => TransportFailureKind::Certificate,
        _ => TransportFailureKind::Tls,
    };
    TransportFailure::new(kind, tls.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_errors_are_told_apart() {
        let bad = io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        );
        let failure = failure_from_io(&bad);
        assert_eq!(failure.kind, TransportFailureKind::Certificate);
        assert_eq!(failure.os_error, None);
        assert!(failure.message.contains("UnknownIssuer"), "{failure}");

        let alert = io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::AlertReceived(rustls::AlertDescription::HandshakeFailure),
        );
        assert_eq!(failure_from_io(&alert).kind, TransportFailureKind::Tls);

        let reset = io::Error::from_raw_os_error(104);
        let failure = failure_from_io(&reset);
        assert_eq!(failure.kind, TransportFailureKind::ConnectionReset);
        assert_eq!(failure.os_error, Some(104));
    }

    #[test]
    fn server_names() {
        let addr = "192.0.2.1:5061".parse().unwrap();
        assert_eq!(server_name(None, addr).unwrap().to_str(), "192.0.2.1");
        assert_eq!(
            server_name(Some("pool.contoso.com"), addr)
                .unwrap()
                .to_str(),
            "pool.contoso.com"
        );
        assert!(matches!(
            server_name(Some("not a name"), addr),
            Err(TlsSetupError::InvalidServerName(_))
        ));
    }

    #[test]
    fn configurations_build() {
        assert!(!webpki_roots().is_empty());
        assert!(client_config_with_roots(webpki_roots()).is_ok());
        assert!(default_client_config().is_ok());
    }
}
