#!/usr/bin/env bash
# Fetches the data sets of the examples and benchmarks, verifies their checksums and unpacks
# them under datasets/ (git-ignored). Idempotent: whatever is present and verified is skipped.
# Atomic: everything is fetched under a temporary name, verified, and only then moved in place.
#   scripts/fetch-data.sh [airfoil|cifar10|all] [--dest DIR] [--mirror URL_OR_DIR]
# A mirror (--mirror, or $TAPEGRAD_DATA_MIRROR) is a URL or a local directory holding the same
# file names. A local directory may hold cifar10-jpg.tar.gz (CIFAR-10 as JPEG files, read with
# tg::data::read_image_folder) instead of the binary archive; it is unpacked to DEST/cifar10-jpg.
set -euo pipefail

# The official copies. These URLs are the only place where the project names the data hosts.
AIRFOIL_URL=http://d2l-data.s3-accelerate.amazonaws.com/airfoil_self_noise.dat
AIRFOIL_SHA1=76e5be1548fd8222e5074cf0faae75edff8cf93f
CIFAR10_URL=https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz
CIFAR10_MD5=c32a1d4ab5d03f1284b67883e8d87530
CIFAR10_BATCHES=(data_batch_1.bin data_batch_2.bin data_batch_3.bin data_batch_4.bin
                 data_batch_5.bin test_batch.bin)
CIFAR10_BATCH_BYTES=30730000  # 10000 records of 3073 bytes
CIFAR10_JPG_COUNT=60000

say() { echo "fetch-data: $*"; }
die() { echo "fetch-data: $*" >&2; exit 1; }
usage() { sed -n 's/^#   //p' "$0"; }

what=all
dest="$(cd "$(dirname "$0")/.." && pwd)/datasets"
mirror="${TAPEGRAD_DATA_MIRROR:-}"
while [ $# -gt 0 ]; do
  case "$1" in
    airfoil|cifar10|all) what="$1" ;;
    --dest) [ $# -ge 2 ] || die "--dest needs a directory"; dest="$2"; shift ;;
    --dest=*) dest="${1#--dest=}" ;;
    --mirror) [ $# -ge 2 ] || die "--mirror needs a URL or a directory"; mirror="$2"; shift ;;
    --mirror=*) mirror="${1#--mirror=}" ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument '$1' (expected airfoil, cifar10, all, --dest, --mirror)" ;;
  esac
  shift
done

mirror_kind=none  # none: the official URLs; url: $mirror/<name>; dir: a local directory
if [ -n "$mirror" ]; then
  if [[ "$mirror" =~ ^[a-zA-Z][a-zA-Z0-9+.-]*:// ]]; then
    mirror_kind=url
    mirror="${mirror%/}"
  elif [ -d "$mirror" ]; then
    mirror_kind=dir
  else
    die "mirror '$mirror' is neither a URL nor an existing directory"
  fi
fi

mkdir -p "$dest" || die "cannot create the destination '$dest'"
temps=()
cleanup() { [ ${#temps[@]} -eq 0 ] || rm -rf "${temps[@]}"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

download() {  # download URL FILE
  if command -v curl >/dev/null; then
    curl -fL --retry 3 --progress-bar -o "$2" "$1"
  elif command -v wget >/dev/null; then
    wget -q --show-progress -O "$2" "$1"
  else
    die "neither curl nor wget is installed (sudo apt-get install curl), or pass --mirror DIR"
  fi
}

# fetch NAME OFFICIAL_URL FILE: copies or downloads NAME into FILE; fails if it is not there.
# Sets `origin` to where it came from, for messages.
fetch() {
  case "$mirror_kind" in
    dir) origin="$mirror/$1"; [ -f "$origin" ] && cp "$origin" "$3" ;;
    url) origin="$mirror/$1"; say "downloading $origin"; download "$origin" "$3" ;;
    none) origin="$2"; say "downloading $origin"; download "$origin" "$3" ;;
  esac
}

digest() { "$1sum" "$2" | cut -d' ' -f1; }  # digest sha1|md5 FILE

# verify ALGO FILE EXPECTED WHAT: dies unless FILE has the expected digest.
verify() {
  local got
  got="$(digest "$1" "$2")"
  [ "$got" = "$3" ] || die "$4 has $1 $got, expected $3 (an incomplete or altered copy)"
}

fetch_airfoil() {
  local out="$dest/airfoil_self_noise.dat" tmp
  if [ -f "$out" ]; then
    if [ "$(digest sha1 "$out")" = "$AIRFOIL_SHA1" ]; then
      say "airfoil: $out is present and verified"
      return
    fi
    say "airfoil: $out has a wrong checksum, fetching it again"
  fi
  tmp="$(mktemp "$dest/.airfoil_self_noise.dat.XXXXXX")"
  temps+=("$tmp")
  fetch airfoil_self_noise.dat "$AIRFOIL_URL" "$tmp" ||
    die "airfoil: cannot get $origin"
  verify sha1 "$tmp" "$AIRFOIL_SHA1" "airfoil: $origin"
  chmod 644 "$tmp"
  mv "$tmp" "$out"
  say "airfoil: $out fetched and verified"
}

cifar10_bin_complete() {  # cifar10_bin_complete DIR: all six batches with the right size
  local f
  for f in "${CIFAR10_BATCHES[@]}"; do
    [ -f "$1/$f" ] && [ "$(stat -c %s "$1/$f")" = "$CIFAR10_BATCH_BYTES" ] || return 1
  done
}

cifar10_jpg_complete() {  # cifar10_jpg_complete DIR
  [ -d "$1" ] && [ "$(find "$1" -type f -name '*.jpg' | wc -l)" = "$CIFAR10_JPG_COUNT" ]
}

# unpack ARCHIVE FOLDER CHECK: extracts FOLDER from ARCHIVE to DEST/FOLDER via a temporary
# directory, moving it in place only when `CHECK DIR` accepts the extracted folder.
unpack() {
  local tmpdir
  tmpdir="$(mktemp -d "$dest/.unpack.XXXXXX")"
  temps+=("$tmpdir")
  tar xzf "$1" -C "$tmpdir" || die "cannot unpack $1"
  "$3" "$tmpdir/$2" || die "$1 does not hold a complete $2 folder"
  rm -rf "${dest:?}/$2"
  mv "$tmpdir/$2" "$dest/$2"
}

fetch_cifar10_jpg() {
  local out="$dest/cifar10-jpg" tmp
  if cifar10_jpg_complete "$out"; then
    say "cifar10: $out is present and complete ($CIFAR10_JPG_COUNT images)"
    return
  fi
  say "cifar10: $mirror has no cifar-10-binary.tar.gz; unpacking the JPEG copy instead"
  tmp="$(mktemp "$dest/.cifar10-jpg.tar.gz.XXXXXX")"
  temps+=("$tmp")
  cp "$mirror/cifar10-jpg.tar.gz" "$tmp"
  unpack "$tmp" cifar10-jpg cifar10_jpg_complete
  say "cifar10: $out unpacked ($CIFAR10_JPG_COUNT images; JPEG pixels differ slightly from the" \
      "binary release)"
}

fetch_cifar10() {
  local out="$dest/cifar-10-batches-bin" tmp
  if cifar10_bin_complete "$out"; then
    say "cifar10: $out is present and complete"
    return
  fi
  [ ! -d "$out" ] || say "cifar10: $out is incomplete, fetching it again"
  if [ "$mirror_kind" = dir ] && [ ! -f "$mirror/cifar-10-binary.tar.gz" ] &&
     [ -f "$mirror/cifar10-jpg.tar.gz" ]; then
    fetch_cifar10_jpg
    return
  fi
  tmp="$(mktemp "$dest/.cifar-10-binary.tar.gz.XXXXXX")"
  temps+=("$tmp")
  fetch cifar-10-binary.tar.gz "$CIFAR10_URL" "$tmp" ||
    die "cifar10: cannot get $origin (a local mirror may hold cifar10-jpg.tar.gz instead)"
  verify md5 "$tmp" "$CIFAR10_MD5" "cifar10: $origin"
  unpack "$tmp" cifar-10-batches-bin cifar10_bin_complete
  say "cifar10: $out fetched and verified"
}

case "$what" in
  airfoil) fetch_airfoil ;;
  cifar10) fetch_cifar10 ;;
  all) fetch_airfoil; fetch_cifar10 ;;
esac
