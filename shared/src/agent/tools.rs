//! The agent's tools, each validated on the server. The model chooses what to look up and
//! what to do; the database decides prices, totals, stock and whose order is whose. A tool
//! that cannot do what was asked answers with a reason the model can relay; only a failing
//! database is an error of the turn.

use super::context::{product_line, Conversation, Shop, RETRIEVED_PASSAGES};
use super::AgentError;
use crate::app::App;
use crate::checkout::{self, CheckoutError, OrderRequest};
use crate::db::begin_for_tenant;
use crate::llm::ToolCall;
use crate::orders::{self, OrderStatus};
use crate::phone::JordanMobile;
use crate::tenants::TenantId;
use chrono::Utc;
use deadpool_postgres::GenericClient;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

/// Where the turn's effects go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Instagram,
    /// The merchant's test chat: same pipeline, nothing sent to Instagram.
    Playground,
}

pub struct ToolContext<'a> {
    pub app: &'a App,
    pub tenant: TenantId,
    pub conversation: &'a Conversation,
    pub turn_id: Uuid,
    pub channel: Channel,
    pub shop: &'a Shop,
    /// create_order calls so far in this run of the turn: the n-th call of a re-run turn
    /// gets the same idempotency key as the n-th call of the run that crashed.
    pub orders_asked: u32,
}

/// What a tool call did.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Sent back to the model as the tool's answer.
    pub answer: Value,
    pub ok: bool,
    /// One line for the turn's record and for later turns' memory.
    pub summary: String,
    /// Whether later turns should be told (orders placed, cancellations, returns, handoffs).
    pub remember: bool,
    /// Set by handoff_to_human.
    pub handoff: Option<String>,
}

fn refused(name: &str, reason: impl Into<String>) -> Outcome {
    let reason = reason.into();
    Outcome {
        answer: json!({ "ok": false, "error": reason }),
        ok: false,
        summary: format!("{name} refused: {reason}"),
        remember: false,
        handoff: None,
    }
}

fn done(answer: Value, summary: String, remember: bool) -> Outcome {
    Outcome {
        answer,
        ok: true,
        summary,
        remember,
        handoff: None,
    }
}

/// Words that mean the model tried to set money itself.
const MONEY_FIELDS: [&str; 6] = ["price", "total", "discount", "fee", "amount", "cost"];

/// The arguments as `T`, or a refusal explaining what was wrong. Any money field is refused
/// with its own reason: prices come from the shop's system.
fn args<T: DeserializeOwned>(call: &ToolCall) -> Result<T, Outcome> {
    let value: Value = serde_json::from_str(if call.arguments.trim().is_empty() {
        "{}"
    } else {
        &call.arguments
    })
    .map_err(|e| {
        refused(
            &call.name,
            format!("the arguments are not valid JSON ({e}); send a JSON object"),
        )
    })?;
    fn money_keys(v: &Value, path: &str, out: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                for (k, v) in map {
                    let lower = k.to_ascii_lowercase();
                    let here = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    if MONEY_FIELDS.iter().any(|m| lower.contains(m)) {
                        out.push(here);
                    } else {
                        money_keys(v, &here, out);
                    }
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    money_keys(v, &format!("{path}[{i}]"), out);
                }
            }
            _ => {}
        }
    }
    let mut forbidden = Vec::new();
    money_keys(&value, "", &mut forbidden);
    if !forbidden.is_empty() {
        let named: Vec<String> = forbidden.iter().map(|k| format!("\"{k}\"")).collect();
        return Err(refused(
            &call.name,
            format!(
                "{} cannot be set: prices, fees, totals and discounts come only from the shop's catalog and rules. Remove {} and try again.",
                named.join(", "),
                if named.len() == 1 { "it" } else { "them all" }
            ),
        ));
    }
    if call.name == "create_order" {
        let problems = order_field_problems(&value);
        if !problems.is_empty() {
            return Err(refused(
                &call.name,
                format!("fix these and try again: {}", problems.join("; ")),
            ));
        }
    }
    serde_json::from_value(value)
        .map_err(|e| refused(&call.name, format!("the arguments are not valid: {e}")))
}

/// Every field of create_order's arguments that is not one it takes, and every required one
/// missing, at once (serde stops at the first), so the model fixes them in one round.
fn order_field_problems(value: &Value) -> Vec<String> {
    const TOP: [&str; 6] = [
        "items",
        "customer_name",
        "phone",
        "city",
        "address",
        "notes",
    ];
    const REQUIRED: [&str; 5] = ["items", "customer_name", "phone", "city", "address"];
    const LINE: [&str; 2] = ["sku", "quantity"];
    let mut out = Vec::new();
    let Some(map) = value.as_object() else {
        return vec!["the arguments must be a JSON object".into()];
    };
    let unknown: Vec<String> = map
        .keys()
        .filter(|k| !TOP.contains(&k.as_str()))
        .map(|k| format!("\"{k}\""))
        .collect();
    if !unknown.is_empty() {
        out.push(format!(
            "remove the unknown field(s) {}",
            unknown.join(", ")
        ));
    }
    let missing: Vec<&str> = REQUIRED
        .iter()
        .copied()
        .filter(|k| map.get(*k).is_none_or(Value::is_null))
        .collect();
    if !missing.is_empty() {
        out.push(format!("add the missing field(s) {}", missing.join(", ")));
    }
    if let Some(items) = map.get("items").and_then(Value::as_array) {
        for (i, line) in items.iter().enumerate() {
            let Some(line) = line.as_object() else {
                out.push(format!(
                    "items[{i}] must be an object with sku and quantity"
                ));
                continue;
            };
            let unknown: Vec<String> = line
                .keys()
                .filter(|k| !LINE.contains(&k.as_str()))
                .map(|k| format!("\"{k}\""))
                .collect();
            if !unknown.is_empty() {
                out.push(format!("remove {} from items[{i}]", unknown.join(", ")));
            }
            for k in LINE {
                if line.get(k).is_none_or(Value::is_null) {
                    out.push(format!("items[{i}] needs {k}"));
                }
            }
        }
    }
    out
}

async fn in_tenant<T>(
    app: &App,
    tenant: TenantId,
    work: impl for<'t> FnOnce(
        &'t deadpool_postgres::Transaction<'t>,
    ) -> futures::future::BoxFuture<'t, Result<T, AgentError>>,
) -> Result<T, AgentError> {
    let mut c = app.db.app().await?;
    let tx = begin_for_tenant(&mut c, tenant).await?;
    let out = work(&tx).await?;
    tx.commit().await.map_err(crate::db::DbError::from)?;
    Ok(out)
}

pub async fn run(ctx: &mut ToolContext<'_>, call: &ToolCall) -> Result<Outcome, AgentError> {
    let outcome = match call.name.as_str() {
        "search_products" => search_products(ctx, call).await?,
        "get_product" => get_product(ctx, call).await?,
        "create_order" => create_order(ctx, call).await?,
        "get_order_status" => get_order_status(ctx, call).await?,
        "cancel_order" => cancel_order(ctx, call).await?,
        "request_return" => request_return(ctx, call).await?,
        "search_knowledge" => search_knowledge(ctx, call).await?,
        "handoff_to_human" => handoff_to_human(ctx, call).await?,
        other => refused(other, format!("there is no tool called \"{other}\"")),
    };
    Ok(outcome)
}

macro_rules! parse_or_refuse {
    ($call:expr) => {
        match args($call) {
            Ok(a) => a,
            Err(o) => return Ok(o),
        }
    };
}

fn item_json(i: &crate::catalog::CatalogItem) -> Value {
    json!({
        "sku": i.sku.as_str(),
        "name": i.name,
        "price_jod": i.price_jod,
        "stock": i.stock.max(0),
        "in_stock": i.stock > 0,
        "category": i.category,
        "description": i.description,
        "attributes": i.attributes,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SearchArgs {
    query: String,
    #[serde(default)]
    limit: Option<usize>,
}

async fn search_products(ctx: &ToolContext<'_>, call: &ToolCall) -> Result<Outcome, AgentError> {
    let a: SearchArgs = parse_or_refuse!(call);
    if a.query.trim().is_empty() {
        return Ok(refused(&call.name, "the query is empty"));
    }
    let limit = a.limit.unwrap_or(5).clamp(1, 10);
    let items = super::find_products(ctx.app, ctx.tenant, &a.query, limit).await?;
    let summary = format!(
        "search_products \"{}\": {} found",
        a.query.trim(),
        items.len()
    );
    Ok(done(
        json!({ "ok": true, "products": items.iter().map(item_json).collect::<Vec<_>>() }),
        summary,
        false,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SkuArgs {
    sku: String,
}

async fn get_product(ctx: &ToolContext<'_>, call: &ToolCall) -> Result<Outcome, AgentError> {
    let a: SkuArgs = parse_or_refuse!(call);
    let sku = a.sku.clone();
    let item = in_tenant(ctx.app, ctx.tenant, move |tx| {
        Box::pin(async move { Ok(crate::catalog::get_item_by_sku(tx, &sku).await?) })
    })
    .await?;
    Ok(match item {
        Some(i) if i.is_active => done(
            json!({ "ok": true, "product": item_json(&i) }),
            format!("get_product {}", product_line(&i)),
            false,
        ),
        _ => refused(
            &call.name,
            format!("there is no product with SKU {} in this shop", a.sku.trim()),
        ),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OrderLineArgs {
    sku: String,
    quantity: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateOrderArgs {
    items: Vec<OrderLineArgs>,
    customer_name: String,
    phone: String,
    city: String,
    address: String,
    #[serde(default)]
    notes: Option<String>,
}

async fn create_order(ctx: &mut ToolContext<'_>, call: &ToolCall) -> Result<Outcome, AgentError> {
    ctx.orders_asked += 1;
    let a: CreateOrderArgs = parse_or_refuse!(call);
    let phone = match JordanMobile::parse(&a.phone) {
        Ok(p) => p,
        Err(reason) => return Ok(refused(&call.name, reason)),
    };
    let req = OrderRequest {
        lines: a
            .items
            .iter()
            .map(|l| (l.sku.clone(), l.quantity))
            .collect(),
        customer_name: a.customer_name.clone(),
        phone: phone.clone(),
        city: a.city.clone(),
        address: a.address.clone(),
        notes: a.notes.clone().unwrap_or_default(),
        customer_ig_id: Some(ctx.conversation.customer_ig_id.clone()),
        conversation_id: Some(ctx.conversation.id),
        source: match ctx.channel {
            Channel::Instagram => "instagram".into(),
            Channel::Playground => "playground".into(),
        },
        placed_by: "ai".into(),
        idempotency_key: format!("turn:{}:order:{}", ctx.turn_id, ctx.orders_asked),
    };
    let rules = ctx.shop.rules.clone();
    let tenant = ctx.tenant;
    let conversation = ctx.conversation.id;
    let placed = in_tenant(ctx.app, ctx.tenant, move |tx| {
        Box::pin(async move {
            match checkout::place(tx, tenant, &rules, &req).await {
                Ok(p) => {
                    // Remember the customer's details for the next order.
                    tx.execute(&tx.prepare_cached("UPDATE conversations SET customer_name = $2, customer_phone = $3, customer_city = $4,
                                customer_address = $5, updated_at = now() WHERE id = $1").await?,
                        &[&conversation, &req.customer_name.trim(), &req.phone.as_str(), &req.city.trim(), &req.address.trim()],
                    )
                    .await
                    .map_err(crate::db::DbError::from)?;
                    Ok(Ok(p))
                }
                Err(CheckoutError::Refused(reason)) => Ok(Err(reason)),
                Err(CheckoutError::Database(e)) => Err(AgentError::Database(e.into())),
            }
        })
    })
    .await?;
    Ok(match placed {
        Err(reason) => refused(&call.name, reason),
        Ok(p) => {
            let o = &p.order;
            done(
                json!({
                    "ok": true,
                    "order_number": o.summary.order_number,
                    "status": o.summary.status,
                    "items": o.items.iter().map(|l| json!({ "sku": l.sku, "name": l.name, "quantity": l.quantity, "unit_price_jod": l.unit_price_jod, "line_total_jod": l.line_total_jod })).collect::<Vec<_>>(),
                    "subtotal_jod": o.subtotal_jod,
                    "delivery_fee_jod": o.delivery_fee_jod,
                    "total_jod": o.summary.total_jod,
                    "phone": o.summary.customer_phone,
                    "city": o.summary.city,
                }),
                // Later turns read it with the order's status then (context::with_current_status).
                format!(
                    "created_order #{} ({} item(s), total {} JD)",
                    o.summary.order_number,
                    o.items.iter().map(|l| l.quantity as i64).sum::<i64>(),
                    o.summary.total_jod,
                ),
                true,
            )
        }
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OrderNumberArgs {
    order_number: i64,
    #[serde(default)]
    reason: Option<String>,
}

/// This customer's order with that number, or `None` (the same answer whether the number
/// does not exist or belongs to someone else).
async fn own_order(
    tx: &impl GenericClient,
    customer_ig_id: &str,
    number: i64,
) -> Result<Option<Uuid>, AgentError> {
    Ok(tx
        .query_opt(
            &tx.prepare_cached(
                "SELECT id FROM orders WHERE order_number = $1 AND customer_ig_id = $2",
            )
            .await?,
            &[&number, &customer_ig_id],
        )
        .await
        .map_err(crate::db::DbError::from)?
        .map(|r| r.get(0)))
}

fn not_yours(name: &str, number: i64) -> Outcome {
    refused(
        name,
        format!("this customer has no order number {number}; ask them to check the number"),
    )
}

fn order_err(e: orders::OrderError) -> AgentError {
    match e {
        orders::OrderError::Database(e) => AgentError::Database(e.into()),
        other => AgentError::Internal(other.to_string()),
    }
}

async fn get_order_status(ctx: &ToolContext<'_>, call: &ToolCall) -> Result<Outcome, AgentError> {
    let a: OrderNumberArgs = parse_or_refuse!(call);
    let customer = ctx.conversation.customer_ig_id.clone();
    let n = a.order_number;
    let detail = in_tenant(ctx.app, ctx.tenant, move |tx| {
        Box::pin(async move {
            match own_order(tx, &customer, n).await? {
                None => Ok(None),
                Some(id) => Ok(Some(orders::detail(tx, id).await.map_err(order_err)?)),
            }
        })
    })
    .await?;
    Ok(match detail {
        None => not_yours(&call.name, n),
        Some(o) => done(
            json!({
                "ok": true,
                "order_number": o.summary.order_number,
                "status": o.summary.status,
                "created_at": o.summary.created_at,
                "items": o.items.iter().map(|l| json!({ "name": l.name, "quantity": l.quantity })).collect::<Vec<_>>(),
                "total_jod": o.summary.total_jod,
                "city": o.summary.city,
            }),
            format!("order #{n} is {}", o.summary.status.as_str()),
            false,
        ),
    })
}

async fn cancel_order(ctx: &ToolContext<'_>, call: &ToolCall) -> Result<Outcome, AgentError> {
    let a: OrderNumberArgs = parse_or_refuse!(call);
    let customer = ctx.conversation.customer_ig_id.clone();
    let tenant = ctx.tenant;
    let n = a.order_number;
    let result = in_tenant(ctx.app, ctx.tenant, move |tx| {
        Box::pin(async move {
            let Some(id) = own_order(tx, &customer, n).await? else {
                return Ok(Err(None));
            };
            let d = orders::detail(tx, id).await.map_err(order_err)?;
            match d.summary.status {
                OrderStatus::Cancelled => Ok(Ok(false)),
                OrderStatus::Pending | OrderStatus::Confirmed => {
                    orders::change_status(tx, tenant, id, OrderStatus::Cancelled, "customer")
                        .await
                        .map_err(order_err)?;
                    Ok(Ok(true))
                }
                other => Ok(Err(Some(other))),
            }
        })
    })
    .await?;
    Ok(match result {
        Err(None) => not_yours(&call.name, n),
        Err(Some(status)) => refused(
            &call.name,
            format!(
                "order {n} is already {} and can no longer be cancelled{}",
                status.as_str(),
                if status == OrderStatus::Shipped || status == OrderStatus::Delivered {
                    "; after delivery the customer can ask for a return"
                } else {
                    ""
                }
            ),
        ),
        Ok(changed) => done(
            json!({ "ok": true, "order_number": n, "status": "cancelled", "was_already_cancelled": !changed }),
            format!("cancelled order #{n}"),
            true,
        ),
    })
}

async fn request_return(ctx: &ToolContext<'_>, call: &ToolCall) -> Result<Outcome, AgentError> {
    let a: OrderNumberArgs = parse_or_refuse!(call);
    let window_days = ctx
        .shop
        .profile
        .as_ref()
        .map(|p| p.returns.window_days)
        .unwrap_or(0);
    let customer = ctx.conversation.customer_ig_id.clone();
    let conversation = ctx.conversation.id;
    let tenant = ctx.tenant;
    let n = a.order_number;
    let reason = a.reason.clone().unwrap_or_default();
    let result = in_tenant(ctx.app, ctx.tenant, move |tx| {
        Box::pin(async move {
            let db = |e: tokio_postgres::Error| AgentError::Database(e.into());
            let Some(id) = own_order(tx, &customer, n).await? else {
                return Ok(Err(None));
            };
            if let Some(r) = tx
                .query_opt(&tx.prepare_cached("SELECT id FROM return_requests WHERE order_id = $1 AND status IN ('requested', 'approved', 'received')").await?,
                    &[&id],
                )
                .await
                .map_err(db)?
            {
                return Ok(Ok((r.get::<_, Uuid>(0), false)));
            }
            let status: String = tx
                .query_one(&tx.prepare_cached("SELECT status FROM orders WHERE id = $1").await?, &[&id])
                .await
                .map_err(db)?
                .get(0);
            if status != "delivered" {
                return Ok(Err(Some(format!(
                    "order {n} is {status}; a return can be requested only after delivery"
                ))));
            }
            if window_days == 0 {
                return Ok(Err(Some("this shop does not accept returns".to_owned())));
            }
            let delivered_at: Option<chrono::DateTime<Utc>> = tx
                .query_one(&tx.prepare_cached("SELECT max(changed_at) FROM order_status_history WHERE order_id = $1 AND to_status = 'delivered'").await?,
                    &[&id],
                )
                .await
                .map_err(db)?
                .get(0);
            let delivered_at = delivered_at.unwrap_or_else(Utc::now);
            let days = (Utc::now() - delivered_at).num_days();
            if days > i64::from(window_days) {
                return Ok(Err(Some(format!(
                    "order {n} was delivered {days} days ago; returns are accepted within {window_days} days of delivery"
                ))));
            }
            let rid: Uuid = tx
                .query_one(&tx.prepare_cached("INSERT INTO return_requests (tenant_id, order_id, conversation_id, customer_ig_id, reason)
                     VALUES ($1, $2, $3, $4, $5) RETURNING id").await?,
                    &[&tenant.as_uuid(), &id, &conversation, &customer, &reason.trim()],
                )
                .await
                .map_err(db)?
                .get(0);
            Ok(Ok((rid, true)))
        })
    })
    .await?;
    Ok(match result {
        Err(None) => not_yours(&call.name, n),
        Err(Some(reason)) => refused(&call.name, reason),
        Ok((_, created)) => done(
            json!({ "ok": true, "order_number": n, "return_status": "requested", "already_requested": !created,
                    "next": "the shop's team will review the return and contact the customer" }),
            format!("return requested for order #{n}"),
            true,
        ),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QueryArgs {
    query: String,
}

async fn search_knowledge(ctx: &ToolContext<'_>, call: &ToolCall) -> Result<Outcome, AgentError> {
    let a: QueryArgs = parse_or_refuse!(call);
    if a.query.trim().is_empty() {
        return Ok(refused(&call.name, "the query is empty"));
    }
    let passages = super::find_passages(
        ctx.app,
        ctx.tenant,
        Some((ctx.conversation.id, ctx.turn_id)),
        &a.query,
        RETRIEVED_PASSAGES,
        ctx.shop.has_passage_vectors,
    )
    .await?;
    Ok(done(
        json!({ "ok": true, "passages": passages.iter().map(|(t, x)| json!({ "title": t, "text": x })).collect::<Vec<_>>(),
                "note": if passages.is_empty() { "nothing found: do not guess; offer to ask the team" } else { "" } }),
        format!(
            "search_knowledge \"{}\": {} passage(s)",
            a.query.trim(),
            passages.len()
        ),
        false,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HandoffArgs {
    #[serde(default)]
    reason: String,
}

async fn handoff_to_human(ctx: &ToolContext<'_>, call: &ToolCall) -> Result<Outcome, AgentError> {
    let a: HandoffArgs = parse_or_refuse!(call);
    let said = if a.reason.trim().is_empty() {
        crate::alerts::Said::new(
            "assistant_asked",
            json!({}),
            "the assistant asked for a person",
        )
    } else {
        let text: String = a.reason.trim().chars().take(300).collect();
        crate::alerts::Said::new("assistant_reason", json!({ "text": text }), text.clone())
    };
    let reason = said.text.clone();
    super::hand_over(ctx.app, ctx.tenant, ctx.conversation, &said).await?;
    let mut o = done(
        json!({ "ok": true, "note": "A person from the team will take over. Tell the customer so in one short sentence." }),
        format!("handed over to the team: {reason}"),
        true,
    );
    o.handoff = Some(reason);
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(name: &str, args: &str) -> ToolCall {
        ToolCall {
            id: "c1".into(),
            name: name.into(),
            arguments: args.into(),
        }
    }

    #[test]
    fn money_fields_are_refused_wherever_they_are() {
        for a in [
            r#"{"items":[{"sku":"A","quantity":1,"unit_price":1}],"customer_name":"x","phone":"0791234567","city":"Amman","address":"abc"}"#,
            r#"{"items":[{"sku":"A","quantity":1}],"total_jod":"1.000","customer_name":"x","phone":"0791234567","city":"Amman","address":"abc"}"#,
            r#"{"items":[{"sku":"A","quantity":1}],"discount":"50%","customer_name":"x","phone":"0791234567","city":"Amman","address":"abc"}"#,
        ] {
            let err = args::<CreateOrderArgs>(&call("create_order", a))
                .err()
                .unwrap();
            assert!(!err.ok);
            assert!(
                err.answer["error"]
                    .as_str()
                    .unwrap()
                    .contains("cannot be set"),
                "{a}"
            );
        }
    }

    #[test]
    fn every_forbidden_and_unknown_field_is_named_at_once() {
        let a = r#"{"items":[{"sku":"A","quantity":1,"unit_price":1,"colour":"red"}],"total_jod":"1","discount":"5%","customer_name":"x","phone":"0791234567","city":"Amman","address":"abc"}"#;
        let err = args::<CreateOrderArgs>(&call("create_order", a))
            .err()
            .unwrap();
        let text = err.answer["error"].as_str().unwrap();
        for k in ["items[0].unit_price", "total_jod", "discount"] {
            assert!(text.contains(k), "{k} not named: {text}");
        }
        let a = r#"{"items":[{"sku":"A","qty":1}],"customer":"x","phone":"0791234567","address":"abc"}"#;
        let err = args::<CreateOrderArgs>(&call("create_order", a))
            .err()
            .unwrap();
        let text = err.answer["error"].as_str().unwrap();
        for k in [
            "\"customer\"",
            "customer_name",
            "city",
            "\"qty\"",
            "items[0] needs quantity",
        ] {
            assert!(text.contains(k), "{k} not named: {text}");
        }
    }

    #[test]
    fn malformed_arguments_become_a_message_for_the_model() {
        let err = args::<SkuArgs>(&call("get_product", "{\"sku\": "))
            .err()
            .unwrap();
        assert!(err.answer["error"]
            .as_str()
            .unwrap()
            .contains("not valid JSON"));
        let err = args::<SkuArgs>(&call("get_product", "{\"id\": 3}"))
            .err()
            .unwrap();
        assert!(err.answer["error"].as_str().unwrap().contains("not valid"));
        let ok: SkuArgs = args(&call("get_product", "{\"sku\": \"A1\"}"))
            .ok()
            .unwrap();
        assert_eq!(ok.sku, "A1");
    }
}
