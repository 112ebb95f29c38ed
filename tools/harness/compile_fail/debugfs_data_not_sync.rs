// SPDX-License-Identifier: GPL-2.0
//! A debugfs file's data is Sync: writes to a file run concurrently, each with a shared
//! reference to the data ([`kernel::debugfs::Dir::write_callback_file`]).
// expect: E0277
// expect: `Cell<u32>` cannot be shared between threads safely

use core::convert::Infallible;
use kernel::debugfs::{Dir, File};
use kernel::uaccess::UserSliceReader;
use kernel::{c_str, prelude::*};

type Data = core::cell::Cell<u32>; // FAIL
// type Data = core::sync::atomic::AtomicU32; // PASS

pub fn make(dir: &Dir) -> Result<Pin<KBox<File<Data>>>> {
    let file = dir.write_callback_file::<_, Infallible, _>(
        c_str!("counter"),
        Data::new(0),
        &|_: &Data, _: &mut UserSliceReader| Ok(()),
    );
    KBox::pin_init(file, GFP_KERNEL)
}
