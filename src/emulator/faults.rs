//! How tests make the tenant misbehave: injected faults, random write failures (chaos) and the
//! way Graph answers the removal of a non-member.

/// A fault answered instead of a request (Graph, or the token endpoint, see
/// [`Emulator::inject`](super::Emulator::inject)).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    /// HTTP method to match (case-insensitive); `None` matches any.
    pub method: Option<String>,
    /// Substring of the path with query to match; `None` matches any Graph request.
    pub path_contains: Option<String>,
    /// Status to answer with: 429 → `TooManyRequests`, 503 → `serviceNotAvailable`,
    /// 504 → `gatewayTimeout`, 401 → `InvalidAuthenticationToken`, others a generic error.
    pub status: u16,
    /// `Retry-After` header value, e.g. `"0.25"` or `"1"`; omitted when `None`.
    pub retry_after: Option<String>,
    /// How many matching requests get this fault.
    pub times: u32,
    /// Wait this long before answering (with `status`, or normally when `status` is 0).
    pub delay: Option<std::time::Duration>,
}

impl Fault {
    /// A fault for every request, `times` times.
    pub fn new(status: u16, times: u32) -> Self {
        Fault {
            method: None,
            path_contains: None,
            status,
            retry_after: None,
            times,
            delay: None,
        }
    }

    /// A call that hangs for `delay` and is then carried out normally (the caller may have given
    /// up by then: its change still happens, as with a real timeout).
    pub fn hang(delay: std::time::Duration, times: u32) -> Self {
        Fault {
            delay: Some(delay),
            ..Fault::new(0, times)
        }
    }

    /// Restricts the fault to one HTTP method.
    pub fn method(mut self, method: &str) -> Self {
        self.method = Some(method.to_owned());
        self
    }

    /// Restricts the fault to paths (with query) containing `fragment`.
    pub fn path_contains(mut self, fragment: &str) -> Self {
        self.path_contains = Some(fragment.to_owned());
        self
    }

    /// Sets the `Retry-After` header value.
    pub fn retry_after(mut self, value: &str) -> Self {
        self.retry_after = Some(value.to_owned());
        self
    }
}

/// Random failures of Graph writes (for convergence tests): each write fails with probability
/// `rate`, as a 429 (Retry-After 0.2 s), a 503, or a call that hangs for `hang` and is then
/// carried out (the caller may have timed out by then); never more than `max_in_a_row` times
/// in a row for the same path. Seeded, so a run can be repeated.
#[derive(Clone, Debug)]
pub struct Chaos {
    pub rate: f64,
    pub hang: std::time::Duration,
    pub max_in_a_row: u32,
    pub seed: u64,
}

/// How Graph answers the removal of a user who is not a member (wire doc §3).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum NotMemberStyle {
    /// 404 `Request_ResourceNotFound` naming the group id.
    #[default]
    NotFound404,
    /// 400 `Request_BadRequest` "One or more removed object references do not exist…".
    BadRequest400,
}
