# Base images come from your registry or mirror: pass GO_IMAGE (a Go 1.26 toolchain image)
# and BASE_IMAGE (distroless static, nonroot) with --build-arg.
ARG GO_IMAGE=golang:1.26
ARG BASE_IMAGE=distroless/static:nonroot

# Build stage: a static binary, exactly as `make build` builds it.
FROM ${GO_IMAGE} AS builder
WORKDIR /workspace
COPY go.mod go.sum ./
RUN go mod download
COPY api/ api/
COPY cmd/ cmd/
COPY controllers/ controllers/
COPY internal/ internal/
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags="-s -w" -o manager ./cmd

# Run stage: distroless static, as a non-root user.
FROM ${BASE_IMAGE}
WORKDIR /
COPY --from=builder /workspace/manager .
USER 65532:65532
ENTRYPOINT ["/manager"]
