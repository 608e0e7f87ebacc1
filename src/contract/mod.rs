//! The JSON API's contract: every body `/api/v1` reads or writes, as owned types that derive
//! `Serialize`, `Deserialize` and `ToSchema`. The web layer builds them from the service's
//! answers, the OpenAPI document describes them, and the command-line client reads them: one
//! definition, so the three cannot drift apart. Imports nothing from the crate.

mod approvals;
mod audit;
mod break_glass;
mod errors;
mod people;
mod requests;
mod reviews;
pub mod rules;
pub mod time;

pub use approvals::{ApprovalQueue, QueuedBreakGlass, QueuedExtension, QueuedRequest};
pub use audit::{Actor, AnchorRef, AuditEvent, AuditQuery, EventList, Verification};
pub use break_glass::{BreakGlassReview, BreakGlassReviewBody, BreakGlassUse, BreakGlassVerdict};
pub use errors::{ErrorBody, ErrorDetail, FieldProblem};
pub use people::{
    AutoApproveRule, BreakGlassPolicy, CliSignIn, Me, Package, PackageList, PackageRule,
    PeopleQuery, Person, PersonList,
};
pub use requests::{
    Approval, ApproveBody, DenyBody, EXTENSION_MIN_MINUTES, Empty, EndBody, ExtendBody, Extended,
    Extension, ExtensionDecisionBody, ExtensionList, ExtensionStatus, Membership, NewRequest,
    OnBehalfResult, OnBehalfResults, Request, RequestList, RequestQuery, RevokeBody, SignIn,
    SignInList, Status, Verdict,
};
pub use reviews::{
    RestoreBody, ReviewCampaign, ReviewDecisionBody, ReviewDetail, ReviewItem, ReviewList,
    ReviewRevocation, RevocationList,
};
