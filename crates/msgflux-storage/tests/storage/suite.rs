//! One suite over any store: what `Storage` promises wherever a location points.

use msgflux_storage::{Claim, Location, MULTIPART_THRESHOLD, Storage, StorageError};

/// The objects the read checks expect under their folder: name and bytes.
pub fn read_fixtures() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("one/a.bin", vec![7u8; 1000]),
        ("one/big.bin", vec![0u8; 2048]),
        ("listed/x.png", b"z".to_vec()),
        ("listed/sub/y.png", b"z".to_vec()),
    ]
}

/// Runs every check under `base` (a folder no one else uses).
pub async fn run_all(storage: &Storage, base: &Location) {
    storage.check_writable(base).await.expect("the folder is writable");
    for (name, bytes) in read_fixtures() {
        storage.write(&base.join(name), bytes.into()).await.expect("write");
    }
    run_reads(storage, base).await;
    a_rewrite_replaces_the_object(storage, base).await;
    put_if_absent_has_exactly_one_winner(storage, base).await;
    a_large_object_goes_up_in_parts_and_reads_back(storage, base).await;
}

/// The checks that only read, over [`read_fixtures`] already under `base`
/// (written by `run_all`, or seeded by other means where msgflux cannot
/// write: GCS's emulator).
pub async fn run_reads(storage: &Storage, base: &Location) {
    an_object_reads_back_whole(storage, base).await;
    a_missing_object_is_not_found_naming_it(storage, base).await;
    an_object_over_the_limit_is_refused(storage, base).await;
    listing_gives_names_relative_to_the_folder(storage, base).await;
}

async fn an_object_reads_back_whole(storage: &Storage, base: &Location) {
    let at = base.join("one/a.bin");
    assert_eq!(storage.read(&at, 1 << 20).await.expect("read"), vec![7u8; 1000]);
}

async fn a_rewrite_replaces_the_object(storage: &Storage, base: &Location) {
    let at = base.join("one/b.txt");
    storage.write(&at, "first".into()).await.expect("write");
    storage.write(&at, "second".into()).await.expect("rewrite");
    assert_eq!(storage.read(&at, 100).await.expect("read"), "second");
}

async fn put_if_absent_has_exactly_one_winner(storage: &Storage, base: &Location) {
    let at = base.join("claims/job.1");
    let contenders: Vec<_> = (0..8)
        .map(|i| {
            let storage = storage.clone();
            let at = at.clone();
            tokio::spawn(async move { storage.create(&at, format!("worker {i}").into()).await })
        })
        .collect();
    let mut created = 0;
    for contender in contenders {
        if contender.await.expect("task").expect("create") == Claim::Created {
            created += 1;
        }
    }
    assert_eq!(created, 1, "exactly one claim wins");
    let winner = storage.read(&at, 100).await.expect("read the claim");
    assert!(winner.starts_with(b"worker "), "the claim is one writer's, whole");
    assert_eq!(storage.create(&at, "late".into()).await.expect("create"), Claim::Taken);
}

async fn a_missing_object_is_not_found_naming_it(storage: &Storage, base: &Location) {
    let at = base.join("nothing/here.png");
    let err = storage.read(&at, 100).await.expect_err("missing");
    assert!(matches!(err, StorageError::NotFound { .. }), "{err:?}");
    assert!(err.to_string().contains("nothing/here.png"), "{err}");
    assert_eq!(storage.read_optional(&at, 100).await.expect("optional"), None);
}

async fn an_object_over_the_limit_is_refused(storage: &Storage, base: &Location) {
    let at = base.join("one/big.bin");
    let err = storage.read(&at, 1024).await.expect_err("over the limit");
    assert!(
        matches!(
            err,
            StorageError::TooLarge {
                size: 2048,
                limit: 1024,
                ..
            }
        ),
        "{err:?}"
    );
}

async fn listing_gives_names_relative_to_the_folder(storage: &Storage, base: &Location) {
    let folder = base.join("listed");
    let names: Vec<String> = storage
        .list(&folder)
        .await
        .expect("list")
        .into_iter()
        .map(|o| o.name)
        .collect();
    assert_eq!(names, ["sub/y.png", "x.png"]);
    assert!(storage.list(&base.join("empty")).await.expect("list").is_empty());
}

async fn a_large_object_goes_up_in_parts_and_reads_back(storage: &Storage, base: &Location) {
    let at = base.join("large.bin");
    let size = MULTIPART_THRESHOLD + 1024 * 1024;
    let bytes: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
    storage.write(&at, bytes.clone().into()).await.expect("multipart write");
    let back = storage.read(&at, size as u64).await.expect("read");
    assert!(back == bytes, "the large object reads back byte for byte");
}
