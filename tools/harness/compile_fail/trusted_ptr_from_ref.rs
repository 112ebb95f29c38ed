// SPDX-License-Identifier: GPL-2.0
//! soundness-2 point 2: a trusted slot only from a held reference (`&ARef<T>`), never from a
//! plain `&T`, which proves that the object is valid, not that anybody holds it.
// expect: E0308
// expect: expected `&ARef<Task>`, found `&Task`

use kernel::bpf::iter::TrustedBtfPtr;
use kernel::task::Task;
use kernel::sync::aref::ARef;

pub fn slot<'a>(task: &'a ARef<Task>) -> TrustedBtfPtr<'a, Task> {
    let t: &'a Task = task;
    TrustedBtfPtr::new(t) // FAIL
    // TrustedBtfPtr::new(task) // PASS
}
