//! Uses the third-party `acme` provider through the msgflux facade.
//!
//! ```text
//! cargo run -p custom-provider -- [IMAGE] [MASK] [OUT]
//! ```

// Naming the crate is what links its registration into this program.
use acme_msgflux as _;
use msgflux as mf;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let mut args = std::env::args().skip(1);
    let image = args.next().unwrap_or_else(|| format!("{root}/assets/chelsea.png"));
    let out = args
        .next()
        .unwrap_or_else(|| format!("{root}/out/custom-provider/chelsea-sepia.png"));

    let model = mf::Model::image_text_to_image("acme/sepia")?;
    let response = model.edit("(acme ignores prompts)").image(image.as_str()).await?;
    let saved = response.images[0].save(&out).await?;
    println!(
        "{} registered; wrote {}",
        mf::Registry::global().names().join(", "),
        saved.display()
    );
    Ok(())
}
