//! syncward-crm: talking to a CRM (the real one or the sandbox: they share
//! the wire format). Tokens are never printed: errors name the URL path and
//! the CRM's own error text, and a token in a message is redacted.

use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crm {
    Hubspot,
    Salesforce,
}

impl Crm {
    pub fn parse(s: &str) -> Option<Crm> {
        match s.trim().to_ascii_lowercase().as_str() {
            "hubspot" => Some(Crm::Hubspot),
            "salesforce" => Some(Crm::Salesforce),
            _ => None,
        }
    }
}

/// The Salesforce REST API version used for describe.
pub const SALESFORCE_API: &str = "v62.0";

#[derive(Debug, thiserror::Error)]
pub enum CrmError {
    #[error("cannot reach {url}: {message}")]
    Unreachable { url: String, message: String },
    #[error("{url} answered {status}: {body}")]
    Refused {
        url: String,
        status: u16,
        body: String,
    },
    #[error("{url} did not answer with JSON: {message}")]
    NotJson { url: String, message: String },
}

/// A secret printed as `**REDACTED**`, in Debug and Display alike.
#[derive(Clone)]
pub struct Token(String);

impl Token {
    pub fn new(s: impl Into<String>) -> Token {
        Token(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("**REDACTED**")
    }
}

impl std::fmt::Display for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("**REDACTED**")
    }
}

pub struct Client {
    http: reqwest::Client,
    base: String,
    token: Token,
}

pub mod write;

impl Client {
    pub fn new(base_url: &str, token: Token) -> Result<Client, CrmError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .user_agent(concat!("syncward/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| CrmError::Unreachable {
                url: base_url.to_owned(),
                message: e.to_string(),
            })?;
        Ok(Client {
            http,
            base: base_url.trim_end_matches('/').to_owned(),
            token,
        })
    }

    async fn get_json(&self, path: &str) -> Result<String, CrmError> {
        let url = format!("{}{path}", self.base);
        let resp = self
            .http
            .get(&url)
            .bearer_auth(self.token.expose())
            .send()
            .await
            .map_err(|e| CrmError::Unreachable {
                url: url.clone(),
                message: redact(&e.to_string(), &self.token),
            })?;
        let status = resp.status().as_u16();
        let body = resp.text().await.map_err(|e| CrmError::Unreachable {
            url: url.clone(),
            message: e.to_string(),
        })?;
        if status >= 400 {
            return Err(CrmError::Refused {
                url,
                status,
                body: redact(&body, &self.token).chars().take(500).collect(),
            });
        }
        serde_json::from_str::<serde_json::Value>(&body).map_err(|e| CrmError::NotJson {
            url: url.clone(),
            message: e.to_string(),
        })?;
        Ok(body)
    }

    /// The object's schema in the CRM's own format (HubSpot properties or Salesforce describe).
    pub async fn schema(&self, crm: Crm, object: &str) -> Result<String, CrmError> {
        match crm {
            Crm::Hubspot => self.get_json(&format!("/crm/v3/properties/{object}")).await,
            Crm::Salesforce => {
                self.get_json(&format!(
                    "/services/data/{SALESFORCE_API}/sobjects/{object}/describe"
                ))
                .await
            }
        }
    }

    /// HubSpot: the scopes granted to this token (`GET /oauth/v1/access-tokens/{token}`).
    pub async fn hubspot_scopes(&self) -> Result<Vec<String>, CrmError> {
        let body = self
            .get_json(&format!("/oauth/v1/access-tokens/{}", self.token.expose()))
            .await
            .map_err(|e| match e {
                CrmError::Refused { status, body, .. } => CrmError::Refused {
                    url: format!("{}/oauth/v1/access-tokens/**REDACTED**", self.base),
                    status,
                    body,
                },
                other => other,
            })?;
        let v: serde_json::Value = serde_json::from_str(&body).map_err(|e| CrmError::NotJson {
            url: self.base.clone(),
            message: e.to_string(),
        })?;
        Ok(v.get("scopes")
            .and_then(|s| s.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default())
    }
}

/// A plain GET (the sandbox's admin API).
pub async fn get_text(url: &str) -> Result<String, CrmError> {
    let resp = reqwest::get(url).await.map_err(|e| CrmError::Unreachable {
        url: url.to_owned(),
        message: e.to_string(),
    })?;
    resp.text().await.map_err(|e| CrmError::Unreachable {
        url: url.to_owned(),
        message: e.to_string(),
    })
}

fn redact(text: &str, token: &Token) -> String {
    if token.expose().len() >= 4 {
        text.replace(token.expose(), "**REDACTED**")
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reads_schemas_and_scopes_from_the_sandbox() {
        let sb = syncward_sandbox::Sandbox::start(
            "127.0.0.1:0",
            syncward_sandbox::Scenario::healthy(),
            None,
        )
        .await
        .expect("sandbox");
        let c = Client::new(&sb.url, Token::new("sandbox-token")).expect("client");
        let hs = c
            .schema(Crm::Hubspot, "contacts")
            .await
            .expect("properties");
        assert!(hs.contains("\"results\""));
        let sf = c.schema(Crm::Salesforce, "Lead").await.expect("describe");
        assert!(sf.contains("\"fields\""));
        let scopes = c.hubspot_scopes().await.expect("scopes");
        assert!(scopes.iter().any(|s| s == "crm.objects.contacts.write"));
        let bad = Client::new(&sb.url, Token::new("wrong-token-123")).expect("client");
        let e = bad
            .schema(Crm::Hubspot, "contacts")
            .await
            .expect_err("refused");
        assert!(matches!(e, CrmError::Refused { status: 401, .. }));
        let e = bad
            .hubspot_scopes()
            .await
            .expect_err("unknown token")
            .to_string();
        assert!(!e.contains("wrong-token-123"), "{e}");
        assert_eq!(
            format!("{:?} {}", Token::new("s3cret"), Token::new("s3cret")),
            "**REDACTED** **REDACTED**"
        );
    }
}
