//! Every input form users can hand over, and the errors for bad ones.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use base64::Engine as _;
use msgflux_core::kit::testkit::sample_image;
use msgflux_core::{AddressPolicy, EditRequest, Error, ImageFormat, ImageInput, InputLoader, InputOrigin};

/// A file server on 127.0.0.1 with the misbehaviours downloads must survive.
async fn serve() -> SocketAddr {
    async fn photo() -> Response {
        ([(header::CONTENT_TYPE, "image/png")], sample_image(32, 16)).into_response()
    }
    async fn big() -> Response {
        vec![0u8; 4096].into_response()
    }
    async fn big_without_length() -> Response {
        let chunks = futures::stream::iter((0..64).map(|_| Ok::<_, std::io::Error>(vec![0u8; 1024])));
        Body::from_stream(chunks).into_response()
    }
    async fn redirect(Path(n): Path<u32>) -> Response {
        if n == 0 {
            Redirect::temporary("/photo.png").into_response()
        } else {
            Redirect::temporary(&format!("/redirect/{}", n - 1)).into_response()
        }
    }
    async fn slow() -> Response {
        tokio::time::sleep(Duration::from_secs(30)).await;
        photo().await
    }
    async fn text() -> Response {
        "<html>not an image</html>".into_response()
    }
    let app = Router::new()
        .route("/photo.png", get(photo))
        .route("/big", get(big))
        .route("/big-without-length", get(big_without_length))
        .route("/redirect/{n}", get(redirect))
        .route("/slow", get(slow))
        .route("/page.png", get(text))
        .route("/gone", get(|| async { StatusCode::NOT_FOUND }))
        .route(
            "/to-metadata",
            get(|| async { Redirect::temporary("http://169.254.169.254/latest/meta-data/") }),
        )
        .route(
            "/to-private",
            get(|| async { Redirect::temporary("http://10.0.0.1/photo.png") }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

#[tokio::test]
async fn a_url_is_downloaded_and_keeps_its_origin() {
    let addr = serve().await;
    let url = format!("http://{addr}/photo.png");
    let img = InputLoader::default()
        .load(&ImageInput::from(url.as_str()), "image")
        .await
        .expect("load");
    assert_eq!((img.width, img.height, img.format), (32, 16, ImageFormat::Png));
    assert_eq!(img.filename, "photo.png");
    assert_eq!(img.origin, InputOrigin::Url(url));
}

#[tokio::test]
async fn an_oversize_download_with_a_content_length_is_refused() {
    let addr = serve().await;
    let err = InputLoader::default()
        .with_max_bytes(1000)
        .load(&ImageInput::from(format!("http://{addr}/big")), "image")
        .await
        .expect_err("too big");
    assert!(
        matches!(&err, Error::InvalidInput { param, .. } if param == "image"),
        "{err}"
    );
    assert!(err.to_string().contains("over the 1000-byte limit"), "{err}");
}

#[tokio::test]
async fn an_oversize_streamed_download_is_cut_off_at_the_limit() {
    let addr = serve().await;
    let err = InputLoader::default()
        .with_max_bytes(10_000)
        .load(&ImageInput::from(format!("http://{addr}/big-without-length")), "mask")
        .await
        .expect_err("too big");
    assert!(err.to_string().contains("over the 10000-byte limit"), "{err}");
}

#[tokio::test]
async fn redirects_are_followed_up_to_the_limit() {
    let addr = serve().await;
    let loader = InputLoader::default().with_max_redirects(3);
    loader
        .load(&ImageInput::from(format!("http://{addr}/redirect/2")), "image")
        .await
        .expect("three hops are fine");
    let err = loader
        .load(&ImageInput::from(format!("http://{addr}/redirect/5")), "image")
        .await
        .expect_err("six hops are too many");
    assert!(err.to_string().contains("redirect"), "{err}");
}

#[tokio::test]
async fn a_slow_download_times_out() {
    let addr = serve().await;
    let err = InputLoader::default()
        .with_timeout(Duration::from_millis(100))
        .load(&ImageInput::from(format!("http://{addr}/slow")), "image")
        .await
        .expect_err("slow");
    assert!(
        matches!(
            err,
            Error::Timeout {
                maybe_billed: false,
                ..
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn a_missing_url_is_not_found() {
    let addr = serve().await;
    let err = InputLoader::default()
        .load(&ImageInput::from(format!("http://{addr}/gone")), "image")
        .await
        .expect_err("404");
    assert!(matches!(err, Error::NotFound(_)), "{err}");
}

#[tokio::test]
async fn a_web_page_is_not_an_image() {
    let addr = serve().await;
    let err = InputLoader::default()
        .load(&ImageInput::from(format!("http://{addr}/page.png")), "image")
        .await
        .expect_err("html");
    assert!(err.to_string().contains("not a supported image"), "{err}");
}

#[tokio::test]
async fn a_file_path_loads_with_its_name_and_origin() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("shot.png");
    std::fs::write(&path, sample_image(8, 8)).expect("write");
    let img = InputLoader::default()
        .load(&ImageInput::from(&path), "image")
        .await
        .expect("load");
    assert_eq!(img.filename, "shot.png");
    assert_eq!(img.origin, InputOrigin::Path(path));
}

#[tokio::test]
async fn a_text_file_named_png_is_refused_naming_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("notes.png");
    std::fs::write(&path, "shopping list").expect("write");
    let err = InputLoader::default()
        .load(&ImageInput::from(&path), "image")
        .await
        .expect_err("text");
    let text = err.to_string();
    assert!(
        text.contains("notes.png") && text.contains("not a supported image"),
        "{text}"
    );
}

#[tokio::test]
async fn a_string_that_names_an_existing_file_is_a_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("a.png");
    std::fs::write(&path, sample_image(4, 4)).expect("write");
    assert!(matches!(
        ImageInput::from(path.to_string_lossy().as_ref()),
        ImageInput::Path(_)
    ));
}

#[tokio::test]
async fn every_input_of_a_request_is_named_in_errors() {
    let request = EditRequest::new("x")
        .image(sample_image(8, 8))
        .image("missing/second.png")
        .mask(sample_image(8, 8));
    let err = request
        .load(&InputLoader::default())
        .await
        .expect_err("second image is missing");
    assert!(
        matches!(&err, Error::InvalidInput { param, .. } if param == "image[1]"),
        "{err}"
    );
}

#[tokio::test]
async fn bare_base64_and_data_uris_give_the_same_image() {
    let png = sample_image(5, 7);
    let b64 = base64::engine::general_purpose::STANDARD.encode(&png);
    let loader = InputLoader::default();
    let from_b64 = loader
        .load(&ImageInput::from(b64.clone()), "image")
        .await
        .expect("base64");
    let from_uri = loader
        .load(&ImageInput::from(format!("data:image/png;base64,{b64}")), "image")
        .await
        .expect("data uri");
    assert_eq!(from_b64.bytes, from_uri.bytes);
    assert_eq!(from_b64.bytes.as_ref(), png.as_slice());
}

/// The gateway's policy, allowing only the test server's own address.
fn public_only_but(addr: SocketAddr) -> InputLoader {
    InputLoader::default().with_address_policy(AddressPolicy::PublicOnly {
        allow: vec![addr.ip().to_string().parse().expect("net")],
    })
}

fn assert_refused(err: &Error, needle: &str) {
    assert!(
        matches!(err, Error::InvalidInput { param, .. } if param == "image"),
        "{err}"
    );
    assert!(err.to_string().contains(needle), "{err}");
    assert!(err.to_string().contains("only public addresses"), "{err}");
}

#[tokio::test]
async fn public_only_refuses_a_loopback_address() {
    let addr = serve().await;
    let err = InputLoader::default()
        .with_address_policy(AddressPolicy::PublicOnly { allow: vec![] })
        .load(&ImageInput::from(format!("http://{addr}/photo.png")), "image")
        .await
        .expect_err("loopback");
    assert_refused(&err, "127.0.0.1 is not a public address");
}

#[tokio::test]
async fn public_only_refuses_a_name_that_resolves_to_loopback() {
    let addr = serve().await;
    let err = InputLoader::default()
        .with_address_policy(AddressPolicy::PublicOnly { allow: vec![] })
        .load(
            &ImageInput::from(format!("http://localhost:{}/photo.png", addr.port())),
            "image",
        )
        .await
        .expect_err("localhost");
    assert_refused(&err, "localhost resolves to");
}

#[tokio::test]
async fn public_only_refuses_the_metadata_address_without_connecting() {
    let err = InputLoader::default()
        .with_address_policy(AddressPolicy::PublicOnly { allow: vec![] })
        .load(&ImageInput::from("http://169.254.169.254/latest/meta-data/"), "image")
        .await
        .expect_err("metadata");
    assert_refused(&err, "169.254.169.254");
}

#[tokio::test]
async fn public_only_checks_every_redirect() {
    let addr = serve().await;
    let loader = public_only_but(addr);
    loader
        .load(&ImageInput::from(format!("http://{addr}/photo.png")), "image")
        .await
        .expect("the allowed test server is reachable");
    for path in ["to-metadata", "to-private"] {
        let err = loader
            .load(&ImageInput::from(format!("http://{addr}/{path}")), "image")
            .await
            .expect_err("redirect to a non-public address");
        assert!(err.to_string().contains("not a public address"), "{path}: {err}");
    }
}

#[tokio::test]
async fn public_only_with_an_injected_client_is_a_configuration_error() {
    let err = InputLoader::default()
        .with_address_policy(AddressPolicy::PublicOnly { allow: vec![] })
        .with_client(msgflux_core::kit::http::client_builder().build().expect("client"))
        .load(&ImageInput::from("http://93.184.216.34/photo.png"), "image")
        .await
        .expect_err("both set");
    assert!(matches!(err, Error::Config { .. }), "{err}");
}
