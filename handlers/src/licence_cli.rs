//! `handler licence …`: make a key pair, sign `whitelist.sig`, check it, publish it.
//! The format is in `docs/licensing.md` and `shared::licence`.

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use shared::licence::{
    amman_today, generate_key, private_key_pem, public_key_pem, signing_key_from_pem,
    verifying_key_from_pem, ExpiryDate, Whitelist,
};
use shared::tenants::InstagramHandle;
use std::path::{Path, PathBuf};

pub const PRIVATE_KEY_FILE: &str = "licence-private.pem";
pub const PUBLIC_KEY_FILE: &str = "licence-public.pem";

#[derive(Args, Clone)]
pub struct Paths {
    /// The Ed25519 private key (PEM, PKCS#8) that signs.
    #[arg(long, default_value = PRIVATE_KEY_FILE)]
    pub private_key: PathBuf,
    /// The Ed25519 public key (PEM, SPKI) that verifies; by default the private key's own.
    #[arg(long)]
    pub public_key: Option<PathBuf>,
    /// The signed whitelist.
    #[arg(long, default_value = "whitelist.sig")]
    pub whitelist: PathBuf,
}

#[derive(Subcommand)]
pub enum LicenceCommand {
    /// Make a new key pair: DIR/licence-private.pem (keep it secret) and DIR/licence-public.pem.
    Keygen {
        #[arg(long, default_value = ".")]
        out: PathBuf,
    },
    /// License a handle until a day (inclusive, Asia/Amman): adds it, or changes its expiry.
    Add {
        #[arg(long)]
        handle: String,
        /// YYYY-MM-DD, the last day AI replies are on.
        #[arg(long)]
        expiry: String,
        #[command(flatten)]
        paths: Paths,
    },
    /// Take a handle off the whitelist.
    Remove {
        #[arg(long)]
        handle: String,
        #[command(flatten)]
        paths: Paths,
    },
    /// Print the licences of a verified whitelist.
    List {
        #[command(flatten)]
        paths: Paths,
    },
    /// Check the signature and the format; fails with the reason.
    Verify {
        #[command(flatten)]
        paths: Paths,
    },
    /// Verify, then upload the whitelist to the licence blob (LICENCE_WHITELIST_BLOB in
    /// BLOB_CONTAINER, with AZURE_STORAGE_CONNECTION_STRING or AZURE_STORAGE_BLOB_ENDPOINT).
    Publish {
        /// The blob name; default LICENCE_WHITELIST_BLOB.
        #[arg(long)]
        blob: Option<String>,
        #[command(flatten)]
        paths: Paths,
    },
}

fn read_text(path: &Path, what: &str) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading the {what} {}", path.display()))
}

/// The key that verifies: --public-key, or else the private key's public half.
fn verifying_key(paths: &Paths) -> anyhow::Result<shared::licence::VerifyingKey> {
    match &paths.public_key {
        Some(p) => Ok(verifying_key_from_pem(
            &read_text(p, "public key")?,
            &p.display().to_string(),
        )?),
        None if paths.private_key.exists() => Ok(signing_key(paths)?.verifying_key()),
        None => bail!(
            "no key to verify with: give --public-key FILE (or --private-key FILE; {} does not exist)",
            paths.private_key.display()
        ),
    }
}

fn signing_key(paths: &Paths) -> anyhow::Result<shared::licence::SigningKey> {
    let text = read_text(&paths.private_key, "private key")?;
    signing_key_from_pem(&text, &paths.private_key.display().to_string()).map_err(|_| {
        anyhow::anyhow!(
            "{} is not an Ed25519 private key in PEM (PKCS#8, -----BEGIN PRIVATE KEY-----)",
            paths.private_key.display()
        )
    })
}

/// The verified whitelist at `paths.whitelist`, or why it is refused.
fn verified(paths: &Paths) -> anyhow::Result<Whitelist> {
    let key = verifying_key(paths)?;
    let bytes = std::fs::read(&paths.whitelist)
        .with_context(|| format!("reading the whitelist {}", paths.whitelist.display()))?;
    Whitelist::verify(&bytes, &key)
        .map_err(|e| anyhow::anyhow!("{} does not verify: {e}", paths.whitelist.display()))
}

fn change(
    paths: &Paths,
    edit: impl FnOnce(&mut Whitelist) -> anyhow::Result<bool>,
) -> anyhow::Result<()> {
    let key = signing_key(paths)?;
    if let Some(p) = &paths.public_key {
        let public =
            verifying_key_from_pem(&read_text(p, "public key")?, &p.display().to_string())?;
        if public != key.verifying_key() {
            bail!(
                "{} is not the public key of {}",
                p.display(),
                paths.private_key.display()
            );
        }
    }
    let current = if paths.whitelist.exists() {
        let bytes = std::fs::read(&paths.whitelist)?;
        Whitelist::verify(&bytes, &key.verifying_key()).map_err(|e| {
            anyhow::anyhow!(
                "{} does not verify, so it was not changed: {e}",
                paths.whitelist.display()
            )
        })?
    } else {
        Whitelist::empty()
    };
    let mut next = current.next(chrono::Utc::now());
    if !edit(&mut next)? {
        println!(
            "{} unchanged (version {})",
            paths.whitelist.display(),
            current.version
        );
        return Ok(());
    }
    let bytes = next.sign(&key);
    let tmp = paths.whitelist.with_extension("sig.tmp");
    std::fs::write(&tmp, &bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, &paths.whitelist)
        .with_context(|| format!("replacing {}", paths.whitelist.display()))?;
    println!(
        "{} signed: version {}, {} licence(s)",
        paths.whitelist.display(),
        next.version,
        next.entries.len()
    );
    Ok(())
}

fn print_list(w: &Whitelist) {
    let today = amman_today(chrono::Utc::now());
    println!(
        "version {}, issued at {}, {} licence(s)",
        w.version,
        w.issued_at.to_rfc3339(),
        w.entries.len()
    );
    for (handle, expiry) in &w.entries {
        let days = expiry.days_left(today);
        let state = if days >= 0 {
            format!("{days} day(s) left")
        } else {
            format!("expired {} day(s) ago", -days)
        };
        println!("{handle}\t{expiry}\t{state}");
    }
}

pub async fn run(command: LicenceCommand) -> anyhow::Result<()> {
    match command {
        LicenceCommand::Keygen { out } => {
            std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
            let private = out.join(PRIVATE_KEY_FILE);
            let public = out.join(PUBLIC_KEY_FILE);
            for p in [&private, &public] {
                if p.exists() {
                    bail!(
                        "{} already exists; refusing to overwrite a key (move it away first)",
                        p.display()
                    );
                }
            }
            let key = generate_key();
            write_private(&private, &private_key_pem(&key))?;
            std::fs::write(&public, public_key_pem(&key.verifying_key()))?;
            println!(
                "private key: {} (keep it secret; never commit it)",
                private.display()
            );
            println!("public key:  {} (LICENCE_PUBLIC_KEY)", public.display());
            Ok(())
        }
        LicenceCommand::Add {
            handle,
            expiry,
            paths,
        } => {
            let handle = InstagramHandle::parse(&handle).map_err(anyhow::Error::msg)?;
            let expiry = ExpiryDate::parse(&expiry).map_err(anyhow::Error::msg)?;
            change(&paths, |w| Ok(w.set(&handle, expiry)))
        }
        LicenceCommand::Remove { handle, paths } => {
            let handle = InstagramHandle::parse(&handle).map_err(anyhow::Error::msg)?;
            change(&paths, |w| {
                if w.remove(&handle) {
                    Ok(true)
                } else {
                    bail!("{handle} has no licence in {}", paths.whitelist.display())
                }
            })
        }
        LicenceCommand::List { paths } => {
            print_list(&verified(&paths)?);
            Ok(())
        }
        LicenceCommand::Verify { paths } => {
            let w = verified(&paths)?;
            println!(
                "{}: valid signature, version {}, issued at {}, {} licence(s)",
                paths.whitelist.display(),
                w.version,
                w.issued_at.to_rfc3339(),
                w.entries.len()
            );
            Ok(())
        }
        LicenceCommand::Publish { blob, paths } => {
            let w = verified(&paths)?;
            let bytes = std::fs::read(&paths.whitelist)?;
            let src = shared::settings::Source::from_process()?;
            let name = blob
                .or_else(|| src.get("LICENCE_WHITELIST_BLOB").map(str::to_owned))
                .context("no blob to publish to: set LICENCE_WHITELIST_BLOB (e.g. licence/whitelist.sig) or pass --blob")?;
            let settings = shared::settings::Settings::blob_settings(&src)?;
            let store = shared::blob::AzureBlobStore::from_config(&shared::blob::BlobConfig {
                connection_string: settings.connection_string,
                account_url: settings.account_url,
                managed_identity_client_id: settings.managed_identity_client_id,
                container: settings.container.clone(),
            })?;
            use shared::blob::BlobStore;
            store.ensure_container().await?;
            store
                .put(
                    &name,
                    bytes::Bytes::from(bytes),
                    "text/plain; charset=utf-8",
                )
                .await?;
            println!(
                "published {} (version {}, {} licence(s)) to blob {}/{}",
                paths.whitelist.display(),
                w.version,
                w.entries.len(),
                settings.container,
                name
            );
            Ok(())
        }
    }
}

fn write_private(path: &Path, pem: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(pem.as_bytes())?;
    Ok(())
}
