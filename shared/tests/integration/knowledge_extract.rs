//! Extraction of merchants' documents (Arabic and English) and their chunks.
//!
//! The PDF and one DOCX are real files made by LibreOffice (see
//! `fixtures/knowledge/README.md`); the other DOCX files are built here with the `zip` crate.

use std::io::{Cursor, Write};

use shared::knowledge::chunk::{chunk, DEFAULT_OVERLAP_CHARS, DEFAULT_TARGET_CHARS};
use shared::knowledge::extract::{
    extract_text, DocumentKind, ExtractError, ExtractedText, Section,
};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/knowledge/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn sections(text: &ExtractedText) -> Vec<(Option<&str>, &str)> {
    text.sections
        .iter()
        .map(|s| (s.heading.as_deref(), s.text.as_str()))
        .collect()
}

/// What `store-policy.pdf` holds, in reading order. LibreOffice draws Arabic in visual order
/// (a plain read gives `ليصوتلا` for `التوصيل`) and writes each bidi run of a line from its
/// own position; extraction puts the words back in reading order. The shadda of `عمّان` and
/// the tanween of `يوماً` are drawn as separate raised glyphs; they come back after their
/// letter (U+0651 after م, U+064B after ا).
const POLICY_PAGE_1: &str = "التوصيل\n\
عمّان\n\
التوصيل داخل عمّان خلال يوم عمل واحد. رسوم التوصيل 2 دينار.\n\
إربد والزرقاء\n\
التوصيل خلال يومين إلى ثلاثة أيام. هل الدفع عند الاستلام متاح؟ نعم.";
const POLICY_PAGE_2: &str = "الإرجاع والاستبدال\n\
يمكن إرجاع المنتج خلال 14 يوماً من الاستلام بحالته الأصلية.\n\
للتواصل عبر واتساب: 0791234567\n\
متجر IG Shop في عمّان";

#[test]
fn arabic_pdf_with_embedded_fonts_reads_in_reading_order() {
    let bytes = fixture("store-policy.pdf");
    assert_eq!(
        DocumentKind::detect("سياسة.pdf", Some("application/pdf"), &bytes),
        Some(DocumentKind::Pdf)
    );
    let text = extract_text(&bytes, DocumentKind::Pdf).unwrap();
    assert_eq!(text.title.as_deref(), Some("سياسات المتجر"));
    assert_eq!(
        sections(&text),
        vec![(None, POLICY_PAGE_1), (None, POLICY_PAGE_2)]
    );
    assert!(!text.truncated);
    // The marks are where Unicode wants them: after their letter.
    assert!(POLICY_PAGE_1.contains("عم\u{651}ان"));
    assert!(POLICY_PAGE_2.contains("يوما\u{64B}"));
}

#[test]
fn encrypted_pdfs_open_without_a_user_password_and_are_refused_with_one() {
    let owner_only =
        extract_text(&fixture("store-policy-owner-only.pdf"), DocumentKind::Pdf).unwrap();
    assert_eq!(
        sections(&owner_only),
        vec![(None, POLICY_PAGE_1), (None, POLICY_PAGE_2)]
    );

    let err = extract_text(&fixture("store-policy-locked.pdf"), DocumentKind::Pdf).unwrap_err();
    assert!(matches!(err, ExtractError::Encrypted), "{err:?}");
    assert!(err.to_string().contains("password"), "{err}");
}

/// A one-page PDF that only draws a rectangle, as a scanned page has only an image.
fn pdf_without_text() -> Vec<u8> {
    use lopdf::content::{Content, Operation};
    use lopdf::{dictionary, Document, Object, Stream};
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let content = Content {
        operations: vec![
            Operation::new("re", vec![10.into(), 10.into(), 200.into(), 300.into()]),
            Operation::new("f", vec![]),
        ],
    };
    let content_id = doc.add_object(Stream::new(dictionary! {}, content.encode().unwrap()));
    let page_id = doc.add_object(dictionary! {
        "Type" => "Page",
        "Parent" => pages_id,
        "Contents" => content_id,
        "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(
            dictionary! { "Type" => "Pages", "Kids" => vec![page_id.into()], "Count" => 1 },
        ),
    );
    let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog_id);
    let mut bytes = Vec::new();
    doc.save_to(&mut bytes).unwrap();
    bytes
}

#[test]
fn scanned_and_damaged_pdfs_get_merchant_messages() {
    let err = extract_text(&pdf_without_text(), DocumentKind::Pdf).unwrap_err();
    assert!(matches!(err, ExtractError::NoTextLayer), "{err:?}");
    assert_eq!(
        err.to_string(),
        "This PDF has no text layer (it may be a scanned image); upload a text PDF or a DOCX."
    );

    let err = extract_text(b"%PDF-1.7\nthis is not really a PDF", DocumentKind::Pdf).unwrap_err();
    assert!(
        matches!(
            err,
            ExtractError::InvalidPdf { .. } | ExtractError::NoTextLayer
        ),
        "{err:?}"
    );

    // A real PDF cut in half still reads or fails cleanly, never panics.
    let policy = fixture("store-policy.pdf");
    let _ = extract_text(&policy[..policy.len() / 2], DocumentKind::Pdf);
}

#[test]
fn libreoffice_docx_keeps_headings_tables_and_lists() {
    let bytes = fixture("store-faq.docx");
    assert_eq!(
        DocumentKind::detect("upload.bin", None, &bytes),
        Some(DocumentKind::Docx)
    );
    let text = extract_text(&bytes, DocumentKind::Docx).unwrap();
    assert_eq!(text.title.as_deref(), Some("الأسئلة الشائعة"));
    assert_eq!(
        sections(&text),
        vec![
            (None, "مرحباً بكم في متجرنا."),
            (Some("التوصيل"), "نوصل إلى كل محافظات الأردن."),
            (
                Some("التوصيل > عمّان"),
                "خلال يوم عمل واحد. الرسوم 2 دينار.\n\nالمنطقة | المدة\n\nعبدون | يوم"
            ),
            (Some("التوصيل > الزرقاء"), "خلال يومين & بدون رسوم إضافية."),
            (Some("الإرجاع"), "- خلال 14 يوماً\n\n- بالفاتورة الأصلية"),
        ]
    );

    let chunks = chunk(&text, DEFAULT_TARGET_CHARS, DEFAULT_OVERLAP_CHARS);
    let headings: Vec<&str> = chunks.iter().map(|c| c.heading.as_str()).collect();
    assert_eq!(
        headings,
        vec![
            "الأسئلة الشائعة",
            "التوصيل",
            "التوصيل > عمّان",
            "التوصيل > الزرقاء",
            "الإرجاع"
        ]
    );
    assert_eq!(
        chunks[2].content,
        "خلال يوم عمل واحد. الرسوم 2 دينار.\n\nالمنطقة | المدة\n\nعبدون | يوم"
    );
}

#[test]
fn pdf_pages_chunk_under_the_title() {
    let text = extract_text(&fixture("store-policy.pdf"), DocumentKind::Pdf).unwrap();
    let chunks = chunk(&text, 80, 20);
    assert!(chunks.len() >= 4, "{chunks:?}");
    for c in &chunks {
        assert_eq!(c.heading, "سياسات المتجر");
        assert!(c.content.chars().count() <= 80, "{}", c.content);
        assert!(
            POLICY_PAGE_1.contains(&c.content) || POLICY_PAGE_2.contains(&c.content),
            "{}",
            c.content
        );
    }
}

const W: &str = r#"xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006""#;

fn docx(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in entries {
        zip.start_file(*name, options).unwrap();
        zip.write_all(data).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

fn paragraph(style: Option<&str>, runs: &str) -> String {
    let ppr = style
        .map(|s| format!(r#"<w:pPr><w:pStyle w:val="{s}"/></w:pPr>"#))
        .unwrap_or_default();
    format!("<w:p>{ppr}{runs}</w:p>")
}

fn run(text: &str) -> String {
    format!(r#"<w:r><w:t xml:space="preserve">{text}</w:t></w:r>"#)
}

#[test]
fn word_docx_with_localised_styles_outline_levels_and_markup() {
    // Arabic Word names its heading styles' ids "1", "2"… but keeps the English style names.
    let styles = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><w:styles {W}>
        <w:style w:type="paragraph" w:styleId="a"><w:name w:val="Normal"/></w:style>
        <w:style w:type="paragraph" w:styleId="1"><w:name w:val="heading 1"/><w:basedOn w:val="a"/><w:pPr><w:outlineLvl w:val="0"/></w:pPr></w:style>
        <w:style w:type="paragraph" w:styleId="2"><w:name w:val="heading 2"/><w:basedOn w:val="a"/></w:style>
        <w:style w:type="paragraph" w:styleId="MyHeading"><w:name w:val="My heading"/><w:basedOn w:val="2"/></w:style>
        <w:style w:type="paragraph" w:styleId="a3"><w:name w:val="Title"/></w:style>
        </w:styles>"#
    );
    let body = [
        paragraph(Some("a3"), &run("دليل المتجر")),
        paragraph(Some("1"), &run("الطلبات")),
        paragraph(None, &format!("{}<w:r><w:tab/></w:r>{}", run("السعر:"), run("10 &amp; 20 دينار"))),
        paragraph(Some("MyHeading"), &run("التغليف")),
        paragraph(None, &format!("{}<w:r><w:br/></w:r>{}", run("سطر أول"), run("سطر ثانٍ"))),
        // A text box: Word writes it twice, the Fallback copy must not be read.
        paragraph(
            None,
            &format!(
                "<w:r><mc:AlternateContent><mc:Choice Requires=\"wps\"><w:drawing><w:txbxContent>{}</w:txbxContent></w:drawing></mc:Choice><mc:Fallback><w:pict><w:txbxContent>{}</w:txbxContent></w:pict></mc:Fallback></mc:AlternateContent></w:r>{}",
                paragraph(None, &run("عرض خاص")),
                paragraph(None, &run("عرض خاص")),
                run("بعد الصندوق"),
            ),
        ),
        // A heading by direct outline level, then tab stops in pPr that are not text.
        r#"<w:p><w:pPr><w:outlineLvl w:val="0"/><w:tabs><w:tab w:val="left" w:pos="720"/></w:tabs></w:pPr><w:r><w:t>Returns</w:t></w:r></w:p>"#.to_owned(),
        paragraph(None, &run("Within &#1633;&#1636; days &lt;with receipt&gt;.")),
        r#"<w:p><w:r><w:delText>deleted</w:delText></w:r><w:r><w:instrText> PAGE </w:instrText></w:r></w:p>"#.to_owned(),
    ]
    .concat();
    let document = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document {W}><w:body>{body}<w:sectPr/></w:body></w:document>"#
    );
    let bytes = docx(&[
        ("[Content_Types].xml", b"<Types/>"),
        ("word/document.xml", document.as_bytes()),
        ("word/styles.xml", styles.as_bytes()),
    ]);
    assert_eq!(
        DocumentKind::detect("دليل.docx", None, &bytes),
        Some(DocumentKind::Docx)
    );
    let text = extract_text(&bytes, DocumentKind::Docx).unwrap();
    assert_eq!(text.title.as_deref(), Some("دليل المتجر"));
    assert_eq!(
        sections(&text),
        vec![
            (Some("الطلبات"), "السعر:\t10 & 20 دينار"),
            (
                Some("الطلبات > التغليف"),
                "سطر أول\nسطر ثانٍ\n\nعرض خاص\n\nبعد الصندوق"
            ),
            (Some("Returns"), "Within ١٤ days <with receipt>."),
        ]
    );
}

#[test]
fn docx_without_styles_uses_heading_style_ids() {
    let body = [
        paragraph(Some("Heading1"), &run("التوصيل")),
        paragraph(None, &run("مجاني فوق 30 دينار")),
    ]
    .concat();
    let document = format!(r#"<w:document {W}><w:body>{body}</w:body></w:document>"#);
    let text = extract_text(
        &docx(&[("word/document.xml", document.as_bytes())]),
        DocumentKind::Docx,
    )
    .unwrap();
    assert_eq!(text.title, None);
    assert_eq!(
        sections(&text),
        vec![(Some("التوصيل"), "مجاني فوق 30 دينار")]
    );
}

#[test]
fn docx_bombs_and_impostors_are_refused() {
    // Thousands of entries.
    let names: Vec<String> = (0..2_100).map(|i| format!("word/media/{i}.xml")).collect();
    let mut entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b"x"[..])).collect();
    entries.push(("word/document.xml", b"<w:document/>"));
    let err = extract_text(&docx(&entries), DocumentKind::Docx).unwrap_err();
    assert!(matches!(err, ExtractError::DocxTooLarge { .. }), "{err:?}");

    // 51 MB of Arabic text that deflates to a few tens of KB.
    let err = extract_text(&fixture("bomb.docx"), DocumentKind::Docx).unwrap_err();
    assert!(
        matches!(err, ExtractError::DocxTooLarge { max_mb: 50 }),
        "{err:?}"
    );
    assert!(err.to_string().contains("50 MB"), "{err}");

    // A zip that is not a Word document, and an old binary .doc.
    let xlsx = docx(&[("xl/workbook.xml", b"<workbook/>")]);
    assert_eq!(DocumentKind::detect("prices.docx", None, &xlsx), None);
    assert!(matches!(
        extract_text(&xlsx, DocumentKind::Docx),
        Err(ExtractError::InvalidDocx { .. })
    ));
    let doc = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1rest of an OLE file";
    assert!(matches!(
        extract_text(doc, DocumentKind::Docx),
        Err(ExtractError::LegacyOrProtectedWord)
    ));
    assert!(matches!(
        extract_text(b"not a zip", DocumentKind::Docx),
        Err(ExtractError::InvalidDocx { .. })
    ));
}

#[test]
fn text_and_markdown_files() {
    let md = "# سياسة المتجر\n\n## التوصيل\n\nنوصل لكل المحافظات.\n\n### عمّان\n\nخلال يوم.\n\n## الإرجاع\n\nخلال 14 يوماً.\n";
    let mut with_bom = b"\xEF\xBB\xBF".to_vec();
    with_bom.extend_from_slice(md.as_bytes());
    assert_eq!(
        DocumentKind::detect("policy.md", None, &with_bom),
        Some(DocumentKind::Markdown)
    );
    let text = extract_text(&with_bom, DocumentKind::Markdown).unwrap();
    assert_eq!(text.title.as_deref(), Some("سياسة المتجر"));
    assert_eq!(
        sections(&text),
        vec![
            (Some("سياسة المتجر > التوصيل"), "نوصل لكل المحافظات."),
            (Some("سياسة المتجر > التوصيل > عمّان"), "خلال يوم."),
            (Some("سياسة المتجر > الإرجاع"), "خلال 14 يوماً."),
        ]
    );

    let txt = "ساعات العمل: 10 صباحاً - 10 مساءً\r\n\r\n\r\nOpen daily.";
    assert_eq!(
        DocumentKind::detect("hours.txt", Some("text/plain"), txt.as_bytes()),
        Some(DocumentKind::Txt)
    );
    let text = extract_text(txt.as_bytes(), DocumentKind::Txt).unwrap();
    assert_eq!(
        text.sections,
        vec![Section {
            heading: None,
            text: "ساعات العمل: 10 صباحاً - 10 مساءً\n\nOpen daily.".into()
        }]
    );

    // "ساعات" saved as Windows-1256 (Arabic ANSI).
    let err = extract_text(&[0xD3, 0xC7, 0xDA, 0xC7, 0xCA], DocumentKind::Txt).unwrap_err();
    assert!(matches!(err, ExtractError::NotUtf8));
    assert!(
        err.to_string()
            .contains("save it again with the UTF-8 encoding"),
        "{err}"
    );
    assert!(matches!(
        extract_text(&[0xD3, 0xC7], DocumentKind::Markdown),
        Err(ExtractError::NotUtf8)
    ));
}

#[test]
fn oversized_uploads_are_refused_before_parsing() {
    let mut big = fixture("store-policy.pdf");
    big.resize(20 * 1024 * 1024 + 1, b' ');
    let err = extract_text(&big, DocumentKind::Pdf).unwrap_err();
    assert!(
        matches!(err, ExtractError::TooLarge { max_mb: 20 }),
        "{err:?}"
    );
    assert!(err.to_string().contains("20 MB"), "{err}");
}
