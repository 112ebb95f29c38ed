// SPDX-License-Identifier: GPL-2.0
//! `bpf-iter`: run, pin and list BPF iterators.

use std::{
    io::Write,
    path::{Path, PathBuf},
    process::ExitCode,
};

use bpf_iter::{Error, IterParams, IterProgram, LoadOptions, Result};
use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(name = "bpf-iter", about = "Run, pin and list BPF iterators")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Load, attach, and print one pass of the iterator.
    Run {
        /// BPF object file.
        prog_o: PathBuf,
        #[command(flatten)]
        p: Params,
    },
    /// Load, attach and pin the iterator link in a bpffs.
    Pin {
        /// BPF object file.
        prog_o: PathBuf,
        /// Pin path (e.g. /sys/fs/bpf/NAME).
        path: PathBuf,
        #[command(flatten)]
        p: Params,
    },
    /// List the iterator targets of the running kernel and its modules.
    List {
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
#[group(id = "params")]
struct Params {
    /// Iterator program name in the object.
    #[arg(long)]
    prog: Option<String>,
    /// Module providing the target.
    #[arg(long)]
    module: Option<String>,
    /// Only the threads of this process.
    #[arg(long, group = "filter")]
    pid: Option<u32>,
    /// Only this thread.
    #[arg(long, group = "filter")]
    tid: Option<u32>,
    /// Only the threads of the process this pidfd refers to.
    #[arg(long, group = "filter")]
    pid_fd: Option<i32>,
    /// Walk the map with this id (map iterators).
    #[arg(long, group = "filter")]
    map_id: Option<u32>,
}

/// Keeps a map fd opened from `--map-id` alive while the link is created.
fn params(p: &Params) -> Result<(IterParams, Option<std::os::fd::OwnedFd>)> {
    use std::os::fd::AsRawFd;
    if let Some(id) = p.map_id {
        let fd = bpf_iter::sys::map_fd_by_id(id).map_err(Error::sys("BPF_MAP_GET_FD_BY_ID"))?;
        let map_fd = fd.as_raw_fd();
        return Ok((IterParams::Map { map_fd }, Some(fd)));
    }
    let task = |tid, pid, pid_fd| IterParams::Task { tid, pid, pid_fd };
    Ok((
        match (p.tid, p.pid, p.pid_fd) {
            (Some(t), _, _) => task(t, 0, 0),
            (_, Some(pid), _) => task(0, pid, 0),
            (_, _, Some(fd)) => task(0, 0, fd),
            _ => IterParams::None,
        },
        None,
    ))
}

fn load(prog_o: &Path, p: &Params) -> Result<IterProgram> {
    IterProgram::load_file(
        prog_o,
        &LoadOptions {
            prog: p.prog.clone(),
            module: p.module.clone(),
            target: None,
        },
    )
}

fn run(cli: Cli) -> Result<()> {
    match cli.cmd {
        Cmd::Run { prog_o, p } => {
            let prog = load(&prog_o, &p)?;
            let (ip, _map) = params(&p)?;
            let link = prog.attach(&ip)?;
            let out = link.read_all()?;
            std::io::stdout()
                .write_all(&out)
                .map_err(|e| Error::Io("stdout".into(), e))
        }
        Cmd::Pin { prog_o, path, p } => {
            let prog = load(&prog_o, &p)?;
            let (ip, _map) = params(&p)?;
            let link = prog.attach(&ip)?;
            link.pin(&path)
        }
        Cmd::List { json } => {
            let l = bpf_iter::list_targets(Path::new(bpf_iter::SYS_BTF))?;
            let mut out = std::io::stdout().lock();
            let r = if json {
                serde_json::to_writer_pretty(&mut out, &l)
                    .map_err(std::io::Error::other)
                    .and_then(|()| writeln!(out))
            } else {
                l.iter()
                    .try_for_each(|t| writeln!(out, "{} {}", t.target, t.source))
            };
            r.map_err(|e| Error::Io("stdout".into(), e))
        }
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help, --version
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            let msg = e.to_string();
            let first = msg.lines().next().unwrap_or_default();
            eprintln!("bpf-iter: {}", first.trim_start_matches("error: "));
            return ExitCode::FAILURE;
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // one line: the verifier log, if any, goes after it
            let msg = e.to_string();
            let mut lines = msg.lines();
            eprintln!("bpf-iter: {}", lines.next().unwrap_or_default());
            for l in lines {
                eprintln!("  {l}");
            }
            ExitCode::FAILURE
        }
    }
}
