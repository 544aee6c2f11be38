/* ls_value: what promises carry (JS values, reduced to what C programs need).
 *
 * An ls_value is a small struct passed by value: a type tag, a "thrown" flag
 * and a payload. Scalars (undefined, null, bool, int, double) own nothing.
 * Heap kinds (string, pointer, error, array, promise, settled outcome) point
 * to a reference-counted object.
 *
 * Ownership rules (the whole API follows them):
 *   1. A function that RETURNS an ls_value gives the caller one reference;
 *      the caller must pass it on or release it with ls_value_drop().
 *   2. A function that TAKES an ls_value argument consumes that reference
 *      (ls_array(), ls_error_with_cause(), ls_resolve(), ls_throw() ...),
 *      unless its documentation says "borrowed".
 *   3. Callbacks RECEIVE borrowed values: valid during the call only. Keep
 *      one with ls_value_ref(), which returns a new reference.
 *   4. Accessors (ls_str, ls_error_message, ls_array_at, ...) return
 *      borrowed data that lives as long as the value it came from.
 *   5. ls_value_drop() of a scalar is a no-op, so code may drop every value
 *      it owns without looking at its type.
 * Reference counts are not atomic: a value belongs to one loop thread.
 *
 * "Thrown" is how C code says `throw`: a promise callback or an async
 * function that returns ls_throw(v) rejects its promise with v. ls_await()
 * returns a rejection's reason with the flag set, so `if (ls_thrown(v))
 * return v;` propagates it like an exception. The flag belongs to the
 * ls_value struct, not to the object it points to.
 */
#ifndef LOOPSCOPE_VALUE_H
#define LOOPSCOPE_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ls_promise ls_promise;
/* private: the header of every heap kind (promises included) */
typedef struct ls__obj {
  uint32_t refs;
} ls__obj;

typedef enum ls_value_type {
  LS_VAL_UNDEFINED,
  LS_VAL_NULL,
  LS_VAL_BOOL,
  LS_VAL_INT,
  LS_VAL_DOUBLE,
  LS_VAL_STRING,  /* immutable, NUL-terminated, may contain no NUL */
  LS_VAL_POINTER, /* any pointer; the destructor runs with the last ref */
  LS_VAL_ERROR,   /* code, message, optional cause and aggregated errors */
  LS_VAL_ARRAY,   /* fixed-length list of values (Promise.all results) */
  LS_VAL_PROMISE, /* resolving with one adopts its state */
  LS_VAL_SETTLED, /* one Promise.allSettled outcome: status + value/reason */
  LS_VAL_THENABLE /* foreign "then" object: resolving with one calls it */
} ls_value_type;

typedef struct ls_value {
  uint8_t type;  /* ls_value_type */
  bool thrown;
  union {
    bool b;
    int64_t i;
    double d;
    ls__obj *obj; /* heap kinds */
  } u;
} ls_value;

/* ---- scalars ---- */
static inline ls_value ls_undefined(void) { return (ls_value){.type = LS_VAL_UNDEFINED}; }
static inline ls_value ls_null(void) { return (ls_value){.type = LS_VAL_NULL}; }
static inline ls_value ls_bool(bool b) { return (ls_value){.type = LS_VAL_BOOL, .u.b = b}; }
static inline ls_value ls_int(int64_t i) { return (ls_value){.type = LS_VAL_INT, .u.i = i}; }
static inline ls_value ls_double(double d) { return (ls_value){.type = LS_VAL_DOUBLE, .u.d = d}; }

/* ---- heap kinds (each returns one reference; on out-of-memory they print
 * a message and abort, like a JS engine: a promise layer that could fail to
 * allocate its own error values would have no way to report it) ---- */

/* Copies s. */
ls_value ls_string(const char *s);
ls_value ls_string_n(const char *s, size_t len);
ls_value ls_stringf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Wraps ptr; dtor(ptr) runs when the last reference goes (dtor may be NULL
 * for pointers the value does not own). */
ls_value ls_pointer(void *ptr, void (*dtor)(void *ptr));
/* new Error(message) with a numeric code (use the runtime's negative errno
 * codes, or any number of your own; 0 = none). Copies message. */
ls_value ls_error(int code, const char *message);
ls_value ls_errorf(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Error with a cause (consumed). */
ls_value ls_error_with_cause(int code, const char *message, ls_value cause);
/* AggregateError: `errors` must be an array (consumed). */
ls_value ls_aggregate_error(const char *message, ls_value errors);
/* An array of n undefined slots, to fill with ls_array_set. */
ls_value ls_array_new(size_t n);
/* An array of n items (each consumed). */
ls_value ls_array(ls_value *items, size_t n);
/* Wraps a promise; consumes the caller's promise reference. */
ls_value ls_promise_value(ls_promise *p);
/* An allSettled outcome; consumes v. */
ls_value ls_settled(bool fulfilled, ls_value v);
/* A thenable: an object with a then method, for wrapping another async
 * library. Resolving a promise with it (returning it from a handler or an
 * async function, ls_resolve) calls then(obj, p) from a microtask, like
 * V8's NewPromiseResolveThenableJob; then settles p with ls_resolve /
 * ls_reject, at once or later (ls_promise_ref p to keep it). Returning
 * ls_throw(x) from then rejects p unless then settled it already. dtor(obj)
 * runs with the last reference (dtor may be NULL). */
typedef ls_value (*ls_then_fn)(void *obj, ls_promise *p);
ls_value ls_thenable(void *obj, ls_then_fn then, void (*dtor)(void *obj));

/* ---- references ---- */
ls_value ls_value_ref(ls_value v); /* new reference to the same object */
/* private: whether v holds a counted object (the kinds from LS_VAL_STRING
 * on), and ls_value_drop's work for one */
static inline bool ls__value_is_heap(ls_value v) { return v.type >= LS_VAL_STRING; }
void ls__value_release(ls_value v);
/* Inline because values are mostly scalars, for which there is nothing to
 * do: the call into the library cost more than the work (a Promise.all
 * element made four, and each await in a loop one). The library also
 * exports it (value.c), for calls the compiler does not inline and for
 * programs built before it was inline. */
inline void ls_value_drop(ls_value v) {
  if (v.type >= LS_VAL_STRING) /* ls__value_is_heap: static, not usable here */
    ls__value_release(v);
}

/* ---- throwing ---- */
static inline ls_value ls_throw(ls_value v) { v.thrown = true; return v; }
static inline bool ls_thrown(ls_value v) { return v.thrown; }
/* The value without the flag (`catch (e)`). */
static inline ls_value ls_caught(ls_value v) { v.thrown = false; return v; }

/* ---- inspection (borrowed results) ---- */
static inline ls_value_type ls_type(ls_value v) { return (ls_value_type)v.type; }
static inline bool ls_is_undefined(ls_value v) { return v.type == LS_VAL_UNDEFINED; }
static inline bool ls_is_error(ls_value v) { return v.type == LS_VAL_ERROR; }
const char *ls_type_name(ls_value_type t);
/* Int or double as a number; 0 for other types. */
double ls_as_number(ls_value v);
int64_t ls_as_int(ls_value v);
/* String payload, or NULL if v is not a string. */
const char *ls_str(ls_value v);
size_t ls_str_len(ls_value v); /* 0 if not a string */
void *ls_ptr(ls_value v); /* NULL if not a pointer value */
/* Errors: code (0 if none), message ("" if v is not an error), cause
 * (undefined if none), errors (the array of an aggregate, else undefined). */
int ls_error_code(ls_value v);
const char *ls_error_message(ls_value v);
ls_value ls_error_cause(ls_value v);
ls_value ls_error_errors(ls_value v);
/* Arrays: length (0 if not an array), item i (undefined when out of range).
 * ls_array_set stores item (consumed) at i, dropping what was there. */
size_t ls_array_len(ls_value v);
ls_value ls_array_at(ls_value v, size_t i);
void ls_array_set(ls_value arr, size_t i, ls_value item);
/* Promise inside a LS_VAL_PROMISE value, or NULL. */
ls_promise *ls_as_promise(ls_value v);
/* Settled outcomes: fulfilled?, and the value or reason. */
bool ls_settled_fulfilled(ls_value v);
ls_value ls_settled_value(ls_value v);

/* Writes v like JSON.stringify into buf (always NUL-terminated when n > 0)
 * and returns the length it needed, like snprintf. Errors print as
 * {"name":"Error","code":N,"message":"..."}, settled outcomes as
 * {"status":"fulfilled","value":V} / {"status":"rejected","reason":R},
 * pointers, promises and thenables as "[pointer]" / "[promise]" /
 * "[thenable]", undefined as null. */
size_t ls_value_json(ls_value v, char *buf, size_t n);

#endif
