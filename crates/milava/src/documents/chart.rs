//! Bar charts of survey results as PNG images. Text is drawn with the embedded Noto Sans (ab_glyph), so the
//! image looks the same on every machine and Finnish letters render; `png` encodes it. Pure: no I/O.
use super::DocumentError;
use ab_glyph::{Font, FontRef, PxScale, ScaleFont, point};

const REGULAR_TTF: &[u8] = include_bytes!("../../assets/fonts/NotoSans-Regular.ttf");
const BOLD_TTF: &[u8] = include_bytes!("../../assets/fonts/NotoSans-Bold.ttf");

const WIDTH: u32 = 1000;
const MARGIN: f32 = 30.0;
const LABEL_WIDTH: f32 = 330.0;
const BAR_HEIGHT: f32 = 22.0;
const ROW: f32 = 30.0;
const BACKGROUND: [u8; 3] = [255, 255, 255];
const INK: [u8; 3] = [33, 37, 41];
const MUTED: [u8; 3] = [100, 106, 112];
const BAR: [u8; 3] = [46, 110, 168];
const TRACK: [u8; 3] = [232, 236, 240];

/// One question's bars.
#[derive(Clone, Debug, PartialEq)]
pub struct ChartSection {
    pub heading: String,
    /// E.g. "n = 6 · mean 3.8".
    pub note: String,
    /// Label and count of each answer, in the answers' order.
    pub bars: Vec<(String, usize)>,
}

/// A PNG with a title and one block of horizontal bars per section.
pub fn bar_chart(title: &str, sections: &[ChartSection]) -> Result<Vec<u8>, DocumentError> {
    let regular = FontRef::try_from_slice(REGULAR_TTF)
        .map_err(|_| DocumentError::Font("NotoSans-Regular"))?;
    let bold =
        FontRef::try_from_slice(BOLD_TTF).map_err(|_| DocumentError::Font("NotoSans-Bold"))?;
    let text_width = WIDTH as f32 - 2.0 * MARGIN;
    // Lay out first to know the height.
    let title_lines = wrap(&bold, 26.0, title, text_width);
    let mut height = MARGIN + title_lines.len() as f32 * 34.0 + 10.0;
    let mut blocks = Vec::new();
    for section in sections {
        let lines = wrap(&bold, 18.0, &section.heading, text_width);
        height += lines.len() as f32 * 24.0 + 22.0 + section.bars.len() as f32 * ROW + 24.0;
        blocks.push(lines);
    }
    let height = (height + MARGIN).ceil() as u32;
    let mut canvas = Canvas::new(WIDTH, height);
    let mut y = MARGIN;
    for line in &title_lines {
        canvas.text(&bold, 26.0, MARGIN, y + 26.0, line, INK);
        y += 34.0;
    }
    y += 10.0;
    let bar_left = MARGIN + LABEL_WIDTH + 20.0;
    let bar_span = WIDTH as f32 - MARGIN - 60.0 - bar_left;
    for (section, lines) in sections.iter().zip(&blocks) {
        for line in lines {
            canvas.text(&bold, 18.0, MARGIN, y + 18.0, line, INK);
            y += 24.0;
        }
        canvas.text(&regular, 15.0, MARGIN, y + 15.0, &section.note, MUTED);
        y += 22.0;
        let most = section
            .bars
            .iter()
            .map(|(_, n)| *n)
            .max()
            .unwrap_or(0)
            .max(1);
        for (label, count) in &section.bars {
            let shown = fit(&regular, 16.0, label, LABEL_WIDTH);
            canvas.text(&regular, 16.0, MARGIN, y + 20.0, &shown, INK);
            canvas.rect(bar_left, y + 4.0, bar_span, BAR_HEIGHT, TRACK);
            let length = bar_span * *count as f32 / most as f32;
            canvas.rect(bar_left, y + 4.0, length, BAR_HEIGHT, BAR);
            canvas.text(
                &bold,
                16.0,
                bar_left + length + 8.0,
                y + 20.0,
                &count.to_string(),
                INK,
            );
            y += ROW;
        }
        y += 24.0;
    }
    canvas.encode()
}

fn width(font: &FontRef<'_>, size: f32, text: &str) -> f32 {
    let scaled = font.as_scaled(PxScale::from(size));
    let mut total = 0.0;
    let mut previous = None;
    for c in text.chars() {
        let id = scaled.glyph_id(c);
        if let Some(p) = previous {
            total += scaled.kern(p, id);
        }
        total += scaled.h_advance(id);
        previous = Some(id);
    }
    total
}

/// Words wrapped to lines no wider than `max`.
fn wrap(font: &FontRef<'_>, size: f32, text: &str, max: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let candidate = if line.is_empty() {
            word.to_string()
        } else {
            format!("{line} {word}")
        };
        if width(font, size, &candidate) > max && !line.is_empty() {
            lines.push(std::mem::replace(&mut line, word.to_string()));
        } else {
            line = candidate;
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// The text, shortened with "…" to fit `max`.
fn fit(font: &FontRef<'_>, size: f32, text: &str, max: f32) -> String {
    if width(font, size, text) <= max {
        return text.to_string();
    }
    let mut chars: Vec<char> = text.chars().collect();
    while !chars.is_empty() {
        chars.pop();
        let candidate: String = chars.iter().collect::<String>() + "…";
        if width(font, size, &candidate) <= max {
            return candidate;
        }
    }
    String::new()
}

struct Canvas {
    width: u32,
    height: u32,
    pixels: Vec<u8>,
}

impl Canvas {
    fn new(width: u32, height: u32) -> Self {
        let pixels = BACKGROUND.repeat((width * height) as usize);
        Canvas {
            width,
            height,
            pixels,
        }
    }

    fn blend(&mut self, x: i64, y: i64, color: [u8; 3], coverage: f32) {
        if x < 0 || y < 0 || x >= i64::from(self.width) || y >= i64::from(self.height) {
            return;
        }
        let at = ((y as usize) * self.width as usize + x as usize) * 3;
        let a = coverage.clamp(0.0, 1.0);
        for (i, c) in color.iter().enumerate() {
            let old = f32::from(self.pixels[at + i]);
            self.pixels[at + i] = (old + (f32::from(*c) - old) * a).round() as u8;
        }
    }

    fn rect(&mut self, x: f32, y: f32, w: f32, h: f32, color: [u8; 3]) {
        let (x0, y0) = (x.round() as i64, y.round() as i64);
        let (x1, y1) = ((x + w).round() as i64, (y + h).round() as i64);
        for py in y0..y1 {
            for px in x0..x1 {
                self.blend(px, py, color, 1.0);
            }
        }
    }

    fn text(
        &mut self,
        font: &FontRef<'_>,
        size: f32,
        x: f32,
        baseline: f32,
        text: &str,
        color: [u8; 3],
    ) {
        let scale = PxScale::from(size);
        let scaled = font.as_scaled(scale);
        let mut caret = x;
        let mut previous = None;
        for c in text.chars() {
            let id = scaled.glyph_id(c);
            if let Some(p) = previous {
                caret += scaled.kern(p, id);
            }
            let glyph = id.with_scale_and_position(scale, point(caret, baseline));
            caret += scaled.h_advance(id);
            previous = Some(id);
            if let Some(outline) = font.outline_glyph(glyph) {
                let bounds = outline.px_bounds();
                outline.draw(|gx, gy, coverage| {
                    self.blend(
                        bounds.min.x as i64 + i64::from(gx),
                        bounds.min.y as i64 + i64::from(gy),
                        color,
                        coverage,
                    );
                });
            }
        }
    }

    fn encode(self) -> Result<Vec<u8>, DocumentError> {
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, self.width, self.height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder
            .write_header()
            .map_err(|e| DocumentError::Image(e.to_string()))?;
        writer
            .write_image_data(&self.pixels)
            .map_err(|e| DocumentError::Image(e.to_string()))?;
        writer
            .finish()
            .map_err(|e| DocumentError::Image(e.to_string()))?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_decodes_to_an_image_with_ink_on_it() {
        let png = bar_chart(
            "Palaute – Äänekoski",
            &[ChartSection {
                heading: "Tapaamisesta oli hyötyä työssäni isien kanssa.".into(),
                note: "n = 6 · keskiarvo 3,8".into(),
                bars: vec![
                    ("1 Täysin eri mieltä".into(), 0),
                    ("5 Täysin samaa mieltä".into(), 4),
                ],
            }],
        )
        .unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(png));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!(info.width, WIDTH);
        let bar_pixels = buf[..info.buffer_size()]
            .chunks(3)
            .filter(|p| *p == BAR)
            .count();
        assert!(bar_pixels > 1000, "the bar is drawn ({bar_pixels} pixels)");
        let dark = buf.chunks(3).filter(|p| p.iter().all(|c| *c < 80)).count();
        assert!(dark > 200, "text is drawn ({dark} dark pixels)");
    }
}
