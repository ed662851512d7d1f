//! Gives the shared library a versioned SONAME (`libann.so.1`): programs linked against it
//! run against any later build of the same ABI, and refuse to start against another ABI.
//! Also passes the target triple to the tests that compile C programs.

/// Must equal `ANN_ABI_VERSION` in src/ffi/info.rs; tests/c_api.rs checks the two agree.
const ABI_VERSION: u32 = 1;

fn main() {
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    match os.as_str() {
        "macos" | "ios" => println!(
            "cargo:rustc-cdylib-link-arg=-Wl,-install_name,@rpath/libann.{ABI_VERSION}.dylib"
        ),
        "windows" => {}
        _ => println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libann.so.{ABI_VERSION}"),
    }
    if let Ok(target) = std::env::var("TARGET") {
        println!("cargo:rustc-env=ANN_TARGET={target}");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
