//! The `jitgate.toml` that `jitgate setup` writes: the `[server]` and `[entra]` keys of what it
//! registered, and one package for the exclusion group.

/// What setup registered, for the configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub tenant_id: String,
    pub public_url: String,
    pub client_id: String,
    pub cli_client_id: Option<String>,
    pub api_scope: String,
    pub group_id: String,
    /// `[entra] credential`, with `certificate_path` and `private_key_path` for a certificate.
    pub credential: Option<(String, Option<String>, Option<String>)>,
}

fn quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The configuration file's text.
pub fn config_toml(w: &Written) -> String {
    let mut s = String::from(
        "# Written by `jitgate setup`; re-running it changes only what differs in the tenant.\n",
    );
    s.push_str("[server]\n");
    s.push_str(&format!("public_url = {}\n\n", quoted(&w.public_url)));
    s.push_str("[database]\nurl = \"sqlite://jitgate.db\"\n\n");
    s.push_str("[entra]\n");
    s.push_str(&format!("tenant_id = {}\n", quoted(&w.tenant_id)));
    s.push_str(&format!("client_id = {}\n", quoted(&w.client_id)));
    match &w.credential {
        Some((kind, cert, key)) => {
            s.push_str(&format!("credential = {}\n", quoted(kind)));
            if let Some(path) = cert {
                s.push_str(&format!("certificate_path = {}\n", quoted(path)));
            }
            if let Some(path) = key {
                s.push_str(&format!("private_key_path = {}\n", quoted(path)));
            }
        }
        None => s.push_str(
            "# client_secret: none was made. Upload a certificate (or use workload or managed identity) and set `credential`.\n",
        ),
    }
    s.push_str(&format!("api_scope = {}\n", quoted(&w.api_scope)));
    if let Some(cli) = &w.cli_client_id {
        s.push_str(&format!("cli_client_id = {}\n", quoted(cli)));
    }
    s.push_str("\n[[package]]\nid = \"device-code\"\nname = \"Device code flow exemption\"\n");
    s.push_str(&format!("group_id = {}\n", quoted(&w.group_id)));
    s.push_str("min_duration = \"15m\"\ndefault_duration = \"2h\"\nmax_duration = \"8h\"\n");
    s
}
