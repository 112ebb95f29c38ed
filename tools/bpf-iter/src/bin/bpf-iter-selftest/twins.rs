// SPDX-License-Identifier: GPL-2.0
//! Tests of the Rust twins of the task targets (samples/rust/bpf_iter_task):
//! `rust_task`, `rust_task_file` and `rust_task_vma` must show what `task`,
//! `task_file` and `task_vma` show, for the same program built twice
//! (`<name>.bpf.o` and `rust_<name>.bpf.o`, see build.sh) and the same
//! parameters.
//!
//! Both iterators are opened before either is read, so that the fd table of
//! this process (the iterator fds are in it) is the same during both reads,
//! and the outputs are read into buffers allocated beforehand, so that the
//! reads do not change this process' mappings. Other processes may still
//! change between the two reads: comparisons of whole-system walks are
//! retried a few times and fail only if no attempt matched.

use std::{
    collections::BTreeSet,
    ffi::CString,
    fs::{self, File},
    os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd},
    path::Path,
    thread,
    time::Duration,
};

use bpf_iter::{tap::Outcome, IterLink, IterParams, IterProgram};

use super::{e2s, getpid, parse_task_text, proc_self_fds, self_threads, with_threads, Ctx};

/// The module of the twins.
const MODULE: &str = "rust_bpf_iter_task";

/// Room for one iterator output; allocated before reading so that reading
/// does not map memory.
const OUT_CAP: usize = 8 << 20;

/// How often a comparison of whole-system walks is tried.
const ATTEMPTS: usize = 5;

fn module_loaded() -> bool {
    Path::new("/sys/module").join(MODULE).exists()
}

fn task_params(tid: u32, pid: u32, pid_fd: i32) -> IterParams {
    IterParams::Task { tid, pid, pid_fd }
}

fn pid_self() -> IterParams {
    task_params(0, getpid(), 0)
}

impl Ctx {
    /// Fails unless the twins' module is loaded.
    fn twins(&self) -> Outcome {
        if module_loaded() {
            Ok(())
        } else {
            Err(format!("module {MODULE} is not loaded"))
        }
    }

    /// Loads and attaches `<name>.bpf.o` (C target) or `rust_<name>.bpf.o`.
    fn attach_one(&self, name: &str, twin: bool, p: &IterParams) -> Result<Attached, String> {
        let obj = if twin {
            format!("rust_{name}.bpf.o")
        } else {
            format!("{name}.bpf.o")
        };
        let (prog, link) = self.attach(&obj, p).map_err(|e| format!("{obj}: {e}"))?;
        Ok(Attached { _prog: prog, link })
    }
}

struct Attached {
    _prog: IterProgram,
    link: IterLink,
}

/// Reads `f` to the end, `chunk` bytes per read(2), into `buf`'s spare
/// capacity: never reallocates.
fn read_fixed(f: &File, buf: &mut Vec<u8>, chunk: usize) -> Result<(), String> {
    loop {
        let spare = buf.capacity() - buf.len();
        if spare == 0 {
            return Err(format!("output exceeds {} bytes", buf.capacity()));
        }
        let n = spare.min(chunk);
        // SAFETY: the destination is `n` bytes of `buf`'s spare capacity.
        let r = unsafe { libc::read(f.as_raw_fd(), buf.as_mut_ptr().add(buf.len()).cast(), n) };
        if r < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(format!("read: {e}"));
        }
        if r == 0 {
            return Ok(());
        }
        // SAFETY: the kernel initialized `r <= n` bytes after `len`.
        unsafe { buf.set_len(buf.len() + r as usize) };
    }
}

/// One pass of the C iterator and of its twin, both opened before either is
/// read; the C one read in big chunks, the twin `chunk` bytes at a time.
fn read_both(c: &IterLink, twin: &IterLink, chunk: usize) -> Result<(Vec<u8>, Vec<u8>), String> {
    let mut cbuf = Vec::with_capacity(OUT_CAP);
    let mut tbuf = Vec::with_capacity(OUT_CAP);
    let cf = c.open().map_err(e2s)?;
    let tf = twin.open().map_err(e2s)?;
    read_fixed(&cf, &mut cbuf, 64 << 10).map_err(|e| format!("C iterator: {e}"))?;
    read_fixed(&tf, &mut tbuf, chunk).map_err(|e| format!("twin iterator: {e}"))?;
    Ok((cbuf, tbuf))
}

/// Where two outputs first differ, for failure messages.
fn first_difference(a: &[u8], b: &[u8]) -> String {
    let (a, b) = (String::from_utf8_lossy(a), String::from_utf8_lossy(b));
    let (al, bl): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    for i in 0..al.len().max(bl.len()) {
        let (x, y) = (al.get(i), bl.get(i));
        if x != y {
            return format!(
                "line {}: C {:?}, twin {:?} ({} vs {} lines)",
                i + 1,
                x,
                y,
                al.len(),
                bl.len()
            );
        }
    }
    format!("{} vs {} bytes", a.len(), b.len())
}

/// Attaches `<name>` and its twin with `p` and compares one pass of each
/// (`attempts` tries); returns the matching output.
fn compare(
    c: &Ctx,
    name: &str,
    p: &IterParams,
    chunk: usize,
    attempts: usize,
) -> Result<Vec<u8>, String> {
    c.twins()?;
    let cl = c.attach_one(name, false, p)?;
    let tl = c.attach_one(name, true, p)?;
    let mut last = String::new();
    for _ in 0..attempts {
        let (a, b) = read_both(&cl.link, &tl.link, chunk)?;
        if a == b {
            if a.is_empty() {
                return Err("both outputs are empty".into());
            }
            return Ok(a);
        }
        last = first_difference(&a, &b);
    }
    Err(format!(
        "{name}: outputs differ in {attempts} attempts; last: {last}"
    ))
}

pub fn test_load_module(c: &Ctx) -> Outcome {
    if module_loaded() {
        return Ok(());
    }
    let dir = c
        .modules
        .as_ref()
        .ok_or_else(|| format!("{MODULE} not loaded and no --modules given"))?;
    let path = dir.join(format!("{MODULE}.ko"));
    let f = File::open(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let params = c"";
    // SAFETY: finit_module on an open fd with a NUL-terminated empty
    // parameter string.
    let r = unsafe { libc::syscall(libc::SYS_finit_module, f.as_raw_fd(), params.as_ptr(), 0) };
    if r != 0 {
        return Err(format!(
            "finit_module({}): {}",
            path.display(),
            std::io::Error::last_os_error()
        ));
    }
    c.loaded_twins.set(true);
    if !module_loaded() {
        return Err(format!("{MODULE} not in /sys/module after loading"));
    }
    Ok(())
}

pub fn test_unload_module(c: &Ctx) -> Outcome {
    if !c.loaded_twins.get() {
        return if module_loaded() {
            Ok(()) // loaded by someone else: left as found
        } else {
            Err(format!("{MODULE} was never loaded"))
        };
    }
    let name = CString::new(MODULE).map_err(|e| e.to_string())?;
    // Programs, and with them the module references, are freed a little
    // after their last fd is closed: retry while the module is busy.
    let mut last = std::io::Error::from_raw_os_error(0);
    for _ in 0..100 {
        // SAFETY: delete_module with a NUL-terminated name.
        let r = unsafe { libc::syscall(libc::SYS_delete_module, name.as_ptr(), libc::O_NONBLOCK) };
        if r == 0 {
            return if module_loaded() {
                Err(format!("{MODULE} still in /sys/module"))
            } else {
                Ok(())
            };
        }
        last = std::io::Error::last_os_error();
        if last.raw_os_error() != Some(libc::EAGAIN) {
            break;
        }
        thread::sleep(Duration::from_millis(100));
    }
    Err(format!("delete_module({MODULE}): {last}"))
}

pub fn test_task_all(c: &Ctx) -> Outcome {
    let out = compare(c, "task", &IterParams::None, 64 << 10, ATTEMPTS)?;
    let recs = parse_task_text(&out)?;
    if !recs.iter().any(|&(tgid, _)| tgid == getpid()) {
        return Err("own process not listed".into());
    }
    Ok(())
}

pub fn test_task_pid_self(c: &Ctx) -> Outcome {
    with_threads(2, |tids| {
        let out = compare(c, "task", &pid_self(), 64 << 10, 1)?;
        let recs = parse_task_text(&out)?;
        let seen: BTreeSet<_> = recs.iter().copied().collect();
        if seen.len() != recs.len() {
            return Err(format!("duplicates in {recs:?}"));
        }
        let expect = self_threads();
        if seen != expect {
            return Err(format!("got {seen:?}, /proc/self/task has {expect:?}"));
        }
        if !tids.iter().all(|t| seen.contains(&(getpid(), *t))) {
            return Err(format!("spawned threads {tids:?} missing"));
        }
        Ok(())
    })
}

pub fn test_task_pid_fd_self(c: &Ctx) -> Outcome {
    c.twins()?;
    // SAFETY: plain syscall, result checked.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, getpid() as libc::c_long, 0) };
    if fd < 0 {
        return Err(format!("pidfd_open: {}", std::io::Error::last_os_error()));
    }
    // SAFETY: fresh fd from the kernel.
    let fd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
    with_threads(1, |_| {
        let by_fd = c.attach_one("task", true, &task_params(0, 0, fd.as_raw_fd()))?;
        let out = compare(c, "task", &pid_self(), 64 << 10, 1)?;
        let mut a = Vec::with_capacity(OUT_CAP);
        read_fixed(&by_fd.link.open().map_err(e2s)?, &mut a, 64 << 10)?;
        if a != out {
            return Err(format!(
                "pid_fd output differs from --pid: {}",
                first_difference(&out, &a)
            ));
        }
        Ok(())
    })
}

pub fn test_task_tid(c: &Ctx) -> Outcome {
    with_threads(1, |tids| {
        let out = compare(c, "task", &task_params(tids[0], 0, 0), 64 << 10, 1)?;
        let recs = parse_task_text(&out)?;
        if recs != [(getpid(), tids[0])] {
            return Err(format!(
                "expected only ({}, {}), got {recs:?}",
                getpid(),
                tids[0]
            ));
        }
        Ok(())
    })
}

pub fn test_task_bin(c: &Ctx) -> Outcome {
    with_threads(2, |_| {
        let out = compare(c, "task_bin", &pid_self(), 64 << 10, 1)?;
        if out.len() != 16 * self_threads().len() {
            return Err(format!(
                "{} bytes for {} threads",
                out.len(),
                self_threads().len()
            ));
        }
        Ok(())
    })
}

pub fn test_task_small_reads(c: &Ctx) -> Outcome {
    // 20 bytes is about one line: nearly every read stops on an object it
    // did not show, which the next read must start from.
    with_threads(3, |_| {
        let out = compare(c, "task", &pid_self(), 20, 1)?;
        let n = parse_task_text(&out)?.len();
        if n != self_threads().len() {
            return Err(format!("{n} records for {} threads", self_threads().len()));
        }
        Ok(())
    })
}

/// Opens `n` extra fds (dups of /dev/null), closed on drop.
fn extra_fds(n: usize) -> Result<Vec<OwnedFd>, String> {
    let f = File::open("/dev/null").map_err(|e| format!("/dev/null: {e}"))?;
    (0..n)
        .map(|_| {
            f.as_fd()
                .try_clone_to_owned()
                .map_err(|e| format!("dup: {e}"))
        })
        .collect()
}

/// `(tgid, pid, fd)` of every line of task_file output (header checked).
fn parse_task_file(out: &[u8]) -> Result<Vec<(u32, u32, u32)>, String> {
    let text = std::str::from_utf8(out).map_err(|e| e.to_string())?;
    let mut lines = text.lines();
    if lines.next().map(str::trim) != Some("tgid      pid       fd      file") {
        return Err("bad header".into());
    }
    lines
        .map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            let n: Vec<u32> = w.iter().take(3).filter_map(|x| x.parse().ok()).collect();
            if w.len() != 4 || n.len() != 3 || u64::from_str_radix(w[3], 16).is_err() {
                return Err(format!("malformed line {l:?}"));
            }
            Ok((n[0], n[1], n[2]))
        })
        .collect()
}

pub fn test_task_file_pid_self(c: &Ctx) -> Outcome {
    let _files: Vec<File> = ["/proc/self/status", "/proc/version", "/dev/null"]
        .iter()
        .map(File::open)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("open: {e}"))?;
    let _more = extra_fds(50)?;
    // Threads share the leader's file table: they must not repeat its files.
    with_threads(2, |_| {
        c.twins()?;
        let cl = c.attach_one("task_file", false, &pid_self())?;
        let tl = c.attach_one("task_file", true, &pid_self())?;
        let cf = cl.link.open().map_err(e2s)?;
        let tf = tl.link.open().map_err(e2s)?;
        // Both iterator fds are open: /proc's view is that of both reads.
        let expect = proc_self_fds()?;
        let (mut a, mut b) = (Vec::with_capacity(OUT_CAP), Vec::with_capacity(OUT_CAP));
        read_fixed(&cf, &mut a, 64 << 10)?;
        read_fixed(&tf, &mut b, 64 << 10)?;
        if a != b {
            return Err(first_difference(&a, &b));
        }
        let recs = parse_task_file(&b)?;
        let fds: Vec<u32> = recs.iter().map(|r| r.2).collect();
        let seen: BTreeSet<u32> = fds.iter().copied().collect();
        if seen.len() != fds.len() {
            return Err("an fd is listed twice (threads not skipped)".into());
        }
        if recs.iter().any(|r| r.0 != getpid() || r.1 != getpid()) {
            return Err("a line not of the leader".into());
        }
        if seen != expect {
            return Err(format!("iterator fds {seen:?} != /proc/self/fd {expect:?}"));
        }
        Ok(())
    })
}

pub fn test_task_file_small_reads(c: &Ctx) -> Outcome {
    let _more = extra_fds(200)?;
    let out = compare(c, "task_file", &pid_self(), 100, 1)?;
    let n = parse_task_file(&out)?.len();
    if n < 200 {
        return Err(format!("only {n} files"));
    }
    Ok(())
}

pub fn test_task_file_tid(c: &Ctx) -> Outcome {
    with_threads(1, |tids| {
        let out = compare(c, "task_file", &task_params(tids[0], 0, 0), 64 << 10, 1)?;
        let recs = parse_task_file(&out)?;
        if recs.iter().any(|r| r.0 != getpid() || r.1 != tids[0]) {
            return Err(format!("a line not of thread {}", tids[0]));
        }
        Ok(())
    })
}

pub fn test_task_file_all(c: &Ctx) -> Outcome {
    let out = compare(c, "task_file", &IterParams::None, 64 << 10, ATTEMPTS)?;
    let recs = parse_task_file(&out)?;
    if !recs.iter().any(|r| r.0 == getpid()) {
        return Err("own files not listed".into());
    }
    Ok(())
}

/// Many small mappings with alternating protections (so none merge),
/// unmapped on drop.
struct Mappings(Vec<usize>);

impl Mappings {
    fn new(n: usize) -> Result<Self, String> {
        let mut v = Vec::with_capacity(n);
        for i in 0..n {
            let prot = if i % 2 == 0 {
                libc::PROT_READ
            } else {
                libc::PROT_READ | libc::PROT_WRITE
            };
            // SAFETY: a fresh anonymous mapping, unmapped in Drop.
            let p = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    4096,
                    prot,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                    -1,
                    0,
                )
            };
            if p == libc::MAP_FAILED {
                return Err(format!("mmap: {}", std::io::Error::last_os_error()));
            }
            v.push(p as usize);
        }
        Ok(Mappings(v))
    }
}

impl Drop for Mappings {
    fn drop(&mut self) {
        for &p in &self.0 {
            // SAFETY: `p` is a mapping of ours of one page.
            unsafe { libc::munmap(p as *mut libc::c_void, 4096) };
        }
    }
}

/// `(tgid, pid, start, end)` of every line of task_vma output.
fn parse_task_vma(out: &[u8]) -> Result<Vec<(u32, u32, u64, u64)>, String> {
    let text = std::str::from_utf8(out).map_err(|e| e.to_string())?;
    let mut lines = text.lines();
    if lines.next().map(str::trim) != Some("tgid      pid start-end perms pgoff") {
        return Err("bad header".into());
    }
    lines
        .map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            let range = w.get(2).and_then(|r| r.split_once('-'));
            match (w.len(), w[0].parse(), w[1].parse(), range) {
                (5, Ok(tgid), Ok(pid), Some((s, e))) => {
                    match (u64::from_str_radix(s, 16), u64::from_str_radix(e, 16)) {
                        (Ok(s), Ok(e)) if s < e => Ok((tgid, pid, s, e)),
                        _ => Err(format!("bad range in {l:?}")),
                    }
                }
                _ => Err(format!("malformed line {l:?}")),
            }
        })
        .collect()
}

/// The mappings of /proc/self/maps, without the vsyscall page (no VMA).
fn proc_self_maps(buf: &mut Vec<u8>) -> Result<BTreeSet<(u64, u64)>, String> {
    let f = File::open("/proc/self/maps").map_err(|e| format!("maps: {e}"))?;
    read_fixed(&f, buf, 64 << 10)?;
    let text = std::str::from_utf8(buf).map_err(|e| e.to_string())?;
    let mut s = BTreeSet::new();
    for l in text.lines() {
        if l.ends_with("[vsyscall]") {
            continue;
        }
        let r = l.split_whitespace().next().and_then(|r| r.split_once('-'));
        let Some((a, b)) = r else {
            return Err(format!("maps line {l:?}"));
        };
        let a = u64::from_str_radix(a, 16).map_err(|e| e.to_string())?;
        let b = u64::from_str_radix(b, 16).map_err(|e| e.to_string())?;
        s.insert((a, b));
    }
    Ok(s)
}

pub fn test_task_vma_pid_self(c: &Ctx) -> Outcome {
    let maps = Mappings::new(400)?;
    c.twins()?;
    with_threads(1, |_| {
        let cl = c.attach_one("task_vma", false, &pid_self())?;
        let tl = c.attach_one("task_vma", true, &pid_self())?;
        let mut last = String::new();
        for _ in 0..ATTEMPTS {
            let mut mbuf = Vec::with_capacity(OUT_CAP);
            let (a, b) = read_both(&cl.link, &tl.link, 64 << 10)?;
            let expect = proc_self_maps(&mut mbuf)?;
            if a != b {
                last = first_difference(&a, &b);
                continue;
            }
            let recs = parse_task_vma(&b)?;
            if recs.iter().any(|r| r.0 != getpid() || r.1 != getpid()) {
                return Err("a line not of the leader (threads must not repeat)".into());
            }
            let seen: BTreeSet<(u64, u64)> = recs.iter().map(|r| (r.2, r.3)).collect();
            if seen.len() != recs.len() {
                return Err("a mapping listed twice".into());
            }
            // A test page may have merged with a neighbour: it must be
            // inside a listed mapping.
            let covered = |p: u64| seen.iter().any(|&(s, e)| s <= p && p + 4096 <= e);
            if let Some(p) = maps.0.iter().find(|&&p| !covered(p as u64)) {
                return Err(format!("test mapping {p:#x} not listed"));
            }
            if seen == expect {
                return Ok(());
            }
            last = format!(
                "iterator and /proc/self/maps differ: only iterator {:?}, only maps {:?}",
                seen.difference(&expect).take(5).collect::<Vec<_>>(),
                expect.difference(&seen).take(5).collect::<Vec<_>>()
            );
        }
        Err(last)
    })
}

pub fn test_task_vma_small_reads(c: &Ctx) -> Outcome {
    let maps = Mappings::new(300)?;
    let out = compare(c, "task_vma", &pid_self(), 100, 1)?;
    let n = parse_task_vma(&out)?.len();
    if n < maps.0.len() {
        return Err(format!("only {n} mappings"));
    }
    Ok(())
}

pub fn test_task_vma_tid(c: &Ctx) -> Outcome {
    with_threads(1, |tids| {
        let out = compare(c, "task_vma", &task_params(tids[0], 0, 0), 64 << 10, 1)?;
        let recs = parse_task_vma(&out)?;
        if recs.iter().any(|r| r.0 != getpid() || r.1 != tids[0]) {
            return Err(format!("a line not of thread {}", tids[0]));
        }
        Ok(())
    })
}

pub fn test_task_vma_all(c: &Ctx) -> Outcome {
    let out = compare(c, "task_vma", &IterParams::None, 64 << 10, ATTEMPTS)?;
    let recs = parse_task_vma(&out)?;
    if !recs.iter().any(|r| r.0 == getpid()) {
        return Err("own mappings not listed".into());
    }
    Ok(())
}

pub fn test_pinned_twice(c: &Ctx) -> Outcome {
    c.twins()?;
    let dir = bpf_iter::bpffs();
    bpf_iter::ensure_bpffs(&dir).map_err(e2s)?;
    for name in ["task", "task_file", "task_vma"] {
        let path = dir.join(format!("bpf_iter_selftest_rust_{name}_{}", getpid()));
        let _ = fs::remove_file(&path);
        {
            let a = c.attach_one(name, true, &pid_self())?;
            a.link.pin(&path).map_err(e2s)?;
        } // program and link fds closed: the pin keeps them alive
        let r = (|| {
            // Both buffers allocated and both passes read before anything
            // else allocates: this process's own mappings are in the output,
            // and a heap that grows between the passes (parsing the first
            // one did, once) changes the second.
            let mut outs = [Vec::with_capacity(OUT_CAP), Vec::with_capacity(OUT_CAP)];
            for (pass, buf) in outs.iter_mut().enumerate() {
                let f = File::open(&path).map_err(|e| format!("pass {}: {e}", pass + 1))?;
                read_fixed(&f, buf, 64 << 10)?;
            }
            for (pass, buf) in outs.iter().enumerate() {
                let pass = pass + 1;
                let tgids: Vec<u32> = match name {
                    "task" => parse_task_text(buf)?.iter().map(|r| r.0).collect(),
                    "task_file" => parse_task_file(buf)?.iter().map(|r| r.0).collect(),
                    _ => parse_task_vma(buf)?.iter().map(|r| r.0).collect(),
                };
                if tgids.is_empty() || tgids.iter().any(|&t| t != getpid()) {
                    return Err(format!(
                        "{name} pass {pass}: {} lines, foreign tgid",
                        tgids.len()
                    ));
                }
            }
            // Same fd number, same threads, same mappings: the two passes
            // are identical.
            if outs[0] != outs[1] {
                return Err(format!(
                    "{name}: passes differ: {}",
                    first_difference(&outs[0], &outs[1])
                ));
            }
            Ok(())
        })();
        bpf_iter::unpin(&path).map_err(e2s)?;
        r?;
    }
    Ok(())
}

/// The errno of attaching `rust_<name>` (twin) or `<name>` with `p`.
fn attach_errno(c: &Ctx, name: &str, twin: bool, p: &IterParams) -> Result<Option<i32>, String> {
    let obj = if twin {
        format!("rust_{name}.bpf.o")
    } else {
        format!("{name}.bpf.o")
    };
    let prog = c.load(&obj)?;
    match prog.attach(p) {
        Ok(_) => Ok(None),
        Err(e) => e
            .errno()
            .map(Some)
            .ok_or_else(|| format!("{obj}: {e} without errno")),
    }
}

const NAMES: [&str; 3] = ["task", "task_file", "task_vma"];

fn free_pid() -> Result<u32, String> {
    let max: u32 = fs::read_to_string("/proc/sys/kernel/pid_max")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(32768);
    (2..max)
        .rev()
        .find(|p| !Path::new(&format!("/proc/{p}")).exists())
        .ok_or_else(|| "no free pid".into())
}

pub fn test_nonexistent_esrch(c: &Ctx) -> Outcome {
    c.twins()?;
    let pid = free_pid()?;
    for name in NAMES {
        for p in [task_params(0, pid, 0), task_params(pid, 0, 0)] {
            let got = attach_errno(c, name, true, &p)?;
            if got != Some(libc::ESRCH) {
                return Err(format!("rust_{name} {p:?}: got {got:?}, expected ESRCH"));
            }
            // The documented difference: C attaches and shows nothing.
            let cl = c.attach_one(name, false, &p)?;
            let out = cl.link.read_all().map_err(e2s)?;
            if !out.is_empty() {
                return Err(format!("{name} {p:?}: C output {out:?}"));
            }
        }
    }
    Ok(())
}

pub fn test_pid_and_tid_einval(c: &Ctx) -> Outcome {
    c.twins()?;
    let me = getpid();
    let p = task_params(me, me, 0);
    for name in NAMES {
        let (cr, tr) = (
            attach_errno(c, name, false, &p)?,
            attach_errno(c, name, true, &p)?,
        );
        if tr != Some(libc::EINVAL) || cr != tr {
            return Err(format!("{name}: C {cr:?}, twin {tr:?}, expected EINVAL"));
        }
    }
    Ok(())
}

pub fn test_bad_pid_fd(c: &Ctx) -> Outcome {
    c.twins()?;
    let f = File::open("/dev/null").map_err(|e| e.to_string())?;
    for pid_fd in [f.as_raw_fd(), 1_000_000] {
        let p = task_params(0, 0, pid_fd);
        for name in NAMES {
            let (cr, tr) = (
                attach_errno(c, name, false, &p)?,
                attach_errno(c, name, true, &p)?,
            );
            if tr != Some(libc::EBADF) || cr != tr {
                return Err(format!(
                    "{name} pid_fd {pid_fd}: C {cr:?}, twin {tr:?}, expected EBADF"
                ));
            }
        }
    }
    Ok(())
}

pub fn test_link_info(c: &Ctx) -> Outcome {
    c.twins()?;
    with_threads(1, |tids| {
        let me = getpid();
        for name in NAMES {
            for (p, tid, pid) in [
                (IterParams::None, 0, 0),
                (pid_self(), 0, me),
                (task_params(tids[0], 0, 0), tids[0], 0),
            ] {
                let ci = c.attach_one(name, false, &p)?.link.info().map_err(e2s)?;
                let ti = c.attach_one(name, true, &p)?.link.info().map_err(e2s)?;
                if ti.target_name != format!("rust_{name}")
                    || (ti.task_tid, ti.task_pid) != (tid, pid)
                    || (ti.task_tid, ti.task_pid) != (ci.task_tid, ci.task_pid)
                {
                    return Err(format!("rust_{name} {p:?}: twin {ti:?}, C {ci:?}"));
                }
            }
        }
        Ok(())
    })
}

/// The lines of a link's fdinfo after `target_name:`, the target's own.
fn fdinfo_tail(link: &IterLink) -> Result<Vec<String>, String> {
    let path = format!("/proc/self/fdinfo/{}", link.fd().as_raw_fd());
    let s = fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
    let mut lines = s.lines().skip_while(|l| !l.starts_with("target_name:"));
    if lines.next().is_none() {
        return Err(format!("no target_name in {s:?}"));
    }
    Ok(lines.map(str::to_string).collect())
}

pub fn test_fdinfo(c: &Ctx) -> Outcome {
    c.twins()?;
    with_threads(1, |tids| {
        let me = getpid();
        for name in NAMES {
            for (p, want) in [
                (IterParams::None, vec!["task_type:\tALL".to_string()]),
                (
                    pid_self(),
                    vec!["task_type:\tPID".to_string(), format!("pid:\t{me}")],
                ),
                (
                    task_params(tids[0], 0, 0),
                    vec!["task_type:\tTID".to_string(), format!("tid:\t{}", tids[0])],
                ),
            ] {
                let cl = c.attach_one(name, false, &p)?;
                let tl = c.attach_one(name, true, &p)?;
                let (ct, tt) = (fdinfo_tail(&cl.link)?, fdinfo_tail(&tl.link)?);
                if tt != want || ct != tt {
                    return Err(format!("rust_{name} {p:?}: twin {tt:?}, C {ct:?}"));
                }
            }
        }
        Ok(())
    })
}
