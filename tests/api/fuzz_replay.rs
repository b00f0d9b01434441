//! The fuzz targets' checks (`fuzz/checks.rs`) on stable, over every kept
//! input: the seeds the fuzzers start from and every crash they found
//! (`fuzz/regressions/<target>/`), so a fixed crash stays fixed.

use std::path::Path;

#[path = "../../fuzz/checks.rs"]
mod checks;

fn replay(dir: &str) -> usize {
    let mut replayed = 0;
    for target in checks::TARGETS {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz")
            .join(dir)
            .join(target);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("directory entry").path();
            if path.file_name().is_some_and(|n| n == ".gitkeep") {
                continue;
            }
            let data = std::fs::read(&path).expect("readable input");
            let outcome = std::panic::catch_unwind(|| checks::run(target, &data));
            assert!(outcome.is_ok(), "{target}: {} fails", path.display());
            replayed += 1;
        }
    }
    replayed
}

#[test]
fn every_seed_passes_every_check() {
    assert!(replay("seeds") >= 40, "the seeds are there");
}

#[test]
fn every_crash_the_fuzzers_found_stays_fixed() {
    replay("regressions");
}

#[test]
fn every_name_of_every_command_passes_the_command_checks() {
    // Seeds derived from the command table: a new command is checked
    // without a seed file of its own.
    let mut checked = 0;
    for spec in ledgerbot::front::bot::handlers::COMMANDS {
        for name in spec.names() {
            for text in [
                format!("/{name}"),
                format!("/{name} 12,50 <b>x</b> & \"y\""),
                format!("/{name}@{} K7TQ3MXA", checks::BOT_USERNAME),
                format!("/{name}@otherbot x"),
            ] {
                for private in [true, false] {
                    let outcome = std::panic::catch_unwind(|| checks::command(&text, private));
                    assert!(outcome.is_ok(), "{text:?} (private: {private}) fails");
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 100, "the table has its commands");
}
