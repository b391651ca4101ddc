//! The certificate of participation as a one-page A4 PDF (more pages only if the session list needs them).
//!
//! Layout, top to bottom: the title, the participant's name, the lead-in line, the series and the hours
//! attended, the attended sessions as a two-column list (date, title), and at the bottom of the last page the
//! place and date (the series' own place, the day it ended), the signer's name and title over a signature line
//! with the issuing organisation, the organisers and the funding line. Every text wraps to the width it has; nothing is cut off. Noto Sans (regular and
//! bold, `assets/fonts/`) is embedded, subsetted to the glyphs used, so Finnish letters render in any reader.
use super::DocumentError;
use crate::content::Content;
use crate::domain::Lang;
use crate::domain::programme::{Series, Session};
use chrono::NaiveDate;
use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::Metadata;
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};

const REGULAR_TTF: &[u8] = include_bytes!("../../assets/fonts/NotoSans-Regular.ttf");
const BOLD_TTF: &[u8] = include_bytes!("../../assets/fonts/NotoSans-Bold.ttf");

/// A4 in points.
const PAGE_WIDTH: f32 = 595.28;
const PAGE_HEIGHT: f32 = 841.89;
/// Left and right margin of the text.
const MARGIN: f32 = 68.0;
const CONTENT_WIDTH: f32 = PAGE_WIDTH - 2.0 * MARGIN;
/// Where the text starts on the first page and on further pages.
const FIRST_TOP: f32 = 104.0;
const NEXT_TOP: f32 = 80.0;
/// Lowest baseline on a page.
const BOTTOM: f32 = PAGE_HEIGHT - 64.0;
/// The frame around the page, this far from its edges.
const FRAME_INSET: f32 = 26.0;

/// Colours as red, green, blue.
type Rgb = (u8, u8, u8);
const INK: Rgb = (33, 37, 41);
const ACCENT: Rgb = (22, 94, 110);
const MUTED: Rgb = (96, 104, 112);

/// The texts of a certificate, already in the participant's language.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateData {
    /// The document's language (PDF metadata).
    pub lang: Lang,
    /// "Osallistumistodistus" / "Certificate of participation".
    pub title: String,
    pub name: String,
    /// The line between the name and the series, e.g. "has taken part in the MILAVA workshop series".
    pub lead_in: String,
    pub series: String,
    /// The hours attended, e.g. "Osallistumisen laajuus: 16 tuntia".
    pub hours: String,
    /// The heading above the list of sessions.
    pub sessions_heading: String,
    /// The attended sessions, in the order to show.
    pub sessions: Vec<CertificateSession>,
    /// Place and date, e.g. "Rovaniemellä 15.5.2024": where the series was held and the day it ended (the
    /// same every time the certificate is made).
    pub place_date: String,
    /// Who signs: name, title, and the organisation that issues the certificate.
    pub signer_name: String,
    pub signer_title: String,
    pub issuer: String,
    /// Who organises the programme; the first line (set in bold) names the programme, and each further line
    /// break starts a new line.
    pub organiser: String,
    /// Who funds it (the European Social Fund), as the seeds say it.
    pub funding: String,
}

/// One attended session on the certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateSession {
    pub date: String,
    pub title: String,
}

impl CertificateData {
    /// The certificate texts from the content (`certificate.document.*`) in `lang`: for `name`, who attended
    /// the `attended` sessions of `series` (shown in time order). Dated the day the series ended (`ended`,
    /// local), so a certificate made again is the same document.
    pub fn from_content(
        content: &Content,
        lang: Lang,
        name: &str,
        series: &Series,
        attended: &[&Session],
        ended: NaiveDate,
    ) -> Self {
        let minutes: i64 = attended
            .iter()
            .map(|s| (s.end - s.start).num_minutes().max(0))
            .sum();
        let place = match &series.place {
            Some(place) => place.get(lang).to_string(),
            None => content
                .text(lang, "certificate.document.default_place")
                .to_string(),
        };
        let series_name = series.name.get(lang);
        let mut sessions = attended.to_vec();
        sessions.sort_by_key(|s| s.start);
        let sessions: Vec<CertificateSession> = sessions
            .into_iter()
            .map(|session| CertificateSession {
                date: session.start.format("%-d.%-m.%Y").to_string(),
                title: match &session.theme {
                    Some(theme) => content.fill(
                        lang,
                        "certificate.document.session",
                        &[
                            ("title", session.title.get(lang)),
                            ("theme", theme.get(lang)),
                        ],
                    ),
                    None => session.title.get(lang).to_string(),
                },
            })
            .collect();
        CertificateData {
            lang,
            title: content.text(lang, "certificate.document.title").to_string(),
            name: name.trim().to_string(),
            lead_in: content.fill(
                lang,
                "certificate.document.lead_in",
                &[("series", series_name)],
            ),
            series: series_name.to_string(),
            hours: content.fill(
                lang,
                "certificate.document.hours",
                &[("hours", &hours(content, lang, minutes))],
            ),
            sessions_heading: content.fill(
                lang,
                "certificate.document.sessions_heading",
                &[
                    ("attended", &sessions.len().to_string()),
                    ("total", &series.sessions.len().to_string()),
                ],
            ),
            sessions,
            place_date: content.fill(
                lang,
                "certificate.document.place_date",
                &[
                    ("place", &place),
                    ("date", &ended.format("%-d.%-m.%Y").to_string()),
                ],
            ),
            signer_name: content
                .text(lang, "certificate.document.signer_name")
                .to_string(),
            signer_title: content
                .text(lang, "certificate.document.signer_title")
                .to_string(),
            issuer: content
                .text(lang, "certificate.document.issuer")
                .to_string(),
            organiser: content
                .text(lang, "certificate.document.organiser")
                .to_string(),
            funding: content
                .text(lang, "certificate.document.funding")
                .to_string(),
        }
    }
}

/// Hours as people write them: "16 tuntia", "1 tunti", "8,5 h" (English "16 hours", "8.5 hours"); a fraction
/// has at most two decimals.
pub fn hours(content: &Content, lang: Lang, minutes: i64) -> String {
    if minutes % 60 == 0 {
        let whole = minutes / 60;
        if whole == 1 {
            return content
                .text(lang, "certificate.document.hours_one")
                .to_string();
        }
        return content.fill(
            lang,
            "certificate.document.hours_whole",
            &[("n", &whole.to_string())],
        );
    }
    let number = format!("{:.2}", minutes as f64 / 60.0);
    let number = number.trim_end_matches('0').trim_end_matches('.');
    let number = match lang {
        Lang::Fi => number.replace('.', ","),
        Lang::En => number.to_string(),
    };
    content.fill(
        lang,
        "certificate.document.hours_fraction",
        &[("n", &number)],
    )
}

/// The certificate as PDF bytes.
pub fn certificate(c: &CertificateData) -> Result<Vec<u8>, DocumentError> {
    if c.title.trim().is_empty() {
        return Err(DocumentError::Empty("title"));
    }
    if c.name.trim().is_empty() {
        return Err(DocumentError::Empty("participant's name"));
    }
    let fonts = Fonts::load()?;
    let pages = layout(c, &fonts);

    let mut document = Document::new();
    document.set_metadata(
        Metadata::new()
            .title(format!("{} – {}", c.title.trim(), c.name.trim()))
            .language(c.lang.code().to_string())
            .creator("milava-bot".to_string()),
    );
    let settings = PageSettings::from_wh(PAGE_WIDTH, PAGE_HEIGHT)
        .ok_or(DocumentError::Pdf("page size".into()))?;
    for items in &pages {
        let mut page = document.start_page_with(settings.clone());
        let mut surface = page.surface();
        draw_frame(&mut surface);
        for item in items {
            draw(&mut surface, &fonts, item);
        }
        surface.finish();
        page.finish();
    }
    document
        .finish()
        .map_err(|e| DocumentError::Pdf(e.to_string()))
}

/// The two embedded fonts, for drawing (krilla) and for measuring (rustybuzz, the shaper krilla itself uses).
struct Fonts {
    regular: Font,
    bold: Font,
    regular_face: rustybuzz::Face<'static>,
    bold_face: rustybuzz::Face<'static>,
}

impl Fonts {
    fn load() -> Result<Self, DocumentError> {
        const REGULAR: &str = "NotoSans-Regular.ttf";
        const BOLD: &str = "NotoSans-Bold.ttf";
        Ok(Fonts {
            regular: Font::new(REGULAR_TTF.into(), 0).ok_or(DocumentError::Font(REGULAR))?,
            bold: Font::new(BOLD_TTF.into(), 0).ok_or(DocumentError::Font(BOLD))?,
            regular_face: rustybuzz::Face::from_slice(REGULAR_TTF, 0)
                .ok_or(DocumentError::Font(REGULAR))?,
            bold_face: rustybuzz::Face::from_slice(BOLD_TTF, 0).ok_or(DocumentError::Font(BOLD))?,
        })
    }

    /// The advance width of `text` set on one line, in points.
    fn width(&self, text: &str, style: &Style) -> f32 {
        let face = if style.bold {
            &self.bold_face
        } else {
            &self.regular_face
        };
        let mut buffer = rustybuzz::UnicodeBuffer::new();
        buffer.push_str(text);
        buffer.guess_segment_properties();
        let shaped = rustybuzz::shape(face, &[], buffer);
        let units: i64 = shaped
            .glyph_positions()
            .iter()
            .map(|p| i64::from(p.x_advance))
            .sum();
        units as f32 / face.units_per_em() as f32 * style.size
    }

    /// `text` broken into lines no wider than `width`: at spaces, after hyphens, and — for a word longer than
    /// a whole line — between characters. A line break in the text starts a new line.
    fn wrap(&self, text: &str, style: &Style, width: f32) -> Vec<String> {
        let mut lines = Vec::new();
        for paragraph in text.lines() {
            let mut line = String::new();
            for (piece, after_space) in pieces(paragraph) {
                let joined = if line.is_empty() {
                    piece.to_string()
                } else if after_space {
                    format!("{line} {piece}")
                } else {
                    format!("{line}{piece}")
                };
                if self.width(&joined, style) <= width {
                    line = joined;
                    continue;
                }
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                for c in piece.chars() {
                    let longer = format!("{line}{c}");
                    if !line.is_empty() && self.width(&longer, style) > width {
                        lines.push(std::mem::replace(&mut line, c.to_string()));
                    } else {
                        line = longer;
                    }
                }
            }
            lines.push(line);
        }
        lines
    }
}

/// The words of a paragraph split after hyphens and dashes, each with whether a space came before it.
fn pieces(paragraph: &str) -> Vec<(&str, bool)> {
    let mut result = Vec::new();
    for (index, word) in paragraph.split_whitespace().enumerate() {
        let mut start = 0;
        for (at, c) in word.char_indices() {
            let end = at + c.len_utf8();
            if matches!(c, '-' | '–' | '/') && end < word.len() && at > 0 {
                result.push((&word[start..end], index > 0 && start == 0));
                start = end;
            }
        }
        result.push((&word[start..], index > 0 && start == 0));
    }
    result
}

#[derive(Clone, Copy, Debug)]
struct Style {
    bold: bool,
    size: f32,
    color: Rgb,
    /// Distance between baselines, as a multiple of the size.
    leading: f32,
}

impl Style {
    const fn new(bold: bool, size: f32, color: Rgb, leading: f32) -> Self {
        Style {
            bold,
            size,
            color,
            leading,
        }
    }

    fn line_height(&self) -> f32 {
        self.size * self.leading
    }
}

const TITLE: Style = Style::new(true, 30.0, ACCENT, 1.2);
const NAME: Style = Style::new(true, 24.0, INK, 1.25);
const LEAD_IN: Style = Style::new(false, 12.5, INK, 1.4);
const SERIES: Style = Style::new(true, 16.0, ACCENT, 1.3);
const HEADING: Style = Style::new(true, 11.5, ACCENT, 1.3);
const ROW: Style = Style::new(false, 11.0, INK, 1.35);
const ROW_DATE: Style = Style::new(true, 11.0, INK, 1.35);
const PLACE_DATE: Style = Style::new(false, 11.0, INK, 1.35);
const ORGANISER_FIRST: Style = Style::new(true, 9.0, INK, 1.4);
const ORGANISER: Style = Style::new(false, 9.0, MUTED, 1.4);
const FUNDING: Style = Style::new(true, 9.0, ACCENT, 1.4);
const SIGNER: Style = Style::new(true, 11.0, INK, 1.35);
/// The signature line's length.
const SIGNATURE_WIDTH: f32 = 190.0;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Align {
    Left,
    Center,
}

/// Something to draw at a fixed place.
#[derive(Clone, Debug)]
enum Item {
    Text {
        x: f32,
        baseline: f32,
        text: String,
        style: Style,
    },
    Rule {
        x1: f32,
        x2: f32,
        y: f32,
        width: f32,
        color: Rgb,
    },
}

/// Places text on pages from the top down; starts a new page when the next line would not fit.
struct Flow<'f> {
    fonts: &'f Fonts,
    pages: Vec<Vec<Item>>,
    /// Top of the next line.
    y: f32,
}

impl Flow<'_> {
    fn items(&mut self) -> &mut Vec<Item> {
        if self.pages.is_empty() {
            self.pages.push(Vec::new());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    /// Makes room for `height` on the current page, or moves to a new one.
    fn room(&mut self, height: f32) {
        if self.y + height > BOTTOM && self.y > NEXT_TOP {
            self.pages.push(Vec::new());
            self.y = NEXT_TOP;
        }
    }

    fn space(&mut self, height: f32) {
        self.y += height;
    }

    fn paragraph(&mut self, text: &str, style: Style, align: Align, x: f32, width: f32) {
        for line in self.fonts.wrap(text, &style, width) {
            self.room(style.line_height());
            let x = match align {
                Align::Left => x,
                Align::Center => x + (width - self.fonts.width(&line, &style)).max(0.0) / 2.0,
            };
            let baseline = self.y + style.size;
            self.items().push(Item::Text {
                x,
                baseline,
                text: line,
                style,
            });
            self.y += style.line_height();
        }
    }

    fn rule(&mut self, x1: f32, x2: f32, width: f32, color: Rgb) {
        let y = self.y;
        self.items().push(Item::Rule {
            x1,
            x2,
            y,
            width,
            color,
        });
    }
}

/// Positions everything; returns the items of each page.
fn layout(c: &CertificateData, fonts: &Fonts) -> Vec<Vec<Item>> {
    let mut flow = Flow {
        fonts,
        pages: vec![Vec::new()],
        y: FIRST_TOP,
    };
    flow.paragraph(c.title.trim(), TITLE, Align::Center, MARGIN, CONTENT_WIDTH);
    flow.space(10.0);
    let middle = PAGE_WIDTH / 2.0;
    flow.rule(middle - 36.0, middle + 36.0, 2.0, ACCENT);
    flow.space(34.0);
    flow.paragraph(c.name.trim(), NAME, Align::Center, MARGIN, CONTENT_WIDTH);
    flow.space(14.0);
    flow.paragraph(
        c.lead_in.trim(),
        LEAD_IN,
        Align::Center,
        MARGIN,
        CONTENT_WIDTH,
    );
    flow.space(4.0);
    flow.paragraph(
        c.series.trim(),
        SERIES,
        Align::Center,
        MARGIN,
        CONTENT_WIDTH,
    );
    flow.space(6.0);
    flow.paragraph(
        c.hours.trim(),
        LEAD_IN,
        Align::Center,
        MARGIN,
        CONTENT_WIDTH,
    );

    if !c.sessions.is_empty() {
        flow.space(32.0);
        flow.room(HEADING.line_height() + 8.0 + ROW.line_height());
        flow.paragraph(
            c.sessions_heading.trim(),
            HEADING,
            Align::Left,
            MARGIN,
            CONTENT_WIDTH,
        );
        flow.space(2.0);
        flow.rule(MARGIN, MARGIN + CONTENT_WIDTH, 0.6, ACCENT);
        flow.space(10.0);
        let widest_date = c
            .sessions
            .iter()
            .map(|s| fonts.width(s.date.trim(), &ROW_DATE))
            .fold(0.0, f32::max);
        let date_column = (widest_date + 18.0).min(CONTENT_WIDTH * 0.4);
        let title_x = MARGIN + date_column;
        let title_width = CONTENT_WIDTH - date_column;
        for session in &c.sessions {
            let dates = fonts.wrap(session.date.trim(), &ROW_DATE, date_column - 10.0);
            let titles = fonts.wrap(session.title.trim(), &ROW, title_width);
            let rows = dates.len().max(titles.len());
            // Keep one session's lines together.
            flow.room(rows as f32 * ROW.line_height());
            let top = flow.y;
            for (index, line) in dates.into_iter().enumerate() {
                flow.items().push(Item::Text {
                    x: MARGIN,
                    baseline: top + ROW.size + index as f32 * ROW.line_height(),
                    text: line,
                    style: ROW_DATE,
                });
            }
            for (index, line) in titles.into_iter().enumerate() {
                flow.items().push(Item::Text {
                    x: title_x,
                    baseline: top + ROW.size + index as f32 * ROW.line_height(),
                    text: line,
                    style: ROW,
                });
            }
            flow.y = top + rows as f32 * ROW.line_height() + 5.0;
        }
    }

    // The closing block sits at the bottom of the last page; it gets a page of its own if the list is long.
    let mut closing = Flow {
        fonts,
        pages: vec![Vec::new()],
        y: 0.0,
    };
    closing.paragraph(
        c.place_date.trim(),
        PLACE_DATE,
        Align::Left,
        MARGIN,
        CONTENT_WIDTH,
    );
    // Room to sign above the line, then who signs and for which organisation.
    closing.space(30.0);
    closing.rule(MARGIN, MARGIN + SIGNATURE_WIDTH, 0.6, INK);
    closing.space(4.0);
    closing.paragraph(
        c.signer_name.trim(),
        SIGNER,
        Align::Left,
        MARGIN,
        SIGNATURE_WIDTH.max(CONTENT_WIDTH / 2.0),
    );
    for line in [c.signer_title.trim(), c.issuer.trim()] {
        closing.paragraph(line, PLACE_DATE, Align::Left, MARGIN, CONTENT_WIDTH);
    }
    closing.space(16.0);
    closing.rule(MARGIN, MARGIN + CONTENT_WIDTH, 0.6, MUTED);
    closing.space(10.0);
    // The organiser text's first line names the programme: it is set in bold.
    let organiser = c.organiser.trim();
    let (programme, partners) = organiser.split_once('\n').unwrap_or((organiser, ""));
    closing.paragraph(
        programme.trim(),
        ORGANISER_FIRST,
        Align::Left,
        MARGIN,
        CONTENT_WIDTH,
    );
    closing.paragraph(
        partners.trim(),
        ORGANISER,
        Align::Left,
        MARGIN,
        CONTENT_WIDTH,
    );
    closing.space(6.0);
    closing.paragraph(
        c.funding.trim(),
        FUNDING,
        Align::Left,
        MARGIN,
        CONTENT_WIDTH,
    );
    let height = closing.y;
    let top = (BOTTOM - height).max(NEXT_TOP);
    if flow.y + 28.0 > top {
        flow.pages.push(Vec::new());
    }
    let block = closing.pages.into_iter().flatten().map(|item| match item {
        Item::Text {
            x,
            baseline,
            text,
            style,
        } => Item::Text {
            x,
            baseline: baseline + top,
            text,
            style,
        },
        Item::Rule {
            x1,
            x2,
            y,
            width,
            color,
        } => Item::Rule {
            x1,
            x2,
            y: y + top,
            width,
            color,
        },
    });
    flow.items().extend(block);
    flow.pages
}

fn fill((red, green, blue): Rgb) -> Fill {
    Fill {
        paint: rgb::Color::new(red, green, blue).into(),
        opacity: NormalizedF32::ONE,
        rule: Default::default(),
    }
}

fn stroke((red, green, blue): Rgb, width: f32) -> Stroke {
    Stroke {
        paint: rgb::Color::new(red, green, blue).into(),
        width,
        ..Default::default()
    }
}

/// A thin double frame around the page.
fn draw_frame(surface: &mut Surface<'_>) {
    surface.set_fill(None);
    for (inset, width) in [(FRAME_INSET, 1.4), (FRAME_INSET + 4.0, 0.5)] {
        let mut path = PathBuilder::new();
        if let Some(rect) = Rect::from_xywh(
            inset,
            inset,
            PAGE_WIDTH - 2.0 * inset,
            PAGE_HEIGHT - 2.0 * inset,
        ) {
            path.push_rect(rect);
        }
        if let Some(path) = path.finish() {
            surface.set_stroke(Some(stroke(ACCENT, width)));
            surface.draw_path(&path);
        }
    }
    surface.set_stroke(None);
}

fn draw(surface: &mut Surface<'_>, fonts: &Fonts, item: &Item) {
    match item {
        Item::Text {
            x,
            baseline,
            text,
            style,
        } => {
            if text.is_empty() {
                return;
            }
            surface.set_stroke(None);
            surface.set_fill(Some(fill(style.color)));
            let font = if style.bold {
                fonts.bold.clone()
            } else {
                fonts.regular.clone()
            };
            surface.draw_text(
                Point::from_xy(*x, *baseline),
                font,
                style.size,
                text,
                false,
                TextDirection::Auto,
            );
        }
        Item::Rule {
            x1,
            x2,
            y,
            width,
            color,
        } => {
            let mut path = PathBuilder::new();
            path.move_to(*x1, *y);
            path.line_to(*x2, *y);
            if let Some(path) = path.finish() {
                surface.set_fill(None);
                surface.set_stroke(Some(stroke(*color, *width)));
                surface.draw_path(&path);
                surface.set_stroke(None);
            }
        }
    }
}

#[cfg(test)]
mod tests;
