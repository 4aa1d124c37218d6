//! Starting a gateway on 127.0.0.1 for one test, and the requests tests send.

use std::net::SocketAddr;

use msgflux_core::Registry;
use msgflux_core::kit::testkit::{sample_image, sample_mask};
use msgflux_server::{Gateway, ServerConfig};
use reqwest::multipart::{Form, Part};
use tokio::sync::oneshot;

/// A gateway serving on a free port until dropped.
pub struct Running {
    pub addr: SocketAddr,
    pub base: String,
    stop: Option<oneshot::Sender<()>>,
    pub task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl Running {
    /// Starts the shutdown and waits for the server to finish.
    pub async fn shut_down(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("join").expect("serve");
        }
    }

    /// Starts the shutdown without waiting.
    pub fn begin_shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A gateway with these settings (TOML) and these gateway keys (comma-separated).
pub async fn start(toml_text: &str, keys: Option<&str>) -> Running {
    let config: ServerConfig = toml::from_str(toml_text).expect("config");
    let gateway = Gateway::with_registry(config, Registry::global(), keys).expect("gateway");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(gateway.serve(listener, async move {
        let _ = stopped.await;
    }));
    Running {
        addr,
        base: format!("http://{addr}"),
        stop: Some(stop),
        task: Some(task),
    }
}

/// A gateway with the OpenAI emulator as the upstream of `openai/...` models.
pub async fn start_before_openai(emulator: &msgflux_emulators::openai::Emulator) -> Running {
    start(
        &format!(
            r#"
            [providers.openai]
            base_url = "{}"
            api_key = "{}"
            "#,
            emulator.base_url(),
            emulator.key()
        ),
        None,
    )
    .await
}

/// The offline gateway most tests use: local fill, no keys.
pub async fn start_local() -> Running {
    start(r#"default_model = "local/telea""#, None).await
}

/// `GET` a path of the gateway.
pub async fn get(gateway: &Running, path: &str) -> reqwest::Response {
    client().get(gateway.url(path)).send().await.expect("send")
}

/// The `error.violations` parameters of an error body, in order.
pub fn violation_params(error: &serde_json::Value) -> Vec<String> {
    error["violations"]
        .as_array()
        .expect("violations")
        .iter()
        .map(|v| v["param"].as_str().expect("param").to_string())
        .collect()
}

/// `POST /v1/images/edits` with this form.
pub async fn post_edit(gateway: &Running, form: Form) -> reqwest::Response {
    client()
        .post(gateway.url("/v1/images/edits"))
        .multipart(form)
        .send()
        .await
        .expect("send")
}

pub fn client() -> reqwest::Client {
    msgflux_core::kit::http::client_builder().build().expect("client")
}

pub fn png(width: u32, height: u32) -> Vec<u8> {
    sample_image(width, height)
}

pub fn mask(width: u32, height: u32) -> Vec<u8> {
    sample_mask(width, height)
}

pub fn file(bytes: Vec<u8>, name: &str) -> Part {
    Part::bytes(bytes)
        .file_name(name.to_string())
        .mime_str("image/png")
        .expect("mime")
}

/// A multipart edit as the SDKs send it: a 64x48 image, its mask, prompt, then the fields.
pub fn edit_form(fields: &[(&str, &str)]) -> Form {
    edit_form_sized(64, 48, fields)
}

/// A dall-e-2 edit (square input) through the `dall-e-2` alias.
pub fn openai_form() -> Form {
    edit_form_sized(64, 64, &[("model", "dall-e-2"), ("size", "256x256")])
}

/// As [`edit_form`], with an image and mask of this size.
pub fn edit_form_sized(width: u32, height: u32, fields: &[(&str, &str)]) -> Form {
    let mut form = Form::new()
        .part("image", file(png(width, height), "photo.png"))
        .part("mask", file(mask(width, height), "mask.png"))
        .text("prompt", "remove the object");
    for (name, value) in fields {
        form = form.text(name.to_string(), value.to_string());
    }
    form
}

/// The `error` object of an OpenAI error body.
pub async fn error_of(response: reqwest::Response) -> serde_json::Value {
    let body: serde_json::Value = response.json().await.expect("json error body");
    body["error"].clone()
}
