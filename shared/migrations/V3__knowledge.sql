-- Knowledge base: what the worker needs besides V1's kb_documents columns.
--
-- `file_name` is the name the merchant uploaded (or the last part of the page's address),
-- `document_kind` the format the worker read it as (pdf, docx, txt, markdown, html),
-- `truncated` says text beyond the extraction cap was dropped, `indexed_at` when the chunks
-- became findable. The columns inherit kb_documents' row-level security; no policy changes.
ALTER TABLE kb_documents
    ADD COLUMN file_name     text,
    ADD COLUMN document_kind text,
    ADD COLUMN truncated     boolean NOT NULL DEFAULT false,
    ADD COLUMN indexed_at    timestamptz;

-- The sweeper looks for documents left queued or processing (a lost queue message, a crash).
CREATE INDEX kb_documents_unfinished_idx ON kb_documents (updated_at)
    WHERE status IN ('queued', 'processing');
