// SPDX-License-Identifier: GPL-2.0
//! A tiny TAP version 13 producer.

use std::io::{self, Write};

/// Outcome of one test.
pub type Outcome = Result<(), String>;

/// Writes a TAP 13 stream: the plan first, then one line per test.
pub struct Tap<W: Write> {
    out: W,
    next: usize,
    failed: usize,
}

impl<W: Write> Tap<W> {
    /// Starts a stream of `planned` tests.
    pub fn new(mut out: W, planned: usize) -> io::Result<Self> {
        writeln!(out, "TAP version 13")?;
        writeln!(out, "1..{planned}")?;
        Ok(Tap {
            out,
            next: 1,
            failed: 0,
        })
    }

    /// Reports one result (`# reason` on failure; newlines in it become
    /// diagnostic lines so the stream stays well-formed).
    pub fn report(&mut self, name: &str, outcome: &Outcome) -> io::Result<()> {
        let k = self.next;
        self.next += 1;
        match outcome {
            Ok(()) => writeln!(self.out, "ok {k} - {name}")?,
            Err(reason) => {
                self.failed += 1;
                let mut lines = reason.lines();
                let first = lines.next().unwrap_or("failed").replace('#', "\\#");
                writeln!(self.out, "not ok {k} - {name} # {first}")?;
                for l in lines {
                    writeln!(self.out, "# {l}")?;
                }
            }
        }
        self.out.flush()
    }

    /// Number of failed tests so far.
    pub fn failed(&self) -> usize {
        self.failed
    }

    /// Consumes the producer and returns the writer.
    pub fn into_inner(self) -> W {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_is_tap13() {
        let mut t = Tap::new(Vec::new(), 2).unwrap();
        t.report("first", &Ok(())).unwrap();
        t.report("second", &Err("bad # thing\nmore".into()))
            .unwrap();
        assert_eq!(t.failed(), 1);
        let s = String::from_utf8(t.into_inner()).unwrap();
        assert_eq!(
            s,
            "TAP version 13\n1..2\nok 1 - first\nnot ok 2 - second # bad \\# thing\n# more\n"
        );
    }
}
