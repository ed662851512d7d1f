//! The end-to-end benchmark: build an index, save it, memory-map it back, and measure recall
//! and queries per second at several `search_k` values.
//!
//! ```text
//! cargo run --release --example bench                      # real data, angular, defaults
//! cargo run --release --example bench -- --limit 20000 --metric euclidean
//! cargo run --release --example bench -- --help            # every option
//! ```
//!
//! Data: `../shared/data/dev/{base,query}.npy` (100,000 + 1,000 sentence embeddings, 384-d,
//! float16; see `../shared/README.md`), or another directory given with `--data DIR`. The exact
//! neighbours come from `gt_{metric}_ids.npy` when that file exists and the whole base set is
//! used; otherwise (with `--limit`, or for manhattan) they are computed here by brute force. When
//! the default data directory is absent (a fresh clone), the benchmark falls back to 100,000
//! seeded Gaussian vectors of dimension 128 and 1,000 queries, with brute-force ground truth.
//!
//! Steps and what they print:
//! 1. add the base vectors and build the forest (time, number of trees);
//! 2. save it (time, file size) and load it with `Index::load` (an mmap: milliseconds);
//! 3. one example query, so you can see what a query returns;
//! 4. for each `search_k`: recall@n against the exact neighbours and QPS, single-threaded and
//!    with every core querying the one loaded index at once;
//! 5. peak resident memory (Linux).

use ann::{Index, Metric, Neighbor};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use std::error::Error;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

type BoxResult<T> = Result<T, Box<dyn Error>>;

const USAGE: &str = "\
Build, save, load and query an ann index; report recall and queries per second.

Usage: cargo run --release --example bench -- [OPTIONS]

Options:
  --data DIR          directory with base.npy, query.npy and gt_{metric}_ids.npy
                      [default: ../shared/data/dev; synthetic data if that is absent]
  --metric NAME       angular | euclidean | dot | manhattan            [default: angular]
  --trees N           number of trees; -1 = automatic                  [default: 50]
  --threads N         build threads; -1 = all cores                    [default: -1]
  --search-k LIST     candidates to collect per query; -1 = library default (n * trees).
                      Comma-separated and/or repeated  [default: -1,2000,5000,20000,50000]
  --n N               neighbours per query (recall@N)                  [default: 10]
  --limit N           index only the first N base vectors (ground truth by brute force)
  --seed N            build seed                                       [default: Annoy's]
  --out PATH          index file to write (kept)    [default: a temp file, removed at exit]
  -h, --help          print this help
";

const DEFAULT_SEARCH_KS: [Option<usize>; 5] =
    [None, Some(2000), Some(5000), Some(20000), Some(50000)];

/// Synthetic fallback: sizes and seed.
const SYNTHETIC_BASE: usize = 100_000;
const SYNTHETIC_QUERIES: usize = 1_000;
const SYNTHETIC_DIM: usize = 128;
const SYNTHETIC_SEED: u64 = 42;

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> BoxResult<()> {
    let Some(args) = Args::parse(std::env::args().skip(1))? else {
        print!("{USAGE}");
        return Ok(());
    };
    let data = Dataset::load(&args)?;
    data.describe(&args);

    let index_file = IndexFile::new(args.out.clone());
    build_and_save(&data, &args, index_file.path())?;

    let started = Instant::now();
    let index = Index::load(index_file.path(), false)
        .map_err(|e| format!("cannot load {}: {e}", index_file.path().display()))?;
    println!(
        "load:   {} (memory-mapped, {} items, {} trees)",
        fmt_duration(started.elapsed()),
        index.n_items(),
        index.n_trees()
    );

    show_example_query(&index, &data, args.n)?;
    run_benchmark(&index, &data, &args)?;

    match peak_rss_bytes() {
        Some(bytes) => println!("\npeak RSS: {}", fmt_bytes(bytes)),
        None => println!("\npeak RSS: not available on this platform"),
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Command line

/// The parsed command line.
struct Args {
    /// `Some` when `--data` was given: then missing files are an error, not a fallback.
    data_dir: Option<PathBuf>,
    metric: Metric,
    trees: i32,
    threads: i32,
    /// `None` is the library's default, `n * n_trees`.
    search_ks: Vec<Option<usize>>,
    n: usize,
    limit: Option<usize>,
    seed: u64,
    out: Option<PathBuf>,
}

impl Args {
    /// Parses the options; `Ok(None)` means help was asked for.
    fn parse(mut argv: impl Iterator<Item = String>) -> BoxResult<Option<Args>> {
        let mut args = Args {
            data_dir: None,
            metric: Metric::Angular,
            trees: 50,
            threads: -1,
            search_ks: Vec::new(),
            n: 10,
            limit: None,
            seed: ann::DEFAULT_SEED,
            out: None,
        };
        while let Some(arg) = argv.next() {
            // Accept both `--name value` and `--name=value`.
            let (name, inline) = match arg.split_once('=') {
                Some((name, value)) if name.starts_with("--") => (name, Some(value.to_string())),
                _ => (arg.as_str(), None),
            };
            if name == "-h" || name == "--help" {
                return Ok(None);
            }
            let value = match inline {
                Some(v) => v,
                None => argv
                    .next()
                    .ok_or_else(|| format!("{name} needs a value (see --help)"))?,
            };
            match name {
                "--data" => args.data_dir = Some(PathBuf::from(value)),
                "--metric" => args.metric = parse_metric(&value)?,
                "--trees" => args.trees = parse_count(name, &value)?,
                "--threads" => args.threads = parse_count(name, &value)?,
                "--search-k" => {
                    for item in value.split(',').filter(|s| !s.trim().is_empty()) {
                        args.search_ks.push(parse_search_k(item.trim())?);
                    }
                }
                "--n" => args.n = parse_positive(name, &value)?,
                "--limit" => args.limit = Some(parse_positive(name, &value)?),
                "--seed" => {
                    args.seed = value
                        .parse()
                        .map_err(|_| format!("--seed expects an unsigned integer, got {value:?}"))?
                }
                "--out" => args.out = Some(PathBuf::from(value)),
                _ => return Err(format!("unknown option {name:?} (see --help)").into()),
            }
        }
        if args.search_ks.is_empty() {
            args.search_ks = DEFAULT_SEARCH_KS.to_vec();
        }
        Ok(Some(args))
    }
}

fn parse_metric(value: &str) -> BoxResult<Metric> {
    let metric: Metric = value.parse()?;
    if metric == Metric::Hamming {
        return Err("--metric hamming is not supported by this benchmark (float data)".into());
    }
    Ok(metric)
}

/// A count where -1 means "automatic" (trees, threads).
fn parse_count(name: &str, value: &str) -> BoxResult<i32> {
    match value.parse::<i32>() {
        Ok(n) if n == -1 || n >= 1 => Ok(n),
        _ => Err(format!("{name} expects -1 or a positive integer, got {value:?}").into()),
    }
}

fn parse_positive(name: &str, value: &str) -> BoxResult<usize> {
    match value.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("{name} expects a positive integer, got {value:?}").into()),
    }
}

fn parse_search_k(value: &str) -> BoxResult<Option<usize>> {
    if value == "-1" {
        return Ok(None);
    }
    value.parse::<usize>().map(Some).map_err(|_| {
        format!("--search-k expects -1 or a non-negative integer, got {value:?}").into()
    })
}

// ---------------------------------------------------------------------------------------------
// Data

/// A row-major matrix of f32 vectors.
struct Matrix {
    rows: usize,
    cols: usize,
    data: Vec<f32>,
}

impl Matrix {
    fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.cols..(i + 1) * self.cols]
    }

    fn truncate_rows(&mut self, rows: usize) {
        self.rows = self.rows.min(rows);
        self.data.truncate(self.rows * self.cols);
    }
}

/// Base vectors, queries, and each query's exact nearest neighbours (nearest first).
struct Dataset {
    source: String,
    base: Matrix,
    queries: Matrix,
    truth: Vec<Vec<u32>>,
    truth_source: String,
}

impl Dataset {
    fn load(args: &Args) -> BoxResult<Dataset> {
        let default_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/dev");
        let dir = args.data_dir.clone().unwrap_or(default_dir);
        let have_files = dir.join("base.npy").is_file() && dir.join("query.npy").is_file();
        if !have_files && args.data_dir.is_some() {
            return Err(format!("{} has no base.npy and query.npy", dir.display()).into());
        }
        let (source, mut base, queries) = if have_files {
            let base = read_npy(&dir.join("base.npy"))?.into_matrix()?;
            let queries = read_npy(&dir.join("query.npy"))?.into_matrix()?;
            if base.cols != queries.cols {
                return Err(format!(
                    "base vectors have {} dimensions but queries have {}",
                    base.cols, queries.cols
                )
                .into());
            }
            (dir.display().to_string(), base, queries)
        } else {
            let (base, queries) = synthetic();
            let source = format!(
                "synthetic Gaussian, seed {SYNTHETIC_SEED} ({} not found)",
                dir.display()
            );
            (source, base, queries)
        };

        let full_rows = base.rows;
        if let Some(limit) = args.limit {
            base.truncate_rows(limit);
        }
        let gt_file = dir.join(format!("gt_{}_ids.npy", args.metric.name()));
        let truth_from_file = if have_files && base.rows == full_rows && gt_file.is_file() {
            read_truth(&gt_file, queries.rows, args.n)?
        } else {
            None
        };
        let (truth, truth_source) = match truth_from_file {
            Some(truth) => (truth, gt_file.display().to_string()),
            None => {
                let started = Instant::now();
                let truth = exact_neighbours(&base, &queries, args.metric, args.n);
                let how = format!("brute force, {}", fmt_duration(started.elapsed()));
                (truth, how)
            }
        };
        Ok(Dataset {
            source,
            base,
            queries,
            truth,
            truth_source,
        })
    }

    fn describe(&self, args: &Args) {
        println!("data:   {}", self.source);
        println!(
            "        {} base vectors, {} queries, dim {}, metric {}",
            self.base.rows, self.queries.rows, self.base.cols, args.metric
        );
        println!("truth:  {}", self.truth_source);
    }
}

/// Reads a ground-truth id file; `None` (brute force instead) when it does not cover
/// `queries` rows of at least `n` neighbours.
fn read_truth(path: &Path, queries: usize, n: usize) -> BoxResult<Option<Vec<Vec<u32>>>> {
    let npy = read_npy(path)?;
    let [rows, cols] = npy.shape[..] else {
        return Err(format!(
            "{}: expected a 2-d array, got shape {:?}",
            path.display(),
            npy.shape
        )
        .into());
    };
    let NpyData::I32(ids) = npy.data else {
        return Err(format!("{}: expected int32 ids", path.display()).into());
    };
    if rows != queries || cols < n {
        return Ok(None);
    }
    let truth = ids
        .chunks_exact(cols)
        .map(|row| row[..n].iter().map(|&id| id as u32).collect())
        .collect();
    Ok(Some(truth))
}

/// Seeded standard-normal base vectors and queries (Box-Muller on a ChaCha stream).
fn synthetic() -> (Matrix, Matrix) {
    let mut rng = ChaCha8Rng::seed_from_u64(SYNTHETIC_SEED);
    let mut gaussian = |rows: usize| {
        let data = (0..rows * SYNTHETIC_DIM)
            .map(|_| {
                let u: f64 = 1.0 - rng.random::<f64>(); // (0, 1]: ln is finite
                let v: f64 = rng.random();
                ((-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()) as f32
            })
            .collect();
        Matrix {
            rows,
            cols: SYNTHETIC_DIM,
            data,
        }
    };
    let base = gaussian(SYNTHETIC_BASE);
    let queries = gaussian(SYNTHETIC_QUERIES);
    (base, queries)
}

// ---------------------------------------------------------------------------------------------
// NumPy .npy files (format versions 1-3, little-endian, C order)

enum NpyData {
    /// IEEE half-precision bit patterns.
    F16(Vec<u16>),
    F32(Vec<f32>),
    I32(Vec<i32>),
}

struct Npy {
    shape: Vec<usize>,
    data: NpyData,
}

impl Npy {
    /// A 2-d float array as an f32 matrix.
    fn into_matrix(self) -> BoxResult<Matrix> {
        let [rows, cols] = self.shape[..] else {
            return Err(format!("expected a 2-d array, got shape {:?}", self.shape).into());
        };
        let data = match self.data {
            NpyData::F16(bits) => bits.into_iter().map(f16_to_f32).collect(),
            NpyData::F32(values) => values,
            NpyData::I32(_) => return Err("expected float vectors, got int32".into()),
        };
        Ok(Matrix { rows, cols, data })
    }
}

fn read_npy(path: &Path) -> BoxResult<Npy> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    parse_npy(&bytes).map_err(|e| format!("{}: {e}", path.display()).into())
}

fn parse_npy(bytes: &[u8]) -> Result<Npy, String> {
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err("not a .npy file (bad magic)".into());
    }
    let (header_len, header_start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => {
            let len = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
            (len as usize, 12)
        }
        v => return Err(format!("unsupported .npy format version {v}")),
    };
    let body_start = header_start + header_len;
    let header = bytes
        .get(header_start..body_start)
        .ok_or("file ends inside the header")?;
    let header = std::str::from_utf8(header).map_err(|_| "header is not text")?;
    let (descr, shape) = parse_npy_header(header)?;
    let count: usize = shape.iter().product();
    let body = &bytes[body_start..];
    let item_size = match descr.as_str() {
        "<f2" => 2,
        "<f4" | "<i4" => 4,
        other => {
            return Err(format!(
                "unsupported dtype {other:?} (expected <f2, <f4 or <i4)"
            ))
        }
    };
    if body.len() != count * item_size {
        return Err(format!(
            "shape {shape:?} needs {} data bytes, the file has {}",
            count * item_size,
            body.len()
        ));
    }
    let data = match item_size {
        2 => NpyData::F16(
            body.chunks_exact(2)
                .map(|b| u16::from_le_bytes([b[0], b[1]]))
                .collect(),
        ),
        _ => {
            let words = body.chunks_exact(4).map(|b| [b[0], b[1], b[2], b[3]]);
            if descr == "<f4" {
                NpyData::F32(words.map(f32::from_le_bytes).collect())
            } else {
                NpyData::I32(words.map(i32::from_le_bytes).collect())
            }
        }
    };
    Ok(Npy { shape, data })
}

/// Parses the header dict, e.g. `{'descr': '<f2', 'fortran_order': False, 'shape': (100000, 384), }`,
/// into the dtype and the shape. Fortran order is rejected.
fn parse_npy_header(header: &str) -> Result<(String, Vec<usize>), String> {
    let descr = header_value(header, "descr")?;
    let quote = descr.chars().next().filter(|c| *c == '\'' || *c == '"');
    let descr = quote
        .and_then(|q| descr[1..].split(q).next())
        .ok_or("the descr value is not a quoted string")?
        .to_string();

    let fortran = header_value(header, "fortran_order")?;
    if fortran.starts_with("True") {
        return Err("Fortran-order arrays are not supported".into());
    } else if !fortran.starts_with("False") {
        return Err("fortran_order is neither True nor False".into());
    }

    let shape = header_value(header, "shape")?;
    let inner = shape
        .strip_prefix('(')
        .and_then(|s| s.split(')').next())
        .ok_or("the shape value is not a tuple")?;
    let shape = inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<usize>()
                .map_err(|_| format!("bad shape entry {s:?}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((descr, shape))
}

/// The text following `'key':` in the header dict, leading spaces removed.
fn header_value<'a>(header: &'a str, key: &str) -> Result<&'a str, String> {
    let at = header
        .find(&format!("'{key}'"))
        .or_else(|| header.find(&format!("\"{key}\"")))
        .ok_or_else(|| format!("header has no {key:?} entry"))?;
    let rest = header[at + key.len() + 2..].trim_start();
    let rest = rest
        .strip_prefix(':')
        .ok_or_else(|| format!("no ':' after {key:?}"))?;
    Ok(rest.trim_start())
}

/// IEEE 754 half to single precision, by hand (no `half` dependency): every half value,
/// including subnormals, infinities and NaN, is exactly representable as an f32.
fn f16_to_f32(h: u16) -> f32 {
    let negative = h & 0x8000 != 0;
    let exponent = u32::from((h >> 10) & 0x1f);
    let mantissa = u32::from(h & 0x3ff);
    let sign = if negative { 0x8000_0000 } else { 0 };
    match exponent {
        // Zero and subnormals: mantissa * 2^-24, exact in f32.
        0 => {
            let magnitude = mantissa as f32 * (1.0 / 16_777_216.0);
            if negative {
                -magnitude
            } else {
                magnitude
            }
        }
        // Infinity (mantissa 0) or NaN (payload kept in the top mantissa bits).
        0x1f => f32::from_bits(sign | 0x7f80_0000 | (mantissa << 13)),
        // Normal: rebias the exponent from 15 to 127.
        _ => f32::from_bits(sign | ((exponent + 127 - 15) << 23) | (mantissa << 13)),
    }
}

// ---------------------------------------------------------------------------------------------
// Exact neighbours (brute force, f64 accumulation, ties to the smaller id)

fn exact_neighbours(base: &Matrix, queries: &Matrix, metric: Metric, k: usize) -> Vec<Vec<u32>> {
    let norms: Vec<f64> = (0..base.rows)
        .into_par_iter()
        .map(|i| sum_terms(base.row(i), base.row(i), |x, y| x * y).sqrt())
        .collect();
    (0..queries.rows)
        .into_par_iter()
        .map(|q| {
            let query = queries.row(q);
            let query_norm = sum_terms(query, query, |x, y| x * y).sqrt();
            let mut scored: Vec<(f64, u32)> = (0..base.rows)
                .map(|i| {
                    let d = exact_distance(metric, query, base.row(i), query_norm * norms[i]);
                    (d, i as u32)
                })
                .collect();
            smallest_k(&mut scored, k)
        })
        .collect()
}

/// A distance that ranks like `metric` (smaller is nearer); `norms` is `|a| |b|`.
fn exact_distance(metric: Metric, a: &[f32], b: &[f32], norms: f64) -> f64 {
    match metric {
        Metric::Angular if norms == 0.0 => 1.0, // as the library: a zero vector is orthogonal
        Metric::Angular => 1.0 - sum_terms(a, b, |x, y| x * y) / norms,
        Metric::Euclidean => sum_terms(a, b, |x, y| (x - y) * (x - y)),
        Metric::Manhattan => sum_terms(a, b, |x, y| (x - y).abs()),
        Metric::Dot => -sum_terms(a, b, |x, y| x * y),
        Metric::Hamming => unreachable!("rejected when parsing --metric"),
    }
}

/// `sum term(a[i], b[i])` in f64, over 8 independent lanes so the compiler can vectorise it.
fn sum_terms(a: &[f32], b: &[f32], term: impl Fn(f64, f64) -> f64) -> f64 {
    let (a8, b8) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f64 = (a8.remainder().iter().zip(b8.remainder()))
        .map(|(&x, &y)| term(x.into(), y.into()))
        .sum();
    let mut lanes = [0.0f64; 8];
    for (xs, ys) in a8.zip(b8) {
        for ((lane, &x), &y) in lanes.iter_mut().zip(xs).zip(ys) {
            *lane += term(x.into(), y.into());
        }
    }
    lanes.iter().sum::<f64>() + tail
}

/// The ids of the `k` smallest distances, nearest first, ties to the smaller id.
fn smallest_k(scored: &mut [(f64, u32)], k: usize) -> Vec<u32> {
    let order = |a: &(f64, u32), b: &(f64, u32)| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1));
    let k = k.min(scored.len());
    if k == 0 {
        return Vec::new();
    }
    scored.select_nth_unstable_by(k - 1, order);
    let top = &mut scored[..k];
    top.sort_unstable_by(order);
    top.iter().map(|&(_, id)| id).collect()
}

// ---------------------------------------------------------------------------------------------
// Index: build, save, query

/// The index file: a temp file removed on drop, or the user's `--out` path, kept.
struct IndexFile {
    path: PathBuf,
    remove_on_drop: bool,
}

impl IndexFile {
    fn new(out: Option<PathBuf>) -> IndexFile {
        match out {
            Some(path) => IndexFile {
                path,
                remove_on_drop: false,
            },
            None => IndexFile {
                path: std::env::temp_dir().join(format!("ann-bench-{}.ann", std::process::id())),
                remove_on_drop: true,
            },
        }
    }

    fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for IndexFile {
    fn drop(&mut self) {
        if self.remove_on_drop {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Adds every base vector, builds the forest and saves it; the in-memory index is then dropped.
fn build_and_save(data: &Dataset, args: &Args, path: &Path) -> BoxResult<()> {
    let mut index = Index::new(data.base.cols, args.metric)?;
    index.set_seed(args.seed).expect("a new index takes a seed");
    let started = Instant::now();
    for i in 0..data.base.rows {
        index.add_item(i as u64, data.base.row(i))?;
    }
    let added = started.elapsed();

    let started = Instant::now();
    index.build(args.trees, args.threads)?;
    let threads = match args.threads {
        -1 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        t => t as usize,
    };
    println!(
        "\nadd:    {} ({} items)",
        fmt_duration(added),
        index.n_items()
    );
    println!(
        "build:  {} ({} trees, {} threads, seed {})",
        fmt_duration(started.elapsed()),
        index.n_trees(),
        threads,
        args.seed
    );

    let started = Instant::now();
    index
        .save(path)
        .map_err(|e| format!("cannot save the index to {}: {e}", path.display()))?;
    let saved = started.elapsed();
    let size = std::fs::metadata(path)?.len();
    println!(
        "save:   {} ({}, {})",
        fmt_duration(saved),
        fmt_bytes(size),
        path.display()
    );
    Ok(())
}

/// Runs query 0 and prints what comes back, marking the ids among its exact neighbours.
fn show_example_query(index: &Index, data: &Dataset, n: usize) -> BoxResult<()> {
    let started = Instant::now();
    let found = index.get_nns_by_vector(data.queries.row(0), n, None)?;
    let elapsed = started.elapsed();
    let truth = &data.truth[0];
    println!(
        "\nexample: query 0, n = {n}, search_k default ({}; first query, cold pages)",
        fmt_duration(elapsed)
    );
    let what = if index.metric() == Metric::Dot {
        "inner product"
    } else {
        "distance"
    };
    println!("  rank        id  {what:>13}  exact top {n}?");
    for (rank, neighbor) in found.iter().enumerate() {
        let exact = truth.contains(&(neighbor.id as u32));
        println!(
            "  {:>4}  {:>8}  {:>13.6}  {}",
            rank + 1,
            neighbor.id,
            neighbor.distance,
            if exact { "yes" } else { "no" }
        );
    }
    Ok(())
}

/// Prints the recall / QPS table, one row per `search_k`.
fn run_benchmark(index: &Index, data: &Dataset, args: &Args) -> BoxResult<()> {
    let cores = rayon::current_num_threads();
    let n = args.n;
    println!(
        "\n{} queries, n = {n}; search_k -1 = library default (n * trees = {})",
        data.queries.rows,
        n * index.n_trees()
    );
    println!(
        "{:>9}  {:>10}  {:>12}  {:>10}  {:>15}  {:>7}",
        "search_k",
        format!("recall@{n}"),
        "QPS 1 thread",
        "ms/query",
        format!("QPS {cores} threads"),
        "speedup"
    );
    for &search_k in &args.search_ks {
        let (serial_time, serial) = query_serial(index, &data.queries, n, search_k)?;
        let (parallel_time, parallel) = query_parallel(index, &data.queries, n, search_k)?;
        let recall = mean_recall(&serial, &data.truth, n);
        let queries = data.queries.rows as f64;
        println!(
            "{:>9}  {:>10.4}  {:>12.1}  {:>10.3}  {:>15.1}  {:>6.2}x",
            search_k.map_or("-1".to_string(), |k| k.to_string()),
            recall,
            queries / serial_time.as_secs_f64(),
            serial_time.as_secs_f64() * 1e3 / queries,
            queries / parallel_time.as_secs_f64(),
            serial_time.as_secs_f64() / parallel_time.as_secs_f64()
        );
        let differing = serial.iter().zip(&parallel).filter(|(a, b)| a != b).count();
        if differing > 0 {
            println!(
                "  WARNING: {differing} queries returned different results when run in parallel"
            );
        }
    }
    Ok(())
}

type Results = Vec<Vec<Neighbor>>;

fn query_serial(
    index: &Index,
    queries: &Matrix,
    n: usize,
    search_k: Option<usize>,
) -> BoxResult<(Duration, Results)> {
    let started = Instant::now();
    let results = (0..queries.rows)
        .map(|q| index.get_nns_by_vector(queries.row(q), n, search_k))
        .collect::<Result<Results, _>>()?;
    Ok((started.elapsed(), results))
}

/// The same queries spread over every core, all sharing the one `&Index`.
fn query_parallel(
    index: &Index,
    queries: &Matrix,
    n: usize,
    search_k: Option<usize>,
) -> BoxResult<(Duration, Results)> {
    let started = Instant::now();
    let results = (0..queries.rows)
        .into_par_iter()
        .map(|q| index.get_nns_by_vector(queries.row(q), n, search_k))
        .collect::<Result<Results, _>>()?;
    Ok((started.elapsed(), results))
}

/// Mean over queries of |returned top n ∩ exact top n| / n.
fn mean_recall(results: &[Vec<Neighbor>], truth: &[Vec<u32>], n: usize) -> f64 {
    let total: f64 = results
        .iter()
        .zip(truth)
        .map(|(found, exact)| {
            let exact = &exact[..n.min(exact.len())];
            let hits = found
                .iter()
                .take(n)
                .filter(|nb| exact.contains(&(nb.id as u32)))
                .count();
            hits as f64 / n as f64
        })
        .sum();
    total / results.len().max(1) as f64
}

// ---------------------------------------------------------------------------------------------
// Reporting helpers

/// Peak resident set size (VmHWM) on Linux; `None` elsewhere.
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn fmt_duration(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 1.0 {
        format!("{s:.2} s")
    } else if s >= 1e-3 {
        format!("{:.1} ms", s * 1e3)
    } else {
        format!("{:.1} µs", s * 1e6)
    }
}

fn fmt_bytes(bytes: u64) -> String {
    const MIB: f64 = 1024.0 * 1024.0;
    format!("{:.1} MiB", bytes as f64 / MIB)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f16_conversion_covers_every_class() {
        assert_eq!(f16_to_f32(0x0000), 0.0);
        assert!(f16_to_f32(0x8000).is_sign_negative());
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x7bff), 65504.0); // largest normal
        assert_eq!(f16_to_f32(0x0400), 2f32.powi(-14)); // smallest normal
        assert_eq!(f16_to_f32(0x0001), 2f32.powi(-24)); // smallest subnormal
        assert_eq!(f16_to_f32(0x83ff), -1023.0 * 2f32.powi(-24));
        assert_eq!(f16_to_f32(0x7c00), f32::INFINITY);
        assert_eq!(f16_to_f32(0xfc00), f32::NEG_INFINITY);
        assert!(f16_to_f32(0x7e00).is_nan());
    }

    #[test]
    fn npy_round_trip() {
        let header = "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }";
        let mut header = header.to_string();
        while (10 + header.len() + 1) % 64 != 0 {
            header.push(' ');
        }
        header.push('\n');
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
        bytes.extend_from_slice(header.as_bytes());
        for v in [1i32, -2, 3, 4, 5, 6] {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        let npy = parse_npy(&bytes).unwrap();
        assert_eq!(npy.shape, vec![2, 3]);
        assert!(matches!(npy.data, NpyData::I32(ref v) if v == &[1, -2, 3, 4, 5, 6]));
        assert!(parse_npy(&bytes[..bytes.len() - 1]).is_err());
    }

    #[test]
    fn smallest_k_orders_by_distance_then_id() {
        let mut scored = vec![(0.5, 3), (0.1, 7), (0.5, 1), (0.9, 0)];
        assert_eq!(smallest_k(&mut scored, 3), vec![7, 1, 3]);
    }
}
