//! `handler package --out DIR`: the folder `func start` runs and the deployment zips —
//! `host.json`, the `handler` executable and one folder per function with its
//! `function.json`.

use crate::functions::FUNCTIONS;
use anyhow::Context;
use std::path::Path;

const HOST_JSON: &str = include_str!("../../host.json");
const SETTINGS_EXAMPLE: &str = include_str!("../../local.settings.example.json");

pub fn package(out: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    std::fs::write(out.join("host.json"), HOST_JSON)?;
    std::fs::write(out.join("local.settings.example.json"), SETTINGS_EXAMPLE)?;
    let exe = std::env::current_exe().context("finding this executable")?;
    let target = out.join("handler");
    std::fs::copy(&exe, &target)
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
    Ok(())
}
