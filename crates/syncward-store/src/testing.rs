//! A throwaway PostgreSQL server for tests: a fresh cluster in a temporary
//! folder, listening only on a Unix socket there (no port is taken, so
//! tests run side by side), stopped and removed when dropped. With
//! [`TestServer::start_with_tls`] it also listens on a free loopback port
//! with TLS, its certificate signed by a CA made for the test (openssl). Uses the
//! machine's PostgreSQL programs (`initdb`, `postgres`, `pg_ctl`: on PATH or
//! under /usr/lib/postgresql/*/bin; `scripts/setup.sh` installs them). As
//! root, the server runs as the `postgres` user, since PostgreSQL refuses
//! root.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct TestServer {
    dir: tempfile::TempDir,
    bin: PathBuf,
    as_postgres: bool,
    server: Child,
    /// `postgresql://postgres@/postgres?host=<socket folder>&port=<port>`.
    pub url: String,
    /// With TLS: `postgresql://postgres@localhost:<port>/postgres`, and the
    /// PEM file of the CA that signed the server's certificate.
    pub tls: Option<(String, PathBuf)>,
    port: u16,
}

/// Without TLS the port only names the socket file in the private folder.
const PORT: u16 = 5433;

impl TestServer {
    pub fn start() -> Result<TestServer, String> {
        Self::start_inner(false)
    }

    pub fn start_with_tls() -> Result<TestServer, String> {
        Self::start_inner(true)
    }

    fn start_inner(with_tls: bool) -> Result<TestServer, String> {
        let bin = bin_dir().ok_or(
            "PostgreSQL's programs (initdb, postgres) are not installed: run scripts/setup.sh",
        )?;
        let dir = tempfile::Builder::new()
            .prefix("syncward-pg")
            .tempdir()
            .map_err(|e| e.to_string())?;
        let as_postgres = is_root();
        let mut port = PORT;
        let mut tls_args: Vec<String> = Vec::new();
        let mut tls = None;
        if with_tls {
            let ca = make_certificates(dir.path())?;
            port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .map_err(|e| e.to_string())?
                .port();
            let file = |name: &str| dir.path().join(name).display().to_string();
            tls_args = [
                "listen_addresses=127.0.0.1".to_owned(),
                "ssl=on".to_owned(),
                format!("ssl_cert_file={}", file("server.crt")),
                format!("ssl_key_file={}", file("server.key")),
            ]
            .into_iter()
            .flat_map(|setting| ["-c".to_owned(), setting])
            .collect();
            tls = Some((
                format!("postgresql://postgres@localhost:{port}/postgres"),
                ca,
            ));
        } else {
            tls_args.extend(["-c".to_owned(), "listen_addresses=".to_owned()]);
        }
        if as_postgres {
            run(Command::new("chown")
                .arg("-R")
                .arg("postgres")
                .arg(dir.path()))?;
        }
        let data = dir.path().join("data");
        run(command(as_postgres, &bin.join("initdb"))
            .arg("-D")
            .arg(&data)
            .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]))?;
        let log =
            std::fs::File::create(dir.path().join("server.log")).map_err(|e| e.to_string())?;
        let server = command(as_postgres, &bin.join("postgres"))
            .arg("-D")
            .arg(&data)
            .arg("-k")
            .arg(dir.path())
            .args(["-c", "fsync=off", "-p", &port.to_string()])
            .args(&tls_args)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot start postgres: {e}"))?;
        let url = format!(
            "postgresql://postgres@/postgres?host={}&port={port}",
            dir.path().display()
        );
        let mut me = TestServer {
            dir,
            bin,
            as_postgres,
            server,
            url,
            tls,
            port,
        };
        me.wait_ready()?;
        Ok(me)
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let socket = self.dir.path().join(format!(".s.PGSQL.{}", self.port));
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.server.try_wait() {
                let log =
                    std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default();
                return Err(format!("postgres stopped ({status}): {log}"));
            }
            if socket.exists() && crate::PgStore::connect(&self.url).is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err("postgres did not start within 30 s".into())
    }

    /// A database of its own on this server (a test's private world).
    pub fn database(&self, name: &str) -> Result<String, String> {
        let admin = crate::PgStore::connect(&self.url).map_err(|e| e.to_string())?;
        admin.create_database(name).map_err(|e| e.to_string())?;
        Ok(self.url.replacen("/postgres?", &format!("/{name}?"), 1))
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = command(self.as_postgres, &self.bin.join("pg_ctl"))
            .arg("stop")
            .arg("-D")
            .arg(self.dir.path().join("data"))
            .args(["-m", "immediate"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

fn command(as_postgres: bool, program: &Path) -> Command {
    if as_postgres {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("{cmd:?}: {}", String::from_utf8_lossy(&out.stderr)))
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn bin_dir() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .find(|p| p.join("initdb").is_file() && p.join("postgres").is_file())
    });
    on_path.or_else(|| {
        let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .filter(|b| b.join("initdb").is_file())
            .collect();
        found.sort();
        found.pop()
    })
}

/// A CA and a server certificate it signs (for `localhost` and 127.0.0.1),
/// in `dir`; returns the CA's PEM file.
fn make_certificates(dir: &Path) -> Result<PathBuf, String> {
    let at = |name: &str| dir.join(name);
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    run(Command::new("openssl")
        .args(["req", "-x509"])
        .args(ec)
        .arg("-keyout")
        .arg(at("ca.key"))
        .arg("-out")
        .arg(at("ca.pem"))
        .args(["-days", "2", "-subj", "/CN=syncward test CA"]))?;
    run(Command::new("openssl")
        .arg("req")
        .args(ec)
        .arg("-keyout")
        .arg(at("server.key"))
        .arg("-out")
        .arg(at("server.csr"))
        .args(["-subj", "/CN=localhost"]))?;
    std::fs::write(
        at("server.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .map_err(|e| e.to_string())?;
    run(Command::new("openssl")
        .args(["x509", "-req", "-days", "2", "-CAcreateserial"])
        .arg("-in")
        .arg(at("server.csr"))
        .arg("-CA")
        .arg(at("ca.pem"))
        .arg("-CAkey")
        .arg(at("ca.key"))
        .arg("-out")
        .arg(at("server.crt"))
        .arg("-extfile")
        .arg(at("server.ext")))?;
    // PostgreSQL insists that only its user can read its key.
    run(Command::new("chmod").arg("600").arg(at("server.key")))?;
    Ok(at("ca.pem"))
}
