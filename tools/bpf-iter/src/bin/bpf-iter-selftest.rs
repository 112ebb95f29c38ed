// SPDX-License-Identifier: GPL-2.0
//! `bpf-iter-selftest --progs DIR [--modules DIR]`: TAP 13 tests of the
//! built-in `task` and `task_file` iterators of the running kernel, and of
//! their Rust twins `rust_task`, `rust_task_file` and `rust_task_vma`
//! (samples/rust/bpf_iter_task, module `rust_bpf_iter_task`, loaded from
//! `--modules` if it is not loaded yet and then unloaded at the end). Needs
//! root and a kernel with BPF iterators; every expectation is read from /proc
//! or from the C target at run time.

use std::{
    collections::BTreeSet,
    fs,
    path::{Path, PathBuf},
    process::ExitCode,
    sync::mpsc,
    thread,
};

use bpf_iter::{
    tap::{Outcome, Tap},
    Error, IterLink, IterParams, IterProgram, LoadOptions,
};
use clap::Parser;

#[derive(Parser)]
#[command(name = "bpf-iter-selftest", about = "TAP tests of BPF task iterators")]
struct Cli {
    /// Directory of compiled BPF objects (task.bpf.o, task_bin.bpf.o, ...).
    #[arg(long)]
    progs: PathBuf,
    /// Directory holding rust_bpf_iter_task.ko, loaded if the module is not.
    #[arg(long)]
    modules: Option<PathBuf>,
}

/// Magic of `struct task_record` in progs/task_bin.bpf.c.
const TASK_RECORD_MAGIC: u32 = 0x7a5c_1d0e;
const TASK_RECORD_SIZE: usize = 16;

struct Ctx {
    progs: PathBuf,
    modules: Option<PathBuf>,
    /// Whether the twins' module was loaded by us (and is to be unloaded).
    loaded_twins: std::cell::Cell<bool>,
}

type TestFn = fn(&Ctx) -> Outcome;

fn e2s(e: Error) -> String {
    e.to_string()
}

impl Ctx {
    fn load(&self, obj: &str) -> Result<IterProgram, String> {
        IterProgram::load_file(&self.progs.join(obj), &LoadOptions::default()).map_err(e2s)
    }

    fn attach(&self, obj: &str, p: &IterParams) -> Result<(IterProgram, IterLink), String> {
        let prog = self.load(obj)?;
        let link = prog.attach(p).map_err(e2s)?;
        Ok((prog, link))
    }
}

#[path = "bpf-iter-selftest/twins.rs"]
mod twins;

fn gettid() -> u32 {
    // SAFETY: gettid has no preconditions.
    unsafe { libc::gettid() as u32 }
}

fn getpid() -> u32 {
    std::process::id()
}

/// `(tgid, tid)` of every task in /proc right now.
fn proc_tasks() -> BTreeSet<(u32, u32)> {
    let mut s = BTreeSet::new();
    let Ok(rd) = fs::read_dir("/proc") else {
        return s;
    };
    for e in rd.flatten() {
        let Ok(tgid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if let Ok(tasks) = fs::read_dir(e.path().join("task")) {
            for t in tasks.flatten() {
                if let Ok(tid) = t.file_name().to_string_lossy().parse::<u32>() {
                    s.insert((tgid, tid));
                }
            }
        }
    }
    s
}

/// Threads of this process according to /proc/self/task.
fn self_threads() -> BTreeSet<(u32, u32)> {
    let pid = getpid();
    fs::read_dir("/proc/self/task")
        .map(|rd| {
            rd.flatten()
                .filter_map(|t| t.file_name().to_string_lossy().parse::<u32>().ok())
                .map(|tid| (pid, tid))
                .collect()
        })
        .unwrap_or_default()
}

/// Parses `task.bpf.o` output: header exactly once as the first line, then
/// `tgid pid` lines.
fn parse_task_text(out: &[u8]) -> Result<Vec<(u32, u32)>, String> {
    let text = std::str::from_utf8(out).map_err(|e| format!("output not UTF-8: {e}"))?;
    let mut recs = Vec::new();
    let mut headers = 0;
    for (i, line) in text.lines().enumerate() {
        if line.trim() == "tgid      pid" {
            headers += 1;
            if i != 0 {
                return Err(format!("header on line {}", i + 1));
            }
            continue;
        }
        let mut w = line.split_whitespace().map(str::parse::<u32>);
        match (w.next(), w.next(), w.next()) {
            (Some(Ok(a)), Some(Ok(b)), None) => recs.push((a, b)),
            _ => return Err(format!("malformed line {}: {line:?}", i + 1)),
        }
    }
    match (headers, recs.is_empty()) {
        (1, false) | (0, true) => Ok(recs),
        _ => Err(format!("{headers} header lines for {} records", recs.len())),
    }
}

/// Runs `f` while `n` extra threads of this process are alive; `f` gets
/// their tids.
fn with_threads<T>(n: usize, f: impl FnOnce(&[u32]) -> T) -> T {
    let (tid_tx, tid_rx) = mpsc::channel();
    let mut stops = Vec::new();
    let mut handles = Vec::new();
    for _ in 0..n {
        let (stop_tx, stop_rx) = mpsc::channel::<()>();
        let tx = tid_tx.clone();
        handles.push(thread::spawn(move || {
            let _ = tx.send(gettid());
            let _ = stop_rx.recv();
        }));
        stops.push(stop_tx);
    }
    let tids: Vec<u32> = (0..n).filter_map(|_| tid_rx.recv().ok()).collect();
    let r = f(&tids);
    drop(stops);
    for h in handles {
        let _ = h.join();
    }
    r
}

fn test_task_all(c: &Ctx) -> Outcome {
    let (_p, link) = c.attach("task.bpf.o", &IterParams::None)?;
    let before = proc_tasks();
    let out = link.read_all().map_err(e2s)?;
    let after = proc_tasks();
    let seen: BTreeSet<(u32, u32)> = parse_task_text(&out)?.into_iter().collect();
    let missing: Vec<_> = before
        .intersection(&after)
        .filter(|t| !seen.contains(t))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "{} tasks of /proc missing, e.g. {:?}",
            missing.len(),
            &missing[..missing.len().min(5)]
        ));
    }
    if !seen.contains(&(getpid(), gettid())) {
        return Err("own task not listed".into());
    }
    Ok(())
}

fn test_task_tid(c: &Ctx) -> Outcome {
    with_threads(1, |tids| {
        let tid = tids[0];
        let (_p, link) = c.attach(
            "task.bpf.o",
            &IterParams::Task {
                tid,
                pid: 0,
                pid_fd: 0,
            },
        )?;
        let recs = parse_task_text(&link.read_all().map_err(e2s)?)?;
        if recs != [(getpid(), tid)] {
            return Err(format!("expected only ({}, {tid}), got {recs:?}", getpid()));
        }
        let info = link.info().map_err(e2s)?;
        if info.target_name != "task" || info.task_tid != tid || info.task_pid != 0 {
            return Err(format!("link info {info:?}"));
        }
        Ok(())
    })
}

fn check_self_threads(c: &Ctx, p: &IterParams) -> Outcome {
    with_threads(2, |tids| {
        let (_p, link) = c.attach("task.bpf.o", p)?;
        let expect = self_threads();
        let recs = parse_task_text(&link.read_all().map_err(e2s)?)?;
        let seen: BTreeSet<_> = recs.iter().copied().collect();
        if seen.len() != recs.len() {
            return Err(format!("duplicates in {recs:?}"));
        }
        if seen != expect {
            return Err(format!("got {seen:?}, /proc/self/task has {expect:?}"));
        }
        if !tids.iter().all(|t| seen.contains(&(getpid(), *t))) {
            return Err(format!("spawned threads {tids:?} missing"));
        }
        Ok(())
    })
}

fn test_task_pid_self(c: &Ctx) -> Outcome {
    check_self_threads(
        c,
        &IterParams::Task {
            tid: 0,
            pid: getpid(),
            pid_fd: 0,
        },
    )
}

fn test_task_pid_fd_self(c: &Ctx) -> Outcome {
    // SAFETY: plain syscall, result checked.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, getpid() as libc::c_long, 0) };
    if fd < 0 {
        return Err(format!("pidfd_open: {}", std::io::Error::last_os_error()));
    }
    // SAFETY: fresh fd from the kernel.
    let fd = unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd as i32) };
    let pid_fd = std::os::fd::AsRawFd::as_raw_fd(&fd);
    check_self_threads(
        c,
        &IterParams::Task {
            tid: 0,
            pid: 0,
            pid_fd,
        },
    )
}

/// Open fds of this process per /proc/self/fd, without read_dir's own fd.
fn proc_self_fds() -> Result<BTreeSet<u32>, String> {
    let dir = format!("/proc/{}/fd", getpid());
    let mut s = BTreeSet::new();
    for e in fs::read_dir(&dir)
        .map_err(|e| format!("{dir}: {e}"))?
        .flatten()
    {
        let Ok(fd) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        match fs::read_link(e.path()) {
            // the directory stream of this very listing
            Ok(t) if t == Path::new(&dir) || t == Path::new("/proc/self/fd") => {}
            Ok(_) => {
                s.insert(fd);
            }
            Err(_) => {}
        }
    }
    Ok(s)
}

fn test_task_file_self(c: &Ctx) -> Outcome {
    use std::io::Read;
    let _files: Vec<fs::File> = ["/proc/self/status", "/proc/version", "/dev/null"]
        .iter()
        .map(fs::File::open)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("open: {e}"))?;
    let (_p, link) = c.attach(
        "task_file.bpf.o",
        &IterParams::Task {
            tid: 0,
            pid: getpid(),
            pid_fd: 0,
        },
    )?;
    // The iterator fd itself is open while the kernel walks our fds, so it
    // must be listed: open it first, then take /proc's view, then read.
    let mut iter = link.open().map_err(e2s)?;
    let expect = proc_self_fds()?;
    let mut out = String::new();
    iter.read_to_string(&mut out)
        .map_err(|e| format!("read: {e}"))?;
    let mut lines = out.lines();
    if lines.next().map(str::trim) != Some("tgid      pid       fd      file") {
        return Err(format!("bad header in {out:?}"));
    }
    let mut seen = BTreeSet::new();
    for l in lines {
        let w: Vec<&str> = l.split_whitespace().collect();
        let ok = w.len() == 4 && u64::from_str_radix(w[3], 16).is_ok();
        let nums: Vec<u32> = w.iter().take(3).filter_map(|x| x.parse().ok()).collect();
        if !ok || nums.len() != 3 {
            return Err(format!("malformed line {l:?}"));
        }
        if nums[0] != getpid() {
            return Err(format!("foreign tgid in {l:?}"));
        }
        seen.insert(nums[2]);
    }
    if seen != expect {
        return Err(format!("iterator fds {seen:?} != /proc/self/fd {expect:?}"));
    }
    Ok(())
}

fn expect_errno(c: &Ctx, p: IterParams, errno: i32, what: &str) -> Outcome {
    let prog = c.load("task.bpf.o")?;
    match prog.attach(&p) {
        Ok(_) => Err(format!("{what}: attach succeeded, expected errno {errno}")),
        Err(e) if e.errno() == Some(errno) => Ok(()),
        Err(e) => Err(format!(
            "{what}: expected errno {errno}, got {e} ({:?})",
            e.errno()
        )),
    }
}

fn test_pid_and_tid_einval(c: &Ctx) -> Outcome {
    let me = getpid();
    expect_errno(
        c,
        IterParams::Task {
            tid: me,
            pid: me,
            pid_fd: 0,
        },
        libc::EINVAL,
        "pid+tid",
    )
}

/// 6.12's bpf_iter_attach_task() does not look the pid up: a nonexistent
/// pid attaches fine and the iterator is empty (there is no ESRCH).
fn test_nonexistent_pid_is_empty(c: &Ctx) -> Outcome {
    let max: u32 = fs::read_to_string("/proc/sys/kernel/pid_max")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(32768);
    let pid = (2..max)
        .rev()
        .find(|p| !Path::new(&format!("/proc/{p}")).exists())
        .ok_or("no free pid")?;
    let (_p, link) = c.attach(
        "task.bpf.o",
        &IterParams::Task {
            tid: 0,
            pid,
            pid_fd: 0,
        },
    )?;
    let out = link.read_all().map_err(e2s)?;
    let recs = parse_task_text(&out)?;
    if !recs.is_empty() {
        return Err(format!("pid {pid} does not exist but got {recs:?}"));
    }
    Ok(())
}

fn test_bad_pid_fd_ebadf(c: &Ctx) -> Outcome {
    let f = fs::File::open("/dev/null").map_err(|e| e.to_string())?;
    let not_pidfd = std::os::fd::AsRawFd::as_raw_fd(&f);
    expect_errno(
        c,
        IterParams::Task {
            tid: 0,
            pid: 0,
            pid_fd: not_pidfd,
        },
        libc::EBADF,
        "non-pidfd",
    )?;
    expect_errno(
        c,
        IterParams::Task {
            tid: 0,
            pid: 0,
            pid_fd: 1_000_000,
        },
        libc::EBADF,
        "closed fd",
    )
}

fn test_oversized_link_info(c: &Ctx) -> Outcome {
    let mut big = IterParams::Task {
        tid: 0,
        pid: getpid(),
        pid_fd: 0,
    }
    .encode()
    .unwrap();
    big.resize(64, 0);
    // zero tail: accepted like a shorter struct
    let prog = c.load("task.bpf.o")?;
    prog.attach(&IterParams::Raw(big.clone()))
        .map_err(|e| format!("zero tail refused: {e}"))?;
    big[40] = 1;
    expect_errno(c, IterParams::Raw(big), libc::E2BIG, "nonzero tail")?;
    expect_errno(
        c,
        IterParams::Raw(vec![0; 8192]),
        libc::E2BIG,
        "larger than a page",
    )
}

fn test_seq_write_records(c: &Ctx) -> Outcome {
    let (_p, link) = c.attach("task_bin.bpf.o", &IterParams::None)?;
    let out = link.read_all().map_err(e2s)?;
    if out.is_empty() || out.len() % TASK_RECORD_SIZE != 0 {
        return Err(format!(
            "{} bytes is not a whole number of records",
            out.len()
        ));
    }
    let mut seen = BTreeSet::new();
    for (i, r) in out.chunks(TASK_RECORD_SIZE).enumerate() {
        let w: Vec<u32> = r
            .chunks(4)
            .map(|b| u32::from_ne_bytes(b.try_into().unwrap()))
            .collect();
        if w[0] != TASK_RECORD_MAGIC {
            return Err(format!("record {i}: bad magic {:#x}", w[0]));
        }
        if w[3] as usize != i {
            return Err(format!("record {i}: seq_num {}", w[3]));
        }
        seen.insert((w[1], w[2]));
    }
    if !seen.contains(&(getpid(), gettid())) {
        return Err("own task not in binary records".into());
    }
    Ok(())
}

fn test_pinned_read_twice(c: &Ctx) -> Outcome {
    let dir = bpf_iter::bpffs();
    bpf_iter::ensure_bpffs(&dir).map_err(e2s)?;
    let path = dir.join(format!("bpf_iter_selftest_{}", getpid()));
    let _ = fs::remove_file(&path);
    let me = getpid();
    {
        let (_p, link) = c.attach(
            "task.bpf.o",
            &IterParams::Task {
                tid: 0,
                pid: me,
                pid_fd: 0,
            },
        )?;
        let info = link.info().map_err(e2s)?;
        if info.target_name != "task" || info.task_pid != me || info.task_tid != 0 {
            return Err(format!("link info {info:?}"));
        }
        link.pin(&path).map_err(e2s)?;
    } // program and link fds closed: the pin keeps them alive
    let r = (|| {
        for pass in 1..=2 {
            let out = fs::read(&path).map_err(|e| format!("pass {pass}: {e}"))?;
            let recs = parse_task_text(&out).map_err(|e| format!("pass {pass}: {e}"))?;
            if recs.is_empty() || recs.iter().any(|&(tgid, _)| tgid != me) {
                return Err(format!("pass {pass}: {recs:?}"));
            }
        }
        Ok(())
    })();
    bpf_iter::unpin(&path).map_err(e2s)?;
    if path.exists() {
        return Err("still pinned after unpin".into());
    }
    r
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let ctx = Ctx {
        progs: cli.progs,
        modules: cli.modules,
        loaded_twins: std::cell::Cell::new(false),
    };
    let tests: &[(&str, TestFn)] = &[
        ("task: all tasks of /proc, header once", test_task_all),
        ("task: --tid of a spawned thread", test_task_tid),
        ("task: --pid self lists /proc/self/task", test_task_pid_self),
        (
            "task: --pid-fd self lists /proc/self/task",
            test_task_pid_fd_self,
        ),
        (
            "task_file: --pid self lists /proc/self/fd",
            test_task_file_self,
        ),
        (
            "errno: pid and tid both set -> EINVAL",
            test_pid_and_tid_einval,
        ),
        (
            "nonexistent pid: attach ok, no records (6.12 has no ESRCH)",
            test_nonexistent_pid_is_empty,
        ),
        ("errno: bad pid_fd -> EBADF", test_bad_pid_fd_ebadf),
        (
            "errno: oversized link_info, nonzero tail -> E2BIG",
            test_oversized_link_info,
        ),
        ("bpf_seq_write binary records", test_seq_write_records),
        (
            "pinned iterator read twice, then unpinned",
            test_pinned_read_twice,
        ),
        (
            "twins: rust_bpf_iter_task.ko loaded (--modules)",
            twins::test_load_module,
        ),
        (
            "twin rust_task: no params, output equals task's",
            twins::test_task_all,
        ),
        (
            "twin rust_task: --pid self equals task's and /proc/self/task",
            twins::test_task_pid_self,
        ),
        (
            "twin rust_task: --pid-fd self equals task's --pid self",
            twins::test_task_pid_fd_self,
        ),
        (
            "twin rust_task: --tid of a spawned thread equals task's",
            twins::test_task_tid,
        ),
        (
            "twin rust_task: binary records (task_bin) equal task's",
            twins::test_task_bin,
        ),
        (
            "twin rust_task: read 20 bytes at a time equals task's",
            twins::test_task_small_reads,
        ),
        (
            "twin rust_task_file: --pid self equals task_file's and /proc/self/fd",
            twins::test_task_file_pid_self,
        ),
        (
            "twin rust_task_file: read 100 bytes at a time equals task_file's",
            twins::test_task_file_small_reads,
        ),
        (
            "twin rust_task_file: --tid of a spawned thread equals task_file's",
            twins::test_task_file_tid,
        ),
        (
            "twin rust_task_file: no params, output equals task_file's",
            twins::test_task_file_all,
        ),
        (
            "twin rust_task_vma: --pid self equals task_vma's and /proc/self/maps",
            twins::test_task_vma_pid_self,
        ),
        (
            "twin rust_task_vma: read 100 bytes at a time equals task_vma's",
            twins::test_task_vma_small_reads,
        ),
        (
            "twin rust_task_vma: --tid of a spawned thread equals task_vma's",
            twins::test_task_vma_tid,
        ),
        (
            "twin rust_task_vma: no params, output equals task_vma's",
            twins::test_task_vma_all,
        ),
        (
            "twins: pinned iterators read twice, then unpinned",
            twins::test_pinned_twice,
        ),
        (
            "twins: nonexistent pid or tid -> ESRCH (C: attaches, empty)",
            twins::test_nonexistent_esrch,
        ),
        (
            "twins: pid and tid both set -> EINVAL, as C",
            twins::test_pid_and_tid_einval,
        ),
        ("twins: bad pid_fd -> EBADF, as C", twins::test_bad_pid_fd),
        (
            "twins: link info reports tid/pid as C's",
            twins::test_link_info,
        ),
        (
            "twins: fdinfo task_type/pid/tid lines equal C's",
            twins::test_fdinfo,
        ),
        (
            "twins: rust_bpf_iter_task unloaded at the end",
            twins::test_unload_module,
        ),
    ];
    let stdout = std::io::stdout().lock();
    let Ok(mut tap) = Tap::new(stdout, tests.len()) else {
        return ExitCode::FAILURE;
    };
    for (name, f) in tests {
        let r = f(&ctx);
        if tap.report(name, &r).is_err() {
            return ExitCode::FAILURE;
        }
    }
    if tap.failed() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
