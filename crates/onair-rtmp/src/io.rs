//! Opening the byte stream under RTMP: TCP with a connect timeout and, for rtmps://, TLS through
//! rustls with the system roots plus the configured extra CA.

use crate::config::TransportConfig;
use crate::error::RtmpError;
use crate::url::StreamUrl;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpSocket, TcpStream};
use tokio_rustls::rustls;

/// A bidirectional byte stream (plain TCP or TLS).
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// A rustls client configuration trusting the system roots and `extra_ca_pem`.
pub fn tls_config(extra_ca_pem: Option<&[u8]>) -> Result<rustls::ClientConfig, RtmpError> {
    use rustls_pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    if let Some(pem) = extra_ca_pem {
        let mut added = 0;
        for cert in rustls_pki_types::CertificateDer::pem_slice_iter(pem) {
            let cert = cert.map_err(|e| RtmpError::Tls(format!("extra CA: {e}")))?;
            roots
                .add(cert)
                .map_err(|e| RtmpError::Tls(format!("extra CA: {e}")))?;
            added += 1;
        }
        if added == 0 {
            return Err(RtmpError::Tls("extra CA: no certificate in the PEM".into()));
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| RtmpError::Tls(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// Resolves `addr` and connects, with a bounded send buffer when `send_buffer` is not 0.
async fn connect_tcp(addr: &str, send_buffer: u32) -> std::io::Result<TcpStream> {
    let mut last = std::io::Error::new(std::io::ErrorKind::NotFound, "no address");
    for a in tokio::net::lookup_host(addr).await? {
        let socket = if a.is_ipv4() {
            TcpSocket::new_v4()?
        } else {
            TcpSocket::new_v6()?
        };
        if send_buffer > 0 {
            socket.set_send_buffer_size(send_buffer)?;
        }
        match socket.connect(a).await {
            Ok(s) => return Ok(s),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// Connects to the URL's host, with TLS for rtmps://.
pub async fn open(url: &StreamUrl, config: &TransportConfig) -> Result<Box<dyn Io>, RtmpError> {
    let addr = url.authority();
    let tcp = tokio::time::timeout(
        config.connect_timeout,
        connect_tcp(&addr, config.send_buffer_bytes),
    )
    .await
    .map_err(|_| RtmpError::Timeout {
        stage: "TCP connect",
        after: config.connect_timeout,
    })?
    .map_err(|e| RtmpError::ConnectFailed {
        addr: addr.clone(),
        reason: e.to_string(),
    })?;
    let _ = tcp.set_nodelay(true);
    if !url.is_tls() {
        return Ok(Box::new(tcp));
    }
    let connector =
        tokio_rustls::TlsConnector::from(Arc::new(tls_config(config.extra_ca_pem.as_deref())?));
    let name = rustls_pki_types::ServerName::try_from(url.host.clone())
        .map_err(|e| RtmpError::Tls(format!("server name {}: {e}", url.host)))?;
    let tls = tokio::time::timeout(config.connect_timeout, connector.connect(name, tcp))
        .await
        .map_err(|_| RtmpError::Timeout {
            stage: "TLS handshake",
            after: config.connect_timeout,
        })?
        .map_err(|e| RtmpError::Tls(e.to_string()))?;
    Ok(Box::new(tls))
}
