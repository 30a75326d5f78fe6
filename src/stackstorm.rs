//! The StackStorm release lines st2k8s knows and where a release's line was read from: plain
//! data, apart from the render, so that the render context can keep the release's version
//! (worked out once per render by `render::st2::version`) without depending on its builders.

/// A StackStorm release line st2k8s knows the configuration of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V3_8,
    V3_9,
}

impl Version {
    /// The chart's version (its appVersion), used unless the values say otherwise.
    pub const DEFAULT: Version = Version::V3_8;
    pub(crate) const ALL: [Version; 2] = [Version::V3_8, Version::V3_9];

    /// `3.8`, `3.9`.
    pub fn as_str(self) -> &'static str {
        match self {
            Version::V3_8 => "3.8",
            Version::V3_9 => "3.9",
        }
    }

    /// Position in per-version tables (`conf_check::options`).
    pub fn index(self) -> usize {
        self as usize
    }

    /// The other known version (for "only in 3.9" messages).
    pub fn other(self) -> Version {
        match self {
            Version::V3_8 => Version::V3_9,
            Version::V3_9 => Version::V3_8,
        }
    }

    pub(crate) fn from_major_minor(major: u32, minor: u32) -> Option<Version> {
        Version::ALL
            .into_iter()
            .find(|v| v.as_str() == format!("{major}.{minor}"))
    }

    /// Highest MongoDB major version this StackStorm release supports.
    pub(crate) fn max_mongodb(self) -> u32 {
        match self {
            Version::V3_8 => 4,
            Version::V3_9 => 7,
        }
    }
}

/// Where the release's version came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `st2.version`.
    Stated,
    /// The evaluated `image.tag`, which names this version.
    Tag(String),
    /// Nothing said which (the reason, for the warning); the default applies.
    Unknown(String),
}
