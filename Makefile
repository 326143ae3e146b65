# userdocker — build, test and demo. `make help` lists the targets.
#
# test and demo need root on Debian 12: scripts/testenv.sh installs and
# starts Docker, Slurm and munge, and makes test users (see docs/testing.md).

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
export PATH := /usr/local/go/bin:$(PATH)
# go-nvml's nvml.h marks functions deprecated; cgo would print a warning per use.
export CGO_CFLAGS ?= -O2 -g -Wno-deprecated-declarations

GO      ?= go
PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR  ?= bin
CMDS    := userdocker ud-prolog ud-epilog
# The real userdocker lives here; $(PREFIX)/bin/userdocker, what sudo
# starts, is ud-launch, which execs it with a clean environment.
LIBEXECDIR := $(PREFIX)/libexec/userdocker
# The example config and the sudoers and Slurm snippets (make package:
# /usr/share/doc/userdocker).
DOCDIR  ?= $(PREFIX)/share/userdocker
# Where make package puts the .deb and the .rpm.
PKGDIR  ?= dist

VERSION     := $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS     := -X github.com/userdocker/userdocker/internal/cli.Version=$(VERSION)

.PHONY: all help build unit test testenv install-test-bins demo bench install package fmt vet clean

all: build

help:
	@echo 'make build     build $(CMDS) and ud-launch into bin/'
	@echo 'make unit      vet and unit tests, the import graph among them: no root, no daemons'
	@echo 'make test      (root) set up the test machine, then vet, unit tests, integration tests, fuzzing'
	@echo 'make demo      (root) set up the test machine and run scripts/demo.sh'
	@echo 'make bench     run bench/*.sh, if any'
	@echo 'make install   install binaries (userdocker: ud-launch, the real one in $$(PREFIX)/libexec/userdocker),'
	@echo '               man pages, bash completion, the example config,'
	@echo '               sudoers and Slurm snippets under $$(DESTDIR)$$(PREFIX) (share/userdocker)'
	@echo 'make package   build $(PKGDIR)/userdocker_VERSION_ARCH.deb and an .rpm (PREFIX=/usr, config in'
	@echo '               /etc/userdocker, snippets in /usr/share/doc/userdocker; version from git,'
	@echo '               see scripts/package-version.sh); needs Go and gcc, no root; docs/packages.md'
	@echo 'make fmt | vet | clean'

# ud-launch is linked without the C library (CGO_ENABLED=0: static, no
# dynamic loader), so that no variable a sudoers rule lets through, such as
# LD_PRELOAD, acts before it drops it; userdocker itself needs the C
# library (NSS for users and groups, NVML through dlopen). See
# internal/launch and docs/security-model.md, "The dynamic loader".
build:
	@mkdir -p $(BINDIR)
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BINDIR)/ $(addprefix ./cmd/,$(CMDS))
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '-X main.target=$(LIBEXECDIR)/userdocker' -o $(BINDIR)/ ./cmd/ud-launch

# Unit tests need no root, no dockerd, no Slurm: they run as anyone, on
# any machine with Go and gcc (tests that are about root ownership skip
# without it). vet looks at the integration suites too.
unit:
	$(GO) vet ./...
	$(GO) vet -tags integration ./...
	$(GO) test -count=1 ./...

testenv:
	bash scripts/testenv.sh

# The Slurm hooks go where slurm.conf names them; userdocker (ud-launch in
# front of the real one) where the sudoers drop-in allows it, so
# integration tests can call it through sudo. PREFIX must stay /usr/local.
install-test-bins: build
	install -m 0755 bin/ud-prolog bin/ud-epilog /usr/local/sbin/
	install -d /usr/local/libexec/userdocker
	install -m 0755 bin/userdocker /usr/local/libexec/userdocker/userdocker
	install -m 0755 bin/ud-launch /usr/local/bin/userdocker

test: testenv
	$(MAKE) --no-print-directory install-test-bins
	$(GO) vet ./...
	# Unit and integration tests together: the integration tag adds the
	# suites that need root, dockerd, sudo and Slurm (test/integration/...,
	# internal/engine). -p 1: they share one dockerd and one Slurm.
	CI="$${CI:-}" $(GO) test -tags integration -count=1 -p 1 ./...
	bash scripts/fuzz.sh

demo: testenv
	$(MAKE) --no-print-directory install-test-bins
	bash scripts/demo.sh

bench:
	@shopt -s nullglob; set -- bench/*.sh; \
	if [ $$# -eq 0 ]; then echo 'no bench/*.sh: nothing to run'; exit 0; fi; \
	for f in "$$@"; do echo "== $$f"; bash "$$f"; done

# The snippets name where the binaries are (/usr/local/... in contrib/):
# they are installed with PREFIX filled in.
install: build
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(DOCDIR)/slurm
	install -m 0755 $(BINDIR)/userdocker $(DESTDIR)$(LIBEXECDIR)/userdocker
	install -m 0755 $(BINDIR)/ud-launch $(DESTDIR)$(PREFIX)/bin/userdocker
	# The name the Python userdocker's README gave its nvidia-docker alias;
	# sudoers.userdocker lists it too (sudo matches a command by its name).
	ln -sf userdocker $(DESTDIR)$(PREFIX)/bin/nvidia-userdocker
	install -m 0755 $(BINDIR)/ud-prolog $(BINDIR)/ud-epilog $(DESTDIR)$(PREFIX)/sbin/
	install -m 0644 contrib/slurm/README.md contrib/slurm/*.example $(DESTDIR)$(DOCDIR)/slurm/
	for f in slurm.conf.fragment sudoers.userdocker; do \
		sed 's|/usr/local/|$(PREFIX)/|g' contrib/slurm/$$f >$(DESTDIR)$(DOCDIR)/slurm/$$f; \
		chmod 0644 $(DESTDIR)$(DOCDIR)/slurm/$$f; \
	done
	install -m 0755 contrib/slurm/sbatch-example.sh $(DESTDIR)$(DOCDIR)/slurm/
	install -d $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5 \
		$(DESTDIR)$(PREFIX)/share/man/man8 $(DESTDIR)$(PREFIX)/share/bash-completion/completions
	install -m 0644 contrib/config.toml.example contrib/logrotate.userdocker $(DESTDIR)$(DOCDIR)/
	install -m 0644 man/userdocker.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 0644 man/userdocker.toml.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	install -m 0644 man/ud-prolog.8 man/ud-epilog.8 $(DESTDIR)$(PREFIX)/share/man/man8/
	install -m 0644 contrib/bash-completion/userdocker $(DESTDIR)$(PREFIX)/share/bash-completion/completions/

# A .deb and an .rpm of what make install puts under PREFIX=/usr, built by
# nfpm (tools/go.mod): scripts/package.sh, docs/packages.md.
package:
	GO='$(GO)' PKGDIR='$(PKGDIR)' bash scripts/package.sh

fmt:
	$(GO) fmt ./...

vet:
	$(GO) vet ./...

clean:
	rm -rf bin $(PKGDIR)
