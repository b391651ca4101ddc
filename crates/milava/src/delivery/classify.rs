//! What a failed send means for the row, decided from teloxide's `RequestError` alone.
use std::time::Duration;
use teloxide::ApiError;
use teloxide::RequestError;

/// How long to hold everything when Telegram rejects the bot's token (nothing can be sent meanwhile, and
/// no row is given up for it).
pub const INVALID_TOKEN_PAUSE: Duration = Duration::from_secs(60);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorClass {
    /// Flood control (429 with `retry_after`) or a rejected token: stop all sending this long, then send
    /// the same row again. Not a failure of the row.
    PauseAll(Duration),
    /// The person blocked the bot, deleted their account, never started it, or the bot left the group:
    /// skip this chat.
    Unreachable,
    /// The group became a supergroup with this id: send there.
    Migrated(i64),
    /// Telegram refused this message for good (chat not found, text too long…).
    Permanent,
    /// Network trouble, a timeout, a dropped connection or a server error: try again later.
    Transient,
}

pub fn classify(error: &RequestError) -> ErrorClass {
    match error {
        RequestError::RetryAfter(seconds) => {
            ErrorClass::PauseAll(seconds.duration().max(Duration::from_secs(1)))
        }
        RequestError::MigrateToChatId(chat) => ErrorClass::Migrated(chat.0),
        RequestError::Api(api) => classify_api(api),
        // A proxy's HTML error page (e.g. 502 from a load balancer) does not parse as JSON.
        RequestError::InvalidJson { .. } => ErrorClass::Transient,
        RequestError::Network(_) | RequestError::Io(_) => ErrorClass::Transient,
    }
}

fn classify_api(error: &ApiError) -> ErrorClass {
    match error {
        ApiError::BotBlocked
        | ApiError::UserDeactivated
        | ApiError::CantInitiateConversation
        | ApiError::CantTalkWithBots
        | ApiError::BotKicked
        | ApiError::BotKickedFromSupergroup
        | ApiError::BotKickedFromChannel => ErrorClass::Unreachable,
        ApiError::InvalidToken => ErrorClass::PauseAll(INVALID_TOKEN_PAUSE),
        ApiError::Unknown(description) => classify_description(description),
        _ => ErrorClass::Permanent,
    }
}

/// Descriptions teloxide does not know (it drops the HTTP status, so server errors arrive as text too).
pub fn classify_description(description: &str) -> ErrorClass {
    let d = description.to_ascii_lowercase();
    let unreachable = [
        "bot was blocked",
        "user is deactivated",
        "can't initiate conversation",
        "bot was kicked",
        "bot is not a member",
        "can't send messages to bots",
    ];
    if (d.starts_with("forbidden") || d.starts_with("unauthorized"))
        && unreachable.iter().any(|u| d.contains(u))
    {
        return ErrorClass::Unreachable;
    }
    if d.starts_with("too many requests") {
        let seconds = d
            .rsplit(' ')
            .next()
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(5)
            .max(1);
        return ErrorClass::PauseAll(Duration::from_secs(seconds));
    }
    let server = [
        "internal server error",
        "bad gateway",
        "service unavailable",
        "gateway timeout",
        "gateway time-out",
    ];
    if server.iter().any(|s| d.starts_with(s)) {
        return ErrorClass::Transient;
    }
    ErrorClass::Permanent
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use teloxide::types::{ChatId, Seconds};

    #[test]
    fn flood_control_pauses_everything_for_the_time_asked() {
        assert_eq!(
            classify(&RequestError::RetryAfter(Seconds::from_seconds(7))),
            ErrorClass::PauseAll(Duration::from_secs(7))
        );
        assert_eq!(
            classify(&RequestError::RetryAfter(Seconds::from_seconds(0))),
            ErrorClass::PauseAll(Duration::from_secs(1)),
            "never a zero pause"
        );
        assert_eq!(
            classify_description("Too Many Requests: retry after 12"),
            ErrorClass::PauseAll(Duration::from_secs(12))
        );
    }

    #[test]
    fn blocked_deactivated_and_kicked_mean_unreachable() {
        for api in [
            ApiError::BotBlocked,
            ApiError::UserDeactivated,
            ApiError::CantInitiateConversation,
            ApiError::BotKickedFromSupergroup,
        ] {
            assert_eq!(
                classify(&RequestError::Api(api.clone())),
                ErrorClass::Unreachable,
                "{api}"
            );
        }
        // Telegram's current wording of some of these is not the one teloxide knows.
        for text in [
            "Forbidden: bot can't initiate conversation with a user",
            "Forbidden: bot was kicked from the group chat",
            "Forbidden: bot is not a member of the supergroup chat",
        ] {
            assert_eq!(
                classify(&RequestError::Api(ApiError::Unknown(text.into()))),
                ErrorClass::Unreachable,
                "{text}"
            );
        }
        assert_eq!(
            classify_description("Forbidden: not enough rights to send text messages to the chat"),
            ErrorClass::Permanent,
            "missing rights need a person, not a skip"
        );
    }

    #[test]
    fn a_migrated_group_gives_its_new_id() {
        assert_eq!(
            classify(&RequestError::MigrateToChatId(ChatId(-1001234))),
            ErrorClass::Migrated(-1001234)
        );
    }

    #[test]
    fn bad_requests_are_permanent() {
        assert_eq!(
            classify(&RequestError::Api(ApiError::ChatNotFound)),
            ErrorClass::Permanent
        );
        assert_eq!(
            classify(&RequestError::Api(ApiError::MessageIsTooLong)),
            ErrorClass::Permanent
        );
        assert_eq!(
            classify_description("Bad Request: something new"),
            ErrorClass::Permanent
        );
    }

    #[test]
    fn server_errors_and_broken_transport_are_transient() {
        for text in [
            "Bad Gateway",
            "Internal Server Error",
            "Gateway Timeout",
            "Service Unavailable",
        ] {
            assert_eq!(
                classify(&RequestError::Api(ApiError::Unknown(text.into()))),
                ErrorClass::Transient,
                "{text}"
            );
        }
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
        assert_eq!(
            classify(&RequestError::Io(Arc::new(io))),
            ErrorClass::Transient
        );
        let html = serde_json::from_str::<serde_json::Value>("<html>502</html>").unwrap_err();
        assert_eq!(
            classify(&RequestError::InvalidJson {
                source: Arc::new(html),
                raw: "<html>502</html>".into()
            }),
            ErrorClass::Transient
        );
    }

    #[test]
    fn a_rejected_token_pauses_instead_of_failing_rows() {
        assert_eq!(
            classify(&RequestError::Api(ApiError::InvalidToken)),
            ErrorClass::PauseAll(INVALID_TOKEN_PAUSE)
        );
    }
}
