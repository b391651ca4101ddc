//! Text keys the web console uses (`src/console/`, its templates, `services::console`): `check` requires each in
//! both languages. A new console page adds its own list here and a line in `ALL` (docs/console.md). Keys made at
//! run time (`console.overview.status.<status>`, `console.audit.action.<action>`) fall back to the raw value.

/// The layout: header, navigation, language switch, sign-out, footer.
pub const LAYOUT: &[&str] = &[
    "console.footer",
    "console.name",
    "console.nav.audit",
    "console.nav.label",
    "console.nav.overview",
    "console.sign_out",
    "console.skip",
    "console.switch_language",
];

/// Signing in: `/admin`'s answer in chat, the sign-in page and the page a link opens.
pub const SIGN_IN: &[&str] = &[
    "console.chat.link",
    "console.chat.off",
    "console.link.button",
    "console.link.hint",
    "console.link.intro",
    "console.link.title",
    "console.signin.ended",
    "console.signin.intro",
    "console.signin.signed_out",
    "console.signin.step_button",
    "console.signin.step_chat",
    "console.signin.step_link",
    "console.signin.title",
    "console.signin.who",
];

/// Refusals and errors (`page::message`: each has a `.title` and a `.text`).
pub const MESSAGES: &[&str] = &[
    "console.bad_form.text",
    "console.bad_form.title",
    "console.csrf.text",
    "console.csrf.title",
    "console.forbidden.text",
    "console.forbidden.title",
    "console.link_refused.text",
    "console.link_refused.title",
    "console.not_found.text",
    "console.not_found.title",
    "console.storage_failed.text",
    "console.storage_failed.title",
    "console.too_many.text",
    "console.too_many.title",
];

/// `/`, the overview.
pub const OVERVIEW: &[&str] = &[
    "console.overview.broadcasts",
    "console.overview.by_area",
    "console.overview.by_group",
    "console.overview.by_role",
    "console.overview.by_series",
    "console.overview.count",
    "console.overview.delivery",
    "console.overview.due",
    "console.overview.failed_last_day",
    "console.overview.in_progress",
    "console.overview.kind_column",
    "console.overview.name",
    "console.overview.next",
    "console.overview.next_at",
    "console.overview.no_broadcasts",
    "console.overview.no_sessions",
    "console.overview.none",
    "console.overview.oldest_due",
    "console.overview.outbox",
    "console.overview.registrations",
    "console.overview.sessions",
    "console.overview.status_column",
    "console.overview.title",
    "console.overview.total",
    "console.overview.unreachable",
    "console.overview.waves",
];

/// `/audit`, the audit log.
pub const AUDIT: &[&str] = &[
    "console.audit.action_column",
    "console.audit.actor",
    "console.audit.any_action",
    "console.audit.anyone",
    "console.audit.apply",
    "console.audit.bad_actor",
    "console.audit.bad_date",
    "console.audit.clear",
    "console.audit.detail",
    "console.audit.filter",
    "console.audit.from",
    "console.audit.next",
    "console.audit.none",
    "console.audit.pages",
    "console.audit.previous",
    "console.audit.shown",
    "console.audit.title",
    "console.audit.to",
    "console.audit.when",
];

/// Every list above.
pub const ALL: &[&[&str]] = &[LAYOUT, SIGN_IN, MESSAGES, OVERVIEW, AUDIT];
