# api-gateway/: libvxapi.a + vectron-api.
PROGRAMS += vectron-api:api-gateway:api-gateway/main.c
