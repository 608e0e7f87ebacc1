//! Why a sign-in did not produce a principal: an answer refused (shown to the person as a failed
//! sign-in, with a status), or something on our side.

use crate::error::AppError;

/// Why a sign-in did not produce a principal.
#[derive(Debug)]
pub enum SignInFailure {
    /// The answer was refused: shown to the person as a failed sign-in with this status.
    Refused { status: u16, message: String },
    /// Something on our side (or the provider being unreachable).
    Error(AppError),
}

impl From<AppError> for SignInFailure {
    fn from(e: AppError) -> SignInFailure {
        SignInFailure::Error(e)
    }
}

/// A refusal the person is shown as it is, with `status`.
pub(super) fn refused(status: u16, message: impl Into<String>) -> SignInFailure {
    SignInFailure::Refused {
        status,
        message: message.into(),
    }
}

/// A refusal whose cause stays in the log: the person sees a generic message with a reference
/// they can quote, the log has the details under the same reference.
pub(super) fn refused_logged(what: &str, detail: &str) -> SignInFailure {
    let reference = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
    tracing::warn!(%reference, error = %detail, "{what}");
    refused(
        401,
        format!(
            "{what}, so the sign-in was refused. If it keeps happening, quote reference {reference} to your administrator."
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn people_see_a_reference_not_the_validation_error() {
        let SignInFailure::Refused { status, message } = refused_logged(
            "The ID token was not valid",
            "InvalidSignature: key kid-7 unknown",
        ) else {
            panic!("a refusal");
        };
        assert_eq!(status, 401);
        assert!(
            message.contains("reference ") && !message.contains("kid-7"),
            "{message}"
        );
    }
}
