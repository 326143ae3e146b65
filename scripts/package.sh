#!/usr/bin/env bash
# package.sh — `make package`: a .deb and an .rpm of userdocker in $PKGDIR
# (dist/), for PREFIX=/usr. Needs Go, gcc and git; no root, and no network
# but the Go module proxy (for nfpm, on the first run).
#
#   1. make install PREFIX=/usr DESTDIR=$PKGDIR/root: the binaries built as
#      make build builds them (-trimpath, the Makefile's ldflags and
#      CGO_CFLAGS; ud-launch execs /usr/libexec/userdocker/userdocker),
#      with the package's version as userdocker's own, and the snippets
#      with /usr paths, under /usr/share/doc/userdocker;
#   2. man pages gzipped (gzip -n: no name or time in the header), the
#      example config as /etc/userdocker/config.toml;
#   3. nfpm.yaml, run in that tree, once per format.
#
# Every file carries the commit's time (SOURCE_DATE_EPOCH), so that the same
# commit gives the same packages. Environment: PKGDIR, GO, PKG_VERSION (else
# scripts/package-version.sh), PKG_MAINTAINER.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH=/usr/local/go/bin:$PATH
GO=${GO:-go}
PKGDIR=${PKGDIR:-dist}

mkdir -p "$PKGDIR"
PKGDIR=$(cd "$PKGDIR" && pwd)
export PKG_VERSION=${PKG_VERSION:-$(scripts/package-version.sh)}
export PKG_ARCH=$("$GO" env GOARCH)
export PKG_MAINTAINER=${PKG_MAINTAINER:-userdocker maintainers <maintainers@users.noreply.r-seed-607f6314.example>}
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct HEAD)}

stage=$PKGDIR/root
rm -rf "$stage" "$PKGDIR/bin"
rm -f "$PKGDIR"/userdocker_*.deb "$PKGDIR"/userdocker-*.rpm
make --no-print-directory install DESTDIR="$stage" PREFIX=/usr DOCDIR=/usr/share/doc/userdocker \
	BINDIR="$PKGDIR/bin" VERSION="$PKG_VERSION" GO="$GO"
gzip -9n "$stage"/usr/share/man/man*/*
install -D -m 0644 contrib/config.toml.example "$stage/etc/userdocker/config.toml"

# go tool -n builds nfpm (tools/go.mod) if need be and prints where it is.
nfpm=$("$GO" -C tools tool -n nfpm)
for packager in deb rpm; do
	(cd "$stage" && "$nfpm" package --config "$OLDPWD/nfpm.yaml" --packager "$packager" --target "$PKGDIR/")
done
