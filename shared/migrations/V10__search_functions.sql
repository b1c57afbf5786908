-- Search under row-level security that uses its indexes (SEARCH_BACKEND=postgres).
--
-- `@@` and pg_trgm's `<%` are not LEAKPROOF, so under the tenant policy of catalog_items and
-- kb_chunks Postgres applies the policy first and never uses the text indexes: a search
-- scanned the shop's rows (issue 12, docs/decisions.md). Product and passage search therefore
-- run in two SQL functions that are SECURITY DEFINER, owned by `igshop_search`:
--
--   * igshop_search is NOLOGIN, no role is left a member of it (the migrating role joins it
--     only inside this transaction, to hand it the functions), and it may only SELECT the
--     columns search reads. Its own policies `FOR SELECT TO igshop_search USING (true)` let the
--     planner fold row-level security away inside the functions, so the GIN indexes below
--     serve `@@` and `<%`, with FORCE ROW LEVEL SECURITY still on and without BYPASSRLS.
--   * Isolation stays in the database: each function reads the tenant itself from
--     `app.tenant_id` (set by shared::db::begin_for_tenant) and filters every table on it.
--     Unset, the uuid cast raises (fail closed) before anything is read.
--   * Hardened: search_path pg_catalog, pg_temp; tables, pg_trgm's operators and functions
--     schema-qualified; no dynamic SQL; EXECUTE revoked from PUBLIC and granted to
--     igshop_app_rw only. They repeat what the table policies and the old queries required
--     (the tenant on every table read, active products, indexed rows only).
--   * The trigram arm (typos) runs only when full-text finds fewer rows than asked for, and
--     trigram similarity is computed for the 200 best full-text matches only.
--   * cpu_operator_cost = 0.25 (100 times the default) for planning the functions' queries:
--     `<%`, `@@` and ts_rank cost microseconds per row, not the default's fraction of one, and
--     at the default the planner answers the trigram arm of a shop that is much of the table
--     with the (tenant_id, …) btree index and `<%` as a filter over every row of the shop
--     (measured: the shop's 2,000 rows rechecked instead of one GIN lookup).
--
-- Replacing a function later: the migrating role must join igshop_search again for that
-- transaction, as below. On Azure Database for PostgreSQL, btree_gin must be allow-listed
-- (azure.extensions, set by infra/main.bicep); it is a trusted extension from PG 13.
CREATE EXTENSION IF NOT EXISTS btree_gin;

DO $$
BEGIN
    BEGIN
        CREATE ROLE igshop_search NOLOGIN NOINHERIT NOBYPASSRLS;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
    END;
END
$$;

-- One shop's rows in one index: the tenant is an index column (btree_gin), so a common word
-- does not fetch every shop's matches. These replace V2's single-column indexes.
CREATE INDEX catalog_items_tenant_search_tsv_idx ON catalog_items USING gin (tenant_id, search_tsv);
CREATE INDEX catalog_items_tenant_search_trgm_idx ON catalog_items USING gin (tenant_id, search_text gin_trgm_ops);
CREATE INDEX kb_chunks_tenant_search_tsv_idx ON kb_chunks USING gin (tenant_id, search_tsv);
CREATE INDEX kb_chunks_tenant_search_trgm_idx ON kb_chunks USING gin (tenant_id, search_text gin_trgm_ops);
DROP INDEX catalog_items_search_tsv_idx, catalog_items_search_trgm_idx,
           kb_chunks_search_tsv_idx, kb_chunks_search_trgm_idx;

-- What search may read, and nothing else.
GRANT SELECT (id, tenant_id, name, description, is_active, search_text, search_tsv) ON catalog_items TO igshop_search;
GRANT SELECT (id, tenant_id, document_id, ordinal, heading, content, search_text, search_tsv) ON kb_chunks TO igshop_search;
GRANT SELECT (id, tenant_id, title) ON kb_documents TO igshop_search;
CREATE POLICY search_read ON catalog_items FOR SELECT TO igshop_search USING (true);
CREATE POLICY search_read ON kb_chunks FOR SELECT TO igshop_search USING (true);
CREATE POLICY search_read ON kb_documents FOR SELECT TO igshop_search USING (true);

-- Products: p_words = the query words (for trigram similarity), p_any = the words OR-ed as a
-- tsquery, p_operands = each word as a tsquery operand (coverage), best first, at most p_limit.
-- Ranking as before (shared/src/search/postgres.rs):
--   0.6 · full_text + 0.4 · word_similarity, full_text = coverage · (0.7 + 0.3 · ts_rank).
-- word_similarity is most of the cost of a common word (a thousand matches in a big shop), so
-- it is computed for the 200 best full-text matches only; the trigram arm (rows that match no
-- word, found by `<%` alone) runs only when full-text found fewer than p_limit rows.
CREATE FUNCTION public.search_catalog_items(p_words text, p_any text, p_operands text[], p_limit integer)
    RETURNS TABLE (id uuid, name text, description text, score real)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    SET pg_trgm.word_similarity_threshold = 0.5
    SET cpu_operator_cost = 0.25
AS $$
    -- Fail closed: raises when app.tenant_id is unset or not a uuid, whatever the tables hold.
    SELECT pg_catalog.current_setting('app.tenant_id')::pg_catalog.uuid;
    WITH q AS (
        SELECT pg_catalog.to_tsquery('simple'::pg_catalog.regconfig, p_any) AS tsq,
               ARRAY(SELECT pg_catalog.to_tsquery('simple'::pg_catalog.regconfig, o)
                       FROM pg_catalog.unnest(p_operands) AS o) AS each_word
    ), matched AS (
        SELECT c.id, c.name, c.description, c.search_text,
               (SELECT pg_catalog.count(*) FROM pg_catalog.unnest(q.each_word) AS w(tsq)
                 WHERE c.search_tsv @@ w.tsq)::float8
                   / greatest(pg_catalog.cardinality(p_operands), 1)
                   * (0.7 + 0.3 * pg_catalog.ts_rank(c.search_tsv, q.tsq, 33)) AS full_text
          FROM public.catalog_items c, q
         WHERE c.tenant_id = pg_catalog.current_setting('app.tenant_id')::pg_catalog.uuid
           AND c.search_tsv @@ q.tsq
           AND c.is_active AND c.search_text <> ''
         ORDER BY full_text DESC, c.id
         LIMIT 200
    ), fuzzy AS (
        SELECT c.id, c.name, c.description, c.search_text, 0::float8 AS full_text
          FROM public.catalog_items c
         WHERE (SELECT pg_catalog.count(*) FROM matched) < p_limit
           AND c.tenant_id = pg_catalog.current_setting('app.tenant_id')::pg_catalog.uuid
           AND p_words OPERATOR(public.<%) c.search_text
           AND c.is_active AND c.search_text <> ''
           AND NOT EXISTS (SELECT 1 FROM matched m WHERE m.id = c.id)
    )
    SELECT s.id, s.name, s.description,
           (0.6 * s.full_text + 0.4 * public.word_similarity(p_words, s.search_text))::real AS score
      FROM (SELECT * FROM matched UNION ALL SELECT * FROM fuzzy) AS s
     ORDER BY score DESC, s.name, s.id
     LIMIT p_limit
$$;

-- Passages: the same ranking; the title is the passage's heading, else its document's title.
CREATE FUNCTION public.search_kb_passages(p_words text, p_any text, p_operands text[], p_limit integer)
    RETURNS TABLE (id uuid, document_id uuid, title text, content text, score real)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    SET pg_trgm.word_similarity_threshold = 0.5
    SET cpu_operator_cost = 0.25
AS $$
    SELECT pg_catalog.current_setting('app.tenant_id')::pg_catalog.uuid;
    WITH q AS (
        SELECT pg_catalog.to_tsquery('simple'::pg_catalog.regconfig, p_any) AS tsq,
               ARRAY(SELECT pg_catalog.to_tsquery('simple'::pg_catalog.regconfig, o)
                       FROM pg_catalog.unnest(p_operands) AS o) AS each_word
    ), matched AS (
        SELECT k.id, k.document_id, k.ordinal, k.heading, k.content, k.search_text,
               (SELECT pg_catalog.count(*) FROM pg_catalog.unnest(q.each_word) AS w(tsq)
                 WHERE k.search_tsv @@ w.tsq)::float8
                   / greatest(pg_catalog.cardinality(p_operands), 1)
                   * (0.7 + 0.3 * pg_catalog.ts_rank(k.search_tsv, q.tsq, 33)) AS full_text
          FROM public.kb_chunks k, q
         WHERE k.tenant_id = pg_catalog.current_setting('app.tenant_id')::pg_catalog.uuid
           AND k.search_tsv @@ q.tsq
           AND k.search_text <> ''
         ORDER BY full_text DESC, k.id
         LIMIT 200
    ), fuzzy AS (
        SELECT k.id, k.document_id, k.ordinal, k.heading, k.content, k.search_text, 0::float8 AS full_text
          FROM public.kb_chunks k
         WHERE (SELECT pg_catalog.count(*) FROM matched) < p_limit
           AND k.tenant_id = pg_catalog.current_setting('app.tenant_id')::pg_catalog.uuid
           AND p_words OPERATOR(public.<%) k.search_text
           AND k.search_text <> ''
           AND NOT EXISTS (SELECT 1 FROM matched m WHERE m.id = k.id)
    )
    SELECT s.id, s.document_id, coalesce(nullif(pg_catalog.btrim(s.heading), ''), d.title), s.content,
           (0.6 * s.full_text + 0.4 * public.word_similarity(p_words, s.search_text))::real AS score
      FROM (SELECT * FROM matched UNION ALL SELECT * FROM fuzzy) AS s
      JOIN public.kb_documents d
        ON d.id = s.document_id
       AND d.tenant_id = pg_catalog.current_setting('app.tenant_id')::pg_catalog.uuid
     ORDER BY score DESC, s.document_id, s.ordinal
     LIMIT p_limit
$$;

REVOKE ALL ON FUNCTION public.search_catalog_items(text, text, text[], integer),
                       public.search_kb_passages(text, text, text[], integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.search_catalog_items(text, text, text[], integer),
                          public.search_kb_passages(text, text, text[], integer) TO igshop_app_rw;

-- Hand the functions to igshop_search: ALTER OWNER needs the migrating role to be a member of
-- the new owner and the owner to have CREATE on the schema; both last only for this
-- transaction.
DO $$
BEGIN
    EXECUTE format('GRANT igshop_search TO %I', current_user);
    GRANT CREATE ON SCHEMA public TO igshop_search;
    ALTER FUNCTION public.search_catalog_items(text, text, text[], integer) OWNER TO igshop_search;
    ALTER FUNCTION public.search_kb_passages(text, text, text[], integer) OWNER TO igshop_search;
    REVOKE CREATE ON SCHEMA public FROM igshop_search;
    EXECUTE format('REVOKE igshop_search FROM %I', current_user);
END
$$;

-- Passages with embeddings (SEARCH_BACKEND=postgres, hybrid): the sign of each dimension as a
-- bit string (192 bytes at 1,536 dimensions instead of 6 KB), so the vector side ranks a
-- shop's passages by Hamming distance in SQL and loads full embeddings only for the best
-- candidates (shared/src/search/postgres.rs). NULL when there is no embedding.
CREATE FUNCTION public.embedding_signs(v real[]) RETURNS bit varying
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_catalog.string_agg(CASE WHEN x > 0 THEN '1' ELSE '0' END, '' ORDER BY i)::pg_catalog.varbit
      FROM pg_catalog.unnest(v) WITH ORDINALITY AS e(x, i)
$$;
ALTER TABLE kb_chunks
    ADD COLUMN embedding_signs bit varying GENERATED ALWAYS AS (public.embedding_signs(embedding)) STORED;
