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
    /// Assemble host.json, this binary and the function folders into a folder `func start` runs,
    /// and the deployment zip beside it (`DIR.zip`, the executable at mode 755).
    Package {
        #[arg(long)]
        out: PathBuf,
    },
    /// Answer the Functions host on FUNCTIONS_CUSTOMHANDLER_PORT (the default when the host starts us).
    Host,
    /// Copy a file to or from blob storage (scripts/backup and scripts/restore), with the
    /// storage settings of the environment: AZURE_STORAGE_CONNECTION_STRING, or
    /// AZURE_STORAGE_BLOB_ENDPOINT with the managed identity (AZURE_CLIENT_ID).
    Blob {
        #[command(subcommand)]
        action: BlobAction,
    },
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
enum BlobAction {
    /// Upload FILE as PATH in CONTAINER (created if missing), overwriting.
    Put {
        #[arg(long)]
        container: String,
        #[arg(long)]
        path: String,
        #[arg(long)]
        file: PathBuf,
    },
    /// Download PATH of CONTAINER into FILE.
    Get {
        #[arg(long)]
        container: String,
        #[arg(long)]
        path: String,
        #[arg(long)]
        file: PathBuf,
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
            let zip = package::package(&out)?;
            println!("packaged into {} and {}", out.display(), zip.display());
            Ok(())
        }
        Command::Migrate => {
            let source = shared::settings::Source::from_process()?;
            let (app_url, admin_url) = shared::settings::Settings::database_urls(&source)?;
            let (auth, client_id) = shared::settings::Settings::database_auth(&source)?;
            let auth = shared::app::database_auth(auth, client_id.as_deref())?;
            let report = shared::db::migrate_with(&admin_url, &app_url, &auth).await?;
            if report.applied.is_empty() {
                println!("database is up to date");
            } else {
                for m in report.applied {
                    println!("applied {m}");
                }
            }
            Ok(())
        }
        Command::Blob { action } => blob_copy(action).await,
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

async fn blob_copy(action: BlobAction) -> anyhow::Result<()> {
    use shared::blob::{AzureBlobStore, BlobConfig, BlobStore};
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let store = |container: &str| -> anyhow::Result<AzureBlobStore> {
        let cfg = BlobConfig {
            connection_string: env("AZURE_STORAGE_CONNECTION_STRING").map(Into::into),
            account_url: env("AZURE_STORAGE_BLOB_ENDPOINT"),
            managed_identity_client_id: env("AZURE_CLIENT_ID"),
            container: container.to_owned(),
        };
        if cfg.connection_string.is_none() && cfg.account_url.is_none() {
            anyhow::bail!("set AZURE_STORAGE_CONNECTION_STRING or AZURE_STORAGE_BLOB_ENDPOINT");
        }
        Ok(AzureBlobStore::from_config(&cfg)?)
    };
    match action {
        BlobAction::Put {
            container,
            path,
            file,
        } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let store = store(&container)?;
            store.ensure_container().await?;
            let size = bytes.len();
            store
                .put(&path, bytes.into(), "application/octet-stream")
                .await?;
            println!(
                "uploaded {} ({size} bytes) to {container}/{path}",
                file.display()
            );
        }
        BlobAction::Get {
            container,
            path,
            file,
        } => {
            let bytes = store(&container)?
                .get(&path)
                .await?
                .with_context(|| format!("{container}/{path} does not exist"))?;
            std::fs::write(&file, &bytes).with_context(|| format!("writing {}", file.display()))?;
            println!(
                "downloaded {container}/{path} ({} bytes) to {}",
                bytes.len(),
                file.display()
            );
        }
    }
    Ok(())
}
