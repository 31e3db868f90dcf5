//! A throwaway PostgreSQL server with TLS, for tests: `initdb` into a temporary directory,
//! `ssl = on` with a certificate for `localhost` only, issued by a test CA, and a
//! `pg_hba.conf` that lets TCP clients in only over TLS (`hostssl`; no `host` line) and the
//! test's administration over the Unix socket. A second kind of server offers only TLS 1.1,
//! which rustls does not speak, and lets plain clients in. One server of each kind is shared
//! by the tests running at the same time and stopped when the last of them ends. Missing
//! server binaries fail the tests.
//!
//! Shared by the store's tests and the command line's (`#[path]`): each uses part of it.
#![allow(dead_code)]

use std::fs;
use std::net::TcpListener;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};

/// A PostgreSQL server of the test's own, stopped and deleted on drop.
pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) port: u16,
    pub(crate) socket_dir: PathBuf,
    /// The CA that issued the server's certificate (PEM).
    pub(crate) ca: PathBuf,
    /// A CA that did not (PEM).
    pub(crate) other_ca: PathBuf,
    pub(crate) dir: tempfile::TempDir,
}

#[derive(Clone, Copy)]
pub(crate) enum Kind {
    /// TLS 1.2 and 1.3; TCP clients only over TLS (`hostssl`).
    TlsOnly,
    /// Only TLS 1.1 (no handshake with rustls); plain TCP clients welcome (`host`).
    OldTls,
}

/// The running server of a kind, shared by the tests that run at the same time.
pub(crate) fn server_of(kind: Kind) -> Arc<Server> {
    static SHARED: Mutex<[Weak<Server>; 2]> = Mutex::new([Weak::new(), Weak::new()]);
    let mut shared = SHARED.lock().unwrap_or_else(PoisonError::into_inner);
    let slot = &mut shared[kind as usize];
    if let Some(server) = slot.upgrade() {
        return server;
    }
    let server = Arc::new(Server::start(kind));
    *slot = Arc::downgrade(&server);
    server
}

pub(crate) fn server() -> Arc<Server> {
    server_of(Kind::TlsOnly)
}

/// The directory of `initdb` and `postgres`: `CUSTOMS_TEST_PG_BINDIR`, else the newest
/// `/usr/lib/postgresql/*/bin` (Debian's layout). Panics when there is none.
fn bindir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CUSTOMS_TEST_PG_BINDIR") {
        return PathBuf::from(dir);
    }
    let mut found: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let major = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            (bin.join("initdb").is_file() && bin.join("postgres").is_file()).then_some((major, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin).unwrap_or_else(|| {
        panic!(
            "these tests need PostgreSQL's server binaries (initdb, postgres): none under \
             /usr/lib/postgresql/*/bin (Debian package `postgresql`); set \
             CUSTOMS_TEST_PG_BINDIR to their directory"
        )
    })
}

/// initdb and postgres refuse to run as root: as root, they run as the `postgres` user.
fn run_as() -> Option<(u32, u32)> {
    let me = fs::metadata("/proc/self").expect("/proc/self").uid();
    if me != 0 {
        return None;
    }
    let passwd = fs::read_to_string("/etc/passwd").expect("/etc/passwd");
    let ids = passwd.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        (fields.first() == Some(&"postgres")).then(|| {
            (
                fields[2].parse().expect("uid"),
                fields[3].parse().expect("gid"),
            )
        })
    });
    Some(ids.unwrap_or_else(|| {
        panic!("running as root, and there is no `postgres` user to run initdb and postgres as")
    }))
}

fn own(path: &Path, user: Option<(u32, u32)>) {
    if let Some((uid, gid)) = user {
        std::os::unix::fs::chown(path, Some(uid), Some(gid)).unwrap();
    }
}

fn command(program: PathBuf, user: Option<(u32, u32)>, cwd: &Path) -> Command {
    let mut command = Command::new(program);
    command.current_dir(cwd);
    if let Some((uid, gid)) = user {
        command.uid(uid).gid(gid);
    }
    command
}

/// A self-signed CA.
fn ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap()
}

impl Server {
    fn start(kind: Kind) -> Self {
        let bin = bindir();
        let user = run_as();
        let dir = tempfile::Builder::new()
            .prefix("customs-pg-tls")
            .tempdir()
            .unwrap();
        own(dir.path(), user);
        let data = dir.path().join("data");
        let out = command(bin.join("initdb"), user, dir.path())
            .args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-locale"])
            .args(["--no-sync", "--no-instructions", "-D"])
            .arg(&data)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}/initdb: {e}", bin.display()));
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );

        // The server's certificate names `localhost` only (not 127.0.0.1).
        let ca = ca("customs test CA");
        let mut leaf = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        leaf.distinguished_name
            .push(DnType::CommonName, "localhost");
        leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let key = KeyPair::generate().unwrap();
        let cert = leaf.signed_by(&key, &ca).unwrap();
        for (name, pem, mode) in [
            ("server.crt", cert.pem(), 0o644),
            ("server.key", key.serialize_pem(), 0o600),
        ] {
            let path = data.join(name);
            fs::write(&path, pem).unwrap();
            fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
            own(&path, user);
        }
        let ca_path = dir.path().join("ca.pem");
        fs::write(&ca_path, ca.pem()).unwrap();
        let other_ca = dir.path().join("other-ca.pem");
        fs::write(&other_ca, self::ca("another CA").pem()).unwrap();
        let (hba, tls_versions) = match kind {
            Kind::TlsOnly => ("hostssl", ["TLSv1.2", ""]),
            Kind::OldTls => ("host", ["TLSv1.1", "TLSv1.1"]),
        };
        fs::write(
            data.join("pg_hba.conf"),
            format!(
                "local all all trust\n\
                 {hba} all all 127.0.0.1/32 trust\n\
                 {hba} all all ::1/128 trust\n"
            ),
        )
        .unwrap();

        let socket_dir = dir.path().join("sock");
        fs::create_dir(&socket_dir).unwrap();
        own(&socket_dir, user);
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = fs::File::create(dir.path().join("server.log")).unwrap();
        let child = command(bin.join("postgres"), user, dir.path())
            .arg("-D")
            .arg(&data)
            .args(["-c", "listen_addresses=127.0.0.1", "-c"])
            .arg(format!("port={port}"))
            .arg("-c")
            .arg(format!("unix_socket_directories={}", socket_dir.display()))
            .args(["-c", "ssl=on", "-c", "ssl_cert_file=server.crt"])
            .args(["-c", "ssl_key_file=server.key", "-c", "fsync=off", "-c"])
            .arg(format!("ssl_min_protocol_version={}", tls_versions[0]))
            .arg("-c")
            .arg(format!("ssl_max_protocol_version={}", tls_versions[1]))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}/postgres: {e}", bin.display()));
        let mut server = Self {
            child,
            port,
            socket_dir,
            ca: ca_path,
            other_ca,
            dir,
        };
        server.wait_until_ready();
        server
    }

    fn wait_until_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("postgres exited ({status}):\n{}", self.log());
            }
            match self.admin() {
                Ok(_) => return,
                Err(e) if Instant::now() > deadline => {
                    panic!(
                        "postgres did not accept connections in 60 s: {e}\n{}",
                        self.log()
                    )
                }
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }

    pub(crate) fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// A connection over the Unix socket, without TLS (`local` in pg_hba.conf).
    pub(crate) fn admin(&self) -> Result<postgres::Client, postgres::Error> {
        let mut config = postgres::Config::new();
        config
            .host_path(&self.socket_dir)
            .port(self.port)
            .user("postgres")
            .dbname("postgres");
        config.connect(postgres::NoTls)
    }

    /// A new database `name`, and the URL of it through `host`.
    pub(crate) fn database(&self, name: &str, host: &str) -> String {
        self.admin()
            .unwrap()
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
        format!("postgres://postgres@{host}:{}/{name}", self.port)
    }

    /// For each client connection to database `name`: whether it is over TLS.
    pub(crate) fn ssl_of(&self, name: &str) -> Vec<bool> {
        self.admin()
            .unwrap()
            .query(
                "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
                 WHERE a.datname = $1 AND a.backend_type = 'client backend'",
                &[&name],
            )
            .unwrap()
            .iter()
            .map(|row| row.get(0))
            .collect()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // A fast shutdown (SIGINT) lets the server remove what it created; SIGKILL if it hangs.
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
