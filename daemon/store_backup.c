/* SPDX-License-Identifier: MIT */
/*
 * store_backup.c: the online backup, by SQLite's backup API, a few pages at
 * a time between batches into a new file of its own.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store.h"
#include "store_impl.h"

struct store_backup {
	struct store *st;
	sqlite3 *db; /* the new file */
	sqlite3_backup *bk;
	char *path;
};

/* records SQLite's word on rc for a backup failure */
static int
backup_fail(struct store *st, int rc)
{
	store_set_errmsg(st, sqlite3_errstr(rc));
	return store_map_rc(rc);
}

/* fsyncs the directory holding path, so the new name survives a crash;
 * best effort: some file systems refuse fsync on a directory */
static void
sync_parent(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t n;
	int fd;

	if (slash == NULL)
		return;
	n = slash == path ? 1 : (size_t)(slash - path);
	if (n >= sizeof(dir))
		return;
	memcpy(dir, path, n);
	dir[n] = '\0';
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1)
		return;
	(void)fsync(fd);
	close(fd);
}

/* frees b, and removes its file if drop */
static void
backup_free(struct store_backup *b, bool drop)
{
	char journal[PATH_MAX];

	if (b->bk != NULL)
		sqlite3_backup_finish(b->bk);
	/* _v2: nothing is prepared on this handle, so it cannot linger */
	sqlite3_close_v2(b->db);
	if (drop) {
		(void)unlink(b->path);
		/* a failed write (a full disk) can leave SQLite's rollback
		 * journal of the copy behind; it is ours, SQLite having
		 * claimed the name when it opened the new, empty file */
		if ((size_t)snprintf(journal, sizeof(journal), "%s-journal",
		        b->path) < sizeof(journal))
			(void)unlink(journal);
	}
	if (store_backup_slot(b->st)->b == b)
		store_backup_slot(b->st)->b = NULL;
	free(b->path);
	free(b);
}

int
store_backup_open(struct store *st, const char *path, struct store_backup **ret)
{
	struct store_backup *b;
	struct stat made, now;
	bool ours = false; /* path names the file created here */
	int fd, rc, r;

	*ret = NULL;
	/* another backend keeps its own backups (pg_dump for PostgreSQL) */
	if (store_db(st) == NULL)
		return -EOPNOTSUPP;
	if (store_backup_slot(st)->b != NULL)
		return -EALREADY;
	if (path[0] != '/')
		return -EINVAL;
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return -ENOMEM;
	b->st = st;
	if ((b->path = strdup(path)) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	/* O_EXCL: never over an existing file, nor through a planted link */
	fd = open(
	    path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1) {
		r = -errno;
		store_set_errmsg(st, strerror(-r));
		goto out;
	}
	ours = true;
	r = fstat(fd, &made) == -1 ? -errno : 0;
	/* closed before SQLite opens the file: closing any descriptor of a
	 * file drops every POSIX lock this process holds on it */
	close(fd);
	if (r < 0) {
		store_set_errmsg(st, strerror(-r));
		goto out;
	}
	rc = sqlite3_open_v2(path, &b->db,
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_NOMUTEX,
	    NULL);
	if (rc != SQLITE_OK) {
		r = b->db != NULL ? backup_fail(st, rc) : -ENOMEM;
		goto out;
	}
	/* the name may have been swapped between the two opens: write only
	 * into the file made above, and leave another in place */
	if (stat(path, &now) == -1 || now.st_dev != made.st_dev ||
	    now.st_ino != made.st_ino) {
		store_set_errmsg(
		    st, "the file was replaced while being opened");
		ours = false;
		r = -EEXIST;
		goto out;
	}
	b->bk = sqlite3_backup_init(b->db, "main", store_db(st), "main");
	if (b->bk == NULL) {
		store_set_errmsg(st, sqlite3_errmsg(b->db));
		r = store_map_rc(sqlite3_errcode(b->db));
		goto out;
	}
	*store_backup_slot(st) =
	    (struct store_backup_slot){.b = b, .abort = store_backup_abort};
	*ret = b;
	b = NULL;
	r = 0;
out:
	if (b != NULL)
		backup_free(b, ours);
	return r;
}

int
store_backup_step(struct store_backup *b, int pages)
{
	int rc;

	/* within the batch this connection would read its own uncommitted
	 * pages; between batches it reads what is committed */
	if (store_in_batch(b->st))
		return -EBUSY;
	rc = sqlite3_backup_step(b->bk, pages);
	if (rc == SQLITE_DONE)
		return 1;
	if (rc == SQLITE_OK)
		return 0;
	if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
		return -EBUSY;
	return backup_fail(b->st, rc);
}

void
store_backup_progress(
    const struct store_backup *b, int64_t *ret_remaining, int64_t *ret_total)
{
	*ret_remaining = sqlite3_backup_remaining(b->bk);
	*ret_total = sqlite3_backup_pagecount(b->bk);
}

int
store_backup_finish(
    struct store_backup *b, int64_t *ret_pages, int64_t *ret_bytes)
{
	struct store *st = b->st;
	struct stat sb;
	int64_t pages = sqlite3_backup_pagecount(b->bk);
	int rc, r;

	rc = sqlite3_backup_finish(b->bk);
	b->bk = NULL;
	if (rc != SQLITE_OK) {
		r = backup_fail(st, rc);
		goto out;
	}
	rc = sqlite3_close(b->db);
	if (rc != SQLITE_OK) {
		r = backup_fail(st, rc);
		goto out;
	}
	b->db = NULL;
	if (stat(b->path, &sb) == -1) {
		r = -errno;
		store_set_errmsg(st, strerror(errno));
		goto out;
	}
	sync_parent(b->path);
	*ret_pages = pages;
	*ret_bytes = (int64_t)sb.st_size;
	r = 0;
out:
	backup_free(b, r < 0);
	return r;
}

struct store_backup *
store_backup_abort(struct store_backup *b)
{
	if (b != NULL)
		backup_free(b, true);
	return NULL;
}
