//! The bot's logger keeps personal data out of the log. Our own log lines never carry names, emails, free
//! texts or usernames (a test reads every log call in `src/`); teloxide's do: an update it cannot parse is
//! logged at ERROR in full ("Cannot parse an update … Value: {the JSON}", from
//! `teloxide::dispatching::dispatcher` in polling mode and `teloxide::update_listeners::webhooks::axum` in
//! webhook mode), with the person's name, username and message text. `PrivateLog` wraps the real logger and
//! replaces any teloxide record that carries an update with one line saying what happened, without it.
use log::{Log, Metadata, Record};

/// What teloxide's records that carry an update (or a part of one) contain.
const UPDATE_MARKERS: [&str; 6] = [
    "Cannot parse an update",
    "Unhandled update",
    "update_id",
    "first_name",
    "username",
    "\"text\"",
];

/// Said instead of such a record.
const REDACTED: &str =
    "an update could not be handled (its content is not logged: it holds personal data)";

pub struct PrivateLog<L> {
    inner: L,
}

impl<L: Log> PrivateLog<L> {
    pub fn new(inner: L) -> Self {
        Self { inner }
    }
}

/// Whether a record from `target` with this message must not be logged as it is.
pub fn carries_an_update(target: &str, message: &str) -> bool {
    target.starts_with("teloxide") && holds_update_content(message)
}

/// Whether `text` (say, an error's `Debug`) quotes an update or a part of one.
pub fn holds_update_content(text: &str) -> bool {
    UPDATE_MARKERS.iter().any(|m| text.contains(m))
}

/// `text` if it quotes no update, else only its first word (an error's kind, e.g. `InvalidJson`): teloxide's
/// errors for an unreadable `getUpdates` answer carry the whole answer.
pub fn without_update_content(text: String) -> String {
    if !holds_update_content(&text) {
        return text;
    }
    let kind = text
        .split(|c: char| !c.is_alphanumeric() && c != '_')
        .find(|w| !w.is_empty())
        .unwrap_or("error");
    format!("{kind} (the rest is not logged: it quotes an update, which holds personal data)")
}

impl<L: Log> Log for PrivateLog<L> {
    fn enabled(&self, metadata: &Metadata) -> bool {
        self.inner.enabled(metadata)
    }

    fn log(&self, record: &Record) {
        if !self.inner.enabled(record.metadata()) {
            return;
        }
        if record.target().starts_with("teloxide") {
            let message = record.args().to_string();
            if carries_an_update(record.target(), &message) {
                self.inner.log(
                    &Record::builder()
                        .metadata(record.metadata().clone())
                        .args(format_args!("{REDACTED}"))
                        .module_path(record.module_path())
                        .file(record.file())
                        .line(record.line())
                        .build(),
                );
                return;
            }
        }
        self.inner.log(record);
    }

    fn flush(&self) {
        self.inner.flush();
    }
}

/// Installs `env_logger` (configured from `RUST_LOG`, `default_level` otherwise) behind `PrivateLog`.
pub fn init(default_level: &str) {
    let inner =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(default_level))
            .build();
    let max = inner.filter();
    if log::set_boxed_logger(Box::new(PrivateLog::new(inner))).is_ok() {
        log::set_max_level(max);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Collect(Mutex<Vec<(String, String)>>);

    impl Log for Collect {
        fn enabled(&self, _: &Metadata) -> bool {
            true
        }
        fn log(&self, record: &Record) {
            self.0
                .lock()
                .unwrap()
                .push((record.target().to_string(), record.args().to_string()));
        }
        fn flush(&self) {}
    }

    #[test]
    fn teloxide_records_with_an_update_are_replaced_and_others_pass() {
        let log = PrivateLog::new(Collect::default());
        let update = r#"{"update_id":1,"message":{"from":{"first_name":"Zyxmarker","username":"zyx_marker"},"text":"zyx secret"}}"#;
        let message =
            format!("Cannot parse an update.\nError: oops\nValue: {update}\nThis is a bug");
        log.log(
            &Record::builder()
                .target("teloxide::update_listeners::webhooks::axum")
                .level(log::Level::Error)
                .args(format_args!("{message}"))
                .build(),
        );
        log.log(
            &Record::builder()
                .target("teloxide::dispatching::dispatcher")
                .level(log::Level::Error)
                .args(format_args!("Cannot parse an update.\nError: Object {{\"first_name\": String(\"Zyxmarker\")}}"))
                .build(),
        );
        log.log(
            &Record::builder()
                .target("teloxide::update_listeners::polling")
                .level(log::Level::Trace)
                .args(format_args!("polling polling stream"))
                .build(),
        );
        log.log(
            &Record::builder()
                .target("milava_bot::startup")
                .level(log::Level::Info)
                .args(format_args!("bot started"))
                .build(),
        );
        let lines = log.inner.0.lock().unwrap().clone();
        assert_eq!(lines.len(), 4);
        assert!(
            lines.iter().all(|(_, m)| !m.to_lowercase().contains("zyx")),
            "{lines:?}"
        );
        assert_eq!(lines[0].1, REDACTED);
        assert_eq!(lines[1].1, REDACTED);
        assert_eq!(lines[2].1, "polling polling stream");
        assert_eq!(lines[3].1, "bot started");
    }

    #[test]
    fn an_error_quoting_updates_keeps_only_its_kind() {
        let error = r#"Network(InvalidJson { raw: "{\"ok\":true,\"result\":[{\"update_id\":5,\"message\":{\"text\":\"zyx\"}}]}" })"#;
        assert_eq!(
            without_update_content(error.to_string()),
            "Network (the rest is not logged: it quotes an update, which holds personal data)"
        );
        assert_eq!(
            without_update_content("Network(timed out)".into()),
            "Network(timed out)"
        );
    }
}
