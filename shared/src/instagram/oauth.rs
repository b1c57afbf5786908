//! "Continue with Instagram": the authorize redirect with a signed, expiring, single-use
//! `state`, and the callback that turns a code into a long-lived token, the shop, and a
//! signed-in session. Also the local-only sign-in for `IGSHOP_ENV=local`.

use super::graph::GraphError;
use super::tokens;
use crate::app::App;
use crate::crypto::sha256;
use crate::db::{begin_for_tenant, DbError};
use crate::sessions::{start_merchant_session, NewSession};
use crate::settings::Environment;
use crate::tenants::{self, InstagramHandle, TenantId};
use chrono::{Duration, Utc};

pub const SCOPES: &str = "instagram_business_basic,instagram_business_manage_messages";
const STATE_TTL_MINUTES: i64 = 10;

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error("Instagram sign-in is not configured on this server (INSTAGRAM_APP_ID and INSTAGRAM_APP_SECRET).")]
    NotConfigured,
    #[error("You cancelled the Instagram permission screen.")]
    Cancelled,
    #[error("This sign-in link is invalid, was already used, or has expired. Please start again.")]
    BadState,
    #[error("Instagram did not accept the sign-in: {0}")]
    Instagram(String),
    #[error("Instagram returned an account we cannot use: {0}")]
    BadAccount(String),
    #[error("Local sign-in exists only when the app runs with IGSHOP_ENV=local.")]
    LocalSignInRefused,
    #[error(transparent)]
    Database(#[from] DbError),
}

impl From<tokio_postgres::Error> for SignInError {
    fn from(e: tokio_postgres::Error) -> Self {
        SignInError::Database(e.into())
    }
}

impl From<GraphError> for SignInError {
    fn from(e: GraphError) -> Self {
        SignInError::Instagram(e.to_string())
    }
}

impl SignInError {
    /// A short code the SPA's sign-in page turns into a message in the merchant's language.
    pub fn code(&self) -> &'static str {
        match self {
            SignInError::NotConfigured => "not_configured",
            SignInError::Cancelled => "cancelled",
            SignInError::BadState => "bad_state",
            SignInError::Instagram(_) => "instagram_error",
            SignInError::BadAccount(_) => "bad_account",
            SignInError::LocalSignInRefused => "local_refused",
            SignInError::Database(_) => "server_error",
        }
    }
}

pub fn redirect_uri(app: &App) -> String {
    format!(
        "{}/api/instagram/oauth/callback",
        app.settings.public_base_url
    )
}

/// The URL of Instagram's consent page, with a fresh state recorded for the callback.
pub async fn authorize_url(app: &App) -> Result<String, SignInError> {
    let ig = &app.settings.instagram;
    let app_id = ig
        .app_id
        .as_deref()
        .filter(|_| ig.oauth_configured())
        .ok_or(SignInError::NotConfigured)?;
    // Stateless: the state is signed and carries its expiry, so an anonymous call writes
    // nothing; single use is enforced when the callback spends it (see `spend_state`).
    let nonce = crate::crypto::random_token();
    let expires = Utc::now() + Duration::minutes(STATE_TTL_MINUTES);
    let body = format!("{nonce}.{}", expires.timestamp());
    let state = format!("{body}.{}", app.keys.sign("oauth-state", body.as_bytes()));
    let mut url =
        url::Url::parse(&ig.authorize_url).map_err(|e| SignInError::Instagram(e.to_string()))?;
    url.query_pairs_mut()
        .append_pair("client_id", app_id)
        .append_pair("redirect_uri", &redirect_uri(app))
        .append_pair("response_type", "code")
        .append_pair("scope", SCOPES)
        .append_pair("state", &state);
    Ok(url.to_string())
}

/// What Instagram sends back to the callback.
#[derive(Debug, Default, serde::Deserialize)]
pub struct CallbackParams {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
    pub error_reason: Option<String>,
    pub error_description: Option<String>,
}

pub struct SignedIn {
    pub tenant: TenantId,
    pub new_shop: bool,
    pub session: NewSession,
}

/// Checks the state's signature and age, then spends it (single use).
async fn spend_state(app: &App, state: &str) -> Result<(), SignInError> {
    let mut parts = state.rsplitn(2, '.');
    let (Some(sig), Some(body)) = (parts.next(), parts.next()) else {
        return Err(SignInError::BadState);
    };
    if !app.keys.verify("oauth-state", body.as_bytes(), sig) {
        return Err(SignInError::BadState);
    }
    let expires: i64 = body
        .rsplit('.')
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or(SignInError::BadState)?;
    if expires < Utc::now().timestamp() {
        return Err(SignInError::BadState);
    }
    let expires_at =
        chrono::DateTime::<Utc>::from_timestamp(expires, 0).ok_or(SignInError::BadState)?;
    // Spending records the state (the row is the proof it was used); a second callback with
    // it finds the row. Rows of expired states go with the next spend.
    let c = app.db.app().await?;
    let spent = c
        .execute(
            "INSERT INTO oauth_states (state_hash, expires_at, used_at) VALUES ($1, $2, now()) ON CONFLICT (state_hash) DO NOTHING",
            &[&sha256(state.as_bytes()), &expires_at],
        )
        .await?;
    c.execute(
        "DELETE FROM oauth_states WHERE expires_at < now() - interval '1 day'",
        &[],
    )
    .await?;
    if spent == 1 {
        Ok(())
    } else {
        Err(SignInError::BadState)
    }
}

pub async fn callback(app: &App, params: &CallbackParams) -> Result<SignedIn, SignInError> {
    let graph = app.graph.as_ref().ok_or(SignInError::NotConfigured)?;
    // The state is ours and spent on every callback, the error ones too (a state seen once
    // is never good again).
    spend_state(app, params.state.as_deref().ok_or(SignInError::BadState)?).await?;
    if let Some(error) = &params.error {
        if error == "access_denied" || params.error_reason.as_deref() == Some("user_denied") {
            return Err(SignInError::Cancelled);
        }
        // Instagram's own words (error_description) never reach the page: only our text.
        tracing::warn!(error = %error.chars().take(64).collect::<String>(), "Instagram refused the sign-in");
        return Err(SignInError::Instagram(
            "the consent screen ended with an error".into(),
        ));
    }
    let code = params
        .code
        .as_deref()
        .filter(|c| !c.is_empty())
        .ok_or_else(|| SignInError::Instagram("no authorization code".into()))?;

    let short = graph.exchange_code(code, &redirect_uri(app)).await?;
    let long = graph.long_lived_token(&short.access_token).await?;
    let me = graph.me(&long.access_token).await?;
    let handle = InstagramHandle::parse(&me.username).map_err(SignInError::BadAccount)?;
    if me.user_id.is_empty() {
        return Err(SignInError::BadAccount("no account id".into()));
    }
    let (tenant, new_shop) =
        tenants::upsert_for_instagram_account(&app.db, &me.user_id, &handle).await?;
    let expires_at = Utc::now() + Duration::from_std(long.expires_in).unwrap_or(Duration::days(60));

    let user_id = {
        let mut c = app.db.app().await?;
        let tx = begin_for_tenant(&mut c, tenant).await?;
        tokens::store(
            &tx,
            &app.keys,
            tenant,
            &me.user_id,
            &long.access_token,
            expires_at,
            &short.permissions,
        )
        .await?;
        let user: uuid::Uuid = tx
            .query_one(
                "INSERT INTO users (tenant_id, ig_user_id, username, role, last_login_at) VALUES ($1, $2, $3, 'owner', now())
                 ON CONFLICT (tenant_id, username) DO UPDATE SET ig_user_id = EXCLUDED.ig_user_id, last_login_at = now()
                 RETURNING id",
                &[&tenant.as_uuid(), &me.user_id, &handle.as_str()],
            )
            .await?
            .get(0);
        tx.execute(
            "INSERT INTO onboarding_progress (tenant_id) VALUES ($1) ON CONFLICT DO NOTHING",
            &[&tenant.as_uuid()],
        )
        .await?;
        tx.execute(
            "UPDATE alerts SET acknowledged_at = now() WHERE tenant_id = $1 AND kind IN ('instagram_reconnect_needed', 'instagram_token_expiring') AND acknowledged_at IS NULL",
            &[&tenant.as_uuid()],
        )
        .await?;
        tx.commit().await?;
        user
    };

    // Without the subscription no DM reaches us; the merchant is signed in either way and
    // sees the alert (and can retry by signing in again).
    if let Err(e) = graph.subscribe_app(&me.user_id, &long.access_token).await {
        let mut c = app.db.app().await?;
        let tx = begin_for_tenant(&mut c, tenant).await?;
        crate::alerts::raise_said(
            &tx,
            Some(tenant),
            "instagram_subscription_failed",
            crate::alerts::Severity::Critical,
            &crate::alerts::Said::new(
                "instagram_subscription_failed",
                serde_json::json!({}),
                format!("Instagram did not subscribe the account to messages ({e}). Sign in with Instagram again to retry."),
            ),
            Some("instagram_subscription_failed"),
        )
        .await?;
        tx.commit().await?;
    }

    let session = start_merchant_session(
        &app.db,
        &app.keys,
        tenant,
        Some(user_id),
        app.settings.session_ttl_hours,
    )
    .await?;
    tracing::info!(tenant = %tenant, new_shop, "signed in with Instagram");
    Ok(SignedIn {
        tenant,
        new_shop,
        session,
    })
}

/// Local development only: signs in as a shop named by `handle` without Instagram.
pub async fn local_sign_in(app: &App, handle: &InstagramHandle) -> Result<SignedIn, SignInError> {
    if app.settings.environment != Environment::Local {
        return Err(SignInError::LocalSignInRefused);
    }
    let (tenant, new_shop) =
        tenants::upsert_for_instagram_account(&app.db, &format!("local:{handle}"), handle).await?;
    let mut c = app.db.app().await?;
    let tx = begin_for_tenant(&mut c, tenant).await?;
    let user: uuid::Uuid = tx
        .query_one(
            "INSERT INTO users (tenant_id, username, role, last_login_at) VALUES ($1, $2, 'owner', now())
             ON CONFLICT (tenant_id, username) DO UPDATE SET last_login_at = now() RETURNING id",
            &[&tenant.as_uuid(), &handle.as_str()],
        )
        .await?
        .get(0);
    tx.execute(
        "INSERT INTO onboarding_progress (tenant_id) VALUES ($1) ON CONFLICT DO NOTHING",
        &[&tenant.as_uuid()],
    )
    .await?;
    tx.commit().await?;
    let session = start_merchant_session(
        &app.db,
        &app.keys,
        tenant,
        Some(user),
        app.settings.session_ttl_hours,
    )
    .await?;
    Ok(SignedIn {
        tenant,
        new_shop,
        session,
    })
}
