// SPDX-License-Identifier: GPL-2.0

//! Files in debugfs whose write handlers are Rust.
//!
//! C header: [`include/linux/debugfs.h`](srctree/include/linux/debugfs.h)
//!
//! A [`Dir`] is a directory; a [`File`] is a file in one that owns the data its handler sees.
//! The names and shapes are those of `kernel::debugfs` in later kernels (6.17, 6.18:
//! [`Dir::new`], [`Dir::subdir`], [`Dir::write_only_file`], [`Dir::write_callback_file`], the
//! [`Reader`] trait), for the part of it a module that takes commands from userspace needs:
//! write-only files. As there, debugfs is best effort: a directory or file that cannot be made is
//! left out without an error (debugfs is for debugging, and callers are not to depend on it).
//!
//! # Lifetimes
//!
//! * A handler runs only while its file exists: debugfs proxies every call on a file through
//!   `debugfs_file_get()`/`debugfs_file_put()`, and `debugfs_remove()`, which [`File`]'s drop
//!   calls, waits for calls in progress and makes later ones fail (`EIO`). Only then is the data
//!   dropped, so no handler sees it dropped.
//! * A file holds its directory (and a directory its parent): removing a directory removes what
//!   is under it, and a file removed that way would leave its [`File`] with a freed dentry.
//! * The `file_operations` debugfs is given belong to this crate, which is built into the kernel,
//!   not to the module that makes the file: an open file descriptor may outlive the file and the
//!   module (debugfs reads the operations again when it is closed), so the module may be unloaded
//!   while one is open. Only the per-type write function, which debugfs calls while the file
//!   exists, is the module's.
//! * As with every registration, a [`File`] a module leaks (`mem::forget`, or a reference cycle)
//!   is never removed, and its handler would be called after the module is gone: a module drops
//!   its files before it is unloaded.
//! * Removing a file waits for its handlers while holding its directory's inode lock: a handler
//!   must not drop its own [`File`], nor make or remove entries in that directory.
//!
//! The module exists only with `CONFIG_DEBUG_FS` (without it, debugfs itself is a set of stubs
//! that fail): a module that uses it depends on that option.

use crate::{
    bindings,
    ffi::{c_char, c_void},
    prelude::*,
    str::CStr,
    sync::Arc,
    uaccess::{UserPtr, UserSlice, UserSliceReader},
};
use core::{
    marker::PhantomPinned,
    ops::Deref,
    ptr,
    sync::atomic::{AtomicPtr, Ordering},
};

/// A value that takes what userspace writes to a debugfs file.
///
/// `read_from_slice` runs in the writing task, which may sleep, and concurrently with other
/// writes (hence the `Sync` bound of the files). It must not drop the [`File`] that owns it.
pub trait Reader {
    /// Handles one `write()` of the file: `reader` holds the bytes written, and copies them in
    /// (the write returns [`EFAULT`] if they are not readable). On success the write returns the
    /// number of bytes written, whether or not they were all read; an error is its result.
    fn read_from_slice(&self, reader: &mut UserSliceReader) -> Result;
}

/// A directory or file in debugfs, removed when dropped.
///
/// # Invariants
///
/// `dentry` is NULL, an error pointer, or a dentry that debugfs made for this entry and that
/// only this entry's drop removes (C code removing a Rust entry by name is outside this model).
/// If `_parent` is `Some`, the dentry is NULL, an error, or under the parent's. `dentry` is set
/// once, by the code that makes the entry, before the entry is shared.
struct Entry {
    dentry: AtomicPtr<bindings::dentry>,
    /// Keeps the parent directory until this entry is removed: removing a directory removes
    /// its children, which would leave `dentry` dangling.
    _parent: Option<Arc<Entry>>,
}

impl Entry {
    /// The entry's dentry (see the type invariant).
    fn dentry(&self) -> *mut bindings::dentry {
        self.dentry.load(Ordering::Relaxed)
    }

    /// The parent dentry to create children under: NULL for the root.
    fn parent_dentry(parent: &Option<Arc<Entry>>) -> *mut bindings::dentry {
        parent.as_ref().map_or(ptr::null_mut(), |p| p.dentry())
    }
}

impl Drop for Entry {
    fn drop(&mut self) {
        // SAFETY: By the type invariant `dentry` is NULL, an error pointer (which
        // `debugfs_remove` ignores) or this entry's own dentry, not removed yet: its children
        // hold this entry, so they are all gone, and the parent, held by `_parent`, is still
        // there.
        unsafe { bindings::debugfs_remove(self.dentry()) };
    }
}

/// A debugfs directory, removed when it and everything made in it are dropped.
///
/// # Examples
///
/// ```
/// use kernel::{c_str, debugfs::Dir};
///
/// let dir = Dir::new(c_str!("rust_debugfs_doc_dir"));
/// let sub = dir.subdir(c_str!("sub"));
/// // Dropping `dir` first keeps the directory until `sub` is dropped too.
/// drop(dir);
/// drop(sub);
/// ```
#[derive(Clone)]
pub struct Dir(Option<Arc<Entry>>);

impl Dir {
    fn create(name: &CStr, parent: Option<&Dir>) -> Self {
        let parent = match parent {
            // The parent could not be made: nothing under it can be.
            Some(Dir(None)) => return Dir(None),
            Some(Dir(Some(p))) => Some(p.clone()),
            None => None,
        };
        // SAFETY: `name` is NUL-terminated; the parent dentry is NULL (the root) or held by
        // `parent` (type invariant of `Entry`), which the new entry keeps.
        let dentry = unsafe {
            bindings::debugfs_create_dir(name.as_char_ptr(), Entry::parent_dentry(&parent))
        };
        // INVARIANT: `dentry` is NULL, an error or the new directory under `parent`'s. If the
        // `Arc` cannot be allocated, the entry is dropped, which removes the directory.
        Dir(Arc::new(
            Entry {
                dentry: AtomicPtr::new(dentry),
                _parent: parent,
            },
            GFP_KERNEL,
        )
        .ok())
    }

    /// Makes a directory at the root of debugfs.
    pub fn new(name: &CStr) -> Self {
        Self::create(name, None)
    }

    /// Makes a directory in this one.
    pub fn subdir(&self, name: &CStr) -> Self {
        Self::create(name, Some(self))
    }

    /// Makes a write-only (`0200`) file in this directory, owning the value `data` initialises.
    /// A write to the file is handed to that value's [`Reader::read_from_slice`].
    ///
    /// The file is removed, and then the value dropped, when the [`File`] is dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// use core::sync::atomic::{AtomicUsize, Ordering};
    /// use kernel::{c_str, debugfs::{Dir, Reader}, uaccess::UserSliceReader};
    ///
    /// /// Counts the bytes written to it.
    /// struct Bytes(AtomicUsize);
    ///
    /// impl Reader for Bytes {
    ///     fn read_from_slice(&self, reader: &mut UserSliceReader) -> Result {
    ///         self.0.fetch_add(reader.len(), Ordering::Relaxed);
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let dir = Dir::new(c_str!("rust_debugfs_doc_write"));
    /// let file: Result<Pin<KBox<_>>> = KBox::try_pin_init(
    ///     dir.write_only_file(c_str!("bytes"), Bytes(AtomicUsize::new(0))),
    ///     GFP_KERNEL,
    /// );
    /// let file = file?;
    /// // `echo hello >/sys/kernel/debug/rust_debugfs_doc_write/bytes` would add 6.
    /// assert_eq!(file.0.load(Ordering::Relaxed), 0);
    /// # Ok::<(), Error>(())
    /// ```
    pub fn write_only_file<'a, T, E: 'a>(
        &'a self,
        name: &'a CStr,
        data: impl PinInit<T, E> + 'a,
    ) -> impl PinInit<File<T>, E> + 'a
    where
        T: Reader + Send + Sync + 'static,
    {
        // SAFETY: `write_reader::<T>` may be called with the header of any live `Node<T>`.
        unsafe { self.create_file(name, data, write_reader::<T>, ptr::null()) }
    }

    /// Makes a write-only (`0200`) file in this directory, owning the value `data` initialises.
    /// A write to the file calls `w` with that value and the bytes written.
    ///
    /// Several files may so share one value type and differ by what they do with it.
    ///
    /// # Examples
    ///
    /// ```
    /// use core::sync::atomic::{AtomicU64, Ordering};
    /// use kernel::{c_str, debugfs::Dir, sync::Arc, uaccess::UserSliceReader};
    ///
    /// let count = Arc::new(AtomicU64::new(0), GFP_KERNEL)?;
    /// let dir = Dir::new(c_str!("rust_debugfs_doc_callback"));
    /// let reset: Result<Pin<KBox<_>>> = KBox::try_pin_init(
    ///     dir.write_callback_file(
    ///         c_str!("reset"),
    ///         count.clone(),
    ///         &|c: &Arc<AtomicU64>, _r: &mut UserSliceReader| {
    ///             c.store(0, Ordering::Relaxed);
    ///             Ok(())
    ///         },
    ///     ),
    ///     GFP_KERNEL,
    /// );
    /// let reset = reset?;
    /// // The file's value is the same counter.
    /// count.store(3, Ordering::Relaxed);
    /// assert_eq!(reset.load(Ordering::Relaxed), 3);
    /// # Ok::<(), Error>(())
    /// ```
    pub fn write_callback_file<'a, T, E: 'a, W>(
        &'a self,
        name: &'a CStr,
        data: impl PinInit<T, E> + 'a,
        w: &'static W,
    ) -> impl PinInit<File<T>, E> + 'a
    where
        T: Send + Sync + 'static,
        W: Fn(&T, &mut UserSliceReader) -> Result + Send + Sync,
    {
        let w: *const W = w;
        // SAFETY: `write_callback::<T, W>` may be called with the header of a live `Node<T>`
        // whose `cb` is a `&'static W`, which `w` is.
        unsafe { self.create_file(name, data, write_callback::<T, W>, w.cast()) }
    }

    /// A file in this directory whose writes call `write` with its node.
    ///
    /// # Safety
    ///
    /// `write` may be called with the header of a live `Node<T>` whose `cb` is `cb`.
    unsafe fn create_file<'a, T, E: 'a>(
        &'a self,
        name: &'a CStr,
        data: impl PinInit<T, E> + 'a,
        write: WriteFn,
        cb: *const c_void,
    ) -> impl PinInit<File<T>, E> + 'a
    where
        T: Sync + 'static,
    {
        try_pin_init!(File::<T> {
            // No dentry yet: one is made once the node is in place, below.
            entry: Entry {
                dentry: AtomicPtr::new(ptr::null_mut()),
                _parent: self.0.clone(),
            },
            node <- try_pin_init!(Node::<T> {
                header: Header { write, cb },
                data <- data,
                _pin: PhantomPinned,
            }? E),
        }? E)
        .pin_chain(move |file| {
            let Some(parent) = &file.entry._parent else {
                // The directory could not be made: neither can the file.
                return Ok(());
            };
            // The whole node, whose header the handlers cast back to it.
            let node: *const Node<T> = &file.node;
            // SAFETY: `name` is NUL-terminated; the parent dentry is held by the entry's
            // `_parent` (type invariant of `Entry`). The file's private data is the node, whose
            // header is first (`#[repr(C)]`): pinned, and dropped only after the entry is (field
            // order of `File`), which removes the file first. By the safety requirement,
            // `write` (in the header) may be called with it. `WRITE_ONLY_FOPS` lives for ever.
            let dentry = unsafe {
                bindings::debugfs_create_file(
                    name.as_char_ptr(),
                    0o200,
                    parent.dentry(),
                    node.cast_mut().cast(),
                    &WRITE_ONLY_FOPS.0,
                )
            };
            // INVARIANT: `dentry` is NULL, an error or the file just made under the parent's,
            // set once, before `file` is shared. (Writes may start as soon as it is made; they
            // only read the node.)
            file.entry.dentry.store(dentry, Ordering::Relaxed);
            Ok(())
        })
    }
}

/// What a file's write runs: `header` is that of a live `Node<T>`, for the `T` (and callback
/// type) the function was chosen for.
type WriteFn = unsafe fn(header: *const Header, reader: &mut UserSliceReader) -> Result;

/// The start of every file's node, whatever its `T`: what [`write_trampoline`] reads.
#[repr(C)]
struct Header {
    write: WriteFn,
    /// The callback of a [`Dir::write_callback_file`] file (a `&'static W`), else NULL.
    cb: *const c_void,
}

/// What a file's private data points to.
#[repr(C)]
#[pin_data]
struct Node<T> {
    header: Header,
    /// Pinned as the data of upstream's files is: it may be a lock, or self-referential.
    #[pin]
    data: T,
    /// The file's private data points here: the node may not move.
    #[pin]
    _pin: PhantomPinned,
}

/// A debugfs file owning a `T`, which its handler sees. Dereferences to the `T`.
///
/// Dropping it removes the file, waiting for calls of its handler in progress, then drops the
/// `T`. A module must drop its files before it is unloaded (not leak them): their handlers are
/// its code. A handler must not drop its own file (it would wait for itself).
#[pin_data]
pub struct File<T> {
    // Dropped before `node`: the file is removed before its data goes.
    entry: Entry,
    #[pin]
    node: Node<T>,
}

// SAFETY: Moving a `File<T>` to another task moves its `T` (hence `T: Send`); its entry may be
// dropped by any task, and `cb` points to a `W: Sync` that any task may call (the constructors
// require it).
unsafe impl<T: Send> Send for File<T> {}
// SAFETY: A shared `File<T>` gives `&T` (hence `T: Sync`), and nothing else.
unsafe impl<T: Sync> Sync for File<T> {}

impl<T> Deref for File<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.node.data
    }
}

/// The write of a [`Dir::write_only_file`] file.
///
/// # Safety
///
/// `header` is the header of a live `Node<T>`, which no one mutates.
unsafe fn write_reader<T: Reader + Sync>(
    header: *const Header,
    reader: &mut UserSliceReader,
) -> Result {
    // SAFETY: By the safety requirement, `header` is first in a live `Node<T>` (`#[repr(C)]`).
    let node = unsafe { &*header.cast::<Node<T>>() };
    node.data.read_from_slice(reader)
}

/// The write of a [`Dir::write_callback_file`] file.
///
/// # Safety
///
/// `header` is the header of a live `Node<T>` whose `cb` is a `&'static W`, which no one mutates.
unsafe fn write_callback<T: Sync, W: Fn(&T, &mut UserSliceReader) -> Result + Sync>(
    header: *const Header,
    reader: &mut UserSliceReader,
) -> Result {
    // SAFETY: By the safety requirement, `header` is first in a live `Node<T>` (`#[repr(C)]`).
    let node = unsafe { &*header.cast::<Node<T>>() };
    // SAFETY: By the safety requirement, `cb` is a `&'static W`.
    let w = unsafe { &*node.header.cb.cast::<W>() };
    w(&node.data, reader)
}

/// `write` of every file: hands the bytes to the file's [`WriteFn`].
///
/// # Safety
///
/// Called by debugfs for a file made by [`Dir::create_file`] and opened with `simple_open`
/// (which copies the inode's private data, the node's header, to the file's), while the file
/// exists (debugfs's proxy holds it). `buf` is a user pointer of `count` bytes.
unsafe extern "C" fn write_trampoline(
    file: *mut bindings::file,
    buf: *const c_char,
    count: usize,
    _ppos: *mut bindings::loff_t,
) -> isize {
    // SAFETY: `file` is valid for this call; its private data is the header of the live node
    // of the `File` that made it (the file exists, and the `File` removes it before dropping
    // the node).
    let header = unsafe { (*file).private_data }
        .cast::<Header>()
        .cast_const();
    let mut reader = UserSlice::new(buf as UserPtr, count).reader();
    // SAFETY: `header` is that of a live node, and `write` was chosen for its type and `cb`
    // (`Dir::create_file`); nodes are only read once made.
    match unsafe { ((*header).write)(header, &mut reader) } {
        // The VFS limits writes to `MAX_RW_COUNT` bytes, below `isize::MAX`.
        Ok(()) => count as isize,
        Err(e) => e.to_errno() as isize,
    }
}

/// `file_operations` that may be shared: only read, by debugfs.
struct FileOps(bindings::file_operations);

// SAFETY: The operations are never changed, and their functions may be called from any task.
unsafe impl Sync for FileOps {}

/// The operations of every write-only file. Built into the kernel with this crate, so they
/// outlive any module's files (see the module documentation). No `owner`: an open file does
/// not pin the module, whose code debugfs calls only while the file exists.
static WRITE_ONLY_FOPS: FileOps = FileOps(bindings::file_operations {
    open: Some(bindings::simple_open),
    write: Some(write_trampoline),
    llseek: Some(bindings::noop_llseek),
    // SAFETY: All-zeroes is a valid `file_operations`: no owner, and no other operations.
    ..unsafe { core::mem::zeroed() }
});
