# The two commands of the README, plus the system package they need.
#   make seed   - set up (if needed) and run the seed example
#   make test   - set up (if needed) and run the whole test suite
.PHONY: deps seed test

# ndarray-linalg's LAPACK comes from the system OpenBLAS (Debian: libopenblas-dev). Installed here when
# pkg-config cannot find it; on other systems install OpenBLAS with your package manager first.
deps:
	@if ! command -v pkg-config >/dev/null 2>&1 || ! pkg-config --exists openblas; then \
		echo "installing libopenblas-dev and pkg-config (apt-get)"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq libopenblas-dev pkg-config >/dev/null; \
	fi

seed: deps
	cargo run --release --example seed

test: deps
	cargo test --all-features
