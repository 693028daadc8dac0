//! The dev mailbox: the sign-in emails the server "sends", kept in memory so
//! dev and test mode can read them (`GET /dev/mailbox`).

use std::collections::VecDeque;
use std::sync::Mutex;

/// Messages the mailbox keeps before dropping the oldest.
const MAILBOX_CAP: usize = 1000;

/// One "sent" email.
#[derive(Debug, Clone)]
pub struct Mail {
    /// Recipient, lowercase.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// The sign-in code it carries.
    pub code: String,
    /// UNIX seconds.
    pub sent_at: i64,
}

/// The dev mailbox: emails kept in memory, newest last, bounded.
#[derive(Debug, Default)]
pub struct Mailbox(Mutex<VecDeque<Mail>>);

impl Mailbox {
    /// Keeps `mail`, dropping the oldest beyond the cap.
    pub fn deliver(&self, mail: Mail) {
        if let Ok(mut box_) = self.0.lock() {
            if box_.len() >= MAILBOX_CAP {
                box_.pop_front();
            }
            box_.push_back(mail);
        }
    }

    /// Messages newest first, optionally only those to `to`.
    pub fn list(&self, to: Option<&str>) -> Vec<Mail> {
        let Ok(box_) = self.0.lock() else {
            return Vec::new();
        };
        box_.iter()
            .rev()
            .filter(|m| to.is_none_or(|t| m.to == t))
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mailbox_is_newest_first_and_filters() {
        let m = Mailbox::default();
        for (to, at) in [("a@x.io", 1), ("b@x.io", 2), ("a@x.io", 3)] {
            m.deliver(Mail {
                to: to.into(),
                subject: String::new(),
                code: at.to_string(),
                sent_at: at,
            });
        }
        let all = m.list(None);
        assert_eq!(all.iter().map(|m| m.sent_at).collect::<Vec<_>>(), [3, 2, 1]);
        assert_eq!(m.list(Some("a@x.io")).len(), 2);
    }
}
