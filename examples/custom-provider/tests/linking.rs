//! A third-party provider is found once its crate is named, with no change to msgflux.

use acme_msgflux as _;
use msgflux::{Error, Model, Registry};

#[test]
fn naming_the_crate_links_its_registration() {
    assert!(Registry::global().names().contains(&"acme".to_string()));
}

#[tokio::test]
async fn the_plugin_edits_through_the_facade_api() {
    let model = Model::image_text_to_image("acme/grayscale").expect("registered");
    let photo = concat!(env!("CARGO_MANIFEST_DIR"), "/../../assets/coffee.png");
    let response = model.edit("ignored").image(photo).await.expect("edit");
    let img = response.images[0].to_image().await.expect("decode").to_rgba8();
    let px = img.get_pixel(300, 200);
    assert!(
        px[0] == px[1] && px[1] == px[2],
        "grey everywhere without a mask: {px:?}"
    );
    assert!(!response.prompt_used);
}

#[test]
fn an_unknown_model_of_the_plugin_is_invalid_input() {
    let err = Model::image_text_to_image("acme/neon").expect_err("no such model");
    assert!(
        matches!(&err, Error::InvalidInput { param, .. } if param == "model"),
        "{err}"
    );
}
