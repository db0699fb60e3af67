# The two commands of the README, plus what they need.
#   make seed   - set up (if needed) and run the seed example
#   make test   - set up (if needed) and run the whole test suite, the onnxruntime round trip and the
#                 Python bindings' tests
.PHONY: deps seed test onnx-check venv python-test real-models

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
	$(MAKE) real-models

# One venv for every Python test (target/test-venv, made once): torch, torchvision, timm, onnx, onnxruntime
# and onnxscript from pip (about 2.5 GB with torch's CUDA wheels), then the bindings with their extras.
VENV := $(CURDIR)/target/test-venv
PY_DEPS := torch torchvision timm onnx onnxruntime onnxscript numpy safetensors pytest

venv:
	@test -x $(VENV)/bin/python || python3 -m venv $(VENV)
	@$(VENV)/bin/python -c 'import torch, torchvision, timm, onnx, onnxruntime, onnxscript, safetensors, pytest' \
		2>/dev/null || $(VENV)/bin/pip install -q --disable-pip-version-check $(PY_DEPS)

# The Python bindings (python/) with the PyTorch front-end: pip builds and installs them (as a user would,
# `pip install "./python[torch]"`), then their pytest suite runs from the repository root (exit code 5, no
# tests collected, counts as a failure).
python-test: deps venv
	$(VENV)/bin/pip install -q --disable-pip-version-check "./python[torch,test]"
	$(VENV)/bin/python -m pytest -q python/tests

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
		if ./target/release/linear-collapse collapse --force $$dir/model.onnx -o $$out/$$case.onnx --verify >/dev/null && \
		   python3 scripts/check_onnx.py $$dir/model.onnx $$out/$$case.onnx --require-expected --quiet; \
		then pass=$$((pass+1)); else echo "FAILED: $$case"; fail=$$((fail+1)); fi; \
	done; \
	x=tests/data/extra/conv_erf_conv_fc; \
	if ./target/release/linear-collapse collapse --force $$x.onnx -o $$out/erf.onnx >/dev/null && \
	   python3 scripts/check_extra.py $$out/erf.onnx tests/data/conv_conv_fc/inputs.npy $$x.outputs.npy; \
	then pass=$$((pass+1)); else echo "FAILED: conv_erf_conv_fc"; fail=$$((fail+1)); fi; \
	for m in tests/data/import/*.onnx; do \
		b=$$(basename $$m .onnx); c=$${b%%.*}; \
		if ./target/release/linear-collapse collapse $$m -o $$out/$$b.onnx >/dev/null && \
		   python3 scripts/check_extra.py $$out/$$b.onnx tests/data/import/$$c.inputs.npy \
		       tests/data/import/$$b.outputs.npy >/dev/null; \
		then pass=$$((pass+1)); else echo "FAILED: import/$$b"; fail=$$((fail+1)); fi; \
	done; \
	for m in tests/data/ops/*.onnx; do \
		b=$$(basename $$m .onnx); \
		if ./target/release/linear-collapse collapse --force $$m -o $$out/$$b.onnx >/dev/null && \
		   python3 scripts/real_models/check.py $$m $$out/$$b.onnx tests/data/ops/$$b.inputs.npy >/dev/null; \
		then pass=$$((pass+1)); else echo "FAILED: ops/$$b"; fail=$$((fail+1)); fi; \
	done; \
	echo "onnxruntime round trip: $$pass passed, $$fail failed"; \
	test $$fail -eq 0

# Models this project did not write: torchvision and timm architectures (random weights, non-trivial
# BatchNorm statistics, fixed seeds) exported by both PyTorch exporters, timm's re-parameterizable models
# also after timm's own reparameterize_model, and the model-zoo files the onnx package ships. Each is
# collapsed by the CLI and compared with the original in onnxruntime; none may cost more multiply-adds, and
# timm's models must come out no larger than timm's fused ones. Then every value's shape as the importer
# computes it against onnxruntime's, in the test venv.
real-models: deps venv
	cargo build --release --bin linear-collapse
	@venv=$(VENV) && suite=$$(mktemp -d) && trap 'rm -rf $$suite' EXIT && \
	$$venv/bin/python scripts/real_models/export.py --out $$suite && \
	$$venv/bin/python scripts/real_models/run_suite.py --cli target/release/linear-collapse \
		--dir $$suite && \
	$$venv/bin/python scripts/real_models/shapes.py --cli target/release/linear-collapse --light \
		$$suite/*.onnx
