//! The C ABI tested from real C (and C++) programs, compiled with the `cc` crate against
//! `include/ann.h` and the freshly built `libann.so`, then run and their output checked.
//!
//! Two environment variables rerun the same programs under checkers (`tests/sanitize.sh`
//! sets them): `ANN_C_SANITIZE=address,undefined` compiles them with those sanitizers (any
//! report fails the program), and `ANN_C_VALGRIND=1` runs each under valgrind's memcheck.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The directory cargo built `libann.so` into: this test binary lives in its `deps/`.
fn cargo_lib_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().and_then(Path::parent).unwrap().to_path_buf()
}

/// Brings `libann.so` in the cargo output directory up to date. `cargo test` builds the
/// cdylib only into `deps/` (it copies artifacts up only for `cargo build`), so without this
/// the programs would link whatever an earlier `cargo build` left there.
fn build_cdylib() {
    let dir = cargo_lib_dir();
    let profile = match dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") => "dev".to_string(),
        Some(name) => name.to_string(),
        None => panic!("unexpected cargo output directory {}", dir.display()),
    };
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| env!("CARGO").to_string());
    let target_dir = dir.parent().unwrap();
    let status = Command::new(cargo)
        .args(["build", "--lib", "--quiet", "--profile", &profile])
        .arg("--manifest-path")
        .arg(root().join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", target_dir)
        .status()
        .expect("cargo could not be started");
    assert!(status.success(), "cargo build --lib failed");
}

/// A directory where `-lann` finds the library and the loader finds its SONAME
/// (`libann.so.1`), both links to cargo's fresh build.
fn lib_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        build_cdylib();
        let built = cargo_lib_dir().join("libann.so");
        assert!(
            built.exists(),
            "{} is missing after cargo build",
            built.display()
        );
        let dir = cargo_lib_dir().join("c-api-tests").join("lib");
        std::fs::create_dir_all(&dir).unwrap();
        let soname = format!("libann.so.{}", ann::ffi::ann_abi_version());
        for name in ["libann.so".to_string(), soname] {
            let link = dir.join(name);
            let _ = std::fs::remove_file(&link);
            std::os::unix::fs::symlink(&built, &link).unwrap();
        }
        dir
    })
}

/// A fresh working directory for one test.
fn work_dir(name: &str) -> PathBuf {
    let dir = cargo_lib_dir().join("c-api-tests").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn compiler(cpp: bool) -> Command {
    let target = env!("ANN_TARGET");
    cc::Build::new()
        .cargo_metadata(false)
        .target(target)
        .host(target)
        .opt_level(0)
        .debug(false)
        .cpp(cpp)
        .get_compiler()
        .to_command()
}

/// Compiles and links `sources` against libann into `dir/name`, failing on any warning.
fn compile(dir: &Path, name: &str, sources: &[PathBuf], cpp: bool) -> PathBuf {
    let exe = dir.join(name);
    let lib = lib_dir();
    let mut cmd = compiler(cpp);
    cmd.args(if cpp { ["-std=c++17"] } else { ["-std=c99"] })
        .args(["-Wall", "-Wextra", "-Werror", "-pedantic", "-pthread"])
        .arg("-I")
        .arg(root().join("include"))
        .arg("-I")
        .arg(root().join("tests/c"))
        .args(sources)
        .arg("-o")
        .arg(&exe)
        .arg(format!("-L{}", lib.display()))
        .arg("-lann")
        .arg(format!("-Wl,-rpath,{}", lib.display()))
        .arg("-lm");
    if let Ok(sanitizers) = std::env::var("ANN_C_SANITIZE") {
        cmd.arg(format!("-fsanitize={sanitizers}")).args([
            "-fno-sanitize-recover=all",
            "-fno-omit-frame-pointer",
            "-g",
        ]);
    }
    let out = cmd.output().expect("the C compiler could not be started");
    assert!(
        out.status.success(),
        "compiling {name} failed:\n{} {}\n{}",
        cmd.get_program().to_string_lossy(),
        cmd.get_args()
            .map(|a| a.to_string_lossy())
            .collect::<Vec<_>>()
            .join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    exe
}

/// Runs a compiled program; it must exit 0. Returns its standard output.
fn run(exe: &Path, args: &[&Path], cwd: &Path) -> String {
    let mut cmd = if std::env::var_os("ANN_C_VALGRIND").is_some() {
        let mut valgrind = Command::new("valgrind");
        valgrind
            .args([
                "--quiet",
                "--error-exitcode=99",
                "--leak-check=full",
                "--errors-for-leak-kinds=definite",
                "--child-silent-after-fork=yes",
            ])
            .arg(exe);
        valgrind
    } else {
        Command::new(exe)
    };
    let out = cmd.args(args).current_dir(cwd).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{} failed ({}):\nstdout:\n{stdout}\nstderr:\n{}",
        exe.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn c_test(name: &str) -> String {
    let dir = work_dir(name);
    let exe = compile(
        &dir,
        name,
        &[root().join(format!("tests/c/{name}.c"))],
        false,
    );
    run(&exe, &[&dir], &dir)
}

#[test]
fn header_compiles_as_c99_and_cpp17_twice() {
    let dir = work_dir("header");
    let mut cmd = compiler(false);
    cmd.args([
        "-std=c99",
        "-pedantic",
        "-Wall",
        "-Wextra",
        "-Werror",
        "-c",
        "-o",
    ])
    .arg(dir.join("header_c99.o"))
    .arg("-I")
    .arg(root().join("include"))
    .arg(root().join("tests/c/header_c99.c"));
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let sources =
        ["header_twice_a.cpp", "header_twice_b.cpp"].map(|s| root().join("tests/c").join(s));
    let exe = compile(&dir, "header_cpp", &sources, true);
    let out = run(&exe, &[], &dir);
    assert_eq!(out, "cpp ok: ANN_STATUS_OK, 5 metrics, abi 1\n");
}

#[test]
fn full_lifecycle_for_every_metric_read_back_from_rust() {
    let out = c_test("lifecycle");
    let dir = cargo_lib_dir().join("c-api-tests/lifecycle");
    for metric in ann::Metric::ALL {
        assert!(out.contains(&format!("{metric} ok\n")), "{out}");
        // The file C wrote, read from Rust, gives the neighbours C printed.
        let index = ann::Index::load(dir.join(format!("{metric}.ann")), false).unwrap();
        for q in 0..5u64 {
            let ids: Vec<String> = index
                .get_nns_by_item(q, 10, Some(5000))
                .unwrap()
                .iter()
                .map(|n| n.id.to_string())
                .collect();
            let line = format!("{metric} item {q}: {}\n", ids.join(" "));
            assert!(out.contains(&line), "missing {line:?} in:\n{out}");
        }
    }
}

#[test]
fn every_status_code_is_provoked_and_exact() {
    assert_eq!(c_test("errors"), "errors ok\n");
}

#[test]
fn keys_filters_and_shards_from_c() {
    assert_eq!(c_test("keys_filters"), "keys and filters ok\n");
}

#[test]
fn graph_from_c() {
    assert_eq!(c_test("graph"), "graph ok\n");
}

#[test]
fn live_index_writer_and_reader_process_from_c() {
    assert_eq!(c_test("live"), "live ok\n");
}

#[test]
fn eight_threads_query_one_loaded_index() {
    assert!(c_test("threads").starts_with("threads ok"));
}

#[test]
fn a_child_forked_after_load_queries_and_builds() {
    assert_eq!(c_test("fork"), "fork ok\n");
}

#[test]
fn annoy_files_and_batch_queries_from_c() {
    let dir = work_dir("annoy_files");
    let exe = compile(
        &dir,
        "annoy_files",
        &[root().join("tests/c/annoy_files.c")],
        false,
    );
    let fixtures = root().join("tests/fixtures/annoy");
    assert_eq!(run(&exe, &[&fixtures, &dir], &dir), "annoy files ok\n");
}

/// The README's C quickstart: this exact file, compiled as the README says.
#[test]
fn c_quickstart_compiles_and_runs() {
    let dir = work_dir("quickstart");
    let exe = compile(
        &dir,
        "quickstart",
        &[root().join("examples/c/quickstart.c")],
        false,
    );
    let out = run(&exe, &[], &dir);
    let first = out.lines().next().unwrap_or_default();
    assert!(first.starts_with("id 3 at distance"), "{out}");
    assert_eq!(out.lines().count(), 3, "{out}");
    // The README shows this file's code (everything after its opening comment) verbatim.
    let source = std::fs::read_to_string(root().join("examples/c/quickstart.c")).unwrap();
    let code = &source[source.find("*/\n").unwrap() + 3..];
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    assert!(
        readme.contains(code.trim()),
        "README.md's C quickstart differs from the file"
    );
}

#[test]
fn shared_library_soname_carries_the_abi_version() {
    lib_dir();
    let out = Command::new("readelf")
        .arg("-d")
        .arg(cargo_lib_dir().join("libann.so"))
        .output()
        .expect("readelf (binutils) is needed");
    let text = String::from_utf8_lossy(&out.stdout);
    let expected = format!("[libann.so.{}]", ann::ffi::ann_abi_version());
    assert!(
        text.contains(&expected),
        "SONAME is not {expected}:\n{text}"
    );
}

#[path = "common/null_matrix.rs"]
mod null_matrix;

/// Every pointer parameter of every function in the header, NULL in turn (the program is
/// generated from `include/ann.h`, so a new function is covered as soon as it exists).
#[test]
fn every_pointer_parameter_null_in_turn() {
    let header = std::fs::read_to_string(root().join("include/ann.h")).unwrap();
    let (functions, skipped) = null_matrix::parse(&header);
    assert!(
        functions.len() >= 64,
        "parsed only {} functions",
        functions.len()
    );
    assert_eq!(
        skipped,
        ["ann_search_options_set_filter"],
        "covered by keys_filters.c"
    );
    let (source, cases) = null_matrix::program(&functions);
    let dir = work_dir("null_matrix");
    let file = dir.join("null_matrix.c");
    std::fs::write(&file, source).unwrap();
    let exe = compile(&dir, "null_matrix", &[file], false);
    let out = run(&exe, &[&dir], &dir);
    assert_eq!(out, format!("null matrix ok: {cases} cases\n"));
}
