//! `handler serve`: the whole product in one process on one machine. The API at the same
//! `/api/...` paths as in Azure, the built SPA at `/`, a poller that feeds the local queue to
//! the `agent` function's code, and timers that run `nightly` and `sweeper` on their
//! schedules. Ctrl-C or SIGTERM stops taking work, lets in-flight work finish (or releases
//! it to the queue) and exits.

mod poller;
mod spa;
mod timers;

use crate::functions;
use anyhow::Context;
use shared::app::App;
use shared::settings::Settings;
use std::net::SocketAddr;
use tokio::sync::watch;
use warp::Filter;

pub async fn run(settings: Settings) -> anyhow::Result<()> {
    let report = shared::db::migrate(&settings.database_admin_url, &settings.database_url)
        .await
        .context("migrating the database (DATABASE_ADMIN_URL)")?;
    tracing::info!(applied = ?report.applied, "database migrated");

    let bind: SocketAddr = format!("{}:{}", settings.bind_address, settings.port)
        .parse()
        .context("BIND_ADDRESS and PORT do not form a socket address")?;
    let app = App::build(settings)?;
    app.db
        .verify_app_role()
        .await
        .context("checking the application role (DATABASE_URL)")?;
    app.blobs
        .ensure_container()
        .await
        .context("creating the blob container")?;
    // Azure AI Search creates or updates its index; Postgres checks its columns. A failure
    // is logged and the product serves on (search answers errors until it is fixed).
    if let Err(e) = app.search.prepare().await {
        tracing::error!(error = %e, backend = app.search.backend(), "search is not ready");
    }

    let routes = functions::routes(app.clone());
    let routes = match spa::routes(&app.settings.frontend_dist) {
        Some(spa) => routes.or(spa).unify().boxed(),
        None => {
            tracing::info!(dist = %app.settings.frontend_dist.display(), "no built SPA there; serving the API only");
            functions::readiness_probe().or(routes).unify().boxed()
        }
    };
    let hsts = app.settings.environment != shared::settings::Environment::Local;
    let service = functions::with_plumbing(routes, hsts);

    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .with_context(|| format!("listening on {bind}"))?;
    let (stop_tx, stop_rx) = watch::channel(false);

    let mut workers = Vec::new();
    if let Some(queue) = app.local_queue.clone() {
        workers.push(tokio::spawn(poller::run(
            app.clone(),
            queue,
            stop_rx.clone(),
        )));
    }
    workers.extend(timers::spawn_all(app.clone(), stop_rx.clone())?);

    let shown = if bind.ip().is_unspecified() {
        format!("localhost:{}", bind.port())
    } else {
        bind.to_string()
    };
    tracing::info!(url = %format!("http://{shown}/"), "serving");
    println!("IG-Shop-Agent is running at http://{shown}/  (health: http://{shown}/api/health)");

    let mut server_stop = stop_rx.clone();
    let server = warp::serve(service)
        .incoming(listener)
        .graceful(async move {
            let _ = server_stop.wait_for(|stop| *stop).await;
        })
        .run();
    let server = tokio::spawn(server);

    shutdown_signal().await;
    tracing::info!("shutting down: finishing in-flight work");
    let _ = stop_tx.send(true);
    let _ = server.await;
    for w in workers {
        let _ = w.await;
    }
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
