// SPDX-License-Identifier: GPL-2.0
//! `bpf-iter`: run, pin, show and list BPF iterators.
//!
//! Conventions (bpftool's): `-j`/`--json` prints JSON, `-p`/`--pretty`
//! pretty JSON, on every command; with either, an error is printed as
//! `{"error": "..."}` on stdout. Exit status: 0 on success, 1 when the
//! command failed, 2 on a usage error (clap's message on stderr).

use std::{
    fs::File,
    io::{self, Read, Write},
    os::fd::{AsRawFd, OwnedFd},
    path::{Path, PathBuf},
    process::ExitCode,
};

use bpf_iter::{
    CgroupOrder, CustomParam, Error, IterLink, IterParams, IterProgram, LinkShow, LoadOptions,
    ParamKind, Result,
};
use clap::{Args, Parser, Subcommand, ValueEnum};
use serde::Serialize;

#[derive(Parser)]
#[command(
    name = "bpf-iter",
    version,
    about = "Run, pin, show and list BPF iterators",
    subcommand_required = true,
    arg_required_else_help = true
)]
struct Cli {
    /// JSON output (compact).
    #[arg(short, long, global = true)]
    json: bool,
    /// JSON output (pretty; implies --json).
    #[arg(short, long, global = true)]
    pretty: bool,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Load and attach the iterator, print one pass of it.
    Run {
        /// BPF object file.
        prog_o: PathBuf,
        #[command(flatten)]
        p: Params,
    },
    /// Load and attach the iterator, pin the link in a bpffs (read the pinned
    /// file to run it).
    Pin {
        /// BPF object file.
        prog_o: PathBuf,
        /// Pin path in a bpffs (e.g. /sys/fs/bpf/NAME).
        path: PathBuf,
        #[command(flatten)]
        p: Params,
    },
    /// Remove a pinned iterator link.
    Unpin {
        /// Pin path.
        path: PathBuf,
    },
    /// Show the iterator link pinned at PATH, or every iterator link.
    Show {
        /// Pin path.
        path: Option<PathBuf>,
    },
    /// List the iterator targets and the open-coded iterators (kfuncs
    /// bpf_iter_<NAME>_new/_next/_destroy) of the running kernel and its
    /// modules.
    List {
        /// Directory of kernel BTF files (vmlinux and modules) to read
        /// instead of the running kernel's.
        #[arg(long, default_value = bpf_iter::SYS_BTF)]
        btf_dir: PathBuf,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Order {
    SelfOnly,
    DescendantsPre,
    DescendantsPost,
    AncestorsUp,
}

impl From<Order> for CgroupOrder {
    fn from(o: Order) -> Self {
        match o {
            Order::SelfOnly => CgroupOrder::SelfOnly,
            Order::DescendantsPre => CgroupOrder::DescendantsPre,
            Order::DescendantsPost => CgroupOrder::DescendantsPost,
            Order::AncestorsUp => CgroupOrder::AncestorsUp,
        }
    }
}

#[derive(Args)]
#[command(group(clap::ArgGroup::new("cgroup_walk").multiple(true)))]
struct Params {
    /// Iterator program name in the object (if it has several).
    #[arg(long)]
    prog: Option<String>,
    /// Module providing the target (default: vmlinux, then any module).
    #[arg(long)]
    module: Option<String>,
    /// Only the threads of this process (task targets; opened as a pidfd).
    #[arg(long, group = "task", conflicts_with_all = ["map", "cgroup_walk"])]
    pid: Option<u32>,
    /// Only this thread (task targets).
    #[arg(long, group = "task", conflicts_with_all = ["map", "cgroup_walk"])]
    tid: Option<u32>,
    /// Only the threads of the process this pidfd (inherited) refers to.
    #[arg(long, group = "task", conflicts_with_all = ["map", "cgroup_walk"])]
    pid_fd: Option<i32>,
    /// The map with this id (map targets such as bpf_map_elem).
    #[arg(long, group = "map", conflicts_with = "cgroup_walk")]
    map_id: Option<u32>,
    /// The map pinned at this path (map targets).
    #[arg(long, group = "map", conflicts_with = "cgroup_walk")]
    map_pinned: Option<PathBuf>,
    /// Walk from the cgroup of this cgroupfs directory (cgroup target).
    #[arg(long, group = "cgroup_walk", conflicts_with = "cgroup_id")]
    cgroup: Option<PathBuf>,
    /// Walk from the cgroup with this id (cgroup target).
    #[arg(long, group = "cgroup_walk")]
    cgroup_id: Option<u64>,
    /// Cgroup walk order (cgroup target; default descendants-pre, from the
    /// root if no cgroup is named).
    #[arg(long, group = "cgroup_walk", value_enum)]
    order: Option<Order>,
    /// A parameter of a module target's own, TYPE=VALUE (u8, u16, u32, u64, i32, i64); repeat
    /// for more fields, laid out as a C struct of them (at most 16 bytes).
    #[arg(long = "param", value_name = "TYPE=VALUE",
          conflicts_with_all = ["task", "map", "cgroup_walk"])]
    param: Vec<CustomParam>,
}

impl Params {
    /// The kind of the parameters given (clap allows one kind at a time).
    fn kind(&self) -> Option<ParamKind> {
        if self.map_id.is_some() || self.map_pinned.is_some() {
            Some(ParamKind::Map)
        } else if self.cgroup.is_some() || self.cgroup_id.is_some() || self.order.is_some() {
            Some(ParamKind::Cgroup)
        } else if self.pid.is_some() || self.tid.is_some() || self.pid_fd.is_some() {
            Some(ParamKind::Task)
        } else if !self.param.is_empty() {
            Some(ParamKind::Custom)
        } else {
            None
        }
    }
}

/// Parameters for `prog`, and the fds they name, kept open until the link
/// is created.
fn params(prog: &IterProgram, p: &Params) -> Result<(IterParams, Option<OwnedFd>)> {
    let given = p.kind();
    if let Some(k) = given {
        // before opening anything the parameters name
        prog.param_kind().check_kind(&prog.target, k)?;
    }
    if let Some(id) = p.map_id {
        let fd = bpf_iter::sys::fd_by_id(bpf_iter::sys::IdKind::Map, id).map_err(|e| {
            if e.raw_os_error() == Some(libc::ENOENT) {
                Error::Invalid(format!("--map-id {id}: no such map"))
            } else {
                Error::sys("BPF_MAP_GET_FD_BY_ID")(e)
            }
        })?;
        let map_fd = fd.as_raw_fd();
        return Ok((IterParams::Map { map_fd }, Some(fd)));
    }
    if let Some(path) = &p.map_pinned {
        let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes())
            .map_err(|_| Error::Invalid(format!("{}: NUL in path", path.display())))?;
        let fd =
            bpf_iter::sys::obj_get(&c).map_err(|e| Error::Io(path.display().to_string(), e))?;
        let map_fd = fd.as_raw_fd();
        return Ok((IterParams::Map { map_fd }, Some(fd)));
    }
    // The kernel's cgroup target needs an order: without parameters, it
    // walks every cgroup from the root, parents first.
    if given == Some(ParamKind::Cgroup)
        || (given.is_none() && prog.param_kind() == ParamKind::Cgroup)
    {
        let order = p.order.map_or(CgroupOrder::DescendantsPre, Into::into);
        let (fd, cgroup_fd) = match &p.cgroup {
            Some(path) => {
                let f = File::open(path).map_err(|e| Error::Io(path.display().to_string(), e))?;
                let fd = OwnedFd::from(f);
                let raw = fd.as_raw_fd();
                (Some(fd), raw)
            }
            None => (None, 0),
        };
        let cgroup = IterParams::Cgroup {
            order,
            cgroup_fd,
            cgroup_id: p.cgroup_id.unwrap_or(0),
        };
        return Ok((cgroup, fd));
    }
    if !p.param.is_empty() {
        return Ok((IterParams::Custom(CustomParam::encode(&p.param)?), None));
    }
    let task = |tid, pid, pid_fd| IterParams::Task { tid, pid, pid_fd };
    if let Some(pid) = p.pid {
        // A pidfd names the process for as long as we hold it: no pid reuse
        // between this check and the kernel's lookup.
        let fd = bpf_iter::sys::pidfd_open(pid).map_err(|e| match e.raw_os_error() {
            Some(libc::ESRCH) => Error::Invalid(format!("--pid {pid}: no such process")),
            // A thread that leads no process: EINVAL up to 6.x, ENOENT on later kernels.
            Some(libc::EINVAL | libc::ENOENT) => {
                Error::Invalid(format!("--pid {pid}: not a process (a thread? use --tid)"))
            }
            _ => Error::sys("pidfd_open")(e),
        })?;
        let pid_fd = fd.as_raw_fd();
        return Ok((task(0, 0, pid_fd), Some(fd)));
    }
    Ok((
        match (p.tid, p.pid_fd) {
            (Some(t), _) => task(t, 0, 0),
            (_, Some(fd)) => task(0, 0, fd),
            _ => IterParams::None,
        },
        None,
    ))
}

fn load_and_attach(prog_o: &Path, p: &Params) -> Result<(IterProgram, IterLink)> {
    let prog = IterProgram::load_file(
        prog_o,
        &LoadOptions {
            prog: p.prog.clone(),
            module: p.module.clone(),
            target: None,
        },
    )?;
    let (ip, _fd) = params(&prog, p)?;
    let link = prog.attach(&ip)?;
    Ok((prog, link))
}

/// Output: text or JSON.
struct Out {
    json: bool,
    pretty: bool,
}

impl Out {
    fn json<T: Serialize>(&self, v: &T) -> io::Result<()> {
        let mut out = io::stdout().lock();
        if self.pretty {
            serde_json::to_writer_pretty(&mut out, v)?;
        } else {
            serde_json::to_writer(&mut out, v)?;
        }
        writeln!(out)
    }
}

fn stdout_err(e: io::Error) -> Error {
    Error::Io("stdout".into(), e)
}

/// Copies one pass of the iterator to stdout as it is read; a reader that
/// went away (`| head`) ends it without an error.
fn stream(mut it: File) -> Result<()> {
    let mut buf = vec![0u8; 64 << 10];
    let mut out = io::stdout().lock();
    loop {
        let n = match it.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::sys("read(iterator)")(e)),
        };
        match out.write_all(&buf[..n]) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(()),
            Err(e) => return Err(stdout_err(e)),
        }
    }
    match out.flush() {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(stdout_err(e)),
        _ => Ok(()),
    }
}

#[derive(Serialize)]
struct RunJson<'a> {
    prog: &'a str,
    target: &'a str,
    source: String,
    link: LinkShow,
    output: String,
}

#[derive(Serialize)]
struct ListJson<'a> {
    targets: &'a [bpf_iter::TargetEntry],
    open_iters: &'a [bpf_iter::OpenIterEntry],
}

#[derive(Serialize)]
struct PinJson<'a> {
    path: &'a Path,
    prog: &'a str,
    source: String,
    link: LinkShow,
}

fn link_show(link: &IterLink) -> Result<LinkShow> {
    Ok(LinkShow::new(&link.info()?))
}

fn run(cmd: Cmd, o: &Out) -> Result<()> {
    match cmd {
        Cmd::Run { prog_o, p } => {
            let (prog, link) = load_and_attach(&prog_o, &p)?;
            if !o.json {
                return stream(link.open()?);
            }
            let bytes = link.read_all()?;
            let output = String::from_utf8(bytes).map_err(|_| {
                Error::Invalid("the output is not UTF-8 text: run without --json".into())
            })?;
            o.json(&RunJson {
                prog: &prog.name,
                target: &prog.target,
                source: prog.source.to_string(),
                link: link_show(&link)?,
                output,
            })
            .map_err(stdout_err)
        }
        Cmd::Pin { prog_o, path, p } => {
            let (prog, link) = load_and_attach(&prog_o, &p)?;
            link.pin(&path)?;
            if o.json {
                o.json(&PinJson {
                    path: &path,
                    prog: &prog.name,
                    source: prog.source.to_string(),
                    link: link_show(&link)?,
                })
                .map_err(stdout_err)?;
            }
            Ok(())
        }
        Cmd::Unpin { path } => {
            bpf_iter::unpin(&path)?;
            if o.json {
                o.json(&serde_json::json!({ "unpinned": path }))
                    .map_err(stdout_err)?;
            }
            Ok(())
        }
        Cmd::Show { path } => {
            let links = match &path {
                Some(path) => vec![link_show(&IterLink::from_pin(path)?)?],
                None => bpf_iter::iter_links()?,
            };
            if o.json {
                return match path {
                    Some(_) => o.json(&links[0]),
                    None => o.json(&links),
                }
                .map_err(stdout_err);
            }
            let mut out = io::stdout().lock();
            links
                .iter()
                .try_for_each(|l| writeln!(out, "{l}"))
                .map_err(stdout_err)
        }
        Cmd::List { btf_dir } => {
            let list = bpf_iter::list_targets(&btf_dir)?;
            for (module, e) in &list.skipped {
                eprintln!("bpf-iter: warning: skipped the BTF of module {module}: {e}");
            }
            if o.json {
                return o
                    .json(&ListJson {
                        targets: &list.targets,
                        open_iters: &list.open_iters,
                    })
                    .map_err(stdout_err);
            }
            let mut out = io::stdout().lock();
            list.targets
                .iter()
                .try_for_each(|t| writeln!(out, "{t}"))
                .map_err(stdout_err)?;
            if list.open_iters.is_empty() {
                return Ok(());
            }
            writeln!(out, "\nopen-coded iterators:").map_err(stdout_err)?;
            list.open_iters
                .iter()
                .try_for_each(|it| writeln!(out, "{it}"))
                .map_err(stdout_err)
        }
    }
}

fn main() -> ExitCode {
    // Usage errors: clap's message, exit 2; --help/--version: exit 0.
    let cli = Cli::try_parse().unwrap_or_else(|e| e.exit());
    let o = Out {
        json: cli.json || cli.pretty,
        pretty: cli.pretty,
    };
    let Err(e) = run(cli.cmd, &o) else {
        return ExitCode::SUCCESS;
    };
    let mut lines = e.report();
    if let Some(h) = e.hint() {
        lines.push(format!("hint: {h}"));
    }
    if o.json {
        // bpftool's convention: the error as JSON on stdout.
        let _ = o.json(&serde_json::json!({ "error": lines.join("\n") }));
    } else {
        // the error on one line, then its causes (and a verifier log) indented
        let mut it = lines.iter().flat_map(|l| l.lines());
        eprintln!("bpf-iter: {}", it.next().unwrap_or_default());
        for l in it {
            eprintln!("  {l}");
        }
    }
    ExitCode::FAILURE
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    fn parse(args: &[&str]) -> std::result::Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("bpf-iter").chain(args.iter().copied()))
    }

    #[test]
    fn usage_errors_are_clap_errors() {
        use clap::error::ErrorKind;
        let kind = |a: &[&str]| parse(a).err().map(|e| e.kind());
        // a missing argument is named
        let e = parse(&["pin", "x.o"]).err().unwrap();
        assert_eq!(e.kind(), ErrorKind::MissingRequiredArgument);
        assert!(e.to_string().contains("<PATH>"), "{e}");
        assert_eq!(e.exit_code(), 2);
        assert_eq!(
            kind(&[]),
            Some(ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand)
        );
        assert_eq!(kind(&["--version"]), Some(ErrorKind::DisplayVersion));
        assert_eq!(kind(&["frob"]), Some(ErrorKind::InvalidSubcommand));
        // one kind of parameter at a time
        for a in [
            &["run", "x.o", "--pid", "1", "--tid", "2"][..],
            &["run", "x.o", "--pid", "1", "--map-id", "2"],
            &["run", "x.o", "--map-id", "1", "--cgroup", "/"],
            &["run", "x.o", "--tid", "1", "--order", "self-only"],
            &["run", "x.o", "--cgroup", "/", "--cgroup-id", "1"],
        ] {
            assert_eq!(kind(a), Some(ErrorKind::ArgumentConflict), "{a:?}");
        }
        assert_eq!(
            kind(&["run", "x.o", "--order", "sideways"]),
            Some(ErrorKind::InvalidValue)
        );
        assert!(parse(&["-j", "list"]).unwrap().json);
        assert!(parse(&["list", "-p"]).unwrap().pretty);
    }
}
