//! `handler package` writes the deployment zip: read back, it holds host.json, the executable
//! with mode 755 and one folder per function with its function.json — nothing else.

use handlers::functions::FUNCTIONS;
use handlers::package::{package_executable, EXECUTABLE};
use std::collections::BTreeSet;
use std::io::Read;

#[test]
fn the_zip_has_the_layout_the_host_runs() {
    let dir = std::env::temp_dir().join(format!("igshop-package-{}", uuid::Uuid::new_v4()));
    let out = dir.join("functionapp");
    // A small stand-in for the binary (the real one is 200+ MB in debug builds), without the
    // exec bit: the mode in the zip must come from the packaging, not from the source file.
    std::fs::create_dir_all(&dir).unwrap();
    let exe = dir.join("built-handler");
    let content: Vec<u8> = b"\x7fELF"
        .iter()
        .copied()
        .chain((0..200_000u32).map(|i| (i % 251) as u8))
        .collect();
    std::fs::write(&exe, &content).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let zip_path = package_executable(&out, &exe).unwrap();
    assert_eq!(zip_path, dir.join("functionapp.zip"));

    let mut zip = zip::ZipArchive::new(std::fs::File::open(&zip_path).unwrap()).unwrap();
    let names: BTreeSet<String> = zip.file_names().map(|n| n.unwrap().into_owned()).collect();
    let mut expected: BTreeSet<String> = ["host.json", EXECUTABLE]
        .iter()
        .map(|s| s.to_string())
        .collect();
    for f in FUNCTIONS.iter() {
        expected.insert(format!("{}/", f.name));
        expected.insert(format!("{}/function.json", f.name));
    }
    assert_eq!(names, expected);
    assert_eq!(FUNCTIONS.len(), 9);

    let host: serde_json::Value = {
        let mut text = String::new();
        zip.by_name("host.json")
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        serde_json::from_str(&text).unwrap()
    };
    assert_eq!(
        host["customHandler"]["description"]["defaultExecutablePath"],
        EXECUTABLE
    );

    {
        let mut exe = zip.by_name(EXECUTABLE).unwrap();
        assert!(exe.is_file());
        assert_eq!(
            exe.unix_mode().unwrap() & 0o777,
            0o755,
            "the executable bit must survive the zip"
        );
        let mut packed = Vec::new();
        exe.read_to_end(&mut packed).unwrap();
        assert!(
            packed == content,
            "the executable in the zip is the built one, byte for byte"
        );
    }
    for f in FUNCTIONS.iter() {
        let mut entry = zip.by_name(&format!("{}/function.json", f.name)).unwrap();
        assert_eq!(entry.unix_mode().unwrap() & 0o777, 0o644);
        let mut text = String::new();
        entry.read_to_string(&mut text).unwrap();
        assert_eq!(text, f.function_json, "{}", f.name);
        drop(entry);
        assert!(zip.by_name(&format!("{}/", f.name)).unwrap().is_dir());
    }

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(out.join(EXECUTABLE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o755);
    }
    std::fs::remove_dir_all(dir).unwrap();
}
