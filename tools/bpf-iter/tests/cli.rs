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

/// Writes BTF for `list --btf-dir`: types by name, split BTF (a module's)
/// continuing the ids and strings of the BTF it was started from.
struct Btf {
    types: Vec<u32>,
    strings: Vec<u8>,
    next_id: u32,
    str_base: u32,
}

impl Btf {
    const INT: u32 = 1;
    const PTR: u32 = 2;
    const STRUCT: u32 = 4;
    const TYPEDEF: u32 = 8;
    const FUNC: u32 = 12;
    const FUNC_PROTO: u32 = 13;

    fn new() -> Self {
        Btf {
            types: Vec::new(),
            strings: vec![0],
            next_id: 1,
            str_base: 0,
        }
    }

    /// Split BTF on this one.
    fn split(&self) -> Self {
        Btf {
            types: Vec::new(),
            strings: vec![0],
            next_id: self.next_id,
            str_base: self.str_base + self.strings.len() as u32,
        }
    }

    fn str(&mut self, s: &str) -> u32 {
        if s.is_empty() {
            return 0;
        }
        let off = self.str_base + self.strings.len() as u32;
        self.strings.extend_from_slice(s.as_bytes());
        self.strings.push(0);
        off
    }

    fn add(&mut self, name: &str, kind: u32, vlen: u32, ty: u32, extra: &[u32]) -> u32 {
        let name_off = self.str(name);
        self.types
            .extend([name_off, kind << 24 | vlen, ty].iter().chain(extra));
        self.next_id += 1;
        self.next_id - 1
    }

    fn func(&mut self, name: &str, ret: u32, params: &[(&str, u32)]) -> u32 {
        let mut extra = Vec::new();
        for (n, ty) in params {
            extra.extend([self.str(n), *ty]);
        }
        let proto = self.add("", Self::FUNC_PROTO, params.len() as u32, ret, &extra);
        self.add(name, Self::FUNC, 1, proto, &[])
    }

    fn open_iter(&mut self, name: &str, size: u32, args: &[(&str, u32)], next_ret: u32) {
        let state = self.add(&format!("bpf_iter_{name}"), Self::STRUCT, 0, size, &[]);
        let it = self.add("", Self::PTR, 0, state, &[]);
        let new: Vec<_> = std::iter::once(("it", it))
            .chain(args.iter().copied())
            .collect();
        self.func(&format!("bpf_iter_{name}_new"), 1, &new);
        self.func(&format!("bpf_iter_{name}_next"), next_ret, &[("it", it)]);
        self.func(&format!("bpf_iter_{name}_destroy"), 0, &[("it", it)]);
    }

    fn bytes(&self) -> Vec<u8> {
        let types: Vec<u8> = self.types.iter().flat_map(|w| w.to_ne_bytes()).collect();
        let mut d = Vec::new();
        d.extend_from_slice(&0xeb9fu16.to_ne_bytes());
        d.extend_from_slice(&[1, 0]);
        let len = types.len() as u32;
        for w in [24u32, 0, len, len, self.strings.len() as u32] {
            d.extend_from_slice(&w.to_ne_bytes());
        }
        d.extend(types);
        d.extend_from_slice(&self.strings);
        d
    }
}

#[test]
fn list_shows_targets_then_open_coded_iterators() {
    // vmlinux: target task, open-coded iterator num
    let mut v = Btf::new();
    let int = v.add("int", Btf::INT, 0, 4, &[32]);
    assert_eq!(int, 1, "open_iter's `new` returns type 1");
    let uint = v.add("unsigned int", Btf::INT, 0, 4, &[32]);
    let u32_ = v.add("__u32", Btf::TYPEDEF, 0, uint, &[]);
    let ull = v.add("unsigned long long", Btf::INT, 0, 8, &[64]);
    let u64_ = v.add("__u64", Btf::TYPEDEF, 0, ull, &[]);
    let u64_ptr = v.add("", Btf::PTR, 0, u64_, &[]);
    let int_ptr = v.add("", Btf::PTR, 0, int, &[]);
    let meta = v.add("bpf_iter_meta", Btf::STRUCT, 0, 24, &[]);
    let meta_ptr = v.add("", Btf::PTR, 0, meta, &[]);
    v.add("bpf_iter__task", Btf::STRUCT, 0, 16, &[]);
    let task = v.func("bpf_iter_task", int, &[("meta", meta_ptr)]);
    v.open_iter("num", 8, &[("start", int), ("end", int)], int_ptr);
    // a module: target rust_primes and kfuncs bpf_iter_rust_primes_*
    let mut m = v.split();
    m.add("bpf_iter__rust_primes", Btf::STRUCT, 0, 16, &[]);
    let primes = m.func("bpf_iter_rust_primes", int, &[("meta", meta_ptr)]);
    m.open_iter("rust_primes", 40, &[("n", u32_)], u64_ptr);

    let dir = std::env::temp_dir().join(format!("bpf-iter-cli-list-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("vmlinux"), v.bytes()).unwrap();
    std::fs::write(dir.join("rust_bpf_iter_primes"), m.bytes()).unwrap();
    let d = dir.to_str().unwrap();
    let o = bpf_iter(&["list", "--btf-dir", d]);
    let j = bpf_iter(&["-j", "list", "--btf-dir", d]);
    let p = bpf_iter(&["-p", "list", "--btf-dir", d]);
    std::fs::remove_dir_all(&dir).unwrap();

    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(
        text(&o.stdout),
        "\
task                     vmlinux                  params task
rust_primes              rust_bpf_iter_primes     params unknown

open-coded iterators:
num                      vmlinux                  state 8 B  new(int start, int end)  next -> int *
rust_primes              rust_bpf_iter_primes     state 40 B  new(__u32 n)  next -> __u64 *
"
    );
    assert_eq!(j.status.code(), Some(0), "{}", text(&j.stderr));
    assert_eq!(text(&j.stdout).lines().count(), 1);
    let v: serde_json::Value = serde_json::from_slice(&j.stdout).expect("JSON");
    assert_eq!(
        v,
        serde_json::json!({
            "targets": [
                {"target": "task", "source": "vmlinux", "btf_id": task, "params": "task"},
                {"target": "rust_primes", "source": "rust_bpf_iter_primes", "btf_id": primes,
                 "params": "unknown"},
            ],
            "open_iters": [
                {"name": "num", "source": "vmlinux", "state_size": 8,
                 "new_args": [{"type": "int", "name": "start"}, {"type": "int", "name": "end"}],
                 "next_returns": "int *"},
                {"name": "rust_primes", "source": "rust_bpf_iter_primes", "state_size": 40,
                 "new_args": [{"type": "__u32", "name": "n"}], "next_returns": "__u64 *"},
            ],
        })
    );
    let pv: serde_json::Value = serde_json::from_slice(&p.stdout).expect("pretty JSON");
    assert_eq!(pv, v);
}
