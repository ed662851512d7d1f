//! The manifest of a live index directory: the small file that names everything live (the
//! segment files and the log of the current generation), replaced atomically by write, sync,
//! rename and directory sync, so a reader or a restarted writer sees one generation or the
//! next, never a mixture.
//!
//! It is text, one `name value` per line, ending with a checksum line:
//!
//! ```text
//! ann-live 1
//! metric angular
//! dim 384
//! n_trees 50
//! graph_degree 32
//! seed 1234567890987654321
//! generation 7
//! segment seg-000007.ann
//! log wal-000007.log
//! checksum 0123456789abcdef
//! ```
//!
//! The checksum is the xxh3 of every byte before its line. `segment` lines repeat (zero or
//! more); file names are plain names inside the directory. `graph_degree` is there only when
//! compaction builds a graph into the segments (a reader that predates it ignores the line).

use crate::error::{Error, Result};
use crate::graph::MAX_DEGREE;
use crate::metric::Metric;
use crate::storage::write_atomically;
use std::path::Path;
use xxhash_rust::xxh3::xxh3_64;

pub(crate) const FILE_NAME: &str = "MANIFEST";
const FORMAT: &str = "ann-live 1";
/// The largest generation a manifest may name: one per compaction, so 2^62 is never reached,
/// and the bound keeps the next generation's number from overflowing.
pub(crate) const MAX_GENERATION: u64 = 1 << 62;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Manifest {
    pub metric: Metric,
    pub dim: usize,
    /// Trees of the segments compaction builds.
    pub n_trees: i32,
    /// The degree of the graph compaction builds into segments, if it builds one.
    pub graph_degree: Option<usize>,
    pub seed: u64,
    pub generation: u64,
    pub segments: Vec<String>,
    pub log: String,
}

impl Manifest {
    pub fn encode(&self) -> String {
        let mut text = format!(
            "{FORMAT}\nmetric {}\ndim {}\nn_trees {}\n",
            self.metric, self.dim, self.n_trees
        );
        if let Some(degree) = self.graph_degree {
            text.push_str(&format!("graph_degree {degree}\n"));
        }
        text.push_str(&format!(
            "seed {}\ngeneration {}\n",
            self.seed, self.generation
        ));
        for s in &self.segments {
            text.push_str(&format!("segment {s}\n"));
        }
        text.push_str(&format!("log {}\n", self.log));
        let sum = xxh3_64(text.as_bytes());
        text.push_str(&format!("checksum {sum:016x}\n"));
        text
    }

    pub fn decode(text: &[u8], path: &Path) -> Result<Manifest> {
        let bad = |what: String| {
            Error::corrupt(format!(
                "the manifest {} is corrupt: {what}",
                path.display()
            ))
        };
        let text = std::str::from_utf8(text).map_err(|_| bad("it is not text".into()))?;
        let body_end = text
            .rfind("checksum ")
            .ok_or_else(|| bad("it has no checksum line (truncated?)".into()))?;
        let sum = text[body_end + 9..].trim();
        if u64::from_str_radix(sum, 16).ok() != Some(xxh3_64(&text.as_bytes()[..body_end])) {
            return Err(bad("its checksum does not match".into()));
        }
        let mut lines = text[..body_end].lines();
        if lines.next() != Some(FORMAT) {
            return Err(bad(format!(
                "it is not a version this library reads ({FORMAT})"
            )));
        }
        let (mut metric, mut dim, mut n_trees, mut seed, mut generation, mut log) =
            (None, None, None, None, None, None);
        let mut graph_degree = None;
        let mut segments = Vec::new();
        for line in lines {
            let (name, value) = line
                .split_once(' ')
                .ok_or_else(|| bad(format!("line {line:?}")))?;
            let number = || {
                value
                    .parse::<u64>()
                    .map_err(|_| bad(format!("{name} {value:?}")))
            };
            match name {
                "metric" => {
                    metric = Some(
                        value
                            .parse::<Metric>()
                            .map_err(|_| bad(format!("metric {value:?}")))?,
                    )
                }
                "dim" => dim = Some(number()? as usize),
                "n_trees" => {
                    n_trees = Some(
                        value
                            .parse::<i32>()
                            .map_err(|_| bad(format!("n_trees {value:?}")))?,
                    )
                }
                "graph_degree" => match number()? {
                    d if (1..=MAX_DEGREE as u64).contains(&d) => graph_degree = Some(d as usize),
                    _ => return Err(bad(format!("graph_degree {value:?}"))),
                },
                "seed" => seed = Some(number()?),
                // Bounded like LSNs (`log::MAX_LSN`), so a compaction's `+ 1` cannot overflow.
                "generation" => match number()? {
                    g if g <= MAX_GENERATION => generation = Some(g),
                    _ => return Err(bad(format!("generation {value:?} is out of range"))),
                },
                "segment" => segments
                    .push(plain_name(value).ok_or_else(|| bad(format!("segment {value:?}")))?),
                "log" => {
                    log = Some(plain_name(value).ok_or_else(|| bad(format!("log {value:?}")))?)
                }
                _ => {} // a later version's field: ignored
            }
        }
        let missing = |what: &str| bad(format!("it has no {what}"));
        Ok(Manifest {
            metric: metric.ok_or_else(|| missing("metric"))?,
            dim: dim.ok_or_else(|| missing("dim"))?,
            n_trees: n_trees.ok_or_else(|| missing("n_trees"))?,
            graph_degree,
            seed: seed.ok_or_else(|| missing("seed"))?,
            generation: generation.ok_or_else(|| missing("generation"))?,
            segments,
            log: log.ok_or_else(|| missing("log"))?,
        })
    }

    /// Reads the manifest of `dir`, or `None` when the directory has none yet.
    pub fn read(dir: &Path) -> Result<Option<Manifest>> {
        let path = dir.join(FILE_NAME);
        match std::fs::read(&path) {
            Ok(bytes) => Manifest::decode(&bytes, &path).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(format!("cannot read {}", path.display()), e)),
        }
    }

    /// Replaces the manifest of `dir` atomically (and durably).
    pub fn write(&self, dir: &Path) -> Result<()> {
        write_atomically(&dir.join(FILE_NAME), &[self.encode().as_bytes()])
    }
}

/// A file name with no directory part, as the manifest may name.
fn plain_name(name: &str) -> Option<String> {
    let ok = !name.is_empty() && !name.contains(['/', '\\', '\0']) && name != "." && name != "..";
    ok.then(|| name.to_string())
}

/// The name of generation `g`'s segment file.
pub(crate) fn segment_name(generation: u64) -> String {
    format!("seg-{generation:06}.ann")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_round_trip_and_damage_is_refused() {
        let m = Manifest {
            metric: Metric::Euclidean,
            dim: 7,
            n_trees: 12,
            graph_degree: None,
            seed: 99,
            generation: 3,
            segments: vec![segment_name(3)],
            log: "wal-000003.log".into(),
        };
        let text = m.encode();
        let path = Path::new("MANIFEST");
        assert_eq!(Manifest::decode(text.as_bytes(), path).unwrap(), m);
        for cut in [0, 10, text.len() - 5] {
            assert!(
                Manifest::decode(&text.as_bytes()[..cut], path).is_err(),
                "cut at {cut}"
            );
        }
        let with_graph = Manifest {
            graph_degree: Some(24),
            ..m.clone()
        };
        let text_with_graph = with_graph.encode();
        assert!(text_with_graph.contains("\ngraph_degree 24\n"));
        assert_eq!(
            Manifest::decode(text_with_graph.as_bytes(), path).unwrap(),
            with_graph
        );
        let tampered = text.replace("dim 7", "dim 8");
        assert!(Manifest::decode(tampered.as_bytes(), path).is_err());
        let escape = Manifest {
            log: "../x".into(),
            ..m.clone()
        }
        .encode();
        assert!(Manifest::decode(escape.as_bytes(), path).is_err());
    }
}
