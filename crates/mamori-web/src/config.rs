//! Server settings that belong to the deployment, not the organisation: how the server is
//! reached (TLS), which proxies are trusted, limits.

use crate::net::IpRange;

/// Deployment settings for the web server.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Users reach Mamori over HTTPS (directly or through a TLS-terminating proxy): cookies
    /// get `Secure` and the `__Host-` prefix, and responses carry HSTS.
    pub tls: bool,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpRange>,
    /// The largest request body accepted, in bytes (forms, JSON, browser imports).
    pub max_body_bytes: usize,
    /// The largest uploaded file (evidence, certificates), in bytes.
    pub max_upload_bytes: u64,
    /// Login failures an account may have in the throttling window.
    pub account_max_failures: usize,
    /// Login failures a source address may have in the throttling window.
    pub source_max_failures: usize,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            tls: false,
            trusted_proxies: Vec::new(),
            max_body_bytes: 2 * 1024 * 1024,
            max_upload_bytes: 20 * 1024 * 1024,
            account_max_failures: mamori_domain::throttle::ThrottlePolicy::ACCOUNT.max_failures,
            source_max_failures: mamori_domain::throttle::ThrottlePolicy::SOURCE.max_failures,
        }
    }
}
