//! `handler`: the Azure Functions custom handler, and the same binary's local commands.

use handlers::{functions, package, serve, telemetry};

use anyhow::Context;
use clap::{Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "handler",
    version,
    about = "IG-Shop-Agent: Azure Functions custom handler and local server"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the whole product locally on PORT (default 7071): API, SPA, queue poller, timers.
    Serve,
    /// Apply database migrations (as DATABASE_ADMIN_URL) and grant the application role.
    Migrate,
    /// Assemble host.json, this binary and the function folders into a folder `func start` runs.
    Package {
        #[arg(long)]
        out: PathBuf,
    },
    /// Answer the Functions host on FUNCTIONS_CUSTOMHANDLER_PORT (the default when the host starts us).
    Host,
    /// Licences: key pair, sign whitelist.sig, verify, publish (docs/licensing.md).
    Licence {
        #[command(subcommand)]
        command: handlers::licence_cli::LicenceCommand,
    },
    /// Admin console accounts.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create an admin account; the password is read from standard input (one line).
    CreateUser {
        #[arg(long)]
        email: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("handler: could not start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "handler failed");
            eprintln!("handler: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let command = match cli.command {
        Some(c) => c,
        None if std::env::var_os("FUNCTIONS_CUSTOMHANDLER_PORT").is_some() => Command::Host,
        None => anyhow::bail!(
            "no command given; try `handler serve`, `handler migrate` or `handler --help`"
        ),
    };
    match command {
        Command::Package { out } => {
            package::package(&out)?;
            println!("packaged into {}", out.display());
            Ok(())
        }
        Command::Migrate => {
            let source = shared::settings::Source::from_process()?;
            let (app_url, admin_url) = shared::settings::Settings::database_urls(&source)?;
            let report = shared::db::migrate(&admin_url, &app_url).await?;
            if report.applied.is_empty() {
                println!("database is up to date");
            } else {
                for m in report.applied {
                    println!("applied {m}");
                }
            }
            Ok(())
        }
        Command::Licence { command } => handlers::licence_cli::run(command).await,
        Command::Admin {
            command: AdminCommand::CreateUser { email },
        } => {
            let email = shared::admin::AdminEmail::parse(&email).map_err(anyhow::Error::msg)?;
            let mut password = String::new();
            std::io::stdin()
                .read_line(&mut password)
                .context("reading the password from standard input")?;
            let password = password.trim_end_matches(['\r', '\n']);
            let source = shared::settings::Source::from_process()?;
            let (app_url, admin_url) = shared::settings::Settings::database_urls(&source)?;
            let db = shared::db::Database::connect(&app_url, &admin_url, 2)?;
            let id = shared::admin::create_user(&db, &email, password).await?;
            println!("admin {} created ({id}); sign in at /admin", email.as_str());
            Ok(())
        }
        Command::Serve => serve::run(shared::settings::Settings::load()?).await,
        Command::Host => {
            let settings = shared::settings::Settings::load()?;
            let port = settings
                .customhandler_port
                .context("FUNCTIONS_CUSTOMHANDLER_PORT is not set: the Functions host sets it when it starts the handler")?;
            let app = shared::app::App::build(settings)?;
            // The infrastructure creates the container; making sure costs one request and must
            // not delay the answer to the host's first probe.
            let blobs = app.blobs.clone();
            tokio::spawn(async move {
                if let Err(e) = blobs.ensure_container().await {
                    tracing::warn!(error = %e, "could not make sure the blob container exists");
                }
            });
            // Likewise the search index (Azure creates or updates it); serving goes on.
            let search = app.search.clone();
            tokio::spawn(async move {
                if let Err(e) = search.prepare().await {
                    tracing::error!(error = %e, backend = search.backend(), "search is not ready");
                }
            });
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("listening on {addr}"))?;
            tracing::info!(%addr, "custom handler listening");
            warp::serve(functions::host_service(app))
                .incoming(listener)
                .run()
                .await;
            Ok(())
        }
    }
}
