//! Text out of a merchant's uploaded document: PDF, DOCX, TXT or Markdown.
//!
//! The result is a title and a list of sections. A section's `heading` is the whole heading
//! path (`"Delivery > Amman"`): the chunker copies it to every chunk, so a chunk about Amman
//! still says it is about delivery.
//!
//! - **PDF** (`lopdf`): one section per page, no headings; the title from the document info.
//!   Text is read from each page's content stream through the fonts' encodings and
//!   `/ToUnicode` maps. Arabic PDFs written by LibreOffice, Word, Chrome and most producers draw
//!   shaped glyphs in *visual* order (left to right on the page), so a plain read reverses every
//!   Arabic line (`ليصوتلا` for `التوصيل`), and LibreOffice also writes the bidi runs of a line
//!   (Arabic, a number, Arabic) each from its own position. So the text pieces of a line are
//!   sorted by position into visual order, and each line is then put back in reading order:
//!   reversed, with runs of Latin text and numbers kept left to right and brackets mirrored
//!   (an approximation of the Unicode bidi algorithm that is right for ordinary shop text; a
//!   line mixing a number and a Latin word in the same run can come out in the wrong order).
//!   A document whose Arabic words already read forwards (`ال…` at the start of words
//!   outnumbering `…لا` at the end) is not reversed. Marks drawn as separate raised
//!   glyphs (shadda, tanween) are kept after their letter. Not read: text in form XObjects,
//!   annotations and form fields; scanned pages (no text) are skipped, and a PDF with no text
//!   at all is refused with [`ExtractError::NoTextLayer`].
//! - **DOCX** (`zip` + `quick-xml`): paragraphs of `word/document.xml`; Heading 1–3 styles
//!   (by style name through `word/styles.xml`, so localised style ids work) or `w:outlineLvl`
//!   0–2 start sections; table rows become `cell | cell` lines; the title is `dc:title` or the
//!   first Title-styled paragraph.
//! - **TXT / Markdown**: UTF-8 with or without BOM (UTF-16 with a BOM is accepted too, as
//!   Notepad's "Unicode" writes it); Markdown `#` and underlined headings start sections, the
//!   first level-1 heading is the title.
//!
//! Caps: input over [`MAX_INPUT_BYTES`] is refused, text beyond [`MAX_TEXT_CHARS`] is dropped
//! (`truncated` says so), a DOCX may not expand past [`MAX_DOCX_UNCOMPRESSED_BYTES`] nor hold
//! more than [`MAX_DOCX_ENTRIES`] entries, and each PDF stream may not decompress past
//! [`MAX_PDF_STREAM_BYTES`]. Every error's `Display` is a sentence for the merchant; `detail()`
//! gives the technical cause for logs.

use std::collections::{BTreeMap, HashMap};
use std::io::{Cursor, Read};

use quick_xml::events::{BytesStart, Event};
use unicode_segmentation::UnicodeSegmentation;

/// Largest upload accepted, in bytes (20 MB).
pub const MAX_INPUT_BYTES: usize = 20 * 1024 * 1024;
/// Extracted text kept per document, in characters; the rest is dropped.
pub const MAX_TEXT_CHARS: usize = 2_000_000;
/// Bytes a DOCX may expand to: the declared sizes of all entries, and what is actually inflated.
pub const MAX_DOCX_UNCOMPRESSED_BYTES: u64 = 50 * 1024 * 1024;
/// Entries a DOCX may hold (real ones have tens).
pub const MAX_DOCX_ENTRIES: usize = 2_000;
/// Bytes any one PDF stream (page content, object stream, CMap) may decompress to.
pub const MAX_PDF_STREAM_BYTES: usize = 32 * 1024 * 1024;

/// The formats a merchant can upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocumentKind {
    Pdf,
    Docx,
    Txt,
    Markdown,
}

impl DocumentKind {
    /// The kind of an upload: by content first (`%PDF-`; a zip holding `word/document.xml`),
    /// then by file extension (`.txt`, `.md`, `.markdown`), then by a text content type.
    /// `None` for anything else, including a zip that is not a Word document and a file named
    /// `.pdf` or `.docx` whose bytes are not one.
    pub fn detect(
        filename: &str,
        content_type: Option<&str>,
        bytes: &[u8],
    ) -> Option<DocumentKind> {
        if looks_like_pdf(bytes) {
            return Some(DocumentKind::Pdf);
        }
        if bytes.starts_with(b"PK\x03\x04") {
            let is_docx = zip::ZipArchive::new(Cursor::new(bytes))
                .map(|archive| archive.index_for_name("word/document.xml").is_some())
                .unwrap_or(false);
            return is_docx.then_some(DocumentKind::Docx);
        }
        let name = filename.trim().to_ascii_lowercase();
        if let Some((_, ext)) = name.rsplit_once('.') {
            match ext {
                "txt" | "text" => return Some(DocumentKind::Txt),
                "md" | "markdown" | "mdown" | "mkd" => return Some(DocumentKind::Markdown),
                _ => {}
            }
        }
        let mime = content_type
            .and_then(|ct| ct.split(';').next())
            .map(|ct| ct.trim().to_ascii_lowercase())
            .unwrap_or_default();
        match mime.as_str() {
            "text/plain" => Some(DocumentKind::Txt),
            "text/markdown" | "text/x-markdown" => Some(DocumentKind::Markdown),
            _ => None,
        }
    }

    /// A stable lower-case name (`pdf`, `docx`, `txt`, `markdown`), for storage and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentKind::Pdf => "pdf",
            DocumentKind::Docx => "docx",
            DocumentKind::Txt => "txt",
            DocumentKind::Markdown => "markdown",
        }
    }
}

/// `%PDF-` at the start, or within the first KB of a file that also ends like a PDF
/// (readers accept a little junk before the header).
fn looks_like_pdf(bytes: &[u8]) -> bool {
    if bytes.starts_with(b"%PDF-") {
        return true;
    }
    let head = &bytes[..bytes.len().min(1024)];
    let tail = &bytes[bytes.len().saturating_sub(1024)..];
    find(head, b"%PDF-").is_some() && find(tail, b"%%EOF").is_some()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A document's text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExtractedText {
    pub title: Option<String>,
    /// In document order; none has empty `text`.
    pub sections: Vec<Section>,
    /// True when text beyond [`MAX_TEXT_CHARS`] was dropped.
    pub truncated: bool,
}

/// A run of text under one heading (or a PDF page).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Section {
    /// The heading path, outermost first, joined by `" > "` (`"التوصيل > عمّان"`).
    pub heading: Option<String>,
    /// Paragraphs separated by a blank line; lines within a paragraph by `\n`.
    pub text: String,
}

impl ExtractedText {
    /// Characters of text in all sections.
    pub fn char_count(&self) -> usize {
        self.sections.iter().map(|s| s.text.chars().count()).sum()
    }
}

/// Why a document gave no text. `Display` is written for the merchant.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error("This file is larger than {max_mb} MB. Split it into smaller files (or remove large images) and upload them one by one.")]
    TooLarge { max_mb: usize },
    #[error("This text file is not saved as UTF-8. Open it, save it again with the UTF-8 encoding (in Notepad: File > Save as > Encoding: UTF-8), and upload it again.")]
    NotUtf8,
    #[error(
        "This PDF has no text layer (it may be a scanned image); upload a text PDF or a DOCX."
    )]
    NoTextLayer,
    #[error("This PDF is protected by a password. Remove the password (or save a copy without one) and upload it again.")]
    Encrypted,
    #[error("This PDF could not be read; it may be damaged. Export it again from the original program, or upload a DOCX.")]
    InvalidPdf { detail: String },
    #[error("This Word file could not be read; it may be damaged. Save it again as .docx in Word (or export a PDF) and upload it again.")]
    InvalidDocx { detail: String },
    #[error("This is an old Word (.doc) file or a password-protected Word file. Open it in Word, save it as .docx without a password, and upload it again.")]
    LegacyOrProtectedWord,
    #[error("This Word file expands to more than {max_mb} MB of data, which is too much to read. Remove large images or split it, and upload it again.")]
    DocxTooLarge { max_mb: u64 },
    #[error("This file has no text in it.")]
    Empty,
    #[error("This file type is not supported. Upload a PDF, a Word document (.docx), a text file (.txt) or a Markdown file (.md).")]
    Unsupported,
}

impl ExtractError {
    /// The technical cause, for logs (never shown to the merchant).
    pub fn detail(&self) -> String {
        match self {
            ExtractError::InvalidPdf { detail } | ExtractError::InvalidDocx { detail } => {
                detail.clone()
            }
            other => format!("{other:?}"),
        }
    }
}

/// The text of `bytes`, read as `kind` (see [`DocumentKind::detect`]).
///
/// CPU-bound (a large PDF takes a while): call it from `tokio::task::spawn_blocking`.
pub fn extract_text(bytes: &[u8], kind: DocumentKind) -> Result<ExtractedText, ExtractError> {
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(ExtractError::TooLarge {
            max_mb: MAX_INPUT_BYTES / (1024 * 1024),
        });
    }
    let raw = match kind {
        DocumentKind::Pdf => pdf::extract(bytes)?,
        DocumentKind::Docx => docx::extract(bytes)?,
        DocumentKind::Txt => {
            let text = decode_text_file(bytes)?;
            let mut builder = SectionBuilder::default();
            builder.text_block(&text);
            builder.finish(None)
        }
        DocumentKind::Markdown => markdown::extract(&decode_text_file(bytes)?),
    };
    let out = finish(raw);
    if out.sections.is_empty() {
        return Err(if kind == DocumentKind::Pdf {
            ExtractError::NoTextLayer
        } else {
            ExtractError::Empty
        });
    }
    Ok(out)
}

/// UTF-8 (BOM optional), or UTF-16 with a BOM. Anything else — Windows-1256 above all — is
/// refused rather than guessed, and so is binary content (NUL bytes).
fn decode_text_file(bytes: &[u8]) -> Result<String, ExtractError> {
    let text = if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        std::str::from_utf8(rest)
            .map_err(|_| ExtractError::NotUtf8)?
            .to_owned()
    } else if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        decode_utf16(rest, u16::from_le_bytes)?
    } else if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        decode_utf16(rest, u16::from_be_bytes)?
    } else {
        std::str::from_utf8(bytes)
            .map_err(|_| ExtractError::NotUtf8)?
            .to_owned()
    };
    if text.contains('\0') {
        return Err(ExtractError::NotUtf8);
    }
    Ok(text)
}

fn decode_utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> Result<String, ExtractError> {
    if !bytes.len().is_multiple_of(2) {
        return Err(ExtractError::NotUtf8);
    }
    let units: Vec<u16> = bytes.chunks_exact(2).map(|b| unit([b[0], b[1]])).collect();
    String::from_utf16(&units).map_err(|_| ExtractError::NotUtf8)
}

/// Normalises every section (line ends, control characters, blank-line runs, spaces at line
/// ends), drops empty ones and applies [`MAX_TEXT_CHARS`].
fn finish(raw: ExtractedText) -> ExtractedText {
    let mut out = ExtractedText {
        title: raw
            .title
            .map(|t| collapse_spaces(&t))
            .filter(|t| !t.is_empty()),
        ..Default::default()
    };
    let mut budget = MAX_TEXT_CHARS;
    out.truncated = raw.truncated;
    for section in raw.sections {
        let mut text = normalize_block(&section.text);
        if text.is_empty() {
            continue;
        }
        let chars = text.chars().count();
        if chars > budget {
            text = cut_at_grapheme(&text, budget).trim_end().to_owned();
            out.truncated = true;
        }
        budget -= text.chars().count().min(budget);
        if !text.is_empty() {
            out.sections.push(Section {
                heading: section
                    .heading
                    .map(|h| collapse_spaces(&h))
                    .filter(|h| !h.is_empty()),
                text,
            });
        }
        if out.truncated {
            break;
        }
    }
    out
}

/// The longest prefix of `text` with at most `max_chars` characters that ends on a grapheme
/// boundary.
fn cut_at_grapheme(text: &str, max_chars: usize) -> &str {
    let mut end = 0;
    let mut count = 0;
    for (i, g) in text.grapheme_indices(true) {
        count += g.chars().count();
        if count > max_chars {
            break;
        }
        end = i + g.len();
    }
    &text[..end]
}

fn normalize_block(text: &str) -> String {
    let mut lines: Vec<String> = Vec::new();
    for line in text.replace("\r\n", "\n").replace('\r', "\n").split('\n') {
        let cleaned: String = line
            .chars()
            .filter(|c| *c == '\t' || !(c.is_control() || *c == '\u{FEFF}'))
            .collect();
        lines.push(cleaned.trim_end().to_owned());
    }
    let mut out = String::new();
    let mut blank_run = 0;
    for line in lines {
        if line.trim().is_empty() {
            blank_run += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank_run > 0 { "\n\n" } else { "\n" });
        }
        blank_run = 0;
        out.push_str(&line);
    }
    out
}

fn collapse_spaces(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Builds sections from headings and paragraphs, keeping the heading path.
#[derive(Default)]
struct SectionBuilder {
    path: Vec<(u8, String)>,
    current: Option<String>,
    text: String,
    sections: Vec<(Option<String>, usize, String)>,
    chars: usize,
    truncated: bool,
}

impl SectionBuilder {
    fn heading(&mut self, level: u8, title: &str) {
        let title = collapse_spaces(title);
        if title.is_empty() {
            return;
        }
        self.flush();
        while self.path.last().is_some_and(|(l, _)| *l >= level) {
            self.path.pop();
        }
        self.path.push((level, title));
        self.current = Some(
            self.path
                .iter()
                .map(|(_, t)| t.as_str())
                .collect::<Vec<_>>()
                .join(" > "),
        );
    }

    /// A paragraph: separated from the previous one by a blank line.
    fn paragraph(&mut self, text: &str) {
        let text = text.trim();
        if text.is_empty() {
            return;
        }
        if !self.text.is_empty() {
            self.text.push_str("\n\n");
        }
        self.push(text);
    }

    /// Text whose own line breaks are kept as they are.
    fn text_block(&mut self, text: &str) {
        if !self.text.is_empty() && !self.text.ends_with('\n') {
            self.text.push('\n');
        }
        self.push(text);
    }

    fn push(&mut self, text: &str) {
        // Stop collecting well past the cap, so a huge document does not fill memory; `finish`
        // cuts exactly.
        if self.chars > MAX_TEXT_CHARS {
            self.truncated = true;
            return;
        }
        self.chars += text.chars().count();
        self.text.push_str(text);
    }

    fn flush(&mut self) {
        let text = std::mem::take(&mut self.text);
        let depth = self.path.len();
        self.sections.push((self.current.clone(), depth, text));
    }

    /// A heading with no text and no sub-heading after it keeps its own words as its text, so
    /// "# Open daily 10:00–22:00" followed by another heading is not lost.
    fn finish(mut self, title: Option<String>) -> ExtractedText {
        self.flush();
        let mut sections = Vec::new();
        for i in 0..self.sections.len() {
            let (heading, depth, text) = &self.sections[i];
            let has_child = self
                .sections
                .get(i + 1)
                .is_some_and(|(_, next_depth, _)| next_depth > depth);
            let text = if text.trim().is_empty() && !has_child {
                heading
                    .as_deref()
                    .and_then(|h| h.rsplit(" > ").next())
                    .unwrap_or_default()
                    .to_owned()
            } else {
                text.clone()
            };
            sections.push(Section {
                heading: heading.clone(),
                text,
            });
        }
        ExtractedText {
            title,
            sections,
            truncated: self.truncated,
        }
    }
}

mod markdown {
    use super::{ExtractedText, SectionBuilder};

    /// `#`…`######` headings (not inside ``` or ~~~ fences) and `===` / `---` underlined ones.
    pub(super) fn extract(text: &str) -> ExtractedText {
        let lines: Vec<&str> = text.lines().collect();
        let mut builder = SectionBuilder::default();
        let mut title = None;
        let mut fence: Option<&str> = None;
        let mut block = String::new();
        let mut i = 0;
        while i < lines.len() {
            let line = lines[i];
            let trimmed = line.trim_start();
            let indent = line.len() - trimmed.len();
            if let Some(marker) = fence {
                if trimmed.starts_with(marker) {
                    fence = None;
                }
                push_line(&mut block, line);
                i += 1;
                continue;
            }
            if indent <= 3 && (trimmed.starts_with("```") || trimmed.starts_with("~~~")) {
                fence = Some(&trimmed[..3]);
                push_line(&mut block, line);
                i += 1;
                continue;
            }
            let heading = atx_heading(line).or_else(|| {
                let previous_blank = i == 0 || lines[i - 1].trim().is_empty();
                let next = lines.get(i + 1).copied().unwrap_or_default();
                (previous_blank && !line.trim().is_empty() && indent <= 3)
                    .then(|| setext_level(next))
                    .flatten()
                    .map(|level| (level, line.trim().to_owned()))
            });
            match heading {
                Some((level, text)) => {
                    builder.text_block(&std::mem::take(&mut block));
                    if level == 1 && title.is_none() {
                        title = Some(text.clone());
                    }
                    builder.heading(level, &text);
                    // An underlined heading also consumes its underline.
                    i += if atx_heading(line).is_some() { 1 } else { 2 };
                }
                None => {
                    push_line(&mut block, line);
                    i += 1;
                }
            }
        }
        builder.text_block(&block);
        builder.finish(title)
    }

    fn push_line(block: &mut String, line: &str) {
        block.push_str(line);
        block.push('\n');
    }

    fn atx_heading(line: &str) -> Option<(u8, String)> {
        let trimmed = line.trim_start();
        if line.len() - trimmed.len() > 3 {
            return None;
        }
        let level = trimmed.chars().take_while(|c| *c == '#').count();
        if !(1..=6).contains(&level) {
            return None;
        }
        let rest = &trimmed[level..];
        if !(rest.is_empty() || rest.starts_with([' ', '\t'])) {
            return None;
        }
        let mut text = rest.trim();
        // A closing run of #s, when a space stands before it.
        let without_closing = text.trim_end_matches('#');
        if without_closing.is_empty() || without_closing.ends_with([' ', '\t']) {
            text = without_closing.trim_end();
        }
        Some((level as u8, text.to_owned()))
    }

    fn setext_level(line: &str) -> Option<u8> {
        let trimmed = line.trim();
        if line.len() - line.trim_start().len() > 3 || trimmed.is_empty() {
            return None;
        }
        if trimmed.chars().all(|c| c == '=') {
            Some(1)
        } else if trimmed.chars().all(|c| c == '-') {
            Some(2)
        } else {
            None
        }
    }
}

mod docx {
    use super::*;
    use quick_xml::Reader;

    struct Style {
        name: String,
        based_on: Option<String>,
        outline_level: Option<u8>,
    }

    #[derive(Clone, Copy, PartialEq, Eq)]
    enum Role {
        Title,
        Heading(u8),
        Body,
    }

    #[derive(Default)]
    struct Paragraph {
        text: String,
        style: Option<String>,
        outline_level: Option<u8>,
        list_item: bool,
    }

    pub(super) fn extract(bytes: &[u8]) -> Result<ExtractedText, ExtractError> {
        if bytes.starts_with(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1") {
            return Err(ExtractError::LegacyOrProtectedWord);
        }
        let invalid = |detail: String| ExtractError::InvalidDocx { detail };
        let mut archive =
            zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| invalid(format!("zip: {e}")))?;
        if archive.len() > MAX_DOCX_ENTRIES {
            return Err(ExtractError::DocxTooLarge {
                max_mb: MAX_DOCX_UNCOMPRESSED_BYTES / (1024 * 1024),
            });
        }
        let mut declared: u64 = 0;
        for i in 0..archive.len() {
            let entry = archive
                .by_index_raw(i)
                .map_err(|e| invalid(format!("zip entry {i}: {e}")))?;
            declared = declared.saturating_add(entry.size());
        }
        if declared > MAX_DOCX_UNCOMPRESSED_BYTES {
            return Err(ExtractError::DocxTooLarge {
                max_mb: MAX_DOCX_UNCOMPRESSED_BYTES / (1024 * 1024),
            });
        }
        let mut budget = MAX_DOCX_UNCOMPRESSED_BYTES;
        let document = read_entry(&mut archive, "word/document.xml", &mut budget)?
            .ok_or_else(|| invalid("no word/document.xml".into()))?;
        let styles = match read_entry(&mut archive, "word/styles.xml", &mut budget)? {
            Some(xml) => parse_styles(&xml).map_err(|e| invalid(format!("styles.xml: {e}")))?,
            None => HashMap::new(),
        };
        let core_title = match read_entry(&mut archive, "docProps/core.xml", &mut budget)? {
            Some(xml) => core_title(&xml),
            None => None,
        };
        parse_document(&document, &styles, core_title)
            .map_err(|e| invalid(format!("document.xml: {e}")))
    }

    /// An entry's text, inflating no more than what is left of `budget` (the sizes a zip
    /// declares are not trusted).
    fn read_entry(
        archive: &mut zip::ZipArchive<Cursor<&[u8]>>,
        name: &str,
        budget: &mut u64,
    ) -> Result<Option<String>, ExtractError> {
        let too_large = || ExtractError::DocxTooLarge {
            max_mb: MAX_DOCX_UNCOMPRESSED_BYTES / (1024 * 1024),
        };
        let entry = match archive.by_name(name) {
            Ok(entry) => entry,
            Err(zip::result::ZipError::FileNotFound) => return Ok(None),
            Err(e) => {
                return Err(ExtractError::InvalidDocx {
                    detail: format!("{name}: {e}"),
                })
            }
        };
        if entry.size() > *budget {
            return Err(too_large());
        }
        let mut data = Vec::new();
        entry
            .take(*budget + 1)
            .read_to_end(&mut data)
            .map_err(|e| ExtractError::InvalidDocx {
                detail: format!("{name}: {e}"),
            })?;
        if data.len() as u64 > *budget {
            return Err(too_large());
        }
        *budget -= data.len() as u64;
        let text = String::from_utf8(data).map_err(|_| ExtractError::InvalidDocx {
            detail: format!("{name} is not UTF-8"),
        })?;
        Ok(Some(text))
    }

    fn local(name: &[u8]) -> &[u8] {
        match name.iter().rposition(|b| *b == b':') {
            Some(i) => &name[i + 1..],
            None => name,
        }
    }

    /// The value of the attribute whose local name is `key` (`w:val` → `val`).
    fn attr(e: &BytesStart<'_>, key: &[u8]) -> Option<String> {
        e.attributes()
            .flatten()
            .find(|a| local(a.key.as_ref()) == key)
            .and_then(|a| {
                a.normalized_value(quick_xml::XmlVersion::default())
                    .ok()
                    .map(|v| v.into_owned())
            })
    }

    fn parse_styles(xml: &str) -> Result<HashMap<String, Style>, quick_xml::Error> {
        let mut reader = Reader::from_str(xml);
        let mut styles = HashMap::new();
        let mut current: Option<(String, Style)> = None;
        loop {
            match reader.read_event()? {
                Event::Start(e) | Event::Empty(e) => match local(e.name().as_ref()) {
                    b"style" => {
                        if let Some((id, style)) = current.take() {
                            styles.insert(id, style);
                        }
                        if let Some(id) = attr(&e, b"styleId") {
                            current = Some((
                                id,
                                Style {
                                    name: String::new(),
                                    based_on: None,
                                    outline_level: None,
                                },
                            ));
                        }
                    }
                    b"name" => {
                        if let Some((_, style)) = current.as_mut() {
                            style.name = attr(&e, b"val").unwrap_or_default();
                        }
                    }
                    b"basedOn" => {
                        if let Some((_, style)) = current.as_mut() {
                            style.based_on = attr(&e, b"val");
                        }
                    }
                    b"outlineLvl" => {
                        if let Some((_, style)) = current.as_mut() {
                            style.outline_level = attr(&e, b"val").and_then(|v| v.parse().ok());
                        }
                    }
                    _ => {}
                },
                Event::End(e) if local(e.name().as_ref()) == b"style" => {
                    if let Some((id, style)) = current.take() {
                        styles.insert(id, style);
                    }
                }
                Event::Eof => break,
                _ => {}
            }
        }
        Ok(styles)
    }

    fn heading_level_of_name(name: &str) -> Option<u8> {
        let compact: String = name
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase();
        compact
            .strip_prefix("heading")
            .and_then(|n| n.parse::<u8>().ok())
    }

    fn style_role(styles: &HashMap<String, Style>, id: &str) -> Role {
        let mut id = id.to_owned();
        for _ in 0..16 {
            let Some(style) = styles.get(&id) else {
                break;
            };
            if style.name.eq_ignore_ascii_case("title") {
                return Role::Title;
            }
            if let Some(level) = heading_level_of_name(&style.name) {
                return Role::Heading(level);
            }
            if let Some(level) = style.outline_level {
                return if level < 9 {
                    Role::Heading(level + 1)
                } else {
                    Role::Body
                };
            }
            match &style.based_on {
                Some(parent) => id = parent.clone(),
                None => break,
            }
        }
        // No styles.xml entry: Word's and LibreOffice's own ids.
        if id.eq_ignore_ascii_case("title") {
            return Role::Title;
        }
        heading_level_of_name(&id)
            .map(Role::Heading)
            .unwrap_or(Role::Body)
    }

    fn core_title(xml: &str) -> Option<String> {
        let mut reader = Reader::from_str(xml);
        let mut in_title = false;
        let mut title = String::new();
        loop {
            match reader.read_event().ok()? {
                Event::Start(e) if local(e.name().as_ref()) == b"title" => in_title = true,
                Event::End(e) if local(e.name().as_ref()) == b"title" => break,
                Event::Text(t) if in_title => title.push_str(&t.decode().ok()?),
                Event::GeneralRef(r) if in_title => title.push_str(&resolve_ref(&r)?),
                Event::Eof => break,
                _ => {}
            }
        }
        Some(title.trim().to_owned()).filter(|t| !t.is_empty())
    }

    fn resolve_ref(r: &quick_xml::events::BytesRef<'_>) -> Option<String> {
        if let Ok(Some(c)) = r.resolve_char_ref() {
            return Some(c.to_string());
        }
        let s = match r.decode().ok()?.as_ref() {
            "amp" => "&",
            "lt" => "<",
            "gt" => ">",
            "quot" => "\"",
            "apos" => "'",
            _ => "",
        };
        Some(s.to_owned())
    }

    /// What an element inside a paragraph adds to it: its style, outline level or list
    /// membership (inside `w:pPr`), or a tab, line break or hyphen (inside runs).
    fn element(e: &BytesStart<'_>, in_ppr: usize, paragraph: Option<&mut Paragraph>) {
        let Some(p) = paragraph else { return };
        match local(e.name().as_ref()) {
            b"pStyle" if in_ppr > 0 => p.style = attr(e, b"val"),
            b"outlineLvl" if in_ppr > 0 => {
                p.outline_level = attr(e, b"val").and_then(|v| v.parse().ok())
            }
            b"numId" if in_ppr > 0 => p.list_item = attr(e, b"val").is_some_and(|v| v != "0"),
            b"tab" if in_ppr == 0 => p.text.push('\t'),
            b"br" | b"cr" if in_ppr == 0 => p.text.push('\n'),
            b"noBreakHyphen" if in_ppr == 0 => p.text.push('-'),
            _ => {}
        }
    }

    fn parse_document(
        xml: &str,
        styles: &HashMap<String, Style>,
        core_title: Option<String>,
    ) -> Result<ExtractedText, quick_xml::Error> {
        let mut reader = Reader::from_str(xml);
        let mut builder = SectionBuilder::default();
        let mut title = core_title;
        let mut paragraphs: Vec<Paragraph> = Vec::new();
        let mut in_ppr = 0usize;
        let mut in_text = false;
        let mut skip = 0usize; // inside mc:Fallback (a copy of mc:Choice)
        let mut table_depth = 0usize;
        let mut cell = String::new();
        let mut row: Vec<String> = Vec::new();

        // What a finished paragraph becomes.
        let emit = |p: Paragraph,
                    table_depth: usize,
                    cell: &mut String,
                    builder: &mut SectionBuilder,
                    title: &mut Option<String>| {
            let text = p.text.trim();
            if table_depth > 0 {
                if !text.is_empty() {
                    if !cell.is_empty() {
                        cell.push(' ');
                    }
                    cell.push_str(&collapse_spaces(text));
                }
                return;
            }
            let role = match p.outline_level {
                Some(level) if level < 9 => Role::Heading(level + 1),
                Some(_) => Role::Body,
                None => p
                    .style
                    .as_deref()
                    .map(|s| style_role(styles, s))
                    .unwrap_or(Role::Body),
            };
            match role {
                Role::Title if title.is_none() && !text.is_empty() => {
                    *title = Some(collapse_spaces(text))
                }
                Role::Heading(level) if (1..=3).contains(&level) && !text.is_empty() => {
                    builder.heading(level, text)
                }
                _ if p.list_item && !text.is_empty() => builder.paragraph(&format!("- {text}")),
                _ => builder.paragraph(text),
            }
        };

        loop {
            let event = reader.read_event()?;
            if skip > 0 {
                match &event {
                    Event::Start(e) if local(e.name().as_ref()) == b"Fallback" => skip += 1,
                    Event::End(e) if local(e.name().as_ref()) == b"Fallback" => skip -= 1,
                    Event::Eof => break,
                    _ => {}
                }
                continue;
            }
            match event {
                Event::Start(e) => {
                    match local(e.name().as_ref()) {
                        b"Fallback" => skip = 1,
                        b"p" => paragraphs.push(Paragraph::default()),
                        b"pPr" => in_ppr += 1,
                        b"t" => in_text = in_ppr == 0,
                        b"tbl" => table_depth += 1,
                        b"tr" if table_depth == 1 => row.clear(),
                        b"tc" if table_depth == 1 => cell.clear(),
                        _ => {}
                    }
                    element(&e, in_ppr, paragraphs.last_mut());
                }
                Event::Empty(e) => element(&e, in_ppr, paragraphs.last_mut()),
                Event::End(e) => match local(e.name().as_ref()) {
                    b"p" => {
                        if let Some(p) = paragraphs.pop() {
                            emit(p, table_depth, &mut cell, &mut builder, &mut title);
                        }
                    }
                    b"pPr" => in_ppr = in_ppr.saturating_sub(1),
                    b"t" => in_text = false,
                    b"tc" if table_depth == 1 => row.push(std::mem::take(&mut cell)),
                    b"tr" if table_depth == 1 => {
                        let cells: Vec<String> = row.drain(..).filter(|c| !c.is_empty()).collect();
                        builder.paragraph(&cells.join(" | "));
                    }
                    b"tbl" => table_depth = table_depth.saturating_sub(1),
                    _ => {}
                },
                Event::Text(t) if in_text => {
                    if let Some(p) = paragraphs.last_mut() {
                        p.text
                            .push_str(&t.decode().map_err(quick_xml::Error::from)?);
                    }
                }
                Event::CData(t) if in_text => {
                    if let Some(p) = paragraphs.last_mut() {
                        p.text
                            .push_str(&t.decode().map_err(quick_xml::Error::from)?);
                    }
                }
                Event::GeneralRef(r) if in_text => {
                    if let (Some(p), Some(s)) = (paragraphs.last_mut(), resolve_ref(&r)) {
                        p.text.push_str(&s);
                    }
                }
                Event::Eof => break,
                _ => {}
            }
        }
        Ok(builder.finish(title))
    }
}

mod pdf {
    use super::*;
    use lopdf::content::Content;
    use lopdf::{Document, Encoding, LoadOptions, Object, ObjectId};

    pub(super) fn extract(bytes: &[u8]) -> Result<ExtractedText, ExtractError> {
        // lopdf is defensive, but a parser fed merchants' files should not take the process
        // down: a panic inside it is a damaged PDF.
        let result = std::panic::catch_unwind(|| extract_inner(bytes));
        match result {
            Ok(result) => result,
            Err(_) => Err(ExtractError::InvalidPdf {
                detail: "the PDF parser panicked".into(),
            }),
        }
    }

    fn extract_inner(bytes: &[u8]) -> Result<ExtractedText, ExtractError> {
        let options = LoadOptions {
            max_decompressed_size: Some(MAX_PDF_STREAM_BYTES),
            ..Default::default()
        };
        let doc = match Document::load_mem_with_options(bytes, options) {
            Ok(doc) => doc,
            Err(lopdf::Error::InvalidPassword | lopdf::Error::Decryption(_)) => {
                return Err(ExtractError::Encrypted)
            }
            Err(e) => {
                return Err(ExtractError::InvalidPdf {
                    detail: e.to_string(),
                })
            }
        };
        // Loaded but still encrypted: a user password is needed (an empty one was tried).
        if doc.is_encrypted() && !doc.was_encrypted() {
            return Err(ExtractError::Encrypted);
        }
        let mut pages = Vec::new();
        let mut chars = 0usize;
        let mut truncated = false;
        let mut first_error = None;
        for (_, page_id) in doc.get_pages() {
            if chars > MAX_TEXT_CHARS {
                truncated = true;
                break;
            }
            match page_text(&doc, page_id) {
                Ok(text) => {
                    chars += text.chars().count();
                    pages.push(text);
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                    pages.push(String::new());
                }
            }
        }
        if pages.iter().all(|p| p.trim().is_empty()) {
            if let Some(e) = first_error {
                return Err(ExtractError::InvalidPdf {
                    detail: e.to_string(),
                });
            }
        }
        if !arabic_reads_forwards(pages.iter().map(String::as_str)) {
            pages = pages
                .iter()
                .map(|p| {
                    p.lines()
                        .map(visual_to_logical)
                        .collect::<Vec<_>>()
                        .join("\n")
                })
                .collect();
        }
        let sections = pages
            .into_iter()
            .map(|text| Section {
                heading: None,
                text,
            })
            .collect();
        Ok(ExtractedText {
            title: info_title(&doc),
            sections,
            truncated,
        })
    }

    fn info_title(doc: &Document) -> Option<String> {
        let info = doc.trailer.get(b"Info").ok()?;
        let info = match info {
            Object::Reference(id) => doc.get_dictionary(*id).ok()?,
            Object::Dictionary(d) => d,
            _ => return None,
        };
        let title = info.get(b"Title").ok()?;
        let title = match title {
            Object::Reference(id) => doc.get_object(*id).ok()?,
            other => other,
        };
        lopdf::decode_text_string(title)
            .ok()
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty())
    }

    /// The page's lines, each in *visual* order (left to right as drawn).
    ///
    /// Text is collected in segments: the strings shown from one text position until the
    /// next move (`Td`, `Tm`, `T*`, a new `BT` or graphics matrix). Within a segment the glyphs
    /// are drawn left to right, so they are in visual order, but producers emit the segments
    /// of a line in any order (LibreOffice writes the bidi runs of an Arabic line in reading
    /// order, each from its own position). So segments are grouped into lines by height, in
    /// stream order, and each line's segments are sorted by their x position. A segment of
    /// combining marks only (a shadda or tanween placed over its letter) stays where the
    /// stream put it, after the segment before it. Segments that meet without a space on
    /// either side are joined with one, unless a mark is at the seam; a wide negative `TJ`
    /// adjustment is a space too. Form XObjects are not read.
    fn page_text(doc: &Document, page_id: ObjectId) -> lopdf::Result<String> {
        let fonts = doc.get_page_fonts(page_id)?;
        let encodings: BTreeMap<Vec<u8>, Encoding<'_>> = fonts
            .into_iter()
            .filter_map(|(name, font)| {
                font.get_font_encoding_with_limit(doc, MAX_PDF_STREAM_BYTES)
                    .ok()
                    .map(|e| (name, e))
            })
            .collect();
        let content = doc.get_page_content_with_limit(page_id, MAX_PDF_STREAM_BYTES)?;
        let content = Content::decode(&content)?;
        let mut w = TextWriter::default();
        let mut encoding: Option<&Encoding<'_>> = None;
        for op in &content.operations {
            let num = |i: usize| {
                op.operands
                    .get(i)
                    .and_then(|o| o.as_float().ok())
                    .unwrap_or(0.0)
            };
            let matrix = || [num(0), num(1), num(2), num(3), num(4), num(5)];
            match op.operator.as_str() {
                "q" => w.ctm_stack.push(w.ctm),
                "Q" => {
                    w.ctm = w.ctm_stack.pop().unwrap_or(IDENTITY);
                    w.open = false;
                }
                "cm" => {
                    w.ctm = multiply(matrix(), w.ctm);
                    w.open = false;
                }
                "BT" => w.set_line_matrix(IDENTITY),
                "Tf" => {
                    encoding = op
                        .operands
                        .first()
                        .and_then(|o| o.as_name().ok())
                        .and_then(|n| encodings.get(n));
                    w.font_size = num(1).abs();
                }
                "TL" => w.leading = num(0),
                "Td" => w.translate(num(0), num(1)),
                "TD" => {
                    w.leading = -num(1);
                    w.translate(num(0), num(1));
                }
                "Tm" => w.set_line_matrix(matrix()),
                "T*" => w.translate(0.0, -w.leading),
                "Tj" | "TJ" | "'" | "\"" => {
                    if op.operator == "'" || op.operator == "\"" {
                        w.translate(0.0, -w.leading);
                    }
                    let Some(encoding) = encoding else { continue };
                    let operands: &[Object] = if op.operator == "\"" {
                        op.operands.get(2..).unwrap_or(&[])
                    } else {
                        &op.operands
                    };
                    for operand in operands {
                        match operand {
                            Object::String(bytes, _) => {
                                w.show(&encoding.bytes_to_string(bytes).unwrap_or_default())
                            }
                            Object::Array(items) => {
                                for item in items {
                                    match item {
                                        Object::String(bytes, _) => w.show(
                                            &encoding.bytes_to_string(bytes).unwrap_or_default(),
                                        ),
                                        // A wide negative adjustment (in thousandths of an em) is a gap between words.
                                        other => {
                                            if other.as_float().is_ok_and(|n| n < -200.0) {
                                                w.gap();
                                            }
                                        }
                                    }
                                }
                            }
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(w.lines().join("\n"))
    }

    const IDENTITY: [f32; 6] = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0];

    /// `m × n` for PDF's row-vector matrices `[a b c d e f]`.
    fn multiply(m: [f32; 6], n: [f32; 6]) -> [f32; 6] {
        [
            m[0] * n[0] + m[1] * n[2],
            m[0] * n[1] + m[1] * n[3],
            m[2] * n[0] + m[3] * n[2],
            m[2] * n[1] + m[3] * n[3],
            m[4] * n[0] + m[5] * n[2] + n[4],
            m[4] * n[1] + m[5] * n[3] + n[5],
        ]
    }

    fn is_seam_punctuation(c: char) -> bool {
        matches!(
            c,
            '.' | ',' | '،' | '؛' | '؟' | '!' | '?' | ':' | ';' | '(' | ')' | '[' | ']' | '{' | '}'
        )
    }

    struct Segment {
        x: f32,
        y: f32,
        size: f32,
        text: String,
    }

    struct TextWriter {
        segments: Vec<Segment>,
        line_matrix: [f32; 6],
        ctm: [f32; 6],
        ctm_stack: Vec<[f32; 6]>,
        font_size: f32,
        leading: f32,
        /// Whether the next string continues the last segment (no move since).
        open: bool,
    }

    impl Default for TextWriter {
        fn default() -> Self {
            TextWriter {
                segments: Vec::new(),
                line_matrix: IDENTITY,
                ctm: IDENTITY,
                ctm_stack: Vec::new(),
                font_size: 12.0,
                leading: 0.0,
                open: false,
            }
        }
    }

    impl TextWriter {
        fn set_line_matrix(&mut self, m: [f32; 6]) {
            self.line_matrix = m;
            self.open = false;
        }

        fn translate(&mut self, tx: f32, ty: f32) {
            self.set_line_matrix(multiply([1.0, 0.0, 0.0, 1.0, tx, ty], self.line_matrix));
        }

        fn show(&mut self, s: &str) {
            if s.is_empty() {
                return;
            }
            if !self.open || self.segments.is_empty() {
                let m = multiply(self.line_matrix, self.ctm);
                let size = (self.font_size * m[3].abs().max(m[2].abs())).max(0.1);
                self.segments.push(Segment {
                    x: m[4],
                    y: m[5],
                    size,
                    text: String::new(),
                });
                self.open = true;
            }
            if let Some(segment) = self.segments.last_mut() {
                segment.text.push_str(s);
            }
        }

        fn gap(&mut self) {
            if let Some(segment) = self.segments.last_mut().filter(|_| self.open) {
                if !segment.text.ends_with(char::is_whitespace) {
                    segment.text.push(' ');
                }
            }
        }

        fn lines(self) -> Vec<String> {
            let mut segments: Vec<Segment> = Vec::new();
            for segment in self.segments {
                match segments.last_mut() {
                    Some(previous) if segment.text.chars().all(is_mark) => {
                        previous.text.push_str(&segment.text)
                    }
                    _ => segments.push(segment),
                }
            }
            let mut lines: Vec<Vec<Segment>> = Vec::new();
            for segment in segments {
                match lines.last_mut() {
                    Some(line)
                        if (segment.y - line[0].y).abs()
                            <= 0.5 * segment.size.max(line[0].size) =>
                    {
                        line.push(segment)
                    }
                    _ => lines.push(vec![segment]),
                }
            }
            lines
                .into_iter()
                .map(|mut line| {
                    line.sort_by(|a, b| a.x.total_cmp(&b.x));
                    let mut text = String::new();
                    for segment in line {
                        // Pieces that meet at a space, a mark or punctuation need no space.
                        let joins =
                            |c: char| c.is_whitespace() || is_mark(c) || is_seam_punctuation(c);
                        let seam_joins = text.is_empty()
                            || text.ends_with(joins)
                            || segment.text.starts_with(joins);
                        if !seam_joins {
                            text.push(' ');
                        }
                        text.push_str(&segment.text);
                    }
                    text.split(' ')
                        .filter(|w| !w.is_empty())
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .collect()
        }
    }
}

/// Arabic, Hebrew, Syriac, Thaana, N'Ko letters and Arabic presentation forms (not digits).
fn is_rtl(c: char) -> bool {
    matches!(c as u32,
        0x0590..=0x05FF | 0x0600..=0x065F | 0x066E..=0x06EF | 0x06FA..=0x08FF
        | 0xFB1D..=0xFDFF | 0xFE70..=0xFEFF)
}

/// Combining marks of the scripts above (harakat, shadda, tanween, Hebrew points).
fn is_mark(c: char) -> bool {
    matches!(c as u32, 0x0591..=0x05C7 | 0x0610..=0x061A | 0x064B..=0x065F | 0x0670 | 0x06D6..=0x06ED | 0x08D3..=0x08FF)
}

fn is_digit(c: char) -> bool {
    c.is_ascii_digit() || matches!(c as u32, 0x0660..=0x0669 | 0x06F0..=0x06F9)
}

fn is_strong_ltr(c: char) -> bool {
    c.is_alphabetic() && !is_rtl(c) && !is_mark(c)
}

/// Characters that stay inside a left-to-right run (`IG Shop`, `079 123 4567`, `3.5`).
fn is_ltr_run_neutral(c: char) -> bool {
    matches!(
        c,
        ' ' | '.' | ',' | ':' | '-' | '/' | '%' | '+' | '_' | '@' | '&' | '\'' | '#' | '='
    )
}

fn mirror(c: char) -> char {
    match c {
        '(' => ')',
        ')' => '(',
        '[' => ']',
        ']' => '[',
        '{' => '}',
        '}' => '{',
        '<' => '>',
        '>' => '<',
        '«' => '»',
        '»' => '«',
        other => other,
    }
}

/// Whether the Arabic words of these texts are already in reading order: words starting with
/// `ال` and ending with `ة`/`ى` outnumber words ending in `لا` (a reversed `ال`) and starting
/// with `ة`/`ى`. With no evidence either way, no.
fn arabic_reads_forwards<'a>(texts: impl Iterator<Item = &'a str>) -> bool {
    let (mut logical, mut visual) = (0usize, 0usize);
    for text in texts {
        for word in text.split(|c: char| !(is_rtl(c) || is_mark(c))) {
            let letters: Vec<char> = word.chars().filter(|c| !is_mark(*c)).collect();
            if letters.len() < 3 {
                continue;
            }
            let n = letters.len();
            if letters[0] == 'ا' && letters[1] == 'ل' {
                logical += 1;
            }
            if letters[n - 1] == 'ا' && letters[n - 2] == 'ل' {
                visual += 1;
            }
            if matches!(letters[n - 1], 'ة' | 'ى') {
                logical += 1;
            }
            if matches!(letters[0], 'ة' | 'ى') {
                visual += 1;
            }
        }
    }
    logical > visual
}

/// One line drawn left to right on the page, put back in reading order.
///
/// A line with at least as many right-to-left letters as left-to-right ones is taken as a
/// right-to-left paragraph and reordered whole (see [`reorder_rtl`]). Otherwise it is a
/// left-to-right paragraph and only its right-to-left stretches are: from a right-to-left
/// letter to the last one before the next Latin letter, numbers and spaces inside included.
fn visual_to_logical(line: &str) -> String {
    let chars: Vec<char> = line.chars().collect();
    let rtl = chars.iter().filter(|c| is_rtl(**c)).count();
    if rtl == 0 {
        return line.to_owned();
    }
    let ltr = chars.iter().filter(|c| is_strong_ltr(**c)).count();
    if rtl >= ltr {
        return reorder_rtl(&chars).into_iter().collect();
    }
    let mut out = Vec::with_capacity(chars.len());
    let mut i = 0;
    while i < chars.len() {
        if !is_rtl(chars[i]) {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let mut end = i + 1;
        let mut j = i + 1;
        while j < chars.len() && !is_strong_ltr(chars[j]) {
            if is_rtl(chars[j]) || is_mark(chars[j]) {
                end = j + 1;
            }
            j += 1;
        }
        out.extend(reorder_rtl(&chars[i..end]));
        i = end;
    }
    out.into_iter().collect()
}

/// Right-to-left text in visual order, in reading order: its pieces taken in reverse order,
/// where a piece is one right-to-left character (brackets mirrored), a run of Latin text read
/// left to right (letters, then digits and spaces up to its last letter or digit: `IG Shop`,
/// `iPhone 15 Pro`), or a number (`079`, `3.5`, `50%`, `2024/05/01`; numbers separated by
/// spaces are separate pieces, as the Unicode bidi algorithm lays them out).
fn reorder_rtl(chars: &[char]) -> Vec<char> {
    let n = chars.len();
    let mut pieces: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while i < n {
        let c = chars[i];
        let starts_number =
            is_digit(c) || (is_number_affix(c) && chars.get(i + 1).is_some_and(|d| is_digit(*d)));
        let end = if is_strong_ltr(c) {
            let mut end = i + 1;
            let mut j = i + 1;
            while j < n
                && (is_strong_ltr(chars[j])
                    || is_digit(chars[j])
                    || is_number_affix(chars[j])
                    || is_ltr_run_neutral(chars[j]))
            {
                if is_strong_ltr(chars[j]) || is_digit(chars[j]) || is_number_affix(chars[j]) {
                    end = j + 1;
                }
                j += 1;
            }
            end
        } else if starts_number {
            let mut end = i + 1;
            let mut j = i + 1;
            while j < n
                && (is_digit(chars[j])
                    || is_number_affix(chars[j])
                    || is_number_separator(chars[j]))
            {
                if is_digit(chars[j]) || is_number_affix(chars[j]) {
                    end = j + 1;
                }
                j += 1;
            }
            end
        } else {
            i + 1
        };
        pieces.push((i, end));
        i = end;
    }
    let mut out = Vec::with_capacity(n);
    for &(start, end) in pieces.iter().rev() {
        if end - start == 1 && !is_strong_ltr(chars[start]) && !is_digit(chars[start]) {
            out.push(mirror(chars[start]));
        } else {
            out.extend(&chars[start..end]);
        }
    }
    out
}

/// Signs that belong to a number (`50%`, `$5`, `+962`).
fn is_number_affix(c: char) -> bool {
    matches!(
        c,
        '%' | '\u{066A}' | '\u{2030}' | '$' | '\u{20AC}' | '\u{00A3}' | '+' | '#'
    )
}

/// Separators inside a number (`3.5`, `1,000`, `10:30`, `2024/05/01`, `079-123`).
fn is_number_separator(c: char) -> bool {
    matches!(c, '.' | ',' | ':' | '/' | '-' | '\u{066B}' | '\u{066C}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detect_by_magic_extension_and_content_type() {
        assert_eq!(
            DocumentKind::detect("x.txt", None, b"%PDF-1.7\n..."),
            Some(DocumentKind::Pdf)
        );
        assert_eq!(
            DocumentKind::detect("notes.md", Some("text/plain"), "# عنوان".as_bytes()),
            Some(DocumentKind::Markdown)
        );
        assert_eq!(
            DocumentKind::detect("NOTES.MARKDOWN", None, b"x"),
            Some(DocumentKind::Markdown)
        );
        assert_eq!(
            DocumentKind::detect("a.TXT", None, b"x"),
            Some(DocumentKind::Txt)
        );
        assert_eq!(
            DocumentKind::detect("upload", Some("text/plain; charset=utf-8"), b"x"),
            Some(DocumentKind::Txt)
        );
        assert_eq!(
            DocumentKind::detect("upload", Some("text/markdown"), b"x"),
            Some(DocumentKind::Markdown)
        );
        assert_eq!(
            DocumentKind::detect("a.pdf", Some("application/pdf"), b"not a pdf"),
            None
        );
        assert_eq!(
            DocumentKind::detect("a.docx", None, b"PK\x03\x04garbage"),
            None
        );
        assert_eq!(
            DocumentKind::detect("a.html", Some("text/html"), b"<p>x</p>"),
            None
        );
    }

    #[test]
    fn text_files_accept_utf8_with_and_without_bom_and_refuse_windows_1256() {
        let plain = extract_text(
            "التوصيل مجاني\r\nفوق ٣٠ دينار".as_bytes(),
            DocumentKind::Txt,
        )
        .unwrap();
        assert_eq!(
            plain.sections,
            vec![Section {
                heading: None,
                text: "التوصيل مجاني\nفوق ٣٠ دينار".into()
            }]
        );
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend_from_slice("مرحبا".as_bytes());
        assert_eq!(
            extract_text(&bom, DocumentKind::Txt).unwrap().sections[0].text,
            "مرحبا"
        );
        // "مرحبا" in Windows-1256.
        let err = extract_text(&[0xE3, 0xD1, 0xCD, 0xC8, 0xC7], DocumentKind::Txt).unwrap_err();
        assert!(matches!(err, ExtractError::NotUtf8));
        assert!(err.to_string().contains("UTF-8"), "{err}");
        let mut utf16 = vec![0xFF, 0xFE];
        utf16.extend("نعم".encode_utf16().flat_map(|u| u.to_le_bytes()));
        assert_eq!(
            extract_text(&utf16, DocumentKind::Txt).unwrap().sections[0].text,
            "نعم"
        );
        assert!(matches!(
            extract_text(b"  \n\n ", DocumentKind::Txt),
            Err(ExtractError::Empty)
        ));
    }

    #[test]
    fn markdown_headings_make_paths_and_fences_are_not_headings() {
        let md = "# التوصيل\n\nنوصل لكل المحافظات.\n\n## عمّان\n\nخلال يوم.\n\n```\n# not a heading\n```\n\nSetext\n------\n\nbody\n\n# Returns #\n\n14 days.\n";
        let out = extract_text(md.as_bytes(), DocumentKind::Markdown).unwrap();
        assert_eq!(out.title.as_deref(), Some("التوصيل"));
        let got: Vec<(Option<&str>, &str)> = out
            .sections
            .iter()
            .map(|s| (s.heading.as_deref(), s.text.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (Some("التوصيل"), "نوصل لكل المحافظات."),
                (
                    Some("التوصيل > عمّان"),
                    "خلال يوم.\n\n```\n# not a heading\n```"
                ),
                (Some("التوصيل > Setext"), "body"),
                (Some("Returns"), "14 days."),
            ]
        );
    }

    #[test]
    fn a_heading_without_body_keeps_its_words() {
        let out = extract_text(
            "# Hours: 10:00-22:00\n# Delivery\nAll of Jordan.\n".as_bytes(),
            DocumentKind::Markdown,
        )
        .unwrap();
        assert_eq!(
            out.sections[0],
            Section {
                heading: Some("Hours: 10:00-22:00".into()),
                text: "Hours: 10:00-22:00".into()
            }
        );
        assert_eq!(out.sections[1].text, "All of Jordan.");
    }

    #[test]
    fn oversized_input_is_refused_and_long_text_is_capped() {
        let big = vec![b'a'; MAX_INPUT_BYTES + 1];
        assert!(matches!(
            extract_text(&big, DocumentKind::Txt),
            Err(ExtractError::TooLarge { max_mb: 20 })
        ));
        let long = "ب".repeat(MAX_TEXT_CHARS + 10);
        let out = extract_text(long.as_bytes(), DocumentKind::Txt).unwrap();
        assert!(out.truncated);
        assert_eq!(out.char_count(), MAX_TEXT_CHARS);
    }

    #[test]
    fn visual_order_lines_are_put_back_in_reading_order() {
        assert_eq!(
            visual_to_logical(".نيرانيد ليصوتلا موسر"),
            "رسوم التوصيل دينارين."
        );
        assert_eq!(
            visual_to_logical("4567 123 079 :فتاهلا"),
            "الهاتف: 079 123 4567"
        );
        assert_eq!(visual_to_logical("50% مصخ"), "خصم 50%");
        assert_eq!(
            visual_to_logical("ديدجلا iPhone 15 Pro رعس"),
            "سعر iPhone 15 Pro الجديد"
        );
        assert_eq!(visual_to_logical("3.5 نزولا"), "الوزن 3.5");
        assert_eq!(visual_to_logical("IG Shop يف ابحرم"), "مرحبا في IG Shop");
        assert_eq!(visual_to_logical("(معن)"), "(نعم)");
        assert_eq!(
            visual_to_logical("Delivery to نامع in 1 day"),
            "Delivery to عمان in 1 day"
        );
        assert_eq!(
            visual_to_logical("You can also pay by card. Mixed line: رانيد 30 قوف يناجم ليصوتلا."),
            "You can also pay by card. Mixed line: التوصيل مجاني فوق 30 دينار."
        );
        assert_eq!(visual_to_logical("plain English"), "plain English");
        assert!(!arabic_reads_forwards(["ليصوتلا مايأ ةثالث"].into_iter()));
        assert!(arabic_reads_forwards(["التوصيل خلال ثلاثة أيام"].into_iter()));
        assert!(!arabic_reads_forwards(["نعم"].into_iter()));
    }
}
