// Lets this crate's tests and examples find libspattn at run time without
// LD_LIBRARY_PATH: an rpath to the folder spattn-sys linked from.
fn main() {
    if let Ok(dir) = std::env::var("DEP_SPATTN_LIB_DIR") {
        println!("cargo:rustc-link-arg-tests=-Wl,-rpath,{}", dir);
        println!("cargo:rustc-link-arg-examples=-Wl,-rpath,{}", dir);
    }
}
