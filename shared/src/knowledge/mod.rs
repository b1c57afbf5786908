//! Merchant knowledge: documents and pages the agent answers from.
//!
//! - [`extract`] turns an uploaded PDF, DOCX, TXT or Markdown file into titled sections of plain
//!   text (Arabic and English), refusing files that are too large, not text, or zip bombs.
//! - [`chunk`] cuts those sections into overlapping chunks of about a thousand characters, each
//!   carrying its heading path, on paragraph and sentence boundaries (never inside a grapheme).
//! - [`fetch`] downloads a page or document by URL without letting a merchant reach private,
//!   loopback, link-local or cloud-metadata addresses (SSRF), with size, time and redirect caps.
//! - [`html`] turns a fetched web page into Markdown for the extractor.
//! - [`documents`] adds (upload or web address), lists, reads, deletes and retries a shop's
//!   documents; the original goes to blob storage and a `kb_ingest` message to the queue.
//! - [`ingest`] is the worker that reads a queued document, chunks, embeds and indexes it.

pub mod chunk;
pub mod documents;
pub mod extract;
pub mod fetch;
pub mod html;
pub mod ingest;
