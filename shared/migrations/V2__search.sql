-- Search, local backend (SEARCH_BACKEND=postgres): full-text + trigram over a normalised text.
-- Cosine similarity of kb_chunks.embedding is computed in Rust (a SQL function over real[] costs
-- about a millisecond per 1536-dimension row). See shared/src/search/postgres.rs.
--
-- `search_text` holds the Arabic-normalised form of the searchable fields. It is written by the
-- Rust code (shared::search::arabic::search_form), the one implementation of the
-- normalisation, when an item or passage is indexed; '' means "not indexed" (never matched).
-- The new columns inherit the tables' row-level security; no policy changes here.
--
-- pg_trgm is a trusted extension: the database owner (the migrating role) may create it. On
-- Azure Database for PostgreSQL it must also be allow-listed (server parameter
-- azure.extensions includes PG_TRGM).
CREATE EXTENSION IF NOT EXISTS pg_trgm;

ALTER TABLE catalog_items
    ADD COLUMN search_text text NOT NULL DEFAULT '',
    ADD COLUMN search_tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, search_text)) STORED;
CREATE INDEX catalog_items_search_tsv_idx ON catalog_items USING gin (search_tsv);
CREATE INDEX catalog_items_search_trgm_idx ON catalog_items USING gin (search_text gin_trgm_ops);

ALTER TABLE kb_chunks
    ADD COLUMN search_text text NOT NULL DEFAULT '',
    ADD COLUMN search_tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, search_text)) STORED;
CREATE INDEX kb_chunks_search_tsv_idx ON kb_chunks USING gin (search_tsv);
CREATE INDEX kb_chunks_search_trgm_idx ON kb_chunks USING gin (search_text gin_trgm_ops);
