//! Conditional Access: the tenant's "Block device code flow" policy, decided when a device login
//! is completed and again when a token obtained through the device code flow is refreshed
//! (Entra's protocol tracking).

use super::resources::resource_of;
use crate::emulator::config::DemoUser;
use crate::emulator::state::State;
use crate::emulator::tenant::Emulator;

/// AADSTS53003, what a blocked sign-in is told.
pub(super) const BLOCKED: &str = "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.";

/// Whether the "Block device code flow" policy blocks `user` signing in to the resource of
/// `scope`: it is on, the resource is not among its excluded applications (the requests API is,
/// unless a test says otherwise), and the user is not a member of its excluded group, with
/// the memberships as they are now (not as lagging Graph reads show them).
pub(super) fn blocked_by_conditional_access(
    emu: &Emulator,
    st: &State,
    user: &DemoUser,
    scope: &str,
) -> bool {
    if st.device_code_policy_off {
        return false;
    }
    let (_, resource) = resource_of(emu, scope);
    if st
        .device_code_excluded_apps(emu.config())
        .iter()
        .any(|app| app.eq_ignore_ascii_case(&resource))
    {
        return false;
    }
    // The policy excludes the tenant's first group (see the Graph policy list).
    let excluded = emu.config().groups.first().is_some_and(|g| {
        st.members
            .get(&g.id.to_ascii_lowercase())
            .is_some_and(|m| m.iter().any(|u| u.eq_ignore_ascii_case(&user.id)))
    });
    !excluded
}

/// The same decision, for a refresh of a token obtained through the device code flow (Entra's
/// protocol tracking).
pub(super) fn blocks_device_code(emu: &Emulator, user: &DemoUser, scope: &str) -> bool {
    let st = emu.state();
    blocked_by_conditional_access(emu, &st, user, scope)
}
