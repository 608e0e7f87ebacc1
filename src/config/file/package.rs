//! `[[package]]` as written: each access package's keys, with the defaults of those that may be
//! left out (one approval, 24h to decide, 7d to start, a reminder 15m before the end, 10 requests
//! and 10 extensions per person an hour, holders of directory roles refused).

use serde::Deserialize;

use super::lenient;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(in crate::config) struct RawPackage {
    pub(in crate::config) id: String,
    pub(in crate::config) name: String,
    #[serde(default)]
    pub(in crate::config) description: String,
    pub(in crate::config) group_id: String,
    pub(in crate::config) min_duration: String,
    pub(in crate::config) default_duration: String,
    pub(in crate::config) max_duration: String,
    #[serde(default)]
    pub(in crate::config) duration_presets: Vec<String>,
    #[serde(default = "one", deserialize_with = "lenient::u32")]
    pub(in crate::config) approvals_required: u32,
    #[serde(default, deserialize_with = "lenient::bool")]
    pub(in crate::config) ticket_required: bool,
    #[serde(default)]
    pub(in crate::config) ticket_pattern: Option<String>,
    #[serde(default)]
    pub(in crate::config) ticket_hint: Option<String>,
    #[serde(default)]
    pub(in crate::config) ticket_validator: Option<String>,
    #[serde(default, deserialize_with = "lenient::bool")]
    pub(in crate::config) ticket_validator_fail_open: bool,
    #[serde(default)]
    pub(in crate::config) auth_context: Option<String>,
    #[serde(default)]
    pub(in crate::config) requester_role: Option<String>,
    #[serde(default, deserialize_with = "lenient::bool")]
    pub(in crate::config) manager_may_approve: bool,
    #[serde(default = "default_approval_timeout")]
    pub(in crate::config) approval_timeout: String,
    #[serde(default = "default_max_start_delay")]
    pub(in crate::config) max_start_delay: String,
    #[serde(default)]
    pub(in crate::config) standing_members: Vec<String>,
    #[serde(default, deserialize_with = "lenient::bool")]
    pub(in crate::config) revoke_sessions_on_end: bool,
    #[serde(default = "default_remind_before")]
    pub(in crate::config) remind_before: String,
    #[serde(default)]
    pub(in crate::config) escalate_after: Option<String>,
    #[serde(default)]
    pub(in crate::config) escalate_to: Vec<String>,
    #[serde(default)]
    pub(in crate::config) approver_groups: Vec<String>,
    #[serde(default = "yes", deserialize_with = "lenient::bool")]
    pub(in crate::config) approver_role_applies: bool,
    #[serde(default)]
    pub(in crate::config) max_extension: Option<String>,
    #[serde(default, deserialize_with = "lenient::bool")]
    pub(in crate::config) self_extend: bool,
    #[serde(default)]
    pub(in crate::config) teams_webhook: Option<String>,
    #[serde(default)]
    pub(in crate::config) slack_webhook: Option<String>,
    #[serde(default)]
    pub(in crate::config) end_after_first_sign_in: Option<String>,
    #[serde(default = "ten", deserialize_with = "lenient::u32")]
    pub(in crate::config) max_requests_per_hour: u32,
    #[serde(default = "ten", deserialize_with = "lenient::u32")]
    pub(in crate::config) max_extensions_per_hour: u32,
    #[serde(default = "yes", deserialize_with = "lenient::bool")]
    pub(in crate::config) deny_privileged: bool,
    #[serde(default)]
    pub(in crate::config) eligible_groups: Vec<String>,
    #[serde(default)]
    pub(in crate::config) trusted_networks: Vec<String>,
    #[serde(default, deserialize_with = "lenient::opt_u32")]
    pub(in crate::config) max_active: Option<u32>,
    #[serde(default)]
    pub(in crate::config) max_hours_per_user: Option<String>,
    #[serde(default)]
    pub(in crate::config) auto_approve: Vec<RawAutoApprove>,
    #[serde(default)]
    pub(in crate::config) privileged_allow: Vec<String>,
    #[serde(default = "default_review_every")]
    pub(in crate::config) review_every: String,
    #[serde(default = "default_review_within")]
    pub(in crate::config) review_within: String,
    #[serde(default)]
    pub(in crate::config) reviewers: Vec<String>,
    #[serde(default = "default_review_by")]
    pub(in crate::config) review_by: String,
    #[serde(default = "default_review_default")]
    pub(in crate::config) review_default: String,
    #[serde(default, deserialize_with = "lenient::bool")]
    pub(in crate::config) break_glass: bool,
    #[serde(default)]
    pub(in crate::config) break_glass_groups: Vec<String>,
    #[serde(default)]
    pub(in crate::config) break_glass_max: Option<String>,
    #[serde(default)]
    pub(in crate::config) break_glass_review_within: Option<String>,
    #[serde(default)]
    pub(in crate::config) break_glass_per_user: Option<String>,
}

/// `[[package.auto_approve]]`: a rule that approves without a person.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(in crate::config) struct RawAutoApprove {
    pub(in crate::config) name: String,
    #[serde(default)]
    pub(in crate::config) groups: Vec<String>,
    #[serde(default)]
    pub(in crate::config) max_duration: Option<String>,
    #[serde(default)]
    pub(in crate::config) hours: Option<String>,
    #[serde(default, deserialize_with = "lenient::bool")]
    pub(in crate::config) ticket_required: bool,
    #[serde(default = "one", deserialize_with = "lenient::u32")]
    pub(in crate::config) approvals: u32,
}

fn yes() -> bool {
    true
}
fn default_remind_before() -> String {
    "15m".into()
}

fn ten() -> u32 {
    10
}
fn one() -> u32 {
    1
}
fn default_approval_timeout() -> String {
    "24h".into()
}
fn default_max_start_delay() -> String {
    "7d".into()
}
fn default_review_every() -> String {
    "365d".into()
}
fn default_review_within() -> String {
    "14d".into()
}
fn default_review_by() -> String {
    "deciders".into()
}
fn default_review_default() -> String {
    "report".into()
}
