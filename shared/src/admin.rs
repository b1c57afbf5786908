//! The product owner's accounts: created from the CLI (`handler admin create-user`), passwords
//! as argon2id PHC strings, sign-in with rate limiting and a temporary lock-out, sessions of
//! their own (kind `admin`, shorter lifetime, own cookie), and the audit log every admin
//! action writes. Everything here runs as the platform role: admins are not tenants.

use crate::crypto::{random_token, sha256, Keys};
use crate::db::{Database, DbError};
use crate::tenants::TenantId;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::{DateTime, Duration, Utc};
use deadpool_postgres::GenericClient;
use uuid::Uuid;

pub const COOKIE_NAME: &str = "igshop_admin";
/// Failures for one e-mail within [`WINDOW_MINUTES`] that lock it for [`LOCK_MINUTES`].
pub const MAX_FAILURES_PER_EMAIL: i64 = 5;
/// Attempts from one client within the window before it must wait.
pub const MAX_ATTEMPTS_PER_CLIENT: i64 = 20;
pub const WINDOW_MINUTES: i64 = 15;
pub const LOCK_MINUTES: i64 = 15;
pub const MIN_PASSWORD_CHARS: usize = 12;

/// A checked e-mail address, lower case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminEmail(String);

impl AdminEmail {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let e = raw.trim().to_lowercase();
        let ok = e.len() <= 254
            && e.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            })
            && !e.chars().any(|c| c.is_whitespace() || c.is_control());
        if ok {
            Ok(AdminEmail(e))
        } else {
            Err(format!("{:?} is not an e-mail address", raw.trim()))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("{0}")]
    Invalid(String),
    #[error("an admin with the e-mail {0} already exists")]
    Exists(String),
    #[error("wrong e-mail or password")]
    WrongCredentials,
    #[error("too many failed sign-ins for this account; try again in {0} minute(s)")]
    Locked(i64),
    #[error("too many sign-in attempts from here; try again in {0} minute(s)")]
    RateLimited(i64),
    #[error(transparent)]
    Database(#[from] DbError),
    #[error("password hashing failed: {0}")]
    Hash(String),
}

impl From<tokio_postgres::Error> for AdminError {
    fn from(e: tokio_postgres::Error) -> Self {
        AdminError::Database(DbError::Postgres(e))
    }
}

pub fn hash_password(password: &str) -> Result<String, AdminError> {
    let salt = SaltString::generate(&mut aes_gcm::aead::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AdminError::Hash(e.to_string()))
}

fn password_matches(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash of nothing in particular, checked when the e-mail names no account, so a wrong
/// e-mail takes as long as a wrong password.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy password, never valid").unwrap_or_default())
}

pub async fn create_user(
    db: &Database,
    email: &AdminEmail,
    password: &str,
) -> Result<Uuid, AdminError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AdminError::Invalid(format!(
            "the password must have at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    if password.chars().count() > 1024 {
        return Err(AdminError::Invalid(
            "the password is longer than 1024 characters".into(),
        ));
    }
    let hash = hash_password(password)?;
    let c = db.platform().await?;
    let row = c
        .query_opt(
            "INSERT INTO admin_users (email, password_hash) VALUES ($1, $2) ON CONFLICT (email) DO NOTHING RETURNING id",
            &[&email.as_str(), &hash],
        )
        .await?;
    let id: Uuid = row
        .ok_or_else(|| AdminError::Exists(email.as_str().to_owned()))?
        .get(0);
    audit(
        &c,
        &Actor::Cli,
        None,
        "admin.create_user",
        Some(email.as_str()),
        serde_json::json!({}),
    )
    .await?;
    Ok(id)
}

/// Who did it, for the audit log.
#[derive(Debug, Clone)]
pub enum Actor {
    Admin { id: Uuid, email: String },
    Cli,
    System,
}

impl Actor {
    fn label(&self) -> String {
        match self {
            Actor::Admin { email, .. } => format!("admin:{email}"),
            Actor::Cli => "cli".into(),
            Actor::System => "system".into(),
        }
    }
}

/// One row in `audit_log`.
pub async fn audit(
    c: &impl GenericClient,
    actor: &Actor,
    tenant: Option<TenantId>,
    action: &str,
    target: Option<&str>,
    details: serde_json::Value,
) -> Result<(), tokio_postgres::Error> {
    c.execute(
        "INSERT INTO audit_log (tenant_id, actor, action, target, details) VALUES ($1, $2, $3, $4, $5)",
        &[&tenant.map(|t| t.as_uuid()), &actor.label(), &action, &target, &details],
    )
    .await?;
    Ok(())
}

pub struct NewAdminSession {
    pub token: String,
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
    pub admin: AdminSession,
}

#[derive(Debug, Clone)]
pub struct AdminSession {
    pub admin_id: Uuid,
    pub email: String,
    pub expires_at: DateTime<Utc>,
    token_hash: Vec<u8>,
}

impl AdminSession {
    pub fn actor(&self) -> Actor {
        Actor::Admin {
            id: self.admin_id,
            email: self.email.clone(),
        }
    }
    pub fn csrf_token(&self, keys: &Keys) -> String {
        keys.sign("admin-csrf", &self.token_hash)
    }
    pub fn csrf_matches(&self, keys: &Keys, presented: Option<&str>) -> bool {
        presented.is_some_and(|p| keys.verify("admin-csrf", &self.token_hash, p))
    }
}

/// Checks the password under the rate limit and lock-out; every attempt is recorded, and a
/// success starts a session.
pub async fn sign_in(
    db: &Database,
    keys: &Keys,
    email_raw: &str,
    password: &str,
    client: &str,
    ttl_hours: u64,
) -> Result<NewAdminSession, AdminError> {
    let email = AdminEmail::parse(email_raw).map_err(|_| AdminError::WrongCredentials)?;
    let c = db.platform().await?;
    let window = format!("{WINDOW_MINUTES} minutes");
    let row = c
        .query_one(
            "SELECT
               (SELECT count(*) FROM admin_sign_in_attempts WHERE client = $2 AND attempted_at > now() - $3::text::interval),
               (SELECT min(attempted_at) FROM admin_sign_in_attempts WHERE client = $2 AND attempted_at > now() - $3::text::interval),
               (SELECT count(*) FROM admin_sign_in_attempts WHERE email = $1 AND NOT succeeded AND attempted_at > now() - $3::text::interval
                   AND attempted_at > coalesce((SELECT max(attempted_at) FROM admin_sign_in_attempts WHERE email = $1 AND succeeded), '-infinity')),
               (SELECT max(attempted_at) FROM admin_sign_in_attempts WHERE email = $1 AND NOT succeeded)",
            &[&email.as_str(), &client, &window],
        )
        .await?;
    let (client_attempts, client_first, failures, last_failure): (
        i64,
        Option<DateTime<Utc>>,
        i64,
        Option<DateTime<Utc>>,
    ) = (row.get(0), row.get(1), row.get(2), row.get(3));
    let minutes_until = |t: DateTime<Utc>| {
        ((t - Utc::now()).num_seconds() as f64 / 60.0)
            .ceil()
            .max(1.0) as i64
    };
    if client_attempts >= MAX_ATTEMPTS_PER_CLIENT {
        let until = client_first.unwrap_or_else(Utc::now) + Duration::minutes(WINDOW_MINUTES);
        return Err(AdminError::RateLimited(minutes_until(until)));
    }
    if failures >= MAX_FAILURES_PER_EMAIL {
        let until = last_failure.unwrap_or_else(Utc::now) + Duration::minutes(LOCK_MINUTES);
        if until > Utc::now() {
            c.execute(
                "INSERT INTO admin_sign_in_attempts (email, client, succeeded) VALUES ($1, $2, false)",
                &[&email.as_str(), &client],
            )
            .await?;
            audit(
                &c,
                &Actor::System,
                None,
                "admin.sign_in_locked",
                Some(email.as_str()),
                serde_json::json!({ "client": client }),
            )
            .await?;
            return Err(AdminError::Locked(minutes_until(until)));
        }
    }
    let account = c
        .query_opt(
            "SELECT id, password_hash, disabled FROM admin_users WHERE email = $1",
            &[&email.as_str()],
        )
        .await?;
    let ok = match &account {
        Some(r) => {
            let hash: String = r.get(1);
            let disabled: bool = r.get(2);
            let matches = password_matches(password, &hash);
            matches && !disabled
        }
        None => {
            let _ = password_matches(password, decoy_hash());
            false
        }
    };
    c.execute(
        "INSERT INTO admin_sign_in_attempts (email, client, succeeded) VALUES ($1, $2, $3)",
        &[&email.as_str(), &client, &ok],
    )
    .await?;
    let Some(account) = account.filter(|_| ok) else {
        audit(
            &c,
            &Actor::System,
            None,
            "admin.sign_in_failed",
            Some(email.as_str()),
            serde_json::json!({ "client": client }),
        )
        .await?;
        return Err(AdminError::WrongCredentials);
    };
    let admin_id: Uuid = account.get(0);
    let token = random_token();
    let token_hash = sha256(token.as_bytes());
    let expires_at = Utc::now() + Duration::hours(ttl_hours as i64);
    let session = AdminSession {
        admin_id,
        email: email.as_str().to_owned(),
        expires_at,
        token_hash: token_hash.clone(),
    };
    let csrf_token = session.csrf_token(keys);
    c.execute(
        "INSERT INTO sessions (token_hash, kind, admin_user_id, csrf_token_hash, expires_at) VALUES ($1, 'admin', $2, $3, $4)",
        &[&token_hash, &admin_id, &sha256(csrf_token.as_bytes()), &expires_at],
    )
    .await?;
    c.execute(
        "UPDATE admin_users SET last_login_at = now() WHERE id = $1",
        &[&admin_id],
    )
    .await?;
    c.execute(
        "DELETE FROM sessions WHERE kind = 'admin' AND expires_at < now()",
        &[],
    )
    .await?;
    audit(
        &c,
        &session.actor(),
        None,
        "admin.sign_in",
        None,
        serde_json::json!({ "client": client }),
    )
    .await?;
    Ok(NewAdminSession {
        token,
        csrf_token,
        expires_at,
        admin: session,
    })
}

/// The live admin session named by a cookie value (never a merchant's).
pub async fn find_session(db: &Database, token: &str) -> Result<Option<AdminSession>, DbError> {
    if token.is_empty() || token.len() > 200 {
        return Ok(None);
    }
    let token_hash = sha256(token.as_bytes());
    let c = db.platform().await?;
    let row = c
        .query_opt(
            "SELECT s.admin_user_id, a.email, s.expires_at FROM sessions s JOIN admin_users a ON a.id = s.admin_user_id
              WHERE s.token_hash = $1 AND s.kind = 'admin' AND s.expires_at > now() AND NOT a.disabled",
            &[&token_hash],
        )
        .await?;
    Ok(row.map(|r| AdminSession {
        admin_id: r.get(0),
        email: r.get(1),
        expires_at: r.get(2),
        token_hash,
    }))
}

pub async fn sign_out(db: &Database, session: &AdminSession) -> Result<(), DbError> {
    let c = db.platform().await?;
    c.execute(
        "DELETE FROM sessions WHERE token_hash = $1 AND kind = 'admin'",
        &[&session.token_hash],
    )
    .await?;
    audit(
        &c,
        &session.actor(),
        None,
        "admin.sign_out",
        None,
        serde_json::json!({}),
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_as_argon2id_and_verify() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(password_matches("correct horse battery", &h));
        assert!(!password_matches("correct horse batterx", &h));
        assert!(!password_matches("x", "not a hash"));
    }

    #[test]
    fn emails_are_checked_and_lower_cased() {
        assert_eq!(
            AdminEmail::parse(" Owner@Example.COM ").unwrap().as_str(),
            "owner@example.com"
        );
        for bad in [
            "",
            "owner",
            "@example.com",
            "a@b",
            "a b@example.com",
            "a@.com",
        ] {
            assert!(AdminEmail::parse(bad).is_err(), "{bad}");
        }
    }
}
