// Lets this crate's own tests and examples find libspattn at run time without
// LD_LIBRARY_PATH: an rpath to the folder spattn-sys linked from (rustc-link-arg applies to
// this package's linked targets only, not to programs that depend on the crate).
fn main() {
    if let Ok(dir) = std::env::var("DEP_SPATTN_LIB_DIR") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir);
    }
}
