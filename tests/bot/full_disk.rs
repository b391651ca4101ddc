//! A really full disk: the database lives on a small tmpfs, which is then filled to the last byte, so SQLite's
//! own writes fail with ENOSPC ("database or disk is full"), as on a server whose disk ran full. Mounting needs
//! root (or CAP_SYS_ADMIN); where that is not allowed the test says so and leaves the case to the injected
//! fault in `faults.rs`.
use crate::harness::TestBot;
use milava_bot::fault_log::Fault;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use testkit::story::faults::{
    assert_carries_on, assert_refused_politely, pekka_at_his_name_and_sam,
};

/// A tmpfs of `size` mounted on a fresh temporary directory; unmounted when dropped.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(size: &str) -> Option<SmallDisk> {
        let dir = tempfile::tempdir().expect("temp dir");
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size},mode=0700")])
            .arg("milava-full-disk-test")
            .arg(dir.path())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        mounted.then_some(SmallDisk { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file until the file system has no byte left; returns its path.
    fn fill(&self) -> PathBuf {
        let filler = self.path().join("filler");
        let mut file = std::fs::File::create(&filler).expect("filler file");
        for chunk in [64 * 1024, 4096, 1] {
            let bytes = vec![0xA5u8; chunk];
            while file.write_all(&bytes).is_ok() {}
        }
        let _ = file.flush();
        filler
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        // Lazy: whatever still holds a file there (a pool closing) does not keep the mount.
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_full_disk_users_are_told_politely_nothing_stored_is_lost_and_it_recovers_when_space_returns()
 {
    let Some(disk) = SmallDisk::mount("16m") else {
        eprintln!(
            "full_disk: cannot mount a tmpfs here (needs root); the injected fault test covers this case"
        );
        return;
    };
    let url = format!("sqlite://{}", disk.path().join("milava.db").display());
    let bot = TestBot::start_with(&[("DATABASE_URL", &url)]).await;
    let (pekka, sam) = pekka_at_his_name_and_sam(&bot, 8201).await;
    assert_eq!(
        bot.stored_step(&pekka).await.as_deref(),
        Some("father_name")
    );

    // Empty the write-ahead log, so the next write needs new blocks rather than reusing old ones.
    let (busy, _, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
        .fetch_one(&bot.db)
        .await
        .unwrap();
    assert_eq!(busy, 0, "the log was emptied");
    let filler = disk.fill();

    assert_refused_politely(&bot, &pekka, &sam).await;
    let faults = bot.ctx().faults;
    assert_eq!(faults.lines_logged(Fault::Handling), 1, "logged once");
    assert_eq!(
        bot.stored_step(&pekka).await.as_deref(),
        Some("father_name"),
        "what was stored stays"
    );

    std::fs::remove_file(filler).unwrap();
    assert_carries_on(&bot, &pekka, &sam).await;
    assert_eq!(
        faults.lines_logged(Fault::Handling),
        2,
        "and once more when it is over"
    );
    drop(bot);
}

/// Remounts the disk with `options`, retrying for a moment: a closed pool's connection threads may still be
/// letting go of the file ("mount point is busy").
async fn remount(disk: &SmallDisk, options: &str) {
    for _ in 0..50 {
        let done = Command::new("mount")
            .args(["-o", &format!("remount,{options}")])
            .arg(disk.path())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        if done.success() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("could not remount {options}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_on_a_read_only_file_system_is_named_as_such_at_start_and_works_when_writable_again()
 {
    let Some(disk) = SmallDisk::mount("16m") else {
        eprintln!("read-only start: cannot mount a tmpfs here (needs root); skipped");
        return;
    };
    let file = disk.path().join("milava.db");
    let url = format!("sqlite://{}", file.display());
    milava_bot::db::connect(&url).await.unwrap().close().await;
    remount(&disk, "ro").await;

    let error = milava_bot::db::connect(&url).await.unwrap_err().to_string();
    assert!(
        error.contains(&file.display().to_string()) && error.contains("Read-only file system"),
        "{error}"
    );

    remount(&disk, "rw").await;
    let pool = milava_bot::db::connect(&url).await.expect("opens again");
    milava_bot::db::stats::ping(&pool).await.unwrap();
    pool.close().await;
}
