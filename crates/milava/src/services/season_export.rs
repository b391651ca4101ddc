//! The programme as a programme.toml in the shipped file's layout (`milava-bot programme-export`), so that
//! what coordinators changed can be reviewed and committed. Cancelled sessions are left out (as if removed
//! from the file); the programme's end is stated in the header (content.toml holds its seed).
use crate::content::Content;
use crate::domain::Localized;
use crate::domain::reminders::ReminderOffset;
use std::fmt::Write;

fn text(value: &str) -> String {
    toml::Value::String(value.to_string()).to_string()
}

fn localized(value: &Localized) -> String {
    format!("{{ fi = {}, en = {} }}", text(&value.fi), text(&value.en))
}

fn local(at: chrono::NaiveDateTime) -> String {
    at.format("%Y-%m-%dT%H:%M:%S").to_string()
}

fn offset(offset: &ReminderOffset) -> String {
    match offset {
        ReminderOffset::DayBefore(time) => format!("day_before {}", time.format("%H:%M")),
        ReminderOffset::Before(lead) => format!("{}m", lead.num_minutes()),
    }
}

pub fn to_toml(content: &Content, now_local: chrono::NaiveDateTime) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Workshop series for professionals, exported from the bot's database on {} (milava-bot programme-export).",
        now_local.format("%Y-%m-%d %H:%M")
    );
    let _ = writeln!(
        out,
        "# The database is where the programme lives: this file seeds only series a database has never seen."
    );
    let _ = writeln!(
        out,
        "# Times are local wall times in BOT_TIMEZONE. The programme ends (in the database): {}.",
        content.programme_ends.format("%Y-%m-%d")
    );
    let offsets: Vec<String> = content
        .reminder_offsets
        .iter()
        .map(|o| text(&offset(o)))
        .collect();
    let _ = writeln!(out, "\n[reminders]\noffsets = [{}]", offsets.join(", "));
    for series in &content.series {
        let _ = writeln!(out, "\n[[series]]");
        let _ = writeln!(out, "id = {}", text(&series.id));
        let _ = writeln!(out, "code = {}", text(&series.code));
        let _ = writeln!(out, "name = {}", localized(&series.name));
        let _ = writeln!(out, "area = {}", text(&series.area));
        if let Some(place) = &series.place {
            let _ = writeln!(out, "place = {}", localized(place));
        }
        if let Some(capacity) = series.capacity {
            let _ = writeln!(out, "capacity = {capacity}");
        }
        if series.waitlist {
            let _ = writeln!(out, "waitlist = true");
        }
        if let Some(min) = series.certificate_min_sessions {
            let _ = writeln!(out, "certificate_min_sessions = {min}");
        }
        if let Some(opens) = series.registration_opens {
            let _ = writeln!(out, "registration_opens = {}", local(opens));
        }
        if let Some(closes) = series.registration_closes {
            let _ = writeln!(out, "registration_closes = {}", local(closes));
        }
        for session in series.sessions_in_order() {
            let _ = writeln!(out, "\n[[series.session]]");
            let _ = writeln!(out, "id = {}", text(&session.id));
            let _ = writeln!(out, "start = {}", local(session.start));
            let _ = writeln!(out, "end = {}", local(session.end));
            if let Some(place) = &session.place {
                let _ = writeln!(out, "place = {}", localized(place));
            }
            if session.online {
                let _ = writeln!(out, "online = true");
            }
            if let Some(link) = &session.link {
                let _ = writeln!(out, "link = {}", text(link));
            }
            let _ = writeln!(out, "title = {}", localized(&session.title));
            if let Some(theme) = &session.theme {
                let _ = writeln!(out, "theme = {}", localized(theme));
            }
        }
    }
    out
}
