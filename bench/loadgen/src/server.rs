//! Servers under test: Switchboard and its peers, started pinned to their own core, waited for,
//! measured through /proc and stopped (killed with the handle, never by name).

use std::ffi::OsStr;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{bail, Context, Result};
use tokio::process::{Child, Command};
use tokio::time::{sleep, Duration, Instant};

use crate::api::{OWNER_EMAIL, OWNER_PASSWORD};
use crate::procfs;

/// The core servers run on; the load generator keeps to core 0.
pub const SERVER_CORE: u32 = 1;
pub const LOADGEN_CORE: u32 = 0;

/// Where things are: the repository, the release binaries, the peers, the logs.
#[derive(Clone, Debug)]
pub struct Paths {
    pub root: PathBuf,
    pub release: PathBuf,
    pub logs: PathBuf,
    pub scratch: PathBuf,
}

impl Paths {
    pub fn new(root: PathBuf) -> Result<Paths> {
        let release = root.join("target/release");
        let results = root.join("bench/results");
        let logs = results.join("logs");
        let scratch = results.join("scratch");
        std::fs::create_dir_all(&logs)?;
        std::fs::create_dir_all(&scratch)?;
        Ok(Paths {
            root,
            release,
            logs,
            scratch,
        })
    }

    pub fn switchboard(&self) -> PathBuf {
        self.release.join("switchboard")
    }

    /// A fresh, empty directory under bench/results/scratch.
    pub fn fresh_dir(&self, name: &str) -> Result<PathBuf> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = self
            .scratch
            .join(format!("{name}-{}-{n}", std::process::id()));
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        std::fs::create_dir_all(&dir)?;
        Ok(dir)
    }
}

/// `program` run on `core` through taskset when the machine has it.
pub fn pinned(core: u32, program: impl AsRef<OsStr>) -> Command {
    if which("taskset").is_some() {
        let mut command = Command::new("taskset");
        command.arg("-c").arg(core.to_string()).arg(program);
        command
    } else {
        Command::new(program)
    }
}

/// The full path of `program` on PATH.
pub fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A running server process.
pub struct Server {
    child: Child,
    pub pid: u32,
    pub addr: SocketAddr,
    pub name: String,
    /// From spawn until it answered its readiness check.
    pub ready_after: Duration,
    log: PathBuf,
}

/// How a Switchboard server is started.
#[derive(Default)]
pub struct SwitchboardOptions {
    /// `--data-dir`; a fresh one when empty.
    pub data_dir: Option<PathBuf>,
    /// `--database-url` (PostgreSQL); the embedded SQLite when empty.
    pub database_url: Option<String>,
    /// More settings, as SWITCHBOARD__SECTION__KEY variables.
    pub env: Vec<(String, String)>,
    /// The address to listen on (a restarted server keeps its predecessor's); a free port when
    /// empty.
    pub addr: Option<SocketAddr>,
}

impl Server {
    /// Starts Switchboard on a free port and waits for /readyz.
    pub async fn switchboard(
        paths: &Paths,
        name: &str,
        options: SwitchboardOptions,
    ) -> Result<Server> {
        let addr = match options.addr {
            Some(addr) => addr,
            None => SocketAddr::from(([127, 0, 0, 1], free_port()?)),
        };
        let data_dir = match options.data_dir {
            Some(dir) => dir,
            None => paths.fresh_dir(name)?,
        };
        let mut command = pinned(SERVER_CORE, paths.switchboard());
        command
            .arg("serve")
            .arg("--addr")
            .arg(addr.to_string())
            .arg("--data-dir")
            .arg(&data_dir)
            .env("SWITCHBOARD_OWNER_EMAIL", OWNER_EMAIL)
            .env("SWITCHBOARD_OWNER_PASSWORD", OWNER_PASSWORD)
            // Every visitor session comes from one machine: lift the per-address widget limit.
            .env("SWITCHBOARD__WIDGET__REQUESTS_PER_MINUTE", "100000000")
            .env("SWITCHBOARD__LOG__LEVEL", "warn");
        command.envs(options.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        if let Some(url) = &options.database_url {
            command.arg("--database-url").arg(url);
        }
        Server::spawn(paths, name, command, addr, "/readyz").await
    }

    /// Starts a Node peer script (from bench/peers/node) with the port as its argument.
    pub async fn node(paths: &Paths, name: &str, script: &str) -> Result<Server> {
        let addr = SocketAddr::from(([127, 0, 0, 1], free_port()?));
        let dir = paths.root.join("bench/peers/node");
        let mut command = pinned(SERVER_CORE, which("node").context("node is not installed")?);
        command
            .arg(dir.join(script))
            .arg(addr.port().to_string())
            .current_dir(&dir);
        Server::spawn(paths, name, command, addr, "/healthz").await
    }

    /// Starts the Python `websockets` peer from the virtualenv in bench/.venv.
    pub async fn python(paths: &Paths, name: &str) -> Result<Server> {
        let addr = SocketAddr::from(([127, 0, 0, 1], free_port()?));
        let python = paths.root.join("bench/.venv/bin/python");
        let mut command = pinned(SERVER_CORE, python);
        command
            .arg(paths.root.join("bench/peers/python/ws_server.py"))
            .arg(addr.port().to_string());
        Server::spawn(paths, name, command, addr, "/healthz").await
    }

    async fn spawn(
        paths: &Paths,
        name: &str,
        mut command: Command,
        addr: SocketAddr,
        ready_path: &str,
    ) -> Result<Server> {
        let log = paths.logs.join(format!("{name}.log"));
        let out = std::fs::File::create(&log)?;
        command
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .kill_on_drop(true);
        let started = Instant::now();
        let child = command
            .spawn()
            .with_context(|| format!("starting {name}"))?;
        let pid = child.id().context("the server exited at once")?;
        let mut server = Server {
            child,
            pid,
            addr,
            name: name.to_owned(),
            ready_after: Duration::ZERO,
            log,
        };
        server.wait_ready(ready_path, started).await?;
        Ok(server)
    }

    /// Polls `GET path` until it answers 200 (at most 60 s).
    async fn wait_ready(&mut self, path: &str, started: Instant) -> Result<()> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()?;
        let url = format!("http://{}{path}", self.addr);
        while started.elapsed() < Duration::from_secs(60) {
            if let Ok(response) = http.get(&url).send().await {
                if response.status().is_success() {
                    self.ready_after = started.elapsed();
                    return Ok(());
                }
            }
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "{} exited with {status} before it was ready; log:\n{}",
                    self.name,
                    tail(&self.log)
                );
            }
            sleep(Duration::from_millis(2)).await;
        }
        bail!(
            "{} was not ready after 60 s; log:\n{}",
            self.name,
            tail(&self.log)
        )
    }

    pub fn rss_kib(&self) -> Result<u64> {
        procfs::rss_kib(self.pid)
    }

    pub fn cpu_secs(&self) -> Result<f64> {
        procfs::cpu_secs(self.pid)
    }

    /// Kills the server and waits for it to go.
    pub async fn stop(mut self) -> Result<()> {
        self.child.start_kill().ok();
        tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .context("the server did not exit")??;
        Ok(())
    }
}

/// The last lines of a log file, for error messages.
fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}
