/* Promisified runtime calls: the util.promisify shape, and sleep,
 * setImmediate, readFile and stat built on it. */
#include "promise_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

ls_promise *ls_promisify(ls_loop *loop, ls_promisify_start start, void *arg) {
  ls_promise *p = ls__promise_alloc(loop, 0);
  ls_promise_ref(p); /* the operation's, released by ls_promisify_done */
  int err = start(loop, p, arg);
  if (err < 0)
    ls_promisify_done(p, err, NULL, ls_undefined());
  return p;
}

void ls_promisify_done(ls_promise *p, ssize_t result, const char *what, ls_value value) {
  if (result < 0) {
    ls_value_drop(value);
    /* Node's form: "ENOENT: no such file or directory, open 'x'". */
    char desc[128];
    snprintf(desc, sizeof desc, "%s", ls_strerror((int)result));
    desc[0] = (char)tolower((unsigned char)desc[0]);
    ls_value e = what ? ls_errorf((int)result, "%s: %s, %s", ls_err_name((int)result), desc, what)
                      : ls_errorf((int)result, "%s: %s", ls_err_name((int)result), desc);
    ls_reject(p, e);
  } else {
    ls_resolve(p, value);
  }
  ls_promise_unref(p);
}

/* One record per operation in flight. The loop still reads a timer, an
 * immediate or a request after its callback returns, so a finished record
 * cannot be freed from the callback: it waits on this list for the next
 * operation instead. */
typedef struct op_rec {
  union {
    ls_timer timer;
    ls_immediate immediate;
    ls_fs fs;
  } u;
  ls_promise *p;
  struct op_rec *next_free;
} op_rec;

static LS__TLS op_rec *op_free;

static op_rec *op_get(ls_promise *p) {
  op_rec *op = op_free;
  if (op)
    op_free = op->next_free;
  else if (!(op = malloc(sizeof *op)))
    return NULL;
  memset(op, 0, sizeof *op);
  op->p = p;
  return op;
}

static void op_put(op_rec *op) {
  op->next_free = op_free;
  op_free = op;
}

/* ---- sleep ---- */

static void sleep_done(ls_timer *t) {
  op_rec *op = t->data;
  ls_promisify_done(op->p, 0, NULL, ls_undefined());
  op_put(op);
}

static int sleep_start(ls_loop *loop, ls_promise *p, void *arg) {
  op_rec *op = op_get(p);
  if (!op)
    return LS_ENOMEM;
  int err = ls_timer_init(loop, &op->u.timer);
  if (err == 0) {
    op->u.timer.data = op;
    op->u.timer.label = "sleep";
    err = ls_set_timeout(&op->u.timer, sleep_done, *(double *)arg);
  }
  if (err < 0)
    op_put(op);
  return err;
}

ls_promise *ls_sleep(ls_loop *loop, double ms) {
  return ls_promisify(loop, sleep_start, &ms);
}

/* ---- setImmediate ---- */

static void immediate_done(ls_immediate *imm) {
  op_rec *op = imm->data;
  ls_promisify_done(op->p, 0, NULL, ls_undefined());
  op_put(op);
}

static int immediate_start(ls_loop *loop, ls_promise *p, void *arg) {
  (void)arg;
  op_rec *op = op_get(p);
  if (!op)
    return LS_ENOMEM;
  ls_immediate_init(&op->u.immediate);
  op->u.immediate.data = op;
  int err = ls_set_immediate(loop, &op->u.immediate, immediate_done);
  if (err < 0)
    op_put(op);
  return err;
}

ls_promise *ls_immediate_promise(ls_loop *loop) {
  return ls_promisify(loop, immediate_start, NULL);
}

/* ---- fs ---- */

/* Settles an fs operation: rejects like Node ("<CODE>: <message>, <syscall>
 * '<path>'") or fulfils with what `ok` makes of the finished request. */
static void fs_done(ls_fs *req, const char *syscall, ls_value (*ok)(ls_fs *req)) {
  op_rec *op = req->data;
  if (req->result < 0) {
    char what[4096];
    snprintf(what, sizeof what, "%s '%s'", syscall, req->path);
    ls_promisify_done(op->p, req->result, what, ls_undefined());
  } else {
    ls_promisify_done(op->p, 0, NULL, ok(req));
  }
  ls_fs_cleanup(req);
  op_put(op);
}

static int fs_start(ls_loop *loop, ls_promise *p, const char *path,
                    int (*call)(ls_loop *, ls_fs *, const char *, ls_fs_cb), ls_fs_cb cb) {
  op_rec *op = op_get(p);
  if (!op)
    return LS_ENOMEM;
  op->u.fs.data = op;
  int err = call(loop, &op->u.fs, path, cb);
  if (err < 0) {
    ls_fs_cleanup(&op->u.fs);
    op_put(op);
  }
  return err;
}

static ls_value file_contents(ls_fs *req) {
  return ls_string_n(req->contents, (size_t)req->result);
}

static void read_done(ls_fs *req) { fs_done(req, "open", file_contents); }

static int read_start(ls_loop *loop, ls_promise *p, void *path) {
  return fs_start(loop, p, path, ls_fs_read_file, read_done);
}

ls_promise *ls_read_file(ls_loop *loop, const char *path) {
  return ls_promisify(loop, read_start, (void *)path);
}

static ls_value stat_copy(ls_fs *req) {
  struct stat *st = malloc(sizeof *st);
  if (!st) {
    fprintf(stderr, "loopscope: out of memory in the promise layer\n");
    abort();
  }
  *st = req->statbuf;
  return ls_pointer(st, free);
}

static void stat_done(ls_fs *req) { fs_done(req, "stat", stat_copy); }

static int stat_start(ls_loop *loop, ls_promise *p, void *path) {
  return fs_start(loop, p, path, ls_fs_stat, stat_done);
}

ls_promise *ls_stat(ls_loop *loop, const char *path) {
  return ls_promisify(loop, stat_start, (void *)path);
}
