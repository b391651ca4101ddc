//! Documents the bot sends as files, built in memory: iCalendar files of workshop sessions (`ics`) and PDF
//! certificates of participation (`certificate`), and PNG bar charts of survey results (`chart`). The generators are pure (no I/O, no clock) and take
//! already-localized text; `CalendarEvent::from_session` and `CertificateData::from_content` fill that text
//! from the content in the user's language.
pub mod certificate;
pub mod chart;
pub mod ics;
pub mod table;

pub use certificate::{CertificateData, CertificateSession, certificate};
pub use ics::{CalendarEvent, calendar};

/// Why a document could not be built.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    /// A text the document cannot do without is empty (e.g. the participant's name).
    #[error("the {0} of the document is empty")]
    Empty(&'static str),
    /// An embedded font could not be read (the file under assets/fonts/ is broken).
    #[error("the embedded font {0} could not be read")]
    Font(&'static str),
    /// The PDF writer refused the document.
    #[error("the PDF could not be written: {0}")]
    Pdf(String),
    /// The PNG encoder refused the image.
    #[error("the image could not be written: {0}")]
    Image(String),
    /// A spreadsheet could not be written (the xlsx writer's reason).
    #[error("the spreadsheet could not be written: {0}")]
    Table(String),
}
