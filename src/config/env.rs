//! The environment overlay: `JITGATE_ENTRA__CLIENT_SECRET=x` sets `entra.client_secret`;
//! numeric segments index arrays (`JITGATE_PACKAGE__0__MAX_DURATION`).

use super::{ConfigError, err};

/// Applies every `JITGATE_<SECTION>__<KEY>` variable of `env` to the parsed file.
pub(super) fn apply(
    root: &mut toml::Value,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<(), ConfigError> {
    let mut vars: Vec<(String, String)> = env
        .into_iter()
        .filter(|(k, _)| k.starts_with("JITGATE_") && k.contains("__"))
        .collect();
    vars.sort();
    for (name, val) in vars {
        let path: Vec<String> = name["JITGATE_".len()..]
            .split("__")
            .map(|s| s.to_ascii_lowercase())
            .collect();
        if path.iter().any(String::is_empty) {
            return Err(err(name, "malformed override name"));
        }
        let mut cur = &mut *root;
        for (i, seg) in path.iter().enumerate() {
            let last = i + 1 == path.len();
            let next_is_index = path.get(i + 1).is_some_and(|s| s.parse::<usize>().is_ok());
            let fresh = || {
                if next_is_index {
                    toml::Value::Array(vec![])
                } else {
                    toml::Value::Table(Default::default())
                }
            };
            cur = match cur {
                toml::Value::Table(t) => {
                    if last {
                        t.insert(seg.clone(), toml::Value::String(val.clone()));
                        break;
                    }
                    t.entry(seg.clone()).or_insert_with(fresh)
                }
                toml::Value::Array(a) => {
                    let idx: usize = seg
                        .parse()
                        .map_err(|_| err(&name, format!("'{seg}' is not an array index")))?;
                    if idx > a.len() {
                        return Err(err(
                            &name,
                            format!("index {idx} skips entries (there are {})", a.len()),
                        ));
                    }
                    if idx == a.len() {
                        a.push(fresh());
                    }
                    if last {
                        a[idx] = toml::Value::String(val.clone());
                        break;
                    }
                    &mut a[idx]
                }
                _ => {
                    return Err(err(
                        &name,
                        "overrides a plain value as if it were a section",
                    ));
                }
            };
        }
    }
    Ok(())
}

/// What Azure puts in the environment, taken where the file and the `JITGATE_*` overrides leave
/// a key unset: the workload identity webhook's `AZURE_CLIENT_ID`, `AZURE_TENANT_ID`,
/// `AZURE_AUTHORITY_HOST` and `AZURE_FEDERATED_TOKEN_FILE` for `credential = "workload_identity"`,
/// and App Service's / Container Apps' `IDENTITY_ENDPOINT` and `IDENTITY_HEADER` for
/// `credential = "managed_identity"`.
pub(super) fn apply_azure(root: &mut toml::Value, env: &[(String, String)]) {
    let Some(entra) = root.get_mut("entra").and_then(|e| e.as_table_mut()) else {
        return;
    };
    let var = |name: &str| {
        env.iter()
            .find(|(k, v)| k == name && !v.trim().is_empty())
            .map(|(_, v)| v.clone())
    };
    let pairs: &[(&str, &str)] = match entra.get("credential").and_then(|c| c.as_str()) {
        Some("workload_identity") => &[
            ("client_id", "AZURE_CLIENT_ID"),
            ("tenant_id", "AZURE_TENANT_ID"),
            ("authority_host", "AZURE_AUTHORITY_HOST"),
            ("federated_token_file", "AZURE_FEDERATED_TOKEN_FILE"),
        ],
        Some("managed_identity") if var("IDENTITY_HEADER").is_some() => &[
            ("managed_identity_endpoint", "IDENTITY_ENDPOINT"),
            ("managed_identity_header", "IDENTITY_HEADER"),
        ],
        _ => &[],
    };
    for (key, name) in pairs {
        if !entra.contains_key(*key)
            && let Some(v) = var(name)
        {
            entra.insert(key.to_string(), toml::Value::String(v));
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;
    use secrecy::ExposeSecret;

    use crate::config::tests::{GOOD, load};

    #[test]
    fn environment_overrides_any_key() {
        let s = load(
            GOOD,
            &[
                ("JITGATE_ENTRA__CLIENT_SECRET", "12345"),
                ("JITGATE_PACKAGE__0__MAX_DURATION", "8h"),
                ("JITGATE_PACKAGE__0__APPROVALS_REQUIRED", "2"),
                ("JITGATE_PACKAGE__0__TICKET_REQUIRED", "true"),
                ("JITGATE_ROLES__ADMIN", "Portal.Admin"),
                ("JITGATE_CONFIG", "/ignored/because/no/section"),
            ],
        )
        .unwrap();
        assert!(matches!(
            &s.entra.credential,
            crate::config::EntraCredential::Secret(x) if x.expose_secret() == "12345"
        ));
        let p = &s.packages[0];
        assert_eq!(
            (p.max_duration, p.approvals_required, p.ticket_required),
            (Duration::hours(8), 2, true)
        );
        assert_eq!(s.roles.admin, "Portal.Admin");
    }
}
