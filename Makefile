# The two commands of the README, plus what they need.
#   make seed   - set up (if needed) and run the seed example
#   make test   - set up (if needed) and run the whole test suite, the onnxruntime round trip and the
#                 Python bindings' tests
.PHONY: deps seed test onnx-check python-test

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
	python3 scripts/check_imports.py --self-test >/dev/null
	python3 scripts/check_imports.py
	cargo test --all-features
	$(MAKE) onnx-check
	$(MAKE) python-test

# The Python bindings (python/): pip builds and installs them into a fresh venv, then their pytest suite runs
# from the repository root (exit code 5, no tests collected, counts as a failure).
python-test: deps
	@venv=$$(mktemp -d)/venv && python3 -m venv $$venv && \
	$$venv/bin/pip install -q --disable-pip-version-check ./python pytest numpy safetensors && \
	$$venv/bin/python -m pytest -q python/tests

# An implementation that is not ours: every golden model collapsed by the CLI, then the original and the
# collapsed model run in onnxruntime (from pip) and compared with the fixture's outputs and node count;
# then the models both PyTorch exporters wrote (tests/data/import/, scripts/make_import_fixtures.py).
onnx-check: deps
	@python3 -c 'import numpy, onnx, onnxruntime' 2>/dev/null || \
		python3 -m pip install -q --disable-pip-version-check numpy onnx onnxruntime
	cargo build --release --bin linear-collapse
	@out=$$(mktemp -d); pass=0; fail=0; \
	for dir in tests/data/*/; do \
		[ -f $$dir/case.json ] || continue; \
		case=$$(basename $$dir); \
		if ./target/release/linear-collapse collapse $$dir/model.onnx -o $$out/$$case.onnx --verify >/dev/null && \
		   python3 scripts/check_onnx.py $$dir/model.onnx $$out/$$case.onnx --require-expected --quiet; \
		then pass=$$((pass+1)); else echo "FAILED: $$case"; fail=$$((fail+1)); fi; \
	done; \
	x=tests/data/extra/conv_erf_conv_fc; \
	if ./target/release/linear-collapse collapse $$x.onnx -o $$out/erf.onnx >/dev/null && \
	   python3 scripts/check_extra.py $$out/erf.onnx tests/data/conv_conv_fc/inputs.npy $$x.outputs.npy; \
	then pass=$$((pass+1)); else echo "FAILED: conv_erf_conv_fc"; fail=$$((fail+1)); fi; \
	for m in tests/data/import/*.onnx; do \
		b=$$(basename $$m .onnx); c=$${b%%.*}; \
		if ./target/release/linear-collapse collapse $$m -o $$out/$$b.onnx >/dev/null && \
		   python3 scripts/check_extra.py $$out/$$b.onnx tests/data/import/$$c.inputs.npy \
		       tests/data/import/$$b.outputs.npy >/dev/null; \
		then pass=$$((pass+1)); else echo "FAILED: import/$$b"; fail=$$((fail+1)); fi; \
	done; \
	echo "onnxruntime round trip: $$pass passed, $$fail failed"; \
	test $$fail -eq 0
