// SPDX-License-Identifier: GPL-2.0
//! soundness-2 point 2: only the current task's group leader (a held thread does not keep its
//! leader alive: after the group is reaped, the leader may be freed).
// expect: E0599
// expect: no method named `group_leader` found

use kernel::task::Task;
use kernel::sync::aref::ARef;

pub fn leader_pid(task: &ARef<Task>) -> i32 {
    let _ = task;
    task.group_leader().pid() // FAIL
    // kernel::current!().group_leader().pid() // PASS
}
