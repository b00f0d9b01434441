//! The configuration as people read it stays the configuration the code
//! reads: `.env.sample`, docs/operations.md's Configuration table and the table in
//! `src/infra/config.rs`'s module comment name exactly the variables
//! `Config::from_lookup` asks for (plus the log filter, which `telemetry`
//! reads), and mark the same ones required. The list of variables is not
//! written down here: it is recorded from `from_lookup` itself, so a
//! variable added to the code and to no document fails this test.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use ledgerbot::infra::config::{Config, ConfigError};

fn read(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// `.env.sample`'s variables, with their values and whether the comment
/// above each says "Required".
fn env_sample() -> BTreeMap<String, (String, bool)> {
    let mut vars = BTreeMap::new();
    let mut comment = String::new();
    for line in read(".env.sample").lines() {
        if let Some(text) = line.strip_prefix('#') {
            comment.push_str(text);
        } else if let Some((name, value)) = line.split_once('=') {
            let required = comment.contains("Required");
            let earlier = vars.insert(name.to_owned(), (value.to_owned(), required));
            assert!(earlier.is_none(), ".env.sample: {name} twice");
            comment.clear();
        } else {
            assert!(line.trim().is_empty(), ".env.sample: what is {line:?}?");
            comment.clear();
        }
    }
    vars
}

/// The rows of the first table after `heading` in `text` (lines starting with
/// `prefix`), as variable name → the cell after it ("yes"/"no": required).
fn table(text: &str, heading: &str, prefix: &str) -> BTreeMap<String, String> {
    let after = text
        .split_once(heading)
        .unwrap_or_else(|| panic!("{heading:?} not found"))
        .1;
    let mut rows = BTreeMap::new();
    for line in after
        .lines()
        .skip_while(|l| !l.starts_with(prefix))
        .take_while(|l| l.starts_with(prefix))
    {
        let cells: Vec<&str> = line
            .trim_start_matches(prefix)
            .split('|')
            .map(str::trim)
            .collect();
        if let Some(name) = cells[0].strip_prefix('`').and_then(|c| c.strip_suffix('`')) {
            rows.insert(name.to_owned(), cells[1].to_owned());
        }
    }
    assert!(!rows.is_empty(), "no variable table after {heading:?}");
    rows
}

/// The variables `Config::from_lookup` asks for, given `env`.
fn asked_for(env: &BTreeMap<String, String>) -> (Result<Config, ConfigError>, BTreeSet<String>) {
    let asked = RefCell::new(BTreeSet::new());
    let config = Config::from_lookup(|name| {
        asked.borrow_mut().insert(name.to_owned());
        env.get(name).cloned()
    });
    (config, asked.into_inner())
}

fn sample_values() -> BTreeMap<String, String> {
    env_sample()
        .into_iter()
        .map(|(name, (value, _))| (name, value))
        .collect()
}

fn names<V>(map: &BTreeMap<String, V>) -> BTreeSet<String> {
    map.keys().cloned().collect()
}

#[test]
fn the_env_sample_the_docs_and_config_rs_name_exactly_the_variables_the_code_reads() {
    let (config, read_by_config) = asked_for(&sample_values());
    let mut read_by_binary = read_by_config.clone();
    read_by_binary.insert(ledgerbot::infra::telemetry::FILTER_VARIABLE.to_owned());

    let sample = names(&env_sample());
    let readme = names(&table(
        &read("docs/operations.md"),
        "\n## Configuration\n",
        "| ",
    ));
    let module_doc = names(&table(
        &read("src/infra/config.rs"),
        "//! | variable",
        "//! | ",
    ));

    config.expect(".env.sample's values are a valid configuration");
    assert_eq!(sample, read_by_binary, ".env.sample vs what the code reads");
    assert_eq!(
        readme, read_by_binary,
        "docs/operations.md's Configuration table vs what the code reads"
    );
    assert_eq!(
        module_doc, read_by_config,
        "src/infra/config.rs's module table vs what from_lookup reads"
    );
}

#[test]
fn the_variables_serve_requires_are_marked_required_in_each_document() {
    let values = sample_values();
    let (_, read_by_config) = asked_for(&values);
    let required: BTreeSet<String> = read_by_config
        .iter()
        .filter(|name| {
            let mut without = values.clone();
            without.remove(*name);
            matches!(asked_for(&without).0, Err(ConfigError::Missing(missing)) if missing == *name)
        })
        .cloned()
        .collect();
    let marked = |rows: BTreeMap<String, String>| -> BTreeSet<String> {
        rows.into_iter()
            .filter(|(_, cell)| cell == "yes")
            .map(|(name, _)| name)
            .collect()
    };

    let sample: BTreeSet<String> = env_sample()
        .into_iter()
        .filter(|(_, (_, required))| *required)
        .map(|(name, _)| name)
        .collect();
    let readme = marked(table(
        &read("docs/operations.md"),
        "\n## Configuration\n",
        "| ",
    ));
    let module_doc = marked(table(
        &read("src/infra/config.rs"),
        "//! | variable",
        "//! | ",
    ));

    assert!(required.contains("DATABASE_URL"), "{required:?}");
    assert_eq!(sample, required, ".env.sample's \"Required\" comments");
    assert_eq!(readme, required, "docs/operations.md's required column");
    assert_eq!(
        module_doc, required,
        "src/infra/config.rs's required column"
    );
}

/// `fly.toml`'s `[env]` table: `NAME = "value"` lines.
fn fly_env() -> BTreeMap<String, String> {
    let text = read("fly.toml");
    let section = text
        .split_once("\n[env]\n")
        .expect("fly.toml has an [env] table")
        .1;
    section
        .lines()
        .map(str::trim)
        .take_while(|l| !l.starts_with('['))
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (name, value) = l.split_once('=').expect("NAME = \"value\"");
            (
                name.trim().to_owned(),
                value.trim().trim_matches('"').to_owned(),
            )
        })
        .collect()
}

#[test]
fn the_shipped_fly_toml_makes_metrics_need_their_token_and_the_deploy_steps_set_it() {
    // Arrange: a deployment as docs/operations.md makes it: fly.toml's
    // [env], the secrets its steps set.
    let fly = fly_env();
    let docs = read("docs/operations.md");
    let steps = docs
        .split_once("fly secrets set \\")
        .expect("the deploy steps set the secrets")
        .1
        .split_once("```")
        .expect("in a code block")
        .0;
    let mut deployed = sample_values();
    deployed.remove("METRICS_TOKEN");
    deployed.extend(fly.clone());

    // Act
    let without_token = asked_for(&deployed).0;
    deployed.insert("METRICS_TOKEN".into(), "a-long-random-token".into());
    let with_token = asked_for(&deployed).0;

    // Assert
    assert_eq!(
        fly.get("METRICS_REQUIRE_TOKEN").map(String::as_str),
        Some("true"),
        "fly.toml: /metrics is on the public port"
    );
    match without_token {
        Err(ConfigError::Invalid { name, .. }) => assert_eq!(name, "METRICS_TOKEN"),
        other => panic!("serve must refuse to start without METRICS_TOKEN: {other:?}"),
    }
    with_token.expect("with the token it starts");
    for secret in [
        "METRICS_TOKEN=",
        "TELEGRAM_WEBHOOK_SECRET=$(openssl rand -hex 32)",
    ] {
        assert!(steps.contains(secret), "the deploy steps set {secret}");
    }
}

/// Every `.rs` file under `dir`, read.
fn sources(dir: &Path, into: &mut String) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            sources(&path, into);
        } else if path.extension().is_some_and(|e| e == "rs") {
            into.push_str(&std::fs::read_to_string(&path).expect("source"));
        }
    }
}

#[test]
fn every_test_the_security_checklist_names_exists() {
    // Arrange: the checklist's rows and every test function of ours.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut code = String::new();
    for dir in ["src", "tests", "fuzz", "handlers"] {
        sources(&root.join(dir), &mut code);
    }
    let checklist = read("docs/security.md");
    let rows: Vec<&str> = checklist
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| what ") && !l.starts_with("| ---"))
        .collect();
    assert!(
        rows.len() >= 20,
        "the checklist's table: {} rows",
        rows.len()
    );

    for row in rows {
        // Act: the test names in the last cell (`snake_case_sentences`).
        let tests_cell = row
            .trim_end_matches('|')
            .rsplit(" | ")
            .next()
            .expect("cells");
        let names: Vec<&str> = tests_cell
            .split('`')
            .skip(1)
            .step_by(2)
            .filter(|n| {
                n.matches('_').count() >= 2
                    && n.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            })
            .collect();

        // Assert
        let what = row.split(" | ").next().unwrap_or(row);
        assert!(!names.is_empty(), "{what}: names no test");
        for name in names {
            assert!(
                code.contains(&format!("fn {name}(")),
                "{what}: no test named {name}"
            );
        }
    }
}
