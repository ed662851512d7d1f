//! The NULL column of the bad-input matrix, generated from the header so that it stays
//! complete: for every function in `include/ann.h` and every pointer parameter, a C call with
//! that pointer NULL and every other argument valid. Each must give its documented answer
//! (`ANN_STATUS_NULL_POINTER` naming the parameter, or success where the header says the
//! pointer may be NULL, or nothing for the `*_free` functions), and leave the index usable.
//! `c_api.rs` compiles and runs the program; `include/ann_errors.md` documents the outcome.

/// One C function: its return type, name, and parameters as (type, name).
pub struct Function {
    pub ret: String,
    pub name: String,
    pub params: Vec<(String, String)>,
}

/// The functions of the header, from their prototypes (comments removed). A prototype this
/// parser cannot read (a function-pointer parameter) is left out and listed in `skipped`.
pub fn parse(header: &str) -> (Vec<Function>, Vec<String>) {
    let mut text = String::new();
    let mut rest = header;
    while let Some(start) = rest.find("/*") {
        text.push_str(&rest[..start]);
        rest = rest[start..]
            .find("*/")
            .map_or("", |end| &rest[start + end + 2..]);
    }
    text.push_str(rest);
    let text: String = text
        .lines()
        .filter(|line| !line.trim_start().starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    let (mut functions, mut skipped) = (Vec::new(), Vec::new());
    for statement in text.split(';') {
        let statement = statement.split_whitespace().collect::<Vec<_>>().join(" ");
        let Some(paren) = statement.find('(') else {
            continue;
        };
        let head = statement[..paren].trim();
        // What follows an `extern "C" {` or a struct's closing brace.
        let head = head[head.rfind(['{', '}']).map_or(0, |at| at + 1)..].trim();
        let Some(name_at) = head.rfind([' ', '*']) else {
            continue;
        };
        let name = head[name_at + 1..].to_string();
        if !name.starts_with("ann_") || head.contains("typedef") {
            continue;
        }
        let inner = &statement[paren + 1..statement.rfind(')').unwrap_or(statement.len())];
        if inner.contains('(') {
            skipped.push(name);
            continue;
        }
        let params = if inner.trim() == "void" {
            Vec::new()
        } else {
            inner
                .split(',')
                .map(|p| {
                    let p = p.trim();
                    let at = p.rfind([' ', '*']).unwrap();
                    (p[..=at].trim().to_string(), p[at + 1..].to_string())
                })
                .collect()
        };
        functions.push(Function {
            ret: head[..=name_at].trim().to_string(),
            name,
            params,
        });
    }
    (functions, skipped)
}

/// Pointer parameters the header documents as optional: NULL is accepted.
const OPTIONAL: &[(&str, &str)] = &[
    ("ann_delete", "out_existed"),
    ("ann_delete_batch", "out_deleted"),
    ("ann_refresh", "out_changed"),
    ("ann_search", "options"),
    ("ann_search_by_item", "options"),
    ("ann_search_batch", "options"),
];

/// What a call with `param` NULL must give: `None` for functions returning no status.
pub fn expected(f: &Function, param: &str) -> Option<&'static str> {
    if f.ret != "ann_status" {
        return None;
    }
    let optional = OPTIONAL.contains(&(f.name.as_str(), param)) || param == "out_distances";
    Some(if optional {
        "ANN_STATUS_OK"
    } else {
        "ANN_STATUS_NULL_POINTER"
    })
}

/// A valid C argument for a parameter, by its type and name (the fixtures are set up by the
/// generated program: `index`, `hamming`, `options`, `wopts`, `writer`, the buffers, paths).
fn valid(f: &Function, ty: &str, name: &str) -> String {
    let packed = f.name.contains("packed");
    let v = match (ty, name) {
        ("const ann_index *" | "ann_index *", _) if packed => "hamming",
        ("const ann_index *" | "ann_index *", _) if f.name == "ann_on_disk_build" => "fresh",
        ("const ann_index *" | "ann_index *", _) if f.name == "ann_add_item" => "fresh",
        ("const ann_index *" | "ann_index *", _) if f.name == "ann_build" => "fresh",
        ("const ann_index *" | "ann_index *", _) if f.name == "ann_refresh" => "live",
        ("const ann_index *" | "ann_index *", _) => "index",
        ("ann_index **", _) => "&out_index",
        ("ann_search_options *" | "const ann_search_options *", _) => "options",
        ("ann_search_options **", _) => "&out_options",
        ("ann_writer_options *" | "const ann_writer_options *", _) => "wopts",
        ("ann_writer_options **", _) => "&out_wopts",
        ("ann_writer *", _) => "writer",
        ("ann_writer **", _) => "&out_writer",
        ("const char *", "name") => "\"euclidean\"",
        ("const char *", "dir") => "new_dir",
        ("const char *", "path")
            if matches!(
                f.name.as_str(),
                "ann_load" | "ann_open" | "ann_file_info" | "ann_load_annoy"
            ) =>
        {
            if f.name == "ann_load_annoy" {
                "annoy_path"
            } else {
                "saved_path"
            }
        }
        ("const char *", "path") => "new_path",
        ("const char *const *", _) => "paths",
        ("char *", _) => "text",
        ("const float *", _) => "floats",
        ("const uint64_t *", _) => "words",
        ("float *", _) => "out_floats",
        ("uint64_t *", _) => "out_u64",
        ("size_t *", _) => "out_sizes",
        ("uint32_t *", _) => "&out_u32",
        ("bool *", _) => "&out_bool",
        ("ann_metric *", _) => "&out_metric",
        ("ann_file_summary *", _) => "&summary",
        ("uint64_t", "id" | "key" | "i" | "j") => "1",
        ("uint64_t", _) => "7",
        ("size_t", "len") => "sizeof text",
        ("size_t", "n_words") => "2",
        ("size_t", "ef") => "0",
        ("size_t", _) => "1",
        ("int64_t", _) => "-1",
        ("int32_t", "n_trees") => "2",
        ("int32_t", _) => "1",
        ("uint32_t", "dim") => "4",
        ("uint32_t", "degree" | "durability") => "0",
        ("uint32_t", _) => "100",
        ("bool", _) => "false",
        ("ann_metric", _) => "ANN_METRIC_EUCLIDEAN",
        ("ann_status", _) => "ANN_STATUS_OK",
        _ => panic!("no valid value for `{ty} {name}` of {}: add one", f.name),
    };
    v.to_string()
}

/// The C program: one block per (function, pointer parameter), in a fresh setup each.
pub fn program(functions: &[Function]) -> (String, usize) {
    let mut cases = String::new();
    let mut count = 0;
    for f in functions {
        for (i, (ty, name)) in f.params.iter().enumerate() {
            if !ty.ends_with('*') {
                continue;
            }
            let args: Vec<String> = f
                .params
                .iter()
                .enumerate()
                .map(|(j, (t, n))| {
                    if i == j {
                        "NULL".to_string()
                    } else {
                        valid(f, t, n)
                    }
                })
                .collect();
            let call = format!("{}({})", f.name, args.join(", "));
            let check = match expected(f, name) {
                Some(want) => format!(
                    "    got = {call};\n    expect(\"{}\", \"{name}\", got, {want});\n",
                    f.name
                ),
                None => format!("    (void){call};\n    cases_run++;\n"),
            };
            cases.push_str(&format!(
                "  {{\n    SETUP();\n{check}    TEARDOWN();\n  }}\n"
            ));
            count += 1;
        }
    }
    (format!("{PRELUDE}\nint main(int argc, char **argv) {{\n  (void)argc;\n  const char *work = argv[1];\n  prepare(work);\n{cases}  printf(\"null matrix ok: %d cases\\n\", cases_run);\n  return failures == 0 ? 0 : 1;\n}}\n"), count)
}

const PRELUDE: &str = r#"#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ann.h"

static int failures = 0, cases_run = 0;
static char saved_path[1024], annoy_path[1024], live_dir[1024], new_path[2048], new_dir[2048];
static const char *paths[1];
static int serial = 0;

/* A built euclidean index of 20 items in 4 dimensions, saved (native and Annoy) once. */
static ann_index *make_index(bool build) {
    ann_index *index = NULL;
    if (ann_new(4, ANN_METRIC_EUCLIDEAN, &index) != ANN_STATUS_OK) abort();
    for (uint64_t i = 0; i < 20; i++) {
        float v[4] = {(float)i, (float)(i % 3), 1.0f, -(float)i};
        if (ann_add_item(index, i, v) != ANN_STATUS_OK) abort();
    }
    if (build && ann_build(index, 2, 1) != ANN_STATUS_OK) abort();
    return index;
}

static ann_index *make_hamming(void) {
    ann_index *index = NULL;
    if (ann_new(128, ANN_METRIC_HAMMING, &index) != ANN_STATUS_OK) abort();
    for (uint64_t i = 0; i < 20; i++) {
        uint64_t words[2] = {i * 0x9E3779B97F4A7C15ULL, ~i};
        if (ann_add_item_packed(index, i, words, 2) != ANN_STATUS_OK) abort();
    }
    if (ann_build(index, 2, 1) != ANN_STATUS_OK) abort();
    return index;
}

static void prepare(const char *work) {
    snprintf(saved_path, sizeof saved_path, "%.900s/saved.ann", work);
    snprintf(annoy_path, sizeof annoy_path, "%.900s/saved.annoy", work);
    snprintf(live_dir, sizeof live_dir, "%.900s/live", work);
    ann_index *index = make_index(true);
    if (ann_save(index, saved_path) != ANN_STATUS_OK) abort();
    if (ann_save_annoy(index, annoy_path) != ANN_STATUS_OK) abort();
    ann_free(index);
    paths[0] = saved_path;
    (void)work;
}

/* The index answers as before: item 3's nearest is itself. */
static bool usable(const ann_index *index) {
    uint64_t ids[1];
    size_t count = 0;
    return ann_get_nns_by_item(index, 3, 1, -1, ids, NULL, &count) == ANN_STATUS_OK && count == 1 &&
           ids[0] == 3;
}

static void expect(const char *function, const char *param, ann_status got, ann_status want) {
    cases_run++;
    char message[512];
    ann_last_error_message(message, sizeof message);
    char quoted[128];
    snprintf(quoted, sizeof quoted, "`%s`", param);
    if (got != want) {
        fprintf(stderr, "%s with %s NULL: %s, not %s (%s)\n", function, param, ann_status_name(got),
                ann_status_name(want), message);
        failures++;
    } else if (want == ANN_STATUS_NULL_POINTER && strstr(message, quoted) == NULL) {
        fprintf(stderr, "%s with %s NULL: the message \"%s\" does not name it\n", function, param, message);
        failures++;
    }
}

#define SETUP()                                                                          \
    ann_index *index = make_index(true), *fresh = make_index(false), *hamming = make_hamming(); \
    ann_index *out_index = NULL, *live = NULL;                                            \
    ann_search_options *options = NULL, *out_options = NULL;                              \
    ann_writer_options *wopts = NULL, *out_wopts = NULL;                                  \
    ann_writer *writer = NULL, *out_writer = NULL;                                        \
    if (ann_search_options_new(&options) != ANN_STATUS_OK) abort();                       \
    if (ann_writer_options_new(4, ANN_METRIC_EUCLIDEAN, &wopts) != ANN_STATUS_OK) abort(); \
    snprintf(new_dir, sizeof new_dir, "%s-%d", live_dir, serial++);                       \
    snprintf(new_path, sizeof new_path, "%s.new-%d", saved_path, serial);                 \
    if (ann_writer_open(new_dir, wopts, &writer) != ANN_STATUS_OK) abort();              \
    snprintf(new_dir, sizeof new_dir, "%s-%d", live_dir, serial++);                       \
    if (ann_open(saved_path, false, &live) != ANN_STATUS_OK) abort();                      \
    float floats[256];                                                                    \
    for (int k = 0; k < 256; k++) floats[k] = 0.5f;                                       \
    uint64_t words[64];                                                                   \
    for (int k = 0; k < 64; k++) words[k] = (uint64_t)k;                                  \
    float out_floats[256];                                                                \
    uint64_t out_u64[256];                                                                \
    size_t out_sizes[64];                                                                 \
    uint32_t out_u32 = 0;                                                                 \
    bool out_bool = false;                                                                \
    ann_metric out_metric = 0;                                                            \
    ann_file_summary summary;                                                             \
    char text[256];                                                                       \
    ann_status got = ANN_STATUS_OK;                                                       \
    (void)got; (void)out_floats; (void)out_u64; (void)out_sizes; (void)text; (void)summary; \
    (void)out_u32; (void)out_bool; (void)out_metric; (void)words; (void)floats

#define TEARDOWN()                                                                       \
    if (!usable(index)) {                                                                 \
        fprintf(stderr, "line %d: the index is not usable afterwards\n", __LINE__);      \
        failures++;                                                                       \
    }                                                                                     \
    ann_free(index);                                                                      \
    ann_free(fresh);                                                                      \
    ann_free(hamming);                                                                    \
    ann_free(out_index);                                                                  \
    ann_free(live);                                                                       \
    ann_search_options_free(options);                                                     \
    ann_search_options_free(out_options);                                                 \
    ann_writer_options_free(wopts);                                                       \
    ann_writer_options_free(out_wopts);                                                   \
    ann_writer_free(writer);                                                              \
    ann_writer_free(out_writer)
"#;
