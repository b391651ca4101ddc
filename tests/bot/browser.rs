//! A real browser for the console's tests: headless Chromium driven through its WebDriver (chromedriver on a
//! free port of 127.0.0.1, one per browser, ended with it). `Browser::phone()` is 390×844, `Browser::laptop()`
//! 1366×900. `screenshot(name)` writes `<name>.png` to the folder in `CONSOLE_SCREENSHOTS` when it is set.
//!
//! Missing Chromium or chromedriver fails the test with a message naming `scripts/test`, which installs them.
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// A window size: (width, height) in CSS pixels.
pub type Size = (u32, u32);
pub const PHONE: Size = (390, 844);
pub const LAPTOP: Size = (1366, 900);

pub struct Browser {
    pub client: Client,
    driver: Child,
}

impl Browser {
    pub async fn phone() -> Browser {
        Self::start(PHONE).await
    }

    pub async fn laptop() -> Browser {
        Self::start(LAPTOP).await
    }

    /// Starts chromedriver and a headless Chromium with a window of `size`.
    pub async fn start(size: Size) -> Browser {
        for program in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                std::path::Path::new(program).exists(),
                "{program} is missing: the console's browser tests need Chromium and chromedriver. \
                 Run scripts/test, which installs them (Debian packages chromium and chromium-driver)."
            );
        }
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let url = format!("http://127.0.0.1:{port}");
        let (width, height) = size;
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": CHROMIUM,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--hide-scrollbars",
                    format!("--window-size={width},{height}"),
                ],
                // Pages a browser asks for in Finnish first, as coordinators' browsers do.
                "prefs": { "intl.accept_languages": "fi-FI,fi,en" },
            }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        let client = loop {
            match ClientBuilder::new(connector.clone())
                .capabilities(capabilities.clone())
                .connect(&url)
                .await
            {
                Ok(client) => break client,
                Err(e) if tokio::time::Instant::now() < deadline => {
                    log::debug!("chromedriver not ready yet: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => panic!("cannot start Chromium through chromedriver: {e}"),
            }
        };
        // The window's inner size is what a page gets; make it the size asked for.
        client
            .set_window_size(width, height)
            .await
            .expect("window size");
        Browser { client, driver }
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.expect("page opens");
    }

    pub async fn find(&self, css: &str) -> Element {
        match self.client.find(Locator::Css(css)).await {
            Ok(element) => element,
            Err(e) => panic!("no {css} on {}: {e}", self.url().await),
        }
    }

    /// The text of the first element matching `css`.
    pub async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.expect("element text")
    }

    /// The whole page's text.
    pub async fn body(&self) -> String {
        self.text("body").await
    }

    /// Clicks the element matching `css` and waits for the page it leads to (a link or a form's button).
    pub async fn click(&self, css: &str) {
        let element = self.find(css).await;
        self.navigating(element).await;
    }

    /// Clicks the link whose text is `text` and waits for the page it leads to.
    pub async fn click_link(&self, text: &str) {
        let link = self
            .client
            .find(Locator::LinkText(text))
            .await
            .unwrap_or_else(|e| panic!("no link {text:?}: {e}"));
        self.navigating(link).await;
    }

    /// Clicks `element` and waits until the page has been replaced by the next one and that has loaded.
    async fn navigating(&self, element: Element) {
        let old = self.find("html").await;
        element.click().await.expect("click");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        // The old page's root goes stale once the next page replaces it.
        while old.tag_name().await.is_ok() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the click led nowhere: still on {}",
                self.url().await
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        while self
            .client
            .execute("return document.readyState", vec![])
            .await
            .ok()
            .and_then(|v| v.as_str().map(|s| s == "complete"))
            != Some(true)
        {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the page did not load"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub async fn url(&self) -> String {
        self.client
            .current_url()
            .await
            .map(|u| u.to_string())
            .unwrap_or_default()
    }

    /// Runs a script in the page (for what a person cannot do by hand, like removing a form's hidden field).
    pub async fn run(&self, script: &str) {
        self.client
            .execute(script, vec![])
            .await
            .expect("script runs");
    }

    /// Writes a PNG of the page (the whole document's height) to `$CONSOLE_SCREENSHOTS/<name>.png`, if set.
    pub async fn screenshot(&self, name: &str) {
        let Some(dir) = std::env::var_os("CONSOLE_SCREENSHOTS") else {
            return;
        };
        let dir = PathBuf::from(dir);
        std::fs::create_dir_all(&dir).expect("screenshot folder");
        // Make the window as tall as the page so the whole of it is in the picture, then put it back.
        let (width, height) = self.client.get_window_size().await.expect("window size");
        let full = self
            .client
            .execute("return document.documentElement.scrollHeight", vec![])
            .await
            .ok()
            .and_then(|v| v.as_u64())
            .unwrap_or(height) as u32;
        let _ = self
            .client
            .set_window_size(width as u32, full.max(height as u32))
            .await;
        let png = self.client.screenshot().await.expect("screenshot");
        let _ = self
            .client
            .set_window_size(width as u32, height as u32)
            .await;
        std::fs::write(dir.join(format!("{name}.png")), png).expect("screenshot written");
    }

    /// Ends the browser (its driver ends when `self` is dropped).
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

impl Drop for Browser {
    /// chromedriver ends with the browser, also when a test fails half-way.
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// A port nobody listens on right now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}
