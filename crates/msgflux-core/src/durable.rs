//! Durable, atomic file writes: every saved result, prepared image and
//! local object goes through [`write_atomic`].

use std::fs::File;
use std::io::Write as _;
use std::path::Path;

use crate::error::{Error, Result};

/// Writes bytes to `path` through a temporary file in the same directory
/// and a rename, durably: the file's data is synced before the rename, and
/// its folder after it, so once this returns the file survives a power loss
/// whole, and a crash before never leaves part of it under `path`.
///
/// On Linux the whole 4 KiB blocks of a file of 64 KiB or more are
/// written with `O_DIRECT`, skipping the page cache: the data is synced
/// before the rename anyway, and not read back.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("out.bin");
/// msgflux_core::write_atomic(&path, b"hello").unwrap();
/// assert_eq!(std::fs::read(&path).unwrap(), b"hello");
/// ```
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(STAGING_PREFIX).suffix(STAGING_SUFFIX);
    // tempfile creates private (0600) files; an output file gets the usual
    // mode a new file has (0666 less the umask), like any other program's.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let tmp = builder.tempfile_in(dir).map_err(|e| Error::io(dir, e))?;
    write_data(tmp.as_file(), bytes).map_err(|e| Error::io(tmp.path(), e))?;
    tmp.as_file().sync_data().map_err(|e| Error::io(tmp.path(), e))?;
    tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    sync_folder(dir)
}

/// The size from which a file's whole blocks are written with `O_DIRECT`.
///
/// Smaller files go through the page cache: their direct part would be
/// a few blocks, and a separate request for the tail costs about as
/// much as it saves. It was 256 KiB; writing a 256x256 result (120 KB)
/// direct too took about a quarter off the CPU of each saved edit
/// (bench/openai/batch.sh 200 5 256).
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
const DIRECT_MIN_BYTES: usize = 64 * 1024;

const STAGING_PREFIX: &str = ".msgflux-";
const STAGING_SUFFIX: &str = ".tmp";

/// Whether a file name is one [`write_atomic`] stages a file under before
/// its rename (a listing taken meanwhile, or after a crash, may see it; it
/// is never a result).
///
/// ```
/// assert!(msgflux_core::is_staging_name(".msgflux-a1B2c3.tmp"));
/// assert!(!msgflux_core::is_staging_name("a.png"));
/// ```
pub fn is_staging_name(file_name: &str) -> bool {
    file_name.starts_with(STAGING_PREFIX) && file_name.ends_with(STAGING_SUFFIX)
}

/// Writes all of `bytes` to a new, empty file. On Linux, a file of at
/// least `DIRECT_MIN_BYTES` has its whole 4 KiB blocks written with
/// `O_DIRECT`, from a reused aligned buffer, and only the tail through the
/// page cache. The data is synced before its rename in any case, and is
/// not read back: through the cache, a batch of 1024x1024 results filled
/// 1.4 MB of new page-cache memory per result and then wrote it out,
/// which cost more system time than the rest of the edit (bench/openai/batch.sh).
/// A file system that refuses direct writes (tmpfs on older kernels, some
/// network ones) gets the ordinary write, from where the direct one stopped.
fn write_data(file: &File, bytes: &[u8]) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    let bytes = &bytes[direct::write_whole_blocks(file, bytes)?..];
    let mut file = file;
    file.write_all(bytes)
}

#[cfg(target_os = "linux")]
mod direct {
    use std::cell::RefCell;
    use std::fs::File;
    use std::io::Write as _;

    use rustix::fs::{OFlags, fcntl_getfl, fcntl_setfl};

    /// The alignment of a direct write's memory, length and file offset:
    /// a page, which covers every logical block size in use.
    const ALIGN: usize = 4096;
    /// The aligned buffer's largest size: a 1024x1024 result takes two writes.
    const CHUNK: usize = 1 << 20;

    thread_local! {
        // One per thread that writes large files, kept: allocating it per
        // file would pay the fresh-memory cost this avoids.
        static BOUNCE: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    }

    /// Writes the longest whole-block prefix of `bytes` it can with
    /// `O_DIRECT`, restores the file's flags, and returns how many bytes
    /// it wrote (0 when the file is small or its file system refuses).
    pub(super) fn write_whole_blocks(file: &File, bytes: &[u8]) -> std::io::Result<usize> {
        if bytes.len() < super::DIRECT_MIN_BYTES {
            return Ok(0);
        }
        let whole = bytes.len() / ALIGN * ALIGN;
        let Ok(flags) = fcntl_getfl(file) else {
            return Ok(0);
        };
        if fcntl_setfl(file, flags | OFlags::DIRECT).is_err() {
            return Ok(0);
        }
        let written = BOUNCE.with(|bounce| {
            let mut bounce = bounce.borrow_mut();
            // As large as this file needs, up to a chunk: small results
            // keep the buffer (and the memory it holds) small.
            let chunk = whole.min(CHUNK);
            if bounce.len() < chunk + ALIGN {
                bounce.resize(chunk + ALIGN, 0);
            }
            let start = bounce.as_ptr().align_offset(ALIGN);
            let aligned = &mut bounce[start..start + chunk];
            let mut written = 0;
            let mut out = file;
            while written < whole {
                let len = (whole - written).min(chunk);
                aligned[..len].copy_from_slice(&bytes[written..written + len]);
                match out.write(&aligned[..len]) {
                    // A short write leaves the offset off the block grid.
                    Ok(n) if n == len => written += n,
                    Ok(n) => {
                        written += n;
                        break;
                    }
                    // Refused (EINVAL: this file system or device wants
                    // another alignment) or failed: the ordinary write
                    // goes on from here and reports a real failure itself.
                    Err(_) => break,
                }
            }
            written
        });
        // The tail (and any retry) needs the ordinary write.
        fcntl_setfl(file, flags)?;
        Ok(written)
    }
}

/// Syncs a folder, so a name just created or renamed in it is on disk.
#[cfg(unix)]
fn sync_folder(dir: &Path) -> Result<()> {
    std::fs::File::open(dir)
        .and_then(|folder| folder.sync_all())
        .map_err(|e| Error::io(dir, e))
}

/// Windows has no handle to sync a folder by; its rename is journalled by NTFS.
#[cfg(not(unix))]
fn sync_folder(_dir: &Path) -> Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytes no two positions of which repeat in a short cycle, so a block
    /// written at the wrong offset shows.
    fn distinct_bytes(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect()
    }

    /// Folders on the disk the tests run from (where direct writes are
    /// usually taken) and in the system's temporary folder (often tmpfs).
    fn folders() -> Vec<tempfile::TempDir> {
        let on_disk = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target");
        let _ = std::fs::create_dir_all(&on_disk);
        let mut dirs = vec![tempfile::tempdir().expect("tempdir")];
        if let Ok(dir) = tempfile::tempdir_in(&on_disk) {
            dirs.push(dir);
        }
        dirs
    }

    /// Writes `len` distinct bytes into each of [`folders`] and reads them back.
    fn assert_reads_back_exactly(len: usize) {
        let bytes = distinct_bytes(len);
        for dir in folders() {
            let path = dir.path().join("out.png");
            write_atomic(&path, &bytes).expect("write");
            assert!(
                std::fs::read(&path).expect("read") == bytes,
                "{len} bytes in {}",
                dir.path().display()
            );
        }
    }

    #[test]
    fn a_large_file_with_a_partial_last_block_reads_back_exactly() {
        assert_reads_back_exactly(3 * (1 << 20) + 4096 * 5 + 123);
    }

    #[test]
    fn a_large_file_of_whole_blocks_reads_back_exactly() {
        assert_reads_back_exactly(2 * (1 << 20));
    }

    #[test]
    fn a_file_just_under_the_direct_write_size_reads_back_exactly() {
        assert_reads_back_exactly(DIRECT_MIN_BYTES - 1);
    }

    #[test]
    fn a_file_just_over_the_direct_write_size_reads_back_exactly() {
        assert_reads_back_exactly(DIRECT_MIN_BYTES + 4096 + 1);
    }

    #[test]
    fn files_written_one_after_another_read_back_exactly_whatever_their_order_of_size() {
        // One thread's buffer grows for the second file and is reused, larger
        // than needed, for the third.
        for len in [DIRECT_MIN_BYTES + 100, 3 * (1 << 20) + 7, DIRECT_MIN_BYTES + 4096 * 3] {
            assert_reads_back_exactly(len);
        }
    }

    #[test]
    fn rewriting_a_larger_file_with_a_smaller_one_leaves_only_the_new_bytes() {
        for dir in folders() {
            let path = dir.path().join("again.png");
            write_atomic(&path, &distinct_bytes(1 << 21)).expect("first");
            let second = distinct_bytes(300 * 1024 + 7);
            write_atomic(&path, &second).expect("second");
            assert!(std::fs::read(&path).expect("read") == second);
            let names: Vec<_> = std::fs::read_dir(dir.path()).expect("ls").collect();
            assert_eq!(names.len(), 1, "no staging file is left");
        }
    }

    #[cfg(unix)]
    #[test]
    fn an_atomically_written_file_gets_the_usual_mode_not_a_private_one() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("out.png");
        write_atomic(&path, b"x").expect("write");
        let mode = std::fs::metadata(&path).expect("stat").permissions().mode() & 0o777;
        assert_ne!(
            mode & 0o044,
            0,
            "group/other can read unless the umask forbids it: {mode:o}"
        );
    }
}
