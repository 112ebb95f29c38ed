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
    /// A program calls a kfunc (not declared `__weak`) that neither vmlinux's
    /// nor any loaded module's BTF defines.
    #[error(
        "kfunc `{name}`: not in vmlinux or any module's BTF{}",
        unread_note(unread)
    )]
    UnknownKfunc {
        /// The kfunc's name (without a `___flavor` suffix).
        name: String,
        /// Modules whose BTF could not be read, so were not searched.
        unread: Vec<String>,
    },
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
    /// aya or aya-obj failed (ELF parsing, map creation, relocation, ...);
    /// `source` is aya's error, whose own source is the OS error if any.
    #[error("{step}: {source}")]
    Aya {
        /// What was being done.
        step: &'static str,
        /// aya's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
    /// File I/O on a path.
    #[error("{0}: {1}")]
    Io(String, #[source] io::Error),
    /// Malformed BTF.
    #[error("malformed BTF: {0}")]
    BadBtf(&'static str),
    /// A pin path outside any bpffs (the kernel says `EPERM`).
    #[error("{0}: not in a BPF filesystem (pin under a bpffs, e.g. /sys/fs/bpf; mount one with `mount -t bpf bpf /sys/fs/bpf`)")]
    NotBpffs(String),
    /// Invalid argument detected in user space.
    #[error("{0}")]
    Invalid(String),
}

/// " (could not read the BTF of modules a, b)", or nothing.
fn unread_note(unread: &[String]) -> String {
    if unread.is_empty() {
        String::new()
    } else {
        format!(
            " (could not read the BTF of module{} {})",
            if unread.len() == 1 { "" } else { "s" },
            unread.join(", ")
        )
    }
}

impl Error {
    /// The `errno` behind this error, if it came from the kernel: the first
    /// OS error in its chain of sources.
    pub fn errno(&self) -> Option<i32> {
        let mut e: Option<&(dyn std::error::Error + 'static)> = Some(self);
        while let Some(cur) = e {
            if let Some(code) = cur
                .downcast_ref::<io::Error>()
                .and_then(io::Error::raw_os_error)
            {
                return Some(code);
            }
            e = cur.source();
        }
        None
    }

    /// The error and its chain of causes, one per line, each cause left out
    /// if the message before it already says it (aya's messages often do).
    pub fn report(&self) -> Vec<String> {
        let mut out = vec![self.to_string()];
        let mut e = std::error::Error::source(self);
        while let Some(cur) = e {
            let msg = cur.to_string();
            if !out.iter().any(|m| m.contains(&msg)) {
                out.push(msg);
            }
            e = cur.source();
        }
        out
    }

    /// A hint for the user, for errors with a usual cause.
    pub fn hint(&self) -> Option<&'static str> {
        match self.errno() {
            Some(libc::EPERM) => Some(
                "loading and attaching BPF iterators needs CAP_BPF and CAP_PERFMON \
                 (or CAP_SYS_ADMIN): run as root",
            ),
            _ => None,
        }
    }

    /// Wraps an aya (or aya-obj) error of `step`.
    pub fn aya<E>(step: &'static str) -> impl FnOnce(E) -> Error
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        move |e| Error::Aya {
            step,
            source: Box::new(e),
        }
    }

    /// Wraps an OS error of `call`.
    pub fn sys(call: &'static str) -> impl FnOnce(io::Error) -> Error {
        move |source| Error::Sys { call, source }
    }
}

/// Shorthand result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("failed to create map `.rodata` with code -1")]
    struct MapCreate(#[source] io::Error);

    #[test]
    fn errno_and_report_follow_the_chain() {
        let e = Error::aya("creating maps")(MapCreate(io::Error::from_raw_os_error(libc::EPERM)));
        assert_eq!(e.errno(), Some(libc::EPERM));
        let r = e.report();
        assert_eq!(
            r[0],
            "creating maps: failed to create map `.rodata` with code -1"
        );
        assert_eq!(r.len(), 2);
        assert!(r[1].contains("Operation not permitted"), "{r:?}");
        assert!(e.hint().unwrap().contains("CAP_BPF"));
    }

    #[test]
    fn report_skips_causes_already_said() {
        let e = Error::sys("BPF_LINK_CREATE")(io::Error::from_raw_os_error(libc::EINVAL));
        assert_eq!(e.report().len(), 1);
        assert_eq!(e.errno(), Some(libc::EINVAL));
        assert_eq!(e.hint(), None);
        assert_eq!(Error::Invalid("x".into()).errno(), None);
    }
}
