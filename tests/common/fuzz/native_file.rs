//! The native loader on arbitrary bytes, then `verify` and every query kind on whatever
//! loads. The first input byte is the mode: bit 0 repairs the file's checksums first (so
//! mutations reach the parsers behind the header check), bit 1 prefaults the mapping.

/// Runs one input.
pub fn run(data: &[u8]) {
    let Some((&mode, file)) = data.split_first() else {
        return;
    };
    let mut file = file.to_vec();
    if mode & 1 == 1 {
        super::repair_checksums(&mut file);
    }
    let path = super::write_scratch("native", &file);
    if let Ok(index) = ann::Index::load(&path, mode & 2 == 2) {
        super::exercise(&index);
    }
    let _ = ann::file_info(&path);
    let _ = ann::Index::open(&path, false).map(|index| index.refresh());
}
