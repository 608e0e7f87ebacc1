#[tokio::main]
async fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    jitgate::telemetry::init();
    match jitgate::cli::run().await {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("jitgate: {e:#}");
            std::process::exit(2);
        }
    }
}
