//! What one agent turn reads to build its prompt does not grow with the shop's history: the
//! pending messages (and the message each quotes), the conversation's memory and the shop's
//! settings are read by index, a bounded number of rows each, in a shop with thousands of
//! messages, replies and passages.

use shared::agent::context;
use shared::db::begin_for_tenant;
use shared::tenants::TenantId;
use testkit::TestDb;
use uuid::Uuid;

/// Rows of `table` read in this transaction so far: by sequential scans and through indexes.
async fn rows_read(tx: &deadpool_postgres::Transaction<'_>, table: &str) -> i64 {
    tx.query_one(
        "SELECT pg_stat_get_xact_tuples_returned(c.oid) + pg_stat_get_xact_tuples_fetched(c.oid)
           FROM pg_class c WHERE c.oid = $1::text::regclass",
        &[&table],
    )
    .await
    .unwrap()
    .get(0)
}

/// A shop with a long history: `conversations` conversations, the first of `longest` messages
/// and the others of `others` (customer and shop in turn, every reply recorded as sent), and
/// 500 passages without embeddings. Returns the first conversation.
async fn shop_with_history(
    t: &TestDb,
    tenant: TenantId,
    conversations: i32,
    longest: i32,
    others: i32,
) -> Uuid {
    let c = t.db.platform().await.unwrap();
    let tenant = tenant.as_uuid();
    c.execute(
        "INSERT INTO conversations (tenant_id, customer_ig_id, last_customer_message_at, last_message_at)
         SELECT $1, 'customer-' || g, now(), now() FROM generate_series(1, $2) g",
        &[&tenant, &conversations],
    )
    .await
    .unwrap();
    let first: Uuid = c
        .query_one(
            "SELECT id FROM conversations WHERE tenant_id = $1 AND customer_ig_id = 'customer-1'",
            &[&tenant],
        )
        .await
        .unwrap()
        .get(0);
    let turn: Uuid = c
        .query_one(
            "INSERT INTO agent_turns (tenant_id, conversation_id, message_ids, status)
             VALUES ($1, $2, '{}', 'replied') RETURNING id",
            &[&tenant, &first],
        )
        .await
        .unwrap()
        .get(0);
    // Message g of each conversation is sent g seconds after the first; odd ones are the
    // customer's (answered), even ones the shop's replies.
    c.execute(
        "INSERT INTO messages (tenant_id, conversation_id, direction, author, mid, text, sent_at, answered_by_turn)
         SELECT $1, v.id, CASE WHEN g % 2 = 1 THEN 'inbound' ELSE 'outbound' END,
                CASE WHEN g % 2 = 1 THEN 'customer' ELSE 'ai' END,
                v.customer_ig_id || '-m' || g, 'message ' || g,
                now() - interval '1 day' + make_interval(secs => g),
                CASE WHEN g % 2 = 1 THEN $2::uuid END
           FROM conversations v,
                generate_series(1, CASE WHEN v.id = $3::uuid THEN $4::int ELSE $5::int END) g
          WHERE v.tenant_id = $1",
        &[&tenant, &turn, &first, &longest, &others],
    )
    .await
    .unwrap();
    c.execute(
        "INSERT INTO outbound_messages (tenant_id, conversation_id, idempotency_key, kind, payload, status, mid, sent_at)
         SELECT tenant_id, conversation_id, 'reply:' || mid, 'text',
                jsonb_build_object('message_key', 'reply:' || mid, 'seq', 1), 'sent', mid, sent_at
           FROM messages WHERE tenant_id = $1 AND direction = 'outbound'",
        &[&tenant],
    )
    .await
    .unwrap();
    let doc: Uuid = c
        .query_one(
            "INSERT INTO kb_documents (tenant_id, title, source_kind, status) VALUES ($1, 'FAQ', 'upload', 'indexed') RETURNING id",
            &[&tenant],
        )
        .await
        .unwrap()
        .get(0);
    c.execute(
        "INSERT INTO kb_chunks (tenant_id, document_id, ordinal, content, search_text)
         SELECT $1, $2, g, 'answer ' || g, 'answer ' || g FROM generate_series(1, 500) g",
        &[&tenant, &doc],
    )
    .await
    .unwrap();
    first
}

#[tokio::test]
async fn a_turns_reads_are_bounded_however_long_the_shops_history() {
    let t = TestDb::new().await;
    let shop = t.tenant("long_history").await;
    let other = t.tenant("other_history").await;
    // A customer of long standing (4,000 messages) among 20: 7,800 messages and 3,900 recorded
    // replies per shop.
    let conversation = shop_with_history(&t, shop, 20, 4000, 200).await;
    shop_with_history(&t, other, 20, 4000, 200).await;
    // The customer writes again, replying to one of their first messages.
    let c = t.db.platform().await.unwrap();
    c.execute(
        "INSERT INTO messages (tenant_id, conversation_id, direction, author, mid, text, sent_at, reply_to)
         VALUES ($1, $2, 'inbound', 'customer', 'new-1', 'still available?', now(), '{\"mid\": \"customer-1-m3\"}')",
        &[&shop.as_uuid(), &conversation],
    )
    .await
    .unwrap();
    c.batch_execute(
        "ANALYZE messages; ANALYZE outbound_messages; ANALYZE kb_chunks; ANALYZE conversations",
    )
    .await
    .unwrap();

    let mut client = t.db.app().await.unwrap();
    let tx = begin_for_tenant(&mut client, shop).await.unwrap();
    let pending = context::pending_messages(&tx, conversation).await.unwrap();
    let memory = context::memory(&tx, conversation).await.unwrap();
    let loaded = context::load_shop(&tx).await.unwrap();

    // What they found.
    assert_eq!(pending.len(), 1);
    assert!(
        pending[0]
            .text
            .contains("[replying to the earlier message: \"message 3\"]"),
        "{}",
        pending[0].text
    );
    let said: Vec<&str> = memory
        .iter()
        .map(|m| m.content.as_deref().unwrap_or_default())
        .collect();
    assert_eq!(said.len(), context::MEMORY_MESSAGES as usize, "{said:?}");
    assert_eq!(said[0], "message 3981");
    assert_eq!(said[19], "message 4000");
    assert!(!loaded.has_passage_vectors);

    // What they read: the memory window and the quoted message, not the conversation's 4,000
    // messages or the shop's 7,800; the replies of the window, not all 3,900; no passage.
    let messages = rows_read(&tx, "messages").await;
    let replies = rows_read(&tx, "outbound_messages").await;
    let passages = rows_read(&tx, "kb_chunks").await;
    let window = context::MEMORY_WINDOW;
    assert!(
        messages <= window + 10,
        "{messages} messages read for a window of {window}"
    );
    assert!(replies <= window, "{replies} replies read");
    assert_eq!(passages, 0, "passages read to learn none has an embedding");
    tx.commit().await.unwrap();
}
