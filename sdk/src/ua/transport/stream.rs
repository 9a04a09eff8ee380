//! TCP and TLS connections: connecting, and the two tasks of an established
//! connection — the reader that frames messages and hands them to the
//! driver in order, and the writer that sends what the driver queued and
//! the keep-alive pings.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio::task::AbortHandle;
use tokio_rustls::client::TlsStream;

use super::inspect::MalformedHint;
use super::{tls, ConnId, Event, Flow, StreamWriter, Target, TransportKind};
use crate::sip::{Framed, FramingLimits, StreamScan, TransportFailure, TransportFailureKind};

/// The RFC 5626 §4.4.1 keep-alive ping.
const PING: &[u8] = b"\r\n\r\n";

/// How much the receive buffer grows by when it is full.
const READ_CHUNK: usize = 16 * 1024;

/// A connected stream, ready for [`spawn_stream_tasks`].
pub(crate) enum Established {
    /// Plain TCP.
    Tcp(TcpStream),
    /// TLS, handshake done.
    Tls(Box<TlsStream<TcpStream>>),
}

impl std::fmt::Debug for Established {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (kind, tcp) = match self {
            Self::Tcp(tcp) => ("TCP", tcp),
            Self::Tls(tls) => ("TLS", tls.get_ref().0),
        };
        write!(f, "{kind} {:?} -> {:?}", tcp.local_addr(), tcp.peer_addr())
    }
}

/// Opens a connection to `target` (TCP, plus the TLS handshake for TLS)
/// within `timeout`, and tells the driver how it went: [`Event::Connected`]
/// or [`Event::Closed`]. Run as its own task, so the driver never waits on a
/// connect.
pub(crate) async fn connect(
    id: ConnId,
    target: Target,
    tls: Option<Arc<rustls::ClientConfig>>,
    timeout: Duration,
    events: mpsc::Sender<Event>,
) {
    let attempt = establish(&target, tls);
    let event = match tokio::time::timeout(timeout, attempt).await {
        Ok(Ok(stream)) => Event::Connected { id, stream },
        Ok(Err(failure)) => Event::Closed { id, failure },
        Err(_) => Event::Closed {
            id,
            failure: TransportFailure::new(
                TransportFailureKind::TimedOut,
                format!(
                    "no {} connection to {} within {timeout:?}",
                    target.kind, target.addr
                ),
            ),
        },
    };
    // The driver is gone when this fails; the stream is dropped with the event.
    let _ = events.send(event).await;
}

async fn establish(
    target: &Target,
    tls: Option<Arc<rustls::ClientConfig>>,
) -> Result<Established, TransportFailure> {
    let tcp = TcpStream::connect(target.addr)
        .await
        .map_err(|e| TransportFailure::from_io(&e))?;
    // SIP messages are written whole; Nagle would only delay them.
    if let Err(error) = tcp.set_nodelay(true) {
        tracing::debug!(%error, "TCP_NODELAY not set");
    }
    match target.kind {
        TransportKind::Tls => {
            let config = tls.ok_or_else(|| {
                TransportFailure::new(TransportFailureKind::Tls, "no TLS configuration")
            })?;
            let name = tls::server_name(target.server_name.as_deref(), target.addr)
                .map_err(|e| TransportFailure::new(TransportFailureKind::Tls, e.to_string()))?;
            let stream = tokio_rustls::TlsConnector::from(config)
                .connect(name, tcp)
                .await
                .map_err(|e| tls::failure_from_io(&e))?;
            Ok(Established::Tls(Box::new(stream)))
        }
        TransportKind::Tcp | TransportKind::Udp => Ok(Established::Tcp(tcp)),
    }
}

/// The tasks of one established connection.
#[derive(Debug)]
pub(crate) struct StreamTasks {
    /// Where the driver queues bytes to send.
    pub(crate) writer: StreamWriter,
    /// The connection's local address (the `Via` sent-by).
    pub(crate) local: SocketAddr,
    reader_task: AbortHandle,
    writer_task: AbortHandle,
}

impl StreamTasks {
    /// Stops both tasks now; the connection closes as they drop its halves.
    pub(crate) fn abort(&self) {
        self.reader_task.abort();
        self.writer_task.abort();
    }

    /// Closes gracefully: reading stops now; the writer sends what is queued
    /// (the last ACK, say), then closes its side (TLS: `close_notify`), and
    /// is stopped anyway after [`CLOSE_GRACE`] if the peer does not read.
    pub(crate) fn close(self) {
        self.reader_task.abort();
        let writer_task = self.writer_task;
        drop(self.writer);
        tokio::spawn(async move {
            tokio::time::sleep(CLOSE_GRACE).await;
            writer_task.abort();
        });
    }
}

/// How long a closing connection may take to send what was queued.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// Starts the reader and writer tasks of an established connection.
pub(crate) fn spawn_stream_tasks(
    id: ConnId,
    stream: Established,
    limits: FramingLimits,
    keep_alive: watch::Receiver<Option<Duration>>,
    events: mpsc::Sender<Event>,
) -> io::Result<StreamTasks> {
    match stream {
        Established::Tcp(tcp) => {
            let local = tcp.local_addr()?;
            Ok(spawn_halves(id, local, tcp, limits, keep_alive, events))
        }
        Established::Tls(tls) => {
            let local = tls.get_ref().0.local_addr()?;
            Ok(spawn_halves(id, local, *tls, limits, keep_alive, events))
        }
    }
}

fn spawn_halves<S>(
    id: ConnId,
    local: SocketAddr,
    stream: S,
    limits: FramingLimits,
    keep_alive: watch::Receiver<Option<Duration>>,
    events: mpsc::Sender<Event>,
) -> StreamTasks
where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let (read, write) = tokio::io::split(stream);
    let (writer, queue, queued) = StreamWriter::new();
    let reader_task = tokio::spawn(read_loop(id, read, limits, events.clone())).abort_handle();
    let writer_task =
        tokio::spawn(write_loop(id, write, queue, queued, keep_alive, events)).abort_handle();
    StreamTasks {
        writer,
        local,
        reader_task,
        writer_task,
    }
}

/// Frames messages off the stream and sends them to the driver, one at a
/// time and in order, until the stream ends or cannot be resynchronised;
/// then reports [`Event::Closed`].
async fn read_loop<R>(id: ConnId, mut read: R, limits: FramingLimits, events: mpsc::Sender<Event>)
where
    R: AsyncRead + Unpin,
{
    let failure = match read_messages(id, &mut read, &limits, &events).await {
        Ok(()) => return,
        Err(failure) => failure,
    };
    tracing::debug!(conn = id.0, %failure, "connection closed");
    let _ = events.send(Event::Closed { id, failure }).await;
}

/// `Ok(())` when the driver has gone away, else why the connection ended.
async fn read_messages<R>(
    id: ConnId,
    read: &mut R,
    limits: &FramingLimits,
    events: &mpsc::Sender<Event>,
) -> Result<(), TransportFailure>
where
    R: AsyncRead + Unpin,
{
    let flow = Flow::Stream(id);
    let mut buf = BytesMut::with_capacity(READ_CHUNK);
    // Where framing stopped in `buf`: each read resumes there rather than
    // re-framing the whole buffer (a trickled 120 KB header cost 9x the CPU).
    let mut scan = StreamScan::default();
    // Bytes of a skipped message that have not arrived yet.
    let mut discard = 0usize;
    loop {
        loop {
            match scan.frame(&buf, limits) {
                Framed::Incomplete => break,
                Framed::KeepAlive { consumed } => buf.advance(consumed),
                Framed::Message { message, consumed } => {
                    buf.advance(consumed);
                    if events.send(Event::Message { flow, message }).await.is_err() {
                        return Ok(());
                    }
                }
                Framed::Error {
                    error,
                    skip: Some(skip),
                } => {
                    let hint = MalformedHint::inspect(buf.get(..skip).unwrap_or(&buf));
                    tracing::warn!(conn = id.0, %error, bytes = skip, "skipping a malformed message");
                    if skip <= buf.len() {
                        buf.advance(skip);
                    } else {
                        discard = skip - buf.len();
                        buf.clear();
                    }
                    let event = Event::Malformed { flow, error, hint };
                    if events.send(event).await.is_err() {
                        return Ok(());
                    }
                }
                Framed::Error { error, skip: None } => {
                    tracing::warn!(conn = id.0, %error, "unframeable data; closing the connection");
                    return Err(TransportFailure::new(
                        TransportFailureKind::Framing,
                        error.to_string(),
                    ));
                }
            }
        }
        if buf.capacity() - buf.len() < READ_CHUNK / 4 {
            buf.reserve(READ_CHUNK);
        }
        match read.read_buf(&mut buf).await {
            Ok(0) => {
                return Err(TransportFailure::new(
                    TransportFailureKind::ConnectionClosed,
                    "the peer closed the connection",
                ))
            }
            Ok(_) => {
                let dropped = discard.min(buf.len());
                buf.advance(dropped);
                discard -= dropped;
            }
            Err(error) => return Err(tls::failure_from_io(&error)),
        }
    }
}

/// Writes what the driver queues, in order, and a ping whenever nothing was
/// written for the `keep_alive` interval (`None`: no pings). The interval can
/// change while the connection is up (a pool's `ms-keep-alive` answer): a
/// change restarts the idle wait at once, so a shorter interval is not
/// waited out at the old length. Ends, closing the sending side, when the
/// driver drops the queue; reports [`Event::Closed`] if a write fails.
async fn write_loop<W>(
    id: ConnId,
    mut write: W,
    mut queue: mpsc::UnboundedReceiver<Bytes>,
    queued: Arc<AtomicUsize>,
    mut keep_alive: watch::Receiver<Option<Duration>>,
    events: mpsc::Sender<Event>,
) where
    W: AsyncWrite + Unpin,
{
    loop {
        let interval = *keep_alive.borrow_and_update();
        let idle = async {
            match interval {
                Some(interval) => tokio::time::sleep(interval).await,
                None => std::future::pending().await,
            }
        };
        let changed = async {
            // Once the sender (the transport) is gone, the last value holds.
            if keep_alive.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        let (bytes, queued_len) = tokio::select! {
            next = queue.recv() => match next {
                Some(bytes) => {
                    let len = bytes.len();
                    (bytes, len)
                }
                None => {
                    let _ = write.shutdown().await;
                    return;
                }
            },
            () = idle => (Bytes::from_static(PING), 0),
            () = changed => continue,
        };
        let written = async {
            write.write_all(&bytes).await?;
            queued.fetch_sub(queued_len, Ordering::Relaxed);
            // Whatever else is queued goes out before the flush.
            while let Ok(more) = queue.try_recv() {
                write.write_all(&more).await?;
                queued.fetch_sub(more.len(), Ordering::Relaxed);
            }
            write.flush().await
        };
        if let Err(error) = written.await {
            let failure = tls::failure_from_io(&error);
            tracing::debug!(conn = id.0, %failure, "write failed");
            let _ = events.send(Event::Closed { id, failure }).await;
            return;
        }
    }
}
