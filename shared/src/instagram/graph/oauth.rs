//! Connecting a merchant's account: code → short-lived token → long-lived token (60 days),
//! refreshing it, finding the account id, and subscribing the account to our webhook.

use super::{wire, GraphClient, GraphError};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::time::Duration;

/// The webhook fields the app subscribes each account to.
pub const SUBSCRIBED_FIELDS: &str = "messages,messaging_seen,message_reactions,messaging_postbacks";

/// The answer to the authorization code (valid about an hour).
#[derive(Debug, Clone)]
pub struct ShortLivedToken {
    pub access_token: SecretString,
    /// The Instagram professional account id, exact (it exceeds 2^53).
    pub user_id: String,
    pub permissions: Vec<String>,
}

/// A long-lived token (60 days), fresh or refreshed.
#[derive(Debug, Clone, Deserialize)]
pub struct LongLivedToken {
    pub access_token: SecretString,
    #[serde(default = "bearer")]
    pub token_type: String,
    /// Lifetime counted from the answer.
    #[serde(deserialize_with = "wire::seconds")]
    pub expires_in: Duration,
}

fn bearer() -> String {
    "bearer".into()
}

/// The account behind a token. `user_id` is the id webhooks carry as `entry[].id` and
/// `recipient.id`: route by it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Me {
    #[serde(deserialize_with = "wire::id")]
    pub user_id: String,
    #[serde(default)]
    pub username: String,
}

#[derive(Deserialize)]
struct TokenGrant {
    access_token: SecretString,
    #[serde(deserialize_with = "wire::id")]
    user_id: String,
    #[serde(default, deserialize_with = "wire::string_list")]
    permissions: Vec<String>,
}

/// Documented as `{"data":[{…}]}`, arrives flat in practice.
#[derive(Deserialize)]
#[serde(untagged)]
enum CodeAnswer {
    Documented { data: Vec<TokenGrant> },
    Flat(TokenGrant),
}

#[derive(Deserialize)]
struct Success {
    #[serde(default)]
    success: bool,
}

impl GraphClient {
    /// Exchanges the authorization code from the OAuth redirect for a short-lived token.
    pub async fn exchange_code(
        &self,
        code: &str,
        redirect_uri: &str,
    ) -> Result<ShortLivedToken, GraphError> {
        // Instagram appends `#_` to the code in the redirect; it is not part of the code.
        let code = code.trim();
        let code = code.strip_suffix("#_").unwrap_or(code);
        if code.is_empty() {
            return Err(GraphError::InvalidRequest(
                "the authorization code is empty".into(),
            ));
        }
        let url = self.api_url(&["oauth", "access_token"])?;
        let endpoint = format!("POST {url}");
        let request = self.http.post(url).form(&[
            ("client_id", self.inner.app_id.as_str()),
            ("client_secret", self.app_secret()),
            ("grant_type", "authorization_code"),
            ("redirect_uri", redirect_uri),
            ("code", code),
        ]);
        // The code is single-use but still a credential: keep it out of errors too.
        let code_secret = SecretString::from(code);
        let body = self.execute(request, Some(&code_secret)).await?;
        let grant = match wire::decode::<CodeAnswer>(&endpoint, &body)? {
            CodeAnswer::Flat(grant) => grant,
            CodeAnswer::Documented { data } => {
                data.into_iter()
                    .next()
                    .ok_or_else(|| GraphError::UnexpectedResponse {
                        endpoint: endpoint.clone(),
                        detail: "`data` is empty".into(),
                    })?
            }
        };
        Ok(ShortLivedToken {
            access_token: grant.access_token,
            user_id: grant.user_id,
            permissions: grant.permissions,
        })
    }

    /// Exchanges a short-lived token for a long-lived one (60 days).
    pub async fn long_lived_token(
        &self,
        short: &SecretString,
    ) -> Result<LongLivedToken, GraphError> {
        let url = self.graph_url_unversioned(&["access_token"])?;
        let endpoint = format!("GET {url}");
        let request = self.http.get(url).query(&[
            ("grant_type", "ig_exchange_token"),
            ("client_secret", self.app_secret()),
            ("access_token", short.expose_secret()),
        ]);
        let body = self.execute(request, Some(short)).await?;
        wire::decode(&endpoint, &body)
    }

    /// Refreshes a long-lived token at least 24 hours old and not yet expired. An expired
    /// token fails with [`super::ErrorClass::InvalidToken`]: the merchant signs in again.
    pub async fn refresh_token(&self, token: &SecretString) -> Result<LongLivedToken, GraphError> {
        let url = self.graph_url_unversioned(&["refresh_access_token"])?;
        let endpoint = format!("GET {url}");
        let request = self.http.get(url).query(&[
            ("grant_type", "ig_refresh_token"),
            ("access_token", token.expose_secret()),
        ]);
        let body = self.execute(request, Some(token)).await?;
        wire::decode(&endpoint, &body)
    }

    /// The professional account id and username behind `token`.
    pub async fn me(&self, token: &SecretString) -> Result<Me, GraphError> {
        let url = self.graph_url(&["me"])?;
        let endpoint = format!("GET {url}");
        let request = self.http.get(url).query(&[
            ("fields", "user_id,username"),
            ("access_token", token.expose_secret()),
        ]);
        let body = self.execute(request, Some(token)).await?;
        wire::decode(&endpoint, &body)
    }

    /// Subscribes the account to the app's webhook for [`SUBSCRIBED_FIELDS`].
    pub async fn subscribe_app(
        &self,
        account_id: &str,
        token: &SecretString,
    ) -> Result<(), GraphError> {
        let url = self.graph_url(&[account_id, "subscribed_apps"])?;
        let endpoint = format!("POST {url}");
        let request = self.http.post(url).query(&[
            ("subscribed_fields", SUBSCRIBED_FIELDS),
            ("access_token", token.expose_secret()),
        ]);
        let body = self.execute(request, Some(token)).await?;
        if wire::decode::<Success>(&endpoint, &body)?.success {
            Ok(())
        } else {
            Err(GraphError::UnexpectedResponse {
                endpoint,
                detail: "`success` is not true".into(),
            })
        }
    }
}
