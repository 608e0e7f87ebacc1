//! E-mail through an SMTP relay, for tenants that do not send through Microsoft Graph.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use secrecy::{ExposeSecret, SecretString};

use super::ChannelError;

/// How the connection to the relay is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS, which must succeed (usually port 587).
    StartTls,
    /// TLS from the first byte, "SMTPS" (usually port 465).
    Tls,
    /// No encryption at all: credentials and mail cross the network in clear. For a relay on
    /// the same machine, or an internal relay the configuration explicitly allows
    /// (`[notify.smtp] allow_plaintext`).
    None,
}

/// Where and as whom mail is sent.
#[derive(Debug, Clone)]
pub struct SmtpConfig {
    /// The relay's host name; with TLS its certificate must be valid for this name.
    pub host: String,
    /// Usually 587 with STARTTLS, 465 with TLS.
    pub port: u16,
    /// How the connection is protected.
    pub security: SmtpSecurity,
    /// The account to sign in with (AUTH PLAIN or LOGIN). Set both it and the password, or
    /// neither (a relay that accepts unauthenticated mail).
    pub username: Option<String>,
    /// The account's password; never shown in logs or errors.
    pub password: Option<SecretString>,
    /// The sender, `jit@example.com` or `jitgate <jit@example.com>`.
    pub from: String,
    /// A send (connecting and the whole SMTP conversation) fails after this long.
    pub timeout: Duration,
}

/// Sends plain-text mail through one relay. A new connection is made for every message.
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    timeout: Duration,
    /// Kept only to make sure it never shows in an error message.
    password: Option<SecretString>,
    relay: String,
}

impl std::fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpMailer")
            .field("relay", &self.relay)
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl SmtpMailer {
    /// A mailer for `c`. Fails on a sender that is not an address, on a user name without a
    /// password (or the reverse), and when TLS cannot be set up for the host.
    pub fn new(c: &SmtpConfig) -> Result<SmtpMailer, String> {
        let from: Mailbox = c
            .from
            .parse()
            .map_err(|e| format!("the SMTP sender {:?} is not an address: {e}", c.from))?;
        let host = c.host.trim();
        if host.is_empty() {
            return Err("the SMTP host is empty".into());
        }
        let tls = match c.security {
            SmtpSecurity::None => Tls::None,
            SmtpSecurity::StartTls | SmtpSecurity::Tls => {
                let params = TlsParameters::new(host.to_owned())
                    .map_err(|e| format!("TLS cannot be set up for SMTP host {host}: {e}"))?;
                if c.security == SmtpSecurity::Tls {
                    Tls::Wrapper(params)
                } else {
                    Tls::Required(params)
                }
            }
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(c.port)
            .tls(tls)
            .timeout(Some(c.timeout));
        match (&c.username, &c.password) {
            (Some(user), Some(password)) => {
                builder = builder.credentials(Credentials::new(
                    user.clone(),
                    password.expose_secret().to_owned(),
                ));
            }
            (None, None) => {}
            (Some(_), None) => return Err("the SMTP user name is set but not the password".into()),
            (None, Some(_)) => return Err("the SMTP password is set but not the user name".into()),
        }
        Ok(SmtpMailer {
            transport: builder.build(),
            from,
            timeout: c.timeout,
            password: c.password.clone(),
            relay: format!("{host}:{}", c.port),
        })
    }

    /// Sends one plain-text (UTF-8) message to every address in `to`, with a `Message-ID` in the
    /// sender's domain.
    ///
    /// One recipient is named in `To`. Several (the approvers of a request, say) are all put in
    /// `Bcc`, so that no one sees who else was told and a reply-all goes nowhere; the message then
    /// has no `To` header. The relay gets every address in one transaction: either all of them
    /// were accepted, or the send failed.
    pub async fn send(&self, to: &[String], subject: &str, body: &str) -> Result<(), ChannelError> {
        if to.is_empty() {
            return Err(ChannelError::permanent(
                "an e-mail needs at least one recipient",
            ));
        }
        let message_id = format!(
            "<{}@{}>",
            uuid::Uuid::new_v4().simple(),
            self.from.email.domain()
        );
        let mut builder = Message::builder()
            .from(self.from.clone())
            .message_id(Some(message_id))
            .subject(one_line(subject))
            .header(ContentType::TEXT_PLAIN);
        let several = to.len() > 1;
        for address in to {
            let mailbox: Mailbox = address.parse().map_err(|e| {
                ChannelError::permanent(format!("{address:?} is not an e-mail address: {e}"))
            })?;
            builder = if several {
                builder.bcc(mailbox)
            } else {
                builder.to(mailbox)
            };
        }
        let message = builder
            .body(body.to_owned())
            .map_err(|e| ChannelError::permanent(format!("the e-mail cannot be built: {e}")))?;
        let sending = self.transport.send(message);
        // lettre's own timeout only bounds connecting.
        match tokio::time::timeout(self.timeout, sending).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(self.classify(&e)),
            Err(_) => Err(ChannelError::transient(format!(
                "the SMTP server {} did not answer in time",
                self.relay
            ))),
        }
    }

    /// What a lettre error means for a retry, in words without the password.
    fn classify(&self, e: &lettre::transport::smtp::Error) -> ChannelError {
        let relay = &self.relay;
        let error = if e.is_permanent() {
            ChannelError::permanent(format!("the SMTP server {relay} refused the e-mail: {e}"))
        } else if e.is_transient() {
            ChannelError::transient(format!(
                "the SMTP server {relay} refused the e-mail for now: {e}"
            ))
        } else if e.is_timeout() {
            ChannelError::transient(format!("the SMTP server {relay} did not answer in time"))
        } else if e.is_tls() {
            // A certificate that is not trusted, or the wrong security for the port: no retry mends it.
            ChannelError::permanent(format!("TLS with the SMTP server {relay} failed: {e}"))
        } else if e.is_client() {
            ChannelError::permanent(format!("the e-mail cannot be sent through {relay}: {e}"))
        } else {
            // Connection refused or reset, a garbled answer, a closed transport.
            ChannelError::transient(format!("the SMTP server {relay} cannot be reached: {e}"))
        };
        self.without_password(error)
    }

    fn without_password(&self, mut error: ChannelError) -> ChannelError {
        if let Some(p) = &self.password {
            let p = p.expose_secret();
            if !p.is_empty() {
                error.message = error.message.replace(p, "[password]");
            }
        }
        error
    }
}

/// A subject on one line: line breaks and other control characters become spaces.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> SmtpConfig {
        SmtpConfig {
            host: "smtp.example.com".into(),
            port: 587,
            security: SmtpSecurity::StartTls,
            username: Some("jit@example.com".into()),
            password: Some(SecretString::from("pa55-w0rd")),
            from: "jitgate <jit@example.com>".into(),
            timeout: Duration::from_secs(10),
        }
    }

    #[test]
    fn configurations_are_checked() {
        SmtpMailer::new(&config()).unwrap();
        SmtpMailer::new(&SmtpConfig {
            security: SmtpSecurity::Tls,
            port: 465,
            ..config()
        })
        .unwrap();
        SmtpMailer::new(&SmtpConfig {
            security: SmtpSecurity::None,
            username: None,
            password: None,
            ..config()
        })
        .unwrap();

        let e = SmtpMailer::new(&SmtpConfig {
            from: "not an address".into(),
            ..config()
        })
        .unwrap_err();
        assert!(e.contains("sender"), "{e}");
        let e = SmtpMailer::new(&SmtpConfig {
            password: None,
            ..config()
        })
        .unwrap_err();
        assert!(e.contains("password"), "{e}");
        assert!(
            SmtpMailer::new(&SmtpConfig {
                username: None,
                ..config()
            })
            .is_err()
        );
        assert!(
            SmtpMailer::new(&SmtpConfig {
                host: " ".into(),
                ..config()
            })
            .is_err()
        );
    }

    #[test]
    fn debug_does_not_show_the_password() {
        let shown = format!("{:?} {:?}", config(), SmtpMailer::new(&config()).unwrap());
        assert!(!shown.contains("pa55-w0rd"), "{shown}");
    }

    #[tokio::test]
    async fn bad_recipients_are_refused_for_good() {
        let mailer = SmtpMailer::new(&config()).unwrap();
        let e = mailer.send(&[], "s", "b").await.unwrap_err();
        assert!(!e.retriable);
        let e = mailer
            .send(&["dana@example.com".into(), "nobody".into()], "s", "b")
            .await
            .unwrap_err();
        assert!(!e.retriable);
        assert!(e.message.contains("\"nobody\""), "{e}");
    }

    #[tokio::test]
    async fn an_unreachable_relay_is_retriable() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mailer = SmtpMailer::new(&SmtpConfig {
            host: "127.0.0.1".into(),
            port,
            security: SmtpSecurity::None,
            timeout: Duration::from_secs(5),
            ..config()
        })
        .unwrap();
        let e = mailer
            .send(&["dana@example.com".into()], "s", "b")
            .await
            .unwrap_err();
        assert!(e.retriable, "{e:?}");
        assert!(!e.message.contains("pa55-w0rd"), "{e}");
    }

    #[test]
    fn subjects_stay_on_one_line() {
        assert_eq!(one_line("a\r\nBcc: x@example.com"), "a  Bcc: x@example.com");
        assert_eq!(one_line("Zugriff für Dana – 2 h"), "Zugriff für Dana – 2 h");
    }
}
