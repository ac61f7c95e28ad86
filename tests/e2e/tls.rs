//! HTTPS: certificates are verified (against the system's roots, plus an extra CA bundle when one
//! is configured), a TLS failure is recorded as `tls` and retried, and nothing falls back to plain
//! HTTP. The receiver is real HTTPS on 127.0.0.1 with a CA and certificate made by the test.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose};
use serde_json::json;
use tokio_rustls::rustls;

use hookd_testkit::worker::{spawn, test_config, test_sender, test_sender_with};
use hookd_testkit::{wait_until, Receiver, TestDb};

use crate::common::{add_webhook, attempts_for, delivery_for, hookd, hookd_command, run_command, DEADLINE};

/// A certificate authority made for one test, and a server certificate it signed for 127.0.0.1.
struct TestPki {
    ca_pem: String,
    server_chain: Vec<rustls::pki_types::CertificateDer<'static>>,
    server_key: rustls::pki_types::PrivateKeyDer<'static>,
}

fn make_ca(name: &str) -> (rcgen::Certificate, KeyPair) {
    let key = KeyPair::generate().expect("CA key");
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    (params.self_signed(&key).expect("CA certificate"), key)
}

fn make_pki() -> TestPki {
    let (ca, ca_key) = make_ca("hookd e2e test CA");
    let key = KeyPair::generate().expect("server key");
    let mut params = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).expect("server params");
    params.distinguished_name.push(DnType::CommonName, "hookd e2e receiver");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let cert = params.signed_by(&key, &ca, &ca_key).expect("server certificate");
    TestPki {
        ca_pem: ca.pem(),
        server_chain: vec![cert.der().clone(), ca.der().clone()],
        server_key: rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
    }
}

/// A PEM file under the target dir holding `pems`, one after the other.
fn write_bundle(pems: &[&str]) -> PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("hookd-e2e-tls");
    std::fs::create_dir_all(&dir).expect("create the directory");
    let path = dir.join(format!("{}.pem", uuid::Uuid::new_v4().simple()));
    std::fs::write(&path, pems.concat()).expect("write the bundle");
    path
}

/// An HTTPS receiver on 127.0.0.1 port 0 that answers 200 to every request and counts TLS
/// handshakes that failed and requests that arrived.
struct HttpsReceiver {
    addr: SocketAddr,
    pki: TestPki,
    handshake_failures: Arc<AtomicUsize>,
    requests: Arc<Mutex<Vec<hyper::HeaderMap>>>,
    _server: tokio::task::JoinHandle<()>,
}

impl HttpsReceiver {
    async fn start() -> Self {
        let pki = make_pki();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(pki.server_chain.clone(), pki.server_key.clone_key())
            .expect("server certificate accepted");
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
        let addr = listener.local_addr().expect("bound");
        let handshake_failures = Arc::new(AtomicUsize::new(0));
        let requests: Arc<Mutex<Vec<hyper::HeaderMap>>> = Arc::default();
        let (failures, seen) = (handshake_failures.clone(), requests.clone());
        let server = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else { continue };
                let (acceptor, failures, seen) = (acceptor.clone(), failures.clone(), seen.clone());
                tokio::spawn(async move {
                    let tls = match acceptor.accept(tcp).await {
                        Ok(tls) => tls,
                        Err(_) => {
                            failures.fetch_add(1, Ordering::SeqCst);
                            return;
                        }
                    };
                    let service = service_fn(move |req: hyper::Request<Incoming>| {
                        seen.lock().unwrap().push(req.headers().clone());
                        async { Ok::<_, Infallible>(hyper::Response::new(Full::new(Bytes::from_static(b"{\"ok\":true}")))) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(tls), service).await;
                });
            }
        });
        Self { addr, pki, handshake_failures, requests, _server: server }
    }

    fn url(&self, path: &str) -> String {
        format!("https://{}{path}", self.addr)
    }

    fn requests(&self) -> usize {
        self.requests.lock().unwrap().len()
    }
}

/// Without the CA the certificate is untrusted: each attempt is recorded as `tls` and retried,
/// the receiver never sees a request, and nothing is tried over plain HTTP. Once the CA is given
/// as the extra bundle, the same delivery succeeds.
#[tokio::test]
async fn an_untrusted_certificate_is_a_retried_tls_error_until_its_ca_is_configured() {
    let db = TestDb::new().await;
    let store = &db.store;
    let receiver = HttpsReceiver::start().await;
    let webhook = add_webhook(store, "https", &receiver.url("/hook"), &["payment_received"]).await;
    let event_id = store.outbox_publish("payment_received", &json!({"payment_id": 1})).await.unwrap();

    let worker = spawn(store, test_sender(), test_config("1s,1s,1s,1s,1s,1s"));
    wait_until(DEADLINE, "two attempts recorded", || async { attempts_for(store, event_id, &webhook).await.len() >= 2 }).await;
    worker.stop().await;

    let attempts = attempts_for(store, event_id, &webhook).await;
    for (attempt, status, error) in &attempts {
        assert_eq!((*status, error.as_deref()), (None, Some("tls")), "attempt {attempt}: {attempts:?}");
    }
    let detail: String = sqlx::query_scalar("SELECT error_detail FROM hookd.attempts WHERE webhook_id = $1 ORDER BY id LIMIT 1")
        .bind(webhook.id)
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert!(detail.contains("certificate"), "the detail names the certificate problem: {detail}");
    let delivery = delivery_for(store, event_id, &webhook).await;
    assert_eq!(delivery.state, "pending", "a TLS failure is retried, not delivered or given up");
    assert_eq!(receiver.requests(), 0, "no request got through");
    assert!(receiver.handshake_failures.load(Ordering::SeqCst) >= 2, "each attempt failed in the handshake");

    let bundle = write_bundle(&[&make_ca("an unrelated CA").0.pem(), &receiver.pki.ca_pem]);
    let trusting = test_sender_with(|c| c.extra_ca_bundle = Some(bundle.clone()));
    let worker = spawn(store, trusting, test_config("1s,1s,1s,1s,1s,1s"));
    wait_until(DEADLINE, "the delivery succeeded", || async { delivery_for(store, event_id, &webhook).await.state == "succeeded" })
        .await;
    worker.stop().await;
    assert_eq!(receiver.requests(), 1);
    let headers = receiver.requests.lock().unwrap()[0].clone();
    assert_eq!(headers.get("webhook-id").unwrap().to_str().unwrap(), event_id.to_string());
    let last = attempts_for(store, event_id, &webhook).await.pop().unwrap();
    assert_eq!((last.1, last.2), (Some(200), None));
    std::fs::remove_file(bundle).ok();
}

/// An `https://` URL whose server speaks plain HTTP fails the handshake as `tls`: the request is
/// never sent in the clear.
#[tokio::test]
async fn https_to_a_plain_http_server_is_a_tls_error_never_a_plain_request() {
    let db = TestDb::new().await;
    let store = &db.store;
    let plain = Receiver::always(200).await;
    let url = format!("https://{}/hook", plain.addr);
    let webhook = add_webhook(store, "plain", &url, &["payment_received"]).await;
    let outcome = hookd_worker::test_event::send_test_event(store, &test_sender(), &webhook, None, "test").await.unwrap();
    assert_eq!(outcome.response.error.map(|e| e.as_str()), Some("tls"), "{:?}", outcome.response);
    assert_eq!(outcome.response.status, None);
    assert_eq!(plain.count(), 0, "nothing reached the plain HTTP server as a request");
}

/// The setting reaches the real binary: `HOOKD_EXTRA_CA_BUNDLE` makes `hookd webhook test`
/// succeed where it failed with `tls`; a missing bundle is a clear error naming the setting.
#[tokio::test]
async fn the_extra_ca_bundle_setting_is_used_by_the_cli() {
    let db = TestDb::new().await;
    let receiver = HttpsReceiver::start().await;
    let added = hookd(&db, &["webhook", "add", "--name", "tls", "--url", &receiver.url("/h"), "--event", "*", "--json"]).await.ok().json();
    let id = added["id"].as_str().unwrap().to_owned();

    let untrusted = hookd(&db, &["webhook", "test", &id, "--json"]).await;
    assert_eq!(untrusted.code, Some(1), "{untrusted:?}");
    assert_eq!(untrusted.json()["error"], "tls");

    let bundle = write_bundle(&[&receiver.pki.ca_pem]);
    let mut cmd = hookd_command(&db, &["webhook", "test", &id, "--json"]);
    cmd.env("HOOKD_EXTRA_CA_BUNDLE", &bundle);
    let trusted = run_command(cmd).await.ok().json();
    assert_eq!((trusted["success"].as_bool(), trusted["status_code"].as_u64()), (Some(true), Some(200)), "{trusted}");
    assert_eq!(receiver.requests(), 1);

    let mut cmd = hookd_command(&db, &["webhook", "test", &id]);
    cmd.env("HOOKD_EXTRA_CA_BUNDLE", "/nonexistent/ca.pem");
    let missing = run_command(cmd).await;
    assert_ne!(missing.code, Some(0));
    assert!(missing.stderr.contains("extra_ca_bundle") && missing.stderr.contains("/nonexistent/ca.pem"), "{missing:?}");

    let not_pem = write_bundle(&["just some text\n"]);
    let mut cmd = hookd_command(&db, &["webhook", "test", &id]);
    cmd.env("HOOKD_EXTRA_CA_BUNDLE", &not_pem);
    let empty = run_command(cmd).await;
    assert_ne!(empty.code, Some(0));
    assert!(empty.stderr.contains("no certificate"), "{empty:?}");
    for path in [bundle, not_pem] {
        std::fs::remove_file(path).ok();
    }
}
