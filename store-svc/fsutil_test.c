/*
 * fsutil_test.c — the file primitives the persistence layer builds on:
 * atomic replace, whole-file reads, durable truncate/rename, sorted
 * listings, the LSN file-name parser, and the data-directory lock (held
 * per process, counted within it, refused to a second process).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fsutil.h"
#include "vx_buf.h"
#include "vx_err.h"
#include "vx_test.h"
#include "wal.h"

TEST(fsutil_atomic_write_replaces_and_leaves_no_tmp)
{
    const char *dir = vx_test_tmpdir();
    ASSERT_EQ_INT(fsu_write_file_atomic(dir, "a.bin", "first", 5), VX_OK);
    ASSERT_EQ_INT(fsu_write_file_atomic(dir, "a.bin", "second!", 7), VX_OK);
    char path[512];
    ASSERT_EQ_INT(fsu_path(path, sizeof path, dir, "a.bin"), VX_OK);
    vx_buf b = VX_BUF_INIT;
    ASSERT_EQ_INT(fsu_read_file(path, &b), VX_OK);
    ASSERT_EQ_INT(b.len, 7);
    ASSERT(memcmp(b.data, "second!", 7) == 0);
    vx_buf_free(&b);
    char **names;
    size_t n;
    ASSERT_EQ_INT(fsu_list_dir(dir, "", "", &names, &n), VX_OK);
    ASSERT_EQ_INT(n, 1);
    ASSERT_STR_EQ(names[0], "a.bin");
    fsu_list_free(names, n);
}

TEST(fsutil_read_file_large_and_missing)
{
    const char *dir = vx_test_tmpdir();
    size_t len = 3 * 1024 * 1024 + 5;
    unsigned char *data = malloc(len);
    ASSERT(data);
    for (size_t i = 0; i < len; i++)
        data[i] = (unsigned char)(i * 7 + (i >> 11));
    ASSERT_EQ_INT(fsu_write_file_atomic(dir, "big", data, len), VX_OK);
    char path[512];
    fsu_path(path, sizeof path, dir, "big");
    vx_buf b = VX_BUF_INIT;
    ASSERT_EQ_INT(fsu_read_file(path, &b), VX_OK);
    ASSERT_EQ_INT(b.len, len);
    ASSERT(memcmp(b.data, data, len) == 0);
    uint64_t size = 0;
    ASSERT_EQ_INT(fsu_file_size(path, &size), VX_OK);
    ASSERT_EQ_INT(size, len);
    ASSERT_EQ_INT(fsu_truncate_durable(path, 100), VX_OK);
    ASSERT_EQ_INT(fsu_file_size(path, &size), VX_OK);
    ASSERT_EQ_INT(size, 100);
    vx_buf_free(&b);
    free(data);
    fsu_path(path, sizeof path, dir, "nope");
    ASSERT_EQ_INT(fsu_read_file(path, &b), VX_ERR_NOT_FOUND);
    ASSERT_EQ_INT(fsu_file_size(path, &size), VX_ERR_NOT_FOUND);
    ASSERT_EQ_INT(fsu_truncate_durable(path, 0), VX_ERR_NOT_FOUND);
}

TEST(fsutil_list_dir_filters_and_sorts)
{
    const char *dir = vx_test_tmpdir();
    const char *files[] = {"wal-0000000000000010.log", "wal-0000000000000002.log", "wal-x.log.tmp",
                           "snapshot-0000000000000001.vxs", "wal-0000000000000001.log"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        ASSERT_EQ_INT(fsu_write_file_atomic(dir, files[i], "", 0), VX_OK);
    char **names;
    size_t n;
    ASSERT_EQ_INT(fsu_list_dir(dir, "wal-", ".log", &names, &n), VX_OK);
    ASSERT_EQ_INT(n, 3);
    ASSERT_STR_EQ(names[0], "wal-0000000000000001.log");
    ASSERT_STR_EQ(names[1], "wal-0000000000000002.log");
    ASSERT_STR_EQ(names[2], "wal-0000000000000010.log");
    fsu_list_free(names, n);
    char missing[512];
    fsu_path(missing, sizeof missing, dir, "sub/none");
    ASSERT_EQ_INT(fsu_list_dir(missing, "", "", &names, &n), VX_ERR_NOT_FOUND);
    ASSERT(names == NULL && n == 0);
}

TEST(fsutil_parse_lsn_name_is_strict)
{
    uint64_t lsn = 0;
    ASSERT_EQ_INT(fsu_parse_lsn_name("wal-00000000000000ff.log", "wal-", ".log", &lsn), 0);
    ASSERT_EQ_INT(lsn, 255);
    ASSERT_EQ_INT(fsu_parse_lsn_name("wal-ffffffffffffffff.log", "wal-", ".log", &lsn), 0);
    ASSERT(lsn == UINT64_MAX);
    ASSERT_EQ_INT(fsu_parse_lsn_name("wal-00000000000000FF.log", "wal-", ".log", &lsn), -1);
    ASSERT_EQ_INT(fsu_parse_lsn_name("wal-0ff.log", "wal-", ".log", &lsn), -1);
    ASSERT_EQ_INT(fsu_parse_lsn_name("wal-00000000000000ff.log.tmp", "wal-", ".log", &lsn), -1);
    ASSERT_EQ_INT(fsu_parse_lsn_name("snapshot-00000000000000ff.vxs", "wal-", ".log", &lsn), -1);
}

TEST(fsutil_mkdir_p_rename_unlink)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/a/b/c", vx_test_tmpdir());
    ASSERT_EQ_INT(fsu_mkdir_p(dir), VX_OK);
    ASSERT_EQ_INT(fsu_mkdir_p(dir), VX_OK);
    struct stat st;
    ASSERT(stat(dir, &st) == 0 && S_ISDIR(st.st_mode));
    ASSERT_EQ_INT(fsu_write_file_atomic(dir, "x", "1", 1), VX_OK);
    ASSERT_EQ_INT(fsu_rename_durable(dir, "x", "y"), VX_OK);
    ASSERT_EQ_INT(fsu_rename_durable(dir, "x", "z"), VX_ERR_NOT_FOUND);
    ASSERT_EQ_INT(fsu_unlink_in(dir, "y"), VX_OK);
    ASSERT_EQ_INT(fsu_unlink_in(dir, "y"), VX_OK);
    ASSERT_EQ_INT(fsu_fsync_dir(dir), VX_OK);
    char file[600];
    snprintf(file, sizeof file, "%s/f", dir);
    ASSERT_EQ_INT(fsu_write_file_atomic(dir, "f", "1", 1), VX_OK);
    char under_file[700];
    snprintf(under_file, sizeof under_file, "%s/sub", file);
    ASSERT(fsu_mkdir_p(under_file) != VX_OK);
}

/* Runs fsu_dir_lock_acquire on dir in a child process; returns its result
 * code (VX_OK, VX_ERR_CONFLICT, ...) and the holder pid it saw. */
static int lock_in_child(const char *dir, long *holder)
{
    int fds[2];
    if (pipe(fds) != 0)
        return -100;
    pid_t pid = fork();
    if (pid == 0) {
        fsu_dir_lock *l;
        long h = 0;
        int rc = fsu_dir_lock_acquire(dir, &l, &h);
        long msg[2] = {rc, h};
        if (write(fds[1], msg, sizeof msg) != (ssize_t)sizeof msg)
            _exit(3);
        _exit(0);
    }
    close(fds[1]);
    long msg[2] = {-101, 0};
    if (read(fds[0], msg, sizeof msg) != (ssize_t)sizeof msg)
        msg[0] = -102;
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    *holder = msg[1];
    return (int)msg[0];
}

TEST(fsutil_dir_lock_is_exclusive_between_processes_and_counted_within)
{
    const char *dir = vx_test_tmpdir();
    long holder = -1;
    ASSERT_EQ_INT(lock_in_child(dir, &holder), VX_OK); /* free: the child gets it (and dies) */
    fsu_dir_lock *a, *b;
    ASSERT_EQ_INT(fsu_dir_lock_acquire(dir, &a, NULL), VX_OK);
    ASSERT_EQ_INT(fsu_dir_lock_acquire(dir, &b, NULL), VX_OK); /* same process: counted */
    ASSERT_EQ_INT(lock_in_child(dir, &holder), VX_ERR_CONFLICT);
    ASSERT_EQ_INT(holder, (long)getpid());
    fsu_dir_lock_release(b);
    ASSERT_EQ_INT(lock_in_child(dir, &holder), VX_ERR_CONFLICT); /* still one reference */
    fsu_dir_lock_release(a);
    ASSERT_EQ_INT(lock_in_child(dir, &holder), VX_OK);
    fsu_dir_lock_release(NULL);
    char missing[600];
    snprintf(missing, sizeof missing, "%s/no/such/dir", dir);
    ASSERT_EQ_INT(fsu_dir_lock_acquire(missing, &a, NULL), VX_ERR_NOT_FOUND);
}

TEST(fsutil_dir_lock_guards_wal_open_and_repair)
{
    const char *dir = vx_test_tmpdir();
    wal *w;
    ASSERT_EQ_INT(wal_open(&w, dir, NULL, 1), VX_OK);
    uint64_t lsn;
    ASSERT_EQ_INT(wal_append(w, 20, "x", 1, &lsn), VX_OK);
    long holder = 0;
    ASSERT_EQ_INT(lock_in_child(dir, &holder), VX_ERR_CONFLICT); /* an open WAL holds it */
    ASSERT_EQ_INT(holder, (long)getpid());
    ASSERT_EQ_INT(wal_close(w), VX_OK);
    ASSERT_EQ_INT(lock_in_child(dir, &holder), VX_OK);

    /* another process holds the directory: wal_open and a repairing replay refuse */
    int fds[2];
    ASSERT(pipe(fds) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        fsu_dir_lock *l;
        char c = fsu_dir_lock_acquire(dir, &l, NULL) == VX_OK ? 'y' : 'n';
        if (write(fds[1], &c, 1) != 1)
            _exit(3);
        pause(); /* killed by the parent */
        _exit(0);
    }
    char c = 0;
    ASSERT(read(fds[0], &c, 1) == 1 && c == 'y');
    ASSERT_EQ_INT(wal_open(&w, dir, NULL, 2), VX_ERR_CONFLICT);
    wal_replay_opts ro = {.repair = true};
    wal_replay_result rr;
    ASSERT_EQ_INT(wal_replay(dir, 0, NULL, NULL, &ro, &rr), VX_ERR_CONFLICT);
    ASSERT(strstr(rr.error, "in use") != NULL);
    wal_replay_opts ro_read = {0};
    ASSERT_EQ_INT(wal_replay(dir, 0, NULL, NULL, &ro_read, &rr), VX_OK); /* reading needs no lock */
    ASSERT_EQ_INT(rr.records, 1);
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    close(fds[0]);
    close(fds[1]);
    ASSERT_EQ_INT(wal_open(&w, dir, NULL, 2), VX_OK); /* the kernel dropped the dead holder's lock */
    ASSERT_EQ_INT(wal_close(w), VX_OK);
}
