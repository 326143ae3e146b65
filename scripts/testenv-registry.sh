# testenv-registry.sh — sourced by testenv.sh: an image registry and a
# pull-through mirror of it, both Debian's docker-registry (distribution 2.8).
#
#   127.0.0.1:$REGISTRY_PORT  the registry: the test images pushed to it as
#                    127.0.0.1:5000/ud-test/{busybox,cuda,denied}:latest and
#                    127.0.0.1:5000/library/busybox:latest (a Hub-style name)
#   127.0.0.1:$MIRROR_PORT  a pull-through cache (proxy.remoteurl) of it, as a
#                    site would run one in front of a registry for many nodes;
#                    vm2's dockerd has it as its registry-mirrors entry
#
# Both listen on the loopback only (dockerd treats 127.0.0.0/8 as insecure:
# no TLS, no daemon.json entry); vm2 reaches them through 127.0.0.1 too (see
# testenv-node2.sh). Each runs as the package's docker-registry user and logs
# every request, one line each in the combined log format ("GET
# /v2/<name>/manifests/<ref> HTTP/1.1" 200 …), to $REGISTRY_LOG and
# $MIRROR_LOG, so tests can count what reached which.

REGISTRY_PORT=5000
MIRROR_PORT=5001
REGISTRY=127.0.0.1:$REGISTRY_PORT
REGISTRY_USER=docker-registry
REGISTRY_LIB=/var/lib/userdocker-test
REGISTRY_LOG=$TEST_LOG_DIR/registry.log
MIRROR_LOG=$TEST_LOG_DIR/registry-mirror.log
# Pushed under the same name on the registry, plus these extra names.
REGISTRY_EXTRA=("ud-test/busybox:latest library/busybox:latest")

# registry_conf NAME: the configuration of registry NAME (registry or
# registry-mirror).
registry_conf() {
	local port=$REGISTRY_PORT proxy=
	if [[ $1 == registry-mirror ]]; then
		port=$MIRROR_PORT
		proxy=$'proxy:\n  remoteurl: http://'$REGISTRY
	fi
	cat <<-EOF
		# Written by userdocker's scripts/testenv.sh.
		version: 0.1
		log:
		  level: info
		  formatter: text
		  accesslog:
		    disabled: false
		storage:
		  filesystem:
		    rootdirectory: $REGISTRY_LIB/$1
		  delete:
		    enabled: true
		  cache:
		    blobdescriptor: inmemory
		http:
		  addr: 127.0.0.1:$port
		  headers:
		    X-Content-Type-Options: [nosniff]
		$proxy
	EOF
}
registry_pid() { pid_of "$TEST_RUN/$1.pid" docker-registry; }
registry_up() {
	local name=$1 port=$REGISTRY_PORT pid
	[[ $name == registry-mirror ]] && port=$MIRROR_PORT
	pid=$(registry_pid "$name") || return 1
	cmp -s <(registry_conf "$name") "$TESTENV_ETC/$name.yml" || return 1
	[[ ! $TESTENV_ETC/$name.yml -nt $TEST_RUN/$name.pid ]] || return 1
	[[ $(curl -fsS -m 5 "http://127.0.0.1:$port/v2/" 2>/dev/null) == '{}' ]]
}
# start_registry NAME: (re)start registry NAME when it is down or its
# configuration changed.
start_registry() {
	local name=$1 pid conf=$TESTENV_ETC/$1.yml log=$TEST_LOG_DIR/$1.log
	mkdir -p "$TESTENV_ETC" "$TEST_RUN" "$TEST_LOG_DIR"
	install -d -o "$REGISTRY_USER" -g "$REGISTRY_USER" -m 0750 "$REGISTRY_LIB/$name"
	if ! cmp -s <(registry_conf "$name") "$conf"; then
		registry_conf "$name" >"$conf.new"
		mv "$conf.new" "$conf"
	fi
	if pid=$(registry_pid "$name"); then
		[[ $conf -nt $TEST_RUN/$name.pid ]] || return 0
		say "$name: pid $pid runs with an older configuration, restarting it"
		stop_pid "$pid" "$name"
	fi
	# setpriv execs, so the pid written is the registry's.
	without_fds setsid -f sh -c 'echo $$ >"$1"; exec setpriv --reuid="$2" --regid="$2" --init-groups docker-registry serve "$3"' \
		sh "$TEST_RUN/$name.pid" "$REGISTRY_USER" "$conf" >>"$log" 2>&1 </dev/null
}
have_registry() { registry_up registry; }
start_registry_main() {
	start_registry registry
	wait_for 30 registry_up registry || {
		tail -n 20 "$REGISTRY_LOG" >&2
		die "registry: http://$REGISTRY/v2/ does not answer after 30s (log: $REGISTRY_LOG)"
	}
}
have_mirror() { registry_up registry-mirror; }
start_mirror() {
	start_registry registry-mirror
	wait_for 30 registry_up registry-mirror || {
		tail -n 20 "$MIRROR_LOG" >&2
		die "registry-mirror: http://127.0.0.1:$MIRROR_PORT/v2/ does not answer after 30s (log: $MIRROR_LOG)"
	}
}

# registry_image_id NAME:TAG: the image ID (config digest) the registry's
# manifest for NAME:TAG names, from REGISTRY (default: the registry itself).
registry_image_id() {
	local name=${1%:*} tag=${1##*:}
	curl -fsS -m 10 -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
		"http://${2:-$REGISTRY}/v2/$name/manifests/$tag" 2>/dev/null |
		tr -d ' \n' | sed -n 's/.*"config":{[^}]*"digest":"\(sha256:[0-9a-f]*\)".*/\1/p'
}
# registry_names: "local-image registry-name" pairs of what is pushed.
registry_names() {
	local i
	for i in "${IMAGES[@]}"; do echo "$i $i"; done
	for i in "${REGISTRY_EXTRA[@]}"; do echo "$i"; done
}
have_registry_images() {
	local src dst
	while read -r src dst; do
		[[ $(registry_image_id "$dst") == "$(docker image inspect -f '{{.Id}}' "$src")" ]] || return 1
	done < <(registry_names)
}
# The push goes through a temporary tag, removed again: the host's image
# list stays as the tests know it.
push_registry_images() {
	local src dst
	while read -r src dst; do
		docker tag "$src" "$REGISTRY/$dst"
		docker push "$REGISTRY/$dst" >/dev/null || {
			docker rmi "$REGISTRY/$dst" >/dev/null 2>&1
			return 1
		}
		docker rmi "$REGISTRY/$dst" >/dev/null
	done < <(registry_names)
}

# The mirror serves what the registry holds: a manifest fetched through it
# names the same image.
mirror_serves() {
	[[ $(registry_image_id ud-test/busybox:latest "127.0.0.1:$MIRROR_PORT") == \
		"$(docker image inspect -f '{{.Id}}' ud-test/busybox:latest)" ]]
}
