//! The embedded demo server: a scripted stand-in for a Lync pool on
//! loopback, so the softphone shows the whole MS-OCER flow with nothing
//! installed.
//!
//! It is deliberately not built on the SDK's client stack: it frames and
//! parses with [`ocer::sip`] ([`frame_stream`], [`parse_datagram`],
//! [`SipMessage`]) and answers with [`response_for`], plus the headers the
//! script adds. The script (the spec's §4.1 example, and what the user agent
//! needs around it):
//!
//! | request | answer |
//! |---|---|
//! | REGISTER without valid credentials | 401 with a Digest (MD5, qop=auth) challenge |
//! | REGISTER with them | 200, the Contact with its expiry (none on `Expires: 0`) |
//! | INVITE to `echo` | 100, 200 with an SDP answer |
//! | INVITE to a conference URI (`app:conf`) | 100, 200; after the ACK, a BYE with `ms-diagnostics-public: 3118` |
//! | any other INVITE | 100, 101 Progress Report with 12006, 504 with 1007 (the fixtures of §4.1) |
//! | MESSAGE to `echo` | 200 |
//! | any other MESSAGE | 480 with `Warning: 391` |
//! | SERVICE | 200 (the reportError body is in the wire log) |
//! | ACK | nothing |
//! | BYE, CANCEL, OPTIONS, … | as [`incoming_request_disposition`] says |
//!
//! Every message in or out goes to the wire log ([`WireLog`]) just
//! before it is written, so a reader of the log sees a response before the
//! user agent can react to it. A retransmitted request (same top-Via branch
//! and method) gets the last response sent for it again, not a new run of the
//! script.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use ezk_sip_types::header::typed::{AuthResponse, QopOption, Username};
use ocer::sip::transaction::top_via_branch;
use ocer::sip::{
    frame_stream, incoming_request_disposition, parse_datagram, response_for, Disposition, Framed,
    FramingLimits, MessageLine, Name, RequestIdentity, SipMessage, StatusCode, StatusLine,
};
use ocer::ua::transport::{new_branch, new_tag};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

/// The §4.1 progress report and final response, as the fixtures have them.
const FIXTURE_101: &str = include_str!("../../sdk/tests/fixtures/ms-ocer-4.1/101.sip");
const FIXTURE_504: &str = include_str!("../../sdk/tests/fixtures/ms-ocer-4.1/504.sip");

/// The user the demo server knows, and the realm of its challenge.
#[derive(Debug, Clone)]
pub(crate) struct Account {
    /// The digest user name.
    pub(crate) user: String,
    /// Its password.
    pub(crate) password: String,
    /// The digest realm.
    pub(crate) realm: String,
}

impl Default for Account {
    fn default() -> Self {
        Account {
            user: "alice".into(),
            password: "demo-password".into(),
            realm: "contoso.com".into(),
        }
    }
}

/// How long the scripted server "works" before each response that, on a
/// real pool, would take a while: the `101 Progress Report`, the 504, and the
/// BYE that removes the user from a meeting.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pacing {
    /// From the 100 to the 101.
    pub(crate) progress: Duration,
    /// From the 101 to the 504.
    pub(crate) final_response: Duration,
    /// From the ACK of a conference join to the server's BYE.
    pub(crate) removal: Duration,
}

impl Pacing {
    /// Slow enough to watch, fast enough that the demo takes a few seconds.
    pub(crate) const DEMO: Pacing = Pacing {
        progress: Duration::from_millis(400),
        final_response: Duration::from_millis(900),
        removal: Duration::from_millis(700),
    };
    /// For tests: every response as soon as possible, order kept.
    #[cfg(test)]
    pub(crate) const FAST: Pacing = Pacing {
        progress: Duration::from_millis(10),
        final_response: Duration::from_millis(10),
        removal: Duration::from_millis(10),
    };
}

/// Which socket a message went over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transport {
    /// The TCP listener's connections.
    Tcp,
    /// The UDP socket.
    Udp,
}

impl Transport {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Transport::Tcp => "TCP",
            Transport::Udp => "UDP",
        }
    }
}

/// One entry of the wire log.
#[derive(Debug, Clone)]
pub(crate) struct Wire {
    /// `true`: the server received it; `false`: the server sent it.
    pub(crate) inbound: bool,
    /// Over what (the tests check it; the demo names its transport once).
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) transport: Transport,
    /// The message.
    pub(crate) message: SipMessage,
}

/// Every message the server received and sent, in the order it handled
/// them.
pub(crate) type WireLog = mpsc::UnboundedReceiver<Wire>;

/// A running demo server. [`DemoServer::shutdown`] stops it and waits for
/// its tasks; dropping it stops the accept and UDP loops.
pub(crate) struct DemoServer {
    tcp: SocketAddr,
    udp: SocketAddr,
    tasks: JoinSet<()>,
    script: Arc<Script>,
}

impl DemoServer {
    /// Binds TCP and UDP on 127.0.0.1 (the same ephemeral port when it is
    /// free for UDP too) and starts serving.
    pub(crate) async fn start(
        account: Account,
        pacing: Pacing,
    ) -> std::io::Result<(DemoServer, WireLog)> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let tcp = listener.local_addr()?;
        let udp_socket = match UdpSocket::bind(tcp).await {
            Ok(socket) => socket,
            Err(_) => UdpSocket::bind(("127.0.0.1", 0)).await?,
        };
        let udp = udp_socket.local_addr()?;
        let (log, wire) = mpsc::unbounded_channel();
        let script = Arc::new(Script::new(account, pacing, (tcp, udp), log));
        let mut tasks = JoinSet::new();
        tasks.spawn(accept_loop(listener, script.clone()));
        tasks.spawn(udp_loop(Arc::new(udp_socket), script.clone()));
        let server = DemoServer {
            tcp,
            udp,
            tasks,
            script,
        };
        Ok((server, wire))
    }

    /// The address of the TCP listener.
    pub(crate) fn tcp_addr(&self) -> SocketAddr {
        self.tcp
    }

    /// The address of the UDP socket.
    pub(crate) fn udp_addr(&self) -> SocketAddr {
        self.udp
    }

    /// Stops accepting, closes every connection and waits for the tasks.
    pub(crate) async fn shutdown(mut self) {
        self.tasks.shutdown().await;
        // Nothing spawns into the script's set once the loops are gone.
        let mut rest = std::mem::take(
            &mut *self
                .script
                .tasks
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        rest.shutdown().await;
    }
}

/// Where one response (or server request) goes.
#[derive(Clone)]
enum Sink {
    /// A TCP connection's writer task.
    Tcp(mpsc::UnboundedSender<Vec<u8>>),
    /// The UDP socket, to the request's source.
    Udp(Arc<UdpSocket>, SocketAddr),
}

/// One step of an answer: after `delay`, send `message`.
struct Step {
    delay: Duration,
    message: SipMessage,
}

/// A conference the server will end with a BYE once its 200 is
/// acknowledged.
struct Removal {
    /// The BYE.
    bye: SipMessage,
    /// Where the INVITE came from.
    sink: Sink,
    /// Over what.
    transport: Transport,
}

/// The shared state of the script.
struct Script {
    account: Account,
    pacing: Pacing,
    /// The TCP listener's and the UDP socket's addresses, for the Via of
    /// the server's own requests.
    tcp: SocketAddr,
    udp: SocketAddr,
    limits: FramingLimits,
    log: mpsc::UnboundedSender<Wire>,
    state: Mutex<State>,
    /// Connection writers and delayed answers, so that shutdown ends them.
    tasks: Mutex<JoinSet<()>>,
}

#[derive(Default)]
struct State {
    /// Nonces this server issued.
    nonces: Vec<String>,
    /// The last response sent per (top-Via branch, method): what a
    /// retransmission gets.
    answered: HashMap<(String, String), SipMessage>,
    /// Conference dialogs by Call-ID, waiting for their ACK.
    removals: HashMap<String, Removal>,
}

impl Script {
    fn new(
        account: Account,
        pacing: Pacing,
        (tcp, udp): (SocketAddr, SocketAddr),
        log: mpsc::UnboundedSender<Wire>,
    ) -> Script {
        Script {
            account,
            pacing,
            tcp,
            udp,
            limits: FramingLimits::default(),
            log,
            state: Mutex::new(State::default()),
            tasks: Mutex::new(JoinSet::new()),
        }
    }

    /// Runs `task` until it ends or the server shuts down.
    fn spawn(&self, task: impl std::future::Future<Output = ()> + Send + 'static) {
        let mut tasks = self.tasks.lock().unwrap_or_else(PoisonError::into_inner);
        while tasks.try_join_next().is_some() {}
        tasks.spawn(task);
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // The state stays consistent across a panic in a holder: every
        // update is a single insert.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Handles one message from the network: logs it, then answers it.
    fn handle(self: &Arc<Self>, message: SipMessage, transport: Transport, sink: Sink) {
        let _ = self.log.send(Wire {
            inbound: true,
            transport,
            message: message.clone(),
        });
        if !message.is_request() {
            // Responses to the server's own BYE: nothing more to do.
            return;
        }
        let key = transaction_key(&message);
        if let Some(key) = &key {
            let again = self.state().answered.get(key).cloned();
            if let Some(last) = again {
                self.send(&sink, transport, last, None);
                return;
            }
        }
        let mut steps = self
            .answer(&message, transport, &sink)
            .into_iter()
            .peekable();
        // What is due now goes out before the next message is read, so a
        // retransmission finds it in `answered`.
        while let Some(step) = steps.next_if(|s| s.delay.is_zero()) {
            self.send(&sink, transport, step.message, key.clone());
        }
        if steps.peek().is_none() {
            return;
        }
        let script = self.clone();
        self.spawn(async move {
            for step in steps {
                tokio::time::sleep(step.delay).await;
                script.send(&sink, transport, step.message, key.clone());
            }
        });
    }

    /// Logs `message`, remembers it as the latest answer under `key`, and
    /// writes it.
    fn send(
        &self,
        sink: &Sink,
        transport: Transport,
        message: SipMessage,
        key: Option<(String, String)>,
    ) {
        if let Some(key) = key {
            self.state().answered.insert(key, message.clone());
        }
        let _ = self.log.send(Wire {
            inbound: false,
            transport,
            message: message.clone(),
        });
        match sink {
            Sink::Tcp(writer) => {
                let _ = writer.send(message.to_bytes());
            }
            Sink::Udp(socket, peer) => {
                // Loopback: a datagram that cannot be sent now is lost, as
                // on any network; the client's retransmission covers it.
                let _ = socket.try_send_to(&message.to_bytes(), *peer);
            }
        }
    }

    /// The script: what to send for `request`, and when.
    fn answer(
        self: &Arc<Self>,
        request: &SipMessage,
        transport: Transport,
        sink: &Sink,
    ) -> Vec<Step> {
        let now = |message| Step {
            delay: Duration::ZERO,
            message,
        };
        let method = request
            .method()
            .map(ToString::to_string)
            .unwrap_or_default();
        let target = request_uri(request);
        let to_tag = new_tag();
        match method.as_str() {
            "REGISTER" => vec![now(self.register(request, &to_tag))],
            "INVITE" if is_conference(&target) => {
                let ok = with_sdp(response_for(request, StatusCode::OK, Some(&to_tag)));
                if let (Some(bye), Ok(id)) = (
                    self.removal_bye(request, &ok, transport),
                    RequestIdentity::from_request(request),
                ) {
                    let removal = Removal {
                        bye,
                        sink: sink.clone(),
                        transport,
                    };
                    self.state().removals.insert(id.call_id, removal);
                }
                vec![
                    now(response_for(request, StatusCode::TRYING, None)),
                    now(ok),
                ]
            }
            "INVITE" if user_of(&target) == Some("echo") => vec![
                now(response_for(request, StatusCode::TRYING, None)),
                now(with_sdp(response_for(
                    request,
                    StatusCode::OK,
                    Some(&to_tag),
                ))),
            ],
            "INVITE" => vec![
                now(response_for(request, StatusCode::TRYING, None)),
                Step {
                    delay: self.pacing.progress,
                    message: from_fixture(request, FIXTURE_101, &to_tag, &self.limits),
                },
                Step {
                    delay: self.pacing.final_response,
                    message: from_fixture(request, FIXTURE_504, &to_tag, &self.limits),
                },
            ],
            "MESSAGE" if user_of(&target) == Some("echo") => {
                vec![now(response_for(request, StatusCode::OK, Some(&to_tag)))]
            }
            "MESSAGE" => {
                let mut unavailable = response_for(request, StatusCode(480), Some(&to_tag));
                unavailable.headers.insert(
                    Name::WARNING,
                    "391 server.contoso.com \"The person you are trying to reach does not want to be disturbed\"",
                );
                vec![now(unavailable)]
            }
            "SERVICE" => vec![now(response_for(request, StatusCode::OK, Some(&to_tag)))],
            "ACK" => {
                self.on_ack(request);
                Vec::new()
            }
            _ => match incoming_request_disposition(request, true) {
                Disposition::Respond(status) => {
                    vec![now(response_for(request, status, Some(&to_tag)))]
                }
                // No INVITE of the script is ever pending: they are answered
                // at once or on a timer that a CANCEL does not stop.
                Disposition::CancelPending => vec![now(response_for(
                    request,
                    StatusCode::CALL_OR_TRANSACTION_DOES_NOT_EXIST,
                    Some(&to_tag),
                ))],
                _ => Vec::new(),
            },
        }
    }

    /// REGISTER: challenge until the Authorization header proves the
    /// password, then accept.
    fn register(&self, request: &SipMessage, to_tag: &str) -> SipMessage {
        if !self.authorized(request) {
            let nonce = new_tag() + &new_tag();
            self.state().nonces.push(nonce.clone());
            let mut challenge = response_for(request, StatusCode::UNAUTHORIZED, Some(to_tag));
            challenge.headers.insert(
                Name::WWW_AUTHENTICATE,
                format!(
                    "Digest realm=\"{}\", nonce=\"{nonce}\", algorithm=MD5, qop=\"auth\"",
                    self.account.realm
                ),
            );
            return challenge;
        }
        let mut ok = response_for(request, StatusCode::OK, Some(to_tag));
        let expires = request
            .header_value(&Name::EXPIRES)
            .and_then(|v| v.trim().parse::<u32>().ok())
            .unwrap_or(3600);
        if expires > 0 {
            for contact in request.header_values(&Name::CONTACT) {
                ok.headers.insert(
                    Name::CONTACT,
                    format!("{};expires={expires}", contact.trim()),
                );
            }
            ok.headers.insert(Name::EXPIRES, expires.to_string());
        }
        ok
    }

    /// Whether `request` carries a digest response (RFC 2617, MD5) for the
    /// account's password over a nonce this server issued.
    fn authorized(&self, request: &SipMessage) -> bool {
        let Some(Ok(responses)) = request
            .headers
            .try_get::<Vec<AuthResponse>>(Name::AUTHORIZATION)
        else {
            return false;
        };
        let Some(method) = request.method().map(ToString::to_string) else {
            return false;
        };
        responses.iter().any(|response| {
            let AuthResponse::Digest(digest) = response else {
                return false;
            };
            let known_nonce = self
                .state()
                .nonces
                .iter()
                .any(|n| n.as_str() == digest.nonce.as_str());
            let account = &self.account;
            if !known_nonce
                || !matches!(&digest.username, Username::Username(u) if u.as_str() == account.user)
                || digest.realm.as_str() != account.realm
            {
                return false;
            }
            let hash = |text: String| format!("{:x}", md5::compute(text.as_bytes()));
            let ha1 = hash(format!(
                "{}:{}:{}",
                account.user, account.realm, account.password
            ));
            let ha2 = hash(format!("{method}:{}", digest.uri));
            let expected = match &digest.qop_response {
                None => hash(format!("{ha1}:{}:{ha2}", digest.nonce)),
                Some(qop) if qop.qop == QopOption::Auth => hash(format!(
                    "{ha1}:{}:{:08x}:{}:auth:{ha2}",
                    digest.nonce, qop.nc, qop.cnonce
                )),
                Some(_) => return false,
            };
            expected.eq_ignore_ascii_case(digest.response.as_str())
        })
    }

    /// The BYE that will end a conference dialog: in the dialog the 200
    /// created, to the caller's Contact, with the removal diagnostics.
    fn removal_bye(
        &self,
        invite: &SipMessage,
        ok: &SipMessage,
        transport: Transport,
    ) -> Option<SipMessage> {
        let contact = invite.header_value(&Name::CONTACT)?;
        let uri = contact
            .split_once('<')
            .and_then(|(_, rest)| rest.split_once('>'))
            .map_or(contact.trim(), |(uri, _)| uri);
        let local = match transport {
            Transport::Tcp => self.tcp,
            Transport::Udp => self.udp,
        };
        let text = format!(
            "BYE {uri} SIP/2.0\r\n\
             Via: SIP/2.0/{transport} {local};branch={branch}\r\n\
             Max-Forwards: 70\r\n\
             From: {from}\r\n\
             To: {to}\r\n\
             Call-ID: {call_id}\r\n\
             CSeq: 1 BYE\r\n\
             ms-diagnostics-public: 3118;reason=\"Participant removed\";source=\"server.contoso.com\"\r\n\
             Content-Length: 0\r\n\r\n",
            transport = transport.name(),
            branch = new_branch(),
            from = ok.header_value(&Name::TO)?,
            to = ok.header_value(&Name::FROM)?,
            call_id = ok.header_value(&Name::CALL_ID)?,
        );
        SipMessage::parse(text.as_bytes(), &self.limits).ok()
    }

    /// An ACK for a conference's 200 starts the clock on its removal.
    fn on_ack(self: &Arc<Self>, ack: &SipMessage) {
        let Ok(id) = RequestIdentity::from_request(ack) else {
            return;
        };
        let Some(removal) = self.state().removals.remove(&id.call_id) else {
            return;
        };
        let script = self.clone();
        self.spawn(async move {
            tokio::time::sleep(script.pacing.removal).await;
            script.send(&removal.sink, removal.transport, removal.bye, None);
        });
    }
}

/// (top-Via branch, method) of a request: what identifies its transaction
/// (RFC 3261 §17.2.3); `None` without a branch. ACK is keyed apart from the
/// INVITE it acknowledges by its method.
fn transaction_key(request: &SipMessage) -> Option<(String, String)> {
    let branch = top_via_branch(request)?;
    let method = request.method()?.to_string();
    (method != "ACK").then(|| (branch.to_owned(), method))
}

/// The Request-URI as text, as the request line prints it.
pub(crate) fn request_uri(request: &SipMessage) -> String {
    if !request.is_request() {
        return String::new();
    }
    let wire = request.to_bytes();
    let line = wire.split(|&b| b == b'\r').next().unwrap_or_default();
    String::from_utf8_lossy(line)
        .split(' ')
        .nth(1)
        .unwrap_or_default()
        .to_owned()
}

/// The user part of a SIP URI.
fn user_of(uri: &str) -> Option<&str> {
    let rest = uri.split_once(':')?.1;
    let (user, _) = rest.split_once('@')?;
    Some(user.split(';').next().unwrap_or(user))
}

/// Whether a Request-URI names a conference focus (Lync's
/// `opaque=app:conf:focus:id:…`).
fn is_conference(uri: &str) -> bool {
    uri.contains("app:conf")
}

/// A response to `request` with the status line and diagnostics of a §4.1
/// fixture: the fixture's ms-diagnostics and Server headers are copied
/// verbatim (folded lines included); the transaction headers are the
/// request's.
fn from_fixture(
    request: &SipMessage,
    fixture: &str,
    to_tag: &str,
    limits: &FramingLimits,
) -> SipMessage {
    let wire = fixture.replace("\r\n", "\n").replace('\n', "\r\n");
    let Ok(fixture) = SipMessage::parse(wire.as_bytes(), limits) else {
        // The fixtures are part of this build; they parse (tested).
        return response_for(request, StatusCode::SERVER_INTERNAL_ERROR, Some(to_tag));
    };
    let status = fixture
        .status()
        .unwrap_or(StatusCode::SERVER_INTERNAL_ERROR);
    let mut response = response_for(request, status, Some(to_tag));
    if let MessageLine::Response(line) = &fixture.line {
        response.line = MessageLine::Response(StatusLine {
            code: line.code,
            reason: line.reason.clone(),
        });
    }
    for name in [Name::from("ms-diagnostics"), Name::SERVER] {
        for value in fixture.header_values(&name) {
            response.headers.insert(name.clone(), value);
        }
    }
    response
}

/// `response` with a minimal SDP answer: the demo's calls carry no media.
fn with_sdp(mut response: SipMessage) -> SipMessage {
    let sdp = "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=ocer demo\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n";
    response
        .headers
        .insert(Name::CONTENT_TYPE, "application/sdp");
    response.body = sdp.as_bytes().to_vec().into();
    response
}

async fn accept_loop(listener: TcpListener, script: Arc<Script>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(serve_connection(stream, script.clone()));
                }
                // A failed accept (descriptor limit, aborted handshake)
                // affects that connection only.
                Err(_) => tokio::task::yield_now().await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

/// Reads and answers one TCP connection until it closes or cannot be framed.
async fn serve_connection(stream: TcpStream, script: Arc<Script>) {
    let (mut reader, mut writer) = stream.into_split();
    let (out, mut outgoing) = mpsc::unbounded_channel::<Vec<u8>>();
    script.spawn(async move {
        while let Some(bytes) = outgoing.recv().await {
            if writer.write_all(&bytes).await.is_err() {
                break;
            }
        }
    });
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 16 * 1024];
    let mut skip = 0usize;
    'read: loop {
        let n = match reader.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
        if skip > 0 {
            let dropped = skip.min(buf.len());
            buf.drain(..dropped);
            skip -= dropped;
        }
        loop {
            match frame_stream(&buf, &script.limits) {
                Framed::Incomplete => break,
                Framed::KeepAlive { consumed } => {
                    buf.drain(..consumed.min(buf.len()));
                    if consumed == 4 {
                        // A CRLFCRLF ping gets its CRLF pong (RFC 5626 §4.4.1).
                        let _ = out.send(b"\r\n".to_vec());
                    }
                }
                Framed::Message { message, consumed } => {
                    buf.drain(..consumed.min(buf.len()));
                    script.handle(message, Transport::Tcp, Sink::Tcp(out.clone()));
                }
                Framed::Error {
                    skip: Some(extent), ..
                } => {
                    let dropped = extent.min(buf.len());
                    buf.drain(..dropped);
                    skip = extent - dropped;
                }
                Framed::Error { skip: None, .. } => break 'read,
            }
        }
    }
}

async fn udp_loop(socket: Arc<UdpSocket>, script: Arc<Script>) {
    let mut datagram = vec![0u8; 65_535];
    loop {
        let Ok((n, peer)) = socket.recv_from(&mut datagram).await else {
            continue;
        };
        let Ok(message) = parse_datagram(datagram.get(..n).unwrap_or_default(), &script.limits)
        else {
            continue;
        };
        script.handle(message, Transport::Udp, Sink::Udp(socket.clone(), peer));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every wait in these tests is bounded.
    const WAIT: Duration = Duration::from_secs(5);

    struct Client {
        stream: TcpStream,
        buf: Vec<u8>,
    }

    impl Client {
        async fn send(&mut self, text: &str) {
            let wire = text.replace('\n', "\r\n");
            self.stream.write_all(wire.as_bytes()).await.unwrap();
        }

        async fn recv(&mut self) -> SipMessage {
            tokio::time::timeout(WAIT, async {
                loop {
                    if let Framed::Message { message, consumed } =
                        frame_stream(&self.buf, &FramingLimits::default())
                    {
                        self.buf.drain(..consumed);
                        return message;
                    }
                    let mut chunk = [0u8; 4096];
                    let n = self.stream.read(&mut chunk).await.unwrap();
                    assert!(n > 0, "the server closed the connection");
                    self.buf.extend_from_slice(&chunk[..n]);
                }
            })
            .await
            .expect("a message within the timeout")
        }
    }

    fn request(method: &str, uri: &str, branch: &str, extra: &str) -> String {
        format!(
            "{method} {uri} SIP/2.0\n\
             Via: SIP/2.0/TCP 127.0.0.1:5099;branch=z9hG4bK{branch}\n\
             From: <sip:alice@contoso.com>;tag=a1\n\
             To: <{uri}>\n\
             Call-ID: call-{branch}\n\
             CSeq: 1 {method}\n\
             Contact: <sip:alice@127.0.0.1:5099;transport=tcp>\n\
             {extra}Content-Length: 0\n\n"
        )
    }

    fn param<'a>(header: &'a str, name: &str) -> &'a str {
        let start = header.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
        let end = header[start..].find('"').unwrap();
        &header[start..start + end]
    }

    async fn connect(server: &DemoServer) -> Client {
        Client {
            stream: TcpStream::connect(server.tcp_addr()).await.unwrap(),
            buf: Vec::new(),
        }
    }

    #[tokio::test]
    async fn register_is_challenged_then_accepted_with_the_right_digest_only() {
        let (server, _wire) = DemoServer::start(Account::default(), Pacing::FAST)
            .await
            .unwrap();
        let mut client = connect(&server).await;
        client
            .send(&request("REGISTER", "sip:contoso.com", "r1", ""))
            .await;
        let challenge = client.recv().await;
        assert_eq!(challenge.status(), Some(StatusCode::UNAUTHORIZED));
        let www = challenge
            .header_value(&Name::WWW_AUTHENTICATE)
            .unwrap()
            .to_owned();
        let nonce = param(&www, "nonce");
        assert_eq!(param(&www, "realm"), "contoso.com");

        let digest = |password: &str| {
            let hash = |t: String| format!("{:x}", md5::compute(t.as_bytes()));
            let ha1 = hash(format!("alice:contoso.com:{password}"));
            let ha2 = hash("REGISTER:sip:contoso.com".to_owned());
            let response = hash(format!("{ha1}:{nonce}:00000001:c0ffee:auth:{ha2}"));
            format!(
                "Authorization: Digest username=\"alice\", realm=\"contoso.com\", \
                 nonce=\"{nonce}\", uri=\"sip:contoso.com\", response=\"{response}\", \
                 algorithm=MD5, cnonce=\"c0ffee\", qop=auth, nc=00000001\n"
            )
        };
        client
            .send(&request(
                "REGISTER",
                "sip:contoso.com",
                "r2",
                &digest("wrong"),
            ))
            .await;
        assert_eq!(client.recv().await.status(), Some(StatusCode::UNAUTHORIZED));

        let good = digest("demo-password");
        client
            .send(&request("REGISTER", "sip:contoso.com", "r3", &good))
            .await;
        let ok = client.recv().await;
        assert_eq!(ok.status(), Some(StatusCode::OK));
        assert!(ok
            .header_value(&Name::CONTACT)
            .unwrap()
            .ends_with(";expires=3600"));

        // A retransmission gets the same answer, not a new challenge.
        client
            .send(&request("REGISTER", "sip:contoso.com", "r3", &good))
            .await;
        assert_eq!(client.recv().await.status(), Some(StatusCode::OK));

        // Unregistering: 200 without a Contact.
        let bye = format!("{good}Expires: 0\n");
        client
            .send(&request("REGISTER", "sip:contoso.com", "r4", &bye))
            .await;
        let ok = client.recv().await;
        assert_eq!(ok.status(), Some(StatusCode::OK));
        assert_eq!(ok.header_value(&Name::CONTACT), None);
        server.shutdown().await;
    }

    #[tokio::test]
    async fn invite_message_and_service_follow_the_script_and_are_logged() {
        let (server, mut wire) = DemoServer::start(Account::default(), Pacing::FAST)
            .await
            .unwrap();
        let mut client = connect(&server).await;
        client
            .send(&request("INVITE", "sip:bob@contoso.com", "i1", ""))
            .await;
        let trying = client.recv().await;
        assert_eq!(trying.status(), Some(StatusCode::TRYING));
        let progress = client.recv().await;
        assert_eq!(progress.status(), Some(StatusCode::PROGRESS_REPORT));
        assert_eq!(progress.reason_phrase(), Some("Progress Report"));
        let diag = Name::from("ms-diagnostics");
        assert!(progress
            .header_value(&diag)
            .unwrap()
            .starts_with("12006;reason=\"Trying next hop\""));
        let timeout = client.recv().await;
        assert_eq!(timeout.status(), Some(StatusCode(504)));
        assert!(timeout
            .header_value(&diag)
            .unwrap()
            .starts_with("1007; reason=\"Temporarily cannot"));
        assert_eq!(
            timeout.header_value(&Name::CALL_ID),
            Some("call-i1"),
            "the transaction headers are the request's, not the fixture's"
        );
        client
            .send(&request("ACK", "sip:bob@contoso.com", "i1", ""))
            .await;

        client
            .send(&request("MESSAGE", "sip:bob@contoso.com", "m1", ""))
            .await;
        let unavailable = client.recv().await;
        assert_eq!(unavailable.status(), Some(StatusCode(480)));
        assert!(unavailable
            .header_value(&Name::WARNING)
            .unwrap()
            .starts_with("391 "));

        client
            .send(&request("MESSAGE", "sip:echo@contoso.com", "m2", ""))
            .await;
        assert_eq!(client.recv().await.status(), Some(StatusCode::OK));
        client
            .send(&request("SERVICE", "sip:alice@contoso.com", "s1", ""))
            .await;
        assert_eq!(client.recv().await.status(), Some(StatusCode::OK));
        client
            .send(&request("OPTIONS", "sip:contoso.com", "o1", ""))
            .await;
        assert_eq!(client.recv().await.status(), Some(StatusCode::OK));

        // The log has every message, each request before its answers.
        let mut log = Vec::new();
        while log.len() < 13 {
            let wire = tokio::time::timeout(WAIT, wire.recv())
                .await
                .unwrap()
                .unwrap();
            let line = match wire.message.status() {
                Some(status) => format!("{}<{}", wire.transport.name(), status.as_u16()),
                None => format!(
                    "{}>{}",
                    wire.transport.name(),
                    wire.message.method().unwrap()
                ),
            };
            log.push(line);
        }
        assert_eq!(
            log,
            [
                "TCP>INVITE",
                "TCP<100",
                "TCP<101",
                "TCP<504",
                "TCP>ACK",
                "TCP>MESSAGE",
                "TCP<480",
                "TCP>MESSAGE",
                "TCP<200",
                "TCP>SERVICE",
                "TCP<200",
                "TCP>OPTIONS",
                "TCP<200",
            ]
        );
        server.shutdown().await;
    }

    #[tokio::test]
    async fn a_conference_join_is_ended_by_a_bye_with_3118_after_the_ack() {
        let (server, _wire) = DemoServer::start(Account::default(), Pacing::FAST)
            .await
            .unwrap();
        let mut client = connect(&server).await;
        let focus = "sip:bob@contoso.com;gruu;opaque=app:conf:focus:id:X";
        client.send(&request("INVITE", focus, "c1", "")).await;
        assert_eq!(client.recv().await.status(), Some(StatusCode::TRYING));
        let ok = client.recv().await;
        assert_eq!(ok.status(), Some(StatusCode::OK));
        assert!(!ok.body.is_empty());
        let ack = request("ACK", focus, "c2", "").replace("call-c2", "call-c1");
        client.send(&ack).await;
        let bye = client.recv().await;
        assert_eq!(
            bye.method().map(ToString::to_string).as_deref(),
            Some("BYE")
        );
        assert_eq!(request_uri(&bye), "sip:alice@127.0.0.1:5099;transport=tcp");
        assert!(bye
            .header_value(&Name::from("ms-diagnostics-public"))
            .unwrap()
            .starts_with("3118;"));
        assert_eq!(bye.header_value(&Name::CALL_ID), Some("call-c1"));
        assert_eq!(
            bye.header_value(&Name::TO),
            Some("<sip:alice@contoso.com>;tag=a1")
        );
        server.shutdown().await;
    }

    #[tokio::test]
    async fn udp_requests_are_answered_to_their_source() {
        let (server, _wire) = DemoServer::start(Account::default(), Pacing::FAST)
            .await
            .unwrap();
        let socket = UdpSocket::bind(("127.0.0.1", 0)).await.unwrap();
        let options = request("OPTIONS", "sip:contoso.com", "u1", "").replace('\n', "\r\n");
        socket
            .send_to(options.as_bytes(), server.udp_addr())
            .await
            .unwrap();
        let mut datagram = [0u8; 4096];
        let (n, _) = tokio::time::timeout(WAIT, socket.recv_from(&mut datagram))
            .await
            .unwrap()
            .unwrap();
        let ok = parse_datagram(&datagram[..n], &FramingLimits::default()).unwrap();
        assert_eq!(ok.status(), Some(StatusCode::OK));
        server.shutdown().await;
    }

    #[test]
    fn the_fixtures_give_their_status_line_and_diagnostics() {
        let limits = FramingLimits::default();
        let invite = SipMessage::parse(
            request("INVITE", "sip:bob@contoso.com", "f1", "")
                .replace('\n', "\r\n")
                .as_bytes(),
            &limits,
        )
        .unwrap();
        for (fixture, status) in [(FIXTURE_101, 101), (FIXTURE_504, 504)] {
            let response = from_fixture(&invite, fixture, "t1", &limits);
            assert_eq!(response.status(), Some(StatusCode(status)));
            assert_eq!(
                response
                    .header_values(&Name::from("ms-diagnostics"))
                    .count(),
                1
            );
            assert_eq!(
                response.header_value(&Name::SERVER),
                Some("OutboundRouting/3.0.0.0")
            );
        }
    }
}
