/*
 * fsutil.c — see fsutil.h. Thin, careful wrappers over POSIX file calls.
 * The only state is the list of data-directory locks this process holds
 * (guarded by fsu_locks_mu); every function is safe to call from any thread.
 */
#include "fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vx_err.h"

/* Linux transfers at most this much per read/write call. */
#define FSU_MAX_IO ((size_t)0x7ffff000)

int fsu_write_all(int fd, const void *p, size_t n)
{
    const unsigned char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n > FSU_MAX_IO ? FSU_MAX_IO : n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return VX_ERR_IO;
        }
        c += w;
        n -= (size_t)w;
    }
    return VX_OK;
}

int fsu_pwrite_all(int fd, const void *p, size_t n, uint64_t off)
{
    const unsigned char *c = p;
    while (n > 0) {
        ssize_t w = pwrite(fd, c, n > FSU_MAX_IO ? FSU_MAX_IO : n, (off_t)off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return VX_ERR_IO;
        }
        c += w;
        n -= (size_t)w;
        off += (uint64_t)w;
    }
    return VX_OK;
}

int fsu_pread_all(int fd, void *p, size_t n, uint64_t off)
{
    unsigned char *c = p;
    while (n > 0) {
        ssize_t r = pread(fd, c, n > FSU_MAX_IO ? FSU_MAX_IO : n, (off_t)off);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return VX_ERR_IO;
        }
        if (r == 0)
            return VX_ERR_CORRUPT;
        c += r;
        n -= (size_t)r;
        off += (uint64_t)r;
    }
    return VX_OK;
}

int fsu_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? VX_ERR_NOT_FOUND : VX_ERR_IO;
    int rc = fsync(fd) == 0 ? VX_OK : VX_ERR_IO;
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

int fsu_mkdir_p(const char *dir)
{
    char tmp[PATH_MAX];
    size_t len = strlen(dir);
    if (len == 0 || len >= sizeof tmp)
        return VX_ERR_LIMIT;
    memcpy(tmp, dir, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (tmp[i] != '/' && tmp[i] != '\0')
            continue;
        char saved = tmp[i];
        tmp[i] = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
            return VX_ERR_IO;
        tmp[i] = saved;
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return VX_ERR_IO;
    return VX_OK;
}

int fsu_path(char *out, size_t out_len, const char *dir, const char *name)
{
    int n = snprintf(out, out_len, "%s/%s", dir, name);
    return (n < 0 || (size_t)n >= out_len) ? VX_ERR_LIMIT : VX_OK;
}

int fsu_write_file_atomic(const char *dir, const char *name, const void *data, size_t len)
{
    char tmp_name[NAME_MAX + 1], tmp_path[PATH_MAX], path[PATH_MAX];
    int n = snprintf(tmp_name, sizeof tmp_name, "%s.tmp", name);
    if (n < 0 || (size_t)n >= sizeof tmp_name)
        return VX_ERR_LIMIT;
    int rc = fsu_path(tmp_path, sizeof tmp_path, dir, tmp_name);
    if (rc == VX_OK)
        rc = fsu_path(path, sizeof path, dir, name);
    if (rc != VX_OK)
        return rc;
    int fd = open(tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return VX_ERR_IO;
    rc = fsu_write_all(fd, data, len);
    if (rc == VX_OK && fsync(fd) != 0)
        rc = VX_ERR_IO;
    if (close(fd) != 0 && rc == VX_OK)
        rc = VX_ERR_IO;
    if (rc == VX_OK && rename(tmp_path, path) != 0)
        rc = VX_ERR_IO;
    if (rc != VX_OK) {
        int saved = errno;
        unlink(tmp_path);
        errno = saved;
        return rc;
    }
    return fsu_fsync_dir(dir);
}

int fsu_read_file(const char *path, vx_buf *out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? VX_ERR_NOT_FOUND : VX_ERR_IO;
    int rc = VX_OK;
    for (;;) {
        vx_buf_reserve(out, 64 * 1024);
        ssize_t r = read(fd, out->data + out->len, out->cap - out->len);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            rc = VX_ERR_IO;
            break;
        }
        if (r == 0)
            break;
        out->len += (size_t)r;
    }
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

int fsu_file_size(const char *path, uint64_t *size)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return errno == ENOENT ? VX_ERR_NOT_FOUND : VX_ERR_IO;
    *size = (uint64_t)st.st_size;
    return VX_OK;
}

int fsu_truncate_durable(const char *path, uint64_t size)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? VX_ERR_NOT_FOUND : VX_ERR_IO;
    int rc = VX_OK;
    if (ftruncate(fd, (off_t)size) != 0 || fsync(fd) != 0)
        rc = VX_ERR_IO;
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

int fsu_rename_durable(const char *dir, const char *from, const char *to)
{
    char a[PATH_MAX], b[PATH_MAX];
    int rc = fsu_path(a, sizeof a, dir, from);
    if (rc == VX_OK)
        rc = fsu_path(b, sizeof b, dir, to);
    if (rc != VX_OK)
        return rc;
    if (rename(a, b) != 0)
        return errno == ENOENT ? VX_ERR_NOT_FOUND : VX_ERR_IO;
    return fsu_fsync_dir(dir);
}

int fsu_unlink_in(const char *dir, const char *name)
{
    char p[PATH_MAX];
    int rc = fsu_path(p, sizeof p, dir, name);
    if (rc != VX_OK)
        return rc;
    if (unlink(p) != 0 && errno != ENOENT)
        return VX_ERR_IO;
    return VX_OK;
}

static int fsu_cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int fsu_has_affixes(const char *name, const char *prefix, const char *suffix)
{
    size_t ln = strlen(name), lp = strlen(prefix), ls = strlen(suffix);
    return ln >= lp + ls && memcmp(name, prefix, lp) == 0 && memcmp(name + ln - ls, suffix, ls) == 0;
}

int fsu_list_dir(const char *dir, const char *prefix, const char *suffix, char ***names,
                 size_t *n)
{
    *names = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? VX_ERR_NOT_FOUND : VX_ERR_IO;
    char **v = NULL;
    size_t len = 0, cap = 0;
    int rc = VX_OK;
    for (;;) {
        errno = 0; /* readdir reports errors only through errno */
        struct dirent *e = readdir(d);
        if (!e) {
            if (errno != 0)
                rc = VX_ERR_IO;
            break;
        }
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
            !fsu_has_affixes(e->d_name, prefix, suffix))
            continue;
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            char **nv = realloc(v, ncap * sizeof *nv);
            if (!nv) {
                rc = VX_ERR_NOMEM;
                goto out;
            }
            v = nv;
            cap = ncap;
        }
        v[len] = strdup(e->d_name);
        if (!v[len]) {
            rc = VX_ERR_NOMEM;
            goto out;
        }
        len++;
    }
out:
    closedir(d);
    if (rc != VX_OK) {
        fsu_list_free(v, len);
        return rc;
    }
    if (len > 1)
        qsort(v, len, sizeof *v, fsu_cmp_names);
    *names = v;
    *n = len;
    return VX_OK;
}

void fsu_list_free(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

int fsu_parse_lsn_name(const char *name, const char *prefix, const char *suffix, uint64_t *lsn)
{
    size_t lp = strlen(prefix), ls = strlen(suffix);
    if (strlen(name) != lp + 16 + ls || !fsu_has_affixes(name, prefix, suffix))
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < 16; i++) {
        char c = name[lp + i];
        int d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else
            return -1;
        v = (v << 4) | (uint64_t)d;
    }
    *lsn = v;
    return 0;
}

/* ---- data-directory lock ------------------------------------------------- */

struct fsu_dir_lock {
    dev_t dev;
    ino_t ino;
    pid_t pid; /* the holder: a forked child inherits the list, not the lock */
    int fd;
    unsigned refs;
    struct fsu_dir_lock *next;
};

static pthread_mutex_t fsu_locks_mu = PTHREAD_MUTEX_INITIALIZER;
static fsu_dir_lock *fsu_locks; /* held by this process */

static long fsu_lock_holder(int fd)
{
    char buf[32] = "";
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    return strtol(buf, NULL, 10);
}

int fsu_dir_lock_acquire(const char *dir, fsu_dir_lock **out, long *holder_pid)
{
    *out = NULL;
    if (holder_pid)
        *holder_pid = 0;
    char path[PATH_MAX];
    int rc = fsu_path(path, sizeof path, dir, FSU_LOCK_NAME);
    if (rc != VX_OK)
        return rc;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return errno == ENOENT ? VX_ERR_NOT_FOUND : VX_ERR_IO;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return VX_ERR_IO;
    }
    pthread_mutex_lock(&fsu_locks_mu);
    for (fsu_dir_lock *l = fsu_locks; l; l = l->next) {
        if (l->dev == st.st_dev && l->ino == st.st_ino && l->pid == getpid()) {
            l->refs++;
            pthread_mutex_unlock(&fsu_locks_mu);
            close(fd);
            *out = l;
            return VX_OK;
        }
    }
    int r;
    while ((r = flock(fd, LOCK_EX | LOCK_NB)) != 0 && errno == EINTR)
        ;
    if (r != 0) {
        int e = errno;
        pthread_mutex_unlock(&fsu_locks_mu);
        if (holder_pid && e == EWOULDBLOCK)
            *holder_pid = fsu_lock_holder(fd);
        close(fd);
        errno = e;
        return e == EWOULDBLOCK ? VX_ERR_CONFLICT : VX_ERR_IO;
    }
    fsu_dir_lock *l = calloc(1, sizeof *l);
    if (!l) {
        pthread_mutex_unlock(&fsu_locks_mu);
        close(fd); /* releases the flock */
        return VX_ERR_NOMEM;
    }
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) == 0)
        (void)fsu_pwrite_all(fd, pid, (size_t)n, 0); /* informational only */
    l->dev = st.st_dev;
    l->ino = st.st_ino;
    l->pid = getpid();
    l->fd = fd;
    l->refs = 1;
    l->next = fsu_locks;
    fsu_locks = l;
    pthread_mutex_unlock(&fsu_locks_mu);
    *out = l;
    return VX_OK;
}

void fsu_dir_lock_release(fsu_dir_lock *l)
{
    if (!l)
        return;
    pthread_mutex_lock(&fsu_locks_mu);
    if (--l->refs > 0) {
        pthread_mutex_unlock(&fsu_locks_mu);
        return;
    }
    for (fsu_dir_lock **pp = &fsu_locks; *pp; pp = &(*pp)->next) {
        if (*pp == l) {
            *pp = l->next;
            break;
        }
    }
    pthread_mutex_unlock(&fsu_locks_mu);
    close(l->fd); /* drops the flock */
    free(l);
}
