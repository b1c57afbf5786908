//! `nightly` (timer): see `shared::jobs::nightly`. Decodes the timer envelope and runs the job.

use crate::host::{invocation_route, Invocation};
use shared::app::App;
use warp::filters::BoxedFilter;

pub fn route(app: App) -> BoxedFilter<(warp::reply::Response,)> {
    invocation_route("nightly", move |inv: Invocation| {
        let app = app.clone();
        async move {
            let timer = inv.timer("timer").map_err(|e| e.to_string())?;
            if timer.is_past_due {
                tracing::info!("nightly is running late");
            }
            shared::jobs::nightly(&app).await.map(|report| report.lines)
        }
    })
}
