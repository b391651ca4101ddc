//! The programme forms as templates show them: each field with its id, label, value and problems, already
//! in the page's language, so the templates only lay them out.
use super::page::Page;
use super::programme_form::{Fields, Problems, value};

/// One input.
pub struct FieldView {
    pub id: String,
    pub name: String,
    pub label: String,
    pub value: String,
    /// The input's type: text, date, time, number, datetime-local, url.
    pub kind: &'static str,
    pub errors: Vec<String>,
}

/// A choice among labelled values (a select).
pub struct SelectView {
    pub id: String,
    pub name: String,
    pub label: String,
    pub options: Vec<(String, String, bool)>,
    pub errors: Vec<String>,
}

/// The series' own fields.
pub struct SeriesForm {
    pub fields: Vec<FieldView>,
    pub area: SelectView,
    pub waitlist: bool,
    pub waitlist_id: String,
}

/// A session's fields.
pub struct SessionForm {
    /// Field names are `prefix` + field (`s2_title_fi`).
    pub prefix: String,
    pub texts: Vec<FieldView>,
    pub times: Vec<FieldView>,
    pub online: bool,
    pub place: Vec<FieldView>,
    pub link: FieldView,
    pub mode_label: String,
}

fn errors(page: &Page, problems: &Problems, name: &str) -> Vec<String> {
    problems
        .of(name)
        .iter()
        .map(|k| page.t(k).to_string())
        .collect()
}

fn field(
    page: &Page,
    values: &Fields,
    problems: &Problems,
    (id, prefix, labels): (&str, &str, &str),
    name: &str,
    kind: &'static str,
) -> FieldView {
    let full = format!("{prefix}{name}");
    FieldView {
        id: format!("{id}{name}"),
        label: page
            .t(&format!("console.programme.{labels}.{name}"))
            .to_string(),
        value: value(values, &full).to_string(),
        errors: errors(page, problems, &full),
        name: full,
        kind,
    }
}

/// The series form; `with_id` adds the id field (a new series).
pub fn series_form(page: &Page, values: &Fields, problems: &Problems, with_id: bool) -> SeriesForm {
    let at = ("series-", "", "series_field");
    let f = |name, kind| field(page, values, problems, at, name, kind);
    let mut fields = Vec::new();
    if with_id {
        fields.push(f("id", "text"));
    }
    fields.extend([
        f("code", "text"),
        f("name_fi", "text"),
        f("name_en", "text"),
        f("place_fi", "text"),
        f("place_en", "text"),
        f("capacity", "number"),
        f("certificate_min_sessions", "number"),
        f("registration_opens", "datetime-local"),
        f("registration_closes", "datetime-local"),
    ]);
    let chosen = value(values, "area");
    let options = match crate::domain::Field::Area.shape() {
        crate::domain::fields::FieldShape::Choice(values) => values
            .iter()
            .map(|v| {
                let label = page.t(&format!("console.programme.area.{v}")).to_string();
                (v.to_string(), label, *v == chosen)
            })
            .collect(),
        _ => Vec::new(),
    };
    SeriesForm {
        fields,
        area: SelectView {
            id: "series-area".into(),
            name: "area".into(),
            label: page.t("console.programme.series_field.area").to_string(),
            options,
            errors: errors(page, problems, "area"),
        },
        waitlist: !value(values, "waitlist").is_empty(),
        waitlist_id: "series-waitlist".into(),
    }
}

/// A session form: names after `prefix`, ids after `id` (`s2-title_fi`).
pub fn session_form(
    page: &Page,
    values: &Fields,
    problems: &Problems,
    id: &str,
    prefix: &str,
) -> SessionForm {
    let at = (id, prefix, "field");
    let f = |name, kind| field(page, values, problems, at, name, kind);
    SessionForm {
        prefix: prefix.to_string(),
        texts: vec![
            f("title_fi", "text"),
            f("title_en", "text"),
            f("theme_fi", "text"),
            f("theme_en", "text"),
        ],
        times: vec![f("date", "date"), f("start", "time"), f("end", "time")],
        online: value(values, &format!("{prefix}mode")) == "online",
        place: vec![f("place_fi", "text"), f("place_en", "text")],
        link: f("link", "url"),
        mode_label: page.t("console.programme.field.mode").to_string(),
    }
}
