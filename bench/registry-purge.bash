# bench/registry-purge.bash — sourced by bench/pull.sh (not a benchmark):
# purge_repo removes a repository that a benchmark pushed to the test
# cluster's registry, with the blobs no other repository uses. Deleting
# the manifest through the API leaves the blobs until a garbage collection,
# which is unsafe while the registry serves others; the benchmarks push
# layers of random bytes (tens of MiB per round), so they remove their
# own from the storage directly: only digests that no other repository
# links to, and the repository's directory.
REGISTRY_STORE=/var/lib/userdocker-test/registry/docker/registry/v2

purge_repo() { # REPO (as in the registry: udtest-bench/pull-123)
	local repo=$1 dir d
	dir=$REGISTRY_STORE/repositories/$repo
	[[ $repo == udtest-* && -d $dir ]] || return 0
	local -A others=()
	while read -r d; do others[$d]=1; done < <(
		find "$REGISTRY_STORE/repositories" -path "$dir" -prune -o \
			\( -path '*/_layers/sha256/*' -o -path '*/_manifests/revisions/sha256/*' \) -name link -printf '%h\n' |
			xargs -r -n1 basename)
	while read -r d; do
		[[ ${others[$d]:-} || ! $d =~ ^[0-9a-f]{64}$ ]] && continue
		rm -rf "$REGISTRY_STORE/blobs/sha256/${d:0:2}/$d"
	done < <(find "$dir" \( -path '*/_layers/sha256/*' -o -path '*/_manifests/revisions/sha256/*' \) -name link -printf '%h\n' | xargs -r -n1 basename)
	rm -rf "$dir"
	rmdir "$(dirname "$dir")" 2>/dev/null || true
}
