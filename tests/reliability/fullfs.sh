#!/bin/bash
# A small file system that fills up, for the write-failure tests.
#   fullfs.sh mount DIR BYTES   a fresh tmpfs of BYTES at DIR; where mounting is
#                               not allowed, DIR/.fsize_limit = BYTES instead
#                               and the writer limits its file size (RLIMIT_FSIZE)
#   fullfs.sh umount DIR        undo it
set -u
cmd=${1:?usage: fullfs.sh mount DIR BYTES | umount DIR}
dir=${2:?directory}
case "$cmd" in
mount)
    bytes=${3:?bytes}
    if mountpoint -q "$dir" 2>/dev/null; then umount "$dir" || exit 1; fi
    rm -rf "$dir" && mkdir -p "$dir" || exit 1
    if mount -t tmpfs -o "size=$bytes" tmpfs "$dir" 2>/dev/null; then
        echo "tmpfs of $bytes bytes mounted at $dir"
    else
        echo "$bytes" > "$dir/.fsize_limit"
        echo "cannot mount a tmpfs here: file size limited to $bytes bytes instead"
    fi
    ;;
umount)
    if mountpoint -q "$dir" 2>/dev/null; then umount "$dir" || exit 1; fi
    rm -rf "$dir"
    ;;
*)
    echo "usage: fullfs.sh mount DIR BYTES | umount DIR" >&2
    exit 2
    ;;
esac
