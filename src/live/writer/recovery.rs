//! What opening a directory for writing repairs or creates: a torn log tail, the first
//! generation of a new directory, and files no generation names.

use super::{log_name, WriterOptions};
use crate::error::{Error, Result};
use crate::live::log::{self, LogHeader};
use crate::live::manifest::Manifest;
use std::fs::File;
use std::io::{Seek, SeekFrom};
use std::path::Path;

/// Bytes after the last intact record are a torn write (cut) only if they are the last
/// record, incomplete; a damaged record with more after it is damage to acknowledged writes,
/// which is refused rather than cut away.
pub(super) fn check_tail_is_torn(file: &mut File, path: &Path, end: u64, len: u64) -> Result<()> {
    use std::io::Read;
    if len - end < 8 {
        return Ok(());
    }
    let mut frame = [0u8; 4];
    file.seek(SeekFrom::Start(end))
        .and_then(|_| file.read_exact(&mut frame))
        .map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
    let record_end = end + 8 + u64::from(u32::from_le_bytes(frame));
    if record_end < len {
        return Err(Error::corrupt(format!(
            "the log {} is damaged at byte {end}: a record there fails its checksum and {} bytes follow it; restore the directory from a copy, or remove that log to give up the writes it holds",
            path.display(),
            len - record_end
        )));
    }
    Ok(())
}

/// A new directory's first generation: no segment, an empty log, a manifest naming it.
pub(super) fn create_generation_zero(dir: &Path, options: &WriterOptions) -> Result<Manifest> {
    let header = LogHeader {
        metric: options.metric,
        dim: options.dim,
        generation: 0,
        first_lsn: 1,
    };
    let log_path = log::path_for(dir, 0);
    log::create(&log_path, &header)?;
    let manifest = Manifest {
        metric: options.metric,
        dim: options.dim,
        n_trees: options.n_trees,
        graph_degree: options.graph_degree,
        seed: options.seed,
        generation: 0,
        segments: Vec::new(),
        log: log_name(0),
    };
    manifest.write(dir)?;
    Ok(manifest)
}

/// Removes segment, log and temporary files the manifest does not name: the remains of a
/// compaction that crashed before it published, or old files a crash kept from being removed.
pub(super) fn remove_unnamed_files(dir: &Path, manifest: &Manifest) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let ours = (name.starts_with("seg-") && name.ends_with(".ann"))
            || (name.starts_with("wal-") && name.ends_with(".log"))
            || name.contains(".tmp-");
        let named = manifest.segments.contains(&name) || manifest.log == name;
        if ours && !named {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}
