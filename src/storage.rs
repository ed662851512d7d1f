//! Where node bytes live: a heap buffer, a file being built on disk, or a read-only mapping.
//!
//! All three hand out the body (the nodes) as one byte slice, so search and build never care
//! which one they run on. The memory mappings are the only `unsafe` here.

use crate::error::{Error, Result};
use memmap2::{Mmap, MmapMut, MmapOptions};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

/// A growable, zero-filled, 8-byte-aligned byte buffer (nodes cast to f32/u64 need alignment).
#[derive(Default)]
pub(crate) struct HeapNodes {
    words: Vec<u64>,
    len: usize,
}

impl HeapNodes {
    pub fn bytes(&self) -> &[u8] {
        &bytemuck::cast_slice(&self.words)[..self.len]
    }

    pub fn bytes_mut(&mut self) -> &mut [u8] {
        &mut bytemuck::cast_slice_mut(&mut self.words)[..self.len]
    }

    /// Grows (zero-filling) or shrinks to `len` bytes. Growth is amortised by `Vec`.
    pub fn resize(&mut self, len: usize) -> Result<()> {
        let words = len.div_ceil(8);
        if words > self.words.len() {
            self.words
                .try_reserve(words - self.words.len())
                .map_err(|_| Error::out_of_memory("index nodes", len))?;
        }
        self.words.resize(words, 0);
        // Bytes past `len` in the last word may hold old data after a shrink: clear them, so a
        // later grow is zero-filled as promised.
        let tail = self.len.min(words * 8);
        if len < tail {
            bytemuck::cast_slice_mut::<u64, u8>(&mut self.words)[len..tail].fill(0);
        }
        self.len = len;
        Ok(())
    }

    /// Makes room for `additional` more bytes without growing again.
    pub fn reserve(&mut self, additional: usize) -> Result<()> {
        let want = (self.len + additional).div_ceil(8);
        if want > self.words.len() {
            self.words
                .try_reserve_exact(want - self.words.len())
                .map_err(|_| Error::out_of_memory("index nodes", additional))?;
        }
        Ok(())
    }
}

/// An index being built straight into a file: `header_len` reserved bytes, then the nodes.
///
/// The header stays zero (no magic) until [`DiskNodes::finish`], so a crash mid-build leaves a
/// file that every loader rejects instead of a half-written index that looks valid.
pub(crate) struct DiskNodes {
    file: File,
    path: PathBuf,
    map: MmapMut,
    header_len: usize,
    len: usize,
}

impl DiskNodes {
    pub fn create(path: &Path, header_len: usize) -> Result<DiskNodes> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .map_err(|e| Error::io(format!("cannot create {}", path.display()), e))?;
        let map = map_mut(&file, path, header_len + 4096)?;
        Ok(DiskNodes {
            file,
            path: path.to_path_buf(),
            map,
            header_len,
            len: 0,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn bytes(&self) -> &[u8] {
        &self.map[self.header_len..self.header_len + self.len]
    }

    pub fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.map[self.header_len..self.header_len + self.len]
    }

    /// Grows the file (zero-filled, by at least 30% to amortise remapping) or shrinks the body.
    pub fn resize(&mut self, len: usize) -> Result<()> {
        let needed = self.header_len + len;
        if needed > self.map.len() {
            let grown = needed.max(self.map.len() + self.map.len() * 3 / 10);
            self.map
                .flush_async()
                .map_err(|e| self.io_error("flush", e))?;
            self.map = map_mut(&self.file, &self.path, grown)?;
        } else if len < self.len {
            self.map[self.header_len + len..self.header_len + self.len].fill(0);
        }
        self.len = len;
        Ok(())
    }

    /// Makes the file durable and valid: body and `sections` (each written at its file offset,
    /// after the body) to disk, then the header, then the exact size. Returns the finished
    /// file, mapped read-only.
    pub fn finish(mut self, header: &[u8], sections: &[(usize, &[u8])]) -> Result<MappedFile> {
        let body_end = self.header_len + self.len;
        let end = sections
            .iter()
            .map(|(at, bytes)| at + bytes.len())
            .fold(body_end, usize::max);
        if end > self.map.len() {
            self.map
                .flush_async()
                .map_err(|e| self.io_error("flush", e))?;
            self.map = map_mut(&self.file, &self.path, end)?;
        }
        self.map[body_end..end].fill(0);
        for (at, bytes) in sections {
            self.map[*at..at + bytes.len()].copy_from_slice(bytes);
        }
        self.map.flush().map_err(|e| self.io_error("flush", e))?;
        self.map[..header.len()].copy_from_slice(header);
        self.map
            .flush_range(0, header.len())
            .map_err(|e| self.io_error("flush", e))?;
        drop(self.map);
        self.file
            .set_len(end as u64)
            .map_err(|e| Error::io(format!("cannot truncate {}", self.path.display()), e))?;
        self.file
            .sync_all()
            .map_err(|e| Error::io(format!("cannot sync {}", self.path.display()), e))?;
        MappedFile::open_file(self.file, &self.path, false, self.header_len, self.len)
    }

    fn io_error(&self, what: &str, e: std::io::Error) -> Error {
        Error::io(format!("cannot {what} {}", self.path.display()), e)
    }
}

fn map_mut(file: &File, path: &Path, len: usize) -> Result<MmapMut> {
    file.set_len(len as u64)
        .map_err(|e| Error::io(format!("cannot grow {} to {len} bytes", path.display()), e))?;
    // A grown file is sparse: on a full disk, storing into its mapping would kill the process
    // with SIGBUS. Reserving the blocks first turns a full disk into an error here.
    // SAFETY: posix_fallocate on an open file descriptor this function borrows.
    let reserved = unsafe { libc::posix_fallocate(file.as_raw_fd(), 0, len as libc::off_t) };
    if reserved != 0 {
        return Err(Error::io(
            format!(
                "cannot reserve {len} bytes for {} (is the disk full?)",
                path.display()
            ),
            std::io::Error::from_raw_os_error(reserved),
        ));
    }
    // SAFETY: the file was created and truncated by this process for its exclusive use during
    // the build, and its length was just set to `len`, so the whole mapping is backed by it.
    unsafe { MmapOptions::new().len(len).map_mut(file) }
        .map_err(|e| Error::io(format!("cannot map {}", path.display()), e))
}

/// A whole index file mapped read-only; the nodes are `body_len` bytes at `body_offset`.
pub(crate) struct MappedFile {
    map: Mmap,
    /// The file's length; differs from the map's for an empty file (mapped as one anonymous byte).
    file_len: usize,
    path: PathBuf,
    body_offset: usize,
    body_len: usize,
}

impl MappedFile {
    /// Maps `path` read-only; the caller then validates and sets the body range.
    pub fn open(path: &Path, prefault: bool) -> Result<MappedFile> {
        let file = File::open(path)
            .map_err(|e| Error::io(format!("cannot open {}", path.display()), e))?;
        MappedFile::open_file(file, path, prefault, 0, 0)
    }

    fn open_file(
        file: File,
        path: &Path,
        prefault: bool,
        body_offset: usize,
        body_len: usize,
    ) -> Result<MappedFile> {
        let len = file
            .metadata()
            .map_err(|e| Error::io(format!("cannot stat {}", path.display()), e))?
            .len();
        let len = usize::try_from(len).map_err(|_| {
            Error::invalid_argument(format!("{} is too large to map", path.display()))
        })?;
        let mut options = MmapOptions::new();
        options.len(len);
        if prefault {
            options.populate();
        }
        let map = if len == 0 {
            // Zero-length mappings are not allowed; an empty anonymous map stands in.
            MmapOptions::new()
                .len(1)
                .map_anon()
                .and_then(|m| m.make_read_only())
        } else {
            // SAFETY: the mapping is read-only and we never hand out references that outlive it.
            // Index files are replaced by rename, never rewritten in place, so the bytes do not
            // change under us; a file truncated by someone else is outside what mmap can guard.
            unsafe { options.map(&file) }
        }
        .map_err(|e| Error::io(format!("cannot map {}", path.display()), e))?;
        Ok(MappedFile {
            map,
            file_len: len,
            path: path.to_path_buf(),
            body_offset,
            body_len,
        })
    }

    /// Every byte of the file.
    pub fn file_bytes(&self) -> &[u8] {
        &self.map[..self.file_len]
    }

    pub fn set_body(&mut self, offset: usize, len: usize) {
        assert!(
            offset + len <= self.file_len,
            "body range checked by the caller"
        );
        self.body_offset = offset;
        self.body_len = len;
    }

    pub fn bytes(&self) -> &[u8] {
        &self.map[self.body_offset..self.body_offset + self.body_len]
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The nodes of an index, wherever they live.
pub(crate) enum Storage {
    Heap(HeapNodes),
    Disk(DiskNodes),
    Mapped(MappedFile),
}

impl Storage {
    pub fn bytes(&self) -> &[u8] {
        match self {
            Storage::Heap(h) => h.bytes(),
            Storage::Disk(d) => d.bytes(),
            Storage::Mapped(m) => m.bytes(),
        }
    }

    /// Mutable nodes, or `None` for a read-only mapping.
    pub fn bytes_mut(&mut self) -> Option<&mut [u8]> {
        match self {
            Storage::Heap(h) => Some(h.bytes_mut()),
            Storage::Disk(d) => Some(d.bytes_mut()),
            Storage::Mapped(_) => None,
        }
    }

    pub fn resize(&mut self, len: usize) -> Result<()> {
        match self {
            Storage::Heap(h) => h.resize(len),
            Storage::Disk(d) => d.resize(len),
            Storage::Mapped(_) => Err(Error::invalid_state("a loaded index is read-only")),
        }
    }

    pub fn reserve(&mut self, additional: usize) -> Result<()> {
        match self {
            Storage::Heap(h) => h.reserve(additional),
            _ => Ok(()),
        }
    }
}

/// Writes `chunks` to `path` atomically: a temporary file in the same directory, fsynced, then
/// renamed over `path`, then the directory fsynced. Readers that mapped the old file keep it.
pub(crate) fn write_atomically(path: &Path, chunks: &[&[u8]]) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| Error::invalid_argument(format!("{} is not a file path", path.display())))?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}-{}",
        name.to_string_lossy(),
        std::process::id(),
        unique_suffix()
    ));
    let result = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(|e| Error::io(format!("cannot create {}", tmp.display()), e))?;
        for chunk in chunks {
            file.write_all(chunk)
                .map_err(|e| Error::io(format!("cannot write {}", tmp.display()), e))?;
        }
        file.sync_all()
            .map_err(|e| Error::io(format!("cannot sync {}", tmp.display()), e))?;
        std::fs::rename(&tmp, path).map_err(|e| {
            Error::io(
                format!("cannot rename {} to {}", tmp.display(), path.display()),
                e,
            )
        })?;
        // Make the rename itself durable; not every file system supports syncing a directory.
        if let Ok(d) = File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn unique_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as u64)
        .unwrap_or(0);
    (nanos << 20) ^ COUNTER.fetch_add(1, Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heap_grows_zero_filled_after_shrink() {
        let mut h = HeapNodes::default();
        h.resize(13).unwrap();
        h.bytes_mut().fill(7);
        h.resize(5).unwrap();
        h.resize(13).unwrap();
        assert_eq!(&h.bytes()[..5], &[7; 5]);
        assert!(h.bytes()[5..].iter().all(|&b| b == 0));
    }
}
