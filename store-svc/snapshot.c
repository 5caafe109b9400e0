/*
 * snapshot.c — the snapshot container writer and reader (see snapshot.h).
 *
 * Writer invariants: w->off is the logical file size (bytes written plus
 * bytes in the write buffer); every section header starts at a multiple of
 * SNAP_ALIGN; a section's header is a zero placeholder until snap_writer_end
 * pwrites the real one (after flushing the buffer); the file header is a
 * zero placeholder until commit, so a .tmp that was never committed has no
 * valid magic. The first error is sticky (w->err) and returned by commit.
 *
 * Reader invariants: every offset is checked against the file size before
 * it is dereferenced (sizes come from the file and are untrusted); a snap is
 * returned only when the header, all section headers, the footer and the
 * chain binding them (footer CRC over the section headers) are consistent.
 */
#include "snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "persist.h"
#include "vx_clock.h"
#include "vx_crc32c.h"
#include "vx_err.h"
#include "vx_log.h"

#define SNAP_WBUF (1u << 20)

struct snap_writer {
    char *dir;
    char name[64];
    char tmp_name[80];
    int fd;
    uint64_t lsn;
    uint64_t off;
    unsigned char *buf;
    size_t buf_len;
    bool in_section;
    uint64_t sec_off;
    uint32_t sec_type;
    uint64_t sec_len;
    uint32_t sec_crc;
    uint32_t count;
    uint32_t headers_crc;
    int err;
};

struct snap {
    char *path;
    const unsigned char *base;
    size_t size;
    bool mapped;
    uint64_t lsn;
    uint64_t created_ms;
    snap_section *secs;
    size_t n_secs;
};

static void snap_err(char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void snap_err(char *err, size_t err_len, const char *fmt, ...)
{
    if (!err || err_len == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
}

void snap_file_name(char *out, size_t len, uint64_t lsn)
{
    snprintf(out, len, SNAP_FILE_PREFIX "%016llx" SNAP_FILE_SUFFIX, (unsigned long long)lsn);
}

/* ---- writer ---- */

static int snap_w_flush(snap_writer *w)
{
    if (w->err || w->buf_len == 0)
        return w->err;
    int rc = fsu_write_all(w->fd, w->buf, w->buf_len);
    if (rc != VX_OK) {
        VX_ERROR("snapshot: write to %s/%s failed: %s", w->dir, w->tmp_name, strerror(errno));
        w->err = rc;
    }
    w->buf_len = 0;
    return w->err;
}

static int snap_w_put(snap_writer *w, const void *p, size_t n)
{
    if (w->err)
        return w->err;
    if (n >= SNAP_WBUF) {
        if (snap_w_flush(w) != VX_OK)
            return w->err;
        int rc = fsu_write_all(w->fd, p, n);
        if (rc != VX_OK) {
            VX_ERROR("snapshot: write to %s/%s failed: %s", w->dir, w->tmp_name, strerror(errno));
            return w->err = rc;
        }
    } else {
        if (w->buf_len + n > SNAP_WBUF && snap_w_flush(w) != VX_OK)
            return w->err;
        memcpy(w->buf + w->buf_len, p, n);
        w->buf_len += n;
    }
    w->off += n;
    return VX_OK;
}

static int snap_w_pad(snap_writer *w)
{
    static const unsigned char zeros[SNAP_ALIGN];
    size_t pad = (size_t)((SNAP_ALIGN - w->off % SNAP_ALIGN) % SNAP_ALIGN);
    return pad ? snap_w_put(w, zeros, pad) : w->err;
}

int snap_writer_open(snap_writer **out, const char *dir, uint64_t lsn)
{
    *out = NULL;
    int rc = fsu_mkdir_p(dir);
    if (rc != VX_OK) {
        VX_ERROR("snapshot: cannot create directory %s: %s", dir, strerror(errno));
        return rc;
    }
    snap_writer *w = calloc(1, sizeof *w);
    if (!w)
        return VX_ERR_NOMEM;
    w->fd = -1;
    w->lsn = lsn;
    w->dir = strdup(dir);
    w->buf = malloc(SNAP_WBUF);
    if (!w->dir || !w->buf) {
        rc = VX_ERR_NOMEM;
        goto fail;
    }
    snap_file_name(w->name, sizeof w->name, lsn);
    snprintf(w->tmp_name, sizeof w->tmp_name, "%s" SNAP_TMP_SUFFIX, w->name);
    char path[PATH_MAX];
    rc = fsu_path(path, sizeof path, dir, w->tmp_name);
    if (rc != VX_OK)
        goto fail;
    w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (w->fd < 0) {
        VX_ERROR("snapshot: cannot create %s: %s", path, strerror(errno));
        rc = VX_ERR_IO;
        goto fail;
    }
    unsigned char zero_hdr[SNAP_HDR_SIZE] = {0};
    rc = snap_w_put(w, zero_hdr, sizeof zero_hdr);
    if (rc != VX_OK)
        goto fail;
    *out = w;
    return VX_OK;
fail:
    snap_writer_abort(w);
    return rc;
}

int snap_writer_begin(snap_writer *w, uint32_t type)
{
    if (w->err)
        return w->err;
    if (w->in_section || w->count >= SNAP_MAX_SECTIONS)
        return w->err = VX_ERR_INVALID;
    unsigned char zero[SNAP_SEC_HDR_SIZE] = {0};
    w->sec_off = w->off;
    w->sec_type = type;
    w->sec_len = 0;
    w->sec_crc = 0;
    w->in_section = true;
    return snap_w_put(w, zero, sizeof zero);
}

int snap_writer_append(snap_writer *w, const void *data, size_t len)
{
    if (w->err)
        return w->err;
    if (!w->in_section || (!data && len))
        return w->err = VX_ERR_INVALID;
    if (len == 0)
        return VX_OK;
    w->sec_crc = vx_crc32c(w->sec_crc, data, len);
    w->sec_len += len;
    return snap_w_put(w, data, len);
}

int snap_writer_end(snap_writer *w)
{
    if (w->err)
        return w->err;
    if (!w->in_section)
        return w->err = VX_ERR_INVALID;
    if (snap_w_pad(w) != VX_OK || snap_w_flush(w) != VX_OK)
        return w->err;
    unsigned char h[SNAP_SEC_HDR_SIZE] = {0};
    le_put32(h + SNAP_SEC_OFF_TYPE, w->sec_type);
    le_put32(h + SNAP_SEC_OFF_FLAGS, 0);
    le_put64(h + SNAP_SEC_OFF_LEN, w->sec_len);
    le_put32(h + SNAP_SEC_OFF_CRC, w->sec_crc);
    le_put32(h + SNAP_SEC_OFF_HCRC, vx_crc32c(0, h, SNAP_SEC_OFF_HCRC));
    int rc = fsu_pwrite_all(w->fd, h, sizeof h, w->sec_off);
    if (rc != VX_OK) {
        VX_ERROR("snapshot: write to %s/%s failed: %s", w->dir, w->tmp_name, strerror(errno));
        return w->err = rc;
    }
    w->headers_crc = vx_crc32c(w->headers_crc, h, sizeof h);
    w->count++;
    w->in_section = false;
    return VX_OK;
}

int snap_writer_section(snap_writer *w, uint32_t type, const void *data, size_t len)
{
    int rc = snap_writer_begin(w, type);
    if (rc == VX_OK)
        rc = snap_writer_append(w, data, len);
    if (rc == VX_OK)
        rc = snap_writer_end(w);
    return rc;
}

void snap_writer_abort(snap_writer *w)
{
    if (!w)
        return;
    if (w->fd >= 0) {
        close(w->fd);
        fsu_unlink_in(w->dir, w->tmp_name);
    }
    free(w->buf);
    free(w->dir);
    free(w);
}

int snap_writer_commit(snap_writer *w, char *path_out, size_t path_len)
{
    if (!w->err && w->in_section)
        w->err = VX_ERR_INVALID;
    unsigned char ft[SNAP_FOOTER_SIZE] = {0};
    memcpy(ft, SNAP_FOOTER_MAGIC, SNAP_MAGIC_LEN);
    le_put64(ft + SNAP_FT_OFF_LSN, w->lsn);
    le_put32(ft + SNAP_FT_OFF_COUNT, w->count);
    le_put32(ft + SNAP_FT_OFF_SECCRC, w->headers_crc);
    le_put32(ft + SNAP_FT_OFF_CRC, vx_crc32c(0, ft, SNAP_FT_OFF_CRC));
    snap_w_put(w, ft, sizeof ft);
    snap_w_flush(w);

    unsigned char h[SNAP_HDR_SIZE] = {0};
    memcpy(h, SNAP_MAGIC, SNAP_MAGIC_LEN);
    le_put16(h + SNAP_HDR_OFF_VERSION, SNAP_VERSION);
    le_put32(h + SNAP_HDR_OFF_HDRSIZE, SNAP_HDR_SIZE);
    le_put64(h + SNAP_HDR_OFF_LSN, w->lsn);
    le_put32(h + SNAP_HDR_OFF_COUNT, w->count);
    le_put32(h + SNAP_HDR_OFF_FLAGS, 0);
    le_put64(h + SNAP_HDR_OFF_CREATED, vx_wall_ms());
    le_put32(h + SNAP_HDR_OFF_CRC, vx_crc32c(0, h, SNAP_HDR_OFF_CRC));
    if (!w->err && fsu_pwrite_all(w->fd, h, sizeof h, 0) != VX_OK)
        w->err = VX_ERR_IO;
    if (!w->err && fsync(w->fd) != 0)
        w->err = VX_ERR_IO;
    if (!w->err && close(w->fd) != 0)
        w->err = VX_ERR_IO;
    else if (w->err)
        close(w->fd);
    w->fd = -1;
    if (!w->err)
        w->err = fsu_rename_durable(w->dir, w->tmp_name, w->name);
    int rc = w->err;
    if (rc != VX_OK) {
        VX_ERROR("snapshot: cannot commit %s/%s: %s (%s)", w->dir, w->name, vx_strerror(rc),
                 strerror(errno));
        fsu_unlink_in(w->dir, w->tmp_name);
    } else {
        if (path_out)
            snprintf(path_out, path_len, "%s/%s", w->dir, w->name);
        VX_INFO("snapshot: wrote %s/%s (LSN %llu, %u sections, %llu bytes)", w->dir, w->name,
                (unsigned long long)w->lsn, w->count, (unsigned long long)w->off);
    }
    free(w->buf);
    free(w->dir);
    free(w);
    return rc;
}

/* ---- reader ---- */

static int snap_parse(snap *s, unsigned flags, char *err, size_t err_len)
{
    const unsigned char *b = s->base;
    size_t size = s->size;
    const char *p = s->path;
    if (size < SNAP_HDR_SIZE + SNAP_FOOTER_SIZE) {
        snap_err(err, err_len, "%s: file is %zu bytes, too short for a snapshot (truncated)", p, size);
        return VX_ERR_CORRUPT;
    }
    if (memcmp(b, SNAP_MAGIC, SNAP_MAGIC_LEN) != 0) {
        snap_err(err, err_len, "%s: offset 0: bad magic (not a Vectron snapshot, or never committed)", p);
        return VX_ERR_CORRUPT;
    }
    if (le_get32(b + SNAP_HDR_OFF_CRC) != vx_crc32c(0, b, SNAP_HDR_OFF_CRC)) {
        snap_err(err, err_len, "%s: offset 0: header CRC mismatch", p);
        return VX_ERR_CORRUPT;
    }
    uint16_t version = le_get16(b + SNAP_HDR_OFF_VERSION);
    if (version != SNAP_VERSION) {
        snap_err(err, err_len, "%s: unsupported snapshot version %u (this build reads %d)", p,
                 version, SNAP_VERSION);
        return VX_ERR_CORRUPT;
    }
    uint32_t hdr_size = le_get32(b + SNAP_HDR_OFF_HDRSIZE);
    uint32_t count = le_get32(b + SNAP_HDR_OFF_COUNT);
    s->lsn = le_get64(b + SNAP_HDR_OFF_LSN);
    s->created_ms = le_get64(b + SNAP_HDR_OFF_CREATED);
    if (hdr_size < SNAP_HDR_SIZE || hdr_size % SNAP_ALIGN != 0 || hdr_size > size - SNAP_FOOTER_SIZE ||
        count > SNAP_MAX_SECTIONS) {
        snap_err(err, err_len, "%s: offset 0: bad header (size %u, %u sections)", p, hdr_size, count);
        return VX_ERR_CORRUPT;
    }
    size_t ft_off = size - SNAP_FOOTER_SIZE;
    const unsigned char *ft = b + ft_off;
    if (memcmp(ft, SNAP_FOOTER_MAGIC, SNAP_MAGIC_LEN) != 0 ||
        le_get32(ft + SNAP_FT_OFF_CRC) != vx_crc32c(0, ft, SNAP_FT_OFF_CRC)) {
        snap_err(err, err_len, "%s: offset %zu: no valid footer (file truncated or damaged)", p, ft_off);
        return VX_ERR_CORRUPT;
    }
    if (le_get64(ft + SNAP_FT_OFF_LSN) != s->lsn || le_get32(ft + SNAP_FT_OFF_COUNT) != count) {
        snap_err(err, err_len, "%s: offset %zu: footer does not match the header", p, ft_off);
        return VX_ERR_CORRUPT;
    }
    s->secs = calloc(count ? count : 1, sizeof *s->secs);
    if (!s->secs)
        return VX_ERR_NOMEM;
    uint64_t off = hdr_size;
    uint32_t headers_crc = 0;
    for (uint32_t i = 0; i < count; i++) {
        if (off > ft_off || ft_off - off < SNAP_SEC_HDR_SIZE) {
            snap_err(err, err_len, "%s: offset %" PRIu64 ": section %u of %u missing (truncated)", p,
                     off, i, count);
            return VX_ERR_CORRUPT;
        }
        const unsigned char *h = b + off;
        if (le_get32(h + SNAP_SEC_OFF_HCRC) != vx_crc32c(0, h, SNAP_SEC_OFF_HCRC)) {
            snap_err(err, err_len, "%s: offset %" PRIu64 ": section %u header CRC mismatch", p, off, i);
            return VX_ERR_CORRUPT;
        }
        uint64_t len = le_get64(h + SNAP_SEC_OFF_LEN);
        uint64_t room = ft_off - off - SNAP_SEC_HDR_SIZE;
        if (len > room) {
            snap_err(err, err_len,
                     "%s: offset %" PRIu64 ": section %u claims %" PRIu64 " bytes, only %" PRIu64
                     " present (truncated)",
                     p, off, i, len, room);
            return VX_ERR_CORRUPT;
        }
        snap_section *sec = &s->secs[i];
        sec->type = le_get32(h + SNAP_SEC_OFF_TYPE);
        sec->flags = le_get32(h + SNAP_SEC_OFF_FLAGS);
        sec->len = len;
        sec->crc = le_get32(h + SNAP_SEC_OFF_CRC);
        sec->offset = off;
        sec->data = h + SNAP_SEC_HDR_SIZE;
        headers_crc = vx_crc32c(headers_crc, h, SNAP_SEC_HDR_SIZE);
        uint64_t padded = (len + SNAP_ALIGN - 1) / SNAP_ALIGN * SNAP_ALIGN;
        if (padded > room) {
            snap_err(err, err_len, "%s: offset %" PRIu64 ": section %u padding runs into the footer",
                     p, off, i);
            return VX_ERR_CORRUPT;
        }
        off += SNAP_SEC_HDR_SIZE + padded;
        s->n_secs = i + 1;
    }
    if (off != ft_off) {
        snap_err(err, err_len, "%s: offset %" PRIu64 ": %" PRIu64 " unexpected bytes before the footer",
                 p, off, (uint64_t)ft_off - off);
        return VX_ERR_CORRUPT;
    }
    if (headers_crc != le_get32(ft + SNAP_FT_OFF_SECCRC)) {
        snap_err(err, err_len, "%s: offset %zu: footer does not match the section headers", p, ft_off);
        return VX_ERR_CORRUPT;
    }
    if (!(flags & SNAP_OPEN_LAZY))
        return snap_verify(s, err, err_len);
    return VX_OK;
}

int snap_verify_section(snap *s, size_t i, char *err, size_t err_len)
{
    if (i >= s->n_secs)
        return VX_ERR_INVALID;
    const snap_section *sec = &s->secs[i];
    if (vx_crc32c(0, sec->data, (size_t)sec->len) != sec->crc) {
        snap_err(err, err_len, "%s: offset %" PRIu64 ": section %zu (type %u, %" PRIu64
                 " bytes) CRC mismatch",
                 s->path, sec->offset, i, sec->type, sec->len);
        return VX_ERR_CORRUPT;
    }
    return VX_OK;
}

int snap_verify(snap *s, char *err, size_t err_len)
{
    for (size_t i = 0; i < s->n_secs; i++) {
        int rc = snap_verify_section(s, i, err, err_len);
        if (rc != VX_OK)
            return rc;
    }
    return VX_OK;
}

int snap_open_buffer(snap **out, const void *data, size_t len, const char *name, unsigned flags,
                     char *err, size_t err_len)
{
    *out = NULL;
    snap *s = calloc(1, sizeof *s);
    if (!s)
        return VX_ERR_NOMEM;
    s->path = strdup(name ? name : "(buffer)");
    s->base = data;
    s->size = len;
    int rc = s->path ? snap_parse(s, flags, err, err_len) : VX_ERR_NOMEM;
    if (rc != VX_OK) {
        snap_close(s);
        return rc;
    }
    *out = s;
    return VX_OK;
}

int snap_open(snap **out, const char *path, unsigned flags, char *err, size_t err_len)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snap_err(err, err_len, "%s: cannot open: %s", path, strerror(errno));
        return errno == ENOENT ? VX_ERR_NOT_FOUND : VX_ERR_IO;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        snap_err(err, err_len, "%s: cannot stat: %s", path, strerror(errno));
        close(fd);
        return VX_ERR_IO;
    }
    snap *s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(path))) {
        free(s);
        close(fd);
        return VX_ERR_NOMEM;
    }
    s->size = (size_t)st.st_size;
    int rc = VX_OK;
    if (s->size > 0) {
        void *m = mmap(NULL, s->size, PROT_READ, MAP_SHARED, fd, 0);
        if (m == MAP_FAILED) {
            snap_err(err, err_len, "%s: cannot map: %s", path, strerror(errno));
            rc = VX_ERR_IO;
        } else {
            s->base = m;
            s->mapped = true;
        }
    } else {
        static const unsigned char empty[1];
        s->base = empty;
    }
    close(fd);
    if (rc == VX_OK)
        rc = snap_parse(s, flags, err, err_len);
    if (rc != VX_OK) {
        snap_close(s);
        return rc;
    }
    *out = s;
    return VX_OK;
}

void snap_close(snap *s)
{
    if (!s)
        return;
    if (s->mapped)
        munmap((void *)s->base, s->size);
    free(s->secs);
    free(s->path);
    free(s);
}

uint64_t snap_lsn(const snap *s) { return s->lsn; }
uint64_t snap_created_ms(const snap *s) { return s->created_ms; }
uint64_t snap_file_size(const snap *s) { return s->size; }
const char *snap_path(const snap *s) { return s->path; }
size_t snap_section_count(const snap *s) { return s->n_secs; }

const snap_section *snap_section_at(const snap *s, size_t i)
{
    return i < s->n_secs ? &s->secs[i] : NULL;
}

const snap_section *snap_find_section(const snap *s, uint32_t type, size_t nth)
{
    for (size_t i = 0; i < s->n_secs; i++)
        if (s->secs[i].type == type && nth-- == 0)
            return &s->secs[i];
    return NULL;
}

/* ---- directory-level ---- */

int snap_find_latest(const char *dir, bool accept_loss, snap **out, char *err, size_t err_len)
{
    *out = NULL;
    char **names;
    size_t n;
    int rc = fsu_list_dir(dir, SNAP_FILE_PREFIX, SNAP_FILE_SUFFIX, &names, &n);
    if (rc == VX_ERR_NOT_FOUND)
        return VX_ERR_NOT_FOUND;
    if (rc != VX_OK) {
        snap_err(err, err_len, "%s: cannot list directory: %s", dir, strerror(errno));
        return rc;
    }
    rc = VX_ERR_NOT_FOUND;
    for (size_t k = n; k-- > 0;) {
        uint64_t lsn;
        if (fsu_parse_lsn_name(names[k], SNAP_FILE_PREFIX, SNAP_FILE_SUFFIX, &lsn) != 0)
            continue;
        char path[PATH_MAX], msg[512] = "";
        if (fsu_path(path, sizeof path, dir, names[k]) != VX_OK)
            continue;
        snap *s;
        int orc = snap_open(&s, path, 0, msg, sizeof msg);
        if (orc == VX_OK && snap_lsn(s) != lsn) {
            snap_err(msg, sizeof msg, "%s: header LSN %llu does not match the file name", path,
                     (unsigned long long)snap_lsn(s));
            snap_close(s);
            orc = VX_ERR_CORRUPT;
        }
        if (orc == VX_OK) {
            *out = s;
            rc = VX_OK;
            break;
        }
        if (!accept_loss) {
            snap_err(err, err_len,
                     "refusing to load: newest snapshot is unusable: %s (run vectron-check; "
                     "--accept-loss falls back to an older snapshot)",
                     msg);
            VX_ERROR("snapshot: %s", err ? err : msg);
            rc = orc == VX_ERR_NOMEM ? orc : VX_ERR_CORRUPT;
            break;
        }
        /* Moved aside, so that pruning (which keeps the newest two by
         * name) never keeps it in place of the valid one loaded now. A
         * failure that is not the file's fault (no memory) leaves it. */
        bool aside = false;
        if (orc == VX_ERR_CORRUPT) {
            char corrupt[NAME_MAX + 1];
            snprintf(corrupt, sizeof corrupt, "%s%s", names[k], SNAP_CORRUPT_SUFFIX);
            aside = fsu_rename_durable(dir, names[k], corrupt) == VX_OK;
        }
        VX_ERROR("snapshot: DATA LOSS accepted: skipping unusable snapshot: %s%s", msg,
                 aside ? " (renamed to *" SNAP_CORRUPT_SUFFIX ")" : "");
    }
    fsu_list_free(names, n);
    return rc;
}

int snap_prune(const char *dir, unsigned keep, unsigned *removed)
{
    if (removed)
        *removed = 0;
    if (keep < 1)
        return VX_ERR_INVALID;
    char **names, **tmps;
    size_t n, nt;
    int rc = fsu_list_dir(dir, SNAP_FILE_PREFIX, SNAP_FILE_SUFFIX, &names, &n);
    if (rc != VX_OK)
        return rc == VX_ERR_NOT_FOUND ? VX_OK : rc;
    rc = fsu_list_dir(dir, SNAP_FILE_PREFIX, SNAP_FILE_SUFFIX SNAP_TMP_SUFFIX, &tmps, &nt);
    if (rc != VX_OK) {
        fsu_list_free(names, n);
        return rc;
    }
    unsigned count = 0, valid_seen = 0;
    for (size_t k = n; k-- > 0 && rc == VX_OK;) {
        uint64_t lsn;
        if (fsu_parse_lsn_name(names[k], SNAP_FILE_PREFIX, SNAP_FILE_SUFFIX, &lsn) != 0)
            continue;
        if (++valid_seen <= keep)
            continue;
        rc = fsu_unlink_in(dir, names[k]);
        if (rc == VX_OK) {
            VX_INFO("snapshot: removed old %s/%s", dir, names[k]);
            count++;
        }
    }
    for (size_t k = 0; k < nt && rc == VX_OK; k++) {
        rc = fsu_unlink_in(dir, tmps[k]);
        if (rc == VX_OK) {
            VX_INFO("snapshot: removed unfinished %s/%s", dir, tmps[k]);
            count++;
        }
    }
    if (count > 0) {
        int rc2 = fsu_fsync_dir(dir);
        if (rc == VX_OK)
            rc = rc2;
    }
    fsu_list_free(names, n);
    fsu_list_free(tmps, nt);
    if (removed)
        *removed = count;
    return rc;
}
