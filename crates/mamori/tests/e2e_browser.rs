//! End to end in a real browser: the `mamori` binary on a fresh data directory, driven by
//! headless Chromium through chromedriver (WebDriver, via `fantoccini`).
//!
//! The walk: first login with the printed one-time password, the forced password change, the
//! MFA enrolment the admin role requires (answered with a computed TOTP code), the language
//! switch and its memory, creating a unit (after a rejected submission) and a person (with a
//! 和暦 date), the audit log, a forged form from another origin, and logout.
//!
//! Needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (Debian: `chromium`,
//! `chromium-driver`). Without them the test says so on stderr and passes, unless
//! `MAMORI_REQUIRE_E2E=1`, when it fails instead.

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use mamori_web::credentials::totp;
use serde_json::{json, Value};
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const SKIP_MESSAGE: &str = "skipped: e2e browser test (chromium/chromedriver not installed)";
/// The passphrase the administrator chooses instead of the one-time password.
const NEW_PASSWORD: &str = "correct horse battery staple 2026";
/// How long to wait for a page, an element or a process before failing.
const WAIT: Duration = Duration::from_secs(20);
/// How long the server may take to start (migrations, seeding, hashing the first password).
const STARTUP: Duration = Duration::from_secs(30);

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("could not find a free port on 127.0.0.1")
        .port()
}

/// A child process that is killed and reaped when dropped, also when the test panics (and then
/// the end of its log is printed, to show why).
struct ChildGuard {
    name: &'static str,
    child: Child,
    log: PathBuf,
    /// Kill the whole process group (chromedriver and the browsers it started).
    group: bool,
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if self.group {
            // The child leads its own process group (see `process_group(0)` at spawn).
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", self.child.id())])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            if let Ok(text) = std::fs::read_to_string(&self.log) {
                let lines: Vec<&str> = text.lines().collect();
                let tail = &lines[lines.len().saturating_sub(60)..];
                eprintln!(
                    "--- last lines of the {} log ({}) ---\n{}\n--- end of the {} log ---",
                    self.name,
                    self.log.display(),
                    tail.join("\n"),
                    self.name
                );
            }
        }
    }
}

/// The HTTP status of `GET path` at `addr`, if anything answers.
async fn http_status(addr: &str, path: &str) -> Option<u16> {
    let attempt = async {
        let mut s = TcpStream::connect(addr).await.ok()?;
        let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        s.write_all(request.as_bytes()).await.ok()?;
        // Only the status line is needed (some servers keep the connection open regardless).
        let mut seen = Vec::new();
        let mut buf = [0u8; 1024];
        while !seen.windows(2).any(|w| w == b"\r\n") {
            let n = s.read(&mut buf).await.ok()?;
            if n == 0 {
                break;
            }
            seen.extend_from_slice(&buf[..n]);
        }
        let text = String::from_utf8_lossy(&seen);
        text.split_whitespace().nth(1)?.parse().ok()
    };
    tokio::time::timeout(Duration::from_secs(5), attempt)
        .await
        .ok()
        .flatten()
}

/// Polls `GET path` until it answers 200.
async fn wait_for_200(what: &str, addr: &str, path: &str, timeout: Duration, child: &mut Child) {
    let deadline = Instant::now() + timeout;
    loop {
        if http_status(addr, path).await == Some(200) {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited ({status}) before answering GET {path} with 200");
        }
        if Instant::now() >= deadline {
            panic!("{what} did not answer GET http://{addr}{path} with 200 within {timeout:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The running server: its guard, address, the one-time password it printed, and anything
/// else it printed on stdout (which must stay empty: stdout is for scripts).
struct Server {
    _guard: ChildGuard,
    addr: String,
    password: String,
    extra_stdout: Arc<Mutex<Vec<String>>>,
}

async fn start_server(data_dir: &Path) -> Server {
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let log = data_dir.join("server.log");
    let log_file = File::create(&log).expect("could not create the server log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_mamori"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(["serve", "--listen", &addr])
        .env_remove("MAMORI_DATABASE_URL")
        .env_remove("MAMORI_CONFIG")
        .env_remove("MAMORI_DATA_DIR")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log_file)
        .spawn()
        .expect("could not start the mamori binary");
    let stdout = child.stdout.take().expect("the server's stdout is piped");
    let mut guard = ChildGuard {
        name: "mamori server",
        child,
        log,
        group: false,
    };

    // Read the first line; keep draining the rest so the server never writes to a closed pipe.
    let (first_tx, first_rx) = tokio::sync::oneshot::channel::<String>();
    let extra_stdout = Arc::new(Mutex::new(Vec::new()));
    let extra = Arc::clone(&extra_stdout);
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        if let Some(Ok(first)) = lines.next() {
            let _ = first_tx.send(first);
        }
        for line in lines.map_while(Result::ok) {
            if let Ok(mut v) = extra.lock() {
                v.push(line);
            }
        }
    });
    let first = match tokio::time::timeout(STARTUP, first_rx).await {
        Ok(Ok(line)) => line,
        Ok(Err(_)) => panic!("the server closed stdout without printing `admin: <password>`"),
        Err(_) => panic!("the server printed no `admin: <password>` line within {STARTUP:?}"),
    };
    let password = first
        .strip_prefix("admin: ")
        .unwrap_or_else(|| {
            panic!(
                "expected the first stdout line to be `admin: <one-time password>`, got {first:?}"
            )
        })
        .trim()
        .to_owned();
    assert!(
        !password.is_empty() && !password.contains(char::is_whitespace),
        "the one-time password looks wrong: {password:?}"
    );
    wait_for_200(
        "the mamori server",
        &addr,
        "/healthz",
        STARTUP,
        &mut guard.child,
    )
    .await;
    Server {
        _guard: guard,
        addr,
        password,
        extra_stdout,
    }
}

async fn start_chromedriver(log_dir: &Path) -> (ChildGuard, String) {
    use std::os::unix::process::CommandExt;
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let log = log_dir.join("chromedriver.log");
    let out = File::create(&log).expect("could not create the chromedriver log");
    let err = out
        .try_clone()
        .expect("could not reopen the chromedriver log");
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .process_group(0)
        .spawn()
        .expect("could not start chromedriver");
    let mut guard = ChildGuard {
        name: "chromedriver",
        child,
        log,
        group: true,
    };
    wait_for_200("chromedriver", &addr, "/status", WAIT, &mut guard.child).await;
    (guard, format!("http://{addr}"))
}

async fn connect_browser(webdriver: &str, profile: &Path) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".to_owned(),
        json!({
            "binary": CHROMIUM,
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                format!("--user-data-dir={}", profile.display()),
            ],
        }),
    );
    ClientBuilder::rustls()
        .expect("could not set up the WebDriver client")
        .capabilities(caps)
        .connect(webdriver)
        .await
        .unwrap_or_else(|e| panic!("could not start a Chromium session through chromedriver: {e}"))
}

/// A tiny HTTP server on another port of 127.0.0.1 (so: same site, another origin) that answers
/// every request with `page`.
async fn serve_page(page: String) -> (tokio::task::JoinHandle<()>, u16) {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("could not bind the forging server");
    let port = listener
        .local_addr()
        .expect("forging server address")
        .port();
    let task = tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let page = page.clone();
            tokio::spawn(async move {
                let mut seen = Vec::new();
                let mut buf = [0u8; 4096];
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                let response = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\
                     Content-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n{page}",
                    page.len()
                );
                let _ = sock.write_all(response.as_bytes()).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    (task, port)
}

/// The browser, pointed at the server, with helpers that fail with a clear message.
#[derive(Clone)]
struct Browser {
    c: Client,
    base: String,
}

impl Browser {
    /// The current path and query, e.g. `/login?next=%2F`.
    async fn location(&self) -> String {
        match self.c.current_url().await {
            Ok(u) => match u.query() {
                Some(q) => format!("{}?{q}", u.path()),
                None => u.path().to_owned(),
            },
            Err(e) => format!("<unknown: {e}>"),
        }
    }

    async fn path(&self) -> String {
        let loc = self.location().await;
        loc.split('?').next().unwrap_or_default().to_owned()
    }

    async fn js(&self, script: &str) -> Value {
        match self.c.execute(script, vec![]).await {
            Ok(v) => v,
            Err(e) => panic!("script failed on {}: {e}\n{script}", self.location().await),
        }
    }

    /// Opens a path of the server and waits for the page.
    async fn goto(&self, path: &str) {
        if let Err(e) = self.c.goto(&format!("{}{path}", self.base)).await {
            panic!("could not open {path}: {e}");
        }
        self.wait_loaded(&format!("{path} to load")).await;
    }

    /// Waits until `script` returns true.
    async fn wait_js(&self, script: &str, what: &str) {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Ok(Value::Bool(true)) = self.c.execute(script, vec![]).await {
                return;
            }
            if Instant::now() >= deadline {
                panic!(
                    "timed out after {WAIT:?} waiting for {what} (at {})",
                    self.location().await
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn wait_loaded(&self, what: &str) {
        self.wait_js("return document.readyState === 'complete';", what)
            .await;
    }

    /// The HTTP status of the current document.
    async fn status(&self) -> u64 {
        let v = self
            .js("const n = performance.getEntriesByType('navigation')[0]; \
                 return n ? n.responseStatus : 0;")
            .await;
        v.as_u64().unwrap_or(0)
    }

    async fn find(&self, css: &str) -> Element {
        match self
            .c
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(css))
            .await
        {
            Ok(e) => e,
            Err(e) => panic!(
                "no element `{css}` on {} ({e}); page text:\n{}",
                self.location().await,
                self.body_text().await
            ),
        }
    }

    async fn count(&self, css: &str) -> usize {
        match self.c.find_all(Locator::Css(css)).await {
            Ok(v) => v.len(),
            Err(e) => panic!("could not look for `{css}`: {e}"),
        }
    }

    async fn text(&self, css: &str) -> String {
        let el = self.find(css).await;
        match el.text().await {
            Ok(t) => t.trim().to_owned(),
            Err(e) => panic!("could not read the text of `{css}`: {e}"),
        }
    }

    async fn body_text(&self) -> String {
        match self.c.find(Locator::Css("body")).await {
            Ok(b) => b.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    async fn attr(&self, css: &str, name: &str) -> Option<String> {
        let el = self.find(css).await;
        match el.attr(name).await {
            Ok(v) => v,
            Err(e) => panic!("could not read attribute {name} of `{css}`: {e}"),
        }
    }

    async fn value(&self, css: &str) -> String {
        let el = self.find(css).await;
        match el.prop("value").await {
            Ok(v) => v.unwrap_or_default(),
            Err(e) => panic!("could not read the value of `{css}`: {e}"),
        }
    }

    /// Types `value` into a field (replacing what is there) and checks that it arrived intact.
    async fn fill(&self, css: &str, value: &str) {
        let el = self.find(css).await;
        if let Err(e) = el.clear().await {
            panic!("could not clear `{css}`: {e}");
        }
        if let Err(e) = el.send_keys(value).await {
            panic!("could not type into `{css}`: {e}");
        }
        let got = self.value(css).await;
        assert_eq!(got, value, "`{css}` does not hold what was typed");
    }

    async fn select(&self, css: &str, value: &str) {
        let el = self.find(css).await;
        if let Err(e) = el.select_by_value(value).await {
            panic!("could not choose option {value:?} of `{css}`: {e}");
        }
        assert_eq!(
            self.value(css).await,
            value,
            "`{css}` did not take {value:?}"
        );
    }

    /// Clicks `css` and waits for the next document to have loaded.
    async fn click_and_wait(&self, css: &str) {
        let el = self.find(css).await;
        // A mark on the current document: gone once the browser shows the next one.
        self.js("window.__e2eOldPage = true; return null;").await;
        if let Err(e) = el.click().await {
            panic!("could not click `{css}` on {}: {e}", self.location().await);
        }
        self.wait_js(
            "return window.__e2eOldPage === undefined && document.readyState === 'complete';",
            &format!("the page after clicking `{css}`"),
        )
        .await;
    }

    async fn assert_path(&self, expected: &str, step: &str) {
        let at = self.location().await;
        assert_eq!(
            self.path().await,
            expected,
            "{step}: expected to be at {expected}, but the browser is at {at}; page text:\n{}",
            self.body_text().await
        );
    }
}

/// `/prefix/<digits>`?
fn is_record_path(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix)
        .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_walkthrough() {
    if !Path::new(CHROMIUM).exists() || !Path::new(CHROMEDRIVER).exists() {
        if std::env::var("MAMORI_REQUIRE_E2E").as_deref() == Ok("1") {
            panic!("{SKIP_MESSAGE}");
        }
        eprintln!("{SKIP_MESSAGE}");
        return;
    }
    // Declared before the guards, so the logs outlive them (locals drop in reverse order).
    let data_dir = tempfile::tempdir().expect("temporary data directory");
    let profile = tempfile::tempdir().expect("temporary browser profile");
    let server = start_server(data_dir.path()).await;
    let (_driver, webdriver) = start_chromedriver(data_dir.path()).await;
    let client = connect_browser(&webdriver, profile.path()).await;
    let browser = Browser {
        c: client.clone(),
        base: format!("http://{}", server.addr),
    };

    // The walk runs in its own task so that the browser session is closed even when it fails.
    let walk = tokio::spawn(walkthrough(
        browser,
        server.password.clone(),
        server.addr.clone(),
        data_dir.path().to_path_buf(),
    ));
    let outcome = walk.await;
    let _ = client.close().await;
    if let Err(e) = outcome {
        if e.is_panic() {
            std::panic::resume_unwind(e.into_panic());
        }
        panic!("the browser walk did not finish: {e}");
    }

    let extra = server
        .extra_stdout
        .lock()
        .map(|v| v.clone())
        .unwrap_or_default();
    assert!(
        extra.is_empty(),
        "the server printed more than the `admin:` line on stdout (stdout is for scripts): {extra:?}"
    );
}

async fn walkthrough(b: Browser, one_time_password: String, addr: String, data_dir: PathBuf) {
    // 1. Not logged in: `/` sends the browser to the login page, remembering where it was going.
    b.goto("/").await;
    assert_eq!(
        b.location().await,
        "/login?next=%2F",
        "step 1: `/` should redirect to the login page"
    );
    b.fill("#username", "admin").await;
    b.fill("#password", &one_time_password).await;
    b.click_and_wait(r#"form[action="/login"] button[type=submit]"#)
        .await;

    // 2. The one-time password must be changed first.
    b.assert_path(
        "/account/password",
        "step 2 (after logging in with the one-time password)",
    )
    .await;
    b.fill("#current", &one_time_password).await;
    b.fill("#new_password", NEW_PASSWORD).await;
    b.fill("#confirm", NEW_PASSWORD).await;
    b.click_and_wait(r#"form[action="/account/password"] button[type=submit]"#)
        .await;

    // 3. The admin role requires MFA: enrol with the secret the page shows.
    b.assert_path("/account/mfa", "step 3 (after changing the password)")
        .await;
    enrol_mfa(&b, NEW_PASSWORD, "step 3").await;

    // 4. Japanese by default; English when chosen, and remembered for the account.
    b.goto("/").await;
    b.assert_path("/", "step 4 (home after enrolling MFA)")
        .await;
    assert_eq!(
        b.attr("html", "lang").await.as_deref(),
        Some("ja"),
        "step 4: the home page should be in Japanese by default"
    );
    assert_eq!(
        b.text("h1").await,
        "ホーム",
        "step 4: Japanese home heading"
    );
    b.click_and_wait(r#"a[hreflang="en"]"#).await;
    assert_eq!(
        b.attr("html", "lang").await.as_deref(),
        Some("en"),
        "step 4: the page should be in English after choosing English"
    );
    assert_eq!(b.text("h1").await, "Home", "step 4: English home heading");
    b.goto("/").await;
    assert_eq!(
        b.attr("html", "lang").await.as_deref(),
        Some("en"),
        "step 4: the language choice should be remembered for the account (no ?lang)"
    );
    assert_eq!(b.text("h1").await, "Home", "step 4: still English");

    // 5. A unit: first a submission the server must reject, then a good one.
    b.goto("/admin/units/new").await;
    b.fill("#code", "Bad Code!").await;
    b.fill("#name", "総務課").await;
    b.select("#parent", "secretariat").await;
    b.click_and_wait(r#"form[action="/admin/units"] button.primary"#)
        .await;
    b.assert_path("/admin/units", "step 5 (rejected unit)")
        .await;
    assert_eq!(
        b.status().await,
        422,
        "step 5: a rejected form should come back with status 422"
    );
    b.find(".error-summary").await;
    b.find(r#"form[action="/admin/units"]"#).await;
    assert_eq!(
        b.attr("#code", "aria-invalid").await.as_deref(),
        Some("true"),
        "step 5: the bad code field should be marked invalid"
    );
    assert_eq!(
        b.value("#code").await,
        "Bad Code!",
        "step 5: the form should keep what was typed"
    );
    b.fill("#code", "general-affairs").await;
    b.fill("#name", "総務課").await;
    b.select("#parent", "secretariat").await;
    b.click_and_wait(r#"form[action="/admin/units"] button.primary"#)
        .await;
    let path = b.path().await;
    assert!(
        is_record_path(&path, "/admin/units/"),
        "step 5: expected /admin/units/<id> after creating the unit, got {}; page text:\n{}",
        b.location().await,
        b.body_text().await
    );
    let flash = b.find("[role=status]").await;
    assert!(
        flash.is_displayed().await.unwrap_or(false),
        "step 5: the confirmation message should be visible"
    );
    assert_eq!(
        b.value("#code").await,
        "general-affairs",
        "step 5: saved code"
    );
    assert_eq!(b.value("#name").await, "総務課", "step 5: saved name");
    assert_eq!(
        b.value("#parent").await,
        "secretariat",
        "step 5: saved parent"
    );

    // 6. A person, with the date entered in 和暦.
    b.goto("/admin/people/new").await;
    b.fill("#staff_id", "000123").await;
    b.fill("#name", "長﨑 悠").await;
    b.fill("#kana", "ながさき ゆう").await;
    b.select("#unit", "general-affairs").await;
    b.select("#category", "fiscal_year").await;
    b.fill("#joined_on", "R7.4.1").await;
    b.click_and_wait(r#"form[action="/admin/people"] button.primary"#)
        .await;
    let path = b.path().await;
    assert!(
        is_record_path(&path, "/admin/people/"),
        "step 6: expected /admin/people/<id> after creating the person, got {}; page text:\n{}",
        b.location().await,
        b.body_text().await
    );
    assert_eq!(
        b.value("#joined_on").await,
        "2025-04-01",
        "step 6: R7.4.1 should be stored as 2025-04-01"
    );
    assert_eq!(
        b.value("#staff_id").await,
        "000123",
        "step 6: staff ID kept as typed"
    );
    assert_eq!(
        b.value("#name").await,
        "長﨑 悠",
        "step 6: name kept exactly (﨑)"
    );
    assert_eq!(b.value("#unit").await, "general-affairs", "step 6: unit");
    assert_eq!(
        b.value("#category").await,
        "fiscal_year",
        "step 6: category"
    );

    // 7. All of it is in the audit log.
    b.goto("/admin/audit").await;
    let table = b.text("table").await;
    for action in [
        "unit.create",
        "person.create",
        "login.success",
        "user.password_change",
        "mfa.enable",
        "user.language",
    ] {
        assert!(
            table.contains(action),
            "step 7: the audit log should show `{action}`; table text:\n{table}"
        );
    }

    // 8. A form on another origin of the same site posts to Mamori with the session cookie and
    //    a guessed token: it must be refused.
    let page = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>forged</title></head><body>\
         <form id=\"f\" method=\"post\" action=\"http://{addr}/admin/units\">\
         <input name=\"code\" value=\"forged\"><input name=\"name\" value=\"forged\">\
         <input name=\"csrf\" value=\"guess\"></form>\
         <script>document.getElementById('f').submit()</script></body></html>"
    );
    let (forger, forger_port) = serve_page(page).await;
    if let Err(e) = b.c.goto(&format!("http://127.0.0.1:{forger_port}/")).await {
        panic!("step 8: could not open the forging page: {e}");
    }
    let mamori_port = addr.rsplit(':').next().unwrap_or_default().to_owned();
    b.wait_js(
        &format!("return location.port === '{mamori_port}' && document.readyState === 'complete';"),
        "step 8: the forged form to reach Mamori",
    )
    .await;
    forger.abort();
    b.assert_path("/admin/units", "step 8 (forged form)").await;
    let status = b.status().await;
    let body = b.body_text().await;
    assert_eq!(
        status, 403,
        "step 8: the forged form should be refused with 403; page text:\n{body}"
    );
    assert!(
        body.contains("403"),
        "step 8: the refusal page should show the status 403; page text:\n{body}"
    );
    b.goto("/admin/units").await;
    let units = b.body_text().await;
    assert!(
        units.contains("general-affairs"),
        "step 8: the unit list should show general-affairs; page text:\n{units}"
    );
    assert!(
        !units.contains("forged"),
        "step 8: the forged unit must not exist; page text:\n{units}"
    );

    // 9. Logout ends the session: `/` asks for a login again.
    b.click_and_wait(r#"form[action="/logout"] button"#).await;
    b.assert_path("/login", "step 9 (after logout)").await;
    b.goto("/").await;
    b.assert_path("/login", "step 9 (`/` after logout)").await;

    asset_register_walk(&b, &data_dir).await;
    let ciso_secret = policy_walk(&b, &data_dir).await;
    risk_walk(&b, &data_dir, &ciso_secret).await;
}

/// Enrols the logged-in account in MFA on `/account/mfa` and returns the TOTP secret.
async fn enrol_mfa(b: &Browser, password: &str, step: &str) -> String {
    b.fill(r#"form[action="/account/mfa/setup"] #password"#, password)
        .await;
    b.click_and_wait(r#"form[action="/account/mfa/setup"] button[type=submit]"#)
        .await;
    b.find("figure.qr svg").await;
    let secret: String = b
        .text("#totp-secret")
        .await
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    assert!(
        secret.len() >= 16,
        "{step}: the TOTP secret shown looks too short: {secret:?}"
    );
    b.fill("#code", &totp_now(&secret, step)).await;
    b.click_and_wait(r#"form[action="/account/mfa/confirm"] button[type=submit]"#)
        .await;
    let codes = b.count("#recovery-codes li").await;
    assert_eq!(
        codes,
        10,
        "{step}: expected 10 recovery codes after enabling MFA; page text:\n{}",
        b.body_text().await
    );
    secret
}

fn totp_now(secret: &str, step: &str) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    totp::code_at(secret, now)
        .unwrap_or_else(|| panic!("{step}: the secret shown is not valid base32: {secret:?}"))
}

/// Runs `mamori ARGS` on the data directory, feeding `stdin`; panics with its stderr on failure.
fn run_cli(data_dir: &Path, args: &[&str], stdin: &str, step: &str) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mamori"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("MAMORI_DATABASE_URL")
        .env_remove("MAMORI_CONFIG")
        .env_remove("MAMORI_DATA_DIR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{step}: could not run mamori {args:?}: {e}"));
    {
        use std::io::Write;
        let mut input = child.stdin.take().expect("stdin");
        input.write_all(stdin.as_bytes()).expect("stdin");
    }
    let out = child.wait_with_output().expect("mamori");
    assert!(
        out.status.success(),
        "{step}: mamori {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Logs in with the password (and, when given, the TOTP second factor).
async fn login(b: &Browser, username: &str, secret: Option<&str>, step: &str) {
    b.goto("/login").await;
    b.fill("#username", username).await;
    b.fill("#password", NEW_PASSWORD).await;
    b.click_and_wait(r#"form[action="/login"] button[type=submit]"#)
        .await;
    if let Some(secret) = secret {
        b.assert_path("/login/mfa", step).await;
        // The code of the next time step: the current one may already have been used (at
        // enrolment), and a used step is refused; one step of skew is accepted.
        let next = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock after 1970")
            .as_secs()
            + 30;
        let code = totp::code_at(secret, next).expect("base32 secret");
        b.fill("#code", &code).await;
        b.click_and_wait(r#"form[action="/login/mfa"] button[type=submit]"#)
            .await;
    }
}

async fn logout(b: &Browser) {
    b.goto("/").await;
    b.click_and_wait(r#"form[action="/logout"] button"#).await;
}

/// "Done when" of the policy documents: the public page shows the organisation's own policy
/// with its 改版履歴 in 和暦; the 統括情報セキュリティ責任者 drafts 第2版 and submits it; the
/// CISO approves and publishes it; a 会計年度任用職員 sees the banner, reads and acknowledges
/// it; the completion page moves from 0/N to 1/N.
async fn policy_walk(b: &Browser, data_dir: &Path) -> String {
    // 14. The public basic policy, without login.
    logout(b).await;
    b.goto("/public/policy").await;
    assert_eq!(b.status().await, 200, "step 14: /public/policy answers 200");
    let public = b.body_text().await;
    assert!(
        public.contains("初版") && public.contains("令和8年3月25日"),
        "step 14: the 改版履歴 in 和暦; page text:\n{public}"
    );
    assert!(
        public.contains("設計・開発の不備、プログラム上の欠陥"),
        "step 14: clause 3(2) reads as one sentence; page text:\n{public}"
    );

    // 15. People and accounts from the command line: a 会計年度任用職員 and the two officers.
    let people = data_dir.join("people-policy.csv");
    std::fs::write(
        &people,
        "職員番号,氏名,所属,任用区分\r\nK0001,員弁 花子,general-affairs,会計年度任用職員\r\n",
    )
    .expect("write");
    run_cli(
        data_dir,
        &["import", "people", &people.display().to_string()],
        "",
        "step 15",
    );
    for (user, name, role, staff) in [
        (
            "chief",
            "統括情報セキュリティ責任者",
            Some("chief_officer"),
            None,
        ),
        ("ciso", "最高情報セキュリティ責任者", Some("ciso"), None),
        ("hanako", "員弁 花子", None, Some("K0001")),
    ] {
        let mut args = vec![
            "user",
            "add",
            "--username",
            user,
            "--name",
            name,
            "--password-stdin",
        ];
        if let Some(role) = role {
            args.extend(["--role", role]);
        }
        if let Some(staff) = staff {
            args.extend(["--staff-id", staff]);
        }
        run_cli(data_dir, &args, NEW_PASSWORD, "step 15");
    }

    // 16. The 統括 drafts 第2版 from the text in force and submits it for review.
    login(b, "chief", None, "step 16").await;
    b.assert_path(
        "/account/mfa",
        "step 16 (MFA is required of the chief officer)",
    )
    .await;
    enrol_mfa(b, NEW_PASSWORD, "step 16").await;
    b.goto("/policy/basic-policy/versions/new").await;
    let body = b.value("#body").await;
    assert!(
        body.contains("## 1. 目的"),
        "step 16: the form starts from the text in force; body:\n{body}"
    );
    let revised = body.replace("対象とする脅威", "対象とする脅威及び想定");
    b.js(&format!(
        "document.getElementById('body').value = {}; return null;",
        serde_json::to_string(&revised).expect("json")
    ))
    .await;
    b.fill("#change_summary", "3 の見出しを改める").await;
    b.click_and_wait(r#"form[action="/policy/basic-policy/versions"] button[type=submit]"#)
        .await;
    b.assert_path("/policy/basic-policy/versions/2", "step 16 (draft saved)")
        .await;
    assert!(b.body_text().await.contains("第2版"), "step 16: 第2版");
    b.click_and_wait(r#"form[action$="/versions/2/submit"] button"#)
        .await;
    assert!(b.body_text().await.contains("審査中"), "step 16: in review");
    logout(b).await;

    // 17. The CISO approves and publishes it; completion starts at 0/N.
    login(b, "ciso", None, "step 17").await;
    b.assert_path("/account/mfa", "step 17 (MFA is required of the CISO)")
        .await;
    let ciso_secret = enrol_mfa(b, NEW_PASSWORD, "step 17").await;
    b.goto("/policy/basic-policy/versions/2").await;
    b.click_and_wait(r#"form[action$="/versions/2/approve"] button"#)
        .await;
    b.click_and_wait(r#"form[action$="/versions/2/publish"] button"#)
        .await;
    assert!(
        b.body_text().await.contains("施行中"),
        "step 17: in force; page text:\n{}",
        b.body_text().await
    );
    b.goto("/policy/basic-policy/acknowledgements").await;
    let done = b.text(".ack-done").await;
    let total = b.text(".ack-total").await;
    assert_eq!(done, "0", "step 17: nobody has acknowledged 第2版 yet");
    assert!(
        total.parse::<u32>().unwrap_or(0) >= 1,
        "step 17: the 会計年度任用職員 is in scope: {total}"
    );
    logout(b).await;

    // 18. The 会計年度任用職員 sees the banner, reads and acknowledges.
    login(b, "hanako", None, "step 18").await;
    b.goto("/").await;
    let banner = b.text(".ack-banner").await;
    assert!(
        banner.contains("第2版"),
        "step 18: the banner asks for 第2版: {banner}"
    );
    b.click_and_wait(".ack-banner a").await;
    assert!(
        b.body_text().await.contains("対象とする脅威及び想定"),
        "step 18: the new text is shown"
    );
    b.click_and_wait(r#"form[action$="/versions/2/acknowledge"] button"#)
        .await;
    assert_eq!(
        b.count(".ack-banner").await,
        0,
        "step 18: the banner is gone once acknowledged"
    );
    logout(b).await;

    // 19. Completion moves to 1/N (the CISO signs in with the second factor); the public page
    // now shows 第2版 with both rows of the 改版履歴.
    login(b, "ciso", Some(&ciso_secret), "step 19").await;
    b.goto("/policy/basic-policy/acknowledgements").await;
    assert_eq!(
        b.text(".ack-done").await,
        "1",
        "step 19: one acknowledgement"
    );
    assert_eq!(
        b.text(".ack-total").await,
        total,
        "step 19: same people in scope"
    );
    logout(b).await;
    b.goto("/public/policy").await;
    let history = b.text("table.history").await;
    assert!(
        history.contains("初版") && history.contains("第2版"),
        "step 19: 改版履歴 of both editions: {history}"
    );
    ciso_secret
}

/// "Done when" of the risk register: the 情報セキュリティ管理者 records a risk for the
/// 財務会計システム against ransomware (T1) from the asset's page, sees the impact suggested
/// from its class, links the controls that reduce it and requests acceptance of the residual
/// risk; the CISO approves it; the heat map shows it; reclassifying the system marks the risk
/// for review.
async fn risk_walk(b: &Browser, data_dir: &Path, ciso_secret: &str) {
    // 20. The system is in the register (from the command line, as a file would bring it).
    let assets = data_dir.join("assets-zaimu.csv");
    std::fs::write(
        &assets,
        "資産ID,名称,種別,所管組織,機密性,完全性,可用性\r\n\
         500,財務会計システム,情報システム,general-affairs,3B,2,2\r\n",
    )
    .expect("write");
    run_cli(
        data_dir,
        &["import", "assets", &assets.display().to_string()],
        "",
        "step 20",
    );
    login(b, "manager", None, "step 20").await;
    b.goto("/assets/500").await;
    b.click_and_wait(r#"a[href="/risks/new?asset=500"]"#).await;
    let form = b.body_text().await;
    assert!(
        form.contains("対象資産の分類から推奨される影響度") && form.contains("3 甚大"),
        "step 20: the impact suggested by 3B; page text:\n{form}"
    );
    assert_eq!(b.value("#impact").await, "3", "step 20: already chosen");

    // 21. The risk, with the controls that reduce it and a lower residual likelihood.
    b.fill("#title", "ランサムウェアで財務会計システムが止まる")
        .await;
    b.select("#threat", "T1-01").await;
    b.fill("#weakness", "バックアップが同じネットワーク上にある")
        .await;
    b.select("#likelihood", "2").await;
    b.select("#residual_likelihood", "1").await;
    b.js(
        "document.querySelectorAll('#controls details').forEach(d => d.open = true); return null;",
    )
    .await;
    b.find(r#"input[name="control"][value="M6-04"]"#)
        .await
        .click()
        .await
        .expect("choose M6-04");
    b.find(r#"input[name="control"][value="M6-05"]"#)
        .await
        .click()
        .await
        .expect("choose M6-05");
    b.click_and_wait(r#"button.primary[name="action"][value="save"]"#)
        .await;
    b.assert_path("/risks/R-0001", "step 21 (saved)").await;
    let page = b.body_text().await;
    assert!(
        page.contains("M6-04") && page.contains("M6-05") && page.contains("財務会計システム"),
        "step 21: the risk names its asset and controls; page text:\n{page}"
    );
    b.fill("#request-note", "残留リスクはサイバー保険で補う")
        .await;
    b.click_and_wait(r#"form[action="/risks/R-0001/acceptance"] button[type=submit]"#)
        .await;
    assert!(
        b.body_text().await.contains("承認待ち"),
        "step 21: acceptance requested"
    );
    logout(b).await;

    // 22. The CISO approves; the heat map counts the risk, inherent beside residual.
    // (A second factor code is good once: wait for the next time step.)
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    tokio::time::sleep(Duration::from_secs(31 - now % 30)).await;
    login(b, "ciso", Some(ciso_secret), "step 22").await;
    b.goto("/risks/R-0001").await;
    b.fill("#decision-note", "年度内に再評価すること").await;
    b.click_and_wait(r#"button[name="decision"][value="approve"]"#)
        .await;
    assert!(b.body_text().await.contains("承認済"), "step 22: approved");
    b.goto("/risks/heatmap").await;
    let cell = r#"#heatmap-inherent a[href="/risks?l=2&i=3"]"#;
    assert_eq!(
        b.attr(cell, "aria-label").await.as_deref(),
        Some("発生可能性 2 ときどき・影響度 3 甚大: 1 件（高）"),
        "step 22: the inherent cell names its count and level"
    );
    b.click_and_wait(cell).await;
    assert!(
        b.text("table").await.contains("R-0001"),
        "step 22: the cell lists its risk"
    );
    // The coverage page traces clause 6(6) to the controls, the risk and the system behind it.
    b.goto("/coverage/6(6)").await;
    let coverage = b.body_text().await;
    assert!(
        coverage.contains("M6-04") && coverage.contains("財務会計システム"),
        "step 22: coverage of 6(6) shows the control and the asset; page text:\n{coverage}"
    );
    assert_eq!(
        b.count(r#"a[href^="/risks?control=M6-04"]"#).await,
        1,
        "step 22: coverage links to the risks its control treats"
    );

    // 23. Reclassifying the system (a corrected register) marks the risk for review.
    std::fs::write(
        &assets,
        "資産ID,名称,種別,所管組織,機密性,完全性,可用性\r\n\
         500,財務会計システム,情報システム,general-affairs,3A,2,2\r\n",
    )
    .expect("write");
    run_cli(
        data_dir,
        &["import", "assets", &assets.display().to_string()],
        "",
        "step 23",
    );
    b.goto("/risks?due=1").await;
    assert!(
        b.text("table").await.contains("R-0001"),
        "step 23: due for review"
    );
    b.goto("/risks/R-0001").await;
    let page = b.body_text().await;
    assert!(
        page.contains("見直しが必要です") && page.contains("3B/2/2 → 3A/2/2"),
        "step 23: the reason is shown; page text:\n{page}"
    );
}

/// The asset register as a 情報セキュリティ管理者 uses it: last year's Excel register, saved as
/// CP932 CSV, is uploaded; a broken row is reported with its row number before anything is
/// written; the corrected file is imported; an asset is found by a fragment of its Japanese
/// name; its page shows the handling rules its class requires.
async fn asset_register_walk(b: &Browser, data_dir: &Path) {
    // 10. A section manager's account, made from the command line.
    let mut add = Command::new(env!("CARGO_BIN_EXE_mamori"))
        .arg("--data-dir")
        .arg(data_dir)
        .args([
            "user",
            "add",
            "--username",
            "manager",
            "--name",
            "総務課長",
            "--role",
            "unit_manager@general-affairs",
            "--password-stdin",
        ])
        .env_remove("MAMORI_DATABASE_URL")
        .env_remove("MAMORI_CONFIG")
        .env_remove("MAMORI_DATA_DIR")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("could not run `mamori user add`");
    {
        use std::io::Write;
        let mut stdin = add.stdin.take().expect("stdin");
        stdin.write_all(NEW_PASSWORD.as_bytes()).expect("password");
    }
    let out = add.wait_with_output().expect("user add");
    assert!(
        out.status.success(),
        "step 10: user add failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    b.goto("/login").await;
    b.fill("#username", "manager").await;
    b.fill("#password", NEW_PASSWORD).await;
    b.click_and_wait(r#"form[action="/login"] button[type=submit]"#)
        .await;

    // 11. A broken register: every problem, with its row, and nothing written.
    let to_cp932 = |text: &str| mamori_domain::interchange::kind::to_cp932(text).expect("CP932");
    let header = "名称,種別,所管組織,機密性,完全性,可用性,保管場所\r\n";
    let broken = data_dir.join("assets-broken.csv");
    std::fs::write(
        &broken,
        to_cp932(&format!("{header}介護保険システム,情報システム,general-affairs,３Ｂ,2,2,サーバ室\r\n監査資料,情報（電磁的記録）,general-affairs,4,1,1,書庫\r\n")),
    )
    .expect("write");
    b.goto("/admin/import?kind=assets").await;
    b.find("#file")
        .await
        .send_keys(&broken.display().to_string())
        .await
        .expect("choose the file");
    b.click_and_wait(r#"form[action="/admin/import/preview"] button[type=submit]"#)
        .await;
    let preview = b.body_text().await;
    assert!(
        preview.contains("assets-broken.csv:3: 機密性: 分類基準にない格付けです (4)"),
        "step 11: the broken row should be named with its row number; page text:\n{preview}"
    );
    assert_eq!(
        b.count(r#"form[action="/admin/import/apply"]"#).await,
        0,
        "step 11: no confirmation for a broken file"
    );

    // 12. The corrected register: preview, confirm, done.
    let fixed = data_dir.join("assets.csv");
    std::fs::write(
        &fixed,
        to_cp932(&format!("{header}介護保険システム,情報システム,general-affairs,３Ｂ,2,2,サーバ室\r\n監査資料,情報（電磁的記録）,general-affairs,2,1,1,書庫\r\n")),
    )
    .expect("write");
    b.find("#file")
        .await
        .send_keys(&fixed.display().to_string())
        .await
        .expect("choose the file");
    b.click_and_wait(r#"form[action="/admin/import/preview"] button[type=submit]"#)
        .await;
    assert!(
        b.body_text().await.contains("追加 2 件"),
        "step 12: the preview counts two new assets"
    );
    b.click_and_wait(r#"form[action="/admin/import/apply"] button[type=submit]"#)
        .await;
    assert!(
        b.body_text().await.contains("取り込みました"),
        "step 12: imported"
    );

    // 13. Found by a fragment of its Japanese name; its page shows what its class requires.
    b.goto("/assets").await;
    b.fill("#q", "介護").await;
    b.click_and_wait(r#"form[action="/assets"] button[type=submit]"#)
        .await;
    let list = b.text("table").await;
    assert!(
        list.contains("介護保険システム") && !list.contains("監査資料"),
        "step 13: search; table:\n{list}"
    );
    b.click_and_wait("table tbody a").await;
    let page = b.body_text().await;
    assert!(
        page.contains("支給された端末でのみ取り扱う"),
        "step 13: handling rules for 3B; page:\n{page}"
    );
    b.goto("/assets").await;
    assert_eq!(
        b.count(r#"a[href^="/assets/export/xlsx"]"#).await,
        1,
        "step 13: the list offers an Excel export of what it shows"
    );
}
