//! Settings from the environment (and `.env`), validated into a typed `Config`.
//! Every problem names the setting, so start-up can stop with one clear line.
use crate::domain::Lang;
use chrono_tz::Tz;
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error, PartialEq)]
#[error("setting {setting}: {problem}")]
pub struct ConfigError {
    pub setting: &'static str,
    pub problem: String,
}

fn bad(setting: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        setting,
        problem: problem.into(),
    }
}

#[derive(Clone, Debug)]
pub struct Config {
    /// Needed only by `run`; `check`, `migrate` and `simulate` work without it.
    pub token: Option<String>,
    pub api_url: Option<url::Url>,
    pub database_url: String,
    pub dialogues_dir: PathBuf,
    pub timezone: Tz,
    pub coordinator_ids: BTreeSet<i64>,
    pub default_language: Lang,
    /// The most messages per second overall, answers to users included (`DELIVERY_MAX_PER_SECOND`, 1–30,
    /// default 30, Telegram's figure): the ceiling the outbox's adaptive rate runs toward (`crate::send_budget`).
    /// Less only for a bot that shares its token — see docs/performance.md.
    pub delivery_max_per_second: u32,
    /// Outbox requests in flight at once (`DELIVERY_CONCURRENCY`, 1–8, default 1): a crash can send at most
    /// this many messages twice.
    pub delivery_concurrency: usize,
    /// Days to keep delivered outbox rows (`DELIVERY_RETENTION_DAYS`, 1–3650, default 30).
    pub delivery_retention_days: u32,
    /// Days after a workshop series ends before its participants' personal data is erased
    /// (`PERSONAL_DATA_RETENTION_DAYS`, 1–3650, default 180; the privacy notice states the number).
    pub personal_data_retention_days: u32,
    /// Days without a message after which an unfinished registration, or whatever is kept of someone who
    /// never registered (a join request), is erased (`UNFINISHED_RETENTION_DAYS`, 1–3650, default 30; the
    /// privacy notice states the number).
    pub unfinished_retention_days: u32,
    /// Where `/health` is served over HTTP (`HEALTH_ADDR`, e.g. 127.0.0.1:8080); none = no endpoint.
    pub health_addr: Option<SocketAddr>,
    /// Webhook mode (`run --webhook <url>`): the local address Telegram's requests arrive at
    /// (`WEBHOOK_LISTEN`, default 127.0.0.1:8443: the reverse proxy is in front) and the secret they must carry
    /// (`WEBHOOK_SECRET`).
    pub webhook_listen: SocketAddr,
    pub webhook_secret: Option<String>,
    /// A connection to the webhook server that has not sent a request's headers within this time is closed
    /// (`WEBHOOK_HEADER_TIMEOUT_SECONDS`, 1–300, default 10): slow senders cannot hold connections open.
    pub webhook_header_timeout: std::time::Duration,
    /// At most this many connections to the webhook server are open at once; more wait to be accepted
    /// (`WEBHOOK_MAX_CONNECTIONS`, 1–10000, default 100).
    pub webhook_max_connections: usize,
    /// Survey results for fewer responses than this are withheld (`SURVEY_MIN_RESPONSES`, 1–100, default 5).
    pub survey_min_responses: u32,
    /// How long one request to the Bot API may take before it counts as failed (`TELEGRAM_TIMEOUT_SECONDS`,
    /// 1–300, default 17). Long polls get their own waiting time on top.
    pub telegram_timeout: std::time::Duration,
    /// The mail server for emails (`SMTP_URL`: `smtp://127.0.0.1:2525`, `smtps://user:pass@host`,
    /// `smtp://user:pass@host:587?tls=required`); none = email is off. Its password is never printed.
    pub smtp_url: Option<SecretUrl>,
    /// The sender of emails (`EMAIL_FROM`, e.g. `MILAVA <milava@oamk.fi>`); required with `SMTP_URL`.
    pub email_from: Option<String>,
    /// Emails per minute at most (`EMAIL_MAX_PER_MINUTE`, 1–600, default 60): the email lane's own budget.
    pub email_max_per_minute: u32,
    /// Updates one person may send at once before the per-person budget drops the rest (`FLOOD_BURST`,
    /// 0–1000, default 10; 0 turns the budget off).
    pub flood_burst: u32,
    /// Updates a second one person may send over time (`FLOOD_PER_SECOND`, 1–100, default 2).
    pub flood_per_second: u32,
    /// Where the coordinators' web console is served (`ADMIN_ADDR`, e.g. 127.0.0.1:8090); none = no console.
    pub admin_addr: Option<SocketAddr>,
    /// The console's address as coordinators' browsers reach it, through the reverse proxy
    /// (`ADMIN_PUBLIC_URL`, e.g. https://milava.example.org/console/): the sign-in links `/admin` sends start
    /// with it, and its cookie is `Secure` when it is https.
    pub admin_public_url: Option<url::Url>,
}

/// A URL that may carry credentials: `Debug` and `Display` show it with the password replaced.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretUrl(url::Url);

impl SecretUrl {
    /// The URL with its credentials, for the client that needs them.
    pub fn expose(&self) -> &str {
        self.0.as_str()
    }

    fn redacted(&self) -> String {
        let mut shown = self.0.clone();
        if shown.password().is_some() {
            let _ = shown.set_password(Some("***"));
        }
        shown.to_string()
    }
}

impl std::fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretUrl({})", self.redacted())
    }
}

impl std::fmt::Display for SecretUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

pub const DEFAULT_DATABASE_URL: &str = "sqlite://milava.db";
pub const DEFAULT_DELIVERY_MAX_PER_SECOND: u32 = 30;
pub const DEFAULT_DELIVERY_CONCURRENCY: usize = 1;
pub const DEFAULT_DELIVERY_RETENTION_DAYS: u32 = 30;
pub const DEFAULT_PERSONAL_DATA_RETENTION_DAYS: u32 = 180;
pub const DEFAULT_UNFINISHED_RETENTION_DAYS: u32 = 30;
pub const DEFAULT_WEBHOOK_LISTEN: &str = "127.0.0.1:8443";
pub const DEFAULT_WEBHOOK_HEADER_TIMEOUT_SECONDS: u32 = 10;
pub const DEFAULT_WEBHOOK_MAX_CONNECTIONS: u32 = 100;
pub const DEFAULT_SURVEY_MIN_RESPONSES: u32 = 5;
pub const DEFAULT_TELEGRAM_TIMEOUT_SECONDS: u32 = 17;
pub const DEFAULT_EMAIL_MAX_PER_MINUTE: u32 = 60;
pub const DEFAULT_FLOOD_BURST: u32 = 10;
pub const DEFAULT_FLOOD_PER_SECOND: u32 = 2;

impl Config {
    /// Reads the process environment (after `.env` has been loaded by the caller).
    pub fn from_env() -> Result<Config, ConfigError> {
        Self::from_lookup(|key| std::env::var(key).ok())
    }

    /// Builds a config from any key lookup; empty values count as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let get = |key: &str| {
            lookup(key)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };

        let token = match get("TELOXIDE_TOKEN") {
            Some(t) => Some(parse_token(&t)?),
            None => None,
        };
        let api_url = match get("TELOXIDE_API_URL") {
            Some(raw) => {
                let url = url::Url::parse(&raw)
                    .map_err(|e| bad("TELOXIDE_API_URL", format!("'{raw}' is not a URL ({e})")))?;
                if !matches!(url.scheme(), "http" | "https") {
                    return Err(bad(
                        "TELOXIDE_API_URL",
                        "must start with http:// or https://",
                    ));
                }
                Some(url)
            }
            None => None,
        };
        let database_url = get("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.into());
        if !database_url.starts_with("sqlite:") {
            return Err(bad(
                "DATABASE_URL",
                format!("'{database_url}' is not a SQLite URL (expected e.g. sqlite://milava.db)"),
            ));
        }
        let dialogues_dir =
            PathBuf::from(get("DIALOGUES_DIR").unwrap_or_else(|| "dialogues".into()));
        let timezone = match get("BOT_TIMEZONE") {
            Some(raw) => raw.parse::<Tz>().map_err(|_| {
                bad(
                    "BOT_TIMEZONE",
                    format!("'{raw}' is not an IANA time zone such as Europe/Helsinki"),
                )
            })?,
            None => chrono_tz::Europe::Helsinki,
        };
        let coordinator_ids = match get("COORDINATOR_IDS") {
            Some(raw) => parse_ids(&raw)?,
            None => BTreeSet::new(),
        };
        let default_language = match get("DEFAULT_LANGUAGE") {
            Some(raw) => Lang::parse(&raw).ok_or_else(|| {
                bad(
                    "DEFAULT_LANGUAGE",
                    format!("'{raw}' is not supported (use fi or en)"),
                )
            })?,
            None => Lang::Fi,
        };
        let delivery_max_per_second = match get("DELIVERY_MAX_PER_SECOND") {
            Some(raw) => parse_in_range("DELIVERY_MAX_PER_SECOND", &raw, 1, 30)?,
            None => DEFAULT_DELIVERY_MAX_PER_SECOND,
        };
        let delivery_concurrency = match get("DELIVERY_CONCURRENCY") {
            Some(raw) => parse_in_range("DELIVERY_CONCURRENCY", &raw, 1, 8)? as usize,
            None => DEFAULT_DELIVERY_CONCURRENCY,
        };
        let delivery_retention_days = match get("DELIVERY_RETENTION_DAYS") {
            Some(raw) => parse_in_range("DELIVERY_RETENTION_DAYS", &raw, 1, 3650)?,
            None => DEFAULT_DELIVERY_RETENTION_DAYS,
        };
        let personal_data_retention_days = match get("PERSONAL_DATA_RETENTION_DAYS") {
            Some(raw) => parse_in_range("PERSONAL_DATA_RETENTION_DAYS", &raw, 1, 3650)?,
            None => DEFAULT_PERSONAL_DATA_RETENTION_DAYS,
        };
        let unfinished_retention_days = match get("UNFINISHED_RETENTION_DAYS") {
            Some(raw) => parse_in_range("UNFINISHED_RETENTION_DAYS", &raw, 1, 3650)?,
            None => DEFAULT_UNFINISHED_RETENTION_DAYS,
        };
        let health_addr = match get("HEALTH_ADDR") {
            Some(raw) => Some(parse_addr("HEALTH_ADDR", &raw)?),
            None => None,
        };
        let webhook_listen = parse_addr(
            "WEBHOOK_LISTEN",
            &get("WEBHOOK_LISTEN").unwrap_or_else(|| DEFAULT_WEBHOOK_LISTEN.into()),
        )?;
        let webhook_secret = match get("WEBHOOK_SECRET") {
            Some(raw) => Some(parse_webhook_secret(&raw)?),
            None => None,
        };
        let webhook_header_timeout = match get("WEBHOOK_HEADER_TIMEOUT_SECONDS") {
            Some(raw) => parse_in_range("WEBHOOK_HEADER_TIMEOUT_SECONDS", &raw, 1, 300)?,
            None => DEFAULT_WEBHOOK_HEADER_TIMEOUT_SECONDS,
        };
        let webhook_max_connections = match get("WEBHOOK_MAX_CONNECTIONS") {
            Some(raw) => parse_in_range("WEBHOOK_MAX_CONNECTIONS", &raw, 1, 10_000)?,
            None => DEFAULT_WEBHOOK_MAX_CONNECTIONS,
        };
        let survey_min_responses = match get("SURVEY_MIN_RESPONSES") {
            Some(raw) => parse_in_range("SURVEY_MIN_RESPONSES", &raw, 1, 100)?,
            None => DEFAULT_SURVEY_MIN_RESPONSES,
        };
        let telegram_timeout = match get("TELEGRAM_TIMEOUT_SECONDS") {
            Some(raw) => parse_in_range("TELEGRAM_TIMEOUT_SECONDS", &raw, 1, 300)?,
            None => DEFAULT_TELEGRAM_TIMEOUT_SECONDS,
        };
        let smtp_url = match get("SMTP_URL") {
            Some(raw) => Some(parse_smtp_url(&raw)?),
            None => None,
        };
        let email_from = get("EMAIL_FROM");
        match (&smtp_url, &email_from) {
            (Some(_), None) => {
                return Err(bad(
                    "EMAIL_FROM",
                    "is needed with SMTP_URL (the sender's address, e.g. MILAVA <milava@oamk.fi>)",
                ));
            }
            (_, Some(from)) => {
                from.parse::<lettre::message::Mailbox>().map_err(|e| {
                    bad(
                        "EMAIL_FROM",
                        format!("'{from}' is not an email address ({e})"),
                    )
                })?;
            }
            _ => {}
        }
        let email_max_per_minute = match get("EMAIL_MAX_PER_MINUTE") {
            Some(raw) => parse_in_range("EMAIL_MAX_PER_MINUTE", &raw, 1, 600)?,
            None => DEFAULT_EMAIL_MAX_PER_MINUTE,
        };
        let flood_burst = match get("FLOOD_BURST") {
            Some(raw) => parse_in_range("FLOOD_BURST", &raw, 0, 1000)?,
            None => DEFAULT_FLOOD_BURST,
        };
        let flood_per_second = match get("FLOOD_PER_SECOND") {
            Some(raw) => parse_in_range("FLOOD_PER_SECOND", &raw, 1, 100)?,
            None => DEFAULT_FLOOD_PER_SECOND,
        };
        let admin_addr = match get("ADMIN_ADDR") {
            Some(raw) => Some(parse_addr("ADMIN_ADDR", &raw)?),
            None => None,
        };
        let admin_public_url = match get("ADMIN_PUBLIC_URL") {
            Some(raw) => Some(parse_public_url(&raw)?),
            None => None,
        };
        Ok(Config {
            admin_addr,
            admin_public_url,
            smtp_url,
            email_from,
            email_max_per_minute,
            flood_burst,
            flood_per_second,
            telegram_timeout: std::time::Duration::from_secs(telegram_timeout.into()),
            personal_data_retention_days,
            unfinished_retention_days,
            health_addr,
            webhook_listen,
            webhook_secret,
            webhook_header_timeout: std::time::Duration::from_secs(webhook_header_timeout.into()),
            webhook_max_connections: webhook_max_connections as usize,
            token,
            api_url,
            database_url,
            dialogues_dir,
            timezone,
            coordinator_ids,
            default_language,
            delivery_max_per_second,
            delivery_concurrency,
            delivery_retention_days,
            survey_min_responses,
        })
    }

    /// The token, or the error `run` reports when it is missing.
    pub fn require_token(&self) -> Result<&str, ConfigError> {
        self.token.as_deref().ok_or_else(|| {
            bad(
                "TELOXIDE_TOKEN",
                "is not set (get one from @BotFather and put it in .env)",
            )
        })
    }

    pub fn is_coordinator(&self, telegram_user_id: i64) -> bool {
        self.coordinator_ids.contains(&telegram_user_id)
    }

    /// Whether emails are sent (`SMTP_URL` is set).
    pub fn email_on(&self) -> bool {
        self.smtp_url.is_some()
    }
}

/// `http://` or `https://` with a host; a path without a trailing `/` gets one (links are joined to it).
fn parse_public_url(raw: &str) -> Result<url::Url, ConfigError> {
    let mut url = url::Url::parse(raw)
        .map_err(|e| bad("ADMIN_PUBLIC_URL", format!("'{raw}' is not a URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(bad(
            "ADMIN_PUBLIC_URL",
            "must start with https:// (or http:// for a test) and name a host",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("ADMIN_PUBLIC_URL", "must not have a query or fragment"));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

/// `smtp://` or `smtps://` with a host. The value is never repeated in the error: it may hold a password.
fn parse_smtp_url(raw: &str) -> Result<SecretUrl, ConfigError> {
    let url = url::Url::parse(raw).map_err(|e| bad("SMTP_URL", format!("is not a URL ({e})")))?;
    if !matches!(url.scheme(), "smtp" | "smtps") {
        return Err(bad(
            "SMTP_URL",
            "must start with smtp:// or smtps:// (e.g. smtps://user:password@mail.example.org)",
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("SMTP_URL", "names no mail server"));
    }
    Ok(SecretUrl(url))
}

/// A bot token looks like `123456789:AA…`; the value itself never appears in messages.
fn parse_token(raw: &str) -> Result<String, ConfigError> {
    let (id, secret) = raw.split_once(':').ok_or_else(|| {
        bad(
            "TELOXIDE_TOKEN",
            "does not look like a bot token (expected <digits>:<secret> from @BotFather)",
        )
    })?;
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) || secret.len() < 10 {
        return Err(bad(
            "TELOXIDE_TOKEN",
            "does not look like a bot token (expected <digits>:<secret> from @BotFather)",
        ));
    }
    Ok(raw.to_string())
}

/// An `address:port` to listen on.
fn parse_addr(setting: &'static str, raw: &str) -> Result<SocketAddr, ConfigError> {
    raw.parse().map_err(|_| {
        bad(
            setting,
            format!("'{raw}' is not an address:port such as 127.0.0.1:8080"),
        )
    })
}

/// Telegram accepts 1–256 characters `A-Z a-z 0-9 _ -` as the webhook's secret token. The value itself is
/// never echoed.
fn parse_webhook_secret(raw: &str) -> Result<String, ConfigError> {
    let allowed = raw
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !allowed || raw.len() > 256 {
        return Err(bad(
            "WEBHOOK_SECRET",
            "must be 1–256 characters of A–Z, a–z, 0–9, _ and - (Telegram's rule)",
        ));
    }
    if raw.len() < 16 {
        return Err(bad(
            "WEBHOOK_SECRET",
            "is too short to be a secret; use at least 16 characters (e.g. openssl rand -hex 32)",
        ));
    }
    Ok(raw.to_string())
}

/// A whole number between `min` and `max` (inclusive).
fn parse_in_range(
    setting: &'static str,
    raw: &str,
    min: u32,
    max: u32,
) -> Result<u32, ConfigError> {
    raw.parse::<u32>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| {
            bad(
                setting,
                format!("'{raw}' is not a whole number from {min} to {max}"),
            )
        })
}

fn parse_ids(raw: &str) -> Result<BTreeSet<i64>, ConfigError> {
    raw.split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| {
            part.parse::<i64>()
                .ok()
                .filter(|id| *id > 0)
                .ok_or_else(|| {
                    bad(
                        "COORDINATOR_IDS",
                        format!(
                            "'{part}' is not a Telegram user id (use numbers separated by commas)"
                        ),
                    )
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        let c = config(&[]).unwrap();
        assert_eq!(c.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(c.timezone, chrono_tz::Europe::Helsinki);
        assert_eq!(c.default_language, Lang::Fi);
        assert!(c.coordinator_ids.is_empty());
        assert_eq!(c.personal_data_retention_days, 180);
        assert_eq!(c.unfinished_retention_days, 30);
        assert_eq!(c.health_addr, None);
        assert_eq!(
            c.webhook_listen,
            "127.0.0.1:8443".parse().unwrap(),
            "only the reverse proxy on this machine reaches the webhook server"
        );
        assert_eq!(c.webhook_header_timeout, std::time::Duration::from_secs(10));
        assert_eq!(c.webhook_max_connections, 100);
        assert_eq!(c.webhook_secret, None);
        assert_eq!(c.require_token().unwrap_err().setting, "TELOXIDE_TOKEN");
    }

    #[test]
    fn each_malformed_setting_is_named() {
        for (key, value) in [
            ("TELOXIDE_TOKEN", "nonsense"),
            ("TELOXIDE_API_URL", "not a url"),
            ("DATABASE_URL", "postgres://x"),
            ("BOT_TIMEZONE", "Mars/Olympus"),
            ("COORDINATOR_IDS", "12,abc"),
            ("DEFAULT_LANGUAGE", "sv"),
            ("PERSONAL_DATA_RETENTION_DAYS", "0"),
            ("HEALTH_ADDR", "localhost"),
            ("WEBHOOK_LISTEN", "8443"),
            ("WEBHOOK_SECRET", "short"),
            ("WEBHOOK_HEADER_TIMEOUT_SECONDS", "0"),
            ("WEBHOOK_MAX_CONNECTIONS", "none"),
            ("WEBHOOK_SECRET", "has spaces in it, which Telegram refuses"),
        ] {
            let err = config(&[(key, value)]).unwrap_err();
            assert_eq!(err.setting, key, "{err}");
        }
    }

    #[test]
    fn email_settings_are_checked_and_the_password_is_never_shown() {
        let off = config(&[]).unwrap();
        assert!(!off.email_on());
        assert_eq!(off.email_max_per_minute, 60);
        let on = config(&[
            ("SMTP_URL", "smtps://milava:s3cret-pw@mail.example.org"),
            ("EMAIL_FROM", "MILAVA <milava@example.org>"),
        ])
        .unwrap();
        assert!(on.email_on());
        let url = on.smtp_url.as_ref().unwrap();
        assert!(url.expose().contains("s3cret-pw"), "the client gets it");
        for shown in [format!("{on:?}"), url.to_string()] {
            assert!(!shown.contains("s3cret-pw"), "{shown}");
            assert!(shown.contains("mail.example.org"), "{shown}");
        }
        for (pairs, setting) in [
            (vec![("SMTP_URL", "smtp://127.0.0.1:2525")], "EMAIL_FROM"),
            (
                vec![("SMTP_URL", "http://pw:x@host"), ("EMAIL_FROM", "a@b.fi")],
                "SMTP_URL",
            ),
            (
                vec![
                    ("SMTP_URL", "smtp://127.0.0.1"),
                    ("EMAIL_FROM", "no address"),
                ],
                "EMAIL_FROM",
            ),
            (vec![("EMAIL_MAX_PER_MINUTE", "0")], "EMAIL_MAX_PER_MINUTE"),
        ] {
            let err = config(&pairs).unwrap_err();
            assert_eq!(err.setting, setting, "{err}");
            assert!(!err.to_string().contains("pw:x"), "{err}");
        }
    }

    #[test]
    fn the_console_is_off_by_default_and_its_public_url_ends_with_a_slash() {
        let c = config(&[]).unwrap();
        assert_eq!((c.admin_addr, c.admin_public_url), (None, None));
        let c = config(&[
            ("ADMIN_ADDR", "127.0.0.1:8090"),
            ("ADMIN_PUBLIC_URL", "https://bot.example.org/console"),
        ])
        .unwrap();
        assert_eq!(c.admin_addr, Some("127.0.0.1:8090".parse().unwrap()));
        assert_eq!(
            c.admin_public_url.unwrap().as_str(),
            "https://bot.example.org/console/"
        );
        for (setting, value) in [
            ("ADMIN_ADDR", "localhost"),
            ("ADMIN_PUBLIC_URL", "bot.example.org"),
            ("ADMIN_PUBLIC_URL", "ftp://bot.example.org/"),
            ("ADMIN_PUBLIC_URL", "https://bot.example.org/?x=1"),
        ] {
            assert_eq!(config(&[(setting, value)]).unwrap_err().setting, setting);
        }
    }

    #[test]
    fn delivery_settings_have_defaults_and_bounds() {
        let c = config(&[]).unwrap();
        assert_eq!(c.delivery_max_per_second, 30);
        assert_eq!(c.delivery_concurrency, 1);
        assert_eq!(c.delivery_retention_days, 30);
        let c = config(&[
            ("DELIVERY_MAX_PER_SECOND", "12"),
            ("DELIVERY_CONCURRENCY", " 4 "),
            ("DELIVERY_RETENTION_DAYS", "7"),
        ])
        .unwrap();
        assert_eq!(
            (
                c.delivery_max_per_second,
                c.delivery_concurrency,
                c.delivery_retention_days
            ),
            (12, 4, 7)
        );
        for (key, value) in [
            ("DELIVERY_MAX_PER_SECOND", "0"),
            ("DELIVERY_MAX_PER_SECOND", "31"),
            ("DELIVERY_MAX_PER_SECOND", "2.5"),
            ("DELIVERY_CONCURRENCY", "0"),
            ("DELIVERY_CONCURRENCY", "9"),
            ("DELIVERY_RETENTION_DAYS", "-1"),
            ("DELIVERY_RETENTION_DAYS", "forever"),
        ] {
            let err = config(&[(key, value)]).unwrap_err();
            assert_eq!(err.setting, key, "{err}");
            assert!(err.to_string().contains(value), "{err}");
        }
    }

    #[test]
    fn coordinator_ids_are_parsed_and_the_token_is_not_echoed() {
        let c = config(&[
            ("COORDINATOR_IDS", " 11, 22 ,"),
            ("TELOXIDE_TOKEN", "42:secretsecret"),
        ])
        .unwrap();
        assert!(c.is_coordinator(11) && c.is_coordinator(22) && !c.is_coordinator(33));
        let err = config(&[("TELOXIDE_TOKEN", "42xyzzyxyzzy")]).unwrap_err();
        assert!(!err.to_string().contains("xyzzy"));
        let err = config(&[("WEBHOOK_SECRET", "xyzzy xyzzy xyzzy xyzzy")]).unwrap_err();
        assert!(!err.to_string().contains("xyzzy"), "{err}");
    }
}
