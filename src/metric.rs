//! The distance metrics, their names and their stable numeric codes.

use crate::error::{Error, Result};
use std::fmt;
use std::str::FromStr;

/// How distance between two vectors is measured.
///
/// The numeric values are part of the file format and the C ABI: never renumber.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum Metric {
    /// `sqrt(2 - 2 cos(a, b))`; `sqrt(2)` when either vector is zero. Also named `cosine`.
    Angular = 0,
    /// L2 distance.
    Euclidean = 1,
    /// L1 distance.
    Manhattan = 2,
    /// Raw inner product; larger is nearer, results come sorted by descending product.
    Dot = 3,
    /// Number of differing bits; `dim` counts bits.
    Hamming = 4,
}

impl Metric {
    /// Every metric, in code order.
    pub const ALL: [Metric; 5] = [
        Metric::Angular,
        Metric::Euclidean,
        Metric::Manhattan,
        Metric::Dot,
        Metric::Hamming,
    ];

    /// The canonical name, as Annoy spells it.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Angular => "angular",
            Metric::Euclidean => "euclidean",
            Metric::Manhattan => "manhattan",
            Metric::Dot => "dot",
            Metric::Hamming => "hamming",
        }
    }

    /// The stable numeric code used in files and by the C ABI.
    pub fn code(self) -> u32 {
        self as u32
    }

    /// The metric with this code, or `None` for an unknown code.
    pub fn from_code(code: u32) -> Option<Metric> {
        Metric::ALL.get(code as usize).copied()
    }

    /// True when a larger score means nearer (results sort descending).
    pub fn larger_is_nearer(self) -> bool {
        self == Metric::Dot
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Metric {
    type Err = Error;

    /// Accepts Annoy's names (and its one-letter abbreviations) plus `cosine` for angular.
    fn from_str(s: &str) -> Result<Metric> {
        match s {
            "angular" | "cosine" | "a" => Ok(Metric::Angular),
            "euclidean" | "e" => Ok(Metric::Euclidean),
            "manhattan" | "m" => Ok(Metric::Manhattan),
            "dot" | "." => Ok(Metric::Dot),
            "hamming" | "h" => Ok(Metric::Hamming),
            _ => Err(Error::invalid_argument(format!(
                "unknown metric {s:?}; expected one of angular, cosine, euclidean, manhattan, dot, hamming"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_codes_round_trip() {
        for m in Metric::ALL {
            assert_eq!(m.name().parse::<Metric>().unwrap(), m);
            assert_eq!(Metric::from_code(m.code()), Some(m));
        }
        assert_eq!("cosine".parse::<Metric>().unwrap(), Metric::Angular);
        assert_eq!(Metric::from_code(5), None);
        assert!("cosinus".parse::<Metric>().is_err());
    }
}
