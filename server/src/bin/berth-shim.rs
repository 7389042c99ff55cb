//! berth-shim: the per-container monitor on its own, `berth-shim shim <spec.json>`, and the
//! exec helper, `berth-shim shim-exec <spec.json>`.
//!
//! It is the same code as `berth shim` (berth_engine::runtime::shim), linked without the
//! daemon, the web app and the CLI: a 1.5 MB program instead of 30 MB, so each running
//! container's monitor maps and relocates a small fraction of the pages (its resident memory
//! is about half). The daemon runs it when it sits beside the berth executable, and runs
//! `berth shim` otherwise.

use std::path::Path;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match (args.get(1).map(String::as_str), args.get(2)) {
        (Some("shim"), Some(spec)) if args.len() == 3 => {
            std::process::exit(berth_engine::runtime::shim::main(Path::new(spec)))
        }
        (Some(verb), Some(spec))
            if args.len() == 3 && verb == berth_engine::runtime::exec::VERB =>
        {
            std::process::exit(berth_engine::runtime::exec::main(Path::new(spec)))
        }
        _ => {
            eprintln!("usage: berth-shim shim|shim-exec <spec.json> (started by the berth daemon)");
            std::process::exit(2);
        }
    }
}
