//! What tests and `jitgate demo` do to the running tenant and read back from it: queued faults
//! (and how the handlers consume them), Graph's latency, write budget, read lag and chaos,
//! app roles, directory roles, accounts and memberships changed behind jitgate's back, the
//! clock, the device-login page completed without a browser, the Conditional Access policy, sign-in log entries served
//! out of shape, and the logs.

use std::collections::HashMap;

use super::conditions::{ChaosState, WriteBucket};
use super::faults::{Chaos, Fault, NotMemberStyle};
use super::identity::{self, DeviceLogin};
use super::records::{GraphCall, SentMail};
use super::state::set_membership;
use super::tenant::Emulator;
use super::{SignIn, SignInQuirk};

/// How [`Emulator::give_directory_role`] gives a role.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoleGiven {
    /// Assigned and active.
    Active,
    /// Eligible through PIM, for good.
    Eligible,
    /// Eligible through PIM until this time (the tenant's clock).
    EligibleUntil(chrono::DateTime<chrono::Utc>),
}

impl Emulator {
    /// Queues a fault; faults are matched in queue order and each match consumes one of its
    /// `times`. A fault without `path_contains` matches Graph requests only; one whose
    /// `path_contains` matches `/{tenant}/oauth2/v2.0/token` also hits the token endpoint
    /// (answered with an AADSTS body). Faulted requests change nothing.
    pub fn inject(&self, fault: Fault) {
        if fault.times > 0 {
            self.state().faults.push_back(fault);
        }
    }

    /// Consumes one use of the first queued fault matching `method` and `path` (with query).
    /// Faults without `path_contains` only match Graph requests (`graph`).
    pub(crate) fn take_fault(&self, method: &str, path: &str, graph: bool) -> Option<Fault> {
        let mut st = self.state();
        let idx = st.faults.iter().position(|f| {
            f.times > 0
                && f.method
                    .as_deref()
                    .is_none_or(|m| m.eq_ignore_ascii_case(method))
                && match &f.path_contains {
                    Some(fragment) => path.contains(fragment.as_str()),
                    None => graph,
                }
        })?;
        let fault = &mut st.faults[idx];
        fault.times -= 1;
        let out = fault.clone();
        if fault.times == 0 {
            st.faults.remove(idx);
        }
        Some(out)
    }

    /// Replaces the app registration's client secrets (`passwordCredentials`): a secret added
    /// or about to end.
    pub fn set_password_credentials(&self, secrets: Vec<super::PasswordCredential>) {
        self.state().password_credentials = Some(secrets);
    }

    /// Drops all queued faults.
    pub fn clear_faults(&self) {
        self.state().faults.clear();
    }

    /// Forgets every delta token handed out (as Graph does after seven days, or when its sync
    /// state is lost): the next call with one is answered 400 `syncStateNotFound`.
    pub fn expire_delta_tokens(&self) {
        self.state().delta.forget();
    }

    /// Every Graph call waits this long before it is answered (Graph's round-trip time).
    pub fn set_latency(&self, latency: std::time::Duration) {
        self.state().conditions.latency = latency;
    }

    /// Enforces Graph's write limit per app and tenant: `writes` per `per` as a token bucket;
    /// a write beyond it is answered 429 with Graph's body and a `Retry-After`.
    pub fn set_write_budget(&self, writes: u32, per: std::time::Duration) {
        self.state().conditions.budget = Some(WriteBucket::new(writes, per));
    }

    /// Membership changes stay invisible to reads (member lists, `checkMemberGroups`) this long.
    pub fn set_read_lag(&self, lag: std::time::Duration) {
        self.state().conditions.read_lag = lag;
    }

    /// Makes writes fail at random (see [`Chaos`]); `None` stops it.
    pub fn set_chaos(&self, chaos: Option<Chaos>) {
        use rand::SeedableRng;
        self.state().conditions.chaos = chaos.map(|c| ChaosState {
            rng: rand::rngs::StdRng::seed_from_u64(c.seed),
            chaos: c,
            in_a_row: HashMap::new(),
            failed: 0,
        });
    }

    /// Writes chaos has failed so far.
    pub fn chaos_failures(&self) -> u64 {
        self.state()
            .conditions
            .chaos
            .as_ref()
            .map_or(0, |c| c.failed)
    }

    /// Writes the budget let through, and writes it answered 429.
    pub fn write_counts(&self) -> (u64, u64) {
        let st = self.state();
        (
            st.conditions.accepted_writes,
            st.conditions.throttled_writes,
        )
    }

    pub fn set_not_member_style(&self, style: NotMemberStyle) {
        self.state().not_member_style = style;
    }

    /// Adds or removes a member behind jitgate's back (persisted like any other change).
    pub fn set_member(&self, group_id: &str, user_id: &str, member: bool) {
        let mut state = self.state();
        let changed = set_membership(&mut state, group_id, user_id, member);
        if changed {
            self.persist(&state);
        }
    }

    /// Assigns `user` exactly these app roles from now on (tokens and Graph's app role
    /// assignments alike), as an administrator would in the enterprise application.
    pub fn set_roles(&self, user: &str, roles: &[&str]) {
        self.state().roles.insert(
            user.to_ascii_lowercase(),
            roles.iter().map(|r| (*r).to_owned()).collect(),
        );
    }

    /// Gives `principal` (a user, or a group made role-assignable) the directory role
    /// `role_template_id`, as an administrator would in Entra: assigned and active, or eligible
    /// through PIM from now on (on the tenant's clock, see [`Emulator::advance`]) for good or
    /// until a time. Graph's `transitiveMemberOf` shows active roles at once; PIM's eligibility
    /// instances list eligibilities in effect.
    pub fn give_directory_role(&self, principal: &str, role_template_id: &str, how: RoleGiven) {
        let mut st = self.state();
        let now = st.now();
        let (eligible, end) = match how {
            RoleGiven::Active => (false, None),
            RoleGiven::Eligible => (true, None),
            RoleGiven::EligibleUntil(end) => (true, Some(end)),
        };
        st.directory_roles
            .give(principal, role_template_id, eligible, now, end);
    }

    /// Takes the directory role `role_template_id` from `principal`, active and eligible alike.
    pub fn take_directory_role(&self, principal: &str, role_template_id: &str) {
        self.state()
            .directory_roles
            .take(principal, role_template_id);
    }

    /// Makes `group` role-assignable (`isAssignableToRole`), so that directory roles given to it
    /// reach its members, or not.
    pub fn set_role_assignable(&self, group: &str, assignable: bool) {
        let group = group.to_ascii_lowercase();
        let mut st = self.state();
        if assignable {
            st.directory_roles.assignable_groups.insert(group);
        } else {
            st.directory_roles.assignable_groups.remove(&group);
        }
    }

    /// How many PIM eligibility instances a page of Graph's answer holds (100 by default).
    pub fn set_role_page_size(&self, size: usize) {
        self.state().directory_roles.page_size = size.max(1);
    }

    /// Enables or disables `user`'s account: a disabled account cannot sign in, and Graph
    /// shows `accountEnabled: false`.
    pub fn set_account_enabled(&self, user: &str, enabled: bool) {
        let id = user.to_ascii_lowercase();
        let mut st = self.state();
        if enabled {
            st.disabled.remove(&id);
        } else {
            st.disabled.insert(id);
        }
    }

    /// The emulator's notion of now: the wall clock plus everything [`Emulator::advance`] added.
    /// Device codes and the sign-in log run on it; tokens and Graph use the wall clock.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.state().now()
    }

    /// Moves the emulator's notion of now forward by `by` (a negative value is ignored).
    /// Device codes expire and poll intervals pass without waiting.
    pub fn advance(&self, by: chrono::Duration) {
        if by > chrono::Duration::zero() {
            self.state().clock_offset += by;
            self.land_due_writes();
        }
    }

    /// The device-login page, the `verification_uri` of the device code flow.
    pub fn device_login_url(&self) -> String {
        format!(
            "{}/{}/oauth2/deviceauth",
            self.inner.base_url, self.inner.config.tenant_id
        )
    }

    /// Completes the device-login page for `user_code` as the user `user_id` (from 127.0.0.1).
    /// Conditional Access decides now; the sign-in is logged. `Err` for an unknown, expired or
    /// used code and for an unknown or disabled user.
    pub fn complete_device_login(
        &self,
        user_code: &str,
        user_id: &str,
    ) -> Result<DeviceLogin, String> {
        identity::complete(self, user_code, user_id, identity::LOCAL_IP, false)
            .map_err(|e| e.to_string())
    }

    /// As [`Emulator::complete_device_login`], with the MFA step completed: a device code
    /// whose `claims` asked for authentication contexts gets tokens whose `acrs` carry them.
    pub fn complete_device_login_with_mfa(
        &self,
        user_code: &str,
        user_id: &str,
    ) -> Result<DeviceLogin, String> {
        identity::complete(self, user_code, user_id, identity::LOCAL_IP, true)
            .map_err(|e| e.to_string())
    }

    /// Whether the tenant honours `claims` requests (the default) or ignores them, as a
    /// provider that knows no authentication contexts would: no MFA step, no `acrs`.
    pub fn set_claims_honoured(&self, honoured: bool) {
        self.state().claims_ignored = !honoured;
    }

    /// Denies the device login for `user_code` as `user_id`: the device gets
    /// `authorization_declined`, and the attempt is logged.
    pub fn decline_device_login(&self, user_code: &str, user_id: &str) -> Result<(), String> {
        identity::decline(self, user_code, user_id, identity::LOCAL_IP).map_err(|e| e.to_string())
    }

    /// Switches the "Block device code flow" Conditional Access policy on (the default) or
    /// off; Graph shows its `state` accordingly.
    pub fn set_device_code_policy_enabled(&self, enabled: bool) {
        self.state().device_code_policy_off = !enabled;
    }

    /// Whether the "Block device code flow" policy excludes the requests API (the default, as
    /// the README asks of a tenant whose people use the command line) or covers it too.
    pub fn set_device_code_policy_excludes_requests_api(&self, excluded: bool) {
        self.state().device_code_policy_covers_requests_api = !excluded;
    }

    /// Whether the "Block device code flow" policy also excludes the portal's own API (not by
    /// default: a misconfiguration that `jitgate check` warns of).
    pub fn set_device_code_policy_excludes_portal(&self, excluded: bool) {
        self.state().device_code_policy_excludes_portal = excluded;
    }

    /// A sign-in shows in the Graph sign-in log only this long after it happened (on the
    /// emulator's clock), as in Entra. Zero by default.
    pub fn set_sign_in_log_delay(&self, delay: std::time::Duration) {
        self.state().sign_in_log_delay = delay;
    }

    /// From now on Graph's sign-in log serves the sign-in `id` with `quirk` (both in lists and
    /// alone), as a reader of the log may meet it; `None` serves it as usual again.
    pub fn set_sign_in_quirk(&self, id: &str, quirk: Option<SignInQuirk>) {
        let id = id.to_ascii_lowercase();
        let mut st = self.state();
        match quirk {
            Some(q) => st.sign_in_quirks.insert(id, q),
            None => st.sign_in_quirks.remove(&id),
        };
    }

    /// Every recorded sign-in, oldest first, whatever the log delay.
    pub fn sign_ins(&self) -> Vec<SignIn> {
        self.state().sign_ins.clone()
    }

    /// The messages sent with `sendMail` so far, in order.
    pub fn mail(&self) -> Vec<SentMail> {
        self.state().mail.clone()
    }

    /// Users whose sign-in sessions were revoked, in order.
    pub fn revocations(&self) -> Vec<String> {
        self.state()
            .revocations
            .iter()
            .map(|(u, _)| u.clone())
            .collect()
    }

    /// All Graph calls so far, in order.
    pub fn graph_requests(&self) -> Vec<GraphCall> {
        self.state().calls.clone()
    }

    /// Number of requests made to the token endpoint so far (all grant types, failures included).
    pub fn token_requests(&self) -> u64 {
        self.state().token_requests
    }
}
