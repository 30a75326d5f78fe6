# syntax=docker/dockerfile:1
# The st2k8s image, for the Argo CD plugin sidecar (deploy/argocd) or `docker run`:
#   docker build -t st2k8s:0.1.0 .
#   docker run --rm -v "$PWD:/work" -w /work st2k8s:0.1.0 render -f values.yaml
# One fully static binary (x86_64 musl, the `dist` profile: fat LTO) on an empty base image,
# run as UID/GID 999 like Argo CD's plugin sidecars. Nothing else is in the image: no shell, no
# libc, no package manager. The sidecar runs Argo CD's own argocd-cmp-server (mounted from the
# repo server), which starts `st2k8s` from PATH.

FROM rust:1.95.0-slim-bookworm AS build
RUN rustup target add x86_64-unknown-linux-musl
WORKDIR /src
COPY . .
RUN cargo build --locked --profile dist --target x86_64-unknown-linux-musl \
    && cp target/x86_64-unknown-linux-musl/dist/st2k8s /st2k8s

FROM scratch
COPY --from=build /st2k8s /usr/local/bin/st2k8s
ENV PATH=/usr/local/bin
USER 999:999
ENTRYPOINT ["/usr/local/bin/st2k8s"]
