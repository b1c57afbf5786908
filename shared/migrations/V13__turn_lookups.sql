-- Look-ups every agent turn makes, bounded by an index (issue 12).

-- "Does this shop have passages with embeddings?" (hybrid passage search or text only): with
-- only the tenant index, a shop whose passages have no embeddings had every one of them read
-- to answer no.
CREATE INDEX kb_chunks_tenant_embedded_idx ON kb_chunks (tenant_id) WHERE embedding IS NOT NULL;
