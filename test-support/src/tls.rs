//! TLS for in-process peers: a test CA made with rcgen, in memory, and client
//! configurations that trust one CA only (this one, or the stunnel CA of
//! ocer-interop, which keeps PEM files for stunnel and cannot be named).

use std::sync::Arc;

use ocer::ua::transport::tls;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// A test certificate authority and one server certificate it issued.
pub struct TestCa {
    /// The CA certificate: what a client under test must trust.
    pub ca_der: CertificateDer<'static>,
    /// The server's chain (its certificate only).
    pub server_chain: Vec<CertificateDer<'static>>,
    /// The server's key.
    pub server_key: PrivateKeyDer<'static>,
}

impl TestCa {
    /// A CA named `name` and a server certificate for `localhost` and
    /// 127.0.0.1. The name tells CAs apart: a client that trusts one must
    /// find the other's issuer unknown.
    pub fn new(name: &str) -> Self {
        let mut params =
            rcgen::CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
                .unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "localhost");
        Self::issue(name, params)
    }

    /// A CA named `name` and a server certificate for `localhost` that
    /// expired in 2001.
    pub fn expired(name: &str) -> Self {
        let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        params.not_before = rcgen::date_time_ymd(2000, 1, 1);
        params.not_after = rcgen::date_time_ymd(2001, 1, 1);
        Self::issue(name, params)
    }

    fn issue(name: &str, server: rcgen::CertificateParams) -> Self {
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        ca_params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
        ];
        let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
        let server_key = rcgen::KeyPair::generate().unwrap();
        let certificate = server.signed_by(&server_key, &ca).unwrap();
        Self {
            ca_der: ca.der().clone(),
            server_chain: vec![certificate.der().clone()],
            server_key: PrivateKeyDer::Pkcs8(server_key.serialize_der().into()),
        }
    }

    /// A client configuration that trusts this CA only.
    pub fn client_config(&self) -> Arc<rustls::ClientConfig> {
        trusting_der(self.ca_der.clone())
    }

    /// A server configuration presenting the server certificate.
    pub fn acceptor(&self) -> tokio_rustls::TlsAcceptor {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(self.server_chain.clone(), self.server_key.clone_key())
            .unwrap();
        tokio_rustls::TlsAcceptor::from(Arc::new(config))
    }
}

/// A client configuration that trusts ocer-interop's (stunnel's) `ca` only.
pub fn trusting(ca: &ocer_interop::stunnel::TestCa) -> Arc<rustls::ClientConfig> {
    trusting_der(CertificateDer::from(ca.ca_cert_der().to_vec()))
}

fn trusting_der(ca: CertificateDer<'static>) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca).expect("the test CA is a valid root");
    Arc::new(tls::client_config_with_roots(roots).expect("a TLS configuration"))
}
