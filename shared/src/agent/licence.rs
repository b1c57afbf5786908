//! Whether the shop may get AI replies. Until licences (signed `whitelist.sig`) land with
//! their own issue, this is the one function that decides: every shop is licensed unless the
//! platform disabled it. The licensing issue replaces the body of [`check`].

use crate::tenants::TenantId;
use deadpool_postgres::GenericClient;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Licence {
    Valid,
    /// No AI replies; the reason is shown to the merchant.
    Refused(String),
}

pub async fn check(
    tx: &impl GenericClient,
    tenant: TenantId,
) -> Result<Licence, tokio_postgres::Error> {
    let status: Option<String> = tx
        .query_opt(
            &tx.prepare_cached("SELECT status FROM tenants WHERE id = $1")
                .await?,
            &[&tenant.as_uuid()],
        )
        .await?
        .map(|r| r.get(0));
    Ok(match status.as_deref() {
        None => Licence::Refused("the shop does not exist".into()),
        Some("disabled") => Licence::Refused(
            "the shop is disabled on this platform; AI replies are off until it is enabled again"
                .into(),
        ),
        Some(_) => Licence::Valid,
    })
}
