//! A fault-injecting HTTP/1.1 reverse proxy on loopback, for running `customs` against a real
//! registry while making it misbehave: error statuses, connection resets, bodies cut short,
//! redirects to "blob storage", a registry that dies mid-pull. std only, a thread per
//! connection.
//!
//! Every relayed response is forced to `Connection: close`, so a client connection carries
//! exactly one request: the cut faults can then count body bytes without parsing framing, and
//! a fault never leaks into a reused connection.
//!
//! The proxy's own tests (`proxy_*`) are at the bottom, against a tiny std origin server.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// Longest request or response head accepted.
const HEAD_CAP: usize = 64 * 1024;
/// Per read/write; generous because a blob download through a loaded CI machine can stall.
const IO_TIMEOUT: Duration = Duration::from_secs(60);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The proxy. Dropping it closes the listener, shuts down every open connection and joins
/// the threads.
pub(crate) struct FaultProxy {
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

#[derive(Clone, Debug)]
pub(crate) enum Fault {
    /// Answer with this status and no body forwarded upstream; with `retry_after: Some(s)` add
    /// `Retry-After: s`. Body: `{"errors":[{"code":"UNAVAILABLE","message":"injected"}]}`.
    Status { code: u16, retry_after: Option<u64> },
    /// Close without answering, as a TCP reset: std has no `SO_LINGER`, so the request head is
    /// left unread, and closing a socket with unread input makes the kernel send a RST.
    Reset,
    /// Forward, but pass on only the response head and the first `n` body bytes, then close.
    CutAfter(u64),
    /// `307 Temporary Redirect` to the same path and query on another host:port.
    Redirect(SocketAddr),
    /// Like `CutAfter(n)`, and then the proxy dies: the listener is closed (later connects are
    /// refused) and every other open connection is shut down.
    DieAfter(u64),
    /// Forward the head and the first `n` body bytes, then send nothing more, holding the
    /// connection open until the proxy stops (at most two minutes): a download in progress
    /// for as long as a test needs one.
    StallAfter(u64),
}

/// Applies to the next `times` requests whose path (with query) contains `path_contains`,
/// and whose method is `method` if given. Rules are tried in the order added.
#[derive(Clone, Debug)]
pub(crate) struct Rule {
    pub(crate) path_contains: String,
    pub(crate) method: Option<String>,
    pub(crate) times: usize,
    pub(crate) fault: Fault,
}

/// One request seen by the proxy.
#[derive(Clone, Debug)]
pub(crate) struct Logged {
    pub(crate) method: String,
    /// The request target as sent: path and query.
    pub(crate) path: String,
    /// The status sent or relayed to the client; 0 if none was.
    pub(crate) status: u16,
    /// The injected fault, as its `Debug` text.
    pub(crate) fault: Option<String>,
    /// The request's `Range` header.
    pub(crate) range: Option<String>,
}

impl FaultProxy {
    /// A proxy on `127.0.0.1:0` forwarding to `upstream`.
    pub(crate) fn start(upstream: SocketAddr) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the fault proxy");
        let addr = listener.local_addr().expect("fault proxy address");
        let shared = Arc::new(Shared {
            addr,
            upstream,
            rules: Mutex::new(Vec::new()),
            log: Mutex::new(Vec::new()),
            next_id: AtomicU64::new(0),
            stopping: AtomicBool::new(false),
            listener_closed: Mutex::new(false),
            listener_closed_cv: Condvar::new(),
            open: Mutex::new(HashMap::new()),
        });
        let s = Arc::clone(&shared);
        let acceptor = thread::Builder::new()
            .name("fault-proxy".into())
            .spawn(move || accept_loop(listener, &s))
            .expect("spawn the fault proxy");
        FaultProxy {
            shared,
            acceptor: Some(acceptor),
        }
    }

    pub(crate) fn addr(&self) -> SocketAddr {
        self.shared.addr
    }

    /// `127.0.0.1:PORT`, for image references.
    pub(crate) fn host_port(&self) -> String {
        self.shared.addr.to_string()
    }

    pub(crate) fn add(&self, rule: Rule) {
        lock(&self.shared.rules).push(rule);
    }

    /// Every request seen since the start or the last `clear_log`, in arrival order.
    pub(crate) fn log(&self) -> Vec<Logged> {
        lock(&self.shared.log)
            .iter()
            .map(|(_, l)| l.clone())
            .collect()
    }

    /// Requests seen with this method whose path contains `path_contains`.
    pub(crate) fn count(&self, method: &str, path_contains: &str) -> usize {
        lock(&self.shared.log)
            .iter()
            .filter(|(_, l)| l.method == method && l.path.contains(path_contains))
            .count()
    }

    pub(crate) fn clear_log(&self) {
        lock(&self.shared.log).clear();
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.shared.stop();
        if let Some(a) = self.acceptor.take() {
            let _ = a.join();
        }
    }
}

struct Shared {
    addr: SocketAddr,
    upstream: SocketAddr,
    rules: Mutex<Vec<Rule>>,
    /// Entries carry an id so a status can be filled in after a `clear_log` shifted them.
    log: Mutex<Vec<(u64, Logged)>>,
    next_id: AtomicU64,
    stopping: AtomicBool,
    listener_closed: Mutex<bool>,
    listener_closed_cv: Condvar,
    /// Clones of every open socket, so that stopping can unblock threads stuck in a read.
    open: Mutex<HashMap<u64, TcpStream>>,
}

/// A panicking test thread must not take the proxy down with it.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    /// Asks the acceptor to close the listener. `accept` can't be interrupted in std, so it is
    /// woken by a connection of our own; refused means it is already gone.
    fn stop(&self) {
        self.stopping.store(true, SeqCst);
        let _ = TcpStream::connect_timeout(&self.addr, CONNECT_TIMEOUT);
    }

    /// Stops, and returns once the listener is closed, so that a client seeing the end of the
    /// response it is being given can no longer connect.
    fn die(&self) {
        self.stop();
        let closed = lock(&self.listener_closed);
        let _ = self
            .listener_closed_cv
            .wait_timeout_while(closed, CONNECT_TIMEOUT, |closed| !*closed);
    }

    fn track(&self, s: &TcpStream) -> Tracked<'_> {
        let id = self.next_id.fetch_add(1, SeqCst);
        let mut open = lock(&self.open);
        // Checked under the lock that `close_all` takes, so no socket opened while stopping
        // escapes it.
        if self.stopping.load(SeqCst) {
            let _ = s.shutdown(Shutdown::Both);
        } else if let Ok(c) = s.try_clone() {
            open.insert(id, c);
        }
        Tracked { shared: self, id }
    }

    fn close_all(&self) {
        for (_, s) in lock(&self.open).drain() {
            let _ = s.shutdown(Shutdown::Both);
        }
    }

    fn take_fault(&self, method: &str, path: &str) -> Option<Fault> {
        let mut rules = lock(&self.rules);
        let rule = rules.iter_mut().find(|r| {
            r.times > 0
                && path.contains(&r.path_contains)
                && r.method
                    .as_deref()
                    .is_none_or(|m| m.eq_ignore_ascii_case(method))
        })?;
        rule.times -= 1;
        Some(rule.fault.clone())
    }

    fn record(&self, req: &Request, fault: Option<&Fault>) -> u64 {
        let id = self.next_id.fetch_add(1, SeqCst);
        lock(&self.log).push((
            id,
            Logged {
                method: req.method.clone(),
                path: req.target.clone(),
                status: 0,
                fault: fault.map(|f| format!("{f:?}")),
                range: req.range.clone(),
            },
        ));
        id
    }

    /// Called before the head goes out, so a test that has read the response sees its status.
    fn set_status(&self, id: u64, status: u16) {
        if let Some((_, l)) = lock(&self.log).iter_mut().rev().find(|(i, _)| *i == id) {
            l.status = status;
        }
    }
}

/// Forgets an open socket when its connection is done.
struct Tracked<'a> {
    shared: &'a Shared,
    id: u64,
}

impl Drop for Tracked<'_> {
    fn drop(&mut self) {
        lock(&self.shared.open).remove(&self.id);
    }
}

fn accept_loop(listener: TcpListener, shared: &Arc<Shared>) {
    let mut workers: Vec<JoinHandle<()>> = Vec::new();
    for conn in listener.incoming() {
        if shared.stopping.load(SeqCst) {
            break;
        }
        let Ok(conn) = conn else {
            // Out of file descriptors and the like: back off rather than spin.
            thread::sleep(Duration::from_millis(10));
            continue;
        };
        workers.retain(|w| !w.is_finished());
        let s = Arc::clone(shared);
        if let Ok(w) = thread::Builder::new()
            .name("fault-proxy-conn".into())
            .spawn(move || serve(&s, conn))
        {
            workers.push(w);
        }
    }
    // Closing the listening socket also resets connections still waiting in its backlog. The
    // flag goes up only after the socket is gone, which `die` relies on.
    drop(listener);
    *lock(&shared.listener_closed) = true;
    shared.listener_closed_cv.notify_all();
    shared.close_all();
    for w in workers {
        let _ = w.join();
    }
}

/// A parsed request head.
struct Request {
    method: String,
    target: String,
    range: Option<String>,
    content_length: u64,
    chunked: bool,
}

fn serve(shared: &Shared, client: TcpStream) {
    let _tracked = shared.track(&client);
    let _ = client.set_read_timeout(Some(IO_TIMEOUT));
    let _ = client.set_write_timeout(Some(IO_TIMEOUT));
    let _ = client.set_nodelay(true);
    // Peeked, not read: closing a socket with unread input is how std can send a reset.
    let Some(head) = peek_head(&client) else {
        return;
    };
    let mut client = client;
    let Some(req) = parse_request(&head) else {
        if consume(&mut client, head.len(), 0).is_ok() {
            let _ = answer(&mut client, 400, &[], b"", false);
        }
        return;
    };
    let fault = shared.take_fault(&req.method, &req.target);
    let id = shared.record(&req, fault.as_ref());
    let head_only = req.method.eq_ignore_ascii_case("HEAD");
    if matches!(fault, Some(Fault::Reset)) {
        return;
    }
    if req.chunked {
        // Clients of a registry pull never send chunked bodies; not worth relaying.
        if consume(&mut client, head.len(), 0).is_ok() {
            shared.set_status(id, 501);
            let _ = answer(&mut client, 501, &[], b"", head_only);
        }
        return;
    }
    if consume(&mut client, head.len(), 0).is_err() {
        return;
    }
    match fault {
        Some(Fault::Status { code, retry_after }) => {
            if consume(&mut client, 0, req.content_length).is_err() {
                return;
            }
            let mut extra = vec![("Content-Type", "application/json".to_owned())];
            if let Some(s) = retry_after {
                extra.push(("Retry-After", s.to_string()));
            }
            let body = br#"{"errors":[{"code":"UNAVAILABLE","message":"injected"}]}"#;
            shared.set_status(id, code);
            let _ = answer(&mut client, code, &extra, body, head_only);
        }
        Some(Fault::Redirect(to)) => {
            if consume(&mut client, 0, req.content_length).is_err() {
                return;
            }
            shared.set_status(id, 307);
            let location = format!("http://{to}{}", req.target);
            let _ = answer(&mut client, 307, &[("Location", location)], b"", head_only);
        }
        Some(Fault::CutAfter(n)) => {
            if forward(shared, id, &mut client, &head, &req, Some(n)).is_ok() {
                let _ = client.shutdown(Shutdown::Write);
            }
        }
        Some(Fault::StallAfter(n)) => {
            if forward(shared, id, &mut client, &head, &req, Some(n)).is_ok() {
                let until = Instant::now() + Duration::from_secs(120);
                while !shared.stopping.load(SeqCst) && Instant::now() < until {
                    thread::sleep(Duration::from_millis(50));
                }
                let _ = client.shutdown(Shutdown::Write);
            }
        }
        Some(Fault::DieAfter(n)) => {
            let _ = forward(shared, id, &mut client, &head, &req, Some(n));
            // The client sees the end of the body only once new connections are refused.
            shared.die();
        }
        None | Some(Fault::Reset) => {
            if forward(shared, id, &mut client, &head, &req, None).is_ok() {
                let _ = client.shutdown(Shutdown::Write);
            }
        }
    }
}

/// The request head, up to and including the blank line, without consuming it. `None` on
/// EOF, timeout, or a head over `HEAD_CAP`.
fn peek_head(client: &TcpStream) -> Option<Vec<u8>> {
    let deadline = Instant::now() + IO_TIMEOUT;
    let mut buf = vec![0; HEAD_CAP];
    loop {
        let n = client.peek(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        // Not HTTP (a TLS ClientHello from a client probing for HTTPS first): drop it now,
        // as a plain-HTTP registry would, rather than wait for a head that never comes.
        if !buf[0].is_ascii_uppercase() {
            return None;
        }
        if let Some(end) = find(&buf[..n], b"\r\n\r\n") {
            buf.truncate(end + 4);
            return Some(buf);
        }
        if n == HEAD_CAP || Instant::now() > deadline {
            return None;
        }
        // Peek returns at once while any input is pending: wait for the rest of the head.
        thread::sleep(Duration::from_millis(1));
    }
}

/// Reads and discards `head` bytes and then `body` bytes, so that closing afterwards is a
/// clean FIN and not a reset that could destroy the answer in flight.
fn consume(client: &mut TcpStream, head: usize, body: u64) -> io::Result<()> {
    let want = head as u64 + body;
    let got = io::copy(&mut client.take(want), &mut io::sink())?;
    if got == want {
        Ok(())
    } else {
        Err(io::ErrorKind::UnexpectedEof.into())
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Lines of a head without its blank line, CRLF-separated.
fn lines(head: &[u8]) -> impl Iterator<Item = &[u8]> {
    let head = head.strip_suffix(b"\r\n\r\n").unwrap_or(head);
    head.split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
}

/// The value of the first header called `name`, trimmed.
fn header(head: &[u8], name: &str) -> Option<String> {
    lines(head).skip(1).find_map(|line| {
        let colon = line.iter().position(|&b| b == b':')?;
        let (n, v) = line.split_at(colon);
        n.trim_ascii()
            .eq_ignore_ascii_case(name.as_bytes())
            .then(|| String::from_utf8_lossy(&v[1..]).trim().to_owned())
    })
}

fn parse_request(head: &[u8]) -> Option<Request> {
    let first = std::str::from_utf8(lines(head).next()?).ok()?;
    let mut parts = first.split(' ');
    let (method, target, version) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || method.is_empty() || !version.starts_with("HTTP/1.") {
        return None;
    }
    let content_length = match header(head, "content-length") {
        Some(v) => v.parse().ok()?,
        None => 0,
    };
    Some(Request {
        method: method.to_owned(),
        target: target.to_owned(),
        range: header(head, "range"),
        content_length,
        chunked: header(head, "transfer-encoding").is_some(),
    })
}

/// `head` with its connection-scoped headers replaced by `Connection: close`, byte for byte
/// otherwise.
fn close_head(head: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(head.len() + 19);
    for (i, line) in lines(head).enumerate() {
        if i > 0 {
            let name = line
                .split(|&b| b == b':')
                .next()
                .unwrap_or(line)
                .trim_ascii();
            if ["connection", "keep-alive", "proxy-connection"]
                .iter()
                .any(|h| name.eq_ignore_ascii_case(h.as_bytes()))
            {
                continue;
            }
        }
        out.extend_from_slice(line);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"Connection: close\r\n\r\n");
    out
}

/// Sends a complete response of our own and ends the connection's output.
fn answer(
    client: &mut TcpStream,
    code: u16,
    extra: &[(&str, String)],
    body: &[u8],
    head_only: bool,
) -> io::Result<()> {
    let reason = match code {
        307 => "Temporary Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Injected",
    };
    let mut out = format!("HTTP/1.1 {code} {reason}\r\n");
    for (name, value) in extra {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    let mut out = out.into_bytes();
    if !head_only {
        out.extend_from_slice(body);
    }
    client.write_all(&out)?;
    client.flush()?;
    client.shutdown(Shutdown::Write)
}

/// Reads a response head from `from`, starting with the bytes already in `buf`. Returns the
/// head (with its blank line) and whatever body bytes came with it.
fn read_head(from: &mut TcpStream, mut buf: Vec<u8>) -> io::Result<(Vec<u8>, Vec<u8>)> {
    let mut chunk = [0; 8192];
    loop {
        if let Some(end) = find(&buf, b"\r\n\r\n") {
            let rest = buf.split_off(end + 4);
            return Ok((buf, rest));
        }
        if buf.len() >= HEAD_CAP {
            return Err(io::Error::other("response head too long"));
        }
        let n = from.read(&mut chunk)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn status_of(head: &[u8]) -> Option<u16> {
    let first = lines(head).next()?;
    let first = std::str::from_utf8(first).ok()?;
    let mut parts = first.split(' ');
    if !parts.next()?.starts_with("HTTP/1.") {
        return None;
    }
    parts.next()?.parse().ok()
}

/// Relays the request upstream and the response back, the body whole or only its first
/// `limit` bytes (counted after the head, whatever the framing).
fn forward(
    shared: &Shared,
    id: u64,
    client: &mut TcpStream,
    head: &[u8],
    req: &Request,
    limit: Option<u64>,
) -> io::Result<()> {
    let mut upstream = match TcpStream::connect_timeout(&shared.upstream, CONNECT_TIMEOUT) {
        Ok(u) => u,
        Err(e) => {
            consume(client, 0, req.content_length)?;
            shared.set_status(id, 502);
            answer(client, 502, &[], b"", false)?;
            return Err(e);
        }
    };
    let _tracked = shared.track(&upstream);
    upstream.set_read_timeout(Some(IO_TIMEOUT))?;
    upstream.set_write_timeout(Some(IO_TIMEOUT))?;
    upstream.write_all(&close_head(head))?;
    let sent = io::copy(&mut client.take(req.content_length), &mut upstream)?;
    if sent != req.content_length {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    upstream.flush()?;

    let (mut resp, mut rest) = read_head(&mut upstream, Vec::new())?;
    let mut status = status_of(&resp);
    // Interim responses (100 Continue) go through as they are; the final one follows.
    while let Some(s @ 100..=199) = status
        && s != 101
    {
        client.write_all(&resp)?;
        (resp, rest) = read_head(&mut upstream, rest)?;
        status = status_of(&resp);
    }
    let Some(status) = status else {
        shared.set_status(id, 502);
        answer(client, 502, &[], b"", false)?;
        return Err(io::Error::other("malformed upstream response"));
    };
    shared.set_status(id, status);
    client.write_all(&close_head(&resp))?;
    match limit {
        None => {
            client.write_all(&rest)?;
            io::copy(&mut upstream, client)?;
        }
        Some(n) => {
            let first = rest.len().min(usize::try_from(n).unwrap_or(usize::MAX));
            client.write_all(&rest[..first])?;
            io::copy(&mut (&mut upstream).take(n - first as u64), client)?;
        }
    }
    client.flush()
}

// ---------------------------------------------------------------------------------------------
// Tests of the proxy itself, against a tiny origin server.

/// The origin's blob: 1 MiB, no period that divides 1000 or a power of two.
fn blob() -> Vec<u8> {
    (0..1u32 << 20).map(|i| (i % 251) as u8).collect()
}

/// An origin on loopback serving `blob()` on every path (`Range: bytes=N-` gives 206), chunked
/// under `/chunked`; counts the requests it got.
fn origin() -> (SocketAddr, Arc<AtomicU64>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let hits = Arc::new(AtomicU64::new(0));
    let h = Arc::clone(&hits);
    thread::spawn(move || {
        for conn in listener.incoming() {
            let h = Arc::clone(&h);
            thread::spawn(move || origin_serve(conn.unwrap(), &h));
        }
    });
    (addr, hits)
}

fn origin_serve(mut conn: TcpStream, hits: &AtomicU64) {
    let (head, _) = read_head(&mut conn, Vec::new()).unwrap();
    hits.fetch_add(1, SeqCst);
    let req = parse_request(&head).unwrap();
    assert_eq!(header(&head, "connection").as_deref(), Some("close"));
    let blob = blob();
    let from: usize = req
        .range
        .as_deref()
        .and_then(|r| r.strip_prefix("bytes=")?.strip_suffix('-')?.parse().ok())
        .unwrap_or(0);
    let mut out = Vec::new();
    if req.target.starts_with("/chunked") {
        out.extend_from_slice(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
        for c in blob.chunks(100_000) {
            out.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
            out.extend_from_slice(c);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"0\r\n\r\n");
    } else if req.range.is_some() {
        let head = format!(
            "HTTP/1.1 206 Partial Content\r\nContent-Length: {}\r\n\
             Content-Range: bytes {from}-{}/{}\r\nConnection: keep-alive\r\n\r\n",
            blob.len() - from,
            blob.len() - 1,
            blob.len()
        );
        out.extend_from_slice(head.as_bytes());
        out.extend_from_slice(&blob[from..]);
    } else {
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: keep-alive\r\n\r\n",
            blob.len()
        );
        out.extend_from_slice(head.as_bytes());
        if req.method != "HEAD" {
            out.extend_from_slice(&blob);
        }
    }
    // The client may have gone (cut faults): not the origin's problem.
    let _ = conn.write_all(&out);
}

struct Response {
    status: u16,
    head: Vec<u8>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<String> {
        header(&self.head, name)
    }
}

/// Sends one request over a raw socket and reads until EOF.
fn fetch(addr: SocketAddr, method: &str, path: &str, extra: &str) -> io::Result<Response> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(20)))?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: keep-alive\r\n{extra}\r\n"
    )?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let end = find(&raw, b"\r\n\r\n").ok_or(io::ErrorKind::UnexpectedEof)?;
    let body = raw.split_off(end + 4);
    let status = status_of(&raw).ok_or(io::ErrorKind::InvalidData)?;
    Ok(Response {
        status,
        head: raw,
        body,
    })
}

fn rule(path_contains: &str, method: Option<&str>, times: usize, fault: Fault) -> Rule {
    Rule {
        path_contains: path_contains.to_owned(),
        method: method.map(str::to_owned),
        times,
        fault,
    }
}

#[test]
fn proxy_forwards_exact_body() {
    let (up, _) = origin();
    let proxy = FaultProxy::start(up);
    assert_eq!(
        proxy.host_port(),
        format!("127.0.0.1:{}", proxy.addr().port())
    );

    let r = fetch(proxy.addr(), "GET", "/v2/a/blobs/x?q=1", "").unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("connection").as_deref(), Some("close"));
    assert_eq!(r.header("content-length"), Some((1 << 20).to_string()));
    assert!(r.body == blob(), "body differs ({} bytes)", r.body.len());

    let r = fetch(
        proxy.addr(),
        "GET",
        "/v2/a/blobs/x",
        "Range: bytes=1000-\r\n",
    )
    .unwrap();
    assert_eq!(r.status, 206);
    assert!(r.body == blob()[1000..]);

    let r = fetch(proxy.addr(), "HEAD", "/v2/a/blobs/x", "").unwrap();
    assert_eq!(r.status, 200);
    assert!(r.body.is_empty());

    // Chunked framing is relayed verbatim: decode it here.
    let r = fetch(proxy.addr(), "GET", "/chunked", "").unwrap();
    assert_eq!(r.status, 200);
    let (mut body, mut rest) = (Vec::new(), &r.body[..]);
    loop {
        let eol = find(rest, b"\r\n").unwrap();
        let len = usize::from_str_radix(std::str::from_utf8(&rest[..eol]).unwrap(), 16).unwrap();
        body.extend_from_slice(&rest[eol + 2..eol + 2 + len]);
        rest = &rest[eol + 2 + len + 2..];
        if len == 0 {
            break;
        }
    }
    assert!(body == blob());
}

#[test]
fn proxy_status_with_retry_after() {
    let (up, hits) = origin();
    let proxy = FaultProxy::start(up);
    let fault = Fault::Status {
        code: 503,
        retry_after: Some(7),
    };
    proxy.add(rule("/manifests/", None, 1, fault));

    let r = fetch(proxy.addr(), "GET", "/v2/a/manifests/latest", "").unwrap();
    assert_eq!(r.status, 503);
    assert_eq!(r.header("retry-after").as_deref(), Some("7"));
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/json")
    );
    assert_eq!(
        r.body,
        br#"{"errors":[{"code":"UNAVAILABLE","message":"injected"}]}"#
    );
    assert_eq!(hits.load(SeqCst), 0, "the faulted request reached upstream");

    let r = fetch(proxy.addr(), "HEAD", "/v2/a/manifests/latest", "").unwrap();
    assert_eq!(r.status, 200, "the rule was for one request only");
    assert_eq!(hits.load(SeqCst), 1);
}

#[test]
fn proxy_reset_is_a_client_error() {
    let (up, hits) = origin();
    let proxy = FaultProxy::start(up);
    proxy.add(rule("/blobs/", Some("GET"), 1, Fault::Reset));

    let e = fetch(proxy.addr(), "GET", "/v2/a/blobs/x", "")
        .err()
        .expect("a reset, not a response");
    assert_eq!(e.kind(), io::ErrorKind::ConnectionReset, "{e}");
    assert_eq!(hits.load(SeqCst), 0);
    let log = proxy.log();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].status, 0);
    assert_eq!(log[0].fault.as_deref(), Some("Reset"));
}

#[test]
fn proxy_cut_after_delivers_a_prefix() {
    let (up, _) = origin();
    let proxy = FaultProxy::start(up);
    proxy.add(rule("/blobs/", None, 1, Fault::CutAfter(1000)));

    let r = fetch(proxy.addr(), "GET", "/v2/a/blobs/x", "").unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-length"), Some((1 << 20).to_string()));
    assert!(r.body == blob()[..1000], "got {} bytes", r.body.len());

    let r = fetch(
        proxy.addr(),
        "GET",
        "/v2/a/blobs/x",
        "Range: bytes=1000-\r\n",
    )
    .unwrap();
    assert_eq!(r.status, 206, "a resumed download goes through");
    assert!(r.body == blob()[1000..]);
    let log = proxy.log();
    assert_eq!(log[0].fault.as_deref(), Some("CutAfter(1000)"));
    assert_eq!(log[1].range.as_deref(), Some("bytes=1000-"));
}

#[test]
fn proxy_redirect_keeps_path_and_query() {
    let (up, hits) = origin();
    let proxy = FaultProxy::start(up);
    proxy.add(rule("/blobs/", None, 1, Fault::Redirect(up)));

    let r = fetch(proxy.addr(), "GET", "/v2/a/blobs/sha256:ab?x=1&y=2", "").unwrap();
    assert_eq!(r.status, 307);
    assert_eq!(
        r.header("location"),
        Some(format!("http://{up}/v2/a/blobs/sha256:ab?x=1&y=2"))
    );
    assert!(r.body.is_empty());
    assert_eq!(hits.load(SeqCst), 0);
}

#[test]
fn proxy_die_after_refuses_later_connections() {
    let (up, _) = origin();
    let proxy = FaultProxy::start(up);
    proxy.add(rule("/blobs/", None, 1, Fault::DieAfter(10)));

    let r = fetch(proxy.addr(), "GET", "/v2/a/blobs/x", "").unwrap();
    assert_eq!(r.status, 200);
    assert!(r.body == blob()[..10]);
    let e = TcpStream::connect(proxy.addr()).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused, "{e}");
    assert_eq!(proxy.log().len(), 1);
}

#[test]
fn proxy_log_and_count() {
    let (up, _) = origin();
    let proxy = FaultProxy::start(up);
    let fault = Fault::Status {
        code: 429,
        retry_after: None,
    };
    proxy.add(rule("/manifests/", Some("HEAD"), 2, fault));
    proxy.add(rule("/manifests/", None, 1, Fault::Redirect(up)));

    let statuses: Vec<u16> = [
        ("GET", "/v2/a/manifests/1"),
        ("HEAD", "/v2/a/manifests/2"),
        ("HEAD", "/v2/a/manifests/3"),
        ("HEAD", "/v2/a/manifests/4"),
        ("GET", "/v2/a/blobs/5"),
    ]
    .iter()
    .map(|(m, p)| fetch(proxy.addr(), m, p, "").unwrap().status)
    .collect();
    // The HEAD-only rule doesn't match the GET, so the next rule does; once it is spent,
    // requests go through.
    assert_eq!(statuses, [307, 429, 429, 200, 200]);

    let log = proxy.log();
    let seen: Vec<(&str, &str, u16)> = log
        .iter()
        .map(|l| (l.method.as_str(), l.path.as_str(), l.status))
        .collect();
    assert_eq!(
        seen,
        [
            ("GET", "/v2/a/manifests/1", 307),
            ("HEAD", "/v2/a/manifests/2", 429),
            ("HEAD", "/v2/a/manifests/3", 429),
            ("HEAD", "/v2/a/manifests/4", 200),
            ("GET", "/v2/a/blobs/5", 200),
        ]
    );
    assert!(log[3].fault.is_none() && log[3].range.is_none());
    assert_eq!(proxy.count("HEAD", "/manifests/"), 3);
    assert_eq!(proxy.count("GET", "/v2/"), 2);
    assert_eq!(proxy.count("PUT", "/v2/"), 0);

    proxy.clear_log();
    assert!(proxy.log().is_empty());
    fetch(proxy.addr(), "GET", "/v2/", "").unwrap();
    assert_eq!(proxy.count("GET", "/v2/"), 1);
}

#[test]
fn proxy_drop_closes_the_listener() {
    let (up, _) = origin();
    let proxy = FaultProxy::start(up);
    let addr = proxy.addr();
    fetch(addr, "GET", "/v2/", "").unwrap();
    drop(proxy);
    let e = TcpStream::connect(addr).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused, "{e}");
}
