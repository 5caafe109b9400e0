/*
 * fsutil.h — small, crash-safe file-system primitives for the persistence
 * layer (WAL, snapshots, checker).
 *
 * Invariants:
 *  - fsu_write_file_atomic never leaves a half-written file under the final
 *    name: it writes "<name>.tmp", fsyncs it, renames it over the final name
 *    and fsyncs the directory, so after a crash the final name holds either
 *    the old content or the complete new one.
 *  - Every write loop handles short writes and EINTR; every function returns
 *    VX_OK or a negative vx_err code (VX_ERR_IO for system-call failures,
 *    VX_ERR_NOT_FOUND for a missing file) and logs nothing: callers name the
 *    file in their own message. errno is left as the failing call set it.
 *
 * Ownership: fsu_read_file fills a caller-owned vx_buf; fsu_list_dir returns
 * a malloc'd array of malloc'd names released with fsu_list_free; a
 * fsu_dir_lock is released with fsu_dir_unlock.
 */
#ifndef VX_FSUTIL_H
#define VX_FSUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "vx_buf.h"

/* Writes all n bytes (loops on short writes / EINTR). */
int fsu_write_all(int fd, const void *p, size_t n);
/* Writes all n bytes at offset off. */
int fsu_pwrite_all(int fd, const void *p, size_t n, uint64_t off);
/* Reads exactly n bytes at offset off; VX_ERR_CORRUPT when the file is shorter. */
int fsu_pread_all(int fd, void *p, size_t n, uint64_t off);
/* fsync(2) of a directory, so that created / renamed / unlinked entries persist. */
int fsu_fsync_dir(const char *dir);
/* mkdir -p with mode 0755; VX_OK when it already exists as a directory. */
int fsu_mkdir_p(const char *dir);
/* Replaces dir/name with data atomically and durably (see above). */
int fsu_write_file_atomic(const char *dir, const char *name, const void *data, size_t len);
/* Appends the whole content of path to out. */
int fsu_read_file(const char *path, vx_buf *out);
/* Size of the file at path. */
int fsu_file_size(const char *path, uint64_t *size);
/* Truncates path to size and fsyncs it (and nothing else). */
int fsu_truncate_durable(const char *path, uint64_t size);
/* Renames from -> to (both inside dir) and fsyncs dir. */
int fsu_rename_durable(const char *dir, const char *from, const char *to);
/* Unlinks dir/name; VX_OK if it did not exist. The caller fsyncs dir. */
int fsu_unlink_in(const char *dir, const char *name);

/* Lists the entries of dir whose names start with prefix and end with suffix,
 * sorted by strcmp ("." and ".." never listed) (for the fixed-width hex names of WAL segments and
 * snapshots this is LSN order). *names is NULL when none match. */
int fsu_list_dir(const char *dir, const char *prefix, const char *suffix, char ***names,
                 size_t *n);
void fsu_list_free(char **names, size_t n);

/* Joins dir and name into out ("dir/name"); VX_ERR_LIMIT when it does not fit. */
int fsu_path(char *out, size_t out_len, const char *dir, const char *name);

/* Parses "<prefix><16 lowercase hex><suffix>" into *lsn; 0 when the name has
 * exactly that shape, -1 otherwise. */
int fsu_parse_lsn_name(const char *name, const char *prefix, const char *suffix, uint64_t *lsn);

/* ---- the data-directory lock --------------------------------------------
 * One process at a time may write a data directory: an exclusive flock(2)
 * on DIR/LOCK (created if missing, never removed; holds the holder's pid as
 * text for messages). The kernel drops it when the process dies, kill -9
 * included. Within one process the lock is counted: locking a directory the
 * process already holds succeeds and needs its own unlock (so the WAL, the
 * replay repair and the store can each take it). Thread-safe. */
#define FSU_LOCK_NAME "LOCK"
typedef struct fsu_dir_lock fsu_dir_lock;
/* VX_ERR_CONFLICT when another process holds it (*holder_pid = its pid, or 0
 * when unknown; holder_pid may be NULL); VX_ERR_IO / VX_ERR_NOT_FOUND when the
 * lock file cannot be opened. */
int fsu_dir_lock_acquire(const char *dir, fsu_dir_lock **out, long *holder_pid);
/* NULL ok. */
void fsu_dir_lock_release(fsu_dir_lock *l);

#endif
