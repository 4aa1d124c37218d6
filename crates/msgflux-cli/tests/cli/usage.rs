//! Usage errors: clap's messages and exit code 2; help exits 0.

use crate::common::{code, msgflux, stderr, stdout};

#[test]
fn no_command_prints_usage_and_exits_2() {
    let output = msgflux().output().expect("run");
    assert_eq!(code(&output), 2);
    assert!(stderr(&output).contains("Usage: msgflux"), "{}", stderr(&output));
}

#[test]
fn help_lists_every_command_and_the_exit_codes() {
    let output = msgflux().arg("--help").output().expect("run");
    assert_eq!(code(&output), 0);
    let text = stdout(&output);
    for command in ["edit", "mask", "prepare", "compare", "leak", "batch", "providers"] {
        assert!(text.contains(command), "{command} missing from:\n{text}");
    }
    assert!(text.contains("130 interrupted"), "{text}");
}

#[test]
fn an_unknown_flag_exits_2() {
    let output = msgflux().args(["edit", "--colour", "red"]).output().expect("run");
    assert_eq!(code(&output), 2);
    assert!(stderr(&output).contains("--colour"), "{}", stderr(&output));
}

#[test]
fn a_bad_size_names_the_flag_and_the_rule() {
    let output = msgflux()
        .args(["edit", "-m", "local/telea", "-i", "a.png", "-p", "x", "--size", "big"])
        .output()
        .expect("run");
    assert_eq!(code(&output), 2);
    let text = stderr(&output);
    assert!(text.contains("--size"), "{text}");
    assert!(text.contains("expected WIDTHxHEIGHT"), "{text}");
}

#[test]
fn a_zero_timeout_is_refused() {
    let output = msgflux()
        .args(["edit", "-m", "local/telea", "-i", "a.png", "-p", "x", "--timeout", "0"])
        .output()
        .expect("run");
    assert_eq!(code(&output), 2);
    assert!(stderr(&output).contains("more than 0"), "{}", stderr(&output));
}

#[test]
fn an_option_without_a_value_is_refused() {
    let output = msgflux()
        .args([
            "edit",
            "-m",
            "local/telea",
            "-i",
            "a.png",
            "-p",
            "x",
            "--option",
            "radius",
        ])
        .output()
        .expect("run");
    assert_eq!(code(&output), 2);
    assert!(stderr(&output).contains("expected KEY=VALUE"), "{}", stderr(&output));
}
