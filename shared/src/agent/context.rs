//! What the model sees in a turn, in this order so the stable part comes first and provider
//! prompt caching applies: the system prompt, the shop (profile, merchant instructions,
//! business rules, the catalog when it is small), then the conversation's last 20 messages,
//! then what is fresh for this turn (time in Amman, known customer details, products and
//! knowledge passages retrieved for the customer's words), then the customer's new messages.

use super::ToolSummary;
use crate::catalog::CatalogItem;
use crate::llm::{ChatMessage, Role};
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
    pub text: String,
}

/// The text a message stands for in a prompt: its words, or what was attached.
fn message_text(text: Option<String>, attachments: &Value) -> Option<String> {
    let text = text.filter(|t| !t.trim().is_empty());
    let kinds: Vec<String> = attachments
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x["type"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    match (text, kinds.is_empty()) {
        (Some(t), true) => Some(t),
        (Some(t), false) => Some(format!("{t}\n[attached: {}]", kinds.join(", "))),
        (None, false) => Some(format!("[sent without text: {}]", kinds.join(", "))),
        (None, true) => None,
    }
}

/// A `SELECT id, text, attachments` row as a message waiting for its answer.
fn pending_of(r: &tokio_postgres::Row) -> Pending {
    let attachments: Value = r.get(2);
    Pending {
        id: r.get(0),
        text: message_text(r.get(1), &attachments).unwrap_or_default(),
    }
}

/// The conversation's customer messages with no answer yet, oldest first.
pub async fn pending_messages(
    tx: &impl GenericClient,
    conversation: Uuid,
) -> Result<Vec<Pending>, tokio_postgres::Error> {
    Ok(tx
        .query(&tx.prepare_cached("SELECT id, text, attachments FROM messages
              WHERE conversation_id = $1 AND direction = 'inbound' AND answered_by_turn IS NULL AND deleted_at IS NULL
              ORDER BY sent_at, created_at").await?,
            &[&conversation],
        )
        .await?
        .iter()
        .map(pending_of)
        .collect())
}

/// The turn's own messages (by id), oldest first.
pub async fn messages_by_id(
    tx: &impl GenericClient,
    ids: &[Uuid],
) -> Result<Vec<Pending>, tokio_postgres::Error> {
    Ok(tx
        .query(&tx.prepare_cached("SELECT id, text, attachments FROM messages WHERE id = ANY($1) ORDER BY sent_at, created_at").await?,
            &[&ids],
        )
        .await?
        .iter()
        .map(pending_of)
        .collect())
}

/// The last [`MEMORY_MESSAGES`] answered messages, oldest first, as chat messages. Messages
/// the team wrote count as the shop's side and are marked so.
pub async fn memory(
    tx: &impl GenericClient,
    conversation: Uuid,
) -> Result<Vec<ChatMessage>, tokio_postgres::Error> {
    let rows = tx
        .query(
            &tx.prepare_cached(
                "SELECT direction, author, text, attachments FROM messages
              WHERE conversation_id = $1 AND deleted_at IS NULL
                AND NOT (direction = 'inbound' AND answered_by_turn IS NULL)
              ORDER BY sent_at DESC, created_at DESC
              LIMIT $2",
            )
            .await?,
            &[&conversation, &MEMORY_MESSAGES],
        )
        .await?;
    let mut out: Vec<ChatMessage> = rows
        .into_iter()
        .filter_map(|r| {
            let direction: String = r.get(0);
            let author: String = r.get(1);
            let attachments: Value = r.get(3);
            let text = message_text(r.get(2), &attachments)?;
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
    Ok(out.split_off(keep))
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
}

pub async fn load_shop(tx: &impl GenericClient) -> Result<Shop, tokio_postgres::Error> {
    let profile = tx
        .query_opt(&tx.prepare_cached("SELECT data FROM profiles").await?, &[])
        .await?
        .and_then(|r| serde_json::from_value::<Profile>(r.get(0)).ok());
    let instructions = tx
        .query_opt(
            &tx.prepare_cached("SELECT instructions FROM ai_settings")
                .await?,
            &[],
        )
        .await?
        .map(|r| r.get::<_, String>(0))
        .unwrap_or_default();
    let rules = tx
        .query_opt(
            &tx.prepare_cached("SELECT rules FROM business_rules")
                .await?,
            &[],
        )
        .await?
        .and_then(|r| serde_json::from_value::<BusinessRules>(r.get(0)).ok())
        .unwrap_or_default();
    // Only whether the catalog is small matters: counting stops past the inline limit.
    let active_items: i64 = tx
        .query_one(
            &tx.prepare_cached(
                "SELECT count(*) FROM (SELECT 1 FROM catalog_items WHERE is_active LIMIT $1) AS a",
            )
            .await?,
            &[&(INLINE_CATALOG_MAX + 1)],
        )
        .await?
        .get(0);
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
    })
}

/// One product as a prompt line.
pub fn product_line(i: &CatalogItem) -> String {
    let mut line = format!(
        "{} | {} | {} JD | stock {}",
        i.sku.as_str(),
        i.name,
        i.price_jod,
        i.stock.max(0)
    );
    if let Some(c) = &i.category {
        let _ = write!(line, " | {c}");
    }
    let attrs = crate::search::attributes_text(&Value::Object(i.attributes.clone()));
    if !attrs.is_empty() {
        let _ = write!(line, " | {}", cut(&attrs, 80));
    }
    line
}

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
            if let Some(h) = &p.instagram_handle {
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
                    "Return window: {} days after delivery.",
                    p.returns.window_days
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
                Some(d) => format!("{} {} JD ({d} days)", z.city, z.fee_jod),
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
        let list: Vec<String> = hours.iter().map(|(d, h)| format!("{d} {h}")).collect();
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
                "\n# Catalog (all {} products: SKU | name | price | stock | category | details)",
                items.len()
            );
            for i in items {
                let _ = writeln!(s, "{}", product_line(i));
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

/// The whole prompt, in cache-friendly order.
pub fn assemble(
    shop: &Shop,
    memory: Vec<ChatMessage>,
    fresh: &Fresh<'_>,
    new_messages: &[Pending],
) -> Vec<ChatMessage> {
    let mut m = Vec::with_capacity(memory.len() + new_messages.len() + 3);
    m.push(ChatMessage::system(SYSTEM_PROMPT));
    m.push(ChatMessage::system(shop_message(shop)));
    m.extend(memory);
    m.push(ChatMessage::system(fresh_message(fresh)));
    for p in new_messages {
        if !p.text.trim().is_empty() {
            m.push(ChatMessage::user(p.text.clone()));
        }
    }
    if !m.iter().any(|x| x.role == Role::User) {
        m.push(ChatMessage::user(
            "[the customer sent a message with no text]",
        ));
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
