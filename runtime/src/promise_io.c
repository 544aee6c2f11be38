/* Promisified runtime calls: the util.promisify shape, and sleep / readFile
 * built on it. */
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

/* ---- sleep ---- */

typedef struct sleep_rec {
  ls_timer timer;
  ls_promise *p;
  struct sleep_rec *next_free;
} sleep_rec;

/* The loop still reads a timer after its callback returns, so a fired
 * record cannot be freed there; it waits here for the next sleep. */
static LS__TLS sleep_rec *sleep_free;

static void sleep_done(ls_timer *t) {
  sleep_rec *s = t->data;
  ls_promisify_done(s->p, 0, NULL, ls_undefined());
  s->next_free = sleep_free;
  sleep_free = s;
}

static int sleep_start(ls_loop *loop, ls_promise *p, void *arg) {
  sleep_rec *s = sleep_free;
  if (s)
    sleep_free = s->next_free;
  else if (!(s = malloc(sizeof *s)))
    return LS_ENOMEM;
  int err = ls_timer_init(loop, &s->timer);
  if (err == 0) {
    s->timer.data = s;
    s->timer.label = "sleep";
    s->p = p;
    err = ls_set_timeout(&s->timer, sleep_done, *(double *)arg);
  }
  if (err < 0) {
    s->next_free = sleep_free;
    sleep_free = s;
  }
  return err;
}

ls_promise *ls_sleep(ls_loop *loop, double ms) {
  return ls_promisify(loop, sleep_start, &ms);
}

/* ---- readFile ---- */

typedef struct read_rec {
  ls_fs req;
  ls_promise *p;
  struct read_rec *next_free;
} read_rec;

/* Like timers, the loop reads a request after its callback returns. */
static LS__TLS read_rec *read_free;

static void read_release(read_rec *r) {
  ls_fs_cleanup(&r->req);
  r->next_free = read_free;
  read_free = r;
}

static void read_done(ls_fs *req) {
  read_rec *r = req->data;
  if (req->result < 0) {
    size_t n = strlen(req->path) + 8;
    char *what = malloc(n);
    if (what)
      snprintf(what, n, "open '%s'", req->path);
    ls_promisify_done(r->p, req->result, what, ls_undefined());
    free(what);
  } else {
    ls_promisify_done(r->p, 0, NULL, ls_string_n(req->contents, (size_t)req->result));
  }
  read_release(r);
}

static int read_start(ls_loop *loop, ls_promise *p, void *arg) {
  read_rec *r = read_free;
  if (r)
    read_free = r->next_free;
  else if (!(r = malloc(sizeof *r)))
    return LS_ENOMEM;
  memset(r, 0, sizeof *r);
  r->req.data = r;
  r->p = p;
  int err = ls_fs_read_file(loop, &r->req, arg, read_done);
  if (err < 0)
    read_release(r);
  return err;
}

ls_promise *ls_read_file(ls_loop *loop, const char *path) {
  return ls_promisify(loop, read_start, (void *)path);
}
