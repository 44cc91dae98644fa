#!/bin/bash
# hearth's bash runtime: every hearth script is "# hearth: <title>", this file, then the component's calls over it.
# No component carries its own copy of a primitive. What the primitives enforce, so no script has to remember it:
# - Level-triggered: nothing here reports "this run changed a file" for a caller to decide on. Decisions come from
#   host state: hearth_digest of what is installed against hearth_applied, recorded with hearth_record only after
#   the step it stands for succeeded (a restart, a reload). hearth_changed counts writes for messages only.
# - Privilege boundaries: hearth_install, hearth_put, hearth_remove and hearth_assemble write only below directories
#   that root alone can change, and refuse otherwise; below a tree a less privileged principal owns (a container's
#   rootfs, PostgreSQL's config directory) writes go through hearth_put_below / hearth_install_below /
#   hearth_run_below, which run as that owner, so a planted or raced link reaches nothing the owner could not reach
#   itself. Temp names are random (mktemp), never predictable.
# - Crash points: every state-changing command is followed by hearth_step. With HEARTH_CRASH_AT=N in the
#   environment the script is killed right after its Nth step; host specs kill every script at every step and prove
#   that the re-run finishes the job.
# - Ownership: hearth_owner (set by the script) names the one resource that owns what the script manages;
#   hearth_claim refuses an object another resource owns, hearth_mine tells a delete whether to touch it.
# shellcheck shell=bash
set -euo pipefail
umask 077
export LC_ALL=C
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
cd /
# Counts writes for messages only: no decision may depend on it (a re-run after a crash sees nothing to write).
hearth_changed=0
hearth_steps=0
hearth_owner=
hearth_aliases=()
hearth_adopt=0
hearth_tmps=()
hearth_cleanup() {
  local t
  for t in "${hearth_tmps[@]}"; do rm -rf -- "$t" 2>/dev/null || true; done
}
trap hearth_cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# Messages never decide anything, and a closed stdout (a dropped SSH reader) must not stop the run.
hearth_say() { printf 'hearth: %s\n' "$*" 2>/dev/null || true; }
hearth_warn() { printf 'hearth: %s\n' "$*" >&2 2>/dev/null || true; }
hearth_die() {
  local code=$1
  shift
  printf 'hearth: %s\n' "$*" >&2 2>/dev/null || true
  exit "$code"
}

# hearth_step: called right after every state-changing command, in the main shell.
hearth_step() {
  if [ "$BASHPID" != "$$" ]; then hearth_die 70 "hearth_step called outside the main shell"; fi
  hearth_steps=$((hearth_steps + 1))
  if [ "${HEARTH_CRASH_AT:-0}" = "$hearth_steps" ]; then
    printf 'hearth-crash: step %s\n' "$hearth_steps" >&2 2>/dev/null || true
    kill -KILL "$$"
  fi
}

# hearth_frame FILE: reads the next stdin frame ("<byte length>\n<bytes>") into FILE, which must exist already.
hearth_frame() {
  local len
  IFS= read -r len || hearth_die 70 "stdin ended before a frame for $1"
  case $len in '' | *[!0-9]*) hearth_die 70 "bad stdin frame header for $1" ;; esac
  head -c "$len" >"$1"
  if [ "$(stat -c %s -- "$1")" != "$len" ]; then hearth_die 70 "short stdin frame for $1"; fi
}

# hearth_root_only DIR: DIR is a real directory (not a link) owned by root that nobody else may change.
hearth_root_only() {
  local st
  if [ ! -d "$1" ] || [ -L "$1" ]; then return 1; fi
  st=$(stat -c '%u %a' -- "$1")
  [ "${st%% *}" = 0 ] || return 1
  (((8#${st#* } & 8#022) == 0))
}

# hearth_dir DIR [MODE]: makes DIR (MODE for what it creates, default 0755) and proves that it and every directory
# above it are real directories only root can change; dies otherwise. Every root write goes below such a directory.
hearth_dir() {
  local dir=$1 mode=${2:-0755} p='' part parts
  case $dir in /*) ;; *) hearth_die 70 "not an absolute path: $dir" ;; esac
  hearth_root_only / || hearth_die 65 "/ is not a root-only directory"
  IFS=/ read -r -a parts <<<"$dir"
  for part in "${parts[@]}"; do
    [ -n "$part" ] || continue
    p=$p/$part
    if [ ! -e "$p" ] && [ ! -L "$p" ]; then
      # Another script may create it at the same moment: that one is as good.
      if mkdir -m "$mode" -- "$p" 2>/dev/null; then hearth_step; fi
    fi
    hearth_root_only "$p" || hearth_die 65 "refusing to write below $p: it is a link, not a directory, or someone other than root can change it"
  done
}

hearth_parent() {
  local d=${1%/*}
  printf '%s\n' "${d:-/}"
}

# hearth_tmp_in DIR: sets hearth_tmp to a new empty file with a random name in DIR (a root-only directory), removed
# on exit unless renamed. Functions that change state return through variables, never $(...), so that their steps
# and clean-ups happen in the main shell.
# The name carries the script's PID: a script killed before its exit trap ran (SIGKILL, power loss) leaves its temp
# files behind, and the next script to use that directory removes those whose script is gone.
hearth_tmp=
hearth_tmp_in() {
  hearth_reap "$1"
  hearth_tmp=$(mktemp -- "$1/.hearth.$$.XXXXXXXXXX")
  hearth_tmps+=("$hearth_tmp")
}

# hearth_reap DIR: removes the temp files and directories in DIR (a root-only directory) of scripts that are gone.
hearth_reap() {
  local t pid
  for t in "$1"/.hearth.*.*; do
    if [ ! -e "$t" ] || [ -L "$t" ]; then continue; fi
    pid=${t##*/.hearth.}
    pid=${pid%%.*}
    case $pid in '' | *[!0-9]*) continue ;; esac
    if [ "$pid" != "$$" ] && ! kill -0 "$pid" 2>/dev/null; then rm -rf -- "$t"; fi
  done
}

# hearth_private_tmp: sets hearth_tmp to a root-only scratch file outside any tree someone else controls.
hearth_private_tmp() {
  hearth_dir /run/hearth/tmp 0700
  hearth_tmp_in /run/hearth/tmp
}

# hearth_put SRC PATH MODE OWNER GROUP: gives SRC (a temp file in PATH's directory) its mode and owner and renames it
# over PATH unless PATH already has that content, mode and owner. Renaming replaces a link, never follows it.
hearth_put() {
  local src=$1 path=$2
  chown -- "$4:$5" "$src"
  chmod -- "$3" "$src"
  if [ -f "$path" ] && [ ! -L "$path" ] && cmp -s -- "$src" "$path" &&
    [ "$(stat -c '%a %U %G' -- "$path")" = "$(stat -c '%a %U %G' -- "$src")" ]; then
    rm -f -- "$src"
  else
    sync -- "$src" 2>/dev/null || true
    mv -f -T -- "$src" "$path"
    hearth_step
    hearth_changed=$((hearth_changed + 1))
    hearth_say "wrote $path"
  fi
}

# hearth_install PATH MODE OWNER GROUP: installs the next stdin frame at PATH (below a root-only directory).
hearth_install() {
  local dir
  dir=$(hearth_parent "$1")
  hearth_dir "$dir"
  hearth_tmp_in "$dir"
  hearth_frame "$hearth_tmp"
  hearth_put "$hearth_tmp" "$1" "$2" "$3" "$4"
}

# hearth_install_in_place PATH MODE OWNER GROUP: as hearth_install, but an existing regular file keeps its inode (its
# content is rewritten, then its mode and owner set): a running service that has it bind-mounted sees the new content
# on reload. Only below a root-only directory (nobody else can swap PATH between the check and the write); a run killed
# mid-write leaves content whose digest differs, so the next run writes it again.
hearth_install_in_place() {
  local dir
  dir=$(hearth_parent "$1")
  hearth_dir "$dir"
  hearth_tmp_in "$dir"
  hearth_frame "$hearth_tmp"
  if [ ! -f "$1" ] || [ -L "$1" ]; then
    hearth_put "$hearth_tmp" "$1" "$2" "$3" "$4"
    return
  fi
  if ! cmp -s -- "$hearth_tmp" "$1"; then
    cat -- "$hearth_tmp" >"$1"
    hearth_step
    hearth_changed=$((hearth_changed + 1))
    hearth_say "rewrote $1 in place"
  fi
  rm -f -- "$hearth_tmp"
  # Mode and owner in place too: a rename would give the path a new inode the running service's bind never sees.
  if [ "$(stat -c '%a %U %G' -- "$1")" != "$(printf '%o %s %s' "$((8#$2))" "$3" "$4")" ]; then
    chown -- "$3:$4" "$1"
    chmod -- "$2" "$1"
    hearth_step
    hearth_changed=$((hearth_changed + 1))
  fi
}

# hearth_install_secret PATH [MODE [OWNER [GROUP]]]: as hearth_install, 0600 root:root unless told; the body never
# appears in argv, output or the script.
hearth_install_secret() {
  hearth_install "$1" "${2:-0600}" "${3:-root}" "${4:-root}"
}

# hearth_remove PATH: removes a file or link (never what a link points to) below a root-only directory.
hearth_remove() {
  local dir
  dir=$(hearth_parent "$1")
  [ -e "$dir" ] || return 0
  hearth_root_only "$dir" || hearth_die 65 "refusing to remove $1: $dir is not a root-only directory"
  if [ -e "$1" ] || [ -L "$1" ]; then
    rm -f -- "$1"
    hearth_step
    hearth_changed=$((hearth_changed + 1))
    hearth_say "removed $1"
  fi
}

# hearth_rmdir DIR: removes DIR when it is empty.
hearth_rmdir() {
  if [ -d "$1" ] && [ ! -L "$1" ] && [ -z "$(ls -A -- "$1")" ]; then
    rmdir -- "$1"
    hearth_step
  fi
}

# hearth_assemble TARGET MODE OWNER GROUP HEADER DIR SUFFIX: TARGET is HEADER then every DIR/*SUFFIX (sorted).
hearth_assemble() {
  local dir
  dir=$(hearth_parent "$1")
  hearth_dir "$dir"
  hearth_tmp_in "$dir"
  hearth_concat "$5" "$6" "$7" >"$hearth_tmp"
  hearth_put "$hearth_tmp" "$1" "$2" "$3" "$4"
}

# hearth_concat HEADER DIR SUFFIX: prints HEADER, then every regular DIR/*SUFFIX file (sorted; links skipped).
hearth_concat() {
  local f
  printf '%s\n' "$1"
  if [ -d "$2" ]; then
    for f in "$2"/*"$3"; do
      if [ -f "$f" ] && [ ! -L "$f" ]; then cat -- "$f"; fi
    done
  fi
}

# hearth_lock NAME: holds a per-host lock (until the script exits) shared by every script that takes NAME.
hearth_lock() {
  case $1 in '' | *[!A-Za-z0-9._-]*) hearth_die 70 "bad lock name: $1" ;; esac
  hearth_dir /run/hearth/lock 0700
  exec {hearth_lock_fd}>>"/run/hearth/lock/$1.lock"
  flock "$hearth_lock_fd"
}

# --- applied state: what hearth last applied successfully, recorded only after it took effect -------------------
hearth_key() {
  if ! [[ $1 =~ ^[A-Za-z0-9][A-Za-z0-9@._:+-]*(/[A-Za-z0-9][A-Za-z0-9@._:+-]*)*$ ]]; then hearth_die 70 "bad state key: $1"; fi
}

# hearth_records_trusted PATH: every directory from / down to PATH's that exists is a real directory (not a link)
# owned by root that nobody else may change, so what is (or is not) recorded there is root's doing. A service's
# StateDirectory=hearth would hand /var/lib/hearth to its user (a link to private/hearth): a record below it is
# anyone's. One stat for all of them. Fails setting hearth_records_bad to the first directory that is not.
hearth_records_bad=
hearth_records_trusted() {
  local p='' part parts have=(/) i=0 uid mode type st
  IFS=/ read -r -a parts <<<"${1%/*}"
  for part in "${parts[@]}"; do
    [ -n "$part" ] || continue
    p=$p/$part
    # A missing directory holds no record; nothing below it exists either.
    if [ ! -e "$p" ] && [ ! -L "$p" ]; then break; fi
    have+=("$p")
  done
  st=$(stat -c '%u %a %F' -- "${have[@]}" 2>/dev/null) || true
  while read -r uid mode type; do
    if [ "$uid" != 0 ] || [ "$type" != directory ] || (((8#$mode & 8#022) != 0)); then break; fi
    i=$((i + 1))
  done <<<"$st"
  if [ "$i" = "${#have[@]}" ]; then return 0; fi
  hearth_records_bad=${have[$i]}
  return 1
}

# hearth_records_refuse PATH: stops the script: PATH's record cannot be trusted (hearth_records_bad says why). From a
# $(...) of a converge the whole script stops (TERM to it after the message), not only the subshell; a drift check's
# resource fails with 65, reported as its error (the other resources' checks go on).
hearth_records_refuse() {
  local msg="refusing to read the record $1: $hearth_records_bad is a link, not a directory, or someone other than root can change it (was it handed to a service as its StateDirectory= or RuntimeDirectory=? give it back to root)"
  if [ -z "$hearth_check_lock" ] && [ "$BASHPID" != "$$" ]; then
    printf 'hearth: %s\n' "$msg" >&2 2>/dev/null || true
    kill -TERM "$$"
    exit 65
  fi
  hearth_die 65 "$msg"
}

# hearth_applied KEY: prints the value recorded for KEY, or nothing; dies (hearth_records_refuse) when a directory
# the record would be read through is not root's alone.
hearth_applied() {
  hearth_key "$1"
  local f=/var/lib/hearth/applied/$1
  hearth_records_trusted "$f" || hearth_records_refuse "$f"
  if [ -f "$f" ] && [ ! -L "$f" ]; then cat -- "$f"; fi
}

# hearth_record KEY VALUE: records VALUE for KEY (atomically; a step).
hearth_record() {
  hearth_key "$1"
  local f=/var/lib/hearth/applied/$1 dir
  # In the main shell, so a record tree that is not root's stops the converge with 65 before anything is read.
  hearth_records_trusted "$f" || hearth_records_refuse "$f"
  if [ "$(hearth_applied "$1")" = "$2" ]; then return 0; fi
  dir=$(hearth_parent "$f")
  hearth_dir "$dir" 0700
  hearth_tmp_in "$dir"
  printf '%s\n' "$2" >"$hearth_tmp"
  mv -f -T -- "$hearth_tmp" "$f"
  hearth_step
}

# hearth_forget KEY: drops what was recorded for KEY.
hearth_forget() {
  hearth_key "$1"
  hearth_remove "/var/lib/hearth/applied/$1"
}

# hearth_digest PATH...: one SHA-256 over each path's name, type, mode, owner and content ("absent" when missing).
hearth_digest() {
  local p
  for p in "$@"; do
    if [ -L "$p" ]; then
      printf '%s link %s\n' "$p" "$(readlink -- "$p")"
    elif [ -f "$p" ]; then
      printf '%s file %s %s\n' "$p" "$(stat -c '%a %U %G' -- "$p")" "$(sha256sum <"$p" | cut -d' ' -f1)"
    else
      printf '%s absent\n' "$p"
    fi
  done | sha256sum | cut -d' ' -f1
}

# --- ownership marks -------------------------------------------------------------------------------------------
# A mark is the owner id of the one resource that manages an object: "<project>/<stack>/<type>/<name>", or
# "legacy" for the shared mark of earlier releases, or empty when the object carries none.

# hearth_mine FOUND: true when FOUND names this resource (or one of its aliases), or is a legacy mark.
hearth_mine() {
  local a
  if [ "$1" = "$hearth_owner" ] || [ "$1" = legacy ]; then return 0; fi
  for a in "${hearth_aliases[@]}"; do [ "$1" = "$a" ] && return 0; done
  return 1
}

# hearth_claim WHAT FOUND: may this resource manage WHAT, whose mark is FOUND? Yes when it is ours (or an alias's,
# or the legacy mark, which the caller then rewrites), or with adopt. Otherwise dies, touching nothing.
hearth_claim() {
  if [ -n "$2" ] && hearth_mine "$2"; then
    if [ "$2" != "$hearth_owner" ]; then hearth_say "taking over $1 from ${2/#legacy/an earlier release of hearth} (the mark is rewritten to $hearth_owner)"; fi
    return 0
  fi
  if [ "$hearth_adopt" = 1 ]; then
    hearth_say "adopting $1 (mark was '${2:-none}'; now $hearth_owner)"
    return 0
  fi
  if [ -z "$2" ]; then
    hearth_die 65 "$1 exists and is not managed by hearth; set adopt: true to take it over"
  fi
  hearth_die 65 "$1 is owned by another resource ($2), not by $hearth_owner. If you renamed the resource, add aliases: [{ name: \"<old name>\" }] to its options; to take it over on purpose, set adopt: true (the other resource's delete then leaves it alone)"
}

# hearth_file_owner FILE: the owner id in FILE's "# hearth-owner: <id>" line; "legacy" when FILE carries only LEGACY
# (the second argument, a whole line); empty when neither (or no such file).
hearth_file_owner() {
  local line
  if [ ! -f "$1" ] || [ -L "$1" ]; then return 0; fi
  # The mark is in a file's header (its first lines); a comment further down never counts, whatever it says.
  line=$(head -n 5 -- "$1" | grep -m1 '^[#;] hearth-owner: ' || true)
  if [ -n "$line" ]; then
    printf '%s\n' "${line#* hearth-owner: }"
  elif [ -n "${2:-}" ] && grep -qxF -- "$2" "$1"; then
    echo legacy
  fi
}

# --- below a tree someone less privileged owns ----------------------------------------------------------------
# The tree's root directory itself must be a real directory; everything below it is done as the tree's owner, so a
# link planted or swapped in below it reaches only what that owner can reach anyway. A tree whose owner is root
# (a container's tree before its first boot, or an id-mapped one) is only touched while nothing runs in it: the
# caller says so with HEARTH_TREE_IDLE=1, and then no path component below the root may be a link.
# hearth_below_write ROOT REL MODE DIRMODE < SRC: runs in a child shell as the tree's owner, in ROOT (see
# hearth_run_below); ROOT is for messages. Exits 0 when ROOT/REL already held SRC, 10 when it wrote it.
hearth_below_write() {
  set -euo pipefail
  umask 077
  local root=$1 rel=$2 mode=$3 dmode=$4 dir=. p=. part parts tmp
  case $rel in */*) dir=${rel%/*} ;; esac
  if [ "$(id -u)" = 0 ]; then
    IFS=/ read -r -a parts <<<"$rel"
    for part in "${parts[@]}"; do
      p=$p/$part
      if [ -L "$p" ]; then
        echo "hearth: refusing to write through link $root/${p#./}" >&2
        exit 65
      fi
    done
  fi
  if [ "$dir" != . ]; then
    p=.
    IFS=/ read -r -a parts <<<"$dir"
    for part in "${parts[@]}"; do
      p=$p/$part
      if [ ! -d "$p" ]; then mkdir -m "$dmode" -- "$p"; fi
    done
  fi
  tmp=$(mktemp -- "$dir/.hearth.XXXXXXXXXX")
  # shellcheck disable=SC2064 # the name is fixed now
  trap "rm -f -- '$tmp'" EXIT
  cat >"$tmp"
  chmod -- "$mode" "$tmp"
  if [ -f "$rel" ] && [ ! -L "$rel" ] && cmp -s -- "$tmp" "$rel" &&
    [ "$(stat -c '%a %u %g' -- "$rel")" = "$(stat -c '%a %u %g' -- "$tmp")" ]; then
    exit 0
  fi
  mv -f -T -- "$tmp" "$rel"
  trap - EXIT
  exit 10
}

# hearth_tree_owner ROOT: "<uid> <gid>" of ROOT, a real directory; dies when ROOT is root-owned and not idle.
hearth_tree_owner() {
  local own
  if [ ! -d "$1" ] || [ -L "$1" ]; then hearth_die 65 "$1 is not a directory (or is a link)"; fi
  own=$(stat -c '%u %g' -- "$1")
  if [ "${own%% *}" = 0 ] && [ "${HEARTH_TREE_IDLE:-0}" != 1 ]; then
    hearth_die 65 "refusing to write below $1: it is owned by root while something may run in it"
  fi
  printf '%s\n' "$own"
}

# hearth_run_below ROOT CMD...: runs CMD as ROOT's owner (no supplementary groups, no new privileges).
hearth_run_below() {
  local own
  own=$(hearth_tree_owner "$1")
  # Root enters the tree (its owner may not be able to pass through the directories above it), then drops to the
  # owner: whatever the path resolves to by now, the command can reach only what that owner can.
  (
    cd -P -- "$1"
    shift
    exec setpriv --reuid="${own%% *}" --regid="${own#* }" --clear-groups --no-new-privs -- "$@"
  )
}

# hearth_put_below ROOT REL MODE [DIRMODE] < SRC (a redirect, never a pipe: it must run in the main shell): makes ROOT/REL hold stdin with MODE (as ROOT's owner; a step
# when it changed).
hearth_put_below() {
  local rc=0
  hearth_run_below "$1" bash --noprofile --norc -c "$(declare -f hearth_below_write)"'
hearth_below_write "$@"' hearth-below "$1" "$2" "$3" "${4:-0755}" || rc=$?
  case $rc in
    0) ;;
    10)
      hearth_step
      hearth_changed=$((hearth_changed + 1))
      hearth_say "wrote $1/$2"
      ;;
    *) hearth_die 65 "could not write $1/$2 (exit $rc)" ;;
  esac
}

# hearth_install_below ROOT REL MODE [DIRMODE]: hearth_put_below with the next stdin frame as the content.
hearth_install_below() {
  hearth_private_tmp
  hearth_frame "$hearth_tmp"
  hearth_put_below "$@" <"$hearth_tmp"
}

# hearth_read_below ROOT REL: prints ROOT/REL as ROOT's owner reads it (nothing when absent).
hearth_read_below() {
  hearth_run_below "$1" bash --noprofile --norc -c "$(declare -f hearth_below_read)"'
hearth_below_read "$@"' hearth-read "$2"
}

# hearth_below_read REL: in a child shell as the tree's owner, in the tree: prints REL, a regular file, or nothing.
# As root (an idle root-owned tree) no component of REL may be a link.
hearth_below_read() {
  local p=. part parts
  if [ "$(id -u)" = 0 ]; then
    IFS=/ read -r -a parts <<<"$1"
    for part in "${parts[@]}"; do
      p=$p/$part
      if [ -L "$p" ]; then return 0; fi
    done
  fi
  if [ -f "$1" ] && [ ! -L "$1" ]; then cat -- "$1"; fi
}

# hearth_unit_file_exists UNIT: a unit file for UNIT (or its template) is installed; a unit that is not installed
# (a drop-in over a package that is absent) is not made loadable by a reload, so it must not cost one every run.
hearth_unit_file_exists() {
  local d t=$1
  case $1 in *@*.*) t=${1%%@*}@.${1##*.} ;; esac
  for d in /etc/systemd/system /run/systemd/system /usr/local/lib/systemd/system /usr/lib/systemd/system /lib/systemd/system; do
    if [ -e "$d/$1" ] || [ -e "$d/$t" ]; then return 0; fi
  done
  return 1
}

# hearth_unit_idle UNIT: nothing runs in UNIT (inactive or failed, with no main process), not even while it starts
# or stops ("activating", "deactivating" are not idle).
hearth_unit_idle() {
  case $(systemctl show -p ActiveState --value -- "$1" 2>/dev/null) in
    inactive | failed) [ "$(systemctl show -p MainPID --value -- "$1" 2>/dev/null)" = 0 ] ;;
    *) return 1 ;;
  esac
}

# hearth_mount_safe PATH: a file system may be mounted at PATH: it is not a link, and every existing directory above it
# is a real directory only root can change (a mount follows links: one below a directory a service user owns could
# be pointed at /etc). Directories still missing are made by root, below ones that passed.
hearth_mount_safe() {
  local p='' part parts
  case $1 in /*) ;; *) return 0 ;; esac
  IFS=/ read -r -a parts <<<"$(hearth_parent "$1")"
  for part in "${parts[@]}"; do
    [ -n "$part" ] || continue
    p=$p/$part
    if [ ! -e "$p" ] && [ ! -L "$p" ]; then break; fi
    hearth_root_only "$p" || hearth_die 65 "refusing to mount at $1: $p is a link, not a directory, or someone other than root can change it"
  done
  if [ -L "$1" ]; then hearth_die 65 "refusing to mount at $1: it is a link"; fi
}

# --- systemd ---------------------------------------------------------------------------------------------------
# Shared daemon-reloads. systemd never merges reloads: scripts that each reload queue one reload after another in
# PID 1, and every other systemctl call waits behind that queue. So whether a reload is due is read from systemd's own
# state twice: before, and again after taking the host's reload lock (hearth_lock daemon-reload, below the root-only
# /run/hearth/lock, held only around the reload). A reload another script ran while this one waited, which started
# after this one's files were in place, left these units loaded from their current files: nothing is left to do.
# No record of reloads is kept, so none can claim one that failed: a failed reload ends the script (releasing the
# lock) and leaves the units stale, and a script killed holding the lock releases it with its open file.

# hearth_fragment_shadowed UNIT FRAG: UNIT is loaded from FRAG though a regular file /etc/systemd/system/UNIT (or of
# FRAG's name) outranks it (systemd.unit(5)); systemd 252 does not call that NeedDaemonReload.
hearth_fragment_shadowed() {
  local f
  case ${2%/*} in
    /etc/systemd/system.attached | /run/systemd/system | /run/systemd/generator | /usr/local/lib/systemd/system | \
      /usr/lib/systemd/system | /lib/systemd/system | /run/systemd/generator.late) ;;
    *) return 1 ;;
  esac
  for f in "/etc/systemd/system/$1" "/etc/systemd/system/${2##*/}"; do
    if [ "$f" != "$2" ] && [ -f "$f" ] && [ ! -L "$f" ]; then return 0; fi
  done
  return 1
}

# hearth_reload_due MODE UNIT...: succeeds when a reload is due for any UNIT, read in one systemctl call. MODE:
#   present      UNIT's files are installed: due when it is stale (NeedDaemonReload; not for a masked unit, nor for
#                a bad-setting or error one with drop-ins: systemd 252 says yes for ever there), shadowed
#                (hearth_fragment_shadowed), or not-found though a unit file for it is installed.
#   gone         UNIT's files were removed: due when systemd still holds it stale (NeedDaemonReload).
#   dropin:PATH  as present, and due when UNIT is loaded without drop-in PATH (systemd finds a drop-in directory
#                created since its last reload only on the next one, and NeedDaemonReload does not say so).
# An answer that cannot be read counts as due. Sets hearth_reload_shadowed (1: a UNIT is shadowed) and
# hearth_reload_bad (each UNIT systemd could not load, with its error). A file rewritten within one timestamp tick
# of a reload can stay stale with NeedDaemonReload=no: the per-unit lock and a script's length make it unlikely.
hearth_reload_due() {
  local mode=$1 out line n=0 load='' need='' drops='' frag='' err='' u due=1
  shift
  local units=("$@")
  hearth_reload_shadowed=0 hearth_reload_bad=''
  out=$(systemctl show -p LoadState -p NeedDaemonReload -p DropInPaths -p FragmentPath -p LoadError -- "${units[@]}" 2>/dev/null) || return 0
  while IFS= read -r line; do
    case $line in
      LoadState=*) load=${line#*=} ;;
      NeedDaemonReload=*) need=${line#*=} ;;
      DropInPaths=*) drops=${line#*=} ;;
      FragmentPath=*) frag=${line#*=} ;;
      LoadError=*) err=${line#*=} ;;
      '')
        [ -n "$load$need" ] || continue
        [ "$n" -lt "${#units[@]}" ] || return 0
        u=${units[n]}
        n=$((n + 1))
        case $load in bad-setting | error) hearth_reload_bad+="${hearth_reload_bad:+; }$u: $load ($err)" ;; esac
        case $mode:$need:$load in
          *:no:* | [pd]*:*:masked) ;;
          [pd]*:*:bad-setting | [pd]*:*:error) [ -n "$drops" ] || due=0 ;;
          *) due=0 ;;
        esac
        case $mode in
          gone) ;;
          present | dropin:*)
            if [ -n "$frag" ] && hearth_fragment_shadowed "$u" "$frag"; then
              due=0 hearth_reload_shadowed=1
            fi
            if [ "$load" = not-found ] && hearth_unit_file_exists "$u"; then due=0; fi
            case $mode:$load in dropin:*:loaded)
              case " $drops " in *" ${mode#dropin:} "*) ;; *) due=0 ;; esac
              ;;
            esac
            ;;
          *) hearth_die 70 "bad reload mode: $mode" ;;
        esac
        load='' need='' drops='' frag='' err=''
        ;;
      *) ;;
    esac
  done < <(printf '%s\n\n' "$out")
  [ "$n" != "${#units[@]}" ] || return "$due"
}

# hearth_daemon_reload [--forget KEY] [--gone | --dropin PATH] UNIT...: reloads systemd when hearth_reload_due says so
# (MODE present, gone or dropin:PATH) for any UNIT, unless a reload that ran while this script waited for the reload
# lock covered it. A level: a run killed between a write and the reload still reloads next time. --forget: a UNIT is
# shadowed, so it runs another file: record KEY is forgotten before the reload (the converge restarts it). A UNIT
# systemd cannot load ends the run (MODE present, dropin).
hearth_daemon_reload() {
  local mode=present key='' hearth_lock_fd u l s
  if [ "${1-}" = --forget ]; then
    key=$2
    shift 2
  fi
  case ${1-} in
    --gone)
      mode=gone
      shift
      ;;
    --dropin)
      mode=dropin:${2:?hearth_daemon_reload --dropin needs a path}
      shift 2
      ;;
  esac
  [ "$#" -gt 0 ] || return 0
  if hearth_reload_due "$mode" "$@"; then
    if [ -n "$key" ] && [ "$hearth_reload_shadowed" = 1 ]; then hearth_forget "$key"; fi
    hearth_lock daemon-reload
    if hearth_reload_due "$mode" "$@"; then
      systemctl daemon-reload
      hearth_step
      # Not `systemctl show`: PID 1 would keep the UnitFileState it read now after the converge enables the unit.
      hearth_reload_bad=''
      while read -r u l s _; do
        case $u in *.*) ;; *) l=$s ;; esac
        case $l in bad-setting | error) hearth_reload_bad=1 ;; esac
      done < <(systemctl list-units --all --plain --no-legend -- "$@" 2>/dev/null || true)
      if [ -n "$hearth_reload_bad" ]; then hearth_reload_due "$mode" "$@" || true; fi
    fi
    exec {hearth_lock_fd}>&-
  fi
  if [ "$mode" != gone ] && [ -n "$hearth_reload_bad" ]; then hearth_die 65 "systemd cannot load $hearth_reload_bad"; fi
}

# Read-only checks of a SystemdService (drift checks: see the last section).
# hearth_check_unit UNIT ENABLED ACTIVE [OWN_DROPIN...]: UNIT is not masked, overridden by nobody else, loaded from its files as they are now (NeedDaemonReload
# no, not shadowed), enabled as ENABLED ("enabled", "disabled", or "-": not hearth's to say) and ACTIVE ("active", "inactive" or "-").
# Enabled as the converge reads it: `systemctl is-enabled` succeeds (enabled, static, alias, ...).
hearth_check_unit() {
  local u=$1 k v load='' file='' need='' active='' frag='' dropins='' d o own on=0
  # One question to systemd for all the answers (a host check asks it about every unit).
  while IFS='=' read -r k v; do
    case $k in
      LoadState) load=$v ;;
      UnitFileState) file=$v ;;
      NeedDaemonReload) need=$v ;;
      ActiveState) active=$v ;;
      FragmentPath) frag=$v ;;
      DropInPaths) dropins=$v ;;
    esac
  done < <(systemctl show -p LoadState,UnitFileState,NeedDaemonReload,ActiveState,FragmentPath,DropInPaths -- "$u" 2>/dev/null || true)
  # What overrides the unit by hand: a copy of it under /run, a drop-in in /etc or /run that is not hearth's (OWN...:
  # the drop-ins hearth writes for it), a property set with `systemctl set-property`. Packages' drop-ins under /usr
  # are the host's.
  if [ -n "$frag" ] && hearth_fragment_shadowed "$u" "$frag"; then
    hearth_drift "unit $u file" "loaded from /etc/systemd/system/$u" "loaded from $frag (no daemon-reload since)"
  else
    case $frag in
      /run/* | /etc/systemd/system.control/*) hearth_drift "unit $u file" "hearth's" "$frag overrides it" ;;
    esac
  fi
  for d in $dropins; do
    case $d in /etc/* | /run/*) ;; *) continue ;; esac
    own=0
    for o in "${@:4}"; do if [ "$d" = "$o" ]; then own=1; fi; done
    if [ "$own" = 0 ]; then hearth_drift "unit $u drop-in $d" absent "present (not hearth's)"; fi
  done
  case $load:$file in
    masked:* | *:masked | *:masked-runtime)
      hearth_drift "unit $u" "not masked" "${file:-masked}"
      return 0
      ;;
  esac
  # As `systemctl is-enabled` succeeds.
  case $file in enabled | enabled-runtime | static | alias | indirect | generated | transient) on=1 ;; esac
  case $2:$on in
    -:* | enabled:1 | disabled:0) ;;
    *) hearth_drift "unit $u enabled" "$2" "${file:-not found}" ;;
  esac
  if [ "$load" != loaded ]; then
    hearth_drift "unit $u loaded" loaded "${load:-unknown}"
    return 0
  fi
  if [ "$need" != no ]; then hearth_drift "unit $u NeedDaemonReload" no "${need:-unknown}"; fi
  case $3:$active in
    -:* | active:active | active:reloading | inactive:inactive | inactive:failed) ;;
    *) hearth_drift "unit $u active" "$3" "${active:-unknown}" ;;
  esac
}

# hearth_check_dropin UNIT PATH: the loaded UNIT (a packaged one) includes the drop-in PATH and is not stale; nothing
# when UNIT is not installed (its package is absent: the drop-in waits for it, as its converge does).
hearth_check_dropin() {
  local found
  found=$(systemctl show -p LoadState --value -- "$1" 2>/dev/null || true)
  case $found in
    masked) hearth_drift "unit $1" "not masked" masked ;;
    loaded)
      case " $(systemctl show -p DropInPaths --value -- "$1" 2>/dev/null) " in
        *" $2 "*) ;;
        *) hearth_drift "unit $1 drop-in $2" loaded "not loaded (no daemon-reload since it was written)" ;;
      esac
      found=$(systemctl show -p NeedDaemonReload --value -- "$1" 2>/dev/null || true)
      if [ "$found" != no ]; then hearth_drift "unit $1 NeedDaemonReload" no "${found:-unknown}"; fi
      ;;
  esac
}

# hearth_check_unit_applied KEY UNIT N PATH...: what the service runs is what hearth last applied: the digest of PATH...
# (unit files, credentials, config files, watched files, as the converge digests them) is the one recorded under KEY
# when the converge last (re)started UNIT ("-": it restarts none; KEY names it then); a record of two words,
# "<all> <first N paths>", is a reloadable service's, whose first N paths (unit files, credentials) restart it.
hearth_check_unit_applied() {
  local key=$1 unit=$2 n=$3 rec d u
  shift 3
  if [ "$unit" = - ]; then unit=${key#systemd/}; fi
  # Root reads them only below directories only root can change (a swapped-in FIFO or link there could hold it up
  # or lead it elsewhere): a path that is not is reported, and the digest is not taken.
  for d in "$@"; do hearth_check_root_path "$d" || return 0; done
  rec=$(hearth_applied "$key")
  d=$(hearth_digest "$@")
  if [ -z "$rec" ]; then
    hearth_drift "unit $unit applied content" "recorded by its converge" "none recorded"
    return 0
  fi
  case $rec in
    *" "*) u=$(hearth_digest "${@:1:n}") ;;
    *) u= ;;
  esac
  if [ "$rec" != "$d${u:+ $u}" ]; then
    # No digest shown: it covers credentials, and even part of a hash of a secret says something about it.
    hearth_drift "unit $unit applied content" "as hearth last applied it" "its files changed since"
  fi
}

# hearth_check_credentials DIR NAME...: DIR holds a service's credentials (their content and mode are checked as files):
# a real 0700 root directory holding no file but the NAMEs; with no NAME, DIR is absent (or empty).
hearth_check_credentials() {
  local dir=$1 f n keep st
  shift
  if [ ! -e "$dir" ] && [ ! -L "$dir" ]; then
    if [ "$#" -gt 0 ]; then hearth_drift "$dir" present absent; fi
    return 0
  fi
  if [ -L "$dir" ] || [ ! -d "$dir" ]; then
    hearth_drift "$dir" "a directory" "$(stat -c %F -- "$dir")"
    return 0
  fi
  st=$(stat -c '%a %U %G' -- "$dir")
  if [ "$#" -gt 0 ] && [ "$st" != "700 root root" ]; then hearth_drift "$dir mode" "0700 root:root" "$(printf '%04o' "$((8#${st%% *}))") ${st#* }"; fi
  for f in "$dir"/* "$dir"/.[!.]* "$dir"/..?*; do
    if [ ! -f "$f" ] && [ ! -L "$f" ]; then continue; fi
    keep=0
    for n in "$@"; do
      if [ "${f##*/}" = "$n" ]; then keep=1; fi
    done
    if [ "$keep" = 0 ]; then hearth_drift "credential $f" absent "present (not declared)"; fi
  done
}

# --- ZFS datasets ----------------------------------------------------------------------------------------------
# A dataset's mark is its own (local) user property hearth:owner: children inherit user properties, so an inherited
# value marks nothing. Datasets of earlier releases carry hearth:managed=yes instead, read as the "legacy" mark.

# hearth_zfs_exists NAME: NAME (a dataset or a snapshot) exists.
hearth_zfs_exists() { zfs list -H -o name "$1" >/dev/null 2>&1; }

# hearth_zfs_dependents DS POOL: every file system a recursive (-R) destroy of DS would take along (DS not included): DS's
# descendants, every clone of a snapshot of any of them, and their descendants and clones in turn.
hearth_zfs_dependents() {
  zfs list -H -o name,origin -t filesystem -r "$2" | awk -F '\t' -v ds="$1" '
    { name[NR] = $1; origin[NR] = $2; n = NR }
    END {
      member[ds] = 1
      changed = 1
      while (changed) {
        changed = 0
        for (i = 1; i <= n; i++) {
          x = name[i]
          if (x in member) continue
          p = x
          while (index(p, "/") > 0) {
            sub(/\/[^\/]*$/, "", p)
            if (p in member) { member[x] = 1; changed = 1; break }
          }
          if (x in member) continue
          if (origin[i] != "-") {
            split(origin[i], o, "@")
            if (o[1] in member) { member[x] = 1; changed = 1 }
          }
        }
      }
      for (x in member) if (x != ds) print x
    }' | sort -r
}

# hearth_zfs_mount_places DS [MOUNTPOINT]: before DS is created, cloned or renamed into place (with any parent that
# `-p` creates), every place zfs would mount them passes hearth_mount_safe: MOUNTPOINT (an explicit one) for DS, the
# inherited one (below the nearest existing ancestor's mountpoint) for the rest.
hearth_zfs_mount_places() {
  local ds=$1 explicit=${2:-} a=$1 base d mp
  local missing=()
  while [ "$a" != "${a%/*}" ] && ! hearth_zfs_exists "$a"; do
    missing+=("$a")
    a=${a%/*}
  done
  base=$(zfs get -H -o value mountpoint "$a")
  for d in "${missing[@]}"; do
    if [ "$d" = "$ds" ] && [ -n "$explicit" ]; then
      mp=$explicit
    else
      case $base in /*) mp=${base%/}/${d#"$a"/} ;; *) continue ;; esac
    fi
    case $mp in /*) hearth_mount_safe "$mp" ;; esac
  done
}

# hearth_zfs_get DS PROP: PROP's value as `zfs get -Hp` prints it.
hearth_zfs_get() { zfs get -H -p -o value "$2" "$1"; }

# hearth_zfs_feature POOL FEATURE: POOL has FEATURE enabled or active.
hearth_zfs_feature() {
  local state
  state=$(zpool get -H -o value "feature@$2" "$1" 2>/dev/null) || return 1
  [ "$state" = enabled ] || [ "$state" = active ]
}

# hearth_zfs_mark DS: the owner id DS itself carries, "legacy" for an earlier release's mark, or nothing.
hearth_zfs_mark() {
  local v
  v=$(zfs get -H -o value -s local hearth:owner "$1")
  if [ -n "$v" ]; then
    printf '%s\n' "$v"
  elif [ "$(zfs get -H -o value -s local hearth:managed "$1")" = yes ]; then
    echo legacy
  fi
}

# hearth_zfs_own DS: marks DS as this resource's (hearth:owner) and drops an earlier release's mark (a step each).
hearth_zfs_own() {
  if [ "$(zfs get -H -o value -s local hearth:owner "$1")" != "$hearth_owner" ]; then
    zfs set "hearth:owner=$hearth_owner" "$1"
    hearth_step
    hearth_say "marked $1 as owned by $hearth_owner"
  fi
  if [ -n "$(zfs get -H -o value -s local hearth:managed "$1")" ]; then
    zfs inherit hearth:managed "$1"
    hearth_step
  fi
  if [ -n "$(zfs get -H -o value -s local hearth:kept "$1")" ]; then
    zfs inherit hearth:kept "$1"
    hearth_step
  fi
}

# hearth_zfs_disown DS: releases DS, keeping its data: marks it hearth:kept (who kept it), then removes every other
# hearth:* property it carries itself, hearth:owner last (so a run killed on the way is finished by the next, which
# still finds the mark). A kept dataset belongs to no resource, and no recursive destroy of a parent takes it along.
hearth_zfs_disown() {
  local p props
  if [ "$(zfs get -H -o value -s local hearth:kept "$1")" != "$hearth_owner" ]; then
    zfs set "hearth:kept=$hearth_owner" "$1"
    hearth_step
  fi
  props=$(zfs get -H -o property -s local all "$1")
  for p in $props; do
    case $p in hearth:owner | hearth:kept | hearth:*[!a-z0-9_.:+-]*) ;; hearth:*)
      zfs inherit "$p" "$1"
      hearth_step
      ;;
    esac
  done
  if [ -n "$(zfs get -H -o value -s local hearth:owner "$1")" ]; then
    zfs inherit hearth:owner "$1"
    hearth_step
  fi
}

# hearth_zfs_has DS PROP=VALUE: DS has VALUE (as `zfs get -Hp` prints it) as its own (local) value of PROP.
hearth_zfs_has() {
  [ "$(zfs get -H -p -o value,source "${2%%=*}" "$1")" = "${2#*=}"$'\t'local ]
}

# hearth_zfs_set DS PROP=VALUE: sets PROP on DS unless hearth_zfs_has it already (a step).
hearth_zfs_set() {
  if ! hearth_zfs_has "$1" "$2"; then
    zfs set "$2" "$1"
    hearth_step
    hearth_say "set $2 on $1"
  fi
}

# hearth_zfs_inherit DS PROP: drops DS's own value of PROP (a step when it had one).
hearth_zfs_inherit() {
  if [ "$(zfs get -H -o source "$2" "$1")" = local ]; then
    zfs inherit "$2" "$1"
    hearth_step
    hearth_say "inherit $2 on $1"
  fi
}

# hearth_zfs_unmount DS: unmounts DS when it is mounted (zfs-fuse calls a dataset busy for a moment after a file on
# it was closed, so it is tried for a while).
hearth_zfs_unmount() {
  if [ "$(zfs get -H -o value mounted "$1")" != yes ]; then return 0; fi
  for _ in $(seq 1 50); do
    if zfs unmount "$1" 2>/dev/null; then
      hearth_step
      return 0
    fi
    sleep 0.2
  done
  zfs unmount "$1"
  hearth_step
}

# hearth_zfs_mount DS: mounts DS when ZFS would (canmount=on, an absolute mountpoint) and it is not mounted.
hearth_zfs_mount() {
  if [ "$(zfs get -H -o value canmount "$1")" = on ] && [[ $(zfs get -H -o value mountpoint "$1") == /* ]] &&
    [ "$(zfs get -H -o value mounted "$1")" = no ]; then
    hearth_mount_safe "$(zfs get -H -o value mountpoint "$1")"
    zfs mount "$1"
    hearth_step
    hearth_say "mounted $1"
  fi
}

# hearth_zfs_snapshot_before DS REASON: takes DS@hearth-<UTC time to the nanosecond> before a change, once per
# REASON (a word naming the change, e.g. a digest of what is set): the snapshot's name is recorded before it is
# taken, so a run killed after taking it takes no second one, and a run killed before finds none and takes it.
hearth_zfs_snapshot_before() {
  local key rec label
  key=zfs-before/${1//\//+}
  rec=$(hearth_applied "$key")
  if [ "${rec% *}" = "$2" ] && hearth_zfs_exists "$1@${rec##* }"; then return 0; fi
  label=hearth-$(date -u +%Y%m%dT%H%M%S.%NZ)
  hearth_record "$key" "$2 $label"
  zfs snapshot "$1@$label"
  hearth_step
  hearth_say "snapshot $1@$label"
}

# hearth_zfs_forget DS: drops what hearth_zfs_snapshot_before recorded for DS.
hearth_zfs_forget() {
  hearth_forget "zfs-before/${1//\//+}"
}

# hearth_check_zfs_dataset DS OWNER [PROP=VALUE...]: DS exists and carries OWNER as its own hearth:owner mark, each PROP
# has VALUE (as `zfs get -Hp` prints it) set on DS itself, and DS is mounted where ZFS mounts it (canmount=on, an
# absolute mountpoint). Read-only: zfs get and zfs list only.
hearth_check_zfs_dataset() {
  local ds=$1 owner=$2 kv p want got found top
  shift 2
  if ! zfs list -H -o name "${ds%%/*}" >/dev/null; then hearth_die 69 "pool ${ds%%/*} is not available (is ZFS running and the pool imported?)"; fi
  if ! hearth_zfs_exists "$ds"; then
    hearth_drift "dataset $ds" present absent
    return 0
  fi
  found=$(zfs get -H -o value -s local hearth:owner "$ds")
  if [ "$found" != "$owner" ]; then hearth_drift "dataset $ds owner mark" "$owner" "${found:-none}"; fi
  for kv in "$@"; do
    p=${kv%%=*}
    want=${kv#*=}
    got=$(zfs get -H -p -o value,source "$p" "$ds")
    if [ "$got" = "$want"$'\t'local ]; then continue; fi
    found=${got%%$'\t'*}
    case ${got#*$'\t'} in
      local) ;;
      -) found="$found (not set)" ;;
      *) found="$found (${got#*$'\t'})" ;;
    esac
    hearth_drift "dataset $ds $p" "$want" "$found"
  done
  if [ "$(zfs get -H -o value canmount "$ds")" = on ]; then
    p=$(zfs get -H -o value mountpoint "$ds")
    if [[ $p == /* ]] && [ "$(zfs get -H -o value mounted "$ds")" != yes ]; then
      hearth_drift "dataset $ds mounted" "at $p" "not mounted"
    elif [[ $p == /* ]]; then
      # Mounted, and what is seen at the mountpoint is the dataset (not something mounted over it).
      top=$(findmnt -n -o SOURCE --mountpoint "$p" 2>/dev/null | tail -n 1 || true)
      if [ -n "$top" ] && [ "$top" != "$ds" ]; then hearth_drift "dataset $ds mounted" "seen at $p" "hidden under $top mounted over it"; fi
    fi
  fi
}

# hearth_check_zfs_origin DS ORIGIN: a clone's origin, reported (not drift) when DS no longer comes from ORIGIN (it
# was promoted, or existed before): ORIGIN is used only when the dataset is created.
hearth_check_zfs_origin() {
  local found
  if ! hearth_zfs_exists "$1"; then return 0; fi
  found=$(zfs get -H -o value origin "$1")
  if [ "$found" != "$2" ]; then hearth_check_info "dataset $1 origin" "$found (declared $2, used only when it was created)"; fi
}

# hearth_check_zfs_encrypted DS: DS is encrypted and its key is loaded.
hearth_check_zfs_encrypted() {
  local found
  if ! hearth_zfs_exists "$1"; then return 0; fi
  found=$(zfs get -H -o value encryption "$1")
  if [ "$found" = off ] || [ "$found" = - ]; then hearth_drift "dataset $1 encryption" aes-256-gcm "$found"; return 0; fi
  found=$(zfs get -H -o value keystatus "$1")
  if [ "$found" != available ]; then hearth_drift "dataset $1 key" loaded "$found"; fi
}

# --- containers (NspawnContainer) ------------------------------------------------------------------------------
# A container's tree (/var/lib/machines/<machine>) is read only as its owner (hearth_run_below), never by root through
# a path: a link planted inside is reported, never followed. A tree owned by root is read only while it is idle.

# hearth_below_stat REL: in a child shell as the tree's owner, in the tree: one line describing REL without following
# a link at it or above it: "file <octal mode> <sha256>", "link <component> <target>", "absent" or "other <type>".
hearth_below_stat() {
  local p=. part parts
  IFS=/ read -r -a parts <<<"$1"
  for part in "${parts[@]}"; do
    p=$p/$part
    if [ -L "$p" ]; then
      printf 'link %s %s\n' "${p#./}" "$(readlink -- "$p")"
      return 0
    fi
  done
  if [ ! -e "$1" ]; then echo absent; return 0; fi
  if [ ! -f "$1" ]; then printf 'other %s\n' "$(stat -c %F -- "$1")"; return 0; fi
  printf 'file %04o %s\n' "$((8#$(stat -c %a -- "$1")))" "$(sha256sum <"$1" | cut -d' ' -f1)"
}

# hearth_below_holds ROOT REL MODE SRC: ROOT/REL, read as the tree's owner, is a regular file (no link at it or above
# it) with MODE (4 octal digits) holding SRC's content (SRC a root-only file). False too when the tree may not be read.
hearth_below_holds() {
  local st
  st=$(hearth_run_below "$1" bash --noprofile --norc -c "$(declare -f hearth_below_stat)"'
hearth_below_stat "$@"' hearth-stat "$2") || return 1
  [ "$st" = "file $3 $(sha256sum <"$4" | cut -d' ' -f1)" ]
}

# hearth_check_tree ROOT UNIT: ROOT (a container's tree, run by UNIT) may be read below: a real directory below
# directories only root can change, owned by someone other than root or idle. Fails (after reporting) otherwise.
hearth_check_tree() {
  hearth_check_root_path "$1" || return 1
  if [ -L "$1" ] || [ ! -d "$1" ]; then
    hearth_drift "$1" "a directory" "$(if [ -L "$1" ]; then echo a link; elif [ -e "$1" ]; then echo not a directory; else echo absent; fi)"
    return 1
  fi
  # A tree others may change is anyone's to rewrite (its /etc, its keys): drift, whatever is inside.
  if (((8#$(stat -c %a -- "$1") & 8#022) != 0)); then hearth_drift "$1 mode" "writable by its owner only" "$(stat -c %a -- "$1")"; fi
  if [ "$(stat -c %u -- "$1")" = 0 ] && ! hearth_unit_idle "$2"; then
    hearth_check_info "$1" "files inside not checked: the tree is owned by root while the container runs"
    return 1
  fi
}

# hearth_check_below_file ROOT REL SHA256 MODE [DESIRED]: ROOT/REL, read as the tree's owner (hearth_check_tree
# passed), is a regular file (no link at it or above it) with MODE and content whose SHA-256 is SHA256 (any, for "-"); DESIRED names
# that content in a report (a content recorded on the host). Fails when REL is not a regular file.
hearth_check_below_file() {
  local root=$1 rel=$2 want=$3 mode=$4 st found
  st=$(HEARTH_TREE_IDLE=1 hearth_run_below "$root" bash --noprofile --norc -c "$(declare -f hearth_below_stat)"'
hearth_below_stat "$@"' hearth-stat "$rel")
  case $st in
    "file "*)
      st=${st#file }
      found=${st#* }
      if [ "${st%% *}" != "$mode" ]; then hearth_drift "$root/$rel mode" "$mode" "${st%% *}"; fi
      if [ "$want" = - ]; then
        :
      elif [ -n "${5:-}" ] && [ "$found" != "$want" ]; then
        hearth_drift "$root/$rel content" "$5" "changed since"
      elif [ "$found" != "$want" ]; then
        hearth_drift "$root/$rel content" "sha256 ${want:0:12}" "sha256 ${found:0:12}"
      fi
      return 0
      ;;
    "link $rel "*) hearth_drift "$root/$rel" "a file" "a link to ${st#"link $rel "}" ;;
    "link "*)
      st=${st#link }
      hearth_drift "$root/$rel" "a file" "$root/${st%% *} is a link to ${st#* }"
      ;;
    absent) hearth_drift "$root/$rel" present absent ;;
    *) hearth_drift "$root/$rel" "a regular file" "${st#other }" ;;
  esac
  return 1
}

# hearth_check_nspawn_files MACHINE [REL SHA256 MODE]...: inside the tree of container MACHINE, read as its owner: each
# REL hearth puts there, then the identity the converge made (its mark holds the token recorded under
# nspawn-identity/MACHINE, its SSH host key is the one recorded under nspawn-hostkey/MACHINE).
hearth_check_nspawn_files() {
  local m=$1 root=/var/lib/machines/$1 token key found
  shift
  hearth_check_tree "$root" "systemd-nspawn@$m.service" || return 0
  while [ "$#" -ge 3 ]; do
    hearth_check_below_file "$root" "$1" "$2" "$3" || true
    shift 3
  done
  token=$(hearth_applied "nspawn-identity/$m")
  key=$(hearth_applied "nspawn-hostkey/$m")
  if [ -z "$token" ] || [ -z "$key" ]; then
    hearth_drift "container $m identity" "recorded on the host" "none recorded"
    return 0
  fi
  hearth_check_below_file "$root" etc/.hearth-container "$(printf '%s %s\n' "$m" "$token" | sha256sum | cut -d' ' -f1)" 0644 "as hearth applied it" || true
  if hearth_check_below_file "$root" etc/ssh/ssh_host_ed25519_key.pub - 0644; then
    found=$(HEARTH_TREE_IDLE=1 hearth_read_below "$root" etc/ssh/ssh_host_ed25519_key.pub | head -n 1 | cut -d' ' -f1,2)
    if [ "$found" != "$key" ]; then hearth_drift "container $m SSH host key" "as hearth recorded it (...${key: -12})" "changed since (...${found: -12})"; fi
  fi
}

# hearth_check_nspawn_unit MACHINE: the container's unit is enabled, active and loaded from its current files, and
# machines.target (which starts it at boot) is enabled.
hearth_check_nspawn_unit() {
  local u=systemd-nspawn@$1.service found
  found=$(systemctl is-enabled -- "$u" 2>/dev/null) || true
  if [ "$found" != enabled ]; then hearth_drift "unit $u enabled" enabled "${found:-unknown}"; fi
  found=$(systemctl is-active -- "$u" 2>/dev/null) || true
  if [ "$found" != active ]; then hearth_drift "unit $u active" active "${found:-unknown}"; fi
  found=$(systemctl show -p NeedDaemonReload --value -- "$u" 2>/dev/null) || true
  if [ "$found" = yes ]; then hearth_drift "unit $u loaded" "from its current files" "stale (needs a daemon-reload)"; fi
  found=$(systemctl is-enabled machines.target 2>/dev/null) || true
  if [ "$found" != enabled ]; then hearth_drift "unit machines.target enabled" enabled "${found:-unknown}"; fi
}

# --- finding what a resource owns by its mark --------------------------------------------------------------------
# hearth_marked FILE...: prints each FILE (a regular file, not a link) whose "# hearth-owner:" (or "; hearth-owner:")
# line names this resource or one of its aliases. What a renamed object left behind is found by its mark, never by
# a name that another resource's object may carry too.
hearth_marked() {
  local f found a
  for f in "$@"; do
    if [ ! -f "$f" ] || [ -L "$f" ]; then continue; fi
    # Only the file's owner line counts (the first one), never a comment further down that repeats its words.
    found=$(hearth_file_owner "$f")
    if [ -z "$found" ] || [ "$found" = legacy ]; then continue; fi
    if [ "$found" = "$hearth_owner" ]; then printf '%s\n' "$f"; continue; fi
    for a in "${hearth_aliases[@]}"; do
      if [ "$found" = "$a" ]; then printf '%s\n' "$f"; break; fi
    done
  done
}

# hearth_clear DIR [NAME...]: removes every file and link directly in DIR (below a root-only directory) except the
# NAMEs; given no NAME, then DIR itself once it is empty. Subdirectories are left alone.
hearth_clear() {
  local dir=$1 f n keep
  shift
  if [ ! -d "$dir" ] || [ -L "$dir" ]; then return 0; fi
  for f in "$dir"/* "$dir"/.[!.]* "$dir"/..?*; do
    if [ ! -f "$f" ] && [ ! -L "$f" ]; then continue; fi
    keep=0
    for n in "$@"; do
      if [ "${f##*/}" = "$n" ]; then keep=1; fi
    done
    if [ "$keep" = 0 ]; then hearth_remove "$f"; fi
  done
  if [ "$#" = 0 ]; then hearth_rmdir "$dir"; fi
}

# hearth_applied_keys PREFIX: prints every key recorded directly under PREFIX (e.g. "systemd" -> "systemd/web.service").
hearth_applied_keys() {
  hearth_key "$1"
  local f
  hearth_records_trusted "/var/lib/hearth/applied/$1/-" || hearth_records_refuse "/var/lib/hearth/applied/$1/"
  for f in "/var/lib/hearth/applied/$1"/*; do
    if [ -f "$f" ] && [ ! -L "$f" ]; then printf '%s\n' "$1/${f##*/}"; fi
  done
}

# hearth_private_tmpdir: sets hearth_tmp to a new root-only scratch directory outside any tree someone else controls,
# removed on exit (e.g. to make keys that are then put below a tree as its owner).
hearth_private_tmpdir() {
  hearth_dir /run/hearth/tmp 0700
  hearth_reap /run/hearth/tmp
  hearth_tmp=$(mktemp -d -- "/run/hearth/tmp/.hearth.$$.XXXXXXXXXX")
  hearth_tmps+=("$hearth_tmp")
}

# --- Debian packages (DebianPackages) --------------------------------------------------------------------------
# State under /var/lib/hearth/applied, each file recording the owner id, written before what it stands for is set:
# apt/declared/<package> (the resource that declares the package: the newest converge declaring it wins),
# apt/mask/<unit> (a mask this resource set), apt/mask-adopted/<unit> (a mask that was there before, recorded as this
# resource's but never lifted by it), apt/mask-pending/<unit> (a mask it wants on a unit a SystemdService's unit file
# still replaces: set by that service's delete, or by the next converge once the file is gone),
# apt/runtime-mask/<unit> (the install window's mask of a kept unit) and apt/hold/<package>. <unit> is the unit's name
# when that is a plain state key, else hearth_apt_key's encoding of it.
# A converge script sets hearth_apt_keep (its keepUnits) and hearth_apt_protect (the units never masked, an ERE).
hearth_apt_keep=()
hearth_apt_protect='^$'
hearth_apt_verdict=

# hearth_apt_key UNIT: UNIT's state key segment: UNIT itself when it is a plain key; else "x+" then UNIT with every
# character other than a letter, digit, '@', '.', ':' or '-' written as +XX (its hex code). Unit names hold no '+'.
hearth_apt_key() {
  local u=$1 out='' c i
  if [[ $u =~ ^[A-Za-z0-9][A-Za-z0-9@._:-]*$ ]]; then
    printf '%s\n' "$u"
    return 0
  fi
  for ((i = 0; i < ${#u}; i++)); do
    c=${u:i:1}
    if [[ $c =~ ^[A-Za-z0-9@.:-]$ ]]; then out+=$c; else out+=$(printf '+%02x' "'$c"); fi
  done
  printf 'x+%s\n' "$out"
}

# hearth_apt_unit_of KEY: the unit a state key (or its last segment) stands for.
hearth_apt_unit_of() {
  local k=${1##*/}
  if [[ $k != x+* ]]; then
    printf '%s\n' "$k"
    return 0
  fi
  k=${k#x+}
  printf '%b\n' "${k//+/\\x}"
}

# hearth_apt_masked UNIT: UNIT is masked (systemctl's link /etc/systemd/system/UNIT -> /dev/null).
hearth_apt_masked() { [ -L "/etc/systemd/system/$1" ] && [ "$(readlink -- "/etc/systemd/system/$1")" = /dev/null ]; }

# hearth_apt_runtime_masked UNIT: UNIT is masked until the next boot (/run/systemd/system/UNIT -> /dev/null).
hearth_apt_runtime_masked() { [ -L "/run/systemd/system/$1" ] && [ "$(readlink -- "/run/systemd/system/$1")" = /dev/null ]; }

# hearth_apt_ours KEY: the state recorded for KEY (a mask, a runtime mask, a hold) names this resource.
hearth_apt_ours() {
  local v
  v=$(hearth_applied "$1")
  [ -n "$v" ] && hearth_mine "$v"
}

# hearth_apt_our_keys PREFIX: prints the state keys under PREFIX (apt/mask, apt/runtime-mask, ...) that name this
# resource, one a line (records only: it changes nothing, so a loop may act on each key in the main shell).
hearth_apt_our_keys() {
  local k
  for k in $(hearth_applied_keys "$1"); do
    if hearth_apt_ours "$k"; then printf '%s\n' "$k"; fi
  done
}

# hearth_apt_kept UNIT KEPT...: UNIT is one of the KEPT units (the resource's keepUnits).
hearth_apt_kept() {
  local u=$1 k
  shift
  for k in "$@"; do if [ "$k" = "$u" ]; then return 0; fi; done
  return 1
}

# hearth_apt_protected UNIT: UNIT is one hearth or the host cannot live without (hearth_apt_protect): never masked.
hearth_apt_protected() { [[ $1 =~ $hearth_apt_protect ]]; }

# hearth_apt_installed PACKAGE: prints PACKAGE's installed version (held or not), nothing when not fully installed.
hearth_apt_installed() {
  # shellcheck disable=SC2016 # dpkg-query's format, not a shell expansion
  dpkg-query -W -f='${db:Status-Abbrev} ${Version}\n' -- "$1" 2>/dev/null | awk '$1 ~ /^[a-z]i$/ { print $2 }' || true
}

# hearth_apt_policy PACKAGE: apt-cache policy of exactly PACKAGE; nothing when apt knows no package of that very name
# (apt reads a name no package has as a regular expression or a glob: `lib.+` is every package starting with lib).
hearth_apt_policy() {
  local out heads
  out=$(apt-cache policy -- "$1" 2>/dev/null || true)
  heads=$(grep -- '^[^ ]' <<<"$out" || true)
  if [ "$heads" = "$1:" ]; then printf '%s\n' "$out"; fi
}

# hearth_apt_candidate PACKAGE: the version apt would install of exactly PACKAGE; nothing when it knows none.
hearth_apt_candidate() { hearth_apt_policy "$1" | awk '$1 == "Candidate:" && $2 != "(none)" { print $2 }'; }

# hearth_apt_has_version PACKAGE VERSION: apt knows exactly PACKAGE at VERSION (its version table).
hearth_apt_has_version() {
  hearth_apt_policy "$1" | awk '/^ (\*\*\*|   ) [^ ]/ { print ($1 == "***") ? $2 : $1 }' | grep -qxF -- "$2"
}

# A unit file in a package's file list (dpkg-query -L) or data archive (dpkg-deb -c, "./"-prefixed; a name may hold
# systemd's \x2d escapes), and a SysV init script.
hearth_apt_unit_re='^[.]?/(usr/)?lib/systemd/system/[A-Za-z0-9_.:@\\-]+[.](service|socket|timer|path)$'
hearth_apt_sysv_re='^[.]?/etc/init[.]d/[A-Za-z0-9_.:@-]+$'

# hearth_apt_units_from: reads a package's paths on stdin; prints its units, sorted: each unit file's name, and
# <name>.service for each SysV script /etc/init.d/<name> (".sh" dropped, as systemd's generator does) with no native
# unit of that name in the package or on the host (systemd generates that unit at boot).
hearth_apt_units_from() {
  local paths native n
  paths=$(cat)
  native=$(grep -E -- "$hearth_apt_unit_re" <<<"$paths" | sed 's|.*/||' | sort -u || true)
  {
    if [ -n "$native" ]; then printf '%s\n' "$native"; fi
    while IFS= read -r n; do
      n=${n##*/}
      case $n in '' | README | skeleton | rc | rcS | .*) continue ;; esac
      n=${n%.sh}.service
      if grep -qxF -- "$n" <<<"$native"; then continue; fi
      if [ -e "/lib/systemd/system/$n" ] || [ -e "/usr/lib/systemd/system/$n" ]; then continue; fi
      printf '%s\n' "$n"
    done < <(grep -E -- "$hearth_apt_sysv_re" <<<"$paths" || true)
  } | sort -u
}

# hearth_apt_units_installed PACKAGE: prints the units of PACKAGE as installed (its file list), sorted.
hearth_apt_units_installed() { dpkg-query -L -- "$1" 2>/dev/null | hearth_apt_units_from; }

# hearth_apt_units_deb DEB: prints the units in the .deb file DEB, sorted (tar's listing doubles a backslash).
hearth_apt_units_deb() { dpkg-deb -c -- "$1" | awk '{ print $6 }' | sed 's/\\\\/\\/g' | hearth_apt_units_from; }

# hearth_apt_find_deb DIR PACKAGE VERSION: prints the .deb of PACKAGE at VERSION in DIR, nothing when there is none.
hearth_apt_find_deb() {
  local f
  for f in "$1/$2"_*.deb; do
    if [ -f "$f" ] && [ ! -L "$f" ] && [ "$(dpkg-deb -f -- "$f" Package)" = "$2" ] && [ "$(dpkg-deb -f -- "$f" Version)" = "$3" ]; then
      printf '%s\n' "$f"
      return 0
    fi
  done
}

# hearth_apt_native_name NAME: NAME as apt and apt-mark print it (name, or name:arch), without the qualifier when that
# is the host's own architecture or "all": a foreign architecture's package keeps it (libfoo:i386).
hearth_apt_native_name() {
  local a
  a=$(dpkg --print-architecture 2>/dev/null || true)
  case $1 in
    *:all) printf '%s\n' "${1%:all}" ;;
    *:"$a") printf '%s\n' "${1%:"$a"}" ;;
    *) printf '%s\n' "$1" ;;
  esac
}

# hearth_apt_check_install DECLARED... -- SPEC...: dies, before anything changes, when installing SPEC (name=version)
# would remove a package, or change a held package that is not DECLARED (apt's own simulation says what it would do).
hearth_apt_check_install() {
  local declared=() held line p f gone=() moved=()
  while [ "$#" -gt 0 ] && [ "$1" != -- ]; do
    declared+=("$1")
    shift
  done
  shift
  held=$(apt-mark showhold 2>/dev/null | while IFS= read -r line; do hearth_apt_native_name "$line"; done || true)
  while IFS= read -r line; do
    read -r -a f <<<"$line"
    # A foreign architecture's package keeps its qualifier (libfoo:i386), as showhold prints it, and is never one of
    # the declared (native) packages.
    p=$(hearth_apt_native_name "${f[1]}")
    case ${f[0]} in
      Remv) gone+=("$p") ;;
      Inst) if [[ ${f[2]:-} == \[* ]] && grep -qxF -- "$p" <<<"$held" && ! hearth_apt_kept "$p" "${declared[@]}"; then moved+=("$p"); fi ;;
    esac
  done < <(apt-get -s -q --no-install-recommends --allow-downgrades --allow-change-held-packages install -- "$@" 2>/dev/null | grep -E '^(Inst|Remv) ' || true)
  if [ "${#gone[@]}" -gt 0 ]; then hearth_die 65 "installing $* would remove ${gone[*]}: refused (nothing was changed; declare what you want installed so apt need not remove anything)"; fi
  if [ "${#moved[@]}" -gt 0 ]; then hearth_die 65 "installing $* would change held packages ${moved[*]}, which this resource does not declare: refused (nothing was changed; release their holds or declare them)"; fi
}

# hearth_apt_check_remove PACKAGE...: dies, before anything is removed, when `apt-get remove PACKAGE...` would remove
# any other package (apt removes what depends on them), naming them.
hearth_apt_check_remove() {
  local p others=()
  while IFS= read -r p; do
    p=$(hearth_apt_native_name "$p")
    if ! hearth_apt_kept "$p" "$@"; then others+=("$p"); fi
  done < <(apt-get -s -q remove -- "$@" 2>/dev/null | awk '$1 == "Remv" { print $2 }' || true)
  if [ "${#others[@]}" -gt 0 ]; then hearth_die 65 "removing $* would also remove ${others[*]}, which this resource does not declare: refused (nothing was removed; declare them, or remove them yourself)"; fi
}

# hearth_apt_in_use_itself UNIT: prints how UNIT itself is in use (enabled, active, an instance active), nothing when not.
hearth_apt_in_use_itself() {
  local u=$1 e a n
  e=$(systemctl is-enabled -- "$u" 2>/dev/null || true)
  case $e in
    enabled | enabled-runtime | alias | indirect | linked | linked-runtime)
      printf '%s\n' "$e"
      return 0
      ;;
    generated)
      # A SysV script's unit: enabled when its runlevel links start it.
      n=${u%.service}
      if compgen -G "/etc/rc[2-5].d/S[0-9][0-9]$n" >/dev/null || compgen -G "/etc/rc[2-5].d/S[0-9][0-9]$n.sh" >/dev/null; then
        echo enabled
        return 0
      fi
      ;;
  esac
  a=$(systemctl is-active -- "$u" 2>/dev/null || true)
  case $a in
    active | activating | reloading | refreshing | deactivating)
      printf '%s\n' "$a"
      return 0
      ;;
  esac
  case $u in
    *@.*)
      if [ -n "$(systemctl list-units --all --no-legend --plain --state=active,activating,reloading -- "${u%%@*}@*.${u##*.}" 2>/dev/null || true)" ]; then echo "active (an instance)"; fi
      ;;
  esac
}

# hearth_apt_in_use UNIT: prints how UNIT is in use on this host, nothing when not: in use itself, or started by a
# unit in use (a static service between the runs of its enabled timer, or between the connections of its socket):
# what systemd says triggers it (TriggeredBy: a timer's or path's Unit=, a socket's Service=), and for a service the
# timer, socket and path of its own name (systemd's default pairing; foo.socket for a template foo@.service, whose
# instances a socket with Accept=yes starts), which also covers a unit systemd has not loaded.
hearth_apt_in_use() {
  local u=$1 why t stem triggers
  why=$(hearth_apt_in_use_itself "$u")
  if [ -n "$why" ]; then
    printf '%s\n' "$why"
    return 0
  fi
  triggers=$(systemctl show -p TriggeredBy --value -- "$u" 2>/dev/null || true)
  case $u in
    *.service)
      stem=${u%.service}
      stem=${stem%@}
      triggers+=" $stem.timer $stem.socket $stem.path"
      ;;
  esac
  for t in $triggers; do
    if [ "$t" = "$u" ]; then continue; fi
    why=$(hearth_apt_in_use_itself "$t")
    if [ -n "$why" ]; then
      printf 'triggered by %s, which is %s\n' "$t" "$why"
      return 0
    fi
  done
}

# hearth_apt_take KEY WHAT: when KEY (a mask's, a hold's, a package's record) names another resource, records it as
# this resource's and says so: the newest converge declaring a package wins (two live resources declaring one are
# refused at plan time, so the other is one whose declaration moved here, or one that is gone).
hearth_apt_take() {
  local o
  o=$(hearth_applied "$1")
  if [ -n "$o" ] && ! hearth_mine "$o"; then
    hearth_record "$1" "$hearth_owner"
    hearth_say "taking over $2 from $o (this resource declares it now)"
  fi
}

# hearth_apt_declare PACKAGE...: a converge's first step: records each PACKAGE as declared by this resource (taking
# over the record of a resource the declaration moved from, and that resource's hold record on it, so its delete
# neither removes the package nor releases the hold), and forgets this resource's records of packages it no longer
# declares. Records only.
hearth_apt_declare() {
  local p k
  for p in "$@"; do
    hearth_apt_take "apt/declared/$p" "package $p"
    hearth_record "apt/declared/$p" "$hearth_owner"
    hearth_apt_take "apt/hold/$p" "the hold on $p"
  done
  for k in $(hearth_apt_our_keys apt/declared); do
    if ! hearth_apt_kept "${k##*/}" "$@"; then hearth_forget "$k"; fi
  done
}

# hearth_apt_declarer PACKAGE: prints the other resource that declares PACKAGE now (apt/declared), nothing when none
# does or this one does.
hearth_apt_declarer() {
  local o
  o=$(hearth_applied "apt/declared/$1")
  if [ -n "$o" ] && ! hearth_mine "$o"; then printf '%s\n' "$o"; fi
}

# hearth_apt_forget_declared: a delete's last step: forgets this resource's declared-package records.
hearth_apt_forget_declared() {
  local k
  for k in $(hearth_apt_our_keys apt/declared); do hearth_forget "$k"; done
}

# hearth_apt_settle UNIT WINDOW: decides UNIT, which a declared package ships, from the host's state, and sets
# hearth_apt_verdict: "masked" (masked as this resource's, now or before), "pending" (a SystemdService's unit file
# replaces it: masked when that file goes), "kept" or "left" (in use on the host, never masked by this resource).
# WINDOW "install": dpkg unpacks the package next (a kept unit not in use is masked for the install window only).
# A mask recorded by another resource is taken over (its package is declared here now); a mask that was there and
# recorded by nobody is adopted (apt/mask-adopted: never lifted by this resource).
# shellcheck disable=SC2034 # hearth_apt_verdict is the converge script's to read
hearth_apt_settle() {
  local u=$1 k m a p f o why t
  k=$(hearth_apt_key "$u")
  m=apt/mask/$k a=apt/mask-adopted/$k p=apt/mask-pending/$k f=/etc/systemd/system/$u
  hearth_apt_verdict=kept
  hearth_apt_take "$m" "the mask of $u"
  if hearth_apt_kept "$u" "${hearth_apt_keep[@]}" || hearth_apt_protected "$u"; then
    if hearth_apt_masked "$u" && ! hearth_apt_ours "$m"; then
      # A unit hearth or the host relies on, masked by the admin (adopted or not): their choice. A kept one is to
      # run: refused.
      if hearth_apt_kept "$u" "${hearth_apt_keep[@]}"; then
        hearth_die 65 "unit $u is in keepUnits but masked, not by this resource (${hearth_owner}): systemctl unmask $u to let it run, or drop it from keepUnits"
      fi
      return 0
    fi
    if [ "$2" = install ] && ! hearth_apt_masked "$u" && [ -z "$(hearth_apt_in_use "$u")" ]; then hearth_apt_runtime_mask "$u"; fi
    return 0
  fi
  if hearth_apt_masked "$u"; then
    if [ -z "$(hearth_applied "$m")" ]; then
      o=$(hearth_applied "$a")
      if [ -z "$o" ]; then
        # Masked and recorded by nobody (the admin's, or one a deleted resource left): adopted, never lifted by this
        # resource (it wants the unit masked anyway).
        hearth_record "$a" "$hearth_owner"
        hearth_say "adopted the mask of $u (it was masked before: kept masked, never lifted by this resource)"
      else
        hearth_apt_take "$a" "the adopted mask of $u"
      fi
    fi
    if [ -n "$(hearth_applied "$p")" ]; then hearth_forget "$p"; fi
    hearth_apt_verdict=masked
    return 0
  fi
  # Not masked: an adopted mask someone lifted is no longer adopted (the unit is decided afresh below).
  if [ -n "$(hearth_applied "$a")" ]; then hearth_forget "$a"; fi
  if [ -e "$f" ] || [ -L "$f" ]; then
    o=$(hearth_file_owner "$f")
    case $o in
      */hearth:systemd:Service/*)
        hearth_record "$p" "$hearth_owner"
        hearth_say "mask of $u pending: $f is the unit of $o (its delete masks $u once the file is gone)"
        hearth_apt_verdict=pending
        return 0
        ;;
    esac
    hearth_die 65 "packaged unit $u has a unit of its own in /etc/systemd/system (not a SystemdService's): list it in keepUnits, or remove that unit"
  fi
  why=$(hearth_apt_in_use "$u")
  if [ -n "$why" ]; then
    # The host's own daemon (it ran or was enabled before): never masked behind its back.
    if [ -n "$(hearth_applied "$m")" ]; then hearth_forget "$m"; fi
    if [ -n "$(hearth_applied "$p")" ]; then hearth_forget "$p"; fi
    t=$u
    if [[ $why =~ ^triggered\ by\ ([^,]+), ]]; then t=${BASH_REMATCH[1]}; fi
    hearth_say "left $u alone: it is $why on this host and hearth did not mask it (list it in keepUnits to silence this, or systemctl disable --now $t and the next run masks it)"
    hearth_apt_verdict=left
    return 0
  fi
  hearth_record "$m" "$hearth_owner"
  systemctl mask -- "$u" >/dev/null 2>&1
  hearth_step
  if [ -n "$(hearth_applied "$p")" ]; then hearth_forget "$p"; fi
  hearth_say "masked $u (shipped by a declared package; not in keepUnits)"
  hearth_apt_verdict=masked
}

# hearth_apt_mask_pending UNIT: called by a SystemdService's delete right after it removed UNIT's unit file: masks UNIT
# when a DebianPackages resource recorded its mask as pending (its package ships UNIT, no longer kept), as that
# resource's. Nothing otherwise, and nothing while another unit file of UNIT is there.
hearth_apt_mask_pending() {
  local u=$1 k o
  k=$(hearth_apt_key "$u")
  o=$(hearth_applied "apt/mask-pending/$k")
  if [ -z "$o" ]; then return 0; fi
  hearth_lock apt
  # Again under the lock: a DebianPackages delete may have forgotten its records while this run waited.
  o=$(hearth_applied "apt/mask-pending/$k")
  if [ -z "$o" ]; then return 0; fi
  if ! hearth_apt_masked "$u"; then
    if [ -e "/etc/systemd/system/$u" ] || [ -L "/etc/systemd/system/$u" ]; then return 0; fi
    hearth_record "apt/mask/$k" "$o"
    systemctl mask -- "$u" >/dev/null 2>&1
    hearth_step
    hearth_say "masked $u for $o (its package ships it, and the unit that replaced it is gone)"
  fi
  hearth_forget "apt/mask-pending/$k"
}

# hearth_apt_runtime_mask UNIT: masks UNIT (a kept unit of a package about to be unpacked) for the install window only:
# recorded first; hearth_apt_lift_runtime lifts it.
hearth_apt_runtime_mask() {
  if hearth_apt_runtime_masked "$1"; then return 0; fi
  hearth_record "apt/runtime-mask/$(hearth_apt_key "$1")" "$hearth_owner"
  systemctl mask --runtime -- "$1" >/dev/null 2>&1
  hearth_step
}

# hearth_apt_lift_runtime: lifts every runtime mask this resource set (a killed run may have left them).
hearth_apt_lift_runtime() {
  local k u
  for k in $(hearth_apt_our_keys apt/runtime-mask); do
    u=$(hearth_apt_unit_of "$k")
    if hearth_apt_runtime_masked "$u"; then
      systemctl unmask --runtime -- "$u" >/dev/null 2>&1
      hearth_step
    fi
    hearth_forget "$k"
  done
}

# hearth_apt_unmask_others WANTED... -- KEPT...: settles every mask record of this resource on a unit not among WANTED
# (the units it masks now): a mask it set on a unit now KEPT (in keepUnits, or protected) is lifted; any other (its
# package dropped from the resource, so no longer decided here; or adopted, which this resource never lifts) stays, and
# its record goes, as on delete.
hearth_apt_unmask_others() {
  local k u wanted=() kept=()
  while [ "$#" -gt 0 ] && [ "$1" != -- ]; do
    wanted+=("$1")
    shift
  done
  if [ "$#" -gt 0 ]; then shift; fi
  kept=("$@")
  for k in $(hearth_apt_our_keys apt/mask); do
    u=$(hearth_apt_unit_of "$k")
    if hearth_apt_kept "$u" "${wanted[@]}"; then continue; fi
    if hearth_apt_masked "$u"; then
      if hearth_apt_kept "$u" "${kept[@]}"; then
        systemctl unmask -- "$u" >/dev/null 2>&1
        hearth_step
        hearth_say "unmasked $u"
      else
        hearth_say "left masked: $u (its package is no longer declared by this resource; systemctl unmask $u to let the package's unit run)"
      fi
    fi
    hearth_forget "$k"
  done
  for k in $(hearth_apt_our_keys apt/mask-adopted); do
    u=$(hearth_apt_unit_of "$k")
    if hearth_apt_kept "$u" "${wanted[@]}"; then continue; fi
    if hearth_apt_masked "$u"; then hearth_say "left masked: $u (masked before this resource adopted it; systemctl unmask $u to let the package's unit run)"; fi
    hearth_forget "$k"
  done
}

# hearth_apt_drop_pending PENDING...: forgets every pending mask of this resource on a unit not among PENDING (kept
# again, its package dropped, or masked by hearth_apt_settle once the SystemdService's unit file was gone).
hearth_apt_drop_pending() {
  local k u
  for k in $(hearth_apt_our_keys apt/mask-pending); do
    u=$(hearth_apt_unit_of "$k")
    if hearth_apt_kept "$u" "$@"; then continue; fi
    hearth_forget "$k"
  done
}

# hearth_apt_held PACKAGE: PACKAGE is held against upgrades.
hearth_apt_held() { apt-mark showhold -- "$1" 2>/dev/null | grep -qxF -- "$1"; }

# hearth_apt_hold PACKAGE: holds PACKAGE as this resource's (recorded first) unless it is held already.
hearth_apt_hold() {
  if hearth_apt_held "$1"; then
    hearth_apt_take "apt/hold/$1" "the hold on $1"
    return 0
  fi
  hearth_record "apt/hold/$1" "$hearth_owner"
  apt-mark hold -- "$1" >/dev/null
  hearth_step
  hearth_say "held $1"
}

# hearth_apt_release_holds [KEEP...]: releases every hold this resource set on a package not among KEEP (all of them
# when none is given, as on delete), but one on a package another resource declares now (apt/declared): the hold and
# its record stay (that resource's next converge takes the record over).
# shellcheck disable=SC2120 # a delete passes no KEEP: every hold of this resource goes
hearth_apt_release_holds() {
  local k p o
  for k in $(hearth_applied_keys apt/hold); do
    p=${k##*/}
    if ! hearth_apt_ours "$k" || hearth_apt_kept "$p" "$@"; then continue; fi
    o=$(hearth_apt_declarer "$p")
    if [ -n "$o" ]; then
      # Its record stays for that resource's next converge to take over.
      hearth_say "left the hold on $p: $o declares it now"
      continue
    fi
    if hearth_apt_held "$p"; then
      apt-mark unhold -- "$p" >/dev/null
      hearth_step
      hearth_say "released the hold on $p"
    fi
    hearth_forget "$k"
  done
}

# hearth_apt_say_masks VERB [REST]: one line "VERB <unit>REST" per unit this resource keeps masked.
hearth_apt_say_masks() {
  local k
  for k in $( (hearth_apt_our_keys apt/mask; hearth_apt_our_keys apt/mask-adopted) | sort -t/ -k3); do
    hearth_say "$1 $(hearth_apt_unit_of "$k")${2:-}"
  done
}

# hearth_apt_forget_masks: a delete's: forgets every mask record of this resource, saying which masks stay (a
# package's daemon must not start because its resource went away) and which pending masks will not be set.
hearth_apt_forget_masks() {
  local k u
  for k in $(hearth_apt_our_keys apt/mask) $(hearth_apt_our_keys apt/mask-adopted); do
    u=$(hearth_apt_unit_of "$k")
    if hearth_apt_masked "$u"; then hearth_say "left masked: $u (systemctl unmask $u to let the package's unit run)"; fi
    hearth_forget "$k"
  done
  for k in $(hearth_applied_keys apt/mask-pending); do
    if ! hearth_apt_ours "$k"; then continue; fi
    hearth_say "not masking $(hearth_apt_unit_of "$k") (its mask was pending: a SystemdService's unit file replaces it)"
    hearth_forget "$k"
  done
}

# Read-only checks of DebianPackages (drift checks: see the last section).
# hearth_check_apt_package NAME VERSION HOLD: NAME is installed ("-": at any version, else at VERSION) and held when
# HOLD is 1; a hold hearth did not set on a package declared without one is worth knowing, not drift.
hearth_check_apt_package() {
  local have want=installed
  have=$(hearth_apt_installed "$1")
  if [ "$2" != - ]; then want="installed at $2"; fi
  if [ -z "$have" ]; then
    hearth_drift "package $1" "$want" "not installed"
    return 0
  fi
  if [ "$2" != - ] && [ "$have" != "$2" ]; then hearth_drift "package $1 version" "$2" "$have"; fi
  if hearth_apt_held "$1"; then
    if [ "$3" != 1 ]; then hearth_check_info "package $1 hold" "held (not by this resource)"; fi
  elif [ "$3" = 1 ]; then
    hearth_drift "package $1 hold" held "not held"
  fi
}

# hearth_check_apt_masks OWNER: every packaged unit whose mask the resource OWNER set or adopted is still masked.
hearth_check_apt_masks() {
  local k u found
  for k in $(hearth_applied_keys apt/mask) $(hearth_applied_keys apt/mask-adopted); do
    if [ "$(hearth_applied "$k")" != "$1" ]; then continue; fi
    u=$(hearth_apt_unit_of "$k")
    if ! hearth_apt_masked "$u"; then
      found=$(systemctl is-enabled -- "$u" 2>/dev/null || true)
      hearth_drift "unit $u" masked "${found:-not masked}"
    fi
  done
}

# --- host files (HostFile) -------------------------------------------------------------------------------------
# A file's records: files/<id>/path (the path), files/<id>/owner (the owning resource's mark), files/<id>/orig ("kept"
# when an adopted original is kept as <path>.hearth-orig; "restoring" from just before it is put back on delete until
# the records go), files/<id>/dirs (the parent directories hearth created, removed on delete when empty).

# hearth_file_keep K PATH: keeps the file at PATH (not hearth's: an original being adopted) as PATH.hearth-orig, a
# hard link made before the new content replaces PATH, and records it under K (a run killed in between finds the two
# names on one inode and goes on). A run that finds K "restoring" (a delete killed on the way, then a converge) finds
# the original at PATH.hearth-orig still, or back at PATH.
hearth_file_keep() {
  local k=$1 p=$2 o=$2.hearth-orig
  if [ -e "$o" ] || [ -L "$o" ]; then
    if [ "$(hearth_applied "$k/orig")" != restoring ] && [ "$(stat -c %d:%i -- "$o")" != "$(stat -c %d:%i -- "$p")" ]; then
      hearth_die 65 "$o exists already: move it away before adopting $p"
    fi
  elif [ -e "$p" ] || [ -L "$p" ]; then
    ln -P -T -- "$p" "$o"
    hearth_step
    hearth_say "kept the original $p as $o"
  fi
  hearth_record "$k/orig" kept
}

# hearth_file_inherit K DIR: the directories another key of this resource created (its old path's) that DIR is, or
# lies below, become K's too (recorded before the old key is released), so that a renamed path inside them still
# removes them on delete.
hearth_file_inherit() {
  local k=$1 dir=$2 d ok found made old o
  read -r -a made <<<"$(hearth_applied "$k/dirs")"
  local before=${#made[@]}
  for d in /var/lib/hearth/applied/files/*; do
    if [ ! -d "$d" ] || [ -L "$d" ]; then continue; fi
    ok=files/${d##*/}
    if [ "$ok" = "$k" ]; then continue; fi
    found=$(hearth_applied "$ok/owner")
    if [ -z "$found" ] || [ "$found" = legacy ] || ! hearth_mine "$found"; then continue; fi
    read -r -a old <<<"$(hearth_applied "$ok/dirs")"
    for o in "${old[@]}"; do
      case $dir in "$o" | "$o"/*) ;; *) continue ;; esac
      case " ${made[*]} " in *" $o "*) ;; *) made+=("$o") ;; esac
    done
  done
  if [ "${#made[@]}" != "$before" ]; then hearth_record "$k/dirs" "${made[*]}"; fi
}

# hearth_file_release KEY: releases the file recorded under KEY (this resource's): restores the adopted original or
# removes the file, then the directories hearth created when empty, then the records; the path first, the mark last
# (a run killed on the way still knows the rest is its own). The original is put back after "restoring" is recorded,
# so a re-run that finds no PATH.hearth-orig knows the original is at PATH again and leaves it; an adopted path whose
# PATH.hearth-orig is gone while still "kept" (someone removed it) has no original to put back: hearth's content is
# removed, as for a file hearth created.
hearth_file_release() {
  local k=$1 p orig dirs d i
  p=$(hearth_applied "$k/path")
  if [ -n "$p" ]; then
    orig=$(hearth_applied "$k/orig")
    if [ -n "$orig" ] && { [ -e "$p.hearth-orig" ] || [ -L "$p.hearth-orig" ]; }; then
      hearth_root_only "$(hearth_parent "$p")" || hearth_die 65 "refusing to restore $p: its directory is not a root-only directory"
      hearth_record "$k/orig" restoring
      if [ "$(stat -c %d:%i -- "$p.hearth-orig")" = "$(stat -c %d:%i -- "$p" 2>/dev/null)" ]; then
        # One inode under both names (an adopt killed before the content was written): the original is at PATH.
        rm -f -- "$p.hearth-orig"
      else
        mv -f -T -- "$p.hearth-orig" "$p"
      fi
      hearth_step
      hearth_say "restored the original $p"
    elif [ "$orig" = kept ]; then
      hearth_say "the original of $p ($p.hearth-orig) is gone: nothing to put back, hearth's content is removed"
      hearth_remove "$p"
    elif [ -z "$orig" ]; then
      hearth_remove "$p"
    fi
    read -r -a dirs <<<"$(hearth_applied "$k/dirs")"
    for ((i = ${#dirs[@]} - 1; i >= 0; i--)); do
      d=${dirs[i]}
      if [ -d "$d" ] && [ ! -L "$d" ] && [ -n "$(ls -A -- "$d")" ]; then hearth_say "kept $d (not empty)"; else hearth_rmdir "$d"; fi
    done
    hearth_forget "$k/path"
  fi
  hearth_forget "$k/dirs"
  hearth_forget "$k/orig"
  hearth_forget "$k/owner"
  hearth_rmdir "/var/lib/hearth/applied/$k"
}

# hearth_file_release_mine [KEEP]: releases every file this resource owns other than the one under key KEEP (all of
# them when KEEP is empty): a renamed path's leftovers, released only once the new path is written. An empty key
# directory (a release killed before its last step) is removed.
hearth_file_release_mine() {
  local d k found
  for d in /var/lib/hearth/applied/files/*; do
    if [ ! -d "$d" ] || [ -L "$d" ]; then continue; fi
    k=files/${d##*/}
    if [ "$k" = "${1:-}" ]; then continue; fi
    found=$(hearth_applied "$k/owner")
    if [ -n "$found" ] && [ "$found" != legacy ] && hearth_mine "$found"; then hearth_file_release "$k"; fi
    if [ -z "$found" ]; then hearth_rmdir "$d"; fi
  done
}

# hearth_check_hostfile K PATH OWNER: read-only check of a HostFile (its content, mode and owner are checked as a file):
# the records under K say this resource (OWNER) owns PATH, and an adopted original hearth keeps is still there.
hearth_check_hostfile() {
  local k=$1 p=$2 found
  found=$(hearth_applied "$k/path")
  if [ "$found" != "$p" ]; then hearth_drift "$p record" "path $p" "${found:-none}"; fi
  found=$(hearth_applied "$k/owner")
  if [ "$found" != "$3" ]; then hearth_drift "$p owner mark" "$3" "${found:-none}"; fi
  if [ "$(hearth_applied "$k/orig")" = kept ] && [ ! -e "$p.hearth-orig" ]; then
    hearth_drift "$p.hearth-orig" "the adopted original, kept" absent
  fi
}

# --- PostgreSQL clusters and pgbouncer (PostgresDb) ------------------------------------------------------------
# A cluster is named by its socket directory and port (SOCKET PORT). Nothing here writes a file itself: pg_hba.conf
# (in a directory the postgres user owns) is written as postgres with hearth_put_below; everything else goes through
# hearth_install/put/remove below root-only directories.

# hearth_pg_psql SOCKET PORT [ARG...]: psql as postgres on database postgres, stopping at the first error. Every
# connection it makes (\connect included) resolves names in the system catalog only: a database's owner may set its
# search_path, and a function or an operator of theirs found first would run as postgres.
hearth_pg_psql() {
  local socket=$1 port=$2
  shift 2
  PGOPTIONS='-c search_path=pg_catalog,pg_temp' runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -h "$socket" -p "$port" -d postgres "$@"
}

# hearth_pg_q SOCKET PORT [ARG...]: runs the SQL on stdin, prints unaligned tuples.
hearth_pg_q() { hearth_pg_psql "$1" "$2" -At "${@:3}"; }

# hearth_pg_probe SOCKET PORT ROLE DATABASE: reads both ownership marks in one session. Sets hearth_role_new and
# hearth_db_new (1 when there is no such object, else 0) and hearth_role_mark and hearth_db_mark: the owner the
# object's comment names ("legacy" for the mark of earlier releases, nothing for none or no object). A comment's
# trailing newlines are dropped and any other control character reads as "?", so each answer is one line and a
# comment that is not a whole mark never reads as one.
# shellcheck disable=SC2034 # the four are the script's to read
hearth_pg_probe() {
  local out line
  out=$(hearth_pg_q "$1" "$2" -v "hearth_role=$3" -v "hearth_db=$4" <<'SQL'
WITH m(k, c) AS (
  SELECT 'role', rtrim(shobj_description(oid, 'pg_authid'), E'\n') FROM pg_roles WHERE rolname = :'hearth_role'
  UNION ALL
  SELECT 'database', rtrim(shobj_description(oid, 'pg_database'), E'\n') FROM pg_database WHERE datname = :'hearth_db')
SELECT k || ' ' || CASE
  WHEN c LIKE 'hearth-owner: %' THEN regexp_replace(substr(c, 15), '[[:cntrl:]]', '?', 'g')
  WHEN c = 'hearth:managed' THEN 'legacy'
  ELSE '' END
FROM m;
SQL
)
  hearth_role_new=1 hearth_role_mark='' hearth_db_new=1 hearth_db_mark=''
  while IFS= read -r line; do
    case $line in
      '') ;;
      'role '*) hearth_role_new=0 hearth_role_mark=${line#role } ;;
      'database '*) hearth_db_new=0 hearth_db_mark=${line#database } ;;
      *) hearth_die 70 "hearth_pg_probe: unexpected answer from the server" ;;
    esac
  done <<<"$out"
}

# hearth_pg_fragment_owner FILE: the owner a fragment names; a fragment in hearth's own directories without a line is
# legacy.
hearth_pg_fragment_owner() {
  local found
  found=$(hearth_file_owner "$1")
  printf '%s\n' "${found:-legacy}"
}

# hearth_pg_drop_strays DIR SUFFIX KEEP: removes the DIR/*SUFFIX fragments this resource marked (found by its mark,
# under any name), except DIR/KEEP: a renamed database or role leaves no access behind.
hearth_pg_drop_strays() {
  local f
  [ -d "$1" ] || return 0
  while IFS= read -r f; do
    if [ "$f" != "$1/$3" ]; then hearth_remove "$f"; fi
  done < <(hearth_marked "$1"/*"$2")
}

# hearth_pg_wait SOCKET PORT: waits up to 30s for the server to answer; dies otherwise.
hearth_pg_wait() {
  for _ in $(seq 1 30); do
    if hearth_pg_q "$1" "$2" <<<'SELECT 1' >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  hearth_die 1 "cannot reach PostgreSQL on $1 port $2"
}

# hearth_pg_reload SOCKET PORT: reloads the server's configuration (a step) in one session, unless
# pg_hba_file_rules (which parses the file on disk) reports an error: then it reloads nothing and returns 1. It
# reloads asynchronously: this waits until a new session sees the reload, so the next login uses the new rules.
hearth_pg_reload() {
  local r before
  r=$(hearth_pg_q "$1" "$2" <<'SQL'
SELECT count(*) = 0 AS hearth_ok FROM pg_hba_file_rules WHERE error IS NOT NULL \gset
\if :hearth_ok
SELECT pg_conf_load_time()::text AS hearth_before \gset
SELECT pg_reload_conf() \g /dev/null
\echo ok :hearth_before
\else
\echo errors
\endif
SQL
)
  case $r in
    'ok '*) before=${r#ok } ;;
    errors) return 1 ;;
    *) hearth_die 70 "hearth_pg_reload: unexpected answer from the server" ;;
  esac
  hearth_step
  for _ in $(seq 1 50); do
    if [ "$(hearth_pg_q "$1" "$2" <<<'SELECT pg_conf_load_time()::text')" != "$before" ]; then
      hearth_say "reloaded PostgreSQL"
      return 0
    fi
    sleep 0.1
  done
  hearth_warn "PostgreSQL did not report the reload within 5s"
}

# hearth_pg_update_hba SOCKET PORT FRAGMENTS STATE: hearth's block at the top of the server's hba_file is every
# FRAGMENTS/*.conf; every other line of the file stays. The file's directory belongs to postgres: it is read and
# written as postgres (a link planted or swapped in there reaches nothing postgres could not reach itself); the text
# is assembled by root in a private temp, and the previous version is kept in STATE (root-only) for a rollback. The
# reload is decided from state: the assembled text's digest against what was last applied, and the file against the
# server's pg_conf_load_time (read before the file is written: a reload in between only makes it reload again).
hearth_pg_update_hba() {
  local socket=$1 port=$2 frags=$3 state=$4 hba dir base cur new prev want loaded mtime
  hba=$(hearth_pg_q "$socket" "$port" <<<"SELECT floor(extract(epoch FROM pg_conf_load_time()))::bigint || ' ' || current_setting('hba_file')")
  loaded=${hba%% *}
  hba=${hba#* }
  case $loaded in '' | *[!0-9]*) hearth_die 70 "hearth_pg_update_hba: unexpected answer from the server" ;; esac
  case $hba in /*/*) ;; *) hearth_die 65 "the server reports hba_file '$hba', not an absolute path" ;; esac
  dir=${hba%/*}
  base=${hba##*/}
  if [ ! -d "$dir" ] || [ -L "$dir" ] || [ "$(stat -c %U -- "$dir")" != postgres ]; then
    hearth_die 65 "refusing to write $hba: $dir is not a directory owned by postgres"
  fi
  hearth_private_tmp
  cur=$hearth_tmp
  hearth_read_below "$dir" "$base" >"$cur"
  if [ ! -s "$cur" ]; then hearth_die 65 "refusing to rebuild $hba: it is missing, empty or not a regular file"; fi
  hearth_private_tmp
  new=$hearth_tmp
  {
    hearth_concat '# BEGIN hearth: PostgresDb entries (change the components, not these lines)' "$frags" .conf
    echo '# END hearth'
    awk '/^# BEGIN hearth: /{skip=1; next} skip && /^# END hearth$/{skip=0; next} !skip' "$cur"
  } >"$new"
  if ! cmp -s -- "$new" "$cur"; then
    hearth_dir "$state" 0700
    hearth_tmp_in "$state"
    prev=$hearth_tmp
    cat -- "$cur" >"$prev"
    hearth_put "$prev" "$state/pg_hba.conf.prev" 0600 root root
    hearth_put_below "$dir" "$base" 0640 <"$new"
  fi
  want=$(sha256sum <"$new" | cut -d' ' -f1)
  mtime=$(hearth_run_below "$dir" stat -c %Y -- "$hba")
  if [ "$(hearth_applied "postgres/$port/hba")" != "$want" ] || [ "$mtime" -gt "$loaded" ]; then
    # A rule the server would reject is caught before the reload.
    if ! hearth_pg_reload "$socket" "$port"; then
      if [ -f "$state/pg_hba.conf.prev" ]; then hearth_put_below "$dir" "$base" 0640 <"$state/pg_hba.conf.prev"; fi
      hearth_die 1 "the new $hba has errors; the previous one was restored"
    fi
    hearth_record "postgres/$port/hba" "$want"
  fi
}

# hearth_bouncer_apply DIR FRAGMENTS POOLER: when DIR/pgbouncer.ini is hearth's, reassembles pgbouncer's database
# list and userlist from FRAGMENTS/databases.d/*.ini and FRAGMENTS/users.d/*.txt and makes pgbouncer see them, decided
# from state: a restart (POOLER=1 only) when pgbouncer.ini differs from what was last applied or pgbouncer is not
# running, a reload when the lists do.
hearth_bouncer_apply() {
  local dir=$1 frags=$2 ini=$1/pgbouncer.ini first='' lists conf
  if [ -f "$ini" ] && [ ! -L "$ini" ]; then IFS= read -r first <"$ini" || true; fi
  case $first in ';; hearth: '*) ;; *) return 0 ;; esac
  hearth_assemble "$dir/hearth-databases.ini" 0640 root postgres '[databases]' "$frags/databases.d" .ini
  hearth_assemble "$dir/hearth-userlist.txt" 0600 postgres postgres ';; hearth: pgbouncer users (SCRAM verifiers)' "$frags/users.d" .txt
  lists=$(hearth_digest "$dir/hearth-databases.ini" "$dir/hearth-userlist.txt")
  conf=$(hearth_digest "$ini")
  if [ "$3" = 1 ] && { [ "$(hearth_applied pgbouncer/ini)" != "$conf" ] || ! systemctl is-active -q pgbouncer; }; then
    if ! systemctl is-enabled -q pgbouncer; then
      systemctl enable -q pgbouncer
      hearth_step
    fi
    systemctl restart pgbouncer
    hearth_step
    hearth_say "restarted pgbouncer"
    hearth_record pgbouncer/ini "$conf"
    hearth_record pgbouncer/lists "$lists"
  elif [ "$(hearth_applied pgbouncer/lists)" != "$lists" ]; then
    if systemctl is-active -q pgbouncer; then
      systemctl reload pgbouncer
      hearth_step
      hearth_say "reloaded pgbouncer"
    fi
    hearth_record pgbouncer/lists "$lists"
  fi
}

# hearth_pg_start SOCKET PORT UNIT: starts the cluster's server unit when the server does not answer and the unit is
# not running (a step), then waits for the server (hearth_pg_wait): the converge needs it, and a stopped server is
# drift its next converge clears. A server answers before its unit has finished starting (right after a boot): the
# converge then waits for that start, so it ends with the unit active, as the check expects.
hearth_pg_start() {
  if hearth_pg_q "$1" "$2" <<<'SELECT 1' >/dev/null 2>&1; then
    if [ "$(systemctl is-active -- "$3")" = activating ]; then systemctl start -- "$3"; fi
    return 0
  fi
  if ! systemctl is-active -q -- "$3"; then
    systemctl start -- "$3"
    hearth_step
    hearth_say "started $3"
  fi
  hearth_pg_wait "$1" "$2"
}

# The SQL for the SHA-256 of a role's password verifier (psql variable name), "none" without one: the verifier itself
# never leaves the server.
hearth_pg_verifier_sql="SELECT CASE WHEN rolpassword IS NULL THEN 'none' ELSE encode(sha256(convert_to(rolpassword, 'UTF8')), 'hex') END FROM pg_authid WHERE rolname = :'name'"

# hearth_pg_converge SOCKET PORT ROLE FILE [ARG...]: runs the psql script FILE (psql ARGs added) as one session (a
# step) and, at its end in the same session, reads the digest of ROLE's verifier, which it records as the one hearth
# set, under postgres/PORT/role/ROLE/verifier. FILE prints nothing: the digest is the session's last line.
hearth_pg_converge() {
  local out d
  out=$({
    cat -- "$4"
    printf '\n\\set ON_ERROR_STOP on\nSET search_path = pg_catalog, pg_temp;\n%s;\n' "$hearth_pg_verifier_sql"
  } | hearth_pg_q "$1" "$2" -v "name=$3" "${@:5}")
  hearth_step
  d=${out##*$'\n'}
  case $d in [0-9a-f]*) ;; *) hearth_die 1 "role $3 has no password verifier after the converge" ;; esac
  hearth_record "postgres/$2/role/$3/verifier" "$d"
}

# Checks (read-only, see "drift checks" below): psql runs as postgres in read-only transactions only.
# hearth_pg_check_q SOCKET PORT DATABASE [ARG...]: runs the SQL on stdin in DATABASE, read-only, prints unaligned tuples.
hearth_pg_check_q() {
  local socket=$1 port=$2 db=$3
  shift 3
  PGOPTIONS='-c default_transaction_read_only=on -c search_path=pg_catalog,pg_temp' PGCONNECT_TIMEOUT=5 \
    runuser -u postgres -- psql -X -q -At -v ON_ERROR_STOP=1 -h "$socket" -p "$port" -d "$db" "$@"
}

# hearth_pg_check_up SOCKET PORT: the server answers (the checks that need it say nothing when it does not: the
# server check reports it once).
hearth_pg_check_up() {
  [ "$(printf 'SELECT 1' | hearth_pg_check_q "$1" "$2" postgres 2>/dev/null)" = 1 ]
}

# hearth_pg_check_yes VALUE: a boolean as psql prints it (t, or true as text) as yes/no.
hearth_pg_check_yes() { case $1 in t | true) echo yes ;; *) echo no ;; esac; }

# hearth_pg_check_unit UNIT ENABLED: UNIT is active (and enabled, when ENABLED is 1).
hearth_pg_check_unit() {
  local st
  st=$(systemctl is-active -- "$1" 2>/dev/null || true)
  if [ "$st" != active ]; then hearth_drift "unit $1 active" active "${st:-unknown}"; fi
  if [ "$2" = 1 ]; then
    st=$(systemctl is-enabled -- "$1" 2>/dev/null || true)
    if [ "$st" != enabled ]; then hearth_drift "unit $1 enabled" enabled "${st:-unknown}"; fi
  fi
}

# hearth_pg_check_server UNIT SOCKET PORT: the cluster's server unit is active and the server answers.
hearth_pg_check_server() {
  hearth_pg_check_unit "$1" 0
  if systemctl is-active -q -- "$1" && ! hearth_pg_check_up "$2" "$3"; then
    hearth_drift "postgresql on $2 port $3" answering "not answering"
  fi
}

# hearth_pg_check_database SOCKET PORT NAME OWNER CONNLIMIT TABLESPACE MARK: database NAME exists, owned by OWNER, with
# that connection limit, in TABLESPACE ("-": not checked), carrying MARK (its owner id).
hearth_pg_check_database() {
  local row owner limit ts mark
  hearth_pg_check_up "$1" "$2" || return 0
  row=$(printf '%s' "SELECT r.rolname || '|' || d.datconnlimit || '|' || t.spcname || '|' || translate(coalesce(shobj_description(d.oid, 'pg_database'), ''), E'\\n\\t', '  ') FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba JOIN pg_tablespace t ON t.oid = d.dattablespace WHERE d.datname = :'name'" |
    hearth_pg_check_q "$1" "$2" postgres -v "name=$3")
  if [ -z "$row" ]; then
    hearth_drift "database $3" present absent
    return 0
  fi
  owner=${row%%|*} row=${row#*|}
  limit=${row%%|*} row=${row#*|}
  ts=${row%%|*} mark=${row#*|}
  if [ "$owner" != "$4" ]; then hearth_drift "database $3 owner" "$4" "$owner"; fi
  if [ "$limit" != "$5" ]; then hearth_drift "database $3 connection limit" "$5" "$limit"; fi
  if [ "$6" != - ] && [ "$ts" != "$6" ]; then hearth_drift "database $3 tablespace" "$6" "$ts"; fi
  if [ "$mark" != "hearth-owner: $7" ]; then hearth_drift "database $3 owner mark" "$7" "${mark:-none}"; fi
}

# hearth_pg_check_connect SOCKET PORT NAME GRANTEES: the roles other than its owner with any privilege on database NAME
# (PUBLIC included) are exactly GRANTEES (comma-separated, sorted; "" for none).
hearth_pg_check_connect() {
  local found
  hearth_pg_check_up "$1" "$2" || return 0
  found=$(printf '%s' "SELECT coalesce(string_agg(g, ',' ORDER BY g COLLATE \"C\"), '') FROM (SELECT DISTINCT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END AS g FROM pg_database d CROSS JOIN LATERAL aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a WHERE d.datname = :'name' AND a.grantee <> d.datdba) x" |
    hearth_pg_check_q "$1" "$2" postgres -v "name=$3")
  if [ "$found" != "$4" ]; then hearth_drift "database $3 access" "${4:-owner only}" "${found:-owner only}"; fi
}

# hearth_pg_check_role SOCKET PORT NAME MARK KEY: role NAME exists, may log in and holds no other attribute (superuser,
# createdb, createrole, replication, bypassrls), carries MARK, and its password verifier is the one the converge
# recorded under KEY (compared as SHA-256 digests; neither is printed).
hearth_pg_check_role() {
  local row f want found name
  hearth_pg_check_up "$1" "$2" || return 0
  row=$(printf '%s' "SELECT rolcanlogin || '|' || rolsuper || '|' || rolcreatedb || '|' || rolcreaterole || '|' || rolreplication || '|' || rolbypassrls || '|' || translate(coalesce(shobj_description(oid, 'pg_authid'), ''), E'\\n\\t', '  ') FROM pg_roles WHERE rolname = :'name'" |
    hearth_pg_check_q "$1" "$2" postgres -v "name=$3")
  if [ -z "$row" ]; then
    hearth_drift "role $3" present absent
    return 0
  fi
  want=yes
  for name in login superuser createdb createrole replication bypassrls; do
    f=${row%%|*} row=${row#*|}
    found=$(hearth_pg_check_yes "$f")
    if [ "$found" != "$want" ]; then hearth_drift "role $3 $name" "$want" "$found"; fi
    want=no
  done
  if [ "$row" != "hearth-owner: $4" ]; then hearth_drift "role $3 owner mark" "$4" "${row:-none}"; fi
  want=$(hearth_applied "$5")
  found=$(printf '%s' "$hearth_pg_verifier_sql" | hearth_pg_check_q "$1" "$2" postgres -v "name=$3")
  if [ -z "$want" ]; then
    hearth_drift "role $3 verifier" "recorded by hearth" "no record on this host (converge again)"
  elif [ "$found" = none ]; then
    hearth_drift "role $3 verifier" "as hearth applied it" "no password"
  elif [ "$found" != "$want" ]; then
    hearth_drift "role $3 verifier" "as hearth applied it" "changed since hearth applied it"
  fi
}

# hearth_pg_check_extension SOCKET PORT DATABASE NAME: extension NAME is installed in DATABASE.
hearth_pg_check_extension() {
  hearth_pg_check_up "$1" "$2" || return 0
  if [ -z "$(printf '%s' "SELECT 1 FROM pg_extension WHERE extname = :'name'" | hearth_pg_check_q "$1" "$2" "$3" -v "name=$4")" ]; then
    hearth_drift "database $3 extension $4" installed absent
  fi
}

# hearth_pg_check_schema SOCKET PORT DATABASE SCHEMA OWNER GRANTS: SCHEMA exists in DATABASE, and the privileges on it of
# roles other than its owner, OWNER and PUBLIC are exactly GRANTS ("role=PRIVILEGE" words, sorted; "" for none).
hearth_pg_check_schema() {
  local found
  hearth_pg_check_up "$1" "$2" || return 0
  found=$(printf '%s' "SELECT 'x' || coalesce((SELECT string_agg(g, ' ' ORDER BY g COLLATE \"C\") FROM (SELECT DISTINCT pg_get_userbyid(a.grantee) || '=' || a.privilege_type AS g FROM aclexplode(n.nspacl) a WHERE a.grantee <> 0 AND a.grantee <> n.nspowner AND a.grantee <> ALL (SELECT oid FROM pg_roles WHERE rolname = :'owner')) x), '') FROM pg_namespace n WHERE n.nspname = :'name'" |
    hearth_pg_check_q "$1" "$2" "$3" -v "name=$4" -v "owner=$5")
  if [ -z "$found" ]; then
    hearth_drift "database $3 schema $4" present absent
    return 0
  fi
  found=${found#x}
  if [ "$found" != "$6" ]; then hearth_drift "database $3 schema $4 grants" "${6:-none}" "${found:-none}"; fi
}

# hearth_pg_check_hba SOCKET PORT LINE...: each LINE is in hearth's block of the server's hba_file, the block comes
# before every other rule, and the server loaded the file as it is on disk. The file is read as postgres (its
# directory is postgres's).
hearth_pg_check_hba() {
  local socket=$1 port=$2 hba dir text block before line loaded mtime nl=$'\n'
  shift 2
  hearth_pg_check_up "$socket" "$port" || return 0
  hba=$(printf 'SHOW hba_file' | hearth_pg_check_q "$socket" "$port" postgres)
  case $hba in /*/*) ;; *) hearth_die 65 "the server reports hba_file '$hba', not an absolute path" ;; esac
  dir=${hba%/*}
  text=$(hearth_read_below "$dir" "${hba##*/}")
  if [ -z "$text" ]; then
    hearth_drift "$hba" present "absent or empty"
    return 0
  fi
  block=$(printf '%s\n' "$text" | awk '/^# BEGIN hearth: /{b=1; next} b && /^# END hearth$/{exit} b')
  before=$(printf '%s\n' "$text" | awk '/^# BEGIN hearth: /{exit} !/^[[:space:]]*(#|$)/')
  if [ -n "$before" ]; then hearth_drift "$hba hearth block" "before every other rule" "after other rules"; fi
  for line in "$@"; do
    if [[ $nl$block$nl != *"$nl$line$nl"* ]]; then hearth_drift "$hba line $line" present absent; fi
  done
  loaded=$(printf 'SELECT floor(extract(epoch FROM pg_conf_load_time()))::bigint' | hearth_pg_check_q "$socket" "$port" postgres)
  mtime=$(hearth_run_below "$dir" stat -c %Y -- "$hba")
  if [ "$mtime" -gt "$loaded" ]; then hearth_drift "$hba loaded" "as on disk" "changed on disk since the server loaded it"; fi
}

# hearth_pg_check_bouncer DIR NAME ENTRY USER KEY: pgbouncer runs and is enabled, its assembled database list in DIR
# holds ENTRY for database NAME, and its userlist holds USER with the verifier the converge recorded under KEY.
hearth_pg_check_bouncer() {
  local dir=$1 list line found=absent want v
  hearth_pg_check_unit pgbouncer.service 1
  list=$dir/hearth-databases.ini
  if hearth_check_root_path "$list"; then
    if [ -f "$list" ] && [ ! -L "$list" ]; then
      while IFS= read -r line; do
        if [ "${line%% = *}" = "$2" ]; then found=$line; fi
      done <"$list"
    fi
    if [ "$found" != "$3" ]; then hearth_drift "pgbouncer database $2" "$3" "$found"; fi
  fi
  list=$dir/hearth-userlist.txt
  hearth_check_root_path "$list" || return 0
  found=absent
  if [ -f "$list" ] && [ ! -L "$list" ]; then
    while IFS= read -r line; do
      case $line in "\"$4\" \""*\") v=${line#"\"$4\" \""}; found=${v%\"} ;; esac
    done <"$list"
  fi
  want=$(hearth_applied "$5")
  if [ "$found" = absent ]; then
    hearth_drift "pgbouncer user $4" present absent
  elif [ -n "$want" ] && [ "$(printf '%s' "$found" | sha256sum | cut -d' ' -f1)" != "$want" ]; then
    hearth_drift "pgbouncer user $4 verifier" "as hearth applied it" "changed since hearth applied it"
  fi
}

# --- WireGuard (WireguardLink) -----------------------------------------------------------------------------------
# The desired peer keys are born on other hosts and unknown offline: the check compares the running interface with
# the config and key files hearth installed on this host (whose content the generic checks compare with what was
# declared or applied). It never prints a private or preshared key: `wg show dump` is cut to public fields at once.

# hearth_wg_conf_peers CONF: the peers a wg-quick config lists, one tab-separated line each: public key, name (the
# comment line right above its [Peer], or -), endpoint, allowed IPs (sorted, comma-separated), keepalive; "-" for
# an endpoint or allowed IPs it does not give, "off" for no keepalive. A first line "port\t<ListenPort or ->".
hearth_wg_conf_peers() {
  awk '
    function flush() { if (key != "") print key "\t" name "\t" ep "\t" sorted(ips) "\t" ka; key = "" }
    function sorted(s,   n, a, i, j, t, out) {
      gsub(/[ \t]/, "", s); n = split(s, a, ",")
      for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
      out = ""; for (i = 1; i <= n; i++) if (a[i] != "") out = out (out == "" ? "" : ",") a[i]
      return out == "" ? "-" : out
    }
    BEGIN { port = "-"; key = "" }
    /^[ \t]*#/ { c = $0; sub(/^[ \t]*#[ \t]*/, "", c); comment = c; next }
    /^[ \t]*\[/ {
      flush(); section = tolower($0); gsub(/[ \t\[\]]/, "", section)
      if (section == "peer") { inpeer = 1; name = comment == "" ? "-" : comment; ep = "-"; ips = "-"; ka = "off"; key = "?" } else inpeer = 0
      comment = ""; next
    }
    /=/ {
      k = $0; sub(/=.*/, "", k); gsub(/[ \t]/, "", k); k = tolower(k)
      v = $0; sub(/^[^=]*=[ \t]*/, "", v); sub(/[ \t]+$/, "", v)
      if (!inpeer && k == "listenport") port = v
      if (inpeer && k == "publickey") key = v
      if (inpeer && k == "endpoint") ep = v
      if (inpeer && k == "allowedips") ips = (ips == "-" ? "" : ips ",") v
      if (inpeer && k == "persistentkeepalive") ka = (v == "0" || v == "off") ? "off" : v
      comment = ""; next
    }
    { comment = "" }
    END { flush(); print "port\t" port }
  ' "$1"
}

# hearth_wg_running IF: the running interface without its secrets: "if\t<public key>\t<listen port>", then per peer
# "peer\t<public key>\t<endpoint>\t<allowed IPs, sorted, comma-separated>\t<latest handshake>\t<keepalive>".
hearth_wg_running() {
  wg show "$1" dump | awk -F '\t' '
    NR == 1 { print "if\t" $2 "\t" $3; next }
    { n = split($4, a, ","); for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
      s = ""; for (i = 1; i <= n; i++) if (a[i] != "(none)") s = s (s == "" ? "" : ",") a[i]
      print "peer\t" $1 "\t" ($3 == "(none)" ? "-" : $3) "\t" (s == "" ? "-" : s) "\t" $5 "\t" $8 }'
}

# hearth_wg_endpoint_matches WANT FOUND: FOUND (host:port as wg shows it) is WANT, or WANT's name resolves to FOUND's
# address (a name endpoint is resolved when the interface takes it).
hearth_wg_endpoint_matches() {
  local host port
  if [ "$1" = "$2" ]; then return 0; fi
  host=${1%:*} port=${1##*:}
  if [[ $host =~ ^\[ ]] || [[ $host =~ ^[0-9.]+$ ]] || [ "$port" != "${2##*:}" ]; then return 1; fi
  host=$(getent ahosts "$host" | awk -v f="${2%:*}" '{ a = $1; if (a ~ /:/) a = "[" a "]"; if (a == f) { print "y"; exit } }') || true
  [ "$host" = y ]
}

# hearth_wg_diff IF CONF KEY: how running interface IF differs from CONF and KEY, one tab-separated line each:
# "drift\t<what>\t<desired>\t<found>" (what starts with "interface" when IF is absent or down), then per peer
# "info\t<what>\t<latest handshake>". Changes nothing; the converge and the check share it.
hearth_wg_diff() {
  local ifc=$1 key=$3 line found want tag f k name ep ips ka rk rep rips rhs rka running=() peers=()
  if ! line=$(ip -o link show dev "$ifc" 2>/dev/null); then
    printf 'drift\tinterface %s\tup\tabsent\n' "$ifc"
    return 0
  fi
  line=${line#*<}
  if [[ ,${line%%>*}, != *,UP,* ]]; then printf 'drift\tinterface %s\tup\tdown\n' "$ifc"; fi
  mapfile -t running < <(hearth_wg_running "$ifc" 2>/dev/null)
  if [ "${#running[@]}" = 0 ]; then
    printf 'drift\tinterface %s\ta WireGuard interface\twg show cannot read it\n' "$ifc"
    return 0
  fi
  if [ -f "$key" ]; then
    want=$(wg pubkey 2>/dev/null <"$key") || want="(not a key)"
    IFS=$'\t' read -r _ found _ <<<"${running[0]}"
    if [ "$found" != "$want" ]; then printf 'drift\tpublic key of %s\t%s\t%s\n' "$ifc" "${want:0:8}... (the half of $key)" "${found:0:8}..."; fi
  fi
  mapfile -t peers < <(hearth_wg_conf_peers "$2")
  IFS=$'\t' read -r _ _ found <<<"${running[0]}"
  want=${peers[-1]#port$'\t'}
  if [ "$want" != - ] && [ "$want" != "$found" ]; then printf 'drift\tlisten port of %s\t%s\t%s\n' "$ifc" "$want" "$found"; fi
  for line in "${peers[@]}"; do
    IFS=$'\t' read -r k name ep ips ka <<<"$line"
    if [ "$k" = port ]; then continue; fi
    tag="peer $name (${k:0:8}...)"
    if [ "$name" = - ]; then tag="peer ${k:0:8}..."; fi
    found=
    for f in "${running[@]:1}"; do
      IFS=$'\t' read -r _ rk rep rips rhs rka <<<"$f"
      if [ "$rk" = "$k" ]; then found=y; break; fi
    done
    if [ -z "$found" ]; then
      printf 'drift\t%s\tpresent\tabsent\n' "$tag"
      continue
    fi
    if [ "$ep" != - ] && ! hearth_wg_endpoint_matches "$ep" "$rep"; then printf 'drift\t%s endpoint\t%s\t%s\n' "$tag" "$ep" "${rep/#-/none}"; fi
    if [ "$ips" != "$rips" ]; then printf 'drift\t%s allowed IPs\t%s\t%s\n' "$tag" "$ips" "$rips"; fi
    if [ "$ka" != "$rka" ]; then printf 'drift\t%s keepalive\t%s\t%s\n' "$tag" "$ka" "$rka"; fi
    if [ "$rhs" = 0 ]; then found=never; else found="$(($(date +%s) - rhs))s ago"; fi
    printf 'info\t%s latest handshake\t%s\n' "$tag" "$found"
  done
  for f in "${running[@]:1}"; do
    IFS=$'\t' read -r _ rk _ <<<"$f"
    found=
    for line in "${peers[@]}"; do
      if [ "${line%%$'\t'*}" = "$rk" ]; then found=y; break; fi
    done
    if [ -z "$found" ]; then printf 'drift\tpeer %s...\tabsent\tpresent\n' "${rk:0:8}"; fi
  done
}

# hearth_check_wireguard IF CONF STAGED LOADER STAGED_LOADER KEY: the config and key loader wg-quick reads are the
# staged ones hearth proved (0600 and 0700, root's); interface IF exists and is up, and holds KEY's public half,
# CONF's listen port and exactly CONF's peers with their endpoints, allowed IPs and keepalives (hearth_wg_diff).
# Each peer's latest handshake is reported as information. Reads below root-only directories only.
hearth_check_wireguard() {
  local pair live staged mode st found kind what want
  for pair in "$2 $3 0600" "$4 $5 0700"; do
    read -r live staged mode <<<"$pair"
    hearth_check_root_path "$live" || return 0
    hearth_check_root_path "$staged" || return 0
    if [ -L "$live" ] || [ ! -f "$live" ]; then
      if [ -L "$live" ]; then found="a link"; elif [ -e "$live" ]; then found=$(stat -c %F -- "$live"); else found=absent; fi
      hearth_drift "$live" "a regular file" "$found"
      return 0
    fi
    st=$(stat -c '%a %U %G' -- "$live")
    found=$(printf '%04o' "$((8#${st%% *}))")
    if [ "$found" != "$mode" ]; then hearth_drift "$live mode" "$mode" "$found"; fi
    st=${st#* }
    if [ "$st" != "root root" ]; then hearth_drift "$live owner" root:root "${st/ /:}"; fi
    if [ -f "$staged" ] && [ ! -L "$staged" ] && ! cmp -s -- "$live" "$staged"; then
      hearth_drift "$live content" "as hearth staged it" "changed since (no digest shown: it holds keys)"
    fi
  done
  hearth_check_root_path "$6" || return 0
  if [ ! -f "$6" ]; then hearth_drift "$6" present absent; fi
  while IFS=$'\t' read -r kind what want found; do
    if [ "$kind" = drift ]; then hearth_drift "$what" "$want" "$found"; else hearth_check_info "$what" "$want"; fi
  done < <(hearth_wg_diff "$1" "$2" "$6")
}

# --- Knot DNS zones (DnsZone, host backend) ----------------------------------------------------------------------
# What knotd serves is compared with what it served when the converge last finished (recorded as a normalized copy
# after the served serial matched the installed zone file, whose content the generic checks compare with the
# declared records): a record changed through knotc's zone transactions shows, named.

# hearth_knot_served CONF ZONE: the records knotd (configured by CONF) serves for ZONE, one per line
# ("<owner> <ttl> <type> <rdata>", as knotc prints them), sorted, the SOA serial replaced by "-". Fails when knotd
# does not answer.
hearth_knot_served() {
  local out
  out=$(/usr/sbin/knotc -c "$1" zone-read "$2" 2>/dev/null) || return 1
  printf '%s\n' "$out" | awk '{ sub(/^\[[^]]*\] /, ""); if ($3 == "SOA") $6 = "-"; print }' | LC_ALL=C sort -u
}

# hearth_check_knot_zone CONF ZONE KEY: knotd serves ZONE exactly as it did when the converge recorded KEY; each
# missing or extra record is reported by name and type. Nothing to compare when no converge recorded it.
hearth_check_knot_zone() {
  local want found n=0 line f
  want=$(hearth_applied "$3")
  if [ -z "$want" ]; then return 0; fi
  if ! found=$(hearth_knot_served "$1" "$2"); then
    hearth_drift "zone $2" "served by knotd" "knotc zone-read $2 failed (knotd does not answer)"
    return 0
  fi
  while IFS= read -r line; do
    n=$((n + 1))
    if [ "$n" -gt 20 ]; then continue; fi
    read -r -a f <<<"$line"
    if [ "${line:0:1}" = "<" ]; then
      hearth_drift "record ${f[1]} ${f[3]}" "${f[2]} ${line#*"${f[3]}" }" absent
    else
      hearth_drift "record ${f[1]} ${f[3]}" absent "${f[2]} ${line#*"${f[3]}" }"
    fi
  done < <(diff <(printf '%s\n' "$want") <(printf '%s\n' "$found") | grep '^[<>] ' || true)
  if [ "$n" -gt 20 ]; then hearth_drift "zone $2 records" "as served after the last converge" "$((n - 20)) more differences"; fi
}

# --- drift checks: what a host holds against what hearth applied -------------------------------------------------
# A converge ends with hearth_converged, which records that it finished and what each file it installed held. A check
# script (core/check.ts: "# hearth: drift check", this runtime, then per resource hearth_check_begin and its
# hearth_check_* calls) only reads: no hearth_step, no write, no lock, no temp file, no systemctl verb but show and is-*.
# It reports on stdout, one tab-separated line each (fields cut to one line of at most 300 characters):
#   hearth-check <resource>                a resource's checks begin
#   hearth-drift <what> <desired> <found>  the host differs from what was declared or applied
#   hearth-info <what> <value>             worth knowing, not drift (a handshake's age)
#   hearth-error <status>                  the resource's checks stopped early (its stderr says why)

# hearth_converged KEY CONTENT USES PATH...: the last line of every converge: records, under converged/KEY, the content
# hash and uses hash it converged to and the SHA-256 of each PATH it installed ("absent" when there is none), so a check
# can tell a file changed since hearth applied it even when the desired content is a secret or unknown offline.
hearth_converged() {
  local key=$1 rec p
  rec="content $2"$'\n'"uses $3"
  shift 3
  for p in "$@"; do
    if [ -f "$p" ] && [ ! -L "$p" ]; then rec+=$'\n'"file $p $(sha256sum <"$p" | cut -d' ' -f1)"; else rec+=$'\n'"file $p absent"; fi
  done
  hearth_record "converged/$key" "$rec"
}

# hearth_check_text VALUE: VALUE as one report field: control characters become spaces, cut to 300 characters.
hearth_check_text() {
  local v=${1//[[:cntrl:]]/ }
  printf '%s' "${v:0:300}"
}

# hearth_check_begin RESOURCE: the checks that follow are RESOURCE's.
hearth_check_begin() {
  printf 'hearth-check\t%s\n' "$(hearth_check_text "$1")"
}

# hearth_check_end STATUS: closes a resource's checks; a non-zero STATUS is reported as an error of the resource.
hearth_check_end() {
  if [ "$1" != 0 ]; then printf 'hearth-error\t%s\n' "$1"; fi
}

# A host check runs the checks of several resources side by side (each in a background subshell that prints its whole
# report at once): at most twice as many as the host has CPUs, and 8.
hearth_check_parallel=
hearth_check_running=0

# hearth_check_throttle: called after starting a resource's checks in the background: waits for one to finish while
# as many run as may.
hearth_check_throttle() {
  if [ -z "$hearth_check_parallel" ]; then
    hearth_check_parallel=$(($(nproc 2>/dev/null || echo 1) * 2))
    if [ "$hearth_check_parallel" -gt 8 ]; then hearth_check_parallel=8; fi
  fi
  hearth_check_running=$((hearth_check_running + 1))
  if [ "$hearth_check_running" -ge "$hearth_check_parallel" ]; then
    wait -n || true
    hearth_check_running=$((hearth_check_running - 1))
  fi
}

# hearth_check_start: opens the host check's private lock, a pipe of its own that no other process can open (a lock on a
# path anyone may open would let any user hold every check up). Taking it writes nothing.
hearth_check_lock=
hearth_check_start() {
  exec {hearth_check_lock}< <(:)
}

# hearth_check_emit REPORT: prints a resource's whole report while holding the check's lock (opened anew, so the lock
# is this job's), so the reports of checks running side by side never interleave.
hearth_check_emit() {
  local fd
  if [ -n "$hearth_check_lock" ] && { exec {fd}<>"/proc/self/fd/$hearth_check_lock"; } 2>/dev/null; then
    flock "$fd"
    printf '%s\n' "$1"
    exec {fd}>&-
  else
    printf '%s\n' "$1"
  fi
}

# hearth_drift WHAT DESIRED FOUND: reports one difference.
hearth_drift() {
  printf 'hearth-drift\t%s\t%s\t%s\n' "$(hearth_check_text "$1")" "$(hearth_check_text "$2")" "$(hearth_check_text "$3")"
}

# hearth_check_info WHAT VALUE: reports a fact that is not drift.
hearth_check_info() {
  printf 'hearth-info\t%s\t%s\n' "$(hearth_check_text "$1")" "$(hearth_check_text "$2")"
}

# What converged/KEY recorded, read once per resource (each resource's checks run in a subshell of their own); the
# checks below take a process only where a tool must run (stat, sha256sum): a host check is mostly their sum.
hearth_check_rec_key=
hearth_check_rec=
hearth_check_value=
declare -A hearth_check_dir_ok=()

# hearth_check_field KEY FIELD [NAME]: sets hearth_check_value to a field of what converged/KEY recorded: "content",
# "uses", or "file" with NAME (a path) for that file's SHA-256; empty when it recorded none.
hearth_check_field() {
  local f line
  if [ "$hearth_check_rec_key" != "$1" ]; then
    hearth_key "converged/$1"
    hearth_check_rec_key=$1
    hearth_check_rec=
    f=/var/lib/hearth/applied/converged/$1
    # Read only below directories only root can change (else the record could be anyone's: reported, not read).
    if [ -e /var/lib/hearth/applied/converged ] && ! hearth_check_root_path "$f"; then return 0; fi
    if [ -f "$f" ] && [ ! -L "$f" ]; then IFS= read -r -d '' hearth_check_rec <"$f" || true; fi
  fi
  hearth_check_value=
  while IFS= read -r line; do
    if [ "$2" = file ]; then
      if [ "${line#"file $3 "}" != "$line" ]; then hearth_check_value=${line#"file $3 "}; return 0; fi
    elif [ "${line#"$2 "}" != "$line" ]; then
      hearth_check_value=${line#"$2 "}
      return 0
    fi
  done <<<"$hearth_check_rec"
}

# hearth_check_converged KEY CONTENT USES: the resource's last converge finished, and converged to CONTENT (and to
# USES, unless "-"): a converge that failed half-way, or another version of the program applied since, shows here.
hearth_check_converged() {
  hearth_check_field "$1" content
  if [ -z "$hearth_check_rec" ]; then
    hearth_drift "last converge" "finished (content ${2:0:12})" "none finished on this host (a failed up, or never applied)"
    return 0
  fi
  if [ "$hearth_check_value" != "$2" ]; then
    hearth_drift "last converge" "content ${2:0:12}" "content ${hearth_check_value:0:12} (a later converge did not finish, or another version was applied)"
  fi
  hearth_check_field "$1" uses
  if [ "$3" != - ] && [ "$hearth_check_value" != "$3" ]; then
    hearth_drift "last converge" "uses ${3:0:12}" "uses ${hearth_check_value:0:12} (what it uses changed since)"
  fi
}

# hearth_check_root_path PATH: PATH's directory and every one above it are real directories only root can change, so
# reading PATH as root follows no link anybody else planted. Reports drift and fails otherwise (a missing directory
# is reported as PATH absent). One stat for the directories not yet seen by this resource's checks.
hearth_check_root_path() {
  local dir p='' part parts todo=() line uid mode type
  dir=${1%/*}
  IFS=/ read -r -a parts <<<"$dir"
  for part in / "${parts[@]}"; do
    case $part in
      '') continue ;;
      /) p=/ ;;
      *) p=${p%/}/$part ;;
    esac
    if [ -n "${hearth_check_dir_ok[$p]:-}" ]; then continue; fi
    if [ ! -e "$p" ] && [ ! -L "$p" ]; then
      hearth_drift "$1" present absent
      return 1
    fi
    todo+=("$p")
  done
  if [ "${#todo[@]}" = 0 ]; then return 0; fi
  p=0
  while read -r uid mode type; do
    if [ "$uid" != 0 ] || [ "$type" != directory ] || (((8#$mode & 8#022) != 0)); then
      hearth_drift "$1" "below directories only root can change" "${todo[$p]} is a link, not a directory, or others can change it"
      return 1
    fi
    hearth_check_dir_ok[${todo[$p]}]=1
    p=$((p + 1))
  done < <(stat -c '%u %a %F' -- "${todo[@]}")
  if [ "$p" != "${#todo[@]}" ]; then
    hearth_drift "$1" "below directories only root can change" "${todo[$p]} cannot be read"
    return 1
  fi
}

# hearth_check_file PATH SHA256 MODE OWNER GROUP KEY: PATH is a regular file with that mode and owner, holding content
# whose SHA-256 is SHA256; "-" for a content unknown offline (a secret, a key born on a host): then it must hold what
# the converge KEY recorded. Reads below root-only directories only.
hearth_check_file() {
  local p=$1 want=$2 mode=$3 owner=$4 group=$5 key=$6 st found
  hearth_check_root_path "$p" || return 0
  if [ -L "$p" ]; then
    hearth_drift "$p" "a file" "a link to $(readlink -- "$p")"
    return 0
  fi
  if [ ! -e "$p" ]; then
    hearth_drift "$p" present absent
    return 0
  fi
  if [ ! -f "$p" ]; then
    hearth_drift "$p" "a regular file" "$(stat -c %F -- "$p")"
    return 0
  fi
  st=$(stat -c '%a %U %G' -- "$p")
  printf -v found '%04o' "$((8#${st%% *}))"
  if [ "$found" != "$mode" ]; then hearth_drift "$p mode" "$mode" "$found"; fi
  st=${st#* }
  if [ "${st/ /:}" != "$owner:$group" ]; then hearth_drift "$p owner" "$owner:$group" "${st/ /:}"; fi
  found=$(sha256sum <"$p")
  found=${found%% *}
  if [ "$want" = - ]; then
    hearth_check_field "$key" file "$p"
    want=$hearth_check_value
    if [ -z "$want" ]; then return 0; fi
    # Unknown offline means a secret or a key born on the host: no digest of it is shown, not even part of one.
    if [ "$found" != "$want" ]; then hearth_drift "$p content" "as hearth applied it" "changed since hearth applied it"; fi
  elif [ "$found" != "$want" ]; then
    hearth_drift "$p content" "sha256 ${want:0:12}" "sha256 ${found:0:12}"
  fi
}

# hearth_check_hostkey ADDRESS KEY: reports the SSH host key recorded under KEY (by the converge of a machine reached
# at ADDRESS, e.g. a container's), so a check can pin it for that machine's own checks: not drift, a fact.
hearth_check_hostkey() {
  local k
  k=$(hearth_applied "$2")
  if [[ $k =~ ^ssh-ed25519\ [A-Za-z0-9+/]+={0,2}$ ]]; then printf 'hearth-hostkey\t%s\t%s\n' "$(hearth_check_text "$1")" "$k"; fi
}

# hearth_check_verdict [EXPECTED] < REPORT: passes a host check's report (core/check.ts, on stdin) through to stdout, ends it with
# a summary line, and fails (status 1) when it holds a drift or an error line: how the host's own timer
# (HostDriftTimer) makes its unit fail on drift. Reads only.
hearth_check_verdict() {
  local line drift=0 errors=0 reports=0
  while IFS= read -r line || [ -n "$line" ]; do
    printf '%s\n' "$line"
    case $line in
      hearth-check$'\t'*) reports=$((reports + 1)) ;;
      hearth-drift$'\t'*) drift=$((drift + 1)) ;;
      hearth-error$'\t'*) errors=$((errors + 1)) ;;
    esac
  done
  # EXPECTED (the number of resources checked): a report that never came counts as an error.
  if [ -n "${1:-}" ] && [ "$reports" -lt "$1" ]; then errors=$((errors + $1 - reports)); fi
  if [ "$drift" = 0 ] && [ "$errors" = 0 ]; then
    printf 'hearth: drift check: the host matches\n'
    return 0
  fi
  printf 'hearth: drift check: %s difference(s), %s resource(s) not checked to the end\n' "$drift" "$errors"
  return 1
}
# ==== guarded changes and the firewall (HostFirewall): hearth_guard_*, hearth_firewall_* ====
# --- guarded changes: commit-confirm for any change that can cut hearth's own way in (firewall, SSH keys) -------
# A guarded change is armed BEFORE the change and confirmed by a FRESH SSH connection after it:
#   hearth_guard_arm NAME SECONDS RESTORE_FILE ID
#     RESTORE_FILE: a bash script the caller wrote first, a regular file owned by root with no group or other bits
#     (mode 0600/0700), below directories root alone can change (e.g. /var/lib/hearth/guard/NAME/restore.sh). ID names
#     the change (its ruleset hash, its login digest: letters, digits, . _ : -, at most 128). Arms a transient systemd
#     timer, hearth-guard-NAME.timer, that runs `/bin/bash RESTORE_FILE` after SECONDS (1..3600) unless the guard is
#     confirmed first, and records the pending guard (a random token, when armed, the deadline, ID, RESTORE_FILE) in
#     /run/hearth/guard/NAME (root-only). Re-arming a pending guard replaces it (new timer, deadline and ID) and forgets
#     an earlier "fired"; a pending guard already past its deadline is rolled back first (dies if its restore fails).
#     A step.
#   hearth_guard_confirm NAME ID
#     0: the change ID was pending and had not passed its deadline; it is no longer pending, its restore never runs.
#     3: another change is pending (it prints which, sets hearth_guard_said): nothing is touched, its deadline holds.
#     2: the restore ran (it prints when, the deadline and which change, and sets hearth_guard_said): the change is
#        undone (and every unconfirmed change before it: a restore puts back the last confirmed state).
#     1: nothing pending, nothing fired (never armed, confirmed already, or the host rebooted: /run is cleared).
#   hearth_guard_state NAME: prints pending, fired or none.
#   hearth_guard_cancel NAME: forgets the guard (pending and fired) and stops its timer: for a delete.
# Level-triggered: a pending record past its deadline is always rolled back. The timer's service retries a restore
# that failed, timed out or was killed (Restart=on-failure, every 10 s), and arm, confirm and state (so every drift
# check) run the restore themselves when they find a pending record past its deadline. Only a restore that exited 0
# is recorded as fired; until then the record stays pending.
# Why it is crash-safe: the record in /run/hearth/guard/NAME decides, the timer only triggers. Arming, confirming,
# firing and a late restore each hold the guard's lock (flock on /run/hearth/guard/NAME/lock) for their whole run, so
# they never interleave. Arming starts the timer first and writes the pending record (carrying the new token) after
# it: killed between the two, the timer fires on a record that is not its own and does nothing, and the caller (which
# changes things only after arm returned) changed nothing. A restore (the timer's, or a late one) writes "fired" only
# after the restore exited 0, and clears "pending" after. Confirming compares the ID under the lock, clears "pending"
# first and stops the timer after: killed between, the late timer finds nothing pending. So a restore never runs after
# a confirm, a confirm never takes another change's pending record, and an armed, unconfirmed change is always restored
# once its deadline passed.
# A reboot clears /run: whatever loads at boot must be the last confirmed state (callers install boot files only
# after a confirm). Records lost while a timer is armed: its service says so in the journal and exits 0 (no restart).
# The records (pending, fired, lock) are opened only when they are regular files: a link or a FIFO there is refused
# (exit 65 naming it), never followed or opened, and the lock is created only where it is absent. A restore runs at
# most 300 s (then TERM, KILL 10 s later); a confirm waits for a running restore 60 s at most, then fails saying so.
hearth_guard_dir=/run/hearth/guard
hearth_guard_name() {
  [[ $1 =~ ^[a-z0-9][a-z0-9_-]{0,47}$ ]] || hearth_die 70 "bad guard name: '$1' (lowercase letters, digits, _ and -, at most 48)"
}
hearth_guard_id() {
  [[ $2 =~ ^[A-Za-z0-9._:-]{1,128}$ ]] || hearth_die 70 "guard $1: bad change id '$2' (letters, digits, . _ : -, 1..128)"
}

# The timer's service runs this (arguments NAME TOKEN); it is written beside the records. Exits non-zero while the
# restore failed, so systemd runs it again.
hearth_guard_fire_script() {
  cat <<'FIRE'
set -u
n=$1 d=/run/hearth/guard/$1
if [ ! -d "$d" ]; then echo "hearth: guard $n: its records ($d) are gone: nothing to restore"; exit 0; fi
bad() { [ -L "$1" ] || { [ -e "$1" ] && [ ! -f "$1" ]; }; }
[ -e "$d/lock" ] || [ -L "$d/lock" ] || (set -C; : >"$d/lock") 2>/dev/null
for f in "$d/lock" "$d/pending"; do
  if bad "$f" || [ ! -f "$d/lock" ]; then echo "hearth: guard $n: $f is not a regular file (a link, a FIFO or missing): not opened; retried in 10 s"; exit 1; fi
  [ "$f" = "$d/pending" ] || { exec 9<"$d/lock" && flock 9; } || exit 1
done
if ! read -r tok armed deadline id restore 2>/dev/null <"$d/pending"; then echo "hearth: guard $n: nothing pending (confirmed, cancelled or its record removed): nothing to restore"; exit 0; fi
if [ "$tok" != "$2" ]; then echo "hearth: guard $n: the pending change $id is not this timer's (re-armed since): nothing to do"; exit 0; fi
timeout -k 10 300 /bin/bash "$restore"
rc=$?
[ "$rc" = 0 ] || exit 1
printf '%s 0 %s %s %s\n' "$(date +%s)" "$armed" "$deadline" "$id" >"$d/fired.new" && mv -f -T "$d/fired.new" "$d/fired" || exit 1
rm -f "$d/pending"
FIRE
}

# hearth_guard_plain NAME FILE: 0 when FILE is a regular file, 1 when it is absent; dies 65 on a link, a FIFO or
# anything else, which nothing opens (a FIFO blocks a read forever, a link leads elsewhere).
hearth_guard_plain() {
  if [ -L "$2" ] || { [ -e "$2" ] && [ ! -f "$2" ]; }; then
    hearth_die 65 "guard $1: $2 is not a regular file (a link, a FIFO or another kind): refusing to open it; remove it and run again"
  fi
  [ -f "$2" ]
}

# hearth_guard_open NAME: the guard's lock file open (read-only) on fd hearth_guard_fd, created only where absent
# (noclobber: O_EXCL, never through a link). Fails where it cannot be created (the records read-only).
hearth_guard_fd=
hearth_guard_open() {
  local f=$hearth_guard_dir/$1/lock
  [ -e "$f" ] || [ -L "$f" ] || (set -C; : >"$f") 2>/dev/null || true
  hearth_guard_plain "$1" "$f" || return 1
  exec {hearth_guard_fd}<"$f"
}

# hearth_guard_lock NAME [SECONDS]: holds the guard's lock, waiting SECONDS (600) at most for a running restore.
hearth_guard_lock() {
  local w=${2:-600}
  hearth_dir "$hearth_guard_dir/$1" 0700
  hearth_guard_open "$1" || hearth_die 73 "guard $1: cannot create its lock $hearth_guard_dir/$1/lock"
  flock -w "$w" "$hearth_guard_fd" || hearth_die 75 "guard $1: its lock is held for ${w} s: a restore is running (the timer's, or a late one); nothing was changed, run again once it is done"
}
hearth_guard_unlock() { exec {hearth_guard_fd}>&-; }

# hearth_guard_overdue NAME, the lock held: a pending record past its deadline is rolled back now.
# 0: nothing pending past its deadline; 2: restored now (recorded fired); 4: the restore failed (still pending;
# hearth_guard_said says so).
hearth_guard_overdue() {
  local d=$hearth_guard_dir/$1 armed deadline id restore rc=0
  hearth_guard_plain "$1" "$d/pending" || return 0
  read -r _ armed deadline id restore 2>/dev/null <"$d/pending" || return 0
  [[ $deadline =~ ^[0-9]{1,12}$ ]] && [ "$(date +%s)" -ge "$deadline" ] && [ -n "$restore" ] || return 0
  timeout -k 10 300 /bin/bash "$restore" >&2 || rc=$?
  if [ "$rc" != 0 ]; then
    hearth_guard_said="guard $1: the change ${id:-?} passed its deadline and its restore $restore failed (exit $rc); it stays pending and is retried"
    hearth_warn "$hearth_guard_said"
    return 4
  fi
  # Called where set -e does not hold (state's `|| true`): each write checked, the record cleared only after "fired".
  hearth_tmp_in "$d"
  if ! { printf '%s 0 %s %s %s\n' "$(date +%s)" "$armed" "$deadline" "$id" >"$hearth_tmp" && mv -f -T -- "$hearth_tmp" "$d/fired" && rm -f -- "$d/pending"; }; then
    hearth_guard_said="guard $1: the change ${id:-?} was restored but could not be recorded; it stays pending"
    return 4
  fi
  systemctl stop "hearth-guard-$1.timer" "hearth-guard-$1.service" 2>/dev/null || true
  return 2
}

hearth_guard_arm() {
  local name=$1 secs=$2 restore=$3 id=${4-} d tok now st rc=0
  hearth_guard_name "$name"
  hearth_guard_id "$name" "$id"
  if ! [[ $secs =~ ^[1-9][0-9]{0,3}$ ]] || [ "$secs" -gt 3600 ]; then hearth_die 70 "guard $name: bad window '$secs' (whole seconds, 1..3600)"; fi
  [[ $restore =~ ^/[A-Za-z0-9._/-]+$ ]] || hearth_die 70 "guard $name: bad restore path '$restore'"
  hearth_dir "$(hearth_parent "$restore")"
  if [ ! -f "$restore" ] || [ -L "$restore" ]; then hearth_die 70 "guard $name: the restore $restore is not a regular file"; fi
  st=$(stat -c '%u %a' -- "$restore")
  if [ "${st%% *}" != 0 ] || (((8#${st#* } & 8#077) != 0)); then hearth_die 65 "guard $name: the restore $restore must be root's alone (owner root, no group or other bits)"; fi
  d=$hearth_guard_dir/$name
  hearth_guard_lock "$name"
  hearth_guard_overdue "$name" || rc=$?
  if [ "$rc" = 4 ]; then hearth_die 75 "$hearth_guard_said: not arming a new change over it"; fi
  systemctl stop "hearth-guard-$name.timer" "hearth-guard-$name.service" 2>/dev/null || true
  systemctl reset-failed "hearth-guard-$name.timer" "hearth-guard-$name.service" 2>/dev/null || true
  hearth_step
  hearth_remove "$d/fired"
  hearth_tmp_in "$d"
  hearth_guard_fire_script >"$hearth_tmp"
  hearth_put "$hearth_tmp" "$d/fire" 0600 root root
  tok=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
  now=$(date +%s)
  systemd-run --quiet --collect --unit="hearth-guard-$name" --description="hearth: undo the unconfirmed change $name" \
    --on-active="${secs}s" --timer-property=AccuracySec=1s --property=Restart=on-failure --property=RestartSec=10s \
    --property=RestartForceExitStatus='SIGTERM SIGINT SIGHUP SIGPIPE' --property=StartLimitIntervalSec=0 \
    /bin/bash -c "test -f $d/fire || { echo 'hearth: guard $name: $d/fire is gone (its records were removed): nothing to restore'; exit 0; }; exec /bin/bash $d/fire $name $tok" >/dev/null
  hearth_step
  hearth_tmp_in "$d"
  printf '%s %s %s %s %s\n' "$tok" "$now" "$((now + secs))" "$id" "$restore" >"$hearth_tmp"
  mv -f -T -- "$hearth_tmp" "$d/pending"
  hearth_step
  hearth_guard_unlock
  hearth_say "guard $name armed for change $id: it is undone at $(date -u -d "@$((now + secs))" '+%F %T UTC') unless a fresh connection confirms it"
}

hearth_guard_said=
hearth_guard_confirm() {
  local name=$1 want=${2-} d at rc=0 armed deadline id
  hearth_guard_name "$name"
  hearth_guard_id "$name" "$want"
  d=$hearth_guard_dir/$name
  [ -d "$d" ] || return 1
  hearth_guard_lock "$name" 60
  hearth_guard_overdue "$name" || rc=$?
  if [ "$rc" = 4 ]; then hearth_die 75 "$hearth_guard_said"; fi
  if hearth_guard_plain "$name" "$d/pending" && read -r _ armed deadline id _ 2>/dev/null <"$d/pending"; then
    if [ "$id" != "$want" ]; then
      hearth_guard_unlock
      printf -v hearth_guard_said 'guard %s: the pending change is %s (armed at %s, undone at %s unless confirmed), not %s: nothing confirmed' "$name" \
        "${id:-unnamed}" "$(date -u -d "@${armed:-0}" '+%F %T UTC')" "$(date -u -d "@${deadline:-0}" '+%F %T UTC')" "$want"
      printf '%s\n' "$hearth_guard_said"
      return 3
    fi
    rm -f -- "$d/pending"
    hearth_step
    systemctl stop "hearth-guard-$name.timer" 2>/dev/null || true
    hearth_step
    hearth_guard_unlock
    return 0
  fi
  if hearth_guard_plain "$name" "$d/fired"; then
    read -r at rc armed deadline id <"$d/fired" || true
    hearth_guard_unlock
    printf -v hearth_guard_said 'guard %s fired at %s (change %s, armed at %s, deadline %s; the restore exited %s)' "$name" \
      "$(date -u -d "@${at:-0}" '+%F %T UTC')" "${id:-unnamed}" "$(date -u -d "@${armed:-0}" '+%F %T UTC')" "$(date -u -d "@${deadline:-0}" '+%F %T UTC')" "${rc:-?}"
    printf '%s\n' "$hearth_guard_said"
    return 2
  fi
  hearth_guard_unlock
  return 1
}

# hearth_guard_state NAME: pending, fired or none. A pending record past its deadline is rolled back first (it then
# prints fired; pending while that restore fails, or where the records cannot be written: the drift timer's read-only
# sandbox, or the guard's lock held for 30 s by the timer's own restore).
hearth_guard_state() {
  hearth_guard_name "$1"
  local d=$hearth_guard_dir/$1 deadline
  hearth_guard_plain "$1" "$d/fired" || true
  if hearth_guard_plain "$1" "$d/pending" && read -r _ _ deadline _ 2>/dev/null <"$d/pending" && [[ $deadline =~ ^[0-9]{1,12}$ ]] &&
    [ "$(date +%s)" -ge "$deadline" ] && [ -w "$d" ] && hearth_guard_open "$1"; then
    if flock -w 30 "$hearth_guard_fd"; then hearth_guard_overdue "$1" || true; fi
    hearth_guard_unlock
  fi
  if [ -f "$d/pending" ]; then echo pending; elif [ -f "$d/fired" ]; then echo fired; else echo none; fi
}

hearth_guard_cancel() {
  local d=$hearth_guard_dir/$1
  hearth_guard_name "$1"
  if [ ! -d "$d" ]; then
    systemctl stop "hearth-guard-$1.timer" "hearth-guard-$1.service" 2>/dev/null || true
    return 0
  fi
  hearth_guard_lock "$1"
  rm -f -- "$d/pending" "$d/fired"
  hearth_step
  systemctl stop "hearth-guard-$1.timer" "hearth-guard-$1.service" 2>/dev/null || true
  hearth_guard_unlock
}
# --- the firewall (HostFirewall): table inet hearth, applied under the guard "firewall" ----------------------------
# Files: /var/lib/hearth/firewall/desired.nft (staged by the converge), /etc/hearth/firewall.nft (the last confirmed
# ruleset, loaded at boot by hearth-firewall.service; written only by a confirm), /var/lib/hearth/guard/firewall/
# {previous.nft,restore.sh} (what the guard puts back). Records: firewall/owner (the mark), firewall/pending
# ("RULESET_SHA LIVE_SHA" right after an apply), firewall/confirmed (the same pair once a fresh connection confirmed).
# Every decision reads the LIVE table (hearth_firewall_live), never what an earlier run did.
hearth_fw_desired=/var/lib/hearth/firewall/desired.nft
hearth_fw_boot=/etc/hearth/firewall.nft
hearth_fw_guard=/var/lib/hearth/guard/firewall

# hearth_firewall_live: the SHA-256 of `nft list table inet hearth`, or "absent".
hearth_firewall_live() {
  local t
  if t=$(nft list table inet hearth 2>/dev/null); then printf '%s\n' "$t" | sha256sum | cut -d' ' -f1; else echo absent; fi
}

# hearth_firewall_claim WHAT: the table is this resource's (its record), or nobody's and absent; else hearth_claim dies.
hearth_firewall_claim() {
  local found
  found=$(hearth_applied firewall/owner)
  if [ -n "$found" ]; then
    hearth_claim "$1" "$found"
  elif nft list table inet hearth >/dev/null 2>&1; then
    hearth_claim "$1" ""
  fi
  hearth_record firewall/owner "$hearth_owner"
}

# hearth_firewall_converge SECONDS RULESET_SHA: applies the staged ruleset under the guard unless the live table is the
# one confirmed for it (and nothing is pending). The guard restores the table as it was before the first unconfirmed
# apply: while a guard is pending (an apply whose confirm never came), previous.nft is kept, never replaced by the
# unconfirmed table.
hearth_firewall_converge() {
  local secs=$1 want=$2 live state
  # The state first: reading it rolls back a change past its deadline, which changes the live table.
  state=$(hearth_guard_state "$hearth_fw_guard_name")
  live=$(hearth_firewall_live)
  if [ "$(hearth_applied firewall/confirmed)" = "$want $live" ] && [ "$state" != pending ]; then
    hearth_say "firewall: table inet hearth is the confirmed ruleset ${want:0:12}"
    # A rollback of another ruleset since: nothing left to report for this one.
    if [ "$state" = fired ]; then hearth_remove "$hearth_guard_dir/$hearth_fw_guard_name/fired"; fi
    return 0
  fi
  nft -c -f "$hearth_fw_desired" >/dev/null || hearth_die 65 "firewall: nft refuses the ruleset ${want:0:12} (above); nothing was changed"
  hearth_dir "$hearth_fw_guard" 0700
  if [ "$state" != pending ] || [ ! -f "$hearth_fw_guard/previous.nft" ]; then
    hearth_tmp_in "$hearth_fw_guard"
    { printf 'table inet hearth\ndelete table inet hearth\n'; nft list table inet hearth 2>/dev/null || true; } >"$hearth_tmp"
    hearth_put "$hearth_tmp" "$hearth_fw_guard/previous.nft" 0600 root root
  fi
  hearth_tmp_in "$hearth_fw_guard"
  printf 'nft -f %s\n' "$hearth_fw_guard/previous.nft" >"$hearth_tmp"
  hearth_put "$hearth_tmp" "$hearth_fw_guard/restore.sh" 0600 root root
  hearth_guard_arm "$hearth_fw_guard_name" "$secs" "$hearth_fw_guard/restore.sh" "$want"
  nft -f "$hearth_fw_desired"
  hearth_step
  hearth_record firewall/pending "$want $(hearth_firewall_live)"
  hearth_say "firewall: ruleset ${want:0:12} is live; it is rolled back in ${secs}s unless a fresh SSH connection confirms it"
}
hearth_fw_guard_name=firewall

# hearth_firewall_confirm RULESET_SHA: run by the confirm command, a fresh SSH connection made after the converge.
hearth_firewall_confirm() {
  local want=$1 rc=0 pend live
  hearth_lock firewall
  pend=$(hearth_applied firewall/pending)
  hearth_guard_confirm "$hearth_fw_guard_name" "$want" >/dev/null || rc=$?
  live=$(hearth_firewall_live)
  if [ "$rc" = 3 ]; then
    hearth_die 75 "firewall: this confirm is of ruleset ${want:0:12}, but a later apply waits for its own confirm ($hearth_guard_said): it is left to that confirm or to its rollback. The live table is ${live:0:12}"
  fi
  if [ "$rc" = 2 ]; then
    hearth_die 75 "firewall: the ruleset ${want:0:12} was rolled back: no fresh SSH connection confirmed it within its window ($hearth_guard_said). It cut new SSH connections from where hearth connects (is that address in adminNetworks? is sshPort the port hearth uses?), or the up stopped before its confirm ran. The live table is the previous one (${live:0:12}). An up of this same program does not apply it again by itself (the engine re-runs only this confirm, which cannot prove a fresh connection after applying): fix the rules, or raise the host's reapply counter for this firewall to try again"
  fi
  # Confirmed now (0), or by an earlier confirm cut short after it took the guard (1, and the live table is what the
  # apply left): either way this ruleset is the confirmed one.
  if [ "$rc" = 0 ] || { [ -n "$pend" ] && [ "$pend" = "$want $live" ]; }; then
    [ "${pend%% *}" = "$want" ] || hearth_die 70 "firewall: the pending apply is of ruleset ${pend:0:12}, not ${want:0:12} (did another up run the converge since?)"
    hearth_record firewall/confirmed "$pend"
  fi
  if [ "$(hearth_applied firewall/confirmed)" != "$want $live" ]; then
    hearth_die 75 "firewall: the live table inet hearth (${live:0:12}) is not the ruleset ${want:0:12} and no change is pending: it was changed by hand or reloaded since, or the host rebooted before a confirm. Raise the host's reapply counter for this firewall to apply it again"
  fi
  hearth_dir /etc/hearth 0755
  hearth_tmp_in /etc/hearth
  cat -- "$hearth_fw_desired" >"$hearth_tmp"
  [ "$(sha256sum <"$hearth_tmp" | cut -d' ' -f1)" = "$want" ] || hearth_die 70 "firewall: the staged ruleset is not ${want:0:12}"
  hearth_put "$hearth_tmp" "$hearth_fw_boot" 0600 root root
  hearth_say "firewall: ruleset ${want:0:12} confirmed by a fresh SSH connection; it is what the host loads at boot"
}

# hearth_firewall_remove: the delete: only when the record names this resource. Cancels a pending guard first, so
# no restore brings the table back after it is gone.
hearth_firewall_remove() {
  local f
  hearth_mine "$(hearth_applied firewall/owner)" || return 0
  hearth_guard_cancel "$hearth_fw_guard_name"
  if nft list table inet hearth >/dev/null 2>&1; then
    nft delete table inet hearth
    hearth_step
  fi
  hearth_remove "$hearth_fw_boot"
  # Started at boot it stays active (RemainAfterExit): stopped first (it has no stop command, the table is gone
  # already), or systemd keeps it loaded without a file and refuses to load the file a later converge writes.
  if systemctl is-active --quiet hearth-firewall.service 2>/dev/null; then
    systemctl stop --quiet hearth-firewall.service
    hearth_step
  fi
  if systemctl is-enabled --quiet hearth-firewall.service 2>/dev/null; then
    systemctl disable --quiet --no-reload hearth-firewall.service
    hearth_step
  fi
  hearth_remove /etc/systemd/system/hearth-firewall.service
  hearth_daemon_reload --gone hearth-firewall.service
  for f in "$hearth_fw_desired" "$hearth_fw_guard/previous.nft" "$hearth_fw_guard/restore.sh"; do hearth_remove "$f"; done
  hearth_forget firewall/pending
  hearth_forget firewall/confirmed
  hearth_forget firewall/owner
}

# hearth_check_firewall RULESET_SHA: the confirmed ruleset is this one, the live table is what was confirmed, no guard is
# pending or fired, and the boot file holds it. Reads only.
hearth_check_firewall() {
  local want=$1 conf live state boot
  state=$(hearth_guard_state "$hearth_fw_guard_name")
  conf=$(hearth_applied firewall/confirmed)
  live=$(hearth_firewall_live)
  if [ "${conf%% *}" != "$want" ]; then
    hearth_drift "firewall ruleset" "confirmed ${want:0:12}" "${conf:+confirmed ${conf:0:12}}${conf:-none confirmed}"
  elif [ "${conf#* }" != "$live" ]; then
    hearth_drift "table inet hearth" "as confirmed (${conf#* })" "changed since (${live})"
  fi
  if [ "$state" != none ]; then hearth_drift "firewall guard" none "$state"; fi
  boot=absent
  if [ -f "$hearth_fw_boot" ] && [ ! -L "$hearth_fw_boot" ]; then boot=$(sha256sum <"$hearth_fw_boot" | cut -d' ' -f1); fi
  if [ "$boot" != "$want" ]; then hearth_drift "$hearth_fw_boot" "sha256 ${want:0:12}" "${boot:0:12}"; fi
}
# ==== accounts and SSH keys (HostAccounts): hearth_account_*, hearth_keys_* ====
# HostAccounts owns, per host: the keys files below /etc/ssh/hearth/authorized_keys (root's, 0644, read by sshd as the
# user, editable by nobody else), the sshd drop-in that makes every account but root read only those, the sudoers files
# /etc/sudoers.d/hearth-<user>, and the accounts it declared (applied accounts/users). One resource owns them all
# (applied accounts/owner, claimed before anything changes); a delete touches them only when that record is its own.
# A user no longer declared keeps its account and home, loses its keys, its sudo and the groups hearth added it to
# (applied accounts/groups/<user>), and is locked (expired): nothing is ever deleted. Accounts hearth created are
# remembered (applied accounts/created): an existing system or service account is never taken over.
# The deploy login (drop-in, the deploy account's keys and sudoers) changes under the guard "accounts", armed with the
# login's digest as the change's ID: the known-good files are kept in /var/lib/hearth/accounts (good/, restore.sh)
# before the guard is armed, and a fresh login as the deploy account confirms that change and no other
# (hearth_keys_confirm); an unconfirmed change is restored when the guard fires.
hearth_keys_state=/var/lib/hearth/accounts

# hearth_keys_owner: who owns the host's accounts: the record, else (written by a release before the record) the
# drop-in's mark, else the first keys file's; empty when nobody.
hearth_keys_owner() {
  local o f
  o=$(hearth_applied accounts/owner)
  if [ -z "$o" ]; then o=$(hearth_file_owner /etc/ssh/sshd_config.d/00-hearth-accounts.conf); fi
  if [ -z "$o" ]; then
    for f in /etc/ssh/hearth/authorized_keys/*; do
      o=$(hearth_file_owner "$f")
      if [ -n "$o" ]; then break; fi
    done
  fi
  printf '%s\n' "$o"
}

# hearth_keys_own: the host's accounts are this resource's (or an alias's, or nobody's: no owner and no managed users),
# or adopted; else dies touching nothing (hearth_claim). Records this resource as their owner.
hearth_keys_own() {
  local o
  o=$(hearth_keys_owner)
  if [ -n "$o" ] || [ -n "$(hearth_applied accounts/users)" ]; then hearth_claim "the accounts and SSH keys of this host (HostAccounts)" "$o"; fi
  hearth_record accounts/owner "$hearth_owner"
}

# hearth_account_can USER SHELL SYSTEM GROUP...: what USER needs is on the host (the shell, the groups), and an existing
# USER is one hearth may take: one it created or already manages, or an ordinary login account (UID at least the
# host's UID_MIN, a shell that is not nologin or false unless that shell is the one declared). Reads only.
hearth_account_can() {
  local user=$1 shell=$2 system=$3 g ent uid cur min what=keys
  shift 3
  if [ ! -f "$shell" ] || [ ! -x "$shell" ]; then hearth_die 65 "the shell $shell of $user is not installed on this host"; fi
  for g in "$@"; do getent group "$g" >/dev/null || hearth_die 65 "the group $g of $user does not exist on this host (create it first, e.g. by installing its package)"; done
  ent=$(getent passwd "$user") || return 0
  # shellcheck disable=SC2046
  if hearth_keys_listed "$user" $(hearth_applied accounts/users) $(hearth_applied accounts/created); then return 0; fi
  uid=$(cut -d: -f3 <<<"$ent")
  cur=${ent##*:}
  min=$(awk '$1 == "UID_MIN" { print $2 }' /etc/login.defs 2>/dev/null) || true
  [[ $min =~ ^[0-9]{1,9}$ ]] || min=1000
  if [ "$system" = 1 ]; then what="keys and passwordless sudo"; fi
  if [ "$uid" -lt "$min" ]; then
    hearth_die 65 "$user exists as a system account (UID $uid, below the host's UID_MIN $min) that hearth did not create: HostAccounts never takes over a system or service account (it would get a login shell and $what); choose a name no account has"
  fi
  case $cur in */nologin | */false) if [ "$cur" != "$shell" ]; then
    hearth_die 65 "$user exists with the shell $cur (a service account, or one disabled on purpose) and hearth did not create it: HostAccounts never takes it over (it would get the shell $shell and $what); choose a name no account has"
  fi ;; esac
}

# hearth_keys_claim PATH...: each PATH that exists carries this resource's mark (or an alias's); dies otherwise.
hearth_keys_claim() {
  local p
  for p in "$@"; do
    if [ -e "$p" ] || [ -L "$p" ]; then hearth_claim "$p" "$(hearth_file_owner "$p")"; fi
  done
}

# hearth_account_manage USER...: adds the declared users to the ones hearth manages (applied accounts/users).
hearth_account_manage() {
  local -a managed
  local u all
  read -r -a managed <<<"$(hearth_applied accounts/users)"
  all=" ${managed[*]} "
  for u in "$@"; do case $all in *" $u "*) ;; *) managed+=("$u") ;; esac; done
  hearth_record accounts/users "${managed[*]}"
}

# hearth_account_ensure USER SHELL SYSTEM GROUP...: USER exists (created with a home and its own group; a system
# account when SYSTEM is 1; remembered as hearth's before useradd runs), has SHELL, is in each GROUP and in no group
# hearth added it to that is not listed, and is not locked (expired).
hearth_account_ensure() {
  local user=$1 shell=$2 system=$3 created
  shift 3
  if ! getent passwd "$user" >/dev/null; then
    created=$(hearth_applied accounts/created)
    if [[ " $created " != *" $user "* ]]; then hearth_record accounts/created "${created:+$created }$user"; fi
    if [ "$system" = 1 ]; then
      useradd --system --create-home --user-group --shell "$shell" -- "$user"
    else
      useradd --create-home --user-group --shell "$shell" -- "$user"
    fi
    hearth_step
    hearth_say "created the account $user"
  fi
  if [ "$(getent passwd "$user" | cut -d: -f7)" != "$shell" ]; then
    usermod --shell "$shell" -- "$user"
    hearth_step
  fi
  hearth_account_groups "$user" "$@"
  if [ -n "$(getent shadow "$user" | cut -d: -f8)" ]; then
    usermod --expiredate '' -- "$user"
    hearth_step
    hearth_say "unlocked the account $user"
  fi
}

# hearth_account_groups USER GROUP...: USER is in each GROUP; a group hearth added USER to (applied
# accounts/groups/USER, recorded before usermod runs) that is not listed any more is taken away. A group USER was in
# before hearth declared it is never recorded, so never taken away.
hearth_account_groups() {
  local user=$1 g have
  local -a added kept=()
  shift
  read -r -a added <<<"$(hearth_applied "accounts/groups/$user")"
  have=" $(id -nG -- "$user") "
  for g in "$@"; do
    case $have in *" $g "*) ;; *)
      hearth_keys_listed "$g" "${added[@]}" || added+=("$g")
      hearth_record "accounts/groups/$user" "${added[*]}"
      usermod -a -G "$g" -- "$user"
      hearth_step
      ;;
    esac
  done
  for g in "${added[@]}"; do
    if hearth_keys_listed "$g" "$@"; then
      kept+=("$g")
    elif [[ $have == *" $g "* ]]; then
      gpasswd -d "$user" "$g" >/dev/null
      hearth_step
      hearth_say "took $user out of the group $g (hearth added it; no longer declared)"
    fi
  done
  if [ "${#kept[@]}" = 0 ]; then hearth_forget "accounts/groups/$user"; else hearth_record "accounts/groups/$user" "${kept[*]}"; fi
}

# hearth_account_sudoers USER: /etc/sudoers.d/hearth-USER lets USER run anything as root without a password or a TTY;
# the file is checked with visudo -cf before it is renamed into place (a temp name with a dot, which sudo never reads).
hearth_account_sudoers() {
  hearth_dir /etc/sudoers.d
  hearth_tmp_in /etc/sudoers.d
  printf '%s\n' "# hearth-owner: $hearth_owner" "$1 ALL=(ALL:ALL) NOPASSWD: ALL" "Defaults:$1 !requiretty" >"$hearth_tmp"
  chmod 0440 "$hearth_tmp"
  visudo -cqf "$hearth_tmp" >/dev/null 2>&1 || hearth_die 65 "the sudoers file for $1 does not pass visudo -c"
  hearth_put "$hearth_tmp" "/etc/sudoers.d/hearth-$1" 0440 root root
}

# hearth_keys_snapshot PATH...: keeps PATH... as they are now (the known-good deploy login) in good/ and writes
# restore.sh, which puts them back (a missing one is removed) and reloads sshd: what the guard runs when it fires.
hearth_keys_snapshot() {
  local d=$hearth_keys_state i=0 p
  hearth_dir "$d/good" 0700
  hearth_tmp_in "$d"
  echo 'set -u' >"$hearth_tmp"
  for p in "$@"; do
    i=$((i + 1))
    rm -f -- "$d/good/$i"
    if [ -f "$p" ] && [ ! -L "$p" ]; then
      cp -p -- "$p" "$d/good/$i"
      printf 'cp -p -- %q %q && mv -f -T -- %q %q\n' "$d/good/$i" "$p.hearth-restore" "$p.hearth-restore" "$p" >>"$hearth_tmp"
    else
      printf 'rm -f -- %q\n' "$p" >>"$hearth_tmp"
    fi
    hearth_step
  done
  echo 'systemctl reload ssh.service' >>"$hearth_tmp"
  hearth_put "$hearth_tmp" "$d/restore.sh" 0600 root root
}

# hearth_keys_guard SECONDS DIGEST PATH...: before the deploy login's files PATH... change to DIGEST (or while a change
# of them waits for its confirm, or was never made live), keeps the known-good ones (unless a change is pending: then
# the kept ones are still the known-good) and arms the guard for SECONDS with DIGEST as the change's ID. Nothing to do
# when they are DIGEST and live.
hearth_keys_guard() {
  local secs=$1 want=$2 state
  shift 2
  state=$(hearth_guard_state accounts)
  if [ "$state" != pending ] && [ "$(hearth_digest "$@")" = "$want" ] && [ "$(hearth_applied accounts/login)" = "$want" ]; then return 0; fi
  if [ "$state" != pending ]; then hearth_keys_snapshot "$@"; fi
  hearth_guard_arm accounts "$secs" "$hearth_keys_state/restore.sh" "$want"
}

# hearth_keys_live DIGEST PATH...: the deploy login's files are DIGEST (else hearth's renderer and runtime disagree)
# and sshd runs with them: checked with sshd -t (a config sshd refuses is put back at once) and reloaded unless what
# was made live last (applied accounts/login) is this.
hearth_keys_live() {
  local want=$1 err
  shift
  if [ "$(hearth_digest "$@")" != "$want" ]; then hearth_die 70 "the deploy login's files are not what was rendered (digest $(hearth_digest "$@"), not $want)"; fi
  if [ "$(hearth_applied accounts/login)" = "$want" ]; then return 0; fi
  if ! err=$(sshd -t 2>&1); then
    /bin/bash "$hearth_keys_state/restore.sh" >/dev/null 2>&1 || true
    hearth_die 65 "sshd refuses its configuration with hearth's drop-in (put back the previous files): $err"
  fi
  hearth_keys_reload
  hearth_record accounts/login "$want"
}

# hearth_keys_reload: sshd reloads its configuration and listens again before this returns: on SIGHUP it re-executes
# itself, closing its listening sockets for a moment, and `systemctl reload` returns before that, so a login right
# after a bare reload may be refused. Waits (at most 10 s) until sshd's main process holds new sockets again.
hearth_keys_reload() {
  local pid before now i=0
  pid=$(systemctl show -p MainPID --value ssh.service 2>/dev/null) || true
  [[ $pid =~ ^[0-9]+$ ]] || pid=0
  before=$(hearth_keys_sockets "$pid")
  systemctl reload ssh.service
  while [ "$pid" != 0 ] && [ -n "$before" ] && [ "$i" -lt 100 ]; do
    now=$(hearth_keys_sockets "$pid")
    if [ "$now" != "$before" ] && [ "$(wc -l <<<"$now")" -ge "$(wc -l <<<"$before")" ]; then break; fi
    sleep 0.1
    i=$((i + 1))
  done
  hearth_step
}

# hearth_keys_sockets PID: the sockets process PID holds, one per line, sorted.
hearth_keys_sockets() {
  local f
  for f in /proc/"$1"/fd/*; do readlink -- "$f" 2>/dev/null || true; done | grep '^socket:' | sort || true
}

# hearth_keys_prune k:USER... s:USER...: removes the keys files (k:) and hearth's sudoers files (s:) of users not
# listed: a keys file that is this resource's, carries no mark (made by hand, or a planted link) or is adopted; a
# sudoers file that is this resource's. Another resource's is left alone.
hearth_keys_prune() {
  local f n m
  for f in /etc/ssh/hearth/authorized_keys/*; do
    n=${f##*/}
    if { [ -e "$f" ] || [ -L "$f" ]; } && ! hearth_keys_listed "k:$n" "$@"; then
      m=$(hearth_file_owner "$f")
      if [ -z "$m" ] || hearth_mine "$m" || [ "$hearth_adopt" = 1 ]; then hearth_remove "$f"; else hearth_say "left $f: it is $m's"; fi
    fi
  done
  for f in /etc/sudoers.d/hearth-*; do
    n=${f#/etc/sudoers.d/hearth-}
    if [ -e "$f" ] && ! hearth_keys_listed "s:$n" "$@" && hearth_mine "$(hearth_file_owner "$f")"; then hearth_remove "$f"; fi
  done
}

hearth_keys_listed() {
  local want=$1 a
  shift
  for a in "$@"; do [ "$a" = "$want" ] && return 0; done
  return 1
}

# hearth_account_lock USER: USER (when it exists) is locked: expired, so no login of any kind starts a session; the
# groups hearth added it to are taken away.
hearth_account_lock() {
  getent passwd "$1" >/dev/null || return 0
  if [ "$(getent shadow "$1" | cut -d: -f8)" != 1 ]; then
    usermod --expiredate 1 -- "$1"
    hearth_step
    hearth_say "locked the account $1 (no longer declared; its home and files are kept)"
  fi
  hearth_account_groups "$1"
}

# hearth_account_retire USER...: locks every managed user not listed, then manages the listed ones only.
hearth_account_retire() {
  local -a managed
  local u
  read -r -a managed <<<"$(hearth_applied accounts/users)"
  for u in "${managed[@]}"; do hearth_keys_listed "$u" "$@" || hearth_account_lock "$u"; done
  hearth_record accounts/users "$*"
}

# hearth_keys_remove_all: the delete, only when the host's accounts are this resource's: hearth's drop-in, keys files
# and sudoers files go (sshd reloaded), every managed account is locked; homes and accounts stay.
hearth_keys_remove_all() {
  local -a managed
  local u o
  o=$(hearth_keys_owner)
  if [ -n "$o" ] && ! hearth_mine "$o"; then
    hearth_say "the accounts and SSH keys of this host are $o's, not $hearth_owner's: left as they are"
    return 0
  fi
  # No rollback may bring back what this removes.
  hearth_guard_cancel accounts
  if [ -e /etc/ssh/sshd_config.d/00-hearth-accounts.conf ] && hearth_mine "$(hearth_file_owner /etc/ssh/sshd_config.d/00-hearth-accounts.conf)"; then
    hearth_remove /etc/ssh/sshd_config.d/00-hearth-accounts.conf
  fi
  if [ -n "$(hearth_applied accounts/login)" ]; then
    hearth_keys_reload
    hearth_forget accounts/login
  fi
  hearth_keys_prune -
  read -r -a managed <<<"$(hearth_applied accounts/users)"
  for u in "${managed[@]}"; do hearth_account_lock "$u"; done
  hearth_forget accounts/users
  if [ -d /etc/ssh/hearth/authorized_keys ]; then hearth_rmdir /etc/ssh/hearth/authorized_keys; fi
  if [ -d /etc/ssh/hearth ]; then hearth_rmdir /etc/ssh/hearth; fi
  hearth_forget accounts/owner
}

# hearth_keys_confirm DIGEST PATH...: run over a fresh login as the deploy account: confirms the pending change of the
# deploy login to DIGEST (and no other: a change armed since by another up is left to its own confirm or rollback), or
# fails saying it was rolled back; with nothing pending, the files must be DIGEST and live.
hearth_keys_confirm() {
  local want=$1 rc=0
  shift
  hearth_guard_confirm accounts "$want" >/dev/null || rc=$?
  case $rc in
    0) hearth_say "the deploy login works over a fresh connection: change confirmed" ;;
    2) hearth_die 75 "the change of the deploy login was rolled back: it was not confirmed in time ($hearth_guard_said). The previous keys, sudo and sshd settings are back; a fresh login with the Host's key as the deploy account must work with the new ones (is the Host's key among deploy.keys?)" ;;
    3) hearth_die 75 "the change of the deploy login waiting for its confirm is not this one (${want:0:12}) but a later one ($hearth_guard_said): another up ran the converge since. Nothing was confirmed: that change is confirmed by its own confirm, or rolled back" ;;
    *)
      if [ "$(hearth_digest "$@")" != "$want" ] || [ "$(hearth_applied accounts/login)" != "$want" ]; then
        hearth_die 75 "the deploy login is not as declared and no change of it waits for a confirm (rolled back earlier, or changed since): run up again after fixing the declaration, or raise the host's reapply counter"
      fi
      ;;
  esac
}

# hearth_keys_check_sshd DROPIN: the drop-in is in effect: sshd was reloaded with the files as they are (applied
# accounts/login is recorded only then) and its effective configuration for a non-root user reads hearth's keys files.
hearth_keys_check_sshd() {
  local akf
  akf=$(sshd -T -C user=hearth-check,host=localhost,addr=127.0.0.1 2>/dev/null | awk '$1 == "authorizedkeysfile" { $1 = ""; print substr($0, 2) }') || true
  if [ "$akf" != "/etc/ssh/hearth/authorized_keys/%u" ]; then hearth_drift "sshd AuthorizedKeysFile" "/etc/ssh/hearth/authorized_keys/%u" "${akf:-unknown}"; fi
  if [ ! -f "$1" ]; then hearth_drift "$1" present absent; fi
}

# hearth_keys_check_guard NAME: no change waits for its confirm, and the last one was not rolled back.
hearth_keys_check_guard() {
  local st
  st=$(hearth_guard_state "$1")
  if [ "$st" != none ]; then hearth_drift "guard $1" "none (every change confirmed)" "$st"; fi
}

# hearth_keys_check_files k:USER... s:USER...: no keys file or hearth sudoers file beyond the listed ones.
hearth_keys_check_files() {
  local f n
  for f in /etc/ssh/hearth/authorized_keys/*; do
    n=${f##*/}
    if { [ -e "$f" ] || [ -L "$f" ]; } && ! hearth_keys_listed "k:$n" "$@"; then hearth_drift "$f" absent "present (not declared)"; fi
  done
  for f in /etc/sudoers.d/hearth-*; do
    n=${f#/etc/sudoers.d/hearth-}
    if [ -e "$f" ] && ! hearth_keys_listed "s:$n" "$@"; then hearth_drift "$f" absent "present (not declared)"; fi
  done
}

# hearth_keys_check_admins USER...: every member of the groups sudo, admin and wheel is one of the USERs (declared with
# sudo): a member nobody declared is root in effect behind HostAccounts' back.
hearth_keys_check_admins() {
  local g m
  local -a ms
  for g in sudo admin wheel; do
    IFS=, read -r -a ms <<<"$(getent group "$g" | cut -d: -f4)"
    for m in "${ms[@]}"; do
      if ! hearth_keys_listed "$m" "$@"; then hearth_drift "group $g" "only users declared with sudo" "$m is a member (not declared with sudo)"; fi
    done
  done
}

# hearth_keys_check_sudoers USER OWNER: /etc/sudoers.d/hearth-USER is the file hearth writes (0440 root:root).
hearth_keys_check_sudoers() {
  local f=/etc/sudoers.d/hearth-$1 want
  hearth_check_root_path "$f" || return 0
  if [ -L "$f" ] || [ ! -f "$f" ]; then
    hearth_drift "$f" "a file" "$( [ -L "$f" ] && echo link || echo absent)"
    return 0
  fi
  want=$(printf '%s\n' "# hearth-owner: $2" "$1 ALL=(ALL:ALL) NOPASSWD: ALL" "Defaults:$1 !requiretty")
  if [ "$(cat -- "$f")" != "$want" ]; then hearth_drift "$f content" "as hearth writes it" "changed"; fi
  if [ "$(stat -c '%a %U %G' -- "$f")" != "440 root root" ]; then hearth_drift "$f mode" "440 root root" "$(stat -c '%a %U %G' -- "$f")"; fi
}
# ==== upgrades and the reboot window (HostUpgrades): hearth_upgrades_*, hearth_reboot_* ====
# What hearth's apt configuration makes, against what apt reads from every file of /etc/apt/apt.conf.d: `apt-config
# dump`, whose last value of a setting wins and whose list is every file's entries after the last `#clear`.
# hearth_upgrades_diff WORD... -- ORIGIN...: a WORD KEY=VALUE is a setting that must read VALUE; a WORD KEY:: is a list
# that must be empty (a list that widens, narrows or times what is upgraded: unattended-upgrades' Allowed-Origins,
# Package-Blacklist, Package-Whitelist, Update-Days); the ORIGINs are Unattended-Upgrade::Origins-Pattern, exactly.
# Prints one "what<TAB>desired<TAB>found" line per difference, found naming the files that mention the setting.
hearth_upgrades_diff() {
  local dump line k v o want=''
  declare -A got=() list=()
  dump=$(apt-config dump 2>/dev/null) || {
    printf 'apt configuration\treadable\tapt-config dump failed\n'
    return 0
  }
  while IFS= read -r line; do
    case $line in
      *':: "'*'";') k=${line%%:: \"*} v=${line#*:: \"} && list[$k]+="${list[$k]:+;}${v%\";}" ;;
      *' "'*'";') k=${line%% \"*} && v=${line#* \"} && got[$k]=${v%\";} ;;
    esac
  done <<<"$dump"
  while [ "$#" -gt 0 ] && [ "$1" != -- ]; do
    case $1 in
      *::) k=${1%::} && v=${list[$k]-} && if [ -n "$v" ]; then hearth_upgrades_differs "$k" "(none)" "$v"; fi ;;
      *) k=${1%%=*} v=${1#*=} && if [ "${got[$k]-(unset)}" != "$v" ]; then hearth_upgrades_differs "$k" "$v" "${got[$k]-(unset)}"; fi ;;
    esac
    shift
  done
  shift
  for o in "$@"; do want+="${want:+;}$o"; done
  k=Unattended-Upgrade::Origins-Pattern
  if [ "$want" != "${list[$k]-}" ]; then hearth_upgrades_differs "$k" "$want" "${list[$k]:-(none)}"; fi
}

# hearth_upgrades_differs KEY WANT FOUND: one line of hearth_upgrades_diff; FOUND gets the files of apt's configuration
# that mention KEY's last name, where a reader can find it (in apt's order: the parts directory, then apt.conf; hearth's
# own file aside, and for a list hearth's file clears only the files read after it). A mention is outside comments
# (// and # lines) and not an empty list (the packaged `Package-Blacklist { };`).
hearth_upgrades_differs() {
  local apt_main='' apt_parts='' f first where='' after=1 leaf=${1##*::}
  case $1 in *::Origins-Pattern | *::Allowed-Origins) after='' ;; esac
  eval "$(apt-config shell apt_main Dir::Etc::main/f apt_parts Dir::Etc::parts/d 2>/dev/null)"
  for f in "$apt_parts"* "$apt_main"; do
    if [ ! -f "$f" ]; then continue; fi
    first=''
    IFS= read -r first <"$f" || true
    case $first in '# hearth-owner: '*) after=1 && continue ;; esac
    if [ -n "$after" ] && sed -e 's://.*$::' -e '/^[[:space:]]*#/d' -- "$f" 2>/dev/null | tr -s ' \t\n' ' ' |
      sed -E "s/[^ {};\"]*$leaf ?\{ ?\};?//Ig" | grep -qiwF -- "$leaf"; then where+="${where:+, }$f"; fi
  done
  printf 'apt %s\t%s\t%s\n' "$1" "$2" "$3${where:+ (set in $where)}"
}

# hearth_upgrades_config WORD... -- ORIGIN...: apt reads hearth's configuration as written; a file that overrides it,
# widens or narrows what is upgraded or switches it off stops the converge (65), naming each setting and its files.
hearth_upgrades_config() {
  local d
  d=$(hearth_upgrades_diff "$@")
  if [ -n "$d" ]; then hearth_die 65 "apt's configuration overrides hearth's ${d//$'\t'/ | } (a file in /etc/apt/apt.conf.d, or /etc/apt/apt.conf: remove the setting there)"; fi
}

# hearth_drift_from FUNCTION ARG...: each `what<TAB>want<TAB>found` line FUNCTION prints is reported as drift.
hearth_drift_from() {
  local what want found
  while IFS=$'\t' read -r what want found; do
    if [ -n "$what" ]; then hearth_drift "$what" "$want" "$found"; fi
  done < <("$@")
}

# hearth_upgrades_check_config WORD... -- ORIGIN...: the same, reported as drift.
hearth_upgrades_check_config() { hearth_drift_from hearth_upgrades_diff "$@"; }

# hearth_upgrades_calendar ARG CALENDAR: systemd on this host reads CALENDAR (the argument ARG) and it elapses again;
# dies (65) naming the argument before anything is written otherwise (a past date, a day no month has).
hearth_upgrades_calendar() {
  local out
  out=$(systemd-analyze calendar -- "$2" 2>&1) || hearth_die 65 "$1 '$2': systemd on this host cannot read it: ${out##*: }"
  case $out in
    *'Next elapse: never'*) hearth_die 65 "$1 '$2': it never elapses again on this host (systemd-analyze calendar: Next elapse: never): declare a repeating calendar" ;;
    *'Next elapse: '*) ;;
    *) hearth_die 65 "$1 '$2': systemd-analyze calendar gives no next elapse: $out" ;;
  esac
}

# hearth_upgrades_usec SPAN: the microseconds systemd reads in the time span SPAN (systemd-analyze timespan).
hearth_upgrades_usec() {
  local k v
  while read -r k v; do
    case $k in Original: | Human:) ;; *:) echo "$v" ;; esac
  done < <(systemd-analyze timespan -- "$1" 2>/dev/null)
}

# hearth_upgrades_schedule_diff TIMER CALENDAR SECONDS: TIMER's effective schedule (as systemd runs it, every drop-in
# read) is CALENDAR alone with a RandomizedDelaySec of SECONDS; one "what<TAB>desired<TAB>found" line per difference,
# found naming the timer's drop-ins.
hearth_upgrades_schedule_diff() {
  local out line want='' found='' k v cal='' delay='' dropins=''
  out=$(systemd-analyze calendar -- "$2" 2>/dev/null) || true
  while IFS= read -r line; do
    case $line in *'Normalized form: '*) want=${line#*Normalized form: } ;; esac
  done <<<"$out"
  while IFS='=' read -r k v; do
    case $k in
      TimersCalendar) cal=$v ;;
      RandomizedDelayUSec) delay=$v ;;
      DropInPaths) dropins=$v ;;
    esac
  done < <(systemctl show -p TimersCalendar,RandomizedDelayUSec,DropInPaths -- "$1" 2>/dev/null || true)
  # "{ OnCalendar=EXPR ; next_elapse=... }" per calendar.
  while [[ $cal == *'OnCalendar='* ]]; do
    cal=${cal#*OnCalendar=}
    found+="${found:+; }${cal%% ; *}"
  done
  dropins=${dropins:-none}
  if [ "$found" != "${want:-$2}" ]; then printf 'unit %s OnCalendar\t%s\t%s\n' "$1" "${want:-$2}" "${found:-none} (drop-ins: $dropins)"; fi
  if [ "$(hearth_upgrades_usec "${delay:-?}")" != "$(hearth_upgrades_usec "${3}s")" ]; then printf 'unit %s RandomizedDelaySec\t%s\t%s\n' "$1" "${3}s" "${delay:-unknown} (drop-ins: $dropins)"; fi
}

# hearth_upgrades_schedule TIMER CALENDAR SECONDS: the declared upgrade time is the one systemd runs; another drop-in
# on TIMER that moves it stops the converge (65).
hearth_upgrades_schedule() {
  local d
  d=$(hearth_upgrades_schedule_diff "$@")
  if [ -n "$d" ]; then hearth_die 65 "another drop-in overrides the declared upgrade time: ${d//$'\t'/ | } (remove it, or declare the time it sets)"; fi
}

# hearth_upgrades_check_schedule TIMER CALENDAR SECONDS: the same, reported as drift.
hearth_upgrades_check_schedule() { hearth_drift_from hearth_upgrades_schedule_diff "$@"; }

# hearth_upgrades_timers TIMER...: each of apt's packaged timers is enabled and active, as systemctl says now (a timer
# disabled by hand is enabled again by the next run). A masked one is refused: someone masked it on purpose.
hearth_upgrades_timers() {
  local t st
  for t in "$@"; do
    st=$(systemctl is-enabled -- "$t" 2>/dev/null || true)
    case $st in
      enabled) ;;
      masked | masked-runtime) hearth_die 65 "$t is masked on this host ($st), and unattended upgrades need it: systemctl unmask $t, then run again" ;;
      '' | not-found) hearth_die 66 "$t is not installed on this host (apt ships it)" ;;
      *)
        systemctl enable --quiet -- "$t"
        hearth_step
        hearth_say "enabled $t (it was $st)"
        ;;
    esac
    if ! systemctl is-active --quiet -- "$t"; then
      systemctl start -- "$t"
      hearth_step
      hearth_say "started $t"
    fi
  done
}

# hearth_upgrades_check_timers TIMER...: each is enabled and active.
hearth_upgrades_check_timers() {
  local t st
  for t in "$@"; do
    st=$(systemctl is-enabled -- "$t" 2>/dev/null || true)
    if [ "$st" != enabled ]; then hearth_drift "unit $t enabled" enabled "${st:-not found}"; fi
    st=$(systemctl is-active -- "$t" 2>/dev/null || true)
    if [ "$st" != active ]; then hearth_drift "unit $t active" active "${st:-unknown}"; fi
  done
}

# hearth_reboot_pending: a reboot is required: /run/reboot-required exists (Debian's packages write it when an
# upgrade needs one, through /usr/share/update-notifier/notify-reboot-required; unattended-upgrades reads the same
# file). Gone with /run at the next boot. Sets hearth_reboot_since (its time, UTC) and hearth_reboot_pkgs (the
# distinct names in /run/reboot-required.pkgs). Reads only.
hearth_reboot_since=
hearth_reboot_pkgs=
hearth_reboot_pending() {
  hearth_reboot_since='' hearth_reboot_pkgs=''
  if [ ! -e /run/reboot-required ] && [ ! -L /run/reboot-required ]; then return 1; fi
  hearth_reboot_since=$(date -u -d "@$(stat -c %Y -- /run/reboot-required)" '+%Y-%m-%d %H:%M:%S UTC' 2>/dev/null || echo "an unknown time")
  if [ -f /run/reboot-required.pkgs ] && [ ! -L /run/reboot-required.pkgs ]; then
    hearth_reboot_pkgs=$(head -c 4096 -- /run/reboot-required.pkgs | tr -cs 'a-z0-9.+-' '\n' | sort -u | paste -sd' ')
  fi
}

# hearth_reboot_in_window CALENDAR MINUTES NOW: NOW (epoch seconds) is inside the window that opens at each elapse of
# CALENDAR (a systemd calendar expression, in the host's time zone as its timer reads it) and stays open MINUTES:
# the first elapse after NOW - MINUTES is not after NOW. Sets hearth_reboot_opened to that elapse (epoch seconds).
hearth_reboot_opened=
hearth_reboot_in_window() {
  local out line next='' utc=''
  hearth_reboot_opened=''
  out=$(systemd-analyze calendar --base-time="@$(($3 - $2 * 60))" -- "$1" 2>&1) || hearth_die 70 "systemd-analyze cannot read the calendar expression $1: $out"
  while IFS= read -r line; do
    case $line in
      *'Next elapse: '*) next=${line#*Next elapse: } ;;
      *'(in UTC): '*) utc=${line#*(in UTC): } ;;
    esac
  done <<<"$out"
  next=${utc:-$next}
  # "never": the expression has no elapse left.
  hearth_reboot_opened=$(date -u -d "$next" +%s 2>/dev/null) || return 1
  [ "$hearth_reboot_opened" -le "$3" ]
}

# hearth_reboot_window CALENDAR MINUTES: the reboot window's job (hearth-reboot-window.service, started by its timer at
# each elapse of CALENDAR, or late after the host was off). Requests a reboot (`systemctl reboot`, once) only when one
# is required now and now is inside the window; while apt runs (apt-daily, apt-daily-upgrade) it waits, as long as
# the window stays open. Decided from the host's state alone, never from what a run installed.
hearth_reboot_window() {
  local why
  if ! hearth_reboot_pending; then
    hearth_say "no reboot required"
    return 0
  fi
  why="a reboot is required since $hearth_reboot_since${hearth_reboot_pkgs:+ (by $hearth_reboot_pkgs)}"
  while :; do
    if ! hearth_reboot_in_window "$1" "$2" "$(date +%s)"; then
      hearth_say "$why; now is outside the reboot window ($1, open $2 minutes): not rebooting"
      return 0
    fi
    if ! systemctl is-active --quiet apt-daily.service apt-daily-upgrade.service; then break; fi
    hearth_say "apt is upgrading (apt-daily or apt-daily-upgrade is active): waiting while the window is open"
    sleep 30
  done
  hearth_say "$why; inside the reboot window opened $(date -d "@$hearth_reboot_opened" '+%Y-%m-%d %H:%M:%S %Z') ($2 minutes): requesting a reboot"
  systemctl reboot
}

# hearth_reboot_check_pending WINDOW: reports a pending reboot (since when, by which packages) and what will reboot
# the host: the declared WINDOW, or "-" for none. Not drift: it reports a fact.
hearth_reboot_check_pending() {
  if hearth_reboot_pending; then
    hearth_check_info "reboot required" "since $hearth_reboot_since${hearth_reboot_pkgs:+ by $hearth_reboot_pkgs}; $(if [ "$1" = - ]; then echo "no reboot window declared: reboot by hand"; else echo "rebooted in the window $1"; fi)"
  fi
}
# ==== kernel tuning, time, names (HostTuning): hearth_sysctl_*, hearth_tuning_* ====
# Records: tuning/owner (the resource that tunes this host), tuning/sysctl/<key> ("=" and the value the key had before
# hearth first set it, what it gets back once no longer declared), tuning/hostname ("=" and the hostname before hearth
# first set it), tuning/timesync (the digest of the time-server drop-in systemd-timesyncd was last restarted with).

# hearth_sysctl_at KEY: sets hearth_sysctl_file to KEY's file below /proc/sys (dots become slashes).
hearth_sysctl_file=
hearth_sysctl_at() {
  if ! [[ $1 =~ ^[a-z][a-z0-9_]*(\.[a-z0-9_][a-z0-9_-]*)+$ ]]; then hearth_die 70 "bad sysctl name: $1"; fi
  hearth_sysctl_file=/proc/sys/${1//.//}
}

# hearth_sysctl_live KEY: sets hearth_sysctl_value to KEY's live value with its whitespace as single spaces (the kernel
# separates a list with tabs); status 1 when this kernel has no such key, 2 when it cannot be read (a write-only file, or
# one the kernel refuses to show, e.g. an unset stable_secret: bash's read cannot tell an error from the end, cat can).
hearth_sysctl_value=
hearth_sysctl_live() {
  local raw parts=()
  hearth_sysctl_at "$1"
  if [ ! -f "$hearth_sysctl_file" ]; then return 1; fi
  raw=$(cat -- "$hearth_sysctl_file" 2>/dev/null) || return 2
  read -r -d '' -a parts <<<"$raw" || true
  hearth_sysctl_value=${parts[*]}
}

# hearth_sysctl_set KEY VALUE: writes VALUE to KEY's live setting (a step; hearth_sysctl_live KEY ran first), then reads
# it back; fails, with hearth_sysctl_why saying why, when the kernel refuses it or reads back something else.
hearth_sysctl_why=
hearth_sysctl_set() {
  local err
  if ! err=$({ printf '%s\n' "$2" >"$hearth_sysctl_file"; } 2>&1); then
    hearth_sysctl_why="the kernel refused it (${err##*: })"
    return 1
  fi
  hearth_step
  hearth_changed=$((hearth_changed + 1))
  if ! hearth_sysctl_live "$1"; then
    hearth_sysctl_why="it cannot be read back"
    return 1
  fi
  if [ "$hearth_sysctl_value" != "$2" ]; then
    hearth_sysctl_why="the kernel reads it back as '$hearth_sysctl_value'"
    return 1
  fi
}

# hearth_sysctl_ready KEY VALUE...: every KEY exists on this kernel and can be written here, and a congestion control is
# one the kernel offers (its module loaded first where modules exist; a network namespace other than the host's may only
# choose from tcp_allowed_congestion_control). Dies naming the first that is not, before anything is written.
hearth_sysctl_ready() {
  local offer allowed
  while [ "$#" -gt 1 ]; do
    hearth_sysctl_at "$1"
    hearth_sysctl_live "$1" || case $? in
      1) hearth_die 65 "sysctl $1: this kernel has no such setting ($hearth_sysctl_file is missing)" ;;
      *) hearth_die 65 "sysctl $1: its value cannot be read here, so hearth could neither compare it nor put it back (an action or a secret, not a setting)" ;;
    esac
    if [ ! -w "$hearth_sysctl_file" ]; then hearth_die 65 "sysctl $1: cannot be set here ($hearth_sysctl_file is read-only; inside a container only the network namespace's settings are writable)"; fi
    if [ "$1" = net.ipv4.tcp_congestion_control ]; then
      offer=$(</proc/sys/net/ipv4/tcp_available_congestion_control)
      if [[ " $offer " != *" $2 "* ]] && command -v modprobe >/dev/null && modprobe -q "tcp_$2" 2>/dev/null; then
        hearth_step
        offer=$(</proc/sys/net/ipv4/tcp_available_congestion_control)
      fi
      if [[ " $offer " != *" $2 "* ]]; then hearth_die 65 "sysctl $1=$2: this kernel offers only: $offer"; fi
      allowed=$(</proc/sys/net/ipv4/tcp_allowed_congestion_control)
      if [[ " $allowed " != *" $2 "* ]] && systemd-detect-virt --container --quiet 2>/dev/null; then
        hearth_die 65 "sysctl $1=$2: a container's network namespace may only choose from tcp_allowed_congestion_control: $allowed"
      fi
    fi
    shift 2
  done
}

# hearth_sysctl_apply KEY VALUE...: records each KEY's live value the first time (before anything is written to it),
# then writes VALUE where the live value differs. A value the kernel refuses or reads back in another form (a value
# must be declared as the kernel prints it, or every run would write it again) dies, the live value put back first.
hearth_sysctl_apply() {
  local was why
  while [ "$#" -gt 1 ]; do
    hearth_sysctl_live "$1" || hearth_die 65 "sysctl $1: this kernel has no such setting, or its value cannot be read"
    if [ -z "$(hearth_applied "tuning/sysctl/$1")" ]; then hearth_record "tuning/sysctl/$1" "=$hearth_sysctl_value"; fi
    if [ "$hearth_sysctl_value" != "$2" ]; then
      was=$hearth_sysctl_value
      hearth_say "setting sysctl $1 = $2 (was $was)"
      if ! hearth_sysctl_set "$1" "$2"; then
        why=$hearth_sysctl_why
        if [ "$hearth_sysctl_value" != "$was" ] && ! hearth_sysctl_set "$1" "$was"; then why+="; putting back $was failed too: $hearth_sysctl_why"; fi
        hearth_die 65 "sysctl $1=$2: $why: declare the value as the kernel prints it (\`sysctl -n $1\` after setting it by hand), or one the kernel takes"
      fi
    fi
    shift 2
  done
}

# hearth_sysctl_release [KEY...]: every key hearth set that is not among KEY gets back the value it had before hearth
# first set it, then its record goes (a run killed in between finds the value back and only forgets it).
hearth_sysctl_release() {
  local f k orig keep=" $* "
  for f in /var/lib/hearth/applied/tuning/sysctl/*; do
    if [ ! -f "$f" ] || [ -L "$f" ]; then continue; fi
    k=${f##*/}
    case $keep in *" $k "*) continue ;; esac
    orig=$(hearth_applied "tuning/sysctl/$k")
    orig=${orig#=}
    if ! hearth_sysctl_live "$k"; then
      hearth_warn "sysctl $k is gone from this kernel or cannot be read: nothing to put back, forgetting it"
    elif [ "$hearth_sysctl_value" != "$orig" ]; then
      hearth_say "putting back sysctl $k = $orig (hearth set it to $hearth_sysctl_value)"
      if ! hearth_sysctl_set "$k" "$orig"; then hearth_warn "sysctl $k: could not put back $orig ($hearth_sysctl_why): it stays $hearth_sysctl_value until set by hand or the next boot; forgetting it"; fi
    fi
    hearth_forget "tuning/sysctl/$k"
  done
}

# hearth_tuning_claim FILE...: this resource may tune the host: the owner recorded is this resource (or none yet, and
# each FILE that exists carries this resource's mark; a file or link hearth did not write is refused, never followed).
hearth_tuning_claim() {
  local found p
  found=$(hearth_applied tuning/owner)
  if [ -n "$found" ]; then
    hearth_claim "the tuning of this host (sysctls, time servers, hostname, /etc/hosts block)" "$found"
    return 0
  fi
  for p in "$@"; do
    if [ ! -e "$p" ] && [ ! -L "$p" ]; then continue; fi
    found=$(hearth_file_owner "$p")
    if [ -z "$found" ]; then hearth_die 65 "$p exists and hearth did not write it: move its settings into HostTuning and remove it"; fi
    hearth_claim "$p" "$found"
  done
}

# hearth_tuning_timesync DROPIN: systemd-timesyncd is enabled and was restarted with DROPIN as it is now (its digest is
# recorded after the restart). Inside a container timesyncd does not start (ConditionVirtualization=!container): the
# restart is skipped by systemd and succeeds.
hearth_tuning_timesync() {
  local d
  d=$(hearth_digest "$1")
  if ! systemctl is-enabled --quiet systemd-timesyncd.service 2>/dev/null; then
    systemctl enable --quiet systemd-timesyncd.service
    hearth_step
  fi
  if [ "$(hearth_applied tuning/timesync)" != "$d" ]; then
    systemctl restart systemd-timesyncd.service
    hearth_step
    hearth_record tuning/timesync "$d"
  fi
}

# hearth_tuning_timesync_off DROPIN: DROPIN (when this resource's) is removed and timesyncd restarted without it.
hearth_tuning_timesync_off() {
  if hearth_mine "$(hearth_file_owner "$1")"; then hearth_remove "$1"; fi
  if [ -n "$(hearth_applied tuning/timesync)" ]; then
    if hearth_unit_file_exists systemd-timesyncd.service; then
      systemctl try-restart systemd-timesyncd.service
      hearth_step
    fi
    hearth_forget tuning/timesync
  fi
}

# hearth_tuning_name_put NAME: /etc/hostname holds NAME (written to a random temp name in /etc, renamed over it) and the
# live hostname is NAME.
hearth_tuning_name_put() {
  hearth_dir /etc
  hearth_tmp_in /etc
  printf '%s\n' "$1" >"$hearth_tmp"
  hearth_put "$hearth_tmp" /etc/hostname 0644 root root
  if [ "$(</proc/sys/kernel/hostname)" != "$1" ]; then
    hostname "$1"
    hearth_step
    hearth_say "set the live hostname to $1"
  fi
}

# hearth_tuning_hostname NAME: the hostname is NAME; the one before is recorded the first time.
hearth_tuning_hostname() {
  local orig=
  if [ -z "$(hearth_applied tuning/hostname)" ]; then
    if [ -f /etc/hostname ] && [ ! -L /etc/hostname ]; then read -r orig </etc/hostname || true; fi
    hearth_record tuning/hostname "=${orig:-$(</proc/sys/kernel/hostname)}"
  fi
  hearth_tuning_name_put "$1"
}

# hearth_tuning_hostname_release: the hostname hearth found before it first set one is put back, then forgotten.
hearth_tuning_hostname_release() {
  local orig
  orig=$(hearth_applied tuning/hostname)
  if [ -z "$orig" ]; then return 0; fi
  hearth_tuning_name_put "${orig#=}"
  hearth_forget tuning/hostname
}

hearth_tuning_hosts_begin='# hearth-hosts: begin (managed by hearth: lines up to the end marker are rewritten)'
hearth_tuning_hosts_end='# hearth-hosts: end'

# hearth_tuning_hosts_edit BLOCK: prints /etc/hosts with BLOCK's lines between hearth's marker lines in place of the
# block there (else at the end; an empty BLOCK: no block); status 3 when the markers are not one pair (a block whose end
# line was removed cannot be told from the user's own lines; a second block would be dropped).
hearth_tuning_hosts_edit() {
  local f=/etc/hosts
  if [ -L "$f" ]; then hearth_die 65 "refusing /etc/hosts: it is a link (to $(readlink -- "$f")), not a file"; fi
  if [ ! -e "$f" ]; then f=/dev/null; elif [ ! -f "$f" ]; then hearth_die 65 "refusing /etc/hosts: not a regular file"; fi
  B=$hearth_tuning_hosts_begin E=$hearth_tuning_hosts_end L=$1 awk '
    function put() { if (ENVIRON["L"] != "" && !done) print ENVIRON["B"] "\n" ENVIRON["L"] "\n" ENVIRON["E"]; done = 1 }
    $0 == ENVIRON["B"] { if (on || done) exit 3; on = 1; put(); next }
    $0 == ENVIRON["E"] { if (!on) exit 3; on = 0; next }
    !on { print }
    END { if (on) exit 3; put() }' "$f"
}

# hearth_tuning_hosts_ready: /etc/hosts can be edited (see hearth_tuning_hosts_edit); dies otherwise.
hearth_tuning_hosts_ready() {
  local at
  if hearth_tuning_hosts_edit '' >/dev/null; then return 0; fi
  at=$(grep -nxF -e "$hearth_tuning_hosts_begin" -e "$hearth_tuning_hosts_end" /etc/hosts | cut -d: -f1 | paste -sd,)
  hearth_die 65 "/etc/hosts has hearth's marker lines out of pairs, or more than one block (marker lines at $at): repair the block by hand"
}

# hearth_tuning_hosts BLOCK: /etc/hosts holds BLOCK (see hearth_tuning_hosts_edit), written to a random temp name in
# /etc and renamed over it, keeping its mode and owner.
hearth_tuning_hosts() {
  local st='644 root root'
  hearth_tuning_hosts_ready
  if [ -z "$1" ] && ! { [ -f /etc/hosts ] && grep -qxF -- "$hearth_tuning_hosts_begin" /etc/hosts; }; then return 0; fi
  hearth_dir /etc
  hearth_tmp_in /etc
  hearth_tuning_hosts_edit "$1" >"$hearth_tmp" || hearth_die 65 "/etc/hosts changed while it was edited"
  if [ -f /etc/hosts ]; then st=$(stat -c '%a %U %G' -- /etc/hosts); fi
  read -r -a st <<<"$st"
  hearth_put "$hearth_tmp" /etc/hosts "${st[0]}" "${st[1]}" "${st[2]}"
}

# hearth_sysctl_check_live KEY VALUE: KEY's live value is VALUE.
hearth_sysctl_check_live() {
  if ! hearth_sysctl_live "$1"; then
    hearth_drift "sysctl $1" "$2" "no such setting on this kernel, or unreadable"
  elif [ "$hearth_sysctl_value" != "$2" ]; then
    hearth_drift "sysctl $1" "$2" "$hearth_sysctl_value"
  fi
}

# hearth_tuning_check_hostname NAME: the live hostname and /etc/hostname are NAME.
hearth_tuning_check_hostname() {
  local found=
  found=$(</proc/sys/kernel/hostname)
  if [ "$found" != "$1" ]; then hearth_drift "live hostname" "$1" "$found"; fi
  hearth_check_root_path /etc/hostname || return 0
  if [ -L /etc/hostname ]; then
    found="a link"
  elif [ -f /etc/hostname ]; then
    found=$(head -c 300 /etc/hostname)
  else
    found=absent
  fi
  if [ "$found" != "$1" ]; then hearth_drift /etc/hostname "$1" "$found"; fi
}

# hearth_tuning_check_hosts SHA256|none: the lines of hearth's block in /etc/hosts have that SHA-256 (none: no block).
hearth_tuning_check_hosts() {
  local found
  hearth_check_root_path /etc/hosts || return 0
  if [ -L /etc/hosts ] || [ ! -f /etc/hosts ]; then
    hearth_drift /etc/hosts "a regular file" "a link, or not a file"
    return 0
  fi
  if ! grep -qxF -- "$hearth_tuning_hosts_begin" /etc/hosts; then
    found=none
  else
    found=$(awk -v b="$hearth_tuning_hosts_begin" -v e="$hearth_tuning_hosts_end" '$0 == b { on = 1; next } $0 == e { on = 0 } on' /etc/hosts | sha256sum)
    found=${found%% *}
  fi
  if [ "$found" != "$1" ]; then hearth_drift "/etc/hosts block" "${1:0:12}" "${found:0:12}"; fi
}

# hearth_tuning_check_timesync: systemd-timesyncd is enabled.
hearth_tuning_check_timesync() {
  local found
  found=$(systemctl is-enabled systemd-timesyncd.service 2>/dev/null) || true
  if [ "$found" != enabled ]; then hearth_drift "systemd-timesyncd" enabled "${found:-not installed}"; fi
}
