//! The tenant's changing state behind one lock (memberships, directory roles, faults, logs, what
//! the identity platform handed out, the test clock) and its persistence to the state file.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use super::change_tracking::ChangeTracking;
use super::conditions::Conditions;
use super::config::EmulatorConfig;
use super::directory_roles::RoleHolders;
use super::faults::{Fault, NotMemberStyle};
use super::grants::{CodeGrant, DeviceFlows, PendingPage, RefreshGrant};
use super::late_writes::LateWrites;
use super::records::{GraphCall, SentMail};
use super::registrations::Registrations;
use super::{SignIn, SignInQuirk};

#[derive(Default)]
pub(crate) struct State {
    /// group id (lower case) → member ids, in insertion order.
    pub(crate) members: BTreeMap<String, Vec<String>>,
    pub(crate) faults: VecDeque<Fault>,
    /// The app registration's client secrets when changed since start (see
    /// [`Emulator::set_password_credentials`](super::Emulator::set_password_credentials)).
    pub(crate) password_credentials: Option<Vec<super::PasswordCredential>>,
    pub(crate) not_member_style: NotMemberStyle,
    pub(crate) calls: Vec<GraphCall>,
    pub(crate) pages: HashMap<String, PendingPage>,
    pub(crate) codes: HashMap<String, CodeGrant>,
    pub(crate) token_requests: u64,
    pub(crate) conditions: Conditions,
    /// `revokeSignInSessions` calls: user id and when.
    pub(crate) revocations: Vec<(String, chrono::DateTime<chrono::Utc>)>,
    /// Messages sent with `sendMail`, in order.
    pub(crate) mail: Vec<SentMail>,
    /// App roles changed since start (user id, lower case → role values).
    pub(crate) roles: HashMap<String, Vec<String>>,
    /// Accounts disabled since start (user ids, lower case).
    pub(crate) disabled: HashSet<String>,
    /// Added to the wall clock for the emulator's notion of now (see
    /// [`Emulator::advance`](super::Emulator::advance)).
    pub(crate) clock_offset: chrono::Duration,
    /// Device codes handed out by `/devicecode`.
    pub(crate) device: DeviceFlows,
    /// Whether the "Block device code flow" policy is switched off.
    pub(crate) device_code_policy_off: bool,
    /// Whether that policy excludes the portal's own API too (not by default: the README warns
    /// against it, and `jitgate check` reports it).
    pub(crate) device_code_policy_excludes_portal: bool,
    /// Whether that policy covers the requests API too (by default the requests API is its one
    /// excluded application, so the command line can sign in with a device code).
    pub(crate) device_code_policy_covers_requests_api: bool,
    /// Refresh tokens handed out, by token.
    pub(crate) refresh: HashMap<String, RefreshGrant>,
    /// Whether the tenant ignores `claims` requests (a provider that knows no authentication
    /// contexts): no MFA step is asked and no `acrs` issued.
    pub(crate) claims_ignored: bool,
    /// Recorded sign-ins, oldest first.
    pub(crate) sign_ins: Vec<SignIn>,
    /// How long a sign-in takes to show in the Graph sign-in log.
    pub(crate) sign_in_log_delay: std::time::Duration,
    /// Sign-ins Graph serves out of shape, by id (lower case).
    pub(crate) sign_in_quirks: HashMap<String, SignInQuirk>,
    /// Membership writes held to land late.
    pub(crate) late: LateWrites,
    /// What `/groups/delta` handed out: the member lists behind its tokens.
    pub(crate) delta: ChangeTracking,
    /// Who holds which directory role, actively or eligible through PIM.
    pub(crate) directory_roles: RoleHolders,
    /// What was created through Graph (app registrations, service principals, groups, app
    /// role assignments, Conditional Access policies).
    pub(crate) created: Registrations,
}

impl State {
    /// The emulator's notion of now: the wall clock plus
    /// [`Emulator::advance`](super::Emulator::advance)s.
    pub(crate) fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now() + self.clock_offset
    }

    /// The applications the "Block device code flow" policy excludes, given the tenant's
    /// registrations `config`: the requests API (unless a test says otherwise) and, where a test
    /// misconfigures it so, the portal's own API.
    pub(crate) fn device_code_excluded_apps(&self, config: &EmulatorConfig) -> Vec<String> {
        let mut apps = Vec::new();
        if let Some(requests) = &config.requests_api_id
            && !self.device_code_policy_covers_requests_api
        {
            apps.push(requests.clone());
        }
        if self.device_code_policy_excludes_portal {
            apps.push(config.client_id.clone());
        }
        apps
    }
}

/// Changes one membership; returns whether anything changed.
pub(crate) fn set_membership(
    state: &mut State,
    group_id: &str,
    user_id: &str,
    member: bool,
) -> bool {
    let group = group_id.to_ascii_lowercase();
    let user = user_id.to_ascii_lowercase();
    let list = state.members.entry(group).or_default();
    let present = list.iter().position(|m| m.eq_ignore_ascii_case(&user));
    let changed = match (member, present) {
        (true, None) => {
            list.push(user.clone());
            true
        }
        (false, Some(i)) => {
            list.remove(i);
            true
        }
        _ => false,
    };
    if changed {
        state.conditions.changed(group_id, &user, !member);
    }
    changed
}

#[derive(serde::Serialize, serde::Deserialize)]
struct StateFile {
    members: BTreeMap<String, Vec<String>>,
}

/// The memberships kept in the state file (none when it does not exist yet).
pub(crate) fn load_state(path: &Path) -> anyhow::Result<BTreeMap<String, Vec<String>>> {
    match std::fs::read(path) {
        Ok(bytes) => {
            let file: StateFile = serde_json::from_slice(&bytes)
                .with_context(|| format!("reading emulator state {}", path.display()))?;
            Ok(file
                .members
                .into_iter()
                .map(|(g, m)| {
                    (
                        g.to_ascii_lowercase(),
                        m.into_iter().map(|u| u.to_ascii_lowercase()).collect(),
                    )
                })
                .collect())
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
        Err(err) => Err(err).with_context(|| format!("reading emulator state {}", path.display())),
    }
}

/// Writes the memberships to the state file (through a temporary file, then a rename).
pub(crate) fn save_state(
    path: &Path,
    members: &BTreeMap<String, Vec<String>>,
) -> anyhow::Result<()> {
    let body = serde_json::to_vec_pretty(&StateFile {
        members: members.clone(),
    })?;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, body)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}
