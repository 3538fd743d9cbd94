//! Session tokens: HS256 JWTs naming a session row of the system store.
//!
//! The token proves who issued it and until when; the session row decides
//! whether it still counts (logout deletes the row, a refresh moves it to its
//! next generation), so every instance sharing the store agrees at once.

use crate::system::secrets::{SecretError, secret_material};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::path::Path;

const ISSUER: &str = "gatehouse";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The user's id.
    pub sub: String,
    /// The session's id.
    pub sid: String,
    /// The session generation this token belongs to.
    pub generation: i64,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
}

pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl Tokens {
    /// The signing secret is `GATEHOUSE_JWT_SECRET`, else generated once into
    /// `<data_dir>/jwt.secret`.
    pub fn load(configured: Option<&str>, data_dir: &Path) -> Result<Tokens, SecretError> {
        let secret = secret_material(configured, data_dir, "jwt.secret")?;
        Ok(Tokens {
            encoding: EncodingKey::from_secret(&secret),
            decoding: DecodingKey::from_secret(&secret),
        })
    }

    pub fn issue(&self, user_id: i64, sid: &str, generation: i64, iat: i64, exp: i64) -> String {
        let claims = Claims {
            sub: user_id.to_string(),
            sid: sid.to_string(),
            generation,
            iat,
            exp,
            iss: ISSUER.into(),
        };
        // Signing with HMAC cannot fail for these claims.
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .unwrap_or_default()
    }

    /// The claims of a token signed by this instance's secret with HS256 (no
    /// other algorithm is accepted). `allow_expired` is for refreshing.
    pub fn verify(&self, token: &str, allow_expired: bool) -> Option<Claims> {
        let mut v = Validation::new(Algorithm::HS256);
        v.leeway = 0;
        v.validate_exp = !allow_expired;
        v.set_issuer(&[ISSUER]);
        v.set_required_spec_claims(&["exp", "sub", "iss"]);
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &v)
            .ok()?
            .claims;
        // RFC 7519 §4.1.4: valid only while now < exp (jsonwebtoken lets the
        // second of `exp` itself through).
        if !allow_expired && claims.exp <= chrono::Utc::now().timestamp() {
            return None;
        }
        Some(claims)
    }
}

/// Whether `s` has the shape of a JWT (three base64url parts).
pub fn looks_like_jwt(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() == 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(secret: &str) -> Tokens {
        Tokens::load(Some(secret), Path::new("/nonexistent")).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn round_trip_tamper_expiry_and_algorithm() {
        let t = tokens("s1");
        let now = chrono::Utc::now().timestamp();
        let tok = t.issue(7, "abc", 1, now, now + 60);
        assert!(looks_like_jwt(&tok));
        let c = t
            .verify(&tok, false)
            .unwrap_or_else(|| panic!("valid token refused"));
        assert_eq!(
            (c.sub.as_str(), c.sid.as_str(), c.generation),
            ("7", "abc", 1)
        );
        // another secret
        assert!(tokens("s2").verify(&tok, false).is_none());
        // a changed payload
        let mut parts: Vec<String> = tok.split('.').map(String::from).collect();
        parts[1] = parts[1].chars().rev().collect();
        assert!(t.verify(&parts.join("."), false).is_none());
        // expiring this second: already refused (now < exp is required)
        let edge = t.issue(7, "abc", 1, now - 60, chrono::Utc::now().timestamp());
        assert!(t.verify(&edge, false).is_none());
        assert!(t.verify(&edge, true).is_some());
        // expired: refused, unless refreshing
        let old = t.issue(7, "abc", 1, now - 120, now - 60);
        assert!(t.verify(&old, false).is_none());
        assert!(t.verify(&old, true).is_some());
        // alg "none" is never accepted
        let none = format!(
            "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{}.",
            tok.split('.').nth(1).unwrap_or("")
        );
        assert!(t.verify(&none, false).is_none());
    }
}
