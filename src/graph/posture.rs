//! The Conditional Access posture: does an enabled policy block the device code flow for
//! everyone but the exclusion group? Read from Graph's policy list; `jitgate check` reports it,
//! and the portal can show it.

/// The verdict for one group, and a sentence explaining it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Posture {
    pub ok: bool,
    pub detail: String,
}

/// The policies that block the device code flow, from `GET /identity/conditionalAccess/policies`.
fn blocking(policies: &serde_json::Value) -> Vec<&serde_json::Value> {
    policies
        .get("value")
        .and_then(|v| v.as_array())
        .map(|list| list.iter().filter(|p| blocks_device_code(p)).collect())
        .unwrap_or_default()
}

fn lists(p: &serde_json::Value, pointer: &str, id: &str) -> bool {
    p.pointer(pointer)
        .and_then(|v| v.as_array())
        .is_some_and(|ids| {
            ids.iter()
                .any(|g| g.as_str().is_some_and(|g| g.eq_ignore_ascii_case(id)))
        })
}

/// Whether the enabled policies that block the device code flow exclude the requests API
/// (application `requests_api`), so that `jitgate login --device-code` works before any grant.
pub fn requests_api_posture(policies: &serde_json::Value, requests_api: &str) -> Posture {
    let covering: Vec<String> = enabled_blocks(policies)
        .filter(|p| {
            !lists(
                p,
                "/conditions/applications/excludeApplications",
                requests_api,
            )
        })
        .map(|p| p["displayName"].as_str().unwrap_or("?").to_string())
        .collect();
    if covering.is_empty() {
        Posture {
            ok: true,
            detail: format!(
                "the jitgate requests API ({requests_api}) is excluded from every device code block: `jitgate login --device-code` works, and its tokens can only ask for access"
            ),
        }
    } else {
        Posture {
            ok: false,
            detail: format!(
                "{} block the device code flow for the jitgate requests API too: `jitgate login --device-code` is refused (AADSTS53003) until a grant; the browser sign-in works",
                covering.join(", ")
            ),
        }
    }
}

/// Whether the portal's own API (application `portal`) stays behind every enabled device code
/// block. It must: a device-code token for it (a phished one) could decide requests, revoke
/// grants and read the audit trail.
pub fn portal_api_posture(policies: &serde_json::Value, portal: &str) -> Posture {
    let excluding: Vec<String> = enabled_blocks(policies)
        .filter(|p| lists(p, "/conditions/applications/excludeApplications", portal))
        .map(|p| p["displayName"].as_str().unwrap_or("?").to_string())
        .collect();
    if excluding.is_empty() {
        Posture {
            ok: true,
            detail: format!("the jitgate API ({portal}) stays behind the device code block"),
        }
    } else {
        Posture {
            ok: false,
            detail: format!(
                "{} exclude the jitgate API ({portal}) itself: a device-code token for it, phished from an approver or an admin, could decide requests, revoke grants and read the audit trail. Exclude only the jitgate requests API (README, step 8)",
                excluding.join(", ")
            ),
        }
    }
}

/// The enabled policies that block the device code flow.
fn enabled_blocks(policies: &serde_json::Value) -> impl Iterator<Item = &serde_json::Value> {
    blocking(policies)
        .into_iter()
        .filter(|p| p["state"] == "enabled")
}

/// Whether an enabled policy blocks the device code flow and excludes `group`, from the
/// policies as `GET /identity/conditionalAccess/policies` lists them.
pub fn device_code_posture(policies: &serde_json::Value, group: &str) -> Posture {
    let blocking = blocking(policies);
    let enabled: Vec<_> = blocking
        .iter()
        .filter(|p| p["state"] == "enabled")
        .collect();
    if enabled.is_empty() {
        return Posture {
            ok: false,
            detail: format!(
                "no enabled policy blocks the device code flow ({} in report-only or disabled)",
                blocking.len()
            ),
        };
    }
    let excluding: Vec<_> = enabled
        .iter()
        .filter(|p| lists(p, "/conditions/users/excludeGroups", group))
        .map(|p| p["displayName"].as_str().unwrap_or("?").to_string())
        .collect();
    if excluding.len() == enabled.len() {
        Posture {
            ok: true,
            detail: format!("excluded from {}", excluding.join(", ")),
        }
    } else {
        Posture {
            ok: false,
            detail: format!(
                "{} blocking polic(ies) do not exclude group {group}",
                enabled.len() - excluding.len()
            ),
        }
    }
}

/// A policy whose grant is `block` and whose transfer methods include the device code flow.
fn blocks_device_code(p: &serde_json::Value) -> bool {
    let flows = p
        .pointer("/conditions/authenticationFlows/transferMethods")
        .and_then(|v| v.as_str())
        .unwrap_or("");
    let block = p
        .pointer("/grantControls/builtInControls")
        .and_then(|v| v.as_array())
        .is_some_and(|c| c.iter().any(|c| c == "block"));
    flows.split(',').any(|f| f.trim() == "deviceCodeFlow") && block
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    const GROUP: &str = "5a1f3f3e-6a4b-4d5e-9a8b-1c2d3e4f5a6b";

    fn policy(name: &str, state: &str, flows: &str, exclude: &[&str]) -> Value {
        json!({
            "displayName": name,
            "state": state,
            "conditions": {
                "authenticationFlows": {"transferMethods": flows},
                "users": {"includeUsers": ["All"], "excludeGroups": exclude},
            },
            "grantControls": {"operator": "OR", "builtInControls": ["block"]},
        })
    }

    fn posture(policies: Vec<Value>) -> Posture {
        device_code_posture(&json!({"value": policies}), GROUP)
    }

    #[test]
    fn an_enabled_block_that_excludes_the_group_is_right() {
        let p = posture(vec![policy(
            "Block device code",
            "enabled",
            "deviceCodeFlow",
            &[GROUP],
        )]);
        assert_eq!(
            p,
            Posture {
                ok: true,
                detail: "excluded from Block device code".into()
            }
        );
        // Group ids compare case-insensitively; other transfer methods may be listed too.
        let upper = GROUP.to_uppercase();
        let p = posture(vec![policy(
            "Block flows",
            "enabled",
            "authenticationTransfer, deviceCodeFlow",
            &[upper.as_str()],
        )]);
        assert!(p.ok, "{p:?}");
    }

    #[test]
    fn a_block_that_does_not_exclude_the_group_is_named() {
        let p = posture(vec![
            policy("Block device code", "enabled", "deviceCodeFlow", &[GROUP]),
            policy("Block again", "enabled", "deviceCodeFlow", &[]),
        ]);
        assert!(!p.ok);
        assert_eq!(
            p.detail,
            format!("1 blocking polic(ies) do not exclude group {GROUP}")
        );
    }

    #[test]
    fn report_only_disabled_or_missing_policies_do_not_count() {
        let p = posture(vec![policy(
            "Block device code",
            "enabledForReportingButNotEnforced",
            "deviceCodeFlow",
            &[GROUP],
        )]);
        assert_eq!(
            p,
            Posture {
                ok: false,
                detail:
                    "no enabled policy blocks the device code flow (1 in report-only or disabled)"
                        .into()
            }
        );
        let p = posture(vec![policy(
            "Block device code",
            "disabled",
            "deviceCodeFlow",
            &[GROUP],
        )]);
        assert!(!p.ok);
        assert_eq!(
            p.detail,
            "no enabled policy blocks the device code flow (1 in report-only or disabled)"
        );
        let p = posture(vec![]);
        assert!(!p.ok);
        assert_eq!(
            p.detail,
            "no enabled policy blocks the device code flow (0 in report-only or disabled)"
        );
        // A policy that blocks something else is not a device code block.
        let p = posture(vec![policy(
            "Other",
            "enabled",
            "authenticationTransfer",
            &[GROUP],
        )]);
        assert!(!p.ok);
        assert!(!device_code_posture(&json!({}), GROUP).ok);
    }

    #[test]
    fn the_api_exclusions_are_reported() {
        const REQUESTS: &str = "4e2a7c9d-1b3f-4d6a-9c8e-0f1a2b3c4d5e";
        const PORTAL: &str = "3f8b9c2a-6d4e-4f1a-8b7c-2e5d9a0c1b3f";
        let excluding = |apps: &[&str]| {
            let mut p = policy("Block device code", "enabled", "deviceCodeFlow", &[GROUP]);
            p["conditions"]["applications"] =
                json!({"includeApplications": ["All"], "excludeApplications": apps});
            p
        };
        let right = excluding(&[&REQUESTS.to_uppercase()]);
        let p = requests_api_posture(&json!({"value": [right.clone()]}), REQUESTS);
        assert!(p.ok, "{p:?}");
        assert!(portal_api_posture(&json!({"value": [right.clone()]}), PORTAL).ok);
        let covering = policy("Block everywhere", "enabled", "deviceCodeFlow", &[GROUP]);
        let p = requests_api_posture(&json!({"value": [right.clone(), covering]}), REQUESTS);
        assert!(!p.ok);
        assert!(
            p.detail.starts_with("Block everywhere block"),
            "{}",
            p.detail
        );
        // The portal's own API excluded too: reported, naming the policy.
        let wrong = excluding(&[REQUESTS, PORTAL]);
        let p = portal_api_posture(&json!({"value": [wrong]}), PORTAL);
        assert!(!p.ok);
        assert!(
            p.detail
                .starts_with("Block device code exclude the jitgate API"),
            "{}",
            p.detail
        );
        // Report-only policies block nothing, and exclude nothing that matters.
        let mut report_only = excluding(&[PORTAL]);
        report_only["state"] = json!("enabledForReportingButNotEnforced");
        assert!(requests_api_posture(&json!({"value": [report_only.clone()]}), REQUESTS).ok);
        assert!(portal_api_posture(&json!({"value": [report_only]}), PORTAL).ok);
    }
}
