// Links libspattn: from $SPATTN_LIB_DIR when set (CMake passes its build
// folder), else from the system's library path.
fn main() {
    println!("cargo:rerun-if-env-changed=SPATTN_LIB_DIR");
    if let Ok(dir) = std::env::var("SPATTN_LIB_DIR") {
        println!("cargo:rustc-link-search=native={}", dir);
        println!("cargo:lib_dir={}", dir); // DEP_SPATTN_LIB_DIR for dependents
    }
    println!("cargo:rustc-link-lib=dylib=spattn");
}
