//! Encryption of secrets at rest (ChaCha20-Poly1305) and hashing of API keys.
//!
//! The key comes from `GATEHOUSE_SECRET_KEY` (any string, stretched with
//! SHA-256) or is generated once into `<data_dir>/secret.key` with mode 0600.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::path::Path;

pub struct Cipher {
    aead: ChaCha20Poly1305,
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("cannot use the key file {path}: {source}")]
    KeyFile {
        path: String,
        source: std::io::Error,
    },
    #[error("stored secret cannot be decrypted (was GATEHOUSE_SECRET_KEY changed?)")]
    Decrypt,
}

impl Cipher {
    /// Loads the key from `configured`, else from (or into) the data directory.
    pub fn load(configured: Option<&str>, data_dir: &Path) -> Result<Self, SecretError> {
        let key = secret_material(configured, data_dir, "secret.key")?;
        Ok(Self {
            aead: ChaCha20Poly1305::new(Key::from_slice(&key)),
        })
    }

    /// `base64(nonce || ciphertext)`.
    pub fn encrypt(&self, plain: &[u8]) -> String {
        let nonce = ChaCha20Poly1305::generate_nonce(&mut OsRng);
        // Encryption into a Vec cannot fail for inputs below the AEAD's limit (~256 GiB).
        let sealed = self.aead.encrypt(&nonce, plain).unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend(sealed);
        B64.encode(out)
    }

    pub fn decrypt(&self, sealed: &str) -> Result<Vec<u8>, SecretError> {
        let raw = B64.decode(sealed).map_err(|_| SecretError::Decrypt)?;
        if raw.len() < 12 {
            return Err(SecretError::Decrypt);
        }
        let (nonce, body) = raw.split_at(12);
        self.aead
            .decrypt(Nonce::from_slice(nonce), body)
            .map_err(|_| SecretError::Decrypt)
    }
}

/// Writes a file readable by its owner only.
/// 32 bytes of key material: SHA-256 of `configured` when given, else of the
/// text in `<data_dir>/<file>`, which is generated (random, mode 0600) the first time.
pub fn secret_material(
    configured: Option<&str>,
    data_dir: &Path,
    file: &str,
) -> Result<[u8; 32], SecretError> {
    if let Some(k) = configured {
        return Ok(Sha256::digest(k.as_bytes()).into());
    }
    let path = data_dir.join(file);
    let io = |source| SecretError::KeyFile {
        path: path.display().to_string(),
        source,
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(Sha256::digest(text.trim().as_bytes()).into()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut raw = [0u8; 32];
            OsRng.fill_bytes(&mut raw);
            let text = hex(&raw);
            write_private(&path, &text).map_err(io)?;
            Ok(Sha256::digest(text.as_bytes()).into())
        }
        Err(e) => Err(io(e)),
    }
}

pub fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    opts.mode(0o600);
    let mut f = opts.open(path)?;
    f.write_all(text.as_bytes())
}

pub fn hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

/// SHA-256 of an API key. Keys are 256-bit random values, so a fast hash is
/// enough: there is nothing to brute-force that a slow hash would protect.
pub fn hash_key(key: &str) -> String {
    hex(&Sha256::digest(key.as_bytes()))
}

/// A new random API key.
pub fn new_key(prefix: &str) -> String {
    let mut raw = [0u8; 32];
    OsRng.fill_bytes(&mut raw);
    format!("{prefix}{}", hex(&raw))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tamper() {
        let dir = std::env::temp_dir();
        let c = Cipher::load(Some("k1"), &dir).unwrap_or_else(|e| panic!("{e}"));
        let sealed = c.encrypt(b"postgres://u:secret@h/db");
        assert!(!sealed.contains("secret"));
        assert_eq!(
            c.decrypt(&sealed).ok().as_deref(),
            Some(&b"postgres://u:secret@h/db"[..])
        );
        let other = Cipher::load(Some("k2"), &dir).unwrap_or_else(|e| panic!("{e}"));
        assert!(other.decrypt(&sealed).is_err());
        assert_ne!(c.encrypt(b"x"), c.encrypt(b"x"), "nonces must differ");
    }
}
