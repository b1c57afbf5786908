//! Readiness of what the application depends on, for `/api/health`.

use crate::app::App;
use serde::Serialize;
use std::future::Future;
use std::time::{Duration, Instant};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Check {
    pub ready: bool,
    pub latency_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backend: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Readiness {
    pub status: &'static str,
    pub version: &'static str,
    pub environment: &'static str,
    pub database: Check,
    pub queue: Check,
    pub blob: Check,
}

impl Readiness {
    pub fn ready(&self) -> bool {
        self.database.ready && self.queue.ready && self.blob.ready
    }
}

const CHECK_TIMEOUT: Duration = Duration::from_secs(3);

async fn check<F, E>(backend: Option<&'static str>, f: F) -> Check
where
    F: Future<Output = Result<(), E>>,
    E: std::fmt::Display,
{
    let started = Instant::now();
    let outcome = tokio::time::timeout(CHECK_TIMEOUT, f).await;
    let latency_ms = started.elapsed().as_millis() as u64;
    match outcome {
        Ok(Ok(())) => Check {
            ready: true,
            latency_ms,
            backend,
            error: None,
        },
        Ok(Err(e)) => Check {
            ready: false,
            latency_ms,
            backend,
            error: Some(e.to_string()),
        },
        Err(_) => Check {
            ready: false,
            latency_ms,
            backend,
            error: Some(format!("no answer within {}s", CHECK_TIMEOUT.as_secs())),
        },
    }
}

pub async fn readiness(app: &App) -> Readiness {
    let (database, queue, blob) = tokio::join!(
        check(None, app.db.check_ready()),
        check(Some(app.queue.backend()), app.queue.check_ready()),
        check(None, app.blobs.check_ready()),
    );
    let mut r = Readiness {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
        environment: match app.settings.environment {
            crate::settings::Environment::Local => "local",
            crate::settings::Environment::Production => "production",
        },
        database,
        queue,
        blob,
    };
    if !r.ready() {
        r.status = "degraded";
    }
    r
}
