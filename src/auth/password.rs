//! Passwords: argon2id hashes in PHC form, computed off the async threads.

use argon2::Argon2;
use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};

/// The argon2id hash of `password` (default parameters: 19 MiB, 2 passes).
pub async fn hash(password: String) -> Option<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .ok()
            .map(|h| h.to_string())
    })
    .await
    .ok()
    .flatten()
}

/// Whether `password` matches `phc`. Without a stored hash, a dummy one is
/// checked so an unknown email takes as long as a wrong password.
pub async fn verify(password: String, phc: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || {
        let phc = phc.unwrap_or_else(|| DUMMY.to_string());
        let Ok(parsed) = PasswordHash::new(&phc) else {
            return false;
        };
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
            && phc != DUMMY
    })
    .await
    .unwrap_or(false)
}

/// The hash of a random password nobody knows.
const DUMMY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Hr7/bTeQ6QTWfYzG2ZSsNXz4nvbQh4A1ZA+XIqKmVC4";

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_differ() {
        let h = hash("correct horse".into()).await.unwrap_or_default();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("correct horse".into(), Some(h.clone())).await);
        assert!(!verify("wrong".into(), Some(h.clone())).await);
        assert_ne!(hash("correct horse".into()).await.unwrap_or_default(), h);
        assert!(!verify("anything".into(), None).await);
    }
}
