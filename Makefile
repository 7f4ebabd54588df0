# modelarts-operator — the commands people and CI run. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
PYTEST_ARGS ?=

.PHONY: help venv tools demo-tools node-deps node node-down image cluster cluster-down test test-unit lint fmt crds vocab demo e2e-kind bench clean

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

$(UV):
	$(PYTHON) -m pip install --user --quiet 'uv>=0.5'

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --extra dev --python $(PYTHON)
	@touch $@

venv: $(VENV)/.synced ## create .venv with the operator and its dev tools (from uv.lock)

tools: ## build every pinned tool the tests use (demo-tools, helm, promtool, the node's, Argo CD)
	@hack/build-tools.sh all
	@hack/build-argocd.sh

demo-tools: ## build what the demo and `make cluster` run: etcd, kube-apiserver, kubectl
	@hack/build-tools.sh demo

node-deps: ## install the node's Debian packages if missing (containerd, runc, CNI, buildah, ...)
	@hack/node-deps.sh

image: node-deps ## build the pause and operator images (buildah, no registry); load into `make node`
	@hack/build-image.sh all
	@if $(BIN)/modelarts-operator node status >/dev/null 2>&1; then \
		$(BIN)/modelarts-operator node load .cluster/images/modelarts-operator-dev.tar; fi

node: venv tools node-deps ## single-node cluster running pods, in the background; .cluster/node/kubeconfig
	@hack/build-image.sh pause
	$(BIN)/modelarts-operator node up

node-down: venv ## stop the single-node cluster and remove its state (and what it left on the host)
	$(BIN)/modelarts-operator node down

cluster: venv demo-tools ## start the local control plane in the background; kubeconfig in .cluster/kubeconfig
	$(BIN)/modelarts-operator cluster up --state-dir .cluster

cluster-down: venv ## stop the local control plane and remove its state
	$(BIN)/modelarts-operator cluster down --state-dir .cluster

crds: venv ## regenerate crds/, the chart's CRDs and kind template, the reference, argocd/health.lua's tables
	$(BIN)/modelarts-operator crds --write

vocab: venv ## regenerate the SDK request models (operator/.../vocab/), the CRDs and docs/vocabulary.md
	$(BIN)/python hack/vocabulary/generate.py
	$(BIN)/modelarts-operator crds --write
	$(BIN)/python hack/vocabulary/coverage.py --write

.PHONY: argocd-fixtures
argocd-fixtures: venv tools ## re-capture tests/fixtures/argocd/ from the operator's real output
	UPDATE_GOLDEN=1 $(BIN)/pytest tests/integration/test_argocd_fixtures.py $(PYTEST_ARGS)

lint: venv ## ruff (lint + format check) and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

fmt: venv ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: venv tools lint image ## everything CI runs: lint, unit, integration and e2e tests (in a pod too)
	$(BIN)/pytest $(PYTEST_ARGS)

test-unit: venv ## the tests that need no cluster
	$(BIN)/pytest tests/unit $(PYTEST_ARGS)

demo: venv demo-tools ## local control plane + emulator + operator + the example pipeline, live
	$(BIN)/modelarts-operator demo

# kind cluster for e2e-kind; KIND_NODE_IMAGE=kindest/node:vX.Y.Z pins the node's Kubernetes,
# KEEP_KIND=1 keeps the cluster afterwards (KUBECONFIG=$(KIND_KUBECONFIG)).
KIND ?= kind
KIND_CLUSTER ?= modelarts-e2e
KIND_NODE_IMAGE ?=
KIND_KUBECONFIG := .cluster/kind-$(KIND_CLUSTER).kubeconfig
E2E_IMAGE ?= modelarts-operator:e2e

e2e-kind: venv tools ## the e2e suite on a kind cluster (needs Docker and kind): image, chart, tests
	@command -v docker >/dev/null || { echo "e2e-kind needs docker" >&2; exit 1; }
	@command -v $(KIND) >/dev/null || { echo "e2e-kind needs kind (https://kind.sigs.k8s.io)" >&2; exit 1; }
	docker build -t $(E2E_IMAGE) .
	mkdir -p .cluster
	$(KIND) delete cluster --name $(KIND_CLUSTER) >/dev/null 2>&1 || true
	$(KIND) create cluster --name $(KIND_CLUSTER) --config tests/e2e/kind.yaml \
		--kubeconfig $(KIND_KUBECONFIG) --wait 180s $(if $(KIND_NODE_IMAGE),--image $(KIND_NODE_IMAGE))
	$(KIND) load docker-image $(E2E_IMAGE) --name $(KIND_CLUSTER)
	status=0; \
	E2E_KUBECONFIG=$(abspath $(KIND_KUBECONFIG)) E2E_IMAGE=$(E2E_IMAGE) \
		$(BIN)/pytest tests/e2e -m cluster $(PYTEST_ARGS) || status=$$?; \
	$(if $(KEEP_KIND),,$(KIND) delete cluster --name $(KIND_CLUSTER);) \
	exit $$status

bench: venv tools ## benchmarks under bench/ (not part of make test)
	$(BIN)/python -m bench all

clean: cluster-down ## remove .venv and local state (the tools cache stays)
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
