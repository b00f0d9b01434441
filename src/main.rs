//! The `ledgerbot` binary: parse the command line, run it, report failure in
//! one line. Everything else lives in the library.

use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = ledgerbot::infra::cli::Cli::parse();
    match ledgerbot::infra::cli::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ledgerbot: {e:#}");
            ExitCode::FAILURE
        }
    }
}
