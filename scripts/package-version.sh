#!/usr/bin/env bash
# package-version.sh — the version of the packages `make package` builds,
# taken from git, valid for Debian and RPM alike:
#
#   HEAD tagged vX.Y.Z (or vX.Y.Z-rc1)   X.Y.Z (X.Y.Z~rc1)
#   commits after such a tag              X.Y.Z+git<date>.<commit>
#   no such tag                           0.0.0~git<date>.<commit>
#   uncommitted changes                   the snapshot form, with .dirty appended
#
# <date> is the commit time in UTC, YYYYMMDD.HHMMSS: it orders the snapshots
# of a branch, even in a shallow clone, where counting commits would not.
# Both dpkg and rpm sort "~" before and "+" after the plain version, so a
# snapshot before the first tag sorts below every release, and one after a
# tag between it and the next. Prints one line; fails outside a git checkout.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

commit=$(git rev-parse --short=7 HEAD)
date=$(TZ=UTC git log -1 --format=%cd --date=format-local:%Y%m%d.%H%M%S HEAD)
# Like git describe --dirty: refresh the index first, so that a touched
# but unchanged file does not count.
git update-index -q --refresh >/dev/null 2>&1 || true
dirty=
git diff-index --quiet HEAD -- || dirty=.dirty

if tag=$(git describe --tags --match 'v[0-9]*' --abbrev=0 HEAD 2>/dev/null); then
	base=${tag#v}
	base=${base/-/\~} # a pre-release sorts before its release
	if [[ $(git rev-parse "$tag^{commit}") == $(git rev-parse HEAD) && -z $dirty ]]; then
		version=$base
	else
		version=$base+git$date.$commit$dirty
	fi
else
	version=0.0.0~git$date.$commit$dirty
fi

# Debian allows [A-Za-z0-9.+~-] after a leading digit, RPM no "-": refuse a
# tag that would give anything else rather than build a package that
# dpkg or rpm reject.
if [[ ! $version =~ ^[0-9][A-Za-z0-9.+~]*$ ]]; then
	echo "package-version.sh: tag ${tag:-} gives version \"$version\", not valid for dpkg and rpm" >&2
	exit 1
fi
echo "$version"
