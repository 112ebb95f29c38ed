// SPDX-License-Identifier: GPL-2.0

//! Rust BPF iterator targets with link parameters, as the kernel's C targets take them.
//!
//! * `rust_map_info` takes a map (`union bpf_iter_link_info`'s `map` member, as
//!   `bpf_map_elem`) and shows one object: the map's id and type.
//! * `rust_cgroup_info` (with `CONFIG_CGROUPS`) takes a cgroup and a walk order (the `cgroup`
//!   member, as the `cgroup` target) and shows one object: the cgroup's id and the order.
//!
//! Both hold what the parameters name (a map reference, a cgroup reference) for as long as the
//! link lives, report it through `BPF_OBJ_GET_INFO_BY_FD` and the link's fdinfo, and refuse
//! parameters of another kind with the kernel's errno. Their contexts have scalars only; the
//! final call of a walk gives zeros:
//!
//! ```c
//! SEC("iter/rust_map_info")
//! int show(struct bpf_iter__rust_map_info *ctx)
//! {
//!         if (ctx->map_id)
//!                 BPF_SEQ_PRINTF(ctx->meta->seq, "map %u type %u\n", ctx->map_id, ctx->map_type);
//!         return 0;
//! }
//! ```

use kernel::bpf::iter::{self, Index, LinkInfoOut, MapRef, Scalar};
use kernel::{c_str, prelude::*, seq_file::SeqFile, seq_print};

kernel::bpf_iter_context! {
    /// What programs of `rust_map_info` see after `meta`.
    struct MapInfoCtx {
        map_id: Scalar<u32>,
        map_type: Scalar<u32>,
    }
}

/// The values a walk shows, copied from the link when an iterator is made; `done` once shown.
struct OneObject<T: Copy + Send> {
    value: T,
    done: bool,
}

fn start_one<T: Copy + Send>(it: &mut OneObject<T>) -> Option<Index> {
    (!it.done).then_some(Index(0))
}

fn next_one<T: Copy + Send>(it: &mut OneObject<T>, item: &mut Option<Index>) {
    it.done = true;
    *item = None;
}

struct MapInfo;

#[vtable]
impl iter::Target for MapInfo {
    const NAME: &'static CStr = c_str!("rust_map_info");

    type Ctx<'a> = MapInfoCtx;
    type Data = ();
    type Params = MapRef;
    /// The map, referenced until the link is released.
    type Link = MapRef;
    type Iter = OneObject<(u32, u32)>;
    type Item = Index;

    fn attach(_data: (), map: MapRef) -> Result<MapRef> {
        Ok(map)
    }

    fn init_iter(map: &MapRef) -> Result<Self::Iter> {
        Ok(OneObject {
            value: (map.id(), map.map_type()),
            done: false,
        })
    }

    fn start(it: &mut Self::Iter, _pos: u64) -> Result<Option<Index>> {
        Ok(start_one(it))
    }

    fn next(it: &mut Self::Iter, item: &mut Option<Index>) {
        next_one(it, item)
    }

    fn ctx<'a>(it: &'a Self::Iter, _item: &'a Index) -> MapInfoCtx {
        MapInfoCtx {
            map_id: Scalar::new(it.value.0),
            map_type: Scalar::new(it.value.1),
        }
    }

    fn show_fdinfo(map: &MapRef, m: &SeqFile) {
        seq_print!(m, "map_id:\t{}\n", map.id());
    }

    fn fill_link_info(map: &MapRef, info: &mut LinkInfoOut<'_>) -> Result {
        info.set_map(map);
        Ok(())
    }
}

#[cfg(CONFIG_CGROUPS)]
mod cgroup {
    use super::{next_one, start_one, OneObject};
    use kernel::bpf::iter::{self, CgroupOrder, CgroupRef, Index, LinkInfoOut, Scalar};
    use kernel::{c_str, prelude::*, seq_file::SeqFile, seq_print};

    kernel::bpf_iter_context! {
        /// What programs of `rust_cgroup_info` see after `meta`.
        pub(super) struct CgroupInfoCtx {
            cgroup_id: Scalar<u64>,
            order: Scalar<u32>,
        }
    }

    /// `enum bpf_cgroup_iter_order`'s value of `order`, as programs and userspace know it.
    fn order_value(order: CgroupOrder) -> u32 {
        match order {
            CgroupOrder::SelfOnly => 1,
            CgroupOrder::DescendantsPre => 2,
            CgroupOrder::DescendantsPost => 3,
            CgroupOrder::AncestorsUp => 4,
        }
    }

    pub(super) struct CgroupInfo;

    #[vtable]
    impl iter::Target for CgroupInfo {
        const NAME: &'static CStr = c_str!("rust_cgroup_info");

        type Ctx<'a> = CgroupInfoCtx;
        type Data = ();
        type Params = (CgroupRef, CgroupOrder);
        /// The cgroup, referenced until the link is released, and the order asked for.
        type Link = (CgroupRef, CgroupOrder);
        type Iter = OneObject<(u64, u32)>;
        type Item = Index;

        fn attach(_data: (), walk: Self::Params) -> Result<Self::Link> {
            Ok(walk)
        }

        fn init_iter(link: &Self::Link) -> Result<Self::Iter> {
            Ok(OneObject {
                value: (link.0.id(), order_value(link.1)),
                done: false,
            })
        }

        fn start(it: &mut Self::Iter, _pos: u64) -> Result<Option<Index>> {
            Ok(start_one(it))
        }

        fn next(it: &mut Self::Iter, item: &mut Option<Index>) {
            next_one(it, item)
        }

        fn ctx<'a>(it: &'a Self::Iter, _item: &'a Index) -> CgroupInfoCtx {
            CgroupInfoCtx {
                cgroup_id: Scalar::new(it.value.0),
                order: Scalar::new(it.value.1),
            }
        }

        fn show_fdinfo(link: &Self::Link, m: &SeqFile) {
            seq_print!(m, "cgroup_id:\t{}\n", link.0.id());
            seq_print!(m, "order:\t{}\n", order_value(link.1));
        }

        fn fill_link_info(link: &Self::Link, info: &mut LinkInfoOut<'_>) -> Result {
            info.set_cgroup(&link.0, link.1);
            Ok(())
        }
    }
}

#[cfg(CONFIG_CGROUPS)]
kernel::module_bpf_iter_target! {
    targets: [MapInfo, cgroup::CgroupInfo],
    name: "rust_bpf_iter_params",
    description: "Rust BPF iterator targets with map and cgroup parameters",
    license: "GPL",
}

#[cfg(not(CONFIG_CGROUPS))]
kernel::module_bpf_iter_target! {
    targets: [MapInfo],
    name: "rust_bpf_iter_params",
    description: "Rust BPF iterator targets with map and cgroup parameters",
    license: "GPL",
}
