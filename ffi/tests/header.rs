//! `include/ocer.h` is what cbindgen makes of `src/` with `cbindgen.toml`: this
//! test regenerates it (cbindgen as a library, so CI needs no cbindgen binary)
//! and fails on any difference. `OCER_BLESS=1` writes the new header instead.

use std::path::Path;

#[test]
fn the_checked_in_header_is_up_to_date() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).unwrap();
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_src(dir.join("src/lib.rs"))
        .generate()
        .unwrap();
    let mut generated = Vec::new();
    bindings.write(&mut generated);
    let path = dir.join("include/ocer.h");
    let checked_in = std::fs::read(&path).unwrap_or_default();
    if generated == checked_in {
        return;
    }
    if std::env::var_os("OCER_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let first_difference = String::from_utf8_lossy(&generated)
        .lines()
        .zip(String::from_utf8_lossy(&checked_in).lines())
        .enumerate()
        .find(|(_, (g, c))| g != c)
        .map_or_else(
            || "one is a prefix of the other".to_owned(),
            |(i, (g, c))| format!("line {}:\n  generated:  {g}\n  checked in: {c}", i + 1),
        );
    panic!(
        "{} is out of date ({first_difference}).\n\
         Regenerate it with: OCER_BLESS=1 cargo test -p ocer-ffi --test header",
        path.display()
    );
}
