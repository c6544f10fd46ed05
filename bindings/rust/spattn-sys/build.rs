// Links libspattn, found in this order:
//   1. $SPATTN_LIB_DIR, the folder of libspattn.so (CMake's tests pass the build folder);
//   2. pkg-config (`spattn.pc` of an installed spattn, major version 0; PKG_CONFIG_PATH
//      for a prefix of your own);
//   3. the linker's default paths, with a cargo warning naming what to set.
// The folder found is passed on to dependents as DEP_SPATTN_LIB_DIR.
use std::env;
use std::process::Command;

fn pkg_config_lib_dir() -> Option<String> {
    let pkg_config = env::var("PKG_CONFIG").unwrap_or_else(|_| "pkg-config".to_string());
    let output = Command::new(&pkg_config)
        .args(["--libs-only-L", "spattn >= 0", "spattn < 1"])
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let flags = String::from_utf8(output.stdout).ok()?;
    // An empty answer: the library is in a default path; `--variable=libdir` then names it.
    match flags.split_whitespace().find_map(|f| f.strip_prefix("-L")) {
        Some(dir) => Some(dir.to_string()),
        None => {
            let libdir = Command::new(&pkg_config).args(["--variable=libdir", "spattn"]).output().ok()?;
            Some(String::from_utf8(libdir.stdout).ok()?.trim().to_string())
        }
    }
}

fn main() {
    println!("cargo:rerun-if-env-changed=SPATTN_LIB_DIR");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_PATH");
    let dir = match env::var("SPATTN_LIB_DIR") {
        Ok(dir) if !dir.is_empty() => Some(dir),
        _ => pkg_config_lib_dir(),
    };
    match dir {
        Some(dir) => {
            println!("cargo:rustc-link-search=native={}", dir);
            println!("cargo:lib_dir={}", dir); // DEP_SPATTN_LIB_DIR for dependents
        }
        None => println!(
            "cargo:warning=libspattn was not found through SPATTN_LIB_DIR or pkg-config (spattn.pc); \
             trying the linker's default paths. Set SPATTN_LIB_DIR to the folder of libspattn.so, \
             or PKG_CONFIG_PATH to the folder of spattn.pc (PREFIX/lib/pkgconfig)."
        ),
    }
    println!("cargo:rustc-link-lib=dylib=spattn");
}
