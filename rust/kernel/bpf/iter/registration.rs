// SPDX-License-Identifier: GPL-2.0

//! How a `Target` is registered: `TargetVTable`, its `struct bpf_iter_reg` built at compile
//! time, with the `extern "C"` callbacks that the kernel calls for it (`Adapter`) and the
//! `seq_file` private area of its iterators (`IterState`); `Registration`, which checks its
//! context against the BTF anchor and registers it; and `module_bpf_iter_target!`.

use super::{
    name_is_valid, ArgSpec, Context, LinkInfo, LinkInfoOut, Origin, Params, Prog, Target,
    VerifyingProg, ANCHOR_PREFIX, MAX_NAME_LEN, MAX_TYPED_ARGS,
};
use crate::{
    bindings,
    bpf::{
        btf::{Btf, Kind},
        compat,
    },
    error::{code::*, from_result, Result},
    ffi::{c_int, c_void},
    prelude::*,
    seq_file::SeqFile,
    str::CStr,
    sync::Arc,
    types::{ForeignOwnable, Opaque},
    ThisModule,
};
use core::{
    fmt,
    marker::PhantomData,
    mem::{align_of, size_of},
    ptr,
    sync::atomic::{AtomicBool, AtomicPtr, AtomicU8, Ordering},
};

/// The whole context a program is run with: `meta`, then the target's slots.
#[repr(C)]
struct Frame<C> {
    meta: *mut bindings::bpf_iter_meta,
    args: C,
}

/// The `seq_file` private area of an iterator: the target's state, the object of the read in
/// progress, and where the walk is.
struct IterState<T: Target> {
    /// The walk has reached its end: later reads return end of file, even if objects were
    /// added since (the final call from `stop` was made).
    ended: bool,
    /// `start` just returned an error pointer: the `stop` that follows is no end of the walk.
    failed: bool,
    iter: T::Iter,
    /// The item from `start` or `next` to the `next` or `stop` that takes it. The kernel makes
    /// every `start` and its `stop` in one call (`bpf_seq_read()`), in the reading task: the
    /// item stays in that task, and between reads this is `None`, when the state may be
    /// dropped by another task. The `seq_file` keeps only a pointer to this field, never NULL
    /// or an error pointer.
    item: Option<T::Item>,
}

/// The `extern "C"` functions the kernel calls for a [`Target`].
struct Adapter<T: Target>(PhantomData<T>);

impl<T: Target> Adapter<T> {
    /// # Safety
    ///
    /// `seq` is the `seq_file` of an iterator of this target (so its private area holds the
    /// state made by `init_seq_private`), used by nothing else for `'a`.
    #[inline]
    unsafe fn state<'a>(seq: *mut bindings::seq_file) -> &'a mut IterState<T> {
        // SAFETY: By the safety requirement `private` points to our initialized state.
        unsafe { &mut *(*seq).private.cast::<IterState<T>>() }
    }

    /// # Safety
    ///
    /// `aux` is the aux info of a link of this target, attached by `attach_target`, and the
    /// link is not detached during `'a`.
    unsafe fn link<'a>(aux: *const bindings::bpf_iter_aux_info) -> &'a T::Link {
        // SAFETY: `attach_target` stored a `KBox<T::Link>` there with `into_foreign`; it is
        // converted back (`from_foreign`) by `detach_target` only, after `'a`.
        unsafe { <KBox<T::Link> as ForeignOwnable>::borrow((*aux).target_data) }
    }

    /// Keeps `item` in the iterator state for `show`, and returns what the `seq_file` keeps in
    /// its place: a pointer to it, never NULL or an error pointer. Once per object: inlined
    /// into `seq_start`/`seq_next`.
    ///
    /// The slot is empty here (`next` took the previous item out, `stop` the last one of a read):
    /// what it held is forgotten, not dropped, so that no drop glue runs per object.
    #[inline]
    fn hold(st: &mut IterState<T>, item: T::Item) -> *mut c_void {
        let old = st.item.replace(item);
        debug_assert!(old.is_none());
        core::mem::forget(old);
        ptr::from_mut(&mut st.item).cast()
    }

    /// The checks of a program for a link: read-only buffers, then the target's own.
    fn check(link: &T::Link, prog: &Prog) -> Result {
        let max_buf = <T::Ctx<'_> as Context>::ARGS
            .iter()
            .filter_map(|a| match a {
                ArgSpec::RdonlyBuf { size } => Some(*size),
                _ => None,
            })
            .min();
        if let Some(size) = max_buf {
            if prog.max_rdonly_access() as usize > size {
                return Err(EACCES);
            }
        }
        if T::HAS_CHECK_PROG {
            T::check_prog(link, prog)?;
        }
        Ok(())
    }

    /// # Safety
    ///
    /// Only called by the kernel, as `bpf_iter_reg::attach_target` of a target registered through
    /// [`TargetVTable::new`], with the arguments that callback is given.
    unsafe extern "C" fn attach_target(
        prog: *mut bindings::bpf_prog,
        linfo: *mut bindings::bpf_iter_link_info,
        aux: *mut bindings::bpf_iter_aux_info,
    ) -> c_int {
        from_result(|| {
            // SAFETY: The kernel passes a verified program and the parameters it copied in.
            let (prog, info) = unsafe { (Prog::from_raw(prog), LinkInfo::from_raw(linfo)) };
            // SAFETY: On entry `target_data` is the target's `bpf_iter_reg`, which is the
            // `reg` of a `TargetVTable<T>` (only those install this function), a static of the
            // module that the program being attached pins.
            // CAST: `Opaque<T>` is `repr(transparent)` over `T`: the `bpf_iter_reg` is the
            // address of the `reg` field, which `container_of!` (type-checked on 7.3) expects.
            let vtable = unsafe {
                let reg = (*aux).target_data.cast::<Opaque<bindings::bpf_iter_reg>>();
                &*crate::container_of!(reg, TargetVTable<T>, reg)
            };
            // The kernel calls us without a lock, possibly while the registration is dropped:
            // take a reference on the data first, which keeps it for the call.
            let cell = vtable.data_ref().ok_or(ENOENT)?;
            // The kind of parameters recorded for tools is the kind accepted here.
            let params = T::Params::from_info(&info)?;
            // SAFETY: `cell.data` is the foreign pointer of the registration's `T::Data`,
            // converted back only when the last reference on `cell` goes, after this borrow.
            let data = unsafe { T::Data::borrow(cell.data) };
            let link = T::attach(data, params)?;
            Self::check(&link, prog)?;
            let link = KBox::new(link, GFP_KERNEL)?;
            // SAFETY: `aux` is the new link's aux info, zeroed, ours to fill.
            unsafe { (*aux).target_data = compat::into_foreign(link) };
            Ok(0)
        })
    }

    /// # Safety
    ///
    /// Only called by the kernel, as `bpf_iter_reg::check_prog` of a target registered through
    /// [`TargetVTable::new`], with the arguments that callback is given.
    unsafe extern "C" fn check_prog(
        prog: *const bindings::bpf_prog,
        aux: *const bindings::bpf_iter_aux_info,
    ) -> c_int {
        // SAFETY: The kernel passes the verified replacement program and the aux info of the
        // attached link, which stays attached during the call (the link holds a reference).
        let (prog, link) = unsafe { (Prog::from_raw(prog), Self::link(aux)) };
        from_result(|| Self::check(link, prog).map(|()| 0))
    }

    /// # Safety
    ///
    /// Only called by the kernel, as `bpf_iter_reg::detach_target` of a target registered through
    /// [`TargetVTable::new`], with the arguments that callback is given.
    unsafe extern "C" fn detach_target(aux: *mut bindings::bpf_iter_aux_info) {
        // SAFETY: `attach_target` succeeded for this link (the kernel only detaches those), so
        // `target_data` is our `KBox<T::Link>`, released here once, after every other user.
        drop(unsafe { <KBox<T::Link> as ForeignOwnable>::from_foreign((*aux).target_data) });
    }

    /// # Safety
    ///
    /// Only called by the kernel, as `bpf_iter_reg::show_fdinfo` of a target registered through
    /// [`TargetVTable::new`], with the arguments that callback is given.
    unsafe extern "C" fn show_fdinfo(
        aux: *const bindings::bpf_iter_aux_info,
        seq: *mut bindings::seq_file,
    ) {
        // SAFETY: The kernel passes an attached link's aux info and the fdinfo seq_file, which
        // only this call uses while it runs.
        unsafe { T::show_fdinfo(Self::link(aux), SeqFile::from_raw(seq)) };
    }

    /// # Safety
    ///
    /// Only called by the kernel, as `bpf_iter_reg::fill_link_info` of a target registered through
    /// [`TargetVTable::new`], with the arguments that callback is given.
    unsafe extern "C" fn fill_link_info(
        aux: *const bindings::bpf_iter_aux_info,
        info: *mut bindings::bpf_link_info,
    ) -> c_int {
        // SAFETY: The kernel passes an attached link's aux info and its info buffer.
        let (link, info) = unsafe { (Self::link(aux), &mut *info) };
        from_result(|| T::fill_link_info(link, &mut LinkInfoOut(info)).map(|()| 0))
    }

    /// # Safety
    ///
    /// Only called by the kernel, as `bpf_iter_reg::get_func_proto` of a target registered through
    /// [`TargetVTable::new`], with the arguments that callback is given.
    unsafe extern "C" fn get_func_proto(
        func_id: bindings::bpf_func_id,
        prog: *const bindings::bpf_prog,
    ) -> *const bindings::bpf_func_proto {
        // SAFETY: The kernel passes the program being verified, valid during the call.
        let prog = unsafe { VerifyingProg::from_raw(prog) };
        T::get_func_proto(func_id, prog).map_or(ptr::null(), |p| &p.0)
    }

    /// # Safety
    ///
    /// Only called by the kernel, as `bpf_iter_seq_info::init_seq_private` of a target registered through
    /// [`TargetVTable::new`], with the arguments that callback is given.
    unsafe extern "C" fn init_seq_private(
        priv_data: *mut c_void,
        aux: *mut bindings::bpf_iter_aux_info,
    ) -> c_int {
        from_result(|| {
            // SAFETY: `aux` is an attached link's; the link outlives its iterators' creation.
            let it = T::init_iter(unsafe { Self::link(aux) })?;
            let state = IterState::<T> {
                ended: false,
                failed: false,
                iter: it,
                item: None,
            };
            // SAFETY: `priv_data` is `seq_priv_size` = `size_of::<IterState<T>>()` bytes,
            // aligned to 8 (asserted in `TargetVTable::new`), uninitialized and ours.
            unsafe { ptr::write(priv_data.cast::<IterState<T>>(), state) };
            Ok(0)
        })
    }

    /// # Safety
    ///
    /// Only called by the kernel, as `bpf_iter_seq_info::fini_seq_private` of a target registered through
    /// [`TargetVTable::new`], with the arguments that callback is given.
    unsafe extern "C" fn fini_seq_private(priv_data: *mut c_void) {
        // SAFETY: `init_seq_private` succeeded for this iterator (else the kernel does not call
        // us), so `priv_data` holds our state, dropped here once.
        unsafe { ptr::drop_in_place(priv_data.cast::<IterState<T>>()) };
    }

    /// # Safety
    ///
    /// Only called by the kernel, as `seq_operations::start` of a target registered through
    /// [`TargetVTable::new`], with the arguments that callback is given.
    unsafe extern "C" fn seq_start(
        seq: *mut bindings::seq_file,
        pos: *mut bindings::loff_t,
    ) -> *mut c_void {
        // SAFETY: The kernel calls seq operations with the iterator's seq_file and position,
        // under the seq_file's lock.
        let (st, p) = unsafe { (Self::state(seq), &mut *pos) };
        if st.ended {
            return ptr::null_mut();
        }
        match T::start(&mut st.iter, *p as u64) {
            Ok(Some(item)) => {
                if *p == 0 {
                    *p = 1;
                }
                Self::hold(st, item)
            }
            Ok(None) => ptr::null_mut(),
            Err(e) => {
                st.failed = true;
                e.to_ptr()
            }
        }
    }

    /// # Safety
    ///
    /// Only called by the kernel, as `seq_operations::next` of a target registered through
    /// [`TargetVTable::new`], with the arguments that callback is given.
    unsafe extern "C" fn seq_next(
        seq: *mut bindings::seq_file,
        _v: *mut c_void,
        pos: *mut bindings::loff_t,
    ) -> *mut c_void {
        // SAFETY: As in `seq_start`.
        let (st, p) = unsafe { (Self::state(seq), &mut *pos) };
        // C's `++*pos`: a count of the objects shown, which cannot reach `i64::MAX`.
        *p = p.wrapping_add(1);
        // The kernel passes back what `start`/`next` returned (`_v`): the held item, which
        // `next` moves on in place.
        if st.item.is_none() {
            // Not reached: `next` is only called after an object.
            return ptr::null_mut();
        }
        T::next(&mut st.iter, &mut st.item);
        match st.item {
            Some(_) => ptr::from_mut(&mut st.item).cast(),
            None => ptr::null_mut(),
        }
    }

    /// Runs the program for one object (`args`) or for the end (`in_stop`).
    ///
    /// # Safety
    ///
    /// `seq` is an iterator of this target's seq_file.
    #[inline(always)]
    unsafe fn run(seq: *mut bindings::seq_file, args: T::Ctx<'_>, in_stop: bool) -> c_int {
        let mut meta = bindings::bpf_iter_meta {
            __bindgen_anon_1: bindings::bpf_iter_meta__bindgen_ty_1 { seq },
            session_id: 0,
            seq_num: 0,
        };
        // SAFETY: `meta.seq` is a valid seq_file of a BPF iterator.
        let prog = unsafe { bindings::bpf_iter_get_info(&mut meta, in_stop) };
        if prog.is_null() {
            return 0;
        }
        let mut frame = Frame {
            meta: &mut meta,
            args,
        };
        // SAFETY: `prog` is the iterator's program; `frame` is laid out as the anchor's
        // arguments (checked at registration) and lives across the call.
        unsafe { bindings::bpf_iter_run_prog(prog, ptr::from_mut(&mut frame).cast()) }
    }

    /// # Safety
    ///
    /// Only called by the kernel, as `seq_operations::show` of a target registered through
    /// [`TargetVTable::new`], with the arguments that callback is given.
    unsafe extern "C" fn seq_show(seq: *mut bindings::seq_file, _v: *mut c_void) -> c_int {
        // SAFETY: As in `seq_start`.
        let st = unsafe { Self::state(seq) };
        // The kernel shows what `start`/`next` returned (`_v`): the held item.
        let Some(item) = &st.item else {
            // Not reached: `show` is only called with an object.
            return 0;
        };
        let args = T::ctx(&st.iter, item);
        // SAFETY: `seq` is this target's iterator.
        unsafe { Self::run(seq, args, false) }
    }

    /// # Safety
    ///
    /// Only called by the kernel, as `seq_operations::stop` of a target registered through
    /// [`TargetVTable::new`], with the arguments that callback is given.
    unsafe extern "C" fn seq_stop(seq: *mut bindings::seq_file, v: *mut c_void) {
        // SAFETY: As in `seq_start`.
        let st = unsafe { Self::state(seq) };
        // The object the read stopped at, if any (`v` points to it then).
        let item = st.item.take();
        if v.is_null() && !st.failed {
            // The end of the walk: one last call with every slot NULL, as C targets do. The
            // kernel makes it once; later reads find the walk ended.
            st.ended = true;
            // SAFETY: `seq` is this target's iterator.
            unsafe { Self::run(seq, <T::Ctx<'_> as Context>::NULL, true) };
        }
        // After an error from `start` (`v` is the error pointer, or NULL from
        // `bpf_seq_read()`), the read fails and the walk goes on at the next one.
        st.failed = false;
        T::stop(&mut st.iter, item);
    }

    const SEQ_OPS: bindings::seq_operations = bindings::seq_operations {
        start: Some(Self::seq_start),
        stop: Some(Self::seq_stop),
        next: Some(Self::seq_next),
        show: Some(Self::seq_show),
    };

    const SEQ_INFO: bindings::bpf_iter_seq_info = bindings::bpf_iter_seq_info {
        seq_ops: &Self::SEQ_OPS,
        init_seq_private: Some(Self::init_seq_private),
        fini_seq_private: Some(Self::fini_seq_private),
        seq_priv_size: size_of::<IterState<T>>() as u32,
    };
}

/// The `struct bpf_iter_reg` of a target, built at compile time; the BTF ids of its context
/// arguments are filled in at registration.
///
/// Keep it in a `static` (see [`module_bpf_iter_target!`]): the kernel keeps pointing to it while
/// programs verified against the target exist, and those pin the module it is in.
///
/// # Invariants
///
/// `registered` is set while a [`Registration::register`] call or a [`Registration`] owns
/// `reg`. `reg` is written once, by the first registration (`resolved` goes from
/// `UNRESOLVED` to `RESOLVED` then): programs verified against one registration read its
/// `ctx_arg_info` and `owner` without any lock, possibly while the target is unregistered and
/// registered again, so later registrations only compare.
///
/// `data` is NULL or the foreign pointer of an `Arc<DataCell<T>>` that the registration in
/// progress or alive owns. Whoever takes it out of `data` waits for an RCU grace period before
/// dropping that reference, so that a reader that loaded it under the RCU read lock may take
/// a reference of its own (`TargetVTable::data_ref`).
///
/// [`module_bpf_iter_target!`]: crate::module_bpf_iter_target
pub struct TargetVTable<T: Target> {
    reg: Opaque<bindings::bpf_iter_reg>,
    registered: AtomicBool,
    resolved: AtomicU8,
    /// The registration's [`Target::Data`], in a [`DataCell`], while registered.
    data: AtomicPtr<c_void>,
    _p: PhantomData<T>,
}

const UNRESOLVED: u8 = 0;
const RESOLVED: u8 = 1;

// SAFETY: `reg` is written once, by the one registration that holds the `registered` flag
// while nothing else reads it (type invariant); after that everybody only reads it.
unsafe impl<T: Target> Sync for TargetVTable<T> {}

impl<T: Target> TargetVTable<T> {
    pub(crate) const ARGS: &'static [ArgSpec] = <T::Ctx<'static> as Context>::ARGS;
    const NAME_OK: () = assert!(
        name_is_valid(compat::cstr_bytes(T::NAME)),
        "BPF iterator target names are 1 to 48 characters of [A-Za-z0-9_]"
    );
    const LAYOUT_OK: () = {
        assert!(size_of::<T::Ctx<'static>>() == 8 * Self::ARGS.len());
        assert!(align_of::<T::Ctx<'static>>() <= 8);
        assert!(core::mem::offset_of!(Frame<T::Ctx<'static>>, args) == 8);
        assert!(
            align_of::<IterState<T>>() <= 8,
            "the seq_file private area is aligned to 8 bytes"
        );
        let mut typed = 0;
        let mut i = 0;
        while i < Self::ARGS.len() {
            if Self::ARGS[i].reg_type().is_some() {
                typed += 1;
            }
            i += 1;
        }
        assert!(
            typed <= MAX_TYPED_ARGS,
            "at most BPF_ITER_CTX_ARG_MAX pointer slots"
        );
    };

    /// Builds the registration data of `T`.
    pub const fn new() -> Self {
        // Naming the constants makes the compiler evaluate (and check) them.
        #[allow(clippy::let_unit_value)]
        let () = Self::NAME_OK;
        #[allow(clippy::let_unit_value)]
        let () = Self::LAYOUT_OK;
        let mut reg = unsafe_zeroed_reg();
        reg.target = compat::cstr_ptr(T::NAME);
        reg.attach_target = Some(Adapter::<T>::attach_target);
        reg.detach_target = Some(Adapter::<T>::detach_target);
        reg.check_prog = Some(Adapter::<T>::check_prog);
        if T::HAS_SHOW_FDINFO {
            reg.show_fdinfo = Some(Adapter::<T>::show_fdinfo);
        }
        if T::HAS_FILL_LINK_INFO {
            reg.fill_link_info = Some(Adapter::<T>::fill_link_info);
        }
        if T::HAS_GET_FUNC_PROTO {
            reg.get_func_proto = Some(Adapter::<T>::get_func_proto);
        }
        if T::RESCHED {
            reg.feature = bindings::bpf_iter_feature_BPF_ITER_RESCHED;
        }
        reg.seq_info = &Adapter::<T>::SEQ_INFO;
        // `ctx_arg_info` offsets and register types; BTF ids at registration.
        let mut n = 0;
        let mut i = 0;
        while i < Self::ARGS.len() {
            if let Some(rt) = Self::ARGS[i].reg_type() {
                reg.ctx_arg_info[n].offset = (8 * (i + 1)) as u32;
                reg.ctx_arg_info[n].reg_type = rt;
                n += 1;
            }
            i += 1;
        }
        reg.ctx_arg_info_size = n as u32;
        TargetVTable {
            reg: Opaque::new(reg),
            registered: AtomicBool::new(false),
            resolved: AtomicU8::new(UNRESOLVED),
            data: AtomicPtr::new(ptr::null_mut()),
            _p: PhantomData,
        }
    }
}

impl<T: Target> TargetVTable<T> {
    /// A reference on the registration's data, or `None` if there is no registration.
    fn data_ref(&self) -> Option<Arc<DataCell<T>>> {
        let _rcu = crate::sync::rcu::read_lock();
        let p = self.data.load(Ordering::Acquire);
        if p.is_null() {
            return None;
        }
        // SAFETY: `p` is the foreign pointer of an `Arc<DataCell<T>>` (type invariant), whose
        // owner drops its reference only an RCU grace period after taking it out of `data`,
        // which had not happened when we loaded it under the RCU read lock, held here.
        let cell = unsafe { <Arc<DataCell<T>> as ForeignOwnable>::borrow(p) };
        Some(cell.into())
    }

    /// Publishes `data` for `attach` (before the target is registered).
    fn set_data(&self, data: T::Data) -> Result {
        let cell = Arc::new(
            DataCell::<T> {
                data: compat::into_foreign(data),
                _p: PhantomData,
            },
            GFP_KERNEL,
        )?;
        let old = self.data.swap(compat::into_foreign(cell), Ordering::AcqRel);
        debug_assert!(old.is_null());
        Ok(())
    }

    /// Takes the data back (after the target is unregistered): the calls of `attach` that
    /// loaded it keep their own reference, the last one drops it.
    fn retire_data(&self) {
        let p = self.data.swap(ptr::null_mut(), Ordering::AcqRel);
        if p.is_null() {
            return;
        }
        // SAFETY: Called in process context (`Registration`'s drop, or `register` failing),
        // never under the RCU read lock: this waits for readers that loaded `p` under it to
        // have taken their own reference.
        unsafe { bindings::synchronize_rcu() };
        // SAFETY: `p` is the foreign pointer of the reference `set_data` made, taken out of
        // `data` once, here.
        drop(unsafe { <Arc<DataCell<T>> as ForeignOwnable>::from_foreign(p) });
    }
}

/// A registration's [`Target::Data`], shared by the registration and the calls of
/// [`Target::attach`] in progress.
///
/// # Invariants
///
/// `data` is the foreign pointer of a `T::Data`, converted back once, on drop.
struct DataCell<T: Target> {
    data: *mut c_void,
    _p: PhantomData<T::Data>,
}

// SAFETY: `DataCell` owns a `T::Data`, which is `Send`.
unsafe impl<T: Target> Send for DataCell<T> {}
// SAFETY: `&DataCell` only lends `&T::Data`-like borrows of it, and `T::Data` is `Sync`.
unsafe impl<T: Target> Sync for DataCell<T> {}

impl<T: Target> Drop for DataCell<T> {
    fn drop(&mut self) {
        // SAFETY: By the type invariant `data` came from `into_foreign`; no borrow of it is
        // left: each borrower holds a reference on `self`.
        drop(unsafe { T::Data::from_foreign(self.data) });
    }
}

impl<T: Target> Default for TargetVTable<T> {
    fn default() -> Self {
        Self::new()
    }
}

const fn unsafe_zeroed_reg() -> bindings::bpf_iter_reg {
    // SAFETY: `struct bpf_iter_reg` is pointers, optional function pointers, integers and
    // enums: all-zero is a valid (empty) value.
    unsafe { core::mem::zeroed() }
}

/// A registered target; unregistered when dropped.
///
/// # Examples
///
/// Registration checks the declared context against the `bpf_iter_<name>` anchor in BTF and
/// refuses duplicate names. vmlinux' `task` target has the anchor
/// `bpf_iter_task(struct bpf_iter_meta *meta, struct task_struct *task)`:
///
/// ```
/// use kernel::bpf::iter::{self, Index, Registration, Scalar, TargetVTable};
/// use kernel::bpf::iter::{BtfPtr, RdonlyBuf, TrustedBtfPtr};
/// use kernel::{c_str, fs::File, prelude::*, task::Task, ThisModule};
///
/// // Built-in code registers on behalf of no module.
/// // SAFETY: NULL is `THIS_MODULE` of built-in code.
/// static BUILTIN: ThisModule = unsafe { ThisModule::from_ptr(core::ptr::null_mut()) };
///
/// macro_rules! target {
///     ($t:ident, $name:literal, $ctx:ident) => {
///         struct $t;
///         #[vtable]
///         impl iter::Target for $t {
///             const NAME: &'static CStr = c_str!($name);
///             type Ctx<'a> = $ctx<'a>;
///             type Data = ();
///             type Params = ();
///             type Link = ();
///             type Iter = ();
///             type Item = Index;
///             fn attach(_: (), (): ()) -> Result { Ok(()) }
///             fn init_iter(_: &()) -> Result { Ok(()) }
///             fn start(_: &mut (), _: u64) -> Result<Option<Index>> { Ok(None) }
///             fn next(_: &mut (), item: &mut Option<Index>) { *item = None }
///             fn ctx<'a>(_: &'a (), _: &'a Index) -> $ctx<'a> {
///                 <$ctx<'a> as iter::Context>::NULL
///             }
///         }
///     };
/// }
///
/// kernel::bpf_iter_context! { struct TaskCtx<'a> { task: TrustedBtfPtr<'a, Task> } }
/// kernel::bpf_iter_context! { struct FileCtx<'a> { file: BtfPtr<'a, File> } }
/// kernel::bpf_iter_context! {
///     struct TwoCtx<'a> { task: TrustedBtfPtr<'a, Task>, n: Scalar<u32> }
/// }
/// kernel::bpf_iter_context! { struct BufCtx<'a> { task: RdonlyBuf<'a, 8> } }
///
/// // Each refusal below but the first logs its reason: say in the log that they are expected.
/// kernel::pr_info!("bpf_iter doctest: the 4 \"bpf_iter:\" errors that follow are expected\n");
///
/// // The right context, but `task` is the kernel's own target: refused as a duplicate.
/// target!(Dup, "task", TaskCtx);
/// static DUP: TargetVTable<Dup> = TargetVTable::new();
/// assert_eq!(Registration::register(&DUP, &BUILTIN, ()).err(), Some(EEXIST));
///
/// // A pointer to the wrong struct, or one argument too many: the context does not match.
/// target!(WrongType, "task", FileCtx);
/// static WRONG_TYPE: TargetVTable<WrongType> = TargetVTable::new();
/// assert_eq!(Registration::register(&WRONG_TYPE, &BUILTIN, ()).err(), Some(EINVAL));
/// target!(WrongCount, "task", TwoCtx);
/// static WRONG_COUNT: TargetVTable<WrongCount> = TargetVTable::new();
/// assert_eq!(Registration::register(&WRONG_COUNT, &BUILTIN, ()).err(), Some(EINVAL));
///
/// // soundness-2 point 1: a read-only buffer describes a byte buffer (`const char *`) only,
/// // never a pointer to a struct (`task`'s `struct task_struct *`).
/// target!(BufTask, "task", BufCtx);
/// static BUF_TASK: TargetVTable<BufTask> = TargetVTable::new();
/// assert_eq!(Registration::register(&BUF_TASK, &BUILTIN, ()).err(), Some(EINVAL));
///
/// // No `bpf_iter_no_such_target` anchor in BTF.
/// target!(NoAnchor, "no_such_target", TaskCtx);
/// static NO_ANCHOR: TargetVTable<NoAnchor> = TargetVTable::new();
/// assert_eq!(Registration::register(&NO_ANCHOR, &BUILTIN, ()).err(), Some(ENOENT));
/// ```
///
/// # Invariants
///
/// `vtable.reg` is registered with the kernel and `vtable.registered` is set by this object.
pub struct Registration<T: Target> {
    vtable: &'static TargetVTable<T>,
    _btfs: [Option<Btf>; 2],
}

// SAFETY: Unregistering may happen from any thread.
unsafe impl<T: Target> Send for Registration<T> {}
// SAFETY: `&Registration` gives access to nothing.
unsafe impl<T: Target> Sync for Registration<T> {}

impl<T: Target> Registration<T> {
    /// Registers `vtable` on behalf of `module`.
    ///
    /// Resolves and checks the context against the BTF anchor `bpf_iter_<NAME>` (`ENOENT` if it
    /// is missing, `EINVAL` on a mismatch, both logged), then registers: `EEXIST` if a target of
    /// that name exists, `EBUSY` if `vtable` is registered already.
    ///
    /// The first registration of `vtable` fills in its BTF ids and owner; later ones (after the
    /// first was dropped) check that they resolve to the same and never write them: programs
    /// verified before may still read them. `EINVAL` if they differ (another `module`).
    ///
    /// `data` is lent to every [`Target::attach`] while the target is registered, and dropped
    /// with the registration (or here, on failure).
    pub fn register(
        vtable: &'static TargetVTable<T>,
        module: &'static ThisModule,
        data: T::Data,
    ) -> Result<Self> {
        // INVARIANT: this call owns `reg` from here: it either makes a `Registration` or clears
        // the flag again.
        if vtable.registered.swap(true, Ordering::AcqRel) {
            return Err(EBUSY);
        }
        // Set before the target is registered, taken back after it is unregistered (`drop`):
        // while the kernel may call `attach_target`, it finds the data.
        if let Err(e) = vtable.set_data(data) {
            vtable.registered.store(false, Ordering::Release);
            return Err(e);
        }
        let first = vtable.resolved.load(Ordering::Acquire) == UNRESOLVED;
        match register_raw(vtable.reg.get(), first, TargetVTable::<T>::ARGS, module) {
            Ok(btfs) => {
                // INVARIANT: `register_raw` wrote `reg` if it was the first registration, and
                // never writes it again from now on.
                vtable.resolved.store(RESOLVED, Ordering::Release);
                // INVARIANT: `reg` is registered, and this call set `registered` above, which
                // the registration now holds.
                Ok(Registration {
                    vtable,
                    _btfs: btfs,
                })
            }
            Err(e) => {
                // An `attach` of an earlier registration of `vtable` that was still in
                // progress may have taken a reference: the data lives until it returns.
                vtable.retire_data();
                vtable.registered.store(false, Ordering::Release);
                Err(e)
            }
        }
    }
}

impl<T: Target> Drop for Registration<T> {
    fn drop(&mut self) {
        // SAFETY: By the type invariant `reg` is registered.
        unsafe { bindings::bpf_iter_unreg_target(self.vtable.reg.get()) };
        // No new link finds the target now; calls of `attach` that found it before hold a
        // reference on the data, which they drop when they return.
        self.vtable.retire_data();
        // INVARIANT: `reg` is unregistered and nothing of this registration uses it any more.
        self.vtable.registered.store(false, Ordering::Release);
        // `_btfs` is dropped next: the BTF references taken at registration. The kernel may
        // still verify a program that found the target before; its `ctx_arg_info` BTFs stay
        // alive through the module (pinned by that program) or vmlinux.
    }
}

/// A BTF or target name in a message (they are ASCII), for `format_args!`: 7.3's `CStr` is
/// `core::ffi::CStr`, which has no `core::fmt::Display`.
fn text(name: &CStr) -> &str {
    name.to_str().unwrap_or("<not UTF-8>")
}

/// Resolves `args` against the anchor, fills in (`first`) or checks the BTF ids of
/// `reg.ctx_arg_info` and `reg.owner`, and registers `reg`.
///
/// Not generic, so that it is built into the kernel and may call what is not exported.
///
/// `reg` is the `bpf_iter_reg` of a [`TargetVTable`] whose `registered` flag the caller holds,
/// and `first` says whether it was ever resolved.
fn register_raw(
    reg: *mut bindings::bpf_iter_reg,
    first: bool,
    args: &[ArgSpec],
    module: &'static ThisModule,
) -> Result<[Option<Btf>; 2]> {
    // SAFETY: `reg` is valid (it lives in a static); `target` is the `&'static CStr` name set
    // by `TargetVTable::new` and never written again.
    let name = unsafe { CStr::from_char_ptr((*reg).target) };
    let owner = Btf::of_module(module).inspect_err(|_| {
        pr_err!("bpf_iter: {}: no BTF for the target's owner\n", name);
    })?;
    let mut fname = [0u8; ANCHOR_PREFIX.len() + MAX_NAME_LEN + 1];
    let nb = compat::cstr_bytes(name);
    if nb.len() > MAX_NAME_LEN {
        return Err(EINVAL);
    }
    fname[..ANCHOR_PREFIX.len()].copy_from_slice(ANCHOR_PREFIX.as_bytes());
    fname[ANCHOR_PREFIX.len()..ANCHOR_PREFIX.len() + nb.len()].copy_from_slice(nb);
    let fname = CStr::from_bytes_with_nul(&fname[..ANCHOR_PREFIX.len() + nb.len() + 1])
        .map_err(|_| EINVAL)?;

    let Ok(func) = owner.find(fname, Kind::Func) else {
        pr_err!(
            "bpf_iter: {}: no BTF anchor {} (DEFINE_BPF_ITER_FUNC)\n",
            name,
            fname
        );
        return Err(ENOENT);
    };
    let mismatch = |what: fmt::Arguments<'_>| {
        pr_err!(
            "bpf_iter: {}: context does not match {}: {}\n",
            name,
            fname,
            what
        );
        EINVAL
    };
    let proto = owner
        .type_by_id(func)
        .and_then(|f| f.referenced())
        .filter(|p| p.kind() == Some(Kind::FuncProto))
        .ok_or_else(|| mismatch(format_args!("not a function")))?;
    if proto.vlen() as usize != args.len() + 1 {
        return Err(mismatch(format_args!(
            "{} parameters, Rust declares meta + {}",
            proto.vlen(),
            args.len()
        )));
    }
    let meta = proto
        .param(0)
        .and_then(|t| t.skip_modifiers())
        .filter(|t| t.kind() == Some(Kind::Ptr))
        .and_then(|t| t.referenced())
        .and_then(|t| t.skip_modifiers());
    match meta {
        Some(t) if compat::cstr_bytes(t.name()) == b"bpf_iter_meta" => {}
        _ => {
            return Err(mismatch(format_args!(
                "parameter 0 is not struct bpf_iter_meta *"
            )))
        }
    }

    let mut btfs: [Option<Btf>; 2] = [None, None];
    let mut ids = [(0u32, ptr::null_mut::<bindings::btf>()); MAX_TYPED_ARGS];
    let mut n = 0;
    for (i, a) in args.iter().enumerate() {
        let p = i + 1;
        let t = proto
            .param(p as u16)
            .and_then(|t| t.skip_modifiers())
            .ok_or_else(|| mismatch(format_args!("parameter {p} has no type")))?;
        match *a {
            ArgSpec::Scalar { size, signed } => {
                let ok = matches!(t.kind(), Some(Kind::Int | Kind::Enum | Kind::Enum64))
                    && t.size() as usize == size;
                if !ok {
                    return Err(mismatch(format_args!(
                        "parameter {p} is not a {size}-byte integer"
                    )));
                }
                if t.is_signed() != signed {
                    let sign = |s| if s { "signed" } else { "unsigned" };
                    return Err(mismatch(format_args!(
                        "parameter {p} is {}, Rust declares it {}",
                        sign(t.is_signed()),
                        sign(signed)
                    )));
                }
            }
            ArgSpec::RdonlyBuf { .. } => {
                // A byte buffer only: any other pointer (to a struct, say) would let a program
                // verified against another target of this name, one that declared the slot a
                // BTF pointer, attach here (the kernel now refuses that too, see
                // `bpf_iter_prog_verified_for()`).
                let bytes = (t.kind() == Some(Kind::Ptr))
                    .then(|| t.referenced().and_then(|r| r.skip_modifiers()))
                    .flatten()
                    .is_some_and(|r| r.kind() == Some(Kind::Int) && r.size() == 1);
                if !bytes {
                    return Err(mismatch(format_args!(
                        "parameter {p} is not a byte buffer (const char *)"
                    )));
                }
                n += 1;
            }
            ArgSpec::Btf {
                name: tname,
                origin,
                size,
                ..
            } => {
                let pointee = (t.kind() == Some(Kind::Ptr))
                    .then(|| t.referenced().and_then(|r| r.skip_modifiers()))
                    .flatten()
                    .filter(|r| r.kind() == Some(Kind::Struct))
                    .ok_or_else(|| mismatch(format_args!("parameter {p} is not a struct *")))?;
                let btf = match origin {
                    Origin::Owner => owner.clone(),
                    Origin::Vmlinux => Btf::vmlinux()?,
                };
                let declared = btf
                    .find(tname, Kind::Struct)
                    .ok()
                    .and_then(|id| btf.type_by_id(id))
                    .ok_or_else(|| mismatch(format_args!("no struct {} in BTF", text(tname))))?;
                if !declared.same(&pointee) {
                    return Err(mismatch(format_args!(
                        "parameter {p} is struct {} *, Rust declares struct {} *",
                        text(pointee.name()),
                        text(tname)
                    )));
                }
                // Objects of vmlinux types come from C; those of the owner's types are made in
                // Rust, whose view must then have the size BTF gives programs.
                if origin == Origin::Owner && declared.size() as usize != size {
                    return Err(mismatch(format_args!(
                        "struct {} is {} bytes, its Rust view {size}",
                        text(tname),
                        declared.size()
                    )));
                }
                ids[n] = (
                    declared.id(),
                    if btf.is_module() {
                        btf.as_ptr()
                    } else {
                        ptr::null_mut()
                    },
                );
                btfs[n] = Some(btf);
                n += 1;
            }
        }
    }
    if first {
        // SAFETY: No registration of `reg` happened yet, so nothing reads it, and the caller
        // holds the `registered` flag, so nothing else writes it.
        unsafe {
            for (i, (id, btf)) in ids.iter().enumerate().take(n) {
                (*reg).ctx_arg_info[i].btf_id = *id;
                (*reg).ctx_arg_info[i].btf = *btf;
            }
            (*reg).owner = module.as_ptr();
        }
    } else {
        // SAFETY: `reg` was resolved before and is not written any more: reading it races with
        // nothing but other reads.
        let same = unsafe {
            (*reg).owner == module.as_ptr()
                && ids.iter().enumerate().take(n).all(|(i, (id, btf))| {
                    (*reg).ctx_arg_info[i].btf_id == *id && (*reg).ctx_arg_info[i].btf == *btf
                })
        };
        if !same {
            pr_err!(
                "bpf_iter: {}: registered again with other BTF or another owner\n",
                name
            );
            return Err(EINVAL);
        }
    }
    // SAFETY: `reg` is fully initialized and lives in a static of the owner (see
    // `TargetVTable`); the kernel keeps it until `bpf_iter_unreg_target`.
    crate::error::to_result(unsafe { bindings::bpf_iter_reg_target(reg) })?;
    Ok(btfs)
}

/// Declares a module whose only job is to offer BPF iterators: seq_file targets (`targets`,
/// [`Target`]s), open-coded iterators (`open_iters`, [`OpenIter`]s, given by identifier), and
/// kfuncs of its own for their programs (`kfuncs`, [`Kfunc`]s, given by identifier); each list
/// is optional, in that order, and one type may be in the first two.
///
/// Each target is registered with `Default::default()` as its [`Target::Data`] (`()` for
/// targets without data); a module whose targets need data of their own keeps a
/// [`Registration`] itself. The kfuncs, the open iterators' and the others, are registered
/// last, once every target is, as the module's one kfunc set ([`register_kfuncs`]).
///
/// [`OpenIter`]: super::OpenIter
/// [`Kfunc`]: super::Kfunc
/// [`register_kfuncs`]: super::register_kfuncs
///
/// # Examples
///
/// ```ignore
/// kernel::module_bpf_iter_target! {
///     targets: [MyTarget],
///     open_iters: [MyTarget],
///     kfuncs: [MyKfunc],
///     name: "rust_my_iter",
///     description: "A BPF iterator target and open-coded iterator",
///     license: "GPL",
/// }
/// ```
#[macro_export]
macro_rules! module_bpf_iter_target {
    (@kfuncs $m:ident [] []) => {};
    (@kfuncs $m:ident [$($o:ident),*] [$($k:ident),*]) => {
        $crate::bpf::iter::register_kfuncs($m, $crate::bpf_kfunc_table!())?;
    };
    (@lists [$($t:ty),*] [$($o:ident),*] kfuncs: [$($k:ident),+ $(,)?], $($f:tt)*) => {
        $crate::module_bpf_iter_target!(@module [$($t),*] [$($o),*] [$($k),+] $($f)*);
    };
    (@lists [$($t:ty),*] [$($o:ident),*] $($f:tt)*) => {
        $crate::module_bpf_iter_target!(@module [$($t),*] [$($o),*] [] $($f)*);
    };
    (@opens [$($t:ty),*] open_iters: [$($o:ident),+ $(,)?], $($f:tt)*) => {
        $crate::module_bpf_iter_target!(@lists [$($t),*] [$($o),+] $($f)*);
    };
    (@opens [$($t:ty),*] $($f:tt)*) => {
        $crate::module_bpf_iter_target!(@lists [$($t),*] [] $($f)*);
    };
    (@module [$($t:ty),*] [$($o:ident),*] [$($k:ident),*] $($f:tt)*) => {
        struct Module {
            _regs: ($($crate::bpf::iter::Registration<$t>,)*),
        }

        $crate::prelude::module! {
            type: Module,
            $($f)*
        }

        $($crate::bpf_iter_layout!($t);)*
        $($crate::bpf_open_iter!($o);)*
        $($crate::bpf_kfunc!($k);)*

        impl $crate::Module for Module {
            fn init(module: &'static $crate::ThisModule) -> $crate::error::Result<Self> {
                let _ = module;
                let regs = ($({
                    static VTABLE: $crate::bpf::iter::TargetVTable<$t> =
                        $crate::bpf::iter::TargetVTable::new();
                    $crate::bpf::iter::Registration::register(
                        &VTABLE,
                        module,
                        ::core::default::Default::default(),
                    )?
                },)*);
                // Last: the kernel keeps a module's kfunc set until the module is unloaded.
                $crate::module_bpf_iter_target!(@kfuncs module [$($o),*] [$($k),*]);
                Ok(Module { _regs: regs })
            }
        }
    };
    (targets: [$($t:ty),+ $(,)?], $($f:tt)*) => {
        $crate::module_bpf_iter_target!(@opens [$($t),+] $($f)*);
    };
    ($($f:tt)*) => {
        $crate::module_bpf_iter_target!(@opens [] $($f)*);
    };
}
