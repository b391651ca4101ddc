//! Files the bot writes beside its database (exports, backups, the simulator's documents): always new files,
//! readable by their owner only, never through a symbolic link. They hold personal data.
use std::fs::File;
use std::io;
use std::path::Path;

/// Creates `path` as a new file with mode 0600. An existing file (or a symbolic link, even a dangling one) is
/// refused with `ErrorKind::AlreadyExists` and left as it was: `O_CREAT | O_EXCL`, plus `O_NOFOLLOW`.
pub fn create_new_private(path: &Path) -> io::Result<File> {
    let mut open = std::fs::OpenOptions::new();
    open.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        open.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    open.open(path)
}

/// Writes `bytes` to the new private file `path` (see `create_new_private`) and flushes it to disk. A file
/// that could not be written completely is removed again.
pub fn write_new_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    let mut file = create_new_private(path)?;
    let written = file.write_all(bytes).and_then(|()| file.sync_all());
    if written.is_err() {
        let _ = std::fs::remove_file(path);
    }
    written
}

/// Creates the folder `dir` (and its parents) for private files: mode 0700 where it is new.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_new_file_is_owner_only_and_an_existing_one_or_a_link_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("export.csv");
        write_new_private(&path, b"one").unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);

        let again = write_new_private(&path, b"two").unwrap_err();
        assert_eq!(again.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&path).unwrap(), b"one");

        let victim = dir.path().join("victim");
        std::fs::write(&victim, b"keep").unwrap();
        let link = dir.path().join("link.csv");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        assert!(write_new_private(&link, b"evil").is_err());
        assert_eq!(std::fs::read(&victim).unwrap(), b"keep");
        let dangling = dir.path().join("dangling.csv");
        std::os::unix::fs::symlink(dir.path().join("nowhere"), &dangling).unwrap();
        assert!(write_new_private(&dangling, b"evil").is_err());
        assert!(!dir.path().join("nowhere").exists());
    }
}
