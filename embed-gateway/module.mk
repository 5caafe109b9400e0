# embed-gateway/: libvxembed.a + vectron-embed.
PROGRAMS += vectron-embed:embed-gateway:embed-gateway/main.c
PROGRAMS += vectron-embed-bench:embed-gateway:embed-gateway/bench_main.c
PROGRAMS += vectron-bench-models:embed-gateway:embed-gateway/bench_models_main.c
