# SPDX-License-Identifier: GPL-2.0
# TAP helpers for the guest suites (sourced).
_n=0
_planned=0
plan() { _planned=$1; echo "TAP version 13"; echo "1..$1"; }
ok() { _n=$((_n + 1)); echo "ok $_n - $1"; }
not_ok() { _n=$((_n + 1)); echo "not ok $_n - $1${2:+ # $2}"; }
# check NAME CMD...: ok if CMD succeeds.
check() {
	local name=$1
	shift
	if "$@" >>"${LOG:-/dev/null}" 2>&1; then ok "$name"; else not_ok "$name" "command failed: $*"; fi
}
# expect_eq NAME GOT WANT
expect_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "got '$(echo "$2" | head -c 200 | tr '\n' '|')', want '$(echo "$3" | head -c 200 | tr '\n' '|')'"; fi
}

# says_errno ERRNO TEXT: whether stdin reports errno ERRNO (e.g. EINVAL): its
# strerror TEXT ("invalid argument", bpftool 7.5 and libbpf's messages) or
# -ERRNO (bpftool 7.8's), in any case.
says_errno() { grep -qiE -- "$2|-$1\b"; }

# delete_module and friends, without kmod (guest-lib/bpf.py).
# bpfpy ARGS...: guest-lib/bpf.py (a function: the clone path may have spaces).
_GUEST_LIB=$(dirname "${BASH_SOURCE[0]}")
bpfpy() { python3 "$_GUEST_LIB/bpf.py" "$@"; }
# unload_module NAME: delete_module, retried for up to 5 s: programs are freed
# (and their module reference dropped) after an RCU grace period.
unload_module() {
	local i r
	for i in $(seq 50); do
		r=$(bpfpy rmmod "$1")
		[ "$r" = 0 ] && return 0
		[ "$r" = ENOENT ] && break # not loaded
		sleep 0.1
	done
	echo "$r"
	return 1
}

# tap_from CMD...: run CMD, which prints "ok - NAME" and "not ok - NAME # WHY"
# lines, and report them numbered on from ours (other lines pass through).
tap_from() {
	local l
	while IFS= read -r l; do
		case $l in
		"ok - "*) ok "${l#ok - }" ;;
		"not ok - "*" # "*) l=${l#not ok - } && not_ok "${l%% # *}" "${l#* # }" ;;
		"not ok - "*) not_ok "${l#not ok - }" ;;
		*) echo "$l" ;;
		esac
	done < <("$@")
}
