//! Parsing request bodies the way the Bot API does (JSON, multipart/form-data, urlencoded,
//! query string) and typed access to parameters.

use super::types::UploadedFile;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header::CONTENT_TYPE;
use serde_json::{Map, Value, json};

/// Largest body accepted (Telegram allows 50 MB uploads).
pub(crate) const MAX_BODY: usize = 60 * 1024 * 1024;

/// An `ok:false` answer.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ApiErr {
    pub code: u16,
    pub description: String,
    pub retry_after: Option<u32>,
    pub migrate_to_chat_id: Option<i64>,
}

impl ApiErr {
    pub fn new(code: u16, description: impl Into<String>) -> Self {
        ApiErr {
            code,
            description: description.into(),
            retry_after: None,
            migrate_to_chat_id: None,
        }
    }

    /// 400 `Bad Request: {what}`.
    pub fn bad_request(what: impl AsRef<str>) -> Self {
        Self::new(400, format!("Bad Request: {}", what.as_ref()))
    }

    pub fn not_found() -> Self {
        Self::new(404, "Not Found")
    }

    pub fn too_many_requests(retry_after: u32) -> Self {
        ApiErr {
            retry_after: Some(retry_after),
            ..Self::new(429, format!("Too Many Requests: retry after {retry_after}"))
        }
    }

    /// The Telegram JSON body, keys in Telegram's order.
    pub fn to_body(&self) -> String {
        let description = Value::String(self.description.clone());
        let mut body = format!(
            "{{\"ok\":false,\"error_code\":{},\"description\":{description}",
            self.code
        );
        let mut parameters = Vec::new();
        if let Some(retry_after) = self.retry_after {
            parameters.push(format!("\"retry_after\":{retry_after}"));
        }
        if let Some(chat_id) = self.migrate_to_chat_id {
            parameters.push(format!("\"migrate_to_chat_id\":{chat_id}"));
        }
        if !parameters.is_empty() {
            body.push_str(&format!(",\"parameters\":{{{}}}", parameters.join(",")));
        }
        body.push('}');
        body
    }
}

/// Parameters that are always strings, even when they look like numbers or JSON.
const STRING_FIELDS: &[&str] = &[
    "text",
    "caption",
    "parse_mode",
    "callback_query_id",
    "inline_message_id",
    "business_connection_id",
    "message_effect_id",
    "name",
    "title",
    "description",
    "url",
    "secret_token",
    "language_code",
    "emoji",
    "action",
    "invite_link",
];

/// Turns a text field of a form into a JSON value: objects/arrays are JSON-encoded,
/// numbers and booleans are plain text (that is how teloxide encodes multipart fields).
pub(crate) fn coerce(name: &str, raw: &str) -> Value {
    if STRING_FIELDS.contains(&name) {
        return Value::String(raw.to_owned());
    }
    let trimmed = raw.trim();
    if (trimmed.starts_with('{') || trimmed.starts_with('['))
        && let Ok(value) = serde_json::from_str::<Value>(trimmed)
    {
        return value;
    }
    match trimmed {
        "true" => return Value::Bool(true),
        "false" => return Value::Bool(false),
        _ => {}
    }
    if let Ok(n) = trimmed.parse::<i64>() {
        return json!(n);
    }
    Value::String(raw.to_owned())
}

/// Reads the request into `(params, files)`.
pub(crate) async fn parse_request(req: Request) -> Result<(Value, Vec<UploadedFile>), ApiErr> {
    let mut params = Map::new();
    if let Some(query) = req.uri().query() {
        for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
            params.insert(k.to_string(), coerce(&k, &v));
        }
    }
    let content_type = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let mut files = Vec::new();
    if content_type.starts_with("multipart/form-data") {
        let multipart = Multipart::from_request(req, &())
            .await
            .map_err(|e| ApiErr::bad_request(format!("can't parse multipart body: {e}")))?;
        files = parse_multipart(multipart, &mut params).await?;
    } else {
        let bytes = axum::body::to_bytes(req.into_body(), MAX_BODY)
            .await
            .map_err(|_| ApiErr::new(413, "Request Entity Too Large"))?;
        if content_type.starts_with("application/x-www-form-urlencoded") {
            for (k, v) in url::form_urlencoded::parse(&bytes) {
                params.insert(k.to_string(), coerce(&k, &v));
            }
        } else if !bytes.iter().all(u8::is_ascii_whitespace) {
            match serde_json::from_slice::<Value>(&bytes) {
                Ok(Value::Object(body)) => params.extend(body),
                Ok(_) => return Err(ApiErr::bad_request("request body must be a JSON object")),
                Err(e) => return Err(ApiErr::bad_request(format!("can't parse JSON body: {e}"))),
            }
        }
    }
    Ok((Value::Object(params), files))
}

struct Part {
    name: String,
    file_name: Option<String>,
    bytes: Vec<u8>,
}

/// teloxide sends a file as `document=attach://<uuid>` plus a part named `<uuid>` with a
/// file name; other clients put the file directly in the `document` part.
async fn parse_multipart(
    mut multipart: Multipart,
    params: &mut Map<String, Value>,
) -> Result<Vec<UploadedFile>, ApiErr> {
    let mut parts = Vec::new();
    loop {
        let field = multipart
            .next_field()
            .await
            .map_err(|e| ApiErr::bad_request(format!("can't parse multipart body: {e}")))?;
        let Some(field) = field else { break };
        let name = field.name().unwrap_or_default().to_owned();
        let file_name = field.file_name().map(str::to_owned);
        let bytes = field
            .bytes()
            .await
            .map_err(|e| ApiErr::bad_request(format!("can't read multipart field: {e}")))?;
        parts.push(Part {
            name,
            file_name,
            bytes: bytes.to_vec(),
        });
    }
    // attach name -> the parameter that references it
    let attached: Vec<(String, String)> = parts
        .iter()
        .filter(|p| p.file_name.is_none())
        .filter_map(|p| {
            let text = std::str::from_utf8(&p.bytes).ok()?;
            Some((text.strip_prefix("attach://")?.to_owned(), p.name.clone()))
        })
        .collect();
    let mut files = Vec::new();
    for part in parts {
        let referenced_by = attached
            .iter()
            .find(|(id, _)| *id == part.name)
            .map(|(_, f)| f);
        let text = std::str::from_utf8(&part.bytes).ok();
        match (&part.file_name, referenced_by, text) {
            (None, None, Some(text)) => {
                params.insert(part.name.clone(), coerce(&part.name, text));
            }
            _ => files.push(UploadedFile {
                field: referenced_by.cloned().unwrap_or_else(|| part.name.clone()),
                file_name: part.file_name.unwrap_or_default(),
                bytes: part.bytes,
            }),
        }
    }
    Ok(files)
}

// ---- typed access -------------------------------------------------------------------------

/// A number or a numeric string.
pub(crate) fn opt_i64(params: &Value, name: &str) -> Option<i64> {
    match params.get(name)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

pub(crate) fn opt_str<'a>(params: &'a Value, name: &str) -> Option<&'a str> {
    params.get(name).and_then(Value::as_str)
}

pub(crate) fn opt_bool(params: &Value, name: &str) -> bool {
    match params.get(name) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s == "true",
        _ => false,
    }
}

/// A JSON parameter, which clients may also send as a JSON-encoded string.
pub(crate) fn opt_json(params: &Value, name: &str) -> Option<Value> {
    match params.get(name)? {
        Value::String(s) => serde_json::from_str(s).ok(),
        Value::Null => None,
        other => Some(other.clone()),
    }
}

/// `chat_id`, required.
pub(crate) fn chat_id(params: &Value) -> Result<i64, ApiErr> {
    match params.get("chat_id") {
        None | Some(Value::Null) => Err(ApiErr::bad_request("chat_id is empty")),
        Some(_) => opt_i64(params, "chat_id").ok_or_else(|| ApiErr::bad_request("chat not found")),
    }
}

/// A required integer parameter such as `message_id`.
pub(crate) fn req_i64(params: &Value, name: &str) -> Result<i64, ApiErr> {
    match params.get(name) {
        None | Some(Value::Null) => Err(ApiErr::bad_request(format!(
            "{name} is required but not specified"
        ))),
        Some(_) => opt_i64(params, name)
            .ok_or_else(|| ApiErr::bad_request(format!("invalid value of {name}"))),
    }
}
