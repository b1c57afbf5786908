//! Meta's deauthorize and data-deletion callbacks. Both arrive with a `signed_request` that
//! is checked before anything happens. Data deletion erases an Instagram user's
//! conversations, messages and personal data in every shop; orders stay for the shops'
//! books with the personal fields redacted.

use super::signed_request::{parse_signed_request, SignedRequestError};
use crate::app::App;
use crate::db::DbError;

#[derive(Debug, thiserror::Error)]
pub enum CallbackError {
    #[error("the signed_request is not valid: {0}")]
    BadSignature(#[from] SignedRequestError),
    #[error("no app secret is configured to check Meta's signature")]
    NotConfigured,
    /// Authentic but issued too long ago (or in the future), or without `issued_at`: a
    /// recorded request replayed later is not acted on.
    #[error("the signed_request was issued {0}; Meta's callbacks are accepted for {MAX_AGE_MINUTES} minutes")]
    Stale(String),
    #[error(transparent)]
    Database(#[from] DbError),
}

impl From<tokio_postgres::Error> for CallbackError {
    fn from(e: tokio_postgres::Error) -> Self {
        CallbackError::Database(e.into())
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct DeletionReceipt {
    pub url: String,
    pub confirmation_code: String,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Erased {
    pub conversations: u64,
    pub orders_redacted: u64,
    pub shops_disconnected: u64,
}

/// How old a callback's `issued_at` may be.
pub const MAX_AGE_MINUTES: i64 = 10;

/// Verifies the signature and the age; returns the request and the hash it is recorded
/// under (the same request again is answered from the record, not acted on twice).
fn verified(
    app: &App,
    signed_request: &str,
) -> Result<(super::signed_request::SignedRequest, Vec<u8>), CallbackError> {
    use sha2::Digest as _;
    let request = parse_signed_request(signed_request, &secrets(app)?)?;
    let now = chrono::Utc::now().timestamp();
    match request.issued_at {
        None => return Err(CallbackError::Stale("without an issued_at time".into())),
        Some(at) if at > now + 5 * 60 => return Err(CallbackError::Stale("in the future".into())),
        Some(at) if now - at > MAX_AGE_MINUTES * 60 => {
            return Err(CallbackError::Stale(format!(
                "{} minutes ago",
                (now - at) / 60
            )))
        }
        Some(_) => {}
    }
    let hash = sha2::Sha256::digest(signed_request.trim().as_bytes()).to_vec();
    Ok((request, hash))
}

/// The confirmation code of a request already handled.
async fn already_handled(
    c: &impl deadpool_postgres::GenericClient,
    hash: &[u8],
) -> Result<Option<String>, tokio_postgres::Error> {
    Ok(c.query_opt(
        "SELECT confirmation_code FROM data_deletion_requests WHERE request_hash = $1",
        &[&hash],
    )
    .await?
    .map(|r| r.get(0)))
}

fn secrets(app: &App) -> Result<Vec<&secrecy::SecretString>, CallbackError> {
    let s = app.settings.instagram.signing_secrets();
    if s.is_empty() {
        Err(CallbackError::NotConfigured)
    } else {
        Ok(s)
    }
}

/// The user removed the app: the shop of that account (if any) loses its token and must
/// reconnect; the request is recorded.
pub async fn deauthorize(app: &App, signed_request: &str) -> Result<String, CallbackError> {
    let (request, hash) = verified(app, signed_request)?;
    let mut c = app.db.platform().await?;
    let tx = c.transaction().await?;
    // Recorded first: a replay (or a second delivery racing this one) finds the record and
    // disconnects nothing again.
    let code = crate::crypto::random_token()[..16].to_string();
    let recorded = tx
        .execute(
            "INSERT INTO data_deletion_requests (confirmation_code, ig_user_id, kind, status, request_hash)
             VALUES ($1, $2, 'deauthorize', 'received', $3) ON CONFLICT (request_hash) DO NOTHING",
            &[&code, &request.user_id, &hash],
        )
        .await?;
    if recorded == 0 {
        tracing::info!("deauthorize callback already handled");
        return Ok(already_handled(&tx, &hash).await?.unwrap_or_default());
    }
    let shops = disconnect_shops(&tx, &request.user_id).await?;
    tx.execute(
        "UPDATE data_deletion_requests SET status = 'completed', detail = $2, completed_at = now() WHERE confirmation_code = $1",
        &[&code, &format!("{shops} shop(s) disconnected")],
    )
    .await?;
    tx.commit().await?;
    tracing::info!(shops, "deauthorize callback handled");
    Ok(code)
}

async fn disconnect_shops(
    tx: &deadpool_postgres::Transaction<'_>,
    ig_user_id: &str,
) -> Result<u64, tokio_postgres::Error> {
    tx.execute(
        "DELETE FROM meta_tokens WHERE ig_user_id = $1",
        &[&ig_user_id],
    )
    .await?;
    tx.execute(
        "UPDATE tenants SET status = 'reconnect_needed', updated_at = now() WHERE ig_user_id = $1 AND status = 'active'",
        &[&ig_user_id],
    )
    .await
}

/// Erases the user's data everywhere, in one transaction, and answers with the status URL
/// and confirmation code Meta shows the user.
pub async fn delete_user_data(
    app: &App,
    signed_request: &str,
) -> Result<DeletionReceipt, CallbackError> {
    let (request, hash) = verified(app, signed_request)?;
    let receipt = |code: String| DeletionReceipt {
        url: format!(
            "{}/api/meta/deletion-status?code={code}",
            app.settings.public_base_url
        ),
        confirmation_code: code,
    };
    let c = app.db.platform().await?;
    if let Some(code) = already_handled(&c, &hash).await? {
        return Ok(receipt(code));
    }
    let code = crate::crypto::random_token()[..16].to_string();
    // Erasing twice is harmless (a racing second delivery finds nothing left to erase).
    let erased = erase(app, &request.user_id).await?;
    let recorded = c.execute(
        "INSERT INTO data_deletion_requests (confirmation_code, ig_user_id, kind, status, detail, completed_at, request_hash)
         VALUES ($1, $2, 'data_deletion', 'completed', $3, now(), $4) ON CONFLICT (request_hash) DO NOTHING",
        &[
            &code,
            &request.user_id,
            &format!(
                "{} conversation(s) erased, {} order(s) redacted, {} shop connection(s) removed",
                erased.conversations, erased.orders_redacted, erased.shops_disconnected
            ),
            &hash,
        ],
    )
    .await?;
    if recorded == 0 {
        if let Some(code) = already_handled(&c, &hash).await? {
            return Ok(receipt(code));
        }
    }
    Ok(DeletionReceipt {
        url: format!(
            "{}/api/meta/deletion-status?code={code}",
            app.settings.public_base_url
        ),
        confirmation_code: code,
    })
}

pub async fn erase(app: &App, ig_user_id: &str) -> Result<Erased, CallbackError> {
    let mut c = app.db.platform().await?;
    let tx = c.transaction().await?;
    let orders_redacted = tx.execute(
        "UPDATE orders SET customer_name = NULL, customer_phone = NULL, address = NULL, city = NULL,
                notes = '', conversation_id = NULL, customer_ig_id = NULL, personal_data_redacted_at = now(), updated_at = now()
          WHERE customer_ig_id = $1",
        &[&ig_user_id],
    )
    .await?;
    tx.execute(
        "UPDATE return_requests SET customer_ig_id = NULL, reason = '[redacted]', updated_at = now() WHERE customer_ig_id = $1",
        &[&ig_user_id],
    )
    .await?;
    // Messages, events, sends and turns go with their conversations (ON DELETE CASCADE).
    let conversations = tx
        .execute(
            "DELETE FROM conversations WHERE customer_ig_id = $1",
            &[&ig_user_id],
        )
        .await?;
    let shops_disconnected = disconnect_shops(&tx, ig_user_id).await?;
    tx.commit().await?;
    tracing::info!(
        conversations,
        orders_redacted,
        shops_disconnected,
        "data deletion request carried out"
    );
    Ok(Erased {
        conversations,
        orders_redacted,
        shops_disconnected,
    })
}

/// The request's state in plain words, for the status page.
pub async fn status(app: &App, code: &str) -> Result<Option<String>, CallbackError> {
    if code.is_empty() || code.len() > 64 {
        return Ok(None);
    }
    let c = app.db.app().await?;
    let row = c
        .query_opt(
            "SELECT kind, status, requested_at, completed_at, coalesce(detail, '') FROM data_deletion_requests WHERE confirmation_code = $1",
            &[&code],
        )
        .await?;
    Ok(row.map(|r| {
        let kind: String = r.get(0);
        let state: String = r.get(1);
        let requested: chrono::DateTime<chrono::Utc> = r.get(2);
        let completed: Option<chrono::DateTime<chrono::Utc>> = r.get(3);
        let what = if kind == "data_deletion" { "Your request to delete your data" } else { "Your removal of the app" };
        match (state.as_str(), completed) {
            ("completed", Some(done)) => format!(
                "{what} (confirmation code {code}) was received on {} UTC and completed on {} UTC. {}.",
                requested.format("%Y-%m-%d %H:%M"),
                done.format("%Y-%m-%d %H:%M"),
                r.get::<_, String>(4)
            ),
            ("failed", _) => format!("{what} (confirmation code {code}) could not be completed yet; we are retrying."),
            _ => format!("{what} (confirmation code {code}) was received on {} UTC and is being processed.", requested.format("%Y-%m-%d %H:%M")),
        }
    }))
}
