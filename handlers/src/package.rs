//! `handler package --out DIR`: the folder `func start` runs — `host.json`, the `handler`
//! executable and one folder per function with its `function.json` — and, next to it,
//! `DIR.zip`, the deployment package. The zip is written here rather than by `zip -r` so the
//! executable's mode (755) is in it whatever the machine: Flex Consumption applies the zip's
//! Unix modes and mounts the app read-only, so a binary without the bit never starts.

use crate::functions::FUNCTIONS;
use anyhow::Context;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

const HOST_JSON: &str = include_str!("../../host.json");
const SETTINGS_EXAMPLE: &str = include_str!("../../local.settings.example.json");
/// The executable's name: host.json's `defaultExecutablePath`.
pub const EXECUTABLE: &str = "handler";

/// Writes the folder and the zip with this executable; returns the zip's path.
pub fn package(out: &Path) -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe().context("finding this executable")?;
    package_executable(out, &exe)
}

/// [`package`] with another executable (tests use a small one).
pub fn package_executable(out: &Path, exe: &Path) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    std::fs::write(out.join("host.json"), HOST_JSON)?;
    std::fs::write(out.join("local.settings.example.json"), SETTINGS_EXAMPLE)?;
    let target = out.join(EXECUTABLE);
    std::fs::copy(exe, &target)
        .with_context(|| format!("copying {} to {}", exe.display(), target.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o755))?;
    }
    for f in FUNCTIONS.iter() {
        let dir = out.join(f.name);
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join("function.json"), f.function_json)?;
    }
    let zip_path = zip_path_for(out)?;
    write_zip(&zip_path, &target).with_context(|| format!("writing {}", zip_path.display()))?;
    Ok(zip_path)
}

/// `dist/functionapp` → `dist/functionapp.zip`.
fn zip_path_for(out: &Path) -> anyhow::Result<PathBuf> {
    let name = out
        .file_name()
        .with_context(|| format!("{} names no folder", out.display()))?;
    let mut zip_name = name.to_os_string();
    zip_name.push(".zip");
    Ok(out.with_file_name(zip_name))
}

/// The deployable zip: what the host needs, nothing local (no local.settings files). Fixed
/// timestamps, so the same binary gives the same zip.
fn write_zip(path: &Path, executable: &Path) -> anyhow::Result<()> {
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .last_modified_time(DateTime::default());
    let file = |mode: u32| options.unix_permissions(mode);
    let mut zip = ZipWriter::new(File::create(path)?);
    zip.start_file("host.json", file(0o644))?;
    zip.write_all(HOST_JSON.as_bytes())?;
    zip.start_file(EXECUTABLE, file(0o755))?;
    std::io::copy(&mut File::open(executable)?, &mut zip)?;
    for f in FUNCTIONS.iter() {
        zip.add_directory(format!("{}/", f.name), file(0o755))?;
        zip.start_file(format!("{}/function.json", f.name), file(0o644))?;
        zip.write_all(f.function_json.as_bytes())?;
    }
    zip.finish()?;
    Ok(())
}
