//! Workspace member roles and what each may do: a member's token or cookie
//! holds at most its role's scopes, so a read-only member cannot write
//! whatever its token says.

use crate::core::scopes;

/// A member's role in a workspace.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads everything, changes nothing.
    ReadOnly,
    /// Reads and writes resources (the `write` preset), no administration.
    Member,
    /// Everything, members and settings included, except owners.
    Admin,
    /// Everything; the only role that can make or unmake owners.
    Owner,
}

impl Role {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ReadOnly => "read_only",
            Self::Member => "member",
            Self::Admin => "admin",
            Self::Owner => "owner",
        }
    }

    /// Parses a stored or wire name.
    pub fn parse(name: &str) -> Option<Self> {
        [Self::ReadOnly, Self::Member, Self::Admin, Self::Owner]
            .into_iter()
            .find(|r| r.as_str() == name)
    }

    /// The scopes the role allows: `read`, `write` or `full`
    /// ([`scopes::preset`]).
    pub fn scopes(self) -> Vec<String> {
        let preset = match self {
            Self::ReadOnly => "read",
            Self::Member => "write",
            Self::Admin | Self::Owner => "full",
        };
        scopes::preset(preset).unwrap_or_default()
    }

    /// `held` narrowed to what the role allows.
    pub fn narrow(self, held: &[String]) -> Vec<String> {
        let allowed = self.scopes();
        held.iter()
            .filter(|s| allowed.contains(s))
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_narrow_scopes() {
        let full = scopes::preset("full").unwrap();
        let read_only = Role::ReadOnly.narrow(&full);
        assert!(read_only.iter().all(|s| s.ends_with(".read")));
        assert!(!Role::Member
            .narrow(&full)
            .contains(&"workspaces.admin".to_string()));
        assert_eq!(Role::Owner.narrow(&full), full);
        assert_eq!(Role::parse("read_only"), Some(Role::ReadOnly));
        assert_eq!(Role::parse("root"), None);
    }
}
