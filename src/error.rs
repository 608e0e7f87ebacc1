//! One error type for the whole portal. It renders as the API's JSON error body
//! `{"error": {"code", "message"}}`; pages wrap it in an HTML page.

use crate::contract::{ErrorBody, ErrorDetail, FieldProblem};
use crate::domain::request::{DecisionRefused, FieldError};
use crate::domain::status::TransitionError;
use crate::domain::step_up::{self, StepUp};
use crate::store::StoreError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Input that breaks a rule; each problem named against its field.
    #[error("{message}")]
    Invalid {
        message: String,
        fields: Vec<FieldError>,
    },
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    /// The sign-in has not satisfied the package's authentication context: answered 401
    /// `insufficient_claims` with Microsoft's claims challenge, so that the client signs in
    /// again asking for it.
    #[error("{}", .0.message())]
    StepUpRequired(Box<StepUp>),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Unavailable(String),
    /// Asked too often (a package's per-person limits): answered 429 with `Retry-After`.
    #[error("{message}")]
    TooManyRequests {
        message: String,
        retry_after_secs: i64,
    },
    /// A package rule said no: 403 for who or where (`Rule::forbids`), 422 for what or how
    /// much; the body names the rule.
    #[error("{message}")]
    Refused {
        rule: crate::domain::policy::Rule,
        message: String,
        fields: Vec<FieldError>,
    },
    #[error("{0}")]
    TooLarge(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

/// What a 503 `unavailable` asks clients to wait before trying again (`Retry-After`, seconds).
pub const RETRY_AFTER_SECONDS: &str = "5";

impl AppError {
    pub fn invalid(fields: Vec<FieldError>) -> AppError {
        AppError::Invalid {
            message: joined(&fields),
            fields,
        }
    }

    /// Input a package rule refuses, each problem against its field (e.g. `ticket_pattern`).
    pub fn refused_fields(rule: crate::domain::policy::Rule, fields: Vec<FieldError>) -> AppError {
        AppError::Refused {
            rule,
            message: joined(&fields),
            fields,
        }
    }

    pub fn invalid_field(field: &'static str, message: impl Into<String>) -> AppError {
        AppError::invalid(vec![FieldError {
            field,
            message: message.into(),
        }])
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Unauthorized(_) | AppError::StepUpRequired(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Refused { rule, .. } if rule.forbids() => StatusCode::FORBIDDEN,
            AppError::Refused { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::Invalid { .. } => "invalid_request",
            AppError::BadRequest(_) => "bad_request",
            AppError::Unauthorized(_) => "unauthorized",
            AppError::StepUpRequired(_) => "insufficient_claims",
            AppError::Forbidden(_) => "forbidden",
            AppError::NotFound(_) => "not_found",
            AppError::Conflict(_) => "conflict",
            AppError::Unavailable(_) => "unavailable",
            AppError::TooManyRequests { .. } => "too_many_requests",
            AppError::Refused { rule, .. } if rule.forbids() => "forbidden",
            AppError::Refused { .. } => "invalid_request",
            AppError::TooLarge(_) => "too_large",
            AppError::MethodNotAllowed(_) => "method_not_allowed",
            AppError::Internal(_) => "internal_error",
        }
    }

    /// What a person is shown. Internal details stay in the log.
    pub fn public_message(&self) -> String {
        match self {
            AppError::Internal(_) => {
                "Something went wrong on our side; it has been logged.".to_string()
            }
            other => other.to_string(),
        }
    }

    pub fn fields(&self) -> &[FieldError] {
        match self {
            AppError::Invalid { fields, .. } | AppError::Refused { fields, .. } => fields,
            _ => &[],
        }
    }

    /// A package rule's refusal: `message` about `rule`, against the rule's form field if any.
    pub fn refused(refusal: crate::domain::policy::Refusal) -> AppError {
        let fields = refusal
            .rule
            .field()
            .map(|f| vec![FieldError::new(f, refusal.message.clone())])
            .unwrap_or_default();
        AppError::Refused {
            rule: refusal.rule,
            message: refusal.message,
            fields,
        }
    }

    /// The package rule behind the refusal, if one is (`"rule"` in the error body).
    pub fn rule(&self) -> Option<&'static str> {
        match self {
            AppError::Refused { rule, .. } => Some(rule.key()),
            AppError::StepUpRequired(_) => Some(step_up::RULE),
            _ => None,
        }
    }

    /// The `Retry-After` (seconds) the answer carries, if any.
    pub fn retry_after(&self) -> Option<i64> {
        match self {
            AppError::TooManyRequests {
                retry_after_secs, ..
            } => Some(*retry_after_secs),
            _ => None,
        }
    }

    /// Logs server-side failures with their cause.
    pub fn log(&self) {
        if let AppError::Internal(e) = self {
            tracing::error!(error = format!("{e:#}"), "request failed");
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> AppError {
        match e {
            StoreError::Conflict(m) => AppError::Conflict(capitalise(&m)),
            StoreError::NotFound(m) => AppError::NotFound(capitalise(&m)),
            e if e.is_unavailable() => {
                tracing::warn!(error = %e, "the database is unavailable");
                AppError::Unavailable(if e.is_disk_full() {
                    "The database cannot store anything at the moment: its disk is full. \
                     Try again in a few minutes."
                        .to_string()
                } else {
                    "The database is unreachable at the moment. Try again in a few seconds."
                        .to_string()
                })
            }
            other => AppError::Internal(other.into()),
        }
    }
}

impl From<TransitionError> for AppError {
    fn from(e: TransitionError) -> AppError {
        AppError::Conflict(format!(
            "You cannot {} this request: it is {}.",
            e.transition.name(),
            e.from
        ))
    }
}

impl From<DecisionRefused> for AppError {
    fn from(e: DecisionRefused) -> AppError {
        match e {
            DecisionRefused::OwnRequest
            | DecisionRefused::AskedByYou
            | DecisionRefused::NotAnApprover => AppError::Forbidden(e.to_string()),
            DecisionRefused::AlreadyDecided
            | DecisionRefused::NotPending(_)
            | DecisionRefused::TimedOut(_) => AppError::Conflict(e.to_string()),
            DecisionRefused::Invalid(m) => AppError::invalid_field("duration_minutes", m),
        }
    }
}

/// The fields' problems as one message.
fn joined(fields: &[FieldError]) -> String {
    fields
        .iter()
        .map(|f| f.message.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => format!("{}{}.", f.to_uppercase(), c.as_str().trim_end_matches('.')),
        None => String::new(),
    }
}

impl AppError {
    /// The API's error body: `{"error": {"code", "message", "fields"?, "rule"?}}`.
    pub fn body(&self) -> ErrorBody {
        let mut body = error_body(self.code(), self.public_message(), self.fields());
        body.error.rule = self.rule().map(str::to_string);
        body
    }
}

/// `{"error": {"code", "message", "fields"?}}` with `code`, `message` and the fields' problems.
pub fn error_body(code: &str, message: String, fields: &[FieldError]) -> ErrorBody {
    ErrorBody {
        error: ErrorDetail {
            code: code.to_string(),
            message,
            fields: fields
                .iter()
                .map(|f| FieldProblem {
                    field: f.field.to_string(),
                    message: f.message.clone(),
                })
                .collect(),
            rule: None,
        },
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        self.log();
        let body = self.body();
        let mut resp = (self.status(), axum::Json(body)).into_response();
        if matches!(self, AppError::Unavailable(_)) {
            resp.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static(RETRY_AFTER_SECONDS),
            );
        }
        if let Some(secs) = self.retry_after()
            && let Ok(v) = axum::http::HeaderValue::from_str(&secs.to_string())
        {
            resp.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, v);
        }
        if matches!(self, AppError::Unauthorized(_)) {
            resp.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer error=\"invalid_token\""),
            );
        }
        if let AppError::StepUpRequired(s) = &self
            && let Ok(v) = axum::http::HeaderValue::from_str(&s.www_authenticate())
        {
            resp.headers_mut()
                .insert(axum::http::header::WWW_AUTHENTICATE, v);
        }
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database that cannot be reached is a passing state: 503 `unavailable`, a sentence that
    /// says so and `Retry-After`, not a 500.
    #[test]
    fn an_unreachable_database_answers_503_with_retry_after() {
        for e in [
            StoreError::Database(sqlx::Error::PoolTimedOut),
            StoreError::Database(sqlx::Error::Io(std::io::Error::from(
                std::io::ErrorKind::ConnectionRefused,
            ))),
        ] {
            let e = AppError::from(e);
            assert_eq!(e.code(), "unavailable");
            assert!(e.public_message().contains("database is unreachable"));
            let resp = e.into_response();
            assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(
                resp.headers()[axum::http::header::RETRY_AFTER],
                RETRY_AFTER_SECONDS
            );
        }
        // Other database errors stay internal.
        let e = AppError::from(StoreError::Database(sqlx::Error::RowNotFound));
        assert_eq!(e.code(), "internal_error");
    }
}
