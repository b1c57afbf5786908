//! Local stand-ins for the timer triggers: `nightly` and `sweeper` run the same job code on
//! the same NCRONTAB schedules (settings `NIGHTLY_SCHEDULE`, `SWEEPER_SCHEDULE`).

use shared::app::App;
use shared::schedule::Schedule;
use std::future::Future;
use std::pin::Pin;
use tokio::sync::watch;
use tokio::task::JoinHandle;

type Job = for<'a> fn(
    &'a App,
) -> Pin<
    Box<dyn Future<Output = Result<shared::jobs::JobReport, String>> + Send + 'a>,
>;

pub fn spawn_all(app: App, stop: watch::Receiver<bool>) -> anyhow::Result<Vec<JoinHandle<()>>> {
    let jobs: [(&'static str, &str, Job); 2] = [
        ("nightly", app.settings.nightly_schedule.as_str(), |a| {
            Box::pin(shared::jobs::nightly(a))
        }),
        ("sweeper", app.settings.sweeper_schedule.as_str(), |a| {
            Box::pin(shared::jobs::sweeper(a))
        }),
    ];
    let mut handles = Vec::new();
    for (name, expr, job) in jobs {
        let schedule = Schedule::parse(expr).map_err(anyhow::Error::msg)?;
        handles.push(tokio::spawn(run(
            name,
            schedule,
            job,
            app.clone(),
            stop.clone(),
        )));
    }
    Ok(handles)
}

async fn run(
    name: &'static str,
    schedule: Schedule,
    job: Job,
    app: App,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let now = chrono::Utc::now();
        let Some(next) = schedule.next_after(now) else {
            return;
        };
        let wait = (next - now).to_std().unwrap_or_default();
        tracing::debug!(job = name, next = %next, "timer armed");
        tokio::select! {
            _ = tokio::time::sleep(wait) => {},
            _ = stop.wait_for(|s| *s) => return,
        }
        let span = tracing::info_span!("timer", job = name);
        let _enter = span.enter();
        match job(&app).await {
            Ok(report) => {
                for line in report.lines {
                    tracing::info!(job = name, "{line}");
                }
            }
            Err(e) => tracing::error!(job = name, error = %e, "timer job failed"),
        }
    }
}
