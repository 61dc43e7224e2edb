//! A toggleable TCP proxy on 127.0.0.1, put in front of PostgreSQL or Redis to simulate outages.
//!
//! Modes:
//! - [`Mode::Forward`]: every connection is relayed to the upstream address.
//! - [`Mode::Refuse`]: new connections are accepted and closed at once; live ones are dropped
//!   (the server "went away").
//! - [`Mode::Blackhole`]: new connections are accepted and never answered; live ones stop
//!   relaying in both directions (a network partition). They are closed when the mode changes
//!   again, so that clients reconnect after the partition heals — unless the proxy was started
//!   with [`Proxy::start_holding`], which keeps them open and silent until the proxy is dropped
//!   (connections that died silently: the client must notice and replace them itself).
//!
//! Dropping the [`Proxy`] stops it and closes every connection.

use std::net::SocketAddr;

use tokio::io::AsyncWriteExt as _;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// What the proxy does with connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Relay to the upstream.
    Forward,
    /// Accept and close at once; close the live connections.
    Refuse,
    /// Accept and never answer; freeze the live connections.
    Blackhole,
}

/// A running proxy; see the module documentation.
pub struct Proxy {
    addr: SocketAddr,
    mode: watch::Sender<Mode>,
    accept: JoinHandle<()>,
}

impl Proxy {
    /// Starts a proxy to `upstream` (`host:port`) on a free port of 127.0.0.1, forwarding.
    pub async fn start(upstream: &str) -> Proxy {
        Self::launch(upstream, false).await
    }

    /// Like [`start`](Self::start), but connections caught by a blackhole stay open and silent
    /// after the partition heals, until the proxy is dropped.
    pub async fn start_holding(upstream: &str) -> Proxy {
        Self::launch(upstream, true).await
    }

    async fn launch(upstream: &str, hold: bool) -> Proxy {
        let upstream: SocketAddr = tokio::net::lookup_host(upstream)
            .await
            .unwrap_or_else(|e| panic!("cannot resolve the proxy upstream {upstream}: {e}"))
            .next()
            .unwrap_or_else(|| panic!("no address for the proxy upstream {upstream}"));
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a proxy");
        let addr = listener.local_addr().unwrap();
        let (mode, _) = watch::channel(Mode::Forward);
        let modes = mode.clone();
        let accept = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    continue;
                };
                let _ = client.set_nodelay(true);
                let rx = modes.subscribe();
                tokio::spawn(serve(client, upstream, rx, hold));
            }
        });
        Proxy { addr, mode, accept }
    }

    /// The proxy's address (`127.0.0.1:port`).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Switches the mode; live connections react at once.
    pub fn set(&self, mode: Mode) {
        self.mode.send_replace(mode);
    }

    /// The current mode.
    pub fn mode(&self) -> Mode {
        *self.mode.borrow()
    }

    /// `url` (`scheme://[userinfo@]host:port/rest`) pointed at the proxy instead of its host
    /// and port.
    pub fn url_for(&self, url: &str) -> String {
        retarget(url, self.addr)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        // Closing the channel ends every connection task (`changed()` fails).
    }
}

/// `host:port` of a `scheme://[userinfo@]host[:port]/...` URL (`default_port` when absent).
pub fn host_port(url: &str, default_port: u16) -> String {
    let (_, rest) = url.split_once("://").expect("a URL with a scheme");
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if host.contains(':') {
        host.to_owned()
    } else {
        format!("{host}:{default_port}")
    }
}

/// `url` with its host and port replaced by `addr` (user, path and query kept).
pub fn retarget(url: &str, addr: SocketAddr) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL with a scheme");
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let userinfo = authority
        .rsplit_once('@')
        .map(|(user, _)| format!("{user}@"))
        .unwrap_or_default();
    format!("{scheme}://{userinfo}{addr}{tail}")
}

/// Waits until the mode differs from `current`; `None` when the proxy is gone.
async fn next_mode(rx: &mut watch::Receiver<Mode>, current: Mode) -> Option<Mode> {
    loop {
        rx.changed().await.ok()?;
        let mode = *rx.borrow_and_update();
        if mode != current {
            return Some(mode);
        }
    }
}

/// Keeps a blackholed connection open and silent: until the mode changes, or with `hold` until
/// the proxy is dropped.
async fn freeze(rx: &mut watch::Receiver<Mode>, hold: bool) {
    if hold {
        while rx.changed().await.is_ok() {}
    } else {
        let _ = next_mode(rx, Mode::Blackhole).await;
    }
}

async fn serve(
    mut client: TcpStream,
    upstream: SocketAddr,
    mut rx: watch::Receiver<Mode>,
    hold: bool,
) {
    let mode = *rx.borrow_and_update();
    match mode {
        Mode::Refuse => {
            let _ = client.shutdown().await;
        }
        Mode::Blackhole => {
            // Hold the socket without reading until the partition heals, then close it.
            freeze(&mut rx, hold).await;
        }
        Mode::Forward => {
            let mut server = tokio::select! {
                connected = TcpStream::connect(upstream) => match connected {
                    Ok(server) => server,
                    Err(_) => return,
                },
                _ = next_mode(&mut rx, Mode::Forward) => return,
            };
            let _ = server.set_nodelay(true);
            let changed = tokio::select! {
                _ = tokio::io::copy_bidirectional(&mut client, &mut server) => return,
                changed = next_mode(&mut rx, Mode::Forward) => changed,
            };
            if changed == Some(Mode::Blackhole) {
                // Freeze: keep both sockets open and silent.
                freeze(&mut rx, hold).await;
            }
            // Refuse, the end of a blackhole, or a dropped proxy: close both sides.
        }
    }
}
