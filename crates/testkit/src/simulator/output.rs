//! How the simulator shows things: coloured on a terminal, plain in transcripts.
use std::fmt::Write as _;

pub struct Output {
    color: bool,
    /// Script mode keeps everything for the transcript; interactive mode prints at once.
    transcript: Option<String>,
}

#[derive(Clone, Copy)]
pub enum Style {
    Bot,
    Button,
    System,
    Error,
    Input,
}

impl Output {
    pub fn interactive(color: bool) -> Self {
        Output {
            color,
            transcript: None,
        }
    }

    pub fn scripted() -> Self {
        Output {
            color: false,
            transcript: Some(String::new()),
        }
    }

    pub fn line(&mut self, style: Style, text: &str) {
        let painted = if self.color {
            let code = match style {
                Style::Bot => "36",
                Style::Button => "33",
                Style::System => "2",
                Style::Error => "31",
                Style::Input => "1",
            };
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        };
        match &mut self.transcript {
            Some(transcript) => {
                let _ = writeln!(transcript, "{}", text.trim_end());
            }
            None => println!("{painted}"),
        }
    }

    pub fn take_transcript(&mut self) -> String {
        self.transcript.take().unwrap_or_default()
    }
}

/// A minimal line diff (longest common subsequence) for `--expect`.
pub fn diff(expected: &str, actual: &str) -> String {
    let a: Vec<&str> = expected.lines().collect();
    let b: Vec<&str> = actual.lines().collect();
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, String::new());
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            i += 1;
            j += 1;
        } else if j < b.len() && (i == a.len() || lcs[i][j + 1] > lcs[i + 1][j]) {
            let _ = writeln!(out, "+{:>5} | {}", j + 1, b[j]);
            j += 1;
        } else {
            let _ = writeln!(out, "-{:>5} | {}", i + 1, a[i]);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_shows_removed_and_added_lines() {
        assert_eq!(diff("a\nb\nc", "a\nb\nc"), "");
        assert_eq!(diff("a\nb\nc", "a\nx\nc"), "-    2 | b\n+    2 | x\n");
    }
}
