//! JSON bodies with errors in the API's own shape. An empty body reads as `{}`.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use crate::error::AppError;
use crate::web::AppState;

pub struct ApiJson<T>(pub T);

/// Path parameters with errors in the API's own shape (an id that is not UTF-8, say).
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> axum::extract::FromRequestParts<S> for ApiPath<T> {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(t)| ApiPath(t))
            .map_err(|e| AppError::BadRequest(format!("The path is not valid: {}.", e.body_text())))
    }
}

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let ct = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                AppError::TooLarge(format!(
                    "The request body is larger than {} KiB.",
                    crate::web::MAX_BODY / 1024
                ))
            } else {
                AppError::BadRequest(format!("The request body could not be read: {e}."))
            }
        })?;
        if let Some(ct) = ct
            && !bytes.is_empty()
            && !ct.starts_with("application/json")
        {
            return Err(AppError::BadRequest(
                "The request body must be JSON (Content-Type: application/json).".into(),
            ));
        }
        let text: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            &bytes
        };
        let value: serde_json::Value = serde_json::from_slice(text)
            .map_err(|e| AppError::BadRequest(format!("The request body is not valid: {e}.")))?;
        // serde reads a struct from an array too; the document says object.
        if !value.is_object() {
            return Err(AppError::BadRequest(
                "The request body must be a JSON object.".into(),
            ));
        }
        T::deserialize(value)
            .map(ApiJson)
            .map_err(|e| AppError::BadRequest(format!("The request body is not valid: {e}.")))
    }
}
