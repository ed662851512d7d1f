//! Opening shards from arbitrary bytes: the input is split into up to four files at each
//! `\xFF\xFFSHARD` marker; the first input byte's bit 0 repairs each file's checksums first,
//! and its bit 1 also exports the shards into one file (slower: a rebuild).
//! Every query kind runs on whatever opens.

const MARKER: &[u8] = b"\xFF\xFFSHARD";

/// Runs one input.
pub fn run(data: &[u8]) {
    let Some((&mode, mut rest)) = data.split_first() else {
        return;
    };
    let mut paths = Vec::new();
    while paths.len() < 4 {
        let cut = rest.windows(MARKER.len()).position(|w| w == MARKER);
        let (file, next) = match cut {
            Some(at) => (&rest[..at], &rest[at + MARKER.len()..]),
            None => (rest, &[][..]),
        };
        let mut file = file.to_vec();
        if mode & 1 == 1 {
            super::repair_checksums(&mut file);
        }
        paths.push(super::write_scratch(
            &format!("shard-{}", paths.len()),
            &file,
        ));
        rest = next;
        if cut.is_none() {
            break;
        }
    }
    if let Ok(index) = ann::Index::open_shards(&paths, false) {
        super::exercise(&index);
        if mode & 2 == 2 {
            let _ = index.export(super::scratch("shards-export"), 1);
        }
    }
}
