//! `berth-testkit images OUT_DIR [--busybox PATH]`: writes the test images (busybox.tar,
//! busybox-oci/, busybox-oci.tar, whiteout.tar) and prints what it wrote.
//! `berth-testkit ws-fanout …` and `berth-testkit ws-stats …`: the WebSocket clients of
//! scripts/bench.sh (see their modules).

mod cputime;
mod fanout;
mod flags;
mod statswatch;
mod wsconn;

use std::future::Future;
use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage: berth-testkit images OUT_DIR [--busybox PATH]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("ws-fanout") => bench(
            &args[1..],
            &[
                "url",
                "token",
                "container",
                "expect",
                "clients",
                "timeout",
                "probe-path",
                "pid",
            ],
            fanout::USAGE,
            fanout::run,
        ),
        Some("ws-stats") => bench(
            &args[1..],
            &[
                "url",
                "token",
                "containers",
                "clients",
                "per-connection",
                "warmup",
                "seconds",
                "pid",
            ],
            statswatch::USAGE,
            statswatch::run,
        ),
        _ => images(&args),
    }
}

/// Runs a bench subcommand on a tokio runtime: 2 on a usage error, 1 when it fails.
fn bench<F, Fut>(args: &[String], known: &[&str], usage: &str, run: F) -> ExitCode
where
    F: FnOnce(flags::Flags) -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    let flags = match flags::Flags::parse(args, known) {
        Ok(flags) => flags,
        Err(e) => {
            eprintln!("berth-testkit: {e}\nusage: {usage}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("berth-testkit: no tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(flags)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("berth-testkit: {e}");
            ExitCode::FAILURE
        }
    }
}

fn images(args: &[String]) -> ExitCode {
    let (out_dir, busybox) = match args {
        [cmd, out] if cmd == "images" => {
            (PathBuf::from(out), PathBuf::from(berth_testkit::BUSYBOX))
        }
        [cmd, out, flag, path] if cmd == "images" && flag == "--busybox" => {
            (PathBuf::from(out), PathBuf::from(path))
        }
        _ => {
            eprintln!(
                "{USAGE}\n       {}\n       {}",
                fanout::USAGE,
                statswatch::USAGE
            );
            return ExitCode::from(2);
        }
    };
    match berth_testkit::build_busybox_images_from(&busybox, &out_dir) {
        Ok(images) => {
            for (path, image) in [
                (&images.busybox_docker, &images.busybox),
                (&images.busybox_oci_dir, &images.busybox_oci),
                (&images.busybox_oci_tar, &images.busybox_oci),
                (&images.whiteout_docker, &images.whiteout),
            ] {
                println!("{}\t{}\t{}", path.display(), image.tag, image.config_digest);
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("berth-testkit: {e}");
            ExitCode::FAILURE
        }
    }
}
