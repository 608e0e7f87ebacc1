//! A small filesystem for tests that fill the disk: a size-limited tmpfs mounted on a temporary
//! directory (needs root). Outside CI a test that cannot mount one is skipped with a loud message;
//! under CI (`CI=true`) it fails.

#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

pub struct SmallFs {
    dir: tempfile::TempDir,
    filler: PathBuf,
}

impl SmallFs {
    /// A tmpfs of `megabytes` MB, or `None` (skipped loudly) when it cannot be mounted here.
    pub fn mount(megabytes: u32) -> Option<SmallFs> {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
            .arg(dir.path())
            .output();
        match out {
            Ok(o) if o.status.success() => Some(SmallFs {
                filler: dir.path().join("filler"),
                dir,
            }),
            other => {
                let why = match other {
                    Ok(o) => String::from_utf8_lossy(&o.stderr).into_owned(),
                    Err(e) => e.to_string(),
                };
                assert!(
                    std::env::var("CI").as_deref() != Ok("true"),
                    "a small tmpfs is required under CI (run as root), but mounting failed: {why}"
                );
                eprintln!("SKIPPING this full-disk test: cannot mount a small tmpfs: {why}");
                None
            }
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Fills what space is left with a file of its own.
    pub fn fill(&self) {
        let mut f = std::fs::File::create(&self.filler).unwrap();
        let block = vec![0u8; 64 * 1024];
        while f.write_all(&block).is_ok() {}
        // The last bytes a block did not fit.
        while f.write_all(&block[..512]).is_ok() {}
        let _ = f.sync_all();
    }

    /// Gives the space back.
    pub fn free(&self) {
        let _ = std::fs::remove_file(&self.filler);
    }
}

impl Drop for SmallFs {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}
