//! `msgflux edit`: real local fills, and OpenAI through the emulator.

use std::path::{Path, PathBuf};

use msgflux_emulators::engine::PartValue;
use msgflux_emulators::openai::{EMULATOR_KEY, Emulator};

use crate::common::{code, file_names, json, msgflux, openai_emulator, stderr, stdout, write_mask, write_photo};

/// A 64x48 photo and a mask editing a 16x12 hole, in a fresh directory.
struct Inputs {
    dir: tempfile::TempDir,
    photo: PathBuf,
    mask: PathBuf,
}

fn inputs() -> Inputs {
    let dir = tempfile::tempdir().expect("tempdir");
    let photo = dir.path().join("photo.png");
    let mask = dir.path().join("mask.png");
    write_photo(&photo, 64, 48);
    write_mask(&mask, 64, 48, (24, 18, 16, 12));
    Inputs { dir, photo, mask }
}

fn local_edit(inputs: &Inputs, model: &str) -> assert_cmd::Command {
    let mut cmd = msgflux();
    cmd.args(["edit", "--model", model, "--prompt", "remove the object", "--image"])
        .arg(&inputs.photo)
        .arg("--mask")
        .arg(&inputs.mask);
    cmd
}

fn out_dir(inputs: &Inputs) -> PathBuf {
    inputs.dir.path().join("out")
}

#[test]
fn a_local_edit_saves_the_result_into_out_and_prints_its_path() {
    let inputs = inputs();
    let out = out_dir(&inputs);
    let output = local_edit(&inputs, "local/patchmatch")
        .arg("--out")
        .arg(&out)
        .output()
        .expect("run");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let saved = out.join("photo-edited.png");
    assert_eq!(stdout(&output).trim(), saved.display().to_string());
    let result = image::open(&saved).expect("result decodes").to_rgb8();
    let original = image::open(&inputs.photo).expect("photo").to_rgb8();
    assert_eq!(result.dimensions(), original.dimensions());
    // Outside the mask the fill copies the original back exactly.
    assert_eq!(result.get_pixel(2, 2), original.get_pixel(2, 2));
    assert_eq!(result.get_pixel(60, 44), original.get_pixel(60, 44));
}

#[test]
fn a_local_edit_says_the_prompt_was_not_followed() {
    let inputs = inputs();
    let output = local_edit(&inputs, "local/telea")
        .arg("--out")
        .arg(out_dir(&inputs))
        .output()
        .expect("run");
    assert!(
        stderr(&output).contains("does not follow the prompt"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn several_variations_are_saved_as_numbered_files() {
    let inputs = inputs();
    let out = out_dir(&inputs);
    let output = local_edit(&inputs, "local/patchmatch")
        .args(["-n", "2", "--seed", "3", "--out"])
        .arg(&out)
        .output()
        .expect("run");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(file_names(&out), ["photo-edited-0.png", "photo-edited-1.png"]);
}

#[test]
fn without_out_the_result_is_printed_as_a_data_url() {
    let inputs = inputs();
    let output = local_edit(&inputs, "local/telea").output().expect("run");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(
        stdout(&output).starts_with("data:image/png;base64,"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn json_output_is_one_document_with_the_saved_paths() {
    let inputs = inputs();
    let out = out_dir(&inputs);
    let output = local_edit(&inputs, "local/telea")
        .args(["--json", "--out"])
        .arg(&out)
        .output()
        .expect("run");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let doc = json(&output);
    assert_eq!(doc["model"], "local/telea");
    assert_eq!(doc["prompt_used"], false);
    let path = doc["results"][0]["path"].as_str().expect("path");
    assert!(Path::new(path).is_file(), "{path}");
}

#[test]
fn options_are_typed_and_passed_to_the_model() {
    let inputs = inputs();
    let output = local_edit(&inputs, "local/telea")
        .args(["--option", "radius=3", "--json"])
        .output()
        .expect("run");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(json(&output)["metadata"]["algorithm"], "telea");
}

#[test]
fn an_unknown_option_lists_the_accepted_ones_and_exits_2() {
    let inputs = inputs();
    let output = local_edit(&inputs, "local/patchmatch")
        .args(["--option", "quality=high"])
        .output()
        .expect("run");
    assert_eq!(code(&output), 2);
    assert_eq!(
        stderr(&output).trim(),
        "error: invalid option quality: is not accepted by this model; accepted: patch_size, iterations (see `msgflux providers`)"
    );
}

#[test]
fn an_option_out_of_range_names_the_rule_and_exits_2() {
    let inputs = inputs();
    let output = local_edit(&inputs, "local/patchmatch")
        .args(["--option", "patch_size=99"])
        .output()
        .expect("run");
    assert_eq!(code(&output), 2);
    assert!(
        stderr(&output).contains("invalid option patch_size: must be between 3 and 15, got 99"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_mask_of_another_size_is_refused_with_both_sizes_and_exits_2() {
    let inputs = inputs();
    write_mask(&inputs.mask, 32, 32, (4, 4, 8, 8));
    let out = out_dir(&inputs);
    let output = local_edit(&inputs, "local/patchmatch")
        .arg("--out")
        .arg(&out)
        .output()
        .expect("run");
    assert_eq!(code(&output), 2);
    assert_eq!(
        stderr(&output).trim(),
        "error: invalid mask: mask is 32x32 but image is 64x48; they must be the same size"
    );
    assert!(file_names(&out).is_empty(), "{:?}", file_names(&out));
}

#[test]
fn a_missing_image_file_is_named_and_exits_2() {
    let inputs = inputs();
    let output = msgflux()
        .args([
            "edit",
            "-m",
            "local/telea",
            "-p",
            "x",
            "-i",
            "no-such-photo.png",
            "--mask",
        ])
        .arg(&inputs.mask)
        .output()
        .expect("run");
    assert_eq!(code(&output), 2);
    assert!(
        stderr(&output).contains("invalid image: file not found: no-such-photo.png"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn an_unknown_provider_exits_2_and_lists_the_registered_ones() {
    let inputs = inputs();
    let output = local_edit(&inputs, "acme/fill").output().expect("run");
    assert_eq!(code(&output), 2);
    let text = stderr(&output);
    let registered = text
        .split("registered: ")
        .nth(1)
        .unwrap_or_else(|| panic!("no list in {text}"));
    for name in ["azure", "local", "openai", "replicate"] {
        assert!(registered.contains(name), "{name} missing from {text}");
    }
}

#[test]
fn a_model_that_needs_a_key_without_one_exits_2() {
    let inputs = inputs();
    let output = local_edit(&inputs, "openai/gpt-image-1").output().expect("run");
    assert_eq!(code(&output), 2);
    assert!(stderr(&output).contains("OPENAI_API_KEY"), "{}", stderr(&output));
}

#[test]
fn api_key_env_naming_an_unset_variable_exits_2() {
    let inputs = inputs();
    let output = local_edit(&inputs, "openai/gpt-image-1")
        .args(["--api-key-env", "MSGFLUX_TEST_UNSET_KEY"])
        .output()
        .expect("run");
    assert_eq!(code(&output), 2);
    assert!(
        stderr(&output).contains("invalid api-key-env: the environment variable MSGFLUX_TEST_UNSET_KEY is not set"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn compare_without_out_is_a_usage_error() {
    let inputs = inputs();
    let output = local_edit(&inputs, "local/telea")
        .arg("--compare")
        .output()
        .expect("run");
    assert_eq!(code(&output), 2);
    assert!(stderr(&output).contains("--out"), "{}", stderr(&output));
}

fn openai_edit(emulator: &Emulator, inputs: &Inputs, model: &str, prompt: &str) -> assert_cmd::Command {
    let mut cmd = msgflux();
    cmd.env("MSGFLUX_TEST_OPENAI_KEY", EMULATOR_KEY)
        .args([
            "edit",
            "--model",
            model,
            "--prompt",
            prompt,
            "--api-key-env",
            "MSGFLUX_TEST_OPENAI_KEY",
        ])
        .args(["--base-url", &emulator.base_url(), "--image"])
        .arg(&inputs.photo)
        .arg("--mask")
        .arg(&inputs.mask);
    cmd
}

#[test]
fn an_openai_edit_sends_one_image_part_with_its_mime_type_and_saves_the_result() {
    let emulator = openai_emulator();
    let inputs = inputs();
    let out = out_dir(&inputs);
    let output = openai_edit(&emulator, &inputs, "openai/gpt-image-1", "add a hat")
        .arg("--out")
        .arg(&out)
        .output()
        .expect("run");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let received = emulator.requests();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].names(), ["model", "prompt", "image", "mask", "n", "stream"]);
    let image = received[0]
        .parts()
        .iter()
        .find(|part| part.name == "image")
        .expect("image part");
    assert!(
        matches!(&image.value, PartValue::File { filename: Some(f), content_type: Some(t), .. } if f == "photo.png" && t == "image/png"),
        "{image:?}"
    );
    assert!(image::open(out.join("photo-edited.png")).is_ok());
    let request_id = format!("request id: {}", received[0].request_id);
    assert!(stderr(&output).contains(&request_id), "{}", stderr(&output));
    assert!(stderr(&output).contains("cost: $"), "{}", stderr(&output));
}

#[test]
fn a_streamed_edit_saves_each_partial_image_as_it_arrives() {
    let emulator = openai_emulator();
    let inputs = inputs();
    let out = out_dir(&inputs);
    let output = openai_edit(&emulator, &inputs, "openai/gpt-image-1", "add a hat")
        .args(["--option", "partial_images=2", "--out"])
        .arg(&out)
        .output()
        .expect("run");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(
        file_names(&out),
        ["photo-edited.png", "photo-partial-0.png", "photo-partial-1.png"]
    );
    let notes = stderr(&output);
    assert!(notes.contains("partial image 0: "), "{notes}");
    assert!(notes.contains("partial image 1: "), "{notes}");
}

#[test]
fn a_dall_e_2_edit_without_out_prints_the_result_urls() {
    let emulator = openai_emulator();
    let inputs = inputs();
    let square = inputs.dir.path().join("square.png");
    let square_mask = inputs.dir.path().join("square-mask.png");
    write_photo(&square, 64, 64);
    // dall-e-2 takes RGBA (or grey) pixels only.
    let rgba = image::open(&square).expect("photo").to_rgba8();
    rgba.save(&square).expect("rgba photo");
    write_mask(&square_mask, 64, 64, (8, 8, 16, 16));
    let output = msgflux()
        .env("MSGFLUX_TEST_OPENAI_KEY", EMULATOR_KEY)
        .args(["edit", "-m", "openai/dall-e-2", "-p", "a red door", "-n", "2"])
        .args([
            "--api-key-env",
            "MSGFLUX_TEST_OPENAI_KEY",
            "--base-url",
            &emulator.base_url(),
            "-i",
        ])
        .arg(&square)
        .arg("--mask")
        .arg(&square_mask)
        .output()
        .expect("run");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let lines: Vec<String> = stdout(&output).lines().map(str::to_string).collect();
    // The two URLs the emulator answered with, in order.
    let urls = emulator.result_urls();
    assert_eq!(urls.len(), 2, "{urls:?}");
    let served = format!("http://{}/files/", emulator.addr());
    assert!(urls.iter().all(|url| url.starts_with(&served)), "{urls:?}");
    assert_eq!(lines, urls);
    assert_eq!(emulator.requests()[0].text("response_format"), Some("url"));
}

#[test]
fn a_refused_edit_exits_3_with_the_request_id_and_writes_nothing() {
    let emulator = openai_emulator();
    let inputs = inputs();
    let out = out_dir(&inputs);
    let output = openai_edit(&emulator, &inputs, "openai/gpt-image-1", "please refuse this")
        .arg("--out")
        .arg(&out)
        .output()
        .expect("run");
    assert_eq!(code(&output), 3);
    let line = stderr(&output);
    assert!(line.starts_with("error: refused by content policy: "), "{line}");
    assert!(
        line.contains(&emulator.last_edit().expect("an edit").request_id),
        "{line}"
    );
    assert_eq!(line.trim().lines().count(), 1, "{line}");
    assert!(file_names(&out).is_empty(), "{:?}", file_names(&out));
}

#[test]
fn a_refused_edit_in_json_mode_is_a_json_error_document() {
    let emulator = openai_emulator();
    let inputs = inputs();
    let output = openai_edit(&emulator, &inputs, "openai/dall-e-2", "please refuse this")
        .arg("--json")
        .output()
        .expect("run");
    // dall-e-2 needs a square image: refused before anything is sent.
    assert_eq!(code(&output), 2);
    assert_eq!(emulator.edit_count(), 0);
    let doc = json(&output);
    assert_eq!(doc["error"]["kind"], "invalid_input");
    assert_eq!(doc["error"]["param"], "image");
    assert_eq!(doc["error"]["exit_code"], 2);
}

#[test]
fn a_provider_error_in_json_mode_carries_kind_and_request_id() {
    let emulator = openai_emulator();
    let inputs = inputs();
    let output = openai_edit(&emulator, &inputs, "openai/gpt-image-1", "please refuse this")
        .arg("--json")
        .output()
        .expect("run");
    assert_eq!(code(&output), 3);
    let doc = json(&output);
    assert_eq!(doc["error"]["kind"], "content_policy");
    assert_eq!(
        doc["error"]["request_id"],
        emulator.last_edit().expect("an edit").request_id.as_str()
    );
    assert_eq!(doc["error"]["status"], 400);
}

#[test]
fn a_timeout_cancels_a_call_that_never_answers_and_exits_3() {
    let emulator = openai_emulator();
    let inputs = inputs();
    let out = out_dir(&inputs);
    let output = openai_edit(&emulator, &inputs, "openai/gpt-image-1", "hang forever")
        .args(["--timeout", "0.3", "--out"])
        .arg(&out)
        .output()
        .expect("run");
    assert_eq!(code(&output), 3);
    assert!(stderr(&output).contains("timed out after 300ms"), "{}", stderr(&output));
    assert!(file_names(&out).is_empty());
}

#[test]
fn an_out_directory_that_is_a_file_exits_5() {
    let inputs = inputs();
    let out = out_dir(&inputs);
    std::fs::write(&out, b"a file, not a directory").expect("write");
    let output = local_edit(&inputs, "local/telea")
        .arg("--out")
        .arg(&out)
        .output()
        .expect("run");
    assert_eq!(code(&output), 5, "{}", stderr(&output));
    let line = stderr(&output);
    assert!(
        line.starts_with("error: ") && line.contains(&*out.to_string_lossy()),
        "{line}"
    );
}

#[test]
fn verbose_logs_what_happens_on_stderr_and_keeps_stdout_for_results() {
    let inputs = inputs();
    let out = out_dir(&inputs);
    let output = local_edit(&inputs, "local/telea")
        .arg("-v")
        .arg("--out")
        .arg(&out)
        .output()
        .expect("run");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(stderr(&output).contains("INFO"), "{}", stderr(&output));
    assert_eq!(
        stdout(&output).trim(),
        out.join("photo-edited.png").display().to_string()
    );
}

#[test]
fn an_answer_that_is_not_an_image_exits_3_and_writes_nothing() {
    let emulator = openai_emulator();
    let inputs = inputs();
    let out = out_dir(&inputs);
    let output = openai_edit(&emulator, &inputs, "openai/gpt-image-1", "send garbage back")
        .arg("--out")
        .arg(&out)
        .output()
        .expect("run");
    assert_eq!(code(&output), 3, "{}", stderr(&output));
    assert!(stderr(&output).contains("is not an image file"), "{}", stderr(&output));
    assert!(file_names(&out).is_empty(), "{:?}", file_names(&out));
}

#[test]
fn an_answer_that_is_not_an_image_is_not_printed_as_base64_either() {
    let emulator = openai_emulator();
    let inputs = inputs();
    let output = openai_edit(&emulator, &inputs, "openai/gpt-image-1", "send garbage back")
        .args(["--format", "base64"])
        .output()
        .expect("run");
    assert_eq!(code(&output), 3, "{}", stderr(&output));
    assert!(stdout(&output).is_empty(), "{}", stdout(&output));
}

#[test]
fn size_auto_is_sent_to_a_model_that_chooses_its_size() {
    let emulator = openai_emulator();
    let inputs = inputs();
    let output = openai_edit(&emulator, &inputs, "openai/gpt-image-1", "add a hat")
        .args(["--size", "auto", "--out"])
        .arg(out_dir(&inputs))
        .output()
        .expect("run");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(emulator.last_edit().expect("an edit").text("size"), Some("auto"));
}

#[test]
fn size_auto_is_refused_for_a_model_with_a_fixed_default_before_sending() {
    let emulator = openai_emulator();
    let inputs = inputs();
    let output = openai_edit(&emulator, &inputs, "openai/dall-e-2", "add a hat")
        .args(["--size", "auto"])
        .output()
        .expect("run");
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    assert!(stderr(&output).contains("no automatic size"), "{}", stderr(&output));
    assert_eq!(emulator.edit_count(), 0);
}

#[test]
fn every_broken_rule_is_named_in_one_error_and_nothing_is_sent() {
    let emulator = openai_emulator();
    let inputs = inputs();
    // A 64x48 RGB photo for dall-e-2 (square RGBA needed), with 12 variations (10 at most).
    let output = openai_edit(&emulator, &inputs, "openai/dall-e-2", "add a hat")
        .args(["-n", "12"])
        .output()
        .expect("run");
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    let text = stderr(&output);
    assert!(
        text.contains("needs a square image") && text.contains("invalid n"),
        "{text}"
    );
    assert_eq!(emulator.edit_count(), 0);
}

#[test]
fn keep_unmasked_restores_every_pixel_outside_the_mask_and_reports_the_leak() {
    let emulator = openai_emulator();
    // Like the GPT image models: the whole picture is redrawn, not only the masked area.
    emulator.set_leak(40);
    let inputs = inputs();
    let out = out_dir(&inputs);
    let output = openai_edit(&emulator, &inputs, "openai/gpt-image-1", "add a hat")
        .args(["--keep-unmasked", "--json", "--out"])
        .arg(&out)
        .output()
        .expect("run");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let doc = json(&output);
    let leak = &doc["results"][0]["unmasked"]["leak"];
    assert_eq!(leak["changed_fraction"], 1.0, "{doc}");
    let result = image::open(out.join("photo-edited.png")).expect("result").to_rgb8();
    let photo = image::open(&inputs.photo).expect("photo").to_rgb8();
    let mask = image::open(&inputs.mask).expect("mask").to_rgba8();
    for (x, y, px) in result.enumerate_pixels() {
        if mask.get_pixel(x, y)[3] == 255 {
            assert_eq!(px, photo.get_pixel(x, y), "pixel ({x}, {y}) outside the mask changed");
        }
    }
}

#[test]
fn an_unknown_setting_lists_the_known_ones_and_exits_2() {
    let emulator = openai_emulator();
    let inputs = inputs();
    let output = openai_edit(&emulator, &inputs, "openai/gpt-image-1", "add a hat")
        .args(["--setting", "organisation=acme"])
        .output()
        .expect("run");
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("unknown field `organisation`, expected one of `organization`, `project`"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn dall_e_3_is_refused_with_the_reason_before_anything_is_sent() {
    let output = msgflux()
        .env("OPENAI_API_KEY", "sk-test")
        .args([
            "edit",
            "--model",
            "openai/dall-e-3",
            "--prompt",
            "x",
            "--image",
            "photo.png",
        ])
        .output()
        .expect("run");
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("dall-e-2 and the gpt-image models"),
        "{}",
        stderr(&output)
    );
}
