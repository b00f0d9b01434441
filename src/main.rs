//! The `ledgerbot` binary: parse the command line, run it on the runtime
//! [`ledgerbot::infra::runtime`] builds, report failure in one line.
//! Everything else lives in the library.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = ledgerbot::infra::cli::Cli::parse();
    let outcome = ledgerbot::infra::runtime::build()
        .and_then(|runtime| runtime.block_on(ledgerbot::infra::cli::run(cli)));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ledgerbot: {e:#}");
            ExitCode::FAILURE
        }
    }
}
