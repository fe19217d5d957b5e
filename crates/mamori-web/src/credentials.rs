//! Secrets: password hashing (argon2id), random tokens, TOTP and recovery codes.
//!
//! Every comparison of a secret is constant-time. Random values come from the operating
//! system's generator.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::rngs::OsRng;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// argon2id with the OWASP-recommended parameters (19 MiB, 2 iterations, 1 lane).
fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password (PHC string). CPU-heavy: call from a blocking task.
pub fn hash_password(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// A hash of a random password, verified against when the username is unknown, so that a
/// failed login takes as long whether or not the account exists.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password(&random_token(16)).unwrap_or_default())
}

/// Checks a password against a PHC string (constant-time inside argon2).
pub fn verify_password(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => argon2()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// Hashes and verifies on the blocking pool.
pub async fn verify_password_blocking(password: String, phc: String) -> bool {
    tokio::task::spawn_blocking(move || verify_password(&password, &phc))
        .await
        .unwrap_or(false)
}

/// Hashes on the blocking pool.
pub async fn hash_password_blocking(password: String) -> Result<String, String> {
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| e.to_string())?
}

/// `bytes` random bytes as URL-safe base64 without padding (16 bytes = 128 bits).
pub fn random_token(bytes: usize) -> String {
    use base64::Engine as _;
    let mut buf = vec![0u8; bytes];
    OsRng.fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

/// SHA-256 hex of a secret, for storage and lookup.
pub fn sha256_hex(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Constant-time equality of two strings.
pub fn secure_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// A one-time password for a new account: 20 characters from an alphabet without look-alikes.
pub fn one_time_password() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut out = String::with_capacity(20);
    while out.len() < 20 {
        let mut b = [0u8; 1];
        OsRng.fill_bytes(&mut b);
        // Rejection sampling keeps the distribution uniform.
        if usize::from(b[0]) < 256 - 256 % ALPHABET.len() {
            out.push(char::from(ALPHABET[usize::from(b[0]) % ALPHABET.len()]));
        }
    }
    out
}

/// A new API token: `mmr_` and 32 random bytes. Returns (token, prefix shown in lists).
pub fn new_api_token() -> (String, String) {
    let token = format!("mmr_{}", random_token(32));
    let prefix = token.chars().take(10).collect();
    (token, prefix)
}

/// TOTP (RFC 6238: SHA-1, 6 digits, 30 seconds), as every authenticator app expects.
pub mod totp {
    use super::*;
    use totp_rs::{Algorithm as TotpAlgorithm, Secret, TOTP};

    /// Seconds per step.
    pub const STEP: u64 = 30;

    /// A new random secret, base32.
    pub fn new_secret() -> String {
        let mut bytes = [0u8; 20];
        OsRng.fill_bytes(&mut bytes);
        Secret::Raw(bytes.to_vec()).to_encoded().to_string()
    }

    fn totp(secret_b32: &str) -> Option<TOTP> {
        let bytes = Secret::Encoded(secret_b32.to_owned()).to_bytes().ok()?;
        TOTP::new(TotpAlgorithm::SHA1, 6, 1, STEP, bytes).ok()
    }

    /// The code for a time (for tests and the enrolment check).
    pub fn code_at(secret_b32: &str, unix: u64) -> Option<String> {
        totp(secret_b32).map(|t| t.generate(unix))
    }

    /// The step that `code` matches at `unix`, allowing one step of clock skew either way.
    pub fn matching_step(secret_b32: &str, code: &str, unix: u64) -> Option<i64> {
        let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let t = totp(secret_b32)?;
        let now_step = unix / STEP;
        let mut found = None;
        for step in [now_step.saturating_sub(1), now_step, now_step + 1] {
            if secure_eq(&t.generate(step * STEP), &code) && found.is_none() {
                found = Some(step as i64);
            }
        }
        found
    }

    /// The `otpauth://` URI an authenticator app scans.
    pub fn otpauth_uri(secret_b32: &str, issuer: &str, account: &str) -> String {
        let enc = |s: &str| -> String {
            s.bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                        char::from(b).to_string()
                    }
                    _ => format!("%{b:02X}"),
                })
                .collect()
        };
        format!(
            "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits=6&period={STEP}",
            enc(issuer),
            enc(account),
            secret_b32,
            enc(issuer)
        )
    }

    /// The URI as a QR code, drawn server-side as SVG (no script, no external resource).
    pub fn qr_svg(uri: &str) -> Option<String> {
        let code = qrcode::QrCode::new(uri.as_bytes()).ok()?;
        let svg = code
            .render::<qrcode::render::svg::Color>()
            .min_dimensions(220, 220)
            .quiet_zone(true)
            .build();
        // Inline in HTML: drop the XML declaration.
        Some(match svg.find("<svg") {
            Some(i) => svg[i..].to_owned(),
            None => svg,
        })
    }
}

/// Ten recovery codes (`xxxxx-xxxxx`), shown once; stored as hashes.
pub fn recovery_codes() -> Vec<String> {
    (0..10)
        .map(|_| {
            let mut b = [0u8; 6];
            OsRng.fill_bytes(&mut b);
            let n = b.iter().fold(0u64, |acc, x| acc << 8 | u64::from(*x)) % 10_000_000_000;
            let s = format!("{n:010}");
            format!("{}-{}", &s[..5], &s[5..])
        })
        .collect()
}

/// The stored form of a recovery code (spaces and dashes ignored).
pub fn recovery_code_hash(code: &str) -> String {
    let normal: String = code.chars().filter(|c| c.is_ascii_digit()).collect();
    sha256_hex(&format!("mamori-recovery:{normal}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_hash_round_trip() {
        let h = hash_password("correct horse battery").unwrap_or_default();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("correct horse batterY", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn tokens_are_long_and_distinct() {
        let a = random_token(16);
        assert_eq!(a.len(), 22); // 128 bits
        assert_ne!(a, random_token(16));
        let (t, p) = new_api_token();
        assert!(t.starts_with("mmr_") && t.starts_with(&p));
        assert_eq!(one_time_password().len(), 20);
    }

    #[test]
    fn totp_accepts_neighbouring_steps_only() {
        let secret = totp::new_secret();
        let now = 1_800_000_000u64;
        let code = totp::code_at(&secret, now).unwrap_or_default();
        assert_eq!(
            totp::matching_step(&secret, &code, now),
            Some((now / 30) as i64)
        );
        assert_eq!(
            totp::matching_step(&secret, &code, now + 30),
            Some((now / 30) as i64)
        );
        assert_eq!(totp::matching_step(&secret, &code, now + 90), None);
        assert_eq!(totp::matching_step(&secret, "12345", now), None);
        assert_eq!(totp::matching_step(&secret, "abcdef", now), None);
    }

    #[test]
    fn qr_is_inline_svg() {
        let uri = totp::otpauth_uri("JBSWY3DPEHPK3PXP", "桑名・員弁広域連合", "admin");
        assert!(uri.contains("issuer=%E6%A1%91"));
        let svg = totp::qr_svg(&uri).unwrap_or_default();
        assert!(svg.starts_with("<svg") && !svg.contains("<script"));
    }

    #[test]
    fn recovery_codes_hash_ignoring_format() {
        let codes = recovery_codes();
        assert_eq!(codes.len(), 10);
        let c = &codes[0];
        assert_eq!(
            recovery_code_hash(c),
            recovery_code_hash(&c.replace('-', " "))
        );
        assert_ne!(recovery_code_hash(c), recovery_code_hash(&codes[1]));
    }
}
