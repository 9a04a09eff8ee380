//! `softphone`: a SIP client for Lync / Skype for Business servers, built on
//! the `ocer` user agent, that shows MS-OCER client error reporting at work.
//!
//! With no arguments it starts an embedded demo server on loopback
//! (`demo_server.rs`) and walks through the spec's §4.1 flow: registering
//! (with a digest challenge), a call the server fails with 504 after a
//! `101 Progress Report`, an instant message it refuses with 480, and the
//! reportError documents the user agent uploads for both. With `--server` it
//! talks to a real server, interactively or one command at a time
//! (`cli.rs` has the usage).

use std::process::ExitCode;

mod cli;
mod demo_server;
mod output;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match cli::parse(&args) {
        Ok(cli::Invocation::Help) => {
            println!("{}", cli::USAGE);
            ExitCode::SUCCESS
        }
        Ok(_) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("softphone: {message}\n(softphone --help for usage)");
            ExitCode::from(2)
        }
    }
}
