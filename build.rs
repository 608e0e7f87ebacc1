//! `sqlx::migrate!` embeds the migrations at compile time, and cargo does not know it reads them:
//! rebuild when one is added or edited.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
