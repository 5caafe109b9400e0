# embed-gateway/: libvxembed.a + vectron-embed.
