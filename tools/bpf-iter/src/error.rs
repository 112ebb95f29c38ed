// SPDX-License-Identifier: GPL-2.0
//! The crate's error type; every kernel failure keeps its `errno`.

use std::io;

/// Errors of loading, attaching and reading BPF iterators.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Neither vmlinux nor any module (or not the module asked for) defines
    /// `bpf_iter_<target>`.
    #[error("unknown iterator target `{target}`{}", module.as_ref().map(|m| format!(" in module `{m}`")).unwrap_or_default())]
    UnknownTarget {
        /// The target name.
        target: String,
        /// The module searched, if one was named.
        module: Option<String>,
    },
    /// The kernel has no module BTF of that name (module not loaded?).
    #[error("no BTF for module `{0}` (is it loaded?)")]
    UnknownModule(String),
    /// The object has no iterator program of that name, or several and no
    /// name was given.
    #[error("{0}")]
    NoSuchProgram(String),
    /// The program was written for another target than the one requested.
    #[error("program `{prog}` is for target `{found}`, not `{wanted}`")]
    WrongTarget {
        /// Program name.
        prog: String,
        /// Target in its section name.
        found: String,
        /// Target requested.
        wanted: String,
    },
    /// A `bpf(2)` command failed; `source` carries the errno.
    #[error("{call}: {source}")]
    Sys {
        /// The bpf command (or step) that failed.
        call: &'static str,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// The verifier refused the program.
    #[error("loading program `{prog}`: {source}\n{log}")]
    Verifier {
        /// Program name.
        prog: String,
        /// The OS error.
        #[source]
        source: io::Error,
        /// Verifier log (possibly empty).
        log: String,
    },
    /// aya failed (ELF parsing, map creation, relocation, ...).
    #[error("aya: {0}")]
    Aya(String),
    /// File I/O on a path.
    #[error("{0}: {1}")]
    Io(String, #[source] io::Error),
    /// Malformed BTF.
    #[error("malformed BTF: {0}")]
    BadBtf(&'static str),
    /// Invalid argument detected in user space.
    #[error("{0}")]
    Invalid(String),
}

impl Error {
    /// The `errno` behind this error, if it came from the kernel.
    pub fn errno(&self) -> Option<i32> {
        match self {
            Error::Sys { source, .. } | Error::Verifier { source, .. } | Error::Io(_, source) => {
                source.raw_os_error()
            }
            _ => None,
        }
    }

    /// Wraps an OS error of `call`.
    pub fn sys(call: &'static str) -> impl FnOnce(io::Error) -> Error {
        move |source| Error::Sys { call, source }
    }
}

/// Shorthand result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
