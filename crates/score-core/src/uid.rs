//! Resource uids: `type.class#workload.name`, or `type.class#id` for shared resources.
//!
//! ```
//! use score_core::target::ResourceUid;
//! let u = ResourceUid::new("orders", "db", "postgres", None, None);
//! assert_eq!(u.as_str(), "postgres.default#orders.db");
//! assert_eq!((u.kind(), u.class(), u.id()), ("postgres", "default", "orders.db"));
//! let s = ResourceUid::new("orders", "db", "postgres", Some("large"), Some("shared-db"));
//! assert_eq!(s.as_str(), "postgres.large#shared-db");
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};

/// A resource's identity across the project.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ResourceUid(String);

impl ResourceUid {
    /// The uid of resource `res_name` of `workload`; class defaults to `default`.
    pub fn new(
        workload: &str,
        res_name: &str,
        kind: &str,
        class: Option<&str>,
        id: Option<&str>,
    ) -> Self {
        let class = class.unwrap_or("default");
        // Pushed piece by piece: uids are built for every reference, and `format!` costs
        // several times as much.
        let parts: &[&str] = match id {
            Some(id) => &[kind, ".", class, "#", id],
            None => &[kind, ".", class, "#", workload, ".", res_name],
        };
        Self(parts.concat())
    }

    /// Wraps an existing uid string (no check; type and class cannot hold `.` or `#`).
    pub fn from_string(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    /// The uid text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Resource type: before the first `.`.
    pub fn kind(&self) -> &str {
        self.0.split_once('.').map_or(self.0.as_str(), |(t, _)| t)
    }

    /// Class: between the first `.` and the first `#`.
    pub fn class(&self) -> &str {
        let after = self.0.split_once('.').map_or("", |(_, r)| r);
        after.split_once('#').map_or(after, |(c, _)| c)
    }

    /// Id: after the first `#`.
    pub fn id(&self) -> &str {
        self.0.split_once('#').map_or("", |(_, i)| i)
    }
}

/// Lets maps keyed by uid be searched with a `&str` (the derived order and hash are those of
/// the inner string, so they agree with `str`'s).
impl std::borrow::Borrow<str> for ResourceUid {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ResourceUid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
