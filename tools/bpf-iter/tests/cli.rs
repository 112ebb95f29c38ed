// SPDX-License-Identifier: GPL-2.0
//! The `bpf-iter` binary's exit codes and messages for what it refuses
//! before asking the kernel (the guest's cli suite covers the rest).

use std::process::{Command, Output};

fn bpf_iter(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bpf-iter"))
        .args(args)
        .output()
        .expect("running bpf-iter")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn usage_errors_exit_2_with_clap_messages() {
    let o = bpf_iter(&[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("Usage: bpf-iter"),
        "{}",
        text(&o.stderr)
    );
    let o = bpf_iter(&["pin", "x.o"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("<PATH>"), "{}", text(&o.stderr));
    let o = bpf_iter(&["run", "x.o", "--pid", "1", "--tid", "1"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("cannot be used with"),
        "{}",
        text(&o.stderr)
    );
    assert!(o.stdout.is_empty());
}

#[test]
fn version_and_help_exit_0() {
    let o = bpf_iter(&["--version"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        text(&o.stdout).trim(),
        format!("bpf-iter {}", env!("CARGO_PKG_VERSION"))
    );
    let o = bpf_iter(&["run", "--help"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(text(&o.stdout).contains("--map-pinned"));
}

#[test]
fn failures_exit_1_text_on_stderr_json_on_stdout() {
    let o = bpf_iter(&["run", "/nonexistent/x.bpf.o"]);
    assert_eq!(o.status.code(), Some(1));
    let e = text(&o.stderr);
    assert!(
        e.starts_with("bpf-iter: /nonexistent/x.bpf.o: No such file or directory"),
        "{e}"
    );
    assert!(o.stdout.is_empty());
    for flag in ["-j", "-p"] {
        let o = bpf_iter(&[flag, "run", "/nonexistent/x.bpf.o"]);
        assert_eq!(o.status.code(), Some(1));
        assert!(o.stderr.is_empty(), "{}", text(&o.stderr));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON error");
        let msg = v["error"].as_str().expect("an error string");
        assert!(msg.contains("No such file or directory"), "{msg}");
        assert_eq!(text(&o.stdout).lines().count() > 1, flag == "-p");
    }
}

#[test]
fn pin_paths_outside_bpffs_are_named_as_such() {
    let dir = std::env::temp_dir();
    let p = dir.join("bpf-iter-cli-test-pin");
    let o = bpf_iter(&["show", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("not in a BPF filesystem"),
        "{}",
        text(&o.stderr)
    );
    let o = bpf_iter(&["unpin", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("not in a BPF filesystem"));
}
