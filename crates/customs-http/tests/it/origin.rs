//! A scripted HTTP/1.1 origin on loopback, plain or TLS: each connection takes the next
//! [`Reply`] of the script (the last one repeats), answers one request and closes. It records
//! every request. std and rustls only, a thread per connection.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

const HEAD_CAP: usize = 64 * 1024;
const IO_TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Clone, Debug)]
pub(crate) enum Reply {
    /// A complete answer.
    Answer {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// Close with the request unread, which makes the kernel send a TCP reset.
    Reset,
    /// Announce `len` bytes of body, send `sent` of them, close.
    Cut { len: usize, sent: usize },
    /// Read the request and never answer (until the client gives up).
    Silent,
}

impl Reply {
    pub(crate) fn ok(body: &str) -> Self {
        Self::status(200, body)
    }

    pub(crate) fn status(status: u16, body: &str) -> Self {
        Self::Answer {
            status,
            headers: Vec::new(),
            body: body.as_bytes().to_vec(),
        }
    }

    pub(crate) fn with_header(self, name: &str, value: &str) -> Self {
        match self {
            Self::Answer {
                status,
                mut headers,
                body,
            } => {
                headers.push((name.to_owned(), value.to_owned()));
                Self::Answer {
                    status,
                    headers,
                    body,
                }
            }
            other => other,
        }
    }
}

/// One request as the origin read it.
#[derive(Clone, Debug)]
pub(crate) struct Seen {
    pub(crate) method: String,
    pub(crate) target: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Seen {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

pub(crate) struct Origin {
    addr: SocketAddr,
    tls: bool,
    shared: Arc<Shared>,
}

struct Shared {
    script: Mutex<VecDeque<Reply>>,
    seen: Mutex<Vec<Seen>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The TLS registry's certificate and key (`../shared/tools/registry-up.sh` makes them, with
/// the CA that signed them): `(ca.crt, server.crt, server.key)`. Panics when missing.
pub(crate) fn tls_files() -> (PathBuf, PathBuf, PathBuf) {
    let corpus = std::env::var_os("CUSTOMS_CORPUS")
        .map_or_else(|| PathBuf::from("/var/tmp/customs-corpus"), PathBuf::from);
    let dir = corpus.join("registry/tls");
    let files = (
        dir.join("ca.crt"),
        dir.join("server.crt"),
        dir.join("server.key"),
    );
    for f in [&files.0, &files.1, &files.2] {
        assert!(
            f.is_file(),
            "{} missing: start the registries with ../shared/tools/registry-up.sh all \
             (scripts/test.sh does), or set CUSTOMS_CORPUS",
            f.display()
        );
    }
    files
}

/// rustls needs one process-wide crypto provider when more than one is in the graph.
pub(crate) fn crypto() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

impl Origin {
    pub(crate) fn start(script: Vec<Reply>) -> Origin {
        Self::spawn(script, None)
    }

    /// Serves TLS with the TLS registry's certificate (for `127.0.0.1` and `localhost`).
    pub(crate) fn start_tls(script: Vec<Reply>) -> Origin {
        crypto();
        let (_, cert, key) = tls_files();
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let certs = CertificateDer::pem_file_iter(&cert)
            .expect("read the server certificate")
            .collect::<Result<Vec<_>, _>>()
            .expect("parse the server certificate");
        let key = PrivateKeyDer::from_pem_file(&key).expect("read the server key");
        let config = rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .expect("a TLS server configuration");
        Self::spawn(script, Some(Arc::new(config)))
    }

    fn spawn(script: Vec<Reply>, tls: Option<Arc<rustls::ServerConfig>>) -> Origin {
        assert!(!script.is_empty(), "a script needs at least one reply");
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the origin");
        let addr = listener.local_addr().expect("origin address");
        let shared = Arc::new(Shared {
            script: Mutex::new(script.into()),
            seen: Mutex::new(Vec::new()),
        });
        let s = Arc::clone(&shared);
        let is_tls = tls.is_some();
        thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let s = Arc::clone(&s);
                let tls = tls.clone();
                thread::spawn(move || {
                    let _ = serve(&s, conn, tls);
                });
            }
        });
        Origin {
            addr,
            tls: is_tls,
            shared,
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}{path}", self.addr)
    }

    pub(crate) fn seen(&self) -> Vec<Seen> {
        lock(&self.shared.seen).clone()
    }
}

impl Shared {
    fn next(&self) -> Reply {
        let mut script = lock(&self.script);
        if script.len() > 1 {
            script.pop_front().unwrap_or(Reply::Reset)
        } else {
            script.front().cloned().unwrap_or(Reply::Reset)
        }
    }
}

fn serve(
    shared: &Shared,
    tcp: TcpStream,
    tls: Option<Arc<rustls::ServerConfig>>,
) -> io::Result<()> {
    tcp.set_read_timeout(Some(IO_TIMEOUT))?;
    tcp.set_write_timeout(Some(IO_TIMEOUT))?;
    let reply = shared.next();
    if matches!(reply, Reply::Reset) && tls.is_none() {
        // Wait for the request so that it is unread when the socket closes: that is a reset.
        let deadline = Instant::now() + IO_TIMEOUT;
        let mut b = [0; 1];
        while tcp.peek(&mut b)? == 0 && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(1));
        }
        shared
            .seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Seen {
                method: "?".into(),
                target: "(reset)".into(),
                headers: Vec::new(),
                body: Vec::new(),
            });
        return Ok(());
    }
    if tls.is_none() {
        let mut first = [0; 1];
        if tcp.peek(&mut first)? == 1 && !first[0].is_ascii_uppercase() {
            // A TLS hello to a plain server: answer as Go's HTTP server does.
            let mut tcp = tcp;
            tcp.write_all(b"HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTPS request.\n")?;
            return Ok(());
        }
    }
    let mut stream: Box<dyn ReadWrite> = match tls {
        Some(cfg) => {
            let conn = rustls::ServerConnection::new(cfg).map_err(io::Error::other)?;
            Box::new(rustls::StreamOwned::new(conn, tcp.try_clone()?))
        }
        None => Box::new(tcp.try_clone()?),
    };
    let seen = read_request(&mut *stream)?;
    lock(&shared.seen).push(seen);
    match reply {
        Reply::Answer {
            status,
            headers,
            body,
        } => {
            let mut head = format!("HTTP/1.1 {status} Scripted\r\n");
            for (n, v) in &headers {
                head.push_str(&format!("{n}: {v}\r\n"));
            }
            head.push_str(&format!(
                "Content-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            ));
            stream.write_all(head.as_bytes())?;
            stream.write_all(&body)?;
            stream.flush()?;
        }
        Reply::Cut { len, sent } => {
            let head =
                format!("HTTP/1.1 200 OK\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n");
            stream.write_all(head.as_bytes())?;
            stream.write_all(&vec![b'x'; sent])?;
            stream.flush()?;
        }
        Reply::Silent => {
            // Hold the connection until the client hangs up.
            let mut sink = [0; 1024];
            while stream.read(&mut sink).is_ok_and(|n| n > 0) {}
        }
        Reply::Reset => {}
    }
    drop(stream);
    let _ = tcp.shutdown(Shutdown::Write);
    Ok(())
}

trait ReadWrite: Read + Write + Send {}
impl<T: Read + Write + Send> ReadWrite for T {}

fn read_request(stream: &mut dyn ReadWrite) -> io::Result<Seen> {
    let mut buf = Vec::new();
    let mut chunk = [0; 4096];
    let end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p;
        }
        if buf.len() > HEAD_CAP {
            return Err(io::Error::other("request head too long"));
        }
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let mut body = buf.split_off(end + 4);
    let head = String::from_utf8_lossy(&buf).into_owned();
    let mut lines = head.split("\r\n");
    let first = lines.next().unwrap_or_default();
    let mut parts = first.split(' ');
    let method = parts.next().unwrap_or_default().to_owned();
    let target = parts.next().unwrap_or_default().to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    while body.len() < len {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Ok(Seen {
        method,
        target,
        headers,
        body,
    })
}
