//! Content for tests. The fixture folder (`tests/fixtures/dialogues`, a copy of the shipped content frozen
//! for the tests) is what the simulated bot reads unless told otherwise: tests may rely on its wording,
//! and an editor of the shipped texts in `dialogues/` never touches it, so rewording a sentence there breaks
//! no Rust test (the golden transcripts in `tests/transcripts` run on the shipped content on purpose). Where a
//! test needs other content, it edits a [`ContentCopy`] of the fixture.
use milava_bot::content::Content;
use milava_bot::domain::Lang;
use std::path::{Path, PathBuf};

/// The fixture content the tests run on.
pub fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/dialogues")
}

/// The shipped content (`dialogues/` at the repository root): for the golden transcripts and the check that
/// what ships is valid, not for tests of behaviour.
pub fn shipped_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../dialogues")
}

/// The fixture content, loaded once.
pub fn fixture() -> &'static Content {
    static CONTENT: std::sync::OnceLock<Content> = std::sync::OnceLock::new();
    CONTENT
        .get_or_init(|| milava_bot::content::load(&fixture_dir()).expect("fixture content loads"))
}

/// The text of `key` in `lang` as the fixture content has it, with its placeholders filled: tests compare
/// with it and check the parts the code fills in (titles, dates, times) themselves.
pub fn text(lang: Lang, key: &str, values: &[(&str, &str)]) -> String {
    fixture().fill(lang, key, values)
}

/// Copies a directory tree.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("directory created");
    for entry in std::fs::read_dir(from).expect("directory readable") {
        let entry = entry.expect("directory entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("file copied");
        }
    }
}

/// Replaces the first `from` in the file at `path` with `to`; `from` must be there.
pub fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).expect("file readable");
    assert!(
        text.contains(from),
        "{} does not contain {from:?}",
        path.display()
    );
    std::fs::write(path, text.replacen(from, to, 1)).expect("file written");
}

/// A copy of the fixture content to edit; the bot reads it with `DIALOGUES_DIR` (again at a restart or
/// `/reload`). Removed when dropped.
pub struct ContentCopy {
    dir: tempfile::TempDir,
}

impl Default for ContentCopy {
    fn default() -> Self {
        Self::new()
    }
}

impl ContentCopy {
    pub fn new() -> ContentCopy {
        let dir = tempfile::tempdir().expect("temp dir");
        copy_dir(&fixture_dir(), dir.path());
        ContentCopy { dir }
    }

    /// The folder, as a setting's value.
    pub fn path(&self) -> String {
        self.dir.path().display().to_string()
    }

    /// A file in the copy (`programme.toml`, `texts/fi.toml` …).
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Replaces `from` (which must occur exactly once) with `to` in programme.toml.
    pub fn edit_programme(&self, from: &str, to: &str) {
        let path = self.file("programme.toml");
        let text = std::fs::read_to_string(&path).expect("programme.toml");
        assert_eq!(text.matches(from).count(), 1, "'{from}' in programme.toml");
        std::fs::write(&path, text.replacen(from, to, 1)).expect("programme.toml written");
    }

    /// Removes one `[[series.session]]` block from programme.toml.
    pub fn remove_session(&self, id: &str) {
        let path = self.file("programme.toml");
        let text = std::fs::read_to_string(&path).expect("programme.toml");
        let marker = "[[series.session]]";
        let start = text
            .find(&format!("{marker}\nid = \"{id}\""))
            .unwrap_or_else(|| panic!("no session {id}"));
        let end = text[start + marker.len()..]
            .find(marker)
            .map(|i| start + marker.len() + i)
            .unwrap_or(text.len());
        std::fs::write(&path, format!("{}{}", &text[..start], &text[end..]))
            .expect("programme.toml written");
    }
}
