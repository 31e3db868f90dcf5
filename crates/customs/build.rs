//! Records the target triple for `customs version`.

fn main() {
    let target = std::env::var("TARGET").unwrap_or_else(|_| "unknown".to_owned());
    println!("cargo:rustc-env=CUSTOMS_TARGET={target}");
}
