# region-operator — the Makefile is the front door: `make help` lists the targets.

LOCALBIN ?= $(CURDIR)/bin
CONTROLLER_GEN ?= $(LOCALBIN)/controller-gen
CONTROLLER_TOOLS_VERSION ?= v0.23.0
IMG ?= region-operator:latest
KUBECTL ?= kubectl
KUSTOMIZE ?= $(KUBECTL) kustomize
# An already-set KUBEBUILDER_ASSETS wins over the binaries built into bin/k8s.
ENVTEST_ASSETS = $(or $(KUBEBUILDER_ASSETS),$(LOCALBIN)/k8s)
DEV_DIR = $(LOCALBIN)/dev
TEST_TIMEOUT ?= 30m

.DEFAULT_GOAL := help

.PHONY: help
help: ## List the targets.
	@awk 'BEGIN {FS = ":.*##"} /^[a-zA-Z_-]+:.*?##/ { printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: $(CONTROLLER_GEN) ## Generate the CRDs and the operator's RBAC role from markers, and the chart's copies.
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd paths="./..." output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac
	hack/sync-chart.sh

.PHONY: generate
generate: $(CONTROLLER_GEN) ## Generate deepcopy code.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./api/..."

.PHONY: fmt
fmt: ## go fmt.
	go fmt ./...

.PHONY: vet
vet: ## go vet.
	go vet ./...

.PHONY: lint
lint: ## golangci-lint (staticcheck among its linters), built from its Go module into bin/.
	hack/envtest-bins.sh lint
	$(LOCALBIN)/golangci-lint run ./...

.PHONY: envtest
envtest: ## Build kube-apiserver and etcd from their Go modules into bin/k8s.
	@if [ -z "$(KUBEBUILDER_ASSETS)" ]; then hack/envtest-bins.sh >/dev/null; fi

.PHONY: helm
helm: ## Build helm from its Go module into bin/helm (for the chart's tests).
	hack/envtest-bins.sh helm

.PHONY: test
test: manifests generate vet lint envtest helm ## Lint, then run every test against a real kube-apiserver, etcd and PostgreSQL.
	KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS)" go test ./... -count=1 -timeout $(TEST_TIMEOUT)

CHAOS_KILLS ?= 60
.PHONY: chaos
chaos: manifests envtest ## The fault campaign at length: the operator SIGKILLed CHAOS_KILLS times, PostgreSQL restarted, the API server cut off (make test runs it with 15 kills).
	KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS)" CHAOS_KILLS=$(CHAOS_KILLS) go test ./test/chaos -count=1 -v -timeout $(TEST_TIMEOUT)

.PHONY: demo
SAMPLE ?= config/samples/platform_v1alpha1_region.yaml
demo: manifests envtest ## Start a local control plane, apply a sample county (SAMPLE=...), print what it became.
	KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS)" go run ./cmd/demo -sample $(SAMPLE)

##@ Local cluster

.PHONY: dev-up
dev-up: manifests envtest ## Start a local control plane and leave it running; kubeconfig in bin/dev/kubeconfig.
	@mkdir -p $(DEV_DIR)
	go build -o $(LOCALBIN)/devenv ./cmd/devenv
	KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS)" hack/dev-up.sh $(LOCALBIN)/devenv $(DEV_DIR)

.PHONY: dev-down
dev-down: ## Stop what dev-up and run started.
	hack/dev-down.sh $(DEV_DIR)

##@ Build and run

.PHONY: build
build: manifests generate ## Build the operator binary.
	CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o $(LOCALBIN)/manager ./cmd

.PHONY: run
PLUGIN_VERSION ?= v0.1.0
.PHONY: plugin
plugin: ## Build the kubectl plugin into bin/kubectl-region (put bin/ on the PATH: kubectl region ...), and its krew archive and manifest into bin/krew.
	CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o bin/kubectl-region ./cmd/kubectl-region
	hack/krew.sh $(PLUGIN_VERSION)

run: build ## Run the operator against bin/dev/kubeconfig after dev-up, else the current kubeconfig.
	@mkdir -p $(DEV_DIR)
	hack/run.sh $(LOCALBIN)/manager $(DEV_DIR)

##@ Deployment

.PHONY: install
install: manifests ## Install the CRDs into the current kubeconfig's cluster.
	$(KUBECTL) apply --server-side -f config/crd/bases

.PHONY: uninstall
uninstall: ## Remove the CRDs; refuses while Regions exist unless FORCE=true (see README: Removing).
	KUBECTL="$(KUBECTL)" FORCE="$(FORCE)" hack/uninstall.sh

.PHONY: deploy
deploy: manifests ## Install the CRDs and the operator (config/default) into the current kubeconfig's cluster.
	$(KUSTOMIZE) config/default | sed 's|image: controller:latest|image: $(IMG)|' | $(KUBECTL) apply --server-side -f -

.PHONY: undeploy
undeploy: ## Remove the operator and its admission policies; the CRDs and every Region stay (make uninstall removes the CRDs).
	{ $(KUSTOMIZE) config/operator; echo ---; $(KUSTOMIZE) config/admission; } | $(KUBECTL) delete --ignore-not-found -f -

$(CONTROLLER_GEN):
	GOBIN=$(LOCALBIN) go install sigs.k8s.io/controller-tools/cmd/controller-gen@$(CONTROLLER_TOOLS_VERSION)

##@ Benchmark

BENCH_FLAGS ?=
.PHONY: bench
bench: manifests envtest ## Province-scale benchmark against the floor (flags: BENCH_FLAGS="-counties 100 -townships 15 -branches 20").
	KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS)" go run ./cmd/bench $(BENCH_FLAGS)
