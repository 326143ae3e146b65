# shellcheck shell=bash
# testenv-pmix.sh — sourced by testenv.sh: what `srun --mpi=pmix` needs on
# the test machine, and the PMIx client image ud-test/pmixping.
#
# Debian's Slurm plugin mpi_pmix_v4.so dlopens the unversioned
# $PMIX_LIB/libpmix.so, which only libpmix-dev ships (libpmix2 alone:
# "mpi/pmix_v4: init: … can not load PMIx library"). slurmd loads its MPI
# plugins when it starts and hands their setup to every step: a slurmd
# started before libpmix.so was there makes `srun --mpi=pmix` hang. So the
# packages come before Slurm, and a slurmd older than them is restarted
# (slurm_stale in testenv.sh asks pmix_newer_than).
#
# ud-test/pmixping: FROM scratch, test/pmixping/pmixping.c built against
# libpmix, with its shared libraries (ldd), libpmix's plugins and data:
# about 40 files, 10 MB. It is built on the host's dockerd only (the PMIx
# test runs on the host's node) and labelled with its source's hash, so a
# changed pmixping.c rebuilds it.

PMIX_DIR=/usr/lib/x86_64-linux-gnu/pmix2
PMIX_LIB=$PMIX_DIR/lib/libpmix.so
PMIX_IMAGE=ud-test/pmixping:latest
PMIX_SRC=$REPO/test/pmixping/pmixping.c

# pmix_newer_than PIDFILE: whether libpmix.so was installed after the
# daemon of PIDFILE started: the library keeps the package's modification
# time, but its change time is when dpkg put it in place.
pmix_newer_than() {
	[[ -e $PMIX_LIB ]] && (($(stat -L -c %Z "$PMIX_LIB") > $(stat -c %Y "$1")))
}

pmix_src_hash() { sha256sum "$PMIX_SRC" | cut -c1-16; }
have_pmix_image() {
	[[ $(docker image inspect -f '{{index .Config.Labels "ud-test.image"}} {{index .Config.Labels "ud-test.source"}}' "$PMIX_IMAGE" 2>/dev/null) == "pmixping $(pmix_src_hash)" ]]
}
build_pmix_image() {
	local ctx f old
	old=$(docker image inspect -f '{{.Id}}' "$PMIX_IMAGE" 2>/dev/null || true)
	ctx=$(mktemp -d)
	mkdir -p "$ctx/root/usr/local/bin" "$ctx/root/tmp"
	chmod 1777 "$ctx/root/tmp"
	gcc -O2 -Wall -I"$PMIX_DIR/include" "$PMIX_SRC" -L"$PMIX_DIR/lib" -Wl,-rpath,"$PMIX_DIR/lib" -lpmix \
		-o "$ctx/root/usr/local/bin/pmixping"
	# The program's and libpmix's plugins' libraries at the paths ldd names
	# them by (the dynamic loader looks there), as plain files, and
	# libpmix's plugins (dlopened) and data.
	ldd "$ctx/root/usr/local/bin/pmixping" "$PMIX_DIR"/lib/pmix/*.so | grep -o '/[^ :]*' | grep -v "^$ctx" |
		sort -u | while read -r f; do
		mkdir -p "$ctx/root${f%/*}"
		cp -L "$f" "$ctx/root$f"
	done
	mkdir -p "$ctx/root$PMIX_DIR/lib"
	cp -rL "$PMIX_DIR/share" "$ctx/root$PMIX_DIR/"
	cp -rL "$PMIX_DIR/lib/pmix" "$ctx/root$PMIX_DIR/lib/"
	cat >"$ctx/Dockerfile" <<-EOF2
		FROM scratch
		COPY root/ /
		LABEL ud-test.image=pmixping ud-test.source=$(pmix_src_hash)
		ENTRYPOINT ["/usr/local/bin/pmixping"]
	EOF2
	docker build -q -t "$PMIX_IMAGE" "$ctx" >/dev/null
	rm -rf "$ctx"
	[[ -n $old && -z $(docker image inspect -f '{{join .RepoTags ","}}' "$old" 2>/dev/null) ]] &&
		docker image rm "$old" >/dev/null 2>&1 || true
}
