# mesa container image: a static binary on distroless, non-root, no shell.
#
#   docker build -t mesa:local --build-arg VERSION=$(git describe --tags --always) \
#     --build-arg COMMIT=$(git rev-parse HEAD) --build-arg BUILD_DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ) .
#   docker run -d -p 127.0.0.1:8080:8080 -v mesa-data:/var/lib/mesa mesa:local
#
# The contract (tested on the binary in cmd/mesa/packaging_test.go):
# configuration from MESA_* variables (and optionally a file named by
# MESA_CONFIG), state in the volume /var/lib/mesa, SIGTERM stops it
# gracefully with exit code 0, and `mesa healthcheck` exits 0 while the
# daemon answers /healthz on its admin listener (http.admin_listen, by
# default 127.0.0.1:9090 inside the container) and 1 otherwise.

ARG GO_VERSION=1.26

FROM docker.io/library/golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=""
ARG COMMIT=""
ARG BUILD_DATE=""
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X main.buildVersion=${VERSION} -X main.buildCommit=${COMMIT} -X main.buildDate=${BUILD_DATE}" \
      -o /out/usr/local/bin/mesa ./cmd/mesa \
 && mkdir -p /out/var/lib/mesa

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/usr/local/bin/mesa /usr/local/bin/mesa
COPY --from=build --chown=65532:65532 /out/var/lib/mesa /var/lib/mesa
ENV MESA_DATABASE_URL=sqlite:/var/lib/mesa/mesa.db \
    MESA_HTTP_LISTEN=0.0.0.0:8080
VOLUME /var/lib/mesa
WORKDIR /var/lib/mesa
EXPOSE 8080
USER 65532:65532
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["/usr/local/bin/mesa", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/mesa"]
CMD ["serve"]
