//! CSV downloads (catalog, orders): one way to write a line safely and one way to stream the
//! lines in chunks with constant memory.

use bytes::Bytes;
use tokio::sync::mpsc::Sender;

pub type Sink = Sender<Result<Bytes, std::io::Error>>;

/// One CRLF-terminated record. Cells a spreadsheet would run as a formula (starting with
/// `=`, `+`, `@`, or `-` when not a number) get a leading `'`; the catalog importer takes it
/// off again.
pub fn line<I: IntoIterator<Item = String>>(fields: I) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    let safe: Vec<String> = fields
        .into_iter()
        .map(|f| {
            if f.starts_with(['=', '+', '@']) || (f.starts_with('-') && f.parse::<f64>().is_err()) {
                format!("'{f}")
            } else {
                f
            }
        })
        .collect();
    w.write_record(&safe).expect("writing to memory");
    w.into_inner().expect("writing to memory")
}

/// The header line, after a UTF-8 BOM so Excel opens Arabic text correctly.
pub fn header(names: &[&str]) -> Vec<u8> {
    let mut out = vec![0xEF, 0xBB, 0xBF];
    out.extend(line(names.iter().map(|s| s.to_string())));
    out
}

/// Collects lines and hands them to the download in chunks of about 32 KB.
pub struct Chunks {
    out: Sink,
    buf: Vec<u8>,
}

impl Chunks {
    pub fn new(out: Sink) -> Self {
        Chunks {
            out,
            buf: Vec::with_capacity(64 * 1024),
        }
    }

    /// `false` once the receiver is gone (the download was cancelled): stop reading.
    pub async fn push(&mut self, bytes: Vec<u8>) -> bool {
        self.buf.extend(bytes);
        if self.buf.len() < 32 * 1024 {
            return true;
        }
        self.out
            .send(Ok(std::mem::take(&mut self.buf).into()))
            .await
            .is_ok()
    }

    pub async fn finish(mut self) {
        if !self.buf.is_empty() {
            let _ = self
                .out
                .send(Ok(std::mem::take(&mut self.buf).into()))
                .await;
        }
    }
}
