//! `berth-testkit images OUT_DIR [--busybox PATH]`: writes the test images (busybox.tar,
//! busybox-oci/, busybox-oci.tar, whiteout.tar) and prints what it wrote.

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage: berth-testkit images OUT_DIR [--busybox PATH]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (out_dir, busybox) = match args.as_slice() {
        [cmd, out] if cmd == "images" => {
            (PathBuf::from(out), PathBuf::from(berth_testkit::BUSYBOX))
        }
        [cmd, out, flag, path] if cmd == "images" && flag == "--busybox" => {
            (PathBuf::from(out), PathBuf::from(path))
        }
        _ => {
            eprintln!("{USAGE}");
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
