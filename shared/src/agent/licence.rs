//! Whether the shop may get AI replies: not disabled by the platform, its Instagram handle on
//! the verified `whitelist.sig` and not expired (inclusive, Asia/Amman), and not paused by its
//! monthly model budget. Anything else is a refusal with the reason the merchant sees;
//! messages are still stored and the merchant can answer by hand.

use crate::app::App;
use crate::tenants::TenantId;
use deadpool_postgres::GenericClient;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Licence {
    Valid,
    /// No AI replies; the reason is shown to the merchant.
    Refused(String),
}

/// The month's spend is summed only for a shop whose budget pauses it (`CASE`, which is
/// evaluated lazily where `AND` with a missing budget row is not): every other turn is spared
/// a sum over the month's usage.
pub async fn check(
    tx: &impl GenericClient,
    app: &App,
    tenant: TenantId,
) -> Result<Licence, tokio_postgres::Error> {
    let row = tx
        .query_opt(
            &tx.prepare_cached(
                "SELECT t.status, t.ig_handle,
                        CASE WHEN b.pause_at_limit THEN
                          (SELECT coalesce(sum(u.cost_usd), 0) FROM usage_events u
                             WHERE u.tenant_id = t.id AND u.billed_to = 'platform'
                               AND u.created_at >= date_trunc('month', now() AT TIME ZONE 'Asia/Amman') AT TIME ZONE 'Asia/Amman')
                           >= b.monthly_usd
                        ELSE false END
                   FROM tenants t LEFT JOIN tenant_budgets b ON b.tenant_id = t.id
                  WHERE t.id = $1",
            )
            .await?,
            &[&tenant.as_uuid()],
        )
        .await?;
    let Some(row) = row else {
        return Ok(Licence::Refused("the shop does not exist".into()));
    };
    let (status, handle, paused): (String, Option<String>, Option<bool>) =
        (row.get(0), row.get(1), row.get(2));
    let paused = paused.unwrap_or(false);
    if status == "disabled" {
        return Ok(Licence::Refused(
            crate::licence::book::LicenceStatus::disabled().message,
        ));
    }
    if paused {
        return Ok(Licence::Refused(
            "the shop's monthly AI budget is used up; AI replies resume next month or when the budget is raised".into(),
        ));
    }
    let state = app
        .licences
        .status(handle.as_deref(), chrono::Utc::now())
        .await;
    Ok(if state.allows_ai() {
        Licence::Valid
    } else {
        Licence::Refused(state.message)
    })
}
