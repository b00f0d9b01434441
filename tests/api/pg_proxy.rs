//! A loopback TCP proxy in front of PostgreSQL (or the PgBouncer) that counts
//! the messages clients send through it, by type: what a test asserts about
//! the statements (`Execute`, `Query`) or the round trips (`Sync`, `Query`)
//! an update costs, counted where they happen.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};

/// Statements executed: each `Execute` of the extended protocol (preparing
/// executes nothing) and each simple `Query`.
pub const STATEMENTS: &[u8] = b"EQ";
/// Round trips: each `Sync` and each simple `Query` brings one
/// `ReadyForQuery` the client waits for.
pub const ROUND_TRIPS: &[u8] = b"SQ";

pub struct PgProxy {
    /// The URL to connect to instead of the one the proxy was started for,
    /// in plain text (the proxy reads the messages).
    pub url: String,
    /// Messages sent so far, by type byte.
    counts: Arc<[AtomicUsize; 256]>,
}

impl PgProxy {
    /// Starts one for `url` (`postgres://user@host:port/database`).
    pub async fn start(url: &str) -> Self {
        let rest = url.trim_start_matches("postgres://");
        let (user, rest) = rest.split_once('@').expect("user@");
        let (upstream, database) = rest.split_once('/').expect("host:port/database");
        let upstream = upstream.to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy addr");
        let counts = Arc::new(std::array::from_fn(|_| AtomicUsize::new(0)));
        let counted = Arc::clone(&counts);
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let server = TcpStream::connect(&upstream).await.expect("upstream");
                let (mut from_client, mut to_client) = client.into_split();
                let (mut from_server, to_server) = server.into_split();
                tokio::spawn(async move {
                    let _ = tokio::io::copy(&mut from_server, &mut to_client).await;
                });
                let counted = Arc::clone(&counted);
                tokio::spawn(async move {
                    let _ = relay(&mut from_client, to_server, &counted).await;
                });
            }
        });
        let url = format!("postgres://{user}@{addr}/{database}?sslmode=disable");
        Self { url, counts }
    }

    /// Messages of these types sent so far ([`STATEMENTS`], [`ROUND_TRIPS`]).
    pub fn count(&self, kinds: &[u8]) -> usize {
        kinds
            .iter()
            .map(|&kind| self.counts[usize::from(kind)].load(Ordering::SeqCst))
            .sum()
    }
}

/// Forwards a client's messages to the server, counting them by type. The
/// first messages have no type byte: an SSL or GSS request, perhaps, then
/// the startup message; after it, every message is a type byte and a
/// big-endian length that counts itself.
async fn relay(
    from: &mut OwnedReadHalf,
    mut to: OwnedWriteHalf,
    counts: &[AtomicUsize; 256],
) -> std::io::Result<()> {
    const SSL_REQUEST: u32 = 80_877_103;
    const GSS_REQUEST: u32 = 80_877_104;
    loop {
        let len = from.read_u32().await?;
        let mut body = vec![0; len as usize - 4];
        from.read_exact(&mut body).await?;
        to.write_all(&[&len.to_be_bytes()[..], &body].concat())
            .await?;
        let code = u32::from_be_bytes(body[..4].try_into().expect("a protocol code"));
        if code != SSL_REQUEST && code != GSS_REQUEST {
            break;
        }
    }
    loop {
        let kind = from.read_u8().await?;
        let len = from.read_u32().await?;
        let mut body = vec![0; len as usize - 4];
        from.read_exact(&mut body).await?;
        counts[usize::from(kind)].fetch_add(1, Ordering::SeqCst);
        to.write_all(&[&[kind][..], &len.to_be_bytes(), &body].concat())
            .await?;
    }
}
