# store-svc/: libvxstore.a + vectron-store (and later vectron-check).
PROGRAMS += vectron-store:store-svc:store-svc/main.c
PROGRAMS += vectron-check:store-svc:store-svc/check_main.c
PROGRAMS += vectron-bench-index:store-svc:store-svc/bench_main.c
