//! What the model sees in a turn, in this order so the stable part comes first and provider
//! prompt caching applies: the system prompt, the shop (profile, merchant instructions,
//! business rules, the catalog when it is small), then the conversation's last 20 messages,
//! then what is fresh for this turn (time in Amman, known customer details, products and
//! knowledge passages retrieved for the customer's words), then the customer's new messages.

use super::ToolSummary;
use crate::catalog::CatalogItem;
use crate::llm::ChatMessage;
use crate::profile::Profile;
use crate::rules::BusinessRules;
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde_json::Value;
use std::fmt::Write;
use uuid::Uuid;

pub const SYSTEM_PROMPT: &str = include_str!("../../../prompts/system_prompt.md");
pub const FUNCTION_SCHEMA: &str = include_str!("../../../prompts/function_schema.json");

/// Messages of the conversation the model remembers.
pub const MEMORY_MESSAGES: i64 = 20;
/// Stored messages read to find them: a reply of many parts is one memory message, and ten
/// parts per message (10,000 bytes of text each) still fit; beyond that the oldest one
/// remembered may lack its first parts.
pub const MEMORY_WINDOW: i64 = MEMORY_MESSAGES * 10;
/// A catalog of at most this many active items goes into the prompt whole.
pub const INLINE_CATALOG_MAX: i64 = 25;
/// Products retrieved for the customer's words when the catalog is larger.
pub const RETRIEVED_PRODUCTS: usize = 6;
pub const RETRIEVED_PASSAGES: usize = 3;
/// A knowledge passage is cut to this many characters in the prompt.
pub const PASSAGE_PROMPT_CHARS: usize = 700;

/// The tool definitions sent with every call.
pub fn tools() -> Value {
    serde_json::from_str(FUNCTION_SCHEMA).expect("prompts/function_schema.json is valid JSON")
}

#[derive(Debug, Clone)]
pub struct Conversation {
    pub id: Uuid,
    pub kind: String,
    pub customer_ig_id: String,
    pub customer_username: Option<String>,
    pub customer_name: Option<String>,
    pub customer_phone: Option<String>,
    pub customer_city: Option<String>,
    pub customer_address: Option<String>,
    pub mode: String,
    pub last_customer_message_at: Option<DateTime<Utc>>,
}

pub async fn load_conversation(
    tx: &impl GenericClient,
    id: Uuid,
) -> Result<Option<Conversation>, tokio_postgres::Error> {
    Ok(tx
        .query_opt(&tx.prepare_cached("SELECT id, kind, customer_ig_id, customer_username, customer_name, customer_phone, customer_city,
                    customer_address, mode, last_customer_message_at
               FROM conversations WHERE id = $1").await?,
            &[&id],
        )
        .await?
        .map(|r| Conversation {
            id: r.get(0),
            kind: r.get(1),
            customer_ig_id: r.get(2),
            customer_username: r.get(3),
            customer_name: r.get(4),
            customer_phone: r.get(5),
            customer_city: r.get(6),
            customer_address: r.get(7),
            mode: r.get(8),
            last_customer_message_at: r.get(9),
        }))
}

/// A customer message waiting for its answer.
#[derive(Debug, Clone)]
pub struct Pending {
    pub id: Uuid,
    /// What the model is shown: the words and what they refer to (see [`describe`]).
    pub text: String,
    /// Whether there is anything to answer: words, an attachment, a story reply, a tap. A
    /// message Instagram could not pass on (`is_unsupported`) alone is not.
    pub answerable: bool,
}

/// Most new customer messages one turn shows the model (the latest ones).
pub const NEW_MESSAGES_MAX: usize = 20;
/// Most characters of new customer messages one turn shows the model.
pub const NEW_MESSAGES_CHARS: usize = 4000;
/// A quoted earlier message is cut to this many characters.
const QUOTE_CHARS: usize = 200;

/// What a stored message stands for in a prompt, and whether it holds anything to answer:
/// its words, then what it refers to as text (the story it replies to and its URL, the
/// earlier message it quotes, the quick reply or button tapped, each attachment's type and
/// URL, a shared post or reel).
pub fn describe(
    text: Option<&str>,
    attachments: &Value,
    reply_to: Option<&Value>,
    quoted: Option<&str>,
) -> (String, bool) {
    let mut lines: Vec<String> = Vec::new();
    let mut answerable = false;
    let empty = Value::Null;
    let r = reply_to.unwrap_or(&empty);
    if r.get("story").is_some() {
        answerable = true;
        match r["story"]["url"].as_str().filter(|u| !u.is_empty()) {
            Some(url) => lines.push(format!("[replying to the shop's story: {url}]")),
            None => lines.push("[replying to the shop's story]".into()),
        }
    }
    if r.get("mid").is_some() {
        match quoted.map(str::trim).filter(|q| !q.is_empty()) {
            Some(q) => lines.push(format!(
                "[replying to the earlier message: \"{}\"]",
                cut(q, QUOTE_CHARS)
            )),
            None => lines.push("[replying to an earlier message]".into()),
        }
    }
    if let Some(p) = r["quick_reply_payload"].as_str().filter(|p| !p.is_empty()) {
        answerable = true;
        lines.push(format!("[tapped the quick reply: {p}]"));
    }
    if let Some(p) = r["postback_payload"].as_str().filter(|p| !p.is_empty()) {
        answerable = true;
        lines.push(format!("[tapped the button: {p}]"));
    }
    if let Some(words) = text.map(str::trim).filter(|t| !t.is_empty()) {
        answerable = true;
        lines.push(words.to_owned());
    }
    for a in attachments
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        answerable = true;
        let kind = a["type"].as_str().unwrap_or("unknown");
        let what = match kind {
            "share" | "ig_post" | "post" => "shared a post".to_owned(),
            "ig_reel" | "reel" => "shared a reel".to_owned(),
            "story_mention" => "mentioned the shop in a story".to_owned(),
            "image" | "video" | "audio" | "file" => format!(
                "sent {} {kind}",
                if kind == "image" || kind == "audio" {
                    "an"
                } else {
                    "a"
                }
            ),
            other => format!("sent an attachment ({other})"),
        };
        match a["url"].as_str().filter(|u| !u.is_empty()) {
            Some(url) => lines.push(format!("[{what}: {url}]")),
            None => lines.push(format!("[{what}]")),
        }
    }
    if r["unsupported"].as_bool() == Some(true) && !answerable {
        lines.push("[sent something Instagram does not pass on to the shop]".into());
    }
    (lines.join("\n"), answerable)
}

/// A `SELECT id, text, attachments, reply_to, quoted text` row as a message waiting for
/// its answer.
fn pending_of(r: &tokio_postgres::Row) -> Pending {
    let attachments: Value = r.get(2);
    let reply_to: Option<Value> = r.get(3);
    let quoted: Option<String> = r.get(4);
    let (text, answerable) = describe(
        r.get::<_, Option<&str>>(1),
        &attachments,
        reply_to.as_ref(),
        quoted.as_deref(),
    );
    Pending {
        id: r.get(0),
        text,
        answerable,
    }
}

/// The conversation's customer messages with no answer yet, oldest first (standby ones,
/// which another app answers, never).
///
/// The quoted message's text is a subquery, not a join: with the reply's `mid` as its
/// parameter it is one look-up in the unique `(tenant_id, mid)` index, where a join scanned
/// every message of the shop (the index is partial, and a join clause cannot prove it).
pub async fn pending_messages(
    tx: &impl GenericClient,
    conversation: Uuid,
) -> Result<Vec<Pending>, tokio_postgres::Error> {
    Ok(tx
        .query(&tx.prepare_cached("SELECT m.id, m.text, m.attachments, m.reply_to,
                    (SELECT q.text FROM messages q WHERE q.tenant_id = m.tenant_id AND q.mid = m.reply_to->>'mid')
               FROM messages m
              WHERE m.conversation_id = $1 AND m.direction = 'inbound' AND m.answered_by_turn IS NULL
                AND m.deleted_at IS NULL AND NOT m.standby
              ORDER BY m.sent_at, m.created_at").await?,
            &[&conversation],
        )
        .await?
        .iter()
        .map(pending_of)
        .collect())
}

/// The turn's own messages (by id), oldest first; ones deleted since are left out.
pub async fn messages_by_id(
    tx: &impl GenericClient,
    ids: &[Uuid],
) -> Result<Vec<Pending>, tokio_postgres::Error> {
    Ok(tx
        .query(
            &tx.prepare_cached(
                "SELECT m.id, m.text, m.attachments, m.reply_to,
                    (SELECT q.text FROM messages q WHERE q.tenant_id = m.tenant_id AND q.mid = m.reply_to->>'mid')
               FROM messages m
              WHERE m.id = ANY($1) AND m.deleted_at IS NULL ORDER BY m.sent_at, m.created_at",
            )
            .await?,
            &[&ids],
        )
        .await?
        .iter()
        .map(pending_of)
        .collect())
}

/// The last [`MEMORY_MESSAGES`] answered messages, oldest first, as chat messages. A reply
/// sent as several Instagram parts is one message (its parts joined), so it takes one slot.
/// Messages the team wrote count as the shop's side and are marked so.
///
/// Only the newest [`MEMORY_WINDOW`] messages are read (by the conversation index), so a turn
/// costs the same in a conversation of ten messages and of ten thousand; each reply's part is
/// matched to its send by one look-up in the unique `(tenant_id, mid)` index (a join chose to
/// read every send of the shop).
pub async fn memory(
    tx: &impl GenericClient,
    conversation: Uuid,
) -> Result<Vec<ChatMessage>, tokio_postgres::Error> {
    let rows = tx
        .query(
            &tx.prepare_cached(
                "WITH recent AS (
                   SELECT m.* FROM messages m
                    WHERE m.conversation_id = $1 AND m.deleted_at IS NULL AND NOT m.standby
                      AND NOT (m.direction = 'inbound' AND m.answered_by_turn IS NULL)
                    ORDER BY m.sent_at DESC, m.created_at DESC
                    LIMIT $3),
                 m AS (
                   SELECT m.direction, m.author, m.text, m.attachments, m.reply_to, m.sent_at, m.created_at,
                          coalesce(CASE WHEN m.direction = 'outbound' THEN
                                     (SELECT o.payload->>'message_key' FROM outbound_messages o
                                       WHERE o.tenant_id = m.tenant_id AND o.mid = m.mid) END,
                                   m.id::text) AS reply
                     FROM recent m)
                 SELECT direction, author,
                        string_agg(text, E'\\n' ORDER BY sent_at, created_at),
                        jsonb_agg(attachments ORDER BY sent_at, created_at),
                        (array_agg(reply_to ORDER BY sent_at, created_at))[1],
                        min(sent_at) AS first_sent, min(created_at) AS first_created
                   FROM m
                  GROUP BY reply, direction, author
                  ORDER BY first_sent DESC, first_created DESC
                  LIMIT $2",
            )
            .await?,
            &[&conversation, &MEMORY_MESSAGES, &MEMORY_WINDOW],
        )
        .await?;
    let mut out: Vec<ChatMessage> = rows
        .into_iter()
        .filter_map(|r| {
            let direction: String = r.get(0);
            let author: String = r.get(1);
            // One array per part: flattened.
            let attachments = Value::Array(
                r.get::<_, Value>(3)
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_array)
                    .flatten()
                    .cloned()
                    .collect(),
            );
            let reply_to: Option<Value> = r.get(4);
            let (text, _) = describe(
                r.get::<_, Option<&str>>(2),
                &attachments,
                reply_to.as_ref(),
                None,
            );
            if text.is_empty() {
                return None;
            }
            Some(if direction == "inbound" {
                ChatMessage::user(text)
            } else if author == "ai" {
                ChatMessage::assistant(text)
            } else {
                ChatMessage::assistant(format!("[written by the shop's team] {text}"))
            })
        })
        .collect();
    out.reverse();
    Ok(out)
}

/// What the tools did in the conversation's recent turns, newest last (internals summarised,
/// not replayed).
pub async fn earlier_actions(
    tx: &impl GenericClient,
    conversation: Uuid,
) -> Result<Vec<String>, tokio_postgres::Error> {
    let rows = tx
        .query(
            &tx.prepare_cached(
                "SELECT tool_calls FROM agent_turns
              WHERE conversation_id = $1 AND status IN ('replied', 'handed_off')
              ORDER BY started_at DESC LIMIT 10",
            )
            .await?,
            &[&conversation],
        )
        .await?;
    let mut out = Vec::new();
    for r in rows.iter().rev() {
        let calls: Value = r.get(0);
        let calls: Vec<ToolSummary> = serde_json::from_value(calls).unwrap_or_default();
        out.extend(
            calls
                .into_iter()
                .filter(|c| c.ok && c.remember)
                .map(|c| c.summary),
        );
    }
    let keep = out.len().saturating_sub(8);
    let out = out.split_off(keep);
    // An order's line says its status now, not the one it had when the tool ran.
    let statuses: std::collections::HashMap<i64, String> = tx
        .query(
            &tx.prepare_cached(
                "SELECT order_number, status FROM orders WHERE conversation_id = $1",
            )
            .await?,
            &[&conversation],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    Ok(out
        .into_iter()
        .map(|line| with_current_status(&line, &statuses))
        .collect())
}

/// `line` (a remembered tool summary) with the current status of the order it names
/// ("#1001"), and without a status it recorded at the time.
pub fn with_current_status(
    line: &str,
    statuses: &std::collections::HashMap<i64, String>,
) -> String {
    let number = line.find('#').and_then(|i| {
        let digits: String = line[i + 1..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        digits.parse::<i64>().ok()
    });
    let Some(status) = number.and_then(|n| statuses.get(&n)) else {
        return line.to_owned();
    };
    // Older records wrote ", status pending" inside the parentheses.
    let mut base = line.to_owned();
    if let Some(i) = base.find(", status ") {
        let end = base[i..].find(')').map_or(base.len(), |j| i + j);
        base.replace_range(i..end, "");
    }
    format!("{base}; its status now: {status}")
}

/// The shop as the agent knows it.
#[derive(Debug, Clone, Default)]
pub struct Shop {
    pub profile: Option<Profile>,
    pub instructions: String,
    pub rules: BusinessRules,
    /// Active items, counted up to [`INLINE_CATALOG_MAX`] + 1.
    pub active_items: i64,
    /// The whole catalog when it has at most [`INLINE_CATALOG_MAX`] active items.
    pub inline_catalog: Option<Vec<CatalogItem>>,
    /// Whether any passage has an embedding (only then is the customer's text embedded for a
    /// hybrid search).
    pub has_passage_vectors: bool,
}

pub async fn load_shop(tx: &impl GenericClient) -> Result<Shop, tokio_postgres::Error> {
    // Independent reads, sent together (tokio-postgres pipelines them on the connection): one
    // wait for the database instead of five.
    let profile = async {
        Ok::<_, tokio_postgres::Error>(
            tx.query_opt(&tx.prepare_cached("SELECT data FROM profiles").await?, &[])
                .await?
                .and_then(|r| serde_json::from_value::<Profile>(r.get(0)).ok()),
        )
    };
    let instructions = async {
        Ok(tx
            .query_opt(
                &tx.prepare_cached("SELECT instructions FROM ai_settings")
                    .await?,
                &[],
            )
            .await?
            .map(|r| r.get::<_, String>(0))
            .unwrap_or_default())
    };
    let rules = async {
        Ok(tx
            .query_opt(
                &tx.prepare_cached("SELECT rules FROM business_rules")
                    .await?,
                &[],
            )
            .await?
            .and_then(|r| serde_json::from_value::<BusinessRules>(r.get(0)).ok())
            .unwrap_or_default())
    };
    // Only whether the catalog is small matters: counting stops past the inline limit. The
    // tenant condition (the policy's own) and the order of the (tenant_id, id) index make it
    // read the shop's first rows by index; without them the planner scanned the table from the
    // start, through other shops' rows (6 ms behind one other shop of 5,000 items).
    let active_items = async {
        Ok(tx
            .query_one(
                &tx.prepare_cached(
                    "SELECT count(*) FROM (SELECT 1 FROM catalog_items
                      WHERE tenant_id = app_current_tenant() AND is_active
                      ORDER BY tenant_id, id LIMIT $1) AS a",
                )
                .await?,
                &[&(INLINE_CATALOG_MAX + 1)],
            )
            .await?
            .get::<_, i64>(0))
    };
    // By the tenant index, as the count.
    let has_passage_vectors = async {
        Ok(tx
            .query_opt(
                &tx.prepare_cached(
                    "SELECT 1 FROM kb_chunks WHERE tenant_id = app_current_tenant()
                      AND embedding IS NOT NULL ORDER BY tenant_id LIMIT 1",
                )
                .await?,
                &[],
            )
            .await?
            .is_some())
    };
    let (profile, instructions, rules, active_items, has_passage_vectors) = tokio::try_join!(
        profile,
        instructions,
        rules,
        active_items,
        has_passage_vectors
    )?;
    let inline_catalog = if active_items <= INLINE_CATALOG_MAX {
        let ids: Vec<Uuid> = tx
            .query(
                &tx.prepare_cached("SELECT id FROM catalog_items WHERE is_active ORDER BY name")
                    .await?,
                &[],
            )
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
        Some(
            crate::catalog::get_items(tx, &ids)
                .await
                .map_err(|e| match e {
                    crate::catalog::CatalogError::Database(e) => e,
                    other => unreachable!("get_items only fails in the database: {other}"),
                })?,
        )
    } else {
        None
    };
    Ok(Shop {
        profile,
        instructions,
        rules,
        active_items,
        inline_catalog,
        has_passage_vectors,
    })
}

/// One product as a prompt line, with its stock now (fresh context and tool answers).
pub fn product_line(i: &CatalogItem) -> String {
    let mut line = format!(
        "{} | {} | {} JD | stock {}",
        i.sku.as_str(),
        i.name,
        i.price_jod,
        i.stock.max(0)
    );
    push_details(&mut line, i);
    line
}

/// One product of the inline catalog: everything but the stock, which changes with every
/// order and so is told in the fresh context (the shop block stays byte-identical and cached).
pub fn catalog_line(i: &CatalogItem) -> String {
    let mut line = format!("{} | {} | {} JD", i.sku.as_str(), i.name, i.price_jod);
    push_details(&mut line, i);
    line
}

/// Most characters of a product's description in a prompt line.
const DESCRIPTION_PROMPT_CHARS: usize = 80;

fn push_details(line: &mut String, i: &CatalogItem) {
    if let Some(c) = &i.category {
        let _ = write!(line, " | {c}");
    }
    let attrs = crate::search::attributes_text(&Value::Object(i.attributes.clone()));
    let description = i.description.trim();
    let details: Vec<String> = [
        (!description.is_empty()).then(|| cut(description, DESCRIPTION_PROMPT_CHARS)),
        (!attrs.is_empty()).then(|| cut(&attrs, 80)),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !details.is_empty() {
        let _ = write!(line, " | {}", details.join("; "));
    }
}

/// "1 day", "3 days".
fn days(n: impl Into<u32>) -> String {
    match n.into() {
        1 => "1 day".to_owned(),
        n => format!("{n} days"),
    }
}

/// Days in the week's order as Jordan counts it: Saturday first.
const WEEK_ORDER: [&str; 7] = [
    "saturday",
    "sunday",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
];

fn cut(s: &str, chars: usize) -> String {
    match s.char_indices().nth(chars) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

/// The second system message: everything about the shop that does not change per turn.
pub fn shop_message(shop: &Shop) -> String {
    let mut s = String::new();
    match &shop.profile {
        Some(p) => {
            let _ = writeln!(s, "# The shop: {}", p.shop_name);
            if let Some(h) = p
                .instagram_handle
                .as_deref()
                .map(|h| h.trim().trim_start_matches('@'))
                .filter(|h| !h.is_empty())
            {
                let _ = writeln!(s, "Instagram: @{h}");
            }
            for (label, text) in [
                ("About", &p.intro),
                ("Brand voice", &p.brand_voice),
                ("Delivery", &p.delivery),
                ("Returns policy", &p.returns.policy),
            ] {
                if !text.trim().is_empty() {
                    let _ = writeln!(s, "{label}: {}", text.trim());
                }
            }
            if p.returns.window_days == 0 {
                let _ = writeln!(s, "Return window: no returns.");
            } else {
                let _ = writeln!(
                    s,
                    "Return window: {} after delivery.",
                    days(p.returns.window_days)
                );
            }
            if !p.offers.is_empty() {
                let _ = writeln!(s, "Current offers: {}", p.offers.join("; "));
            } else {
                let _ = writeln!(s, "Current offers: none.");
            }
        }
        None => {
            let _ = writeln!(
                s,
                "# The shop\n(The shop has not filled in its profile: do not state policies; hand over questions about them.)"
            );
        }
    }
    let r = &shop.rules;
    let _ = writeln!(s, "\n# Business rules");
    if r.delivery_zones.is_empty() {
        let _ = writeln!(s, "Delivery zones: not set (delivery fee 0).");
    } else {
        let zones: Vec<String> = r
            .delivery_zones
            .iter()
            .map(|z| match z.delivery_days {
                Some(d) => format!("{} {} JD ({})", z.city, z.fee_jod, days(d)),
                None => format!("{} {} JD", z.city, z.fee_jod),
            })
            .collect();
        let _ = writeln!(s, "Delivery fees: {}", zones.join("; "));
    }
    if let Some(m) = r.minimum_order_jod {
        let _ = writeln!(s, "Minimum order: {m} JD (before delivery).");
    }
    let hours = if r.working_hours.is_empty() {
        shop.profile
            .as_ref()
            .map(|p| p.working_hours.clone())
            .unwrap_or_default()
    } else {
        r.working_hours.clone()
    };
    if !hours.is_empty() {
        let mut days: Vec<(&String, &String)> = hours.iter().collect();
        days.sort_by_key(|(d, _)| {
            WEEK_ORDER
                .iter()
                .position(|w| w.eq_ignore_ascii_case(d))
                .unwrap_or(WEEK_ORDER.len())
        });
        let list: Vec<String> = days.iter().map(|(d, h)| format!("{d} {h}")).collect();
        let _ = writeln!(s, "Working hours (Amman): {}", list.join(", "));
    }
    if !r.handoff.keywords.is_empty() {
        let _ = writeln!(
            s,
            "Hand over to a human when the customer mentions: {}",
            r.handoff.keywords.join(", ")
        );
    }
    if r.handoff.on_complaint {
        let _ = writeln!(s, "Hand over complaints to a human.");
    }
    if r.handoff.on_request {
        let _ = writeln!(s, "Hand over when the customer asks for a person.");
    }
    if !shop.instructions.trim().is_empty() {
        let _ = writeln!(
            s,
            "\n# The merchant's instructions\n{}",
            shop.instructions.trim()
        );
    }
    match &shop.inline_catalog {
        Some(items) if items.is_empty() => {
            let _ = writeln!(
                s,
                "\n# Catalog\nThe catalog is empty: no product can be sold yet."
            );
        }
        Some(items) => {
            let _ = writeln!(
                s,
                "\n# Catalog (all {} products: SKU | name | price | category | details; stock now is in the fresh context below)",
                items.len()
            );
            for i in items {
                let _ = writeln!(s, "{}", catalog_line(i));
            }
        }
        None => {
            let _ = writeln!(
                s,
                "\n# Catalog\nMore than {INLINE_CATALOG_MAX} products; the ones that match the customer's words are listed further down. Use search_products for anything else."
            );
        }
    }
    s
}

/// What is fresh for this turn.
pub struct Fresh<'a> {
    pub now: DateTime<Utc>,
    pub conversation: &'a Conversation,
    pub earlier_actions: &'a [String],
    pub products: &'a [CatalogItem],
    /// (title, text) of knowledge passages.
    pub passages: &'a [(String, String)],
    /// The out-of-hours message, when the shop is closed now.
    pub closed_message: Option<&'a str>,
    /// The inline catalog, whose stock now is told here rather than in the shop block.
    pub catalog_stock: &'a [CatalogItem],
}

pub fn fresh_message(f: &Fresh<'_>) -> String {
    let mut s = String::new();
    let amman = f.now.with_timezone(&chrono_tz_amman());
    let _ = writeln!(
        s,
        "# Now\nAmman time: {}",
        amman.format("%A %Y-%m-%d %H:%M")
    );
    if let Some(m) = f.closed_message {
        let _ = writeln!(
            s,
            "The shop is closed now. Tell the customer, kindly: {m} (you can still answer questions and take orders)."
        );
    }
    let c = f.conversation;
    let known: Vec<String> = [
        ("name", &c.customer_name),
        ("phone", &c.customer_phone),
        ("city", &c.customer_city),
        ("address", &c.customer_address),
    ]
    .iter()
    .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}: {v}")))
    .collect();
    if !known.is_empty() {
        let _ = writeln!(
            s,
            "Customer details given earlier (reuse, do not ask again): {}",
            known.join("; ")
        );
    }
    if !f.earlier_actions.is_empty() {
        let _ = writeln!(s, "Earlier in this conversation:");
        for a in f.earlier_actions {
            let _ = writeln!(s, "- {a}");
        }
    }
    if !f.catalog_stock.is_empty() {
        let stock: Vec<String> = f
            .catalog_stock
            .iter()
            .map(|i| match i.stock.max(0) {
                0 => format!("{} out of stock", i.sku.as_str()),
                n => format!("{} {n}", i.sku.as_str()),
            })
            .collect();
        let _ = writeln!(s, "Stock now (pieces): {}", stock.join(", "));
    }
    if !f.products.is_empty() {
        let _ = writeln!(
            s,
            "\n# Products matching the customer's words (SKU | name | price | stock | category | details)"
        );
        for p in f.products {
            let _ = writeln!(s, "{}", product_line(p));
        }
    }
    if !f.passages.is_empty() {
        let _ = writeln!(s, "\n# From the shop's knowledge base");
        for (title, text) in f.passages {
            let _ = writeln!(s, "[{}] {}", title, cut(text, PASSAGE_PROMPT_CHARS));
        }
    }
    s
}

/// Asia/Amman has been UTC+3 all year since October 2022.
fn chrono_tz_amman() -> chrono::FixedOffset {
    chrono::FixedOffset::east_opt(3 * 3600).expect("valid offset")
}

/// The out-of-hours message when the shop's working hours say it is closed now.
pub fn closed_now(rules: &BusinessRules, now: DateTime<Utc>) -> Option<&str> {
    use chrono::{Datelike, Timelike};
    if rules.working_hours.is_empty() || rules.out_of_hours_message.trim().is_empty() {
        return None;
    }
    let local = now.with_timezone(&chrono_tz_amman());
    let day = match local.weekday() {
        chrono::Weekday::Sun => "sunday",
        chrono::Weekday::Mon => "monday",
        chrono::Weekday::Tue => "tuesday",
        chrono::Weekday::Wed => "wednesday",
        chrono::Weekday::Thu => "thursday",
        chrono::Weekday::Fri => "friday",
        chrono::Weekday::Sat => "saturday",
    };
    let minutes = local.hour() * 60 + local.minute();
    let open = match rules.working_hours.get(day).map(|h| h.trim()) {
        None => return None,
        Some("closed") => false,
        Some(range) => {
            let parse = |t: &str| -> Option<u32> {
                let (h, m) = t.trim().split_once(':')?;
                Some(h.parse::<u32>().ok()? * 60 + m.parse::<u32>().ok()?)
            };
            match range
                .split_once('-')
                .and_then(|(a, b)| Some((parse(a)?, parse(b)?)))
            {
                Some((from, to)) if from <= to => (from..to).contains(&minutes),
                Some((from, to)) => minutes >= from || minutes < to,
                None => true,
            }
        }
    };
    (!open).then_some(rules.out_of_hours_message.trim())
}

/// The new messages the model is shown: the latest answerable ones, at most
/// [`NEW_MESSAGES_MAX`] and [`NEW_MESSAGES_CHARS`] (always the last one), and how many earlier
/// ones were left out.
pub fn latest_messages(new_messages: &[Pending]) -> (Vec<&Pending>, usize) {
    let answerable: Vec<&Pending> = new_messages
        .iter()
        .filter(|p| p.answerable && !p.text.trim().is_empty())
        .collect();
    let mut kept: Vec<&Pending> = Vec::new();
    let mut chars = 0;
    for p in answerable.iter().rev() {
        let n = p.text.chars().count();
        if kept.len() == NEW_MESSAGES_MAX || (!kept.is_empty() && chars + n > NEW_MESSAGES_CHARS) {
            break;
        }
        chars += n;
        kept.push(p);
    }
    kept.reverse();
    let left_out = answerable.len() - kept.len();
    (kept, left_out)
}

/// The whole prompt, in cache-friendly order. With nothing answerable among the new
/// messages there is no user message (the turn does not call the model then).
pub fn assemble(
    shop: &Shop,
    memory: Vec<ChatMessage>,
    fresh: &Fresh<'_>,
    new_messages: &[Pending],
) -> Vec<ChatMessage> {
    let mut m = Vec::with_capacity(memory.len() + new_messages.len() + 4);
    m.push(ChatMessage::system(SYSTEM_PROMPT));
    m.push(ChatMessage::system(shop_message(shop)));
    m.extend(memory);
    m.push(ChatMessage::system(fresh_message(fresh)));
    let (kept, left_out) = latest_messages(new_messages);
    if left_out > 0 {
        m.push(ChatMessage::system(format!(
            "The customer sent {} messages since the last reply; the {left_out} earliest are left out here, the latest {} follow.",
            left_out + kept.len(),
            kept.len()
        )));
    }
    for p in kept {
        m.push(ChatMessage::user(p.text.clone()));
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_embedded_tool_schema_names_the_eight_tools() {
        let t = tools();
        let names: Vec<&str> = t
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["function"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "search_products",
                "get_product",
                "create_order",
                "get_order_status",
                "cancel_order",
                "request_return",
                "search_knowledge",
                "handoff_to_human"
            ]
        );
        assert!(SYSTEM_PROMPT.contains("Jordanian"));
    }

    #[test]
    fn working_hours_are_read_in_amman_time() {
        let rules: BusinessRules = serde_json::from_value(serde_json::json!({
            "working_hours": { "sunday": "10:00-22:00", "friday": "closed" },
            "out_of_hours_message": "مسكرين هلأ"
        }))
        .unwrap();
        // Sunday 2026-11-22 08:30 UTC = 11:30 in Amman: open.
        let open = Utc.with_ymd_and_hms(2026, 11, 22, 8, 30, 0).unwrap();
        assert_eq!(closed_now(&rules, open), None);
        // Sunday 19:30 UTC = 22:30 in Amman: closed.
        let late = Utc.with_ymd_and_hms(2026, 11, 22, 19, 30, 0).unwrap();
        assert_eq!(closed_now(&rules, late), Some("مسكرين هلأ"));
        // Friday: closed all day.
        let friday = Utc.with_ymd_and_hms(2026, 11, 27, 9, 0, 0).unwrap();
        assert_eq!(closed_now(&rules, friday), Some("مسكرين هلأ"));
        // A day not listed: no claim either way.
        let monday = Utc.with_ymd_and_hms(2026, 11, 23, 23, 0, 0).unwrap();
        assert_eq!(closed_now(&rules, monday), None);
    }
}
