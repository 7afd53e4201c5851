# travelkit — see README.md
GO        ?= go
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X travelkit/internal/version.Version=$(VERSION)
PLATFORMS := linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64
TESTFLAGS ?= -timeout 60m

.PHONY: build dist bootenv test test-deps vet fmt-check demo bench bench-boot clean

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o travelkit ./cmd/travelkit

dist:
	@mkdir -p dist
	@for p in $(PLATFORMS); do \
		os=$${p%/*}; arch=$${p#*/}; ext=; [ $$os = windows ] && ext=.exe; \
		echo "dist/travelkit-$$os-$$arch$$ext"; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags '$(LDFLAGS)' \
			-o dist/travelkit-$$os-$$arch$$ext ./cmd/travelkit || exit 1; \
	done

# The boot bundle: Debian's signed shim, grub and kernel, the kernel modules, a console
# font and ntfs-3g, fetched with apt-get download (apt checks them) into dist/bootenv
# (a folder laid out as on the tools partition, with boot/bundle.json). `travelkit build`
# takes it from there (or --boot DIR); `make dist` leaves it alone. See README.md.
bootenv:
	./scripts/bootenv.sh dist/bootenv

# The main job on a built-in default: a demo kit image (demo/kit.img) from the built-in
# profile, carrying the binaries for every platform. See README.md.
demo: build dist
	./travelkit demo --out demo

test-deps:
	./scripts/install-test-deps.sh
	$(GO) mod download
	$(GO) -C luks/internal/xts/_asm mod download
	./scripts/build-test-servers.sh

vet:
	$(GO) vet ./...

fmt-check:
	@bad=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$bad" ]; then echo "gofmt needed:"; echo "$$bad"; exit 1; fi

# The TPM simulator tests need cgo (github.com/google/go-tpm-tools/simulator); the shipped
# binary never does.
# wintest re-runs a package's tests once when Wine failed to start a program or a binary
# stopped answering; go test hides a passing package's output, so the re-runs are listed
# in a file, printed here.
WINETEST_RERUNS := $(CURDIR)/.wintest-reruns.txt

test: test-deps vet fmt-check build
	rm -f $(WINETEST_RERUNS)
	TRAVELKIT_WINETEST_RERUNS=$(WINETEST_RERUNS) $(GO) test $(TESTFLAGS) ./...
	@if [ -s $(WINETEST_RERUNS) ]; then echo "wintest: re-ran under Wine (passed on the re-run):"; cat $(WINETEST_RERUNS); \
	else echo "wintest: no test re-run under Wine"; fi
	CGO_ENABLED=1 $(GO) test $(TESTFLAGS) -tags tpmsim ./tpm/
	# the luks.Container concurrency contract, under the race detector (cgo only in tests)
	CGO_ENABLED=1 $(GO) test $(TESTFLAGS) -race -run 'Concurrent' ./luks/
	# the XTS assembly: generators match the committed files; arm64 under qemu-user
	./scripts/test-xts.sh

# Power-on to menu under qemu beside a busybox initramfs, and the boot files' size.
bench-boot: dist bootenv
	./scripts/bench-boot.sh

bench: build
	./scripts/bench-xts.sh

clean:
	rm -rf travelkit dist demo
