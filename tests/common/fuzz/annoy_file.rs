//! The header-less Annoy loader on arbitrary bytes, then `verify` and every query kind on
//! whatever loads. The first byte picks the metric, the next two the dimension (1 to 256):
//! an Annoy file does not say them, so the caller's claim is input too.

use super::METRICS;

/// Runs one input.
pub fn run(data: &[u8]) {
    if data.len() < 3 {
        return;
    }
    let metric = METRICS[data[0] as usize % METRICS.len()];
    let dim = 1 + usize::from(u16::from_le_bytes([data[1], data[2]])) % 256;
    let path = super::write_scratch("annoy", &data[3..]);
    if let Ok(index) = ann::Index::load_annoy(&path, dim, metric, false) {
        super::exercise(&index);
    }
    let _ = ann::file_info(&path);
}
