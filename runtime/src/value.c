/* ls_value: the heap kinds, reference counting and JSON-like printing. */
#define _GNU_SOURCE
#include "loopscope/value.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "promise_internal.h"

typedef struct ls__string {
  ls__obj h;
  size_t len;
  char s[];
} ls__string;

typedef struct ls__pointer {
  ls__obj h;
  void *ptr;
  void (*dtor)(void *ptr);
} ls__pointer;

typedef struct ls__error {
  ls__obj h;
  int code;
  bool aggregate;
  ls_value cause;
  ls_value errors;
  char message[];
} ls__error;

typedef struct ls__thenable {
  ls__obj h;
  void *obj;
  ls_then_fn then;
  void (*dtor)(void *obj);
} ls__thenable;

typedef struct ls__settled {
  ls__obj h;
  bool fulfilled;
  ls_value v;
} ls__settled;

/* Promises start with their own ls__obj header (promise.c), so a promise
 * value points straight at the promise. */

static void *obj_alloc(size_t size) {
  ls__obj *o = malloc(size);
  if (!o) {
    fprintf(stderr, "loopscope: out of memory allocating a %zu-byte value\n", size);
    abort();
  }
  o->refs = 1;
  return o;
}

static ls_value heap(ls_value_type t, void *obj) {
  return (ls_value){.type = (uint8_t)t, .u.obj = obj};
}

ls_value ls_string_n(const char *s, size_t len) {
  ls__string *str = obj_alloc(sizeof *str + len + 1);
  str->len = len;
  memcpy(str->s, s, len);
  str->s[len] = 0;
  return heap(LS_VAL_STRING, str);
}

ls_value ls_string(const char *s) { return ls_string_n(s, strlen(s)); }

static char *vformat(const char *fmt, va_list ap) {
  char *s = NULL;
  if (vasprintf(&s, fmt, ap) < 0) {
    fprintf(stderr, "loopscope: out of memory formatting a value\n");
    abort();
  }
  return s;
}

ls_value ls_stringf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *s = vformat(fmt, ap);
  va_end(ap);
  ls_value v = ls_string(s);
  free(s);
  return v;
}

ls_value ls_pointer(void *ptr, void (*dtor)(void *ptr)) {
  ls__pointer *p = obj_alloc(sizeof *p);
  p->ptr = ptr;
  p->dtor = dtor;
  return heap(LS_VAL_POINTER, p);
}

static ls_value error_new(int code, const char *message, ls_value cause,
                          bool aggregate, ls_value errors) {
  size_t len = strlen(message);
  ls__error *e = obj_alloc(sizeof *e + len + 1);
  e->code = code;
  e->aggregate = aggregate;
  e->cause = ls_caught(cause);
  e->errors = ls_caught(errors);
  memcpy(e->message, message, len + 1);
  return heap(LS_VAL_ERROR, e);
}

ls_value ls_error(int code, const char *message) {
  return error_new(code, message, ls_undefined(), false, ls_undefined());
}

ls_value ls_errorf(int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *s = vformat(fmt, ap);
  va_end(ap);
  ls_value v = ls_error(code, s);
  free(s);
  return v;
}

ls_value ls_error_with_cause(int code, const char *message, ls_value cause) {
  return error_new(code, message, cause, false, ls_undefined());
}

ls_value ls_aggregate_error(const char *message, ls_value errors) {
  return error_new(0, message, ls_undefined(), true, errors);
}

ls_value ls_array_new(size_t n) {
  ls__array *a = obj_alloc(sizeof *a + n * sizeof(ls_value));
  a->len = n;
  for (size_t i = 0; i < n; i++)
    a->items[i] = ls_undefined();
  return heap(LS_VAL_ARRAY, a);
}

ls_value ls_array(ls_value *items, size_t n) {
  ls_value v = ls_array_new(n);
  ls__array *a = (ls__array *)v.u.obj;
  for (size_t i = 0; i < n; i++)
    a->items[i] = ls_caught(items[i]);
  return v;
}

ls_value ls_promise_value(ls_promise *p) { return heap(LS_VAL_PROMISE, p); }

ls_value ls_settled(bool fulfilled, ls_value v) {
  ls__settled *s = obj_alloc(sizeof *s);
  s->fulfilled = fulfilled;
  s->v = ls_caught(v);
  return heap(LS_VAL_SETTLED, s);
}

ls_value ls_thenable(void *obj, ls_then_fn then, void (*dtor)(void *obj)) {
  ls__thenable *t = obj_alloc(sizeof *t);
  t->obj = obj;
  t->then = then;
  t->dtor = dtor;
  return heap(LS_VAL_THENABLE, t);
}

int ls__thenable_call(ls_value v, ls_promise *p, ls_value *out) {
  if (v.type != LS_VAL_THENABLE)
    return -1;
  ls__thenable *t = (ls__thenable *)v.u.obj;
  *out = t->then(t->obj, p);
  return 0;
}

ls_value ls_value_ref(ls_value v) {
  if (v.type == LS_VAL_PROMISE)
    ls_promise_ref((ls_promise *)v.u.obj);
  else if (ls__value_is_heap(v))
    v.u.obj->refs++;
  return v;
}

extern inline void ls_value_drop(ls_value v);

void ls__value_release(ls_value v) {
  if (v.type == LS_VAL_PROMISE) {
    ls_promise_unref((ls_promise *)v.u.obj);
    return;
  }
  if (--v.u.obj->refs != 0)
    return;
  switch (v.type) {
  case LS_VAL_POINTER: {
    ls__pointer *p = (ls__pointer *)v.u.obj;
    if (p->dtor)
      p->dtor(p->ptr);
    break;
  }
  case LS_VAL_ERROR: {
    ls__error *e = (ls__error *)v.u.obj;
    ls_value_drop(e->cause);
    ls_value_drop(e->errors);
    break;
  }
  case LS_VAL_ARRAY: {
    ls__array *a = (ls__array *)v.u.obj;
    for (size_t i = 0; i < a->len; i++)
      ls_value_drop(a->items[i]);
    break;
  }
  case LS_VAL_SETTLED:
    ls_value_drop(((ls__settled *)v.u.obj)->v);
    break;
  case LS_VAL_THENABLE: {
    ls__thenable *t = (ls__thenable *)v.u.obj;
    if (t->dtor)
      t->dtor(t->obj);
    break;
  }
  default:
    break;
  }
  free(v.u.obj);
}

const char *ls_type_name(ls_value_type t) {
  static const char *const names[] = {"undefined", "null",    "boolean",
                                      "integer",   "double",  "string",
                                      "pointer",   "error",   "array",
                                      "promise",   "settled", "thenable"};
  return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "invalid";
}

double ls_as_number(ls_value v) {
  if (v.type == LS_VAL_INT)
    return (double)v.u.i;
  if (v.type == LS_VAL_DOUBLE)
    return v.u.d;
  return 0;
}

int64_t ls_as_int(ls_value v) {
  if (v.type == LS_VAL_INT)
    return v.u.i;
  if (v.type == LS_VAL_DOUBLE && isfinite(v.u.d))
    return (int64_t)v.u.d;
  return 0;
}

const char *ls_str(ls_value v) {
  return v.type == LS_VAL_STRING ? ((ls__string *)v.u.obj)->s : NULL;
}

void *ls_ptr(ls_value v) {
  return v.type == LS_VAL_POINTER ? ((ls__pointer *)v.u.obj)->ptr : NULL;
}

int ls_error_code(ls_value v) {
  return v.type == LS_VAL_ERROR ? ((ls__error *)v.u.obj)->code : 0;
}

const char *ls_error_message(ls_value v) {
  return v.type == LS_VAL_ERROR ? ((ls__error *)v.u.obj)->message : "";
}

ls_value ls_error_cause(ls_value v) {
  return v.type == LS_VAL_ERROR ? ((ls__error *)v.u.obj)->cause : ls_undefined();
}

ls_value ls_error_errors(ls_value v) {
  return v.type == LS_VAL_ERROR ? ((ls__error *)v.u.obj)->errors : ls_undefined();
}

size_t ls_array_len(ls_value v) {
  return v.type == LS_VAL_ARRAY ? ((ls__array *)v.u.obj)->len : 0;
}

ls_value ls_array_at(ls_value v, size_t i) {
  if (v.type != LS_VAL_ARRAY || i >= ((ls__array *)v.u.obj)->len)
    return ls_undefined();
  return ((ls__array *)v.u.obj)->items[i];
}

void ls_array_set(ls_value arr, size_t i, ls_value item) {
  if (arr.type != LS_VAL_ARRAY || i >= ((ls__array *)arr.u.obj)->len) {
    ls_value_drop(item);
    return;
  }
  ls__array_set(arr, i, item);
}

ls_promise *ls_as_promise(ls_value v) { return ls__as_promise(v); }

bool ls_settled_fulfilled(ls_value v) {
  return v.type == LS_VAL_SETTLED && ((ls__settled *)v.u.obj)->fulfilled;
}

ls_value ls_settled_value(ls_value v) {
  return v.type == LS_VAL_SETTLED ? ((ls__settled *)v.u.obj)->v : ls_undefined();
}

/* ---- JSON ---- */

typedef struct {
  char *buf;
  size_t n, len;
} out;

static void put(out *o, const char *s, size_t len) {
  if (o->len < o->n) {
    size_t room = o->n - o->len - 1;
    memcpy(o->buf + o->len, s, len < room ? len : room);
  }
  o->len += len;
}

static void puts_(out *o, const char *s) { put(o, s, strlen(s)); }

static void putf(out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(out *o, const char *fmt, ...) {
  char tmp[64];
  va_list ap;
  va_start(ap, fmt);
  int k = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  put(o, tmp, (size_t)k < sizeof tmp ? (size_t)k : sizeof tmp - 1);
}

static void put_jstr(out *o, const char *s) {
  puts_(o, "\"");
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') {
      char e[2] = {'\\', (char)c};
      put(o, e, 2);
    } else if (c == '\n') {
      puts_(o, "\\n");
    } else if (c < 0x20) {
      putf(o, "\\u%04x", c);
    } else {
      put(o, (const char *)&c, 1);
    }
  }
  puts_(o, "\"");
}

static void put_value(out *o, ls_value v) {
  switch (v.type) {
  case LS_VAL_UNDEFINED:
  case LS_VAL_NULL:
    puts_(o, "null");
    break;
  case LS_VAL_BOOL:
    puts_(o, v.u.b ? "true" : "false");
    break;
  case LS_VAL_INT:
    putf(o, "%lld", (long long)v.u.i);
    break;
  case LS_VAL_DOUBLE:
    if (isfinite(v.u.d))
      putf(o, "%.17g", v.u.d);
    else
      puts_(o, "null"); /* as JSON.stringify does for NaN and Infinity */
    break;
  case LS_VAL_STRING:
    put_jstr(o, ls_str(v));
    break;
  case LS_VAL_POINTER:
    puts_(o, "\"[pointer]\"");
    break;
  case LS_VAL_PROMISE:
    puts_(o, "\"[promise]\"");
    break;
  case LS_VAL_THENABLE:
    puts_(o, "\"[thenable]\"");
    break;
  case LS_VAL_ERROR: {
    ls__error *e = (ls__error *)v.u.obj;
    puts_(o, e->aggregate ? "{\"name\":\"AggregateError\"" : "{\"name\":\"Error\"");
    if (e->code)
      putf(o, ",\"code\":%d", e->code);
    puts_(o, ",\"message\":");
    put_jstr(o, e->message);
    if (e->cause.type != LS_VAL_UNDEFINED) {
      puts_(o, ",\"cause\":");
      put_value(o, e->cause);
    }
    if (e->aggregate) {
      puts_(o, ",\"errors\":");
      put_value(o, e->errors);
    }
    puts_(o, "}");
    break;
  }
  case LS_VAL_ARRAY: {
    ls__array *a = (ls__array *)v.u.obj;
    puts_(o, "[");
    for (size_t i = 0; i < a->len; i++) {
      if (i)
        puts_(o, ",");
      put_value(o, a->items[i]);
    }
    puts_(o, "]");
    break;
  }
  case LS_VAL_SETTLED: {
    ls__settled *s = (ls__settled *)v.u.obj;
    puts_(o, s->fulfilled ? "{\"status\":\"fulfilled\",\"value\":"
                          : "{\"status\":\"rejected\",\"reason\":");
    put_value(o, s->v);
    puts_(o, "}");
    break;
  }
  default:
    puts_(o, "null");
  }
}

size_t ls_value_json(ls_value v, char *buf, size_t n) {
  out o = {buf, n, 0};
  put_value(&o, v);
  if (n > 0)
    buf[o.len < n ? o.len : n - 1] = 0;
  return o.len;
}

size_t ls_str_len(ls_value v) {
  return v.type == LS_VAL_STRING ? ((ls__string *)v.u.obj)->len : 0;
}
