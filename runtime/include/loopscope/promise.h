/* Promises with Node's (V8's) exact microtask timing.
 *
 * A promise is pending, then fulfilled with a value or rejected with a
 * reason, once. Reactions (then / catch / finally, await, combinators) run
 * as jobs on the loop's microtask queue (microtask.h), never synchronously,
 * in the order they were queued. The hop counts are V8's:
 *   - a reaction to a settled promise runs 1 microtask later;
 *   - resolving a promise with another promise (returning one from a
 *     handler or an async function, ls_resolve(p, promise)) costs 2 more:
 *     one job to call then on it (NewPromiseResolveThenableJob) and one for
 *     that then's reaction;
 *   - resolving with a foreign thenable (value.h) calls its then from a
 *     job: 1 hop, then whenever it settles the promise;
 *   - finally(fn) is then(x => resolve(fn()).then(() => x)), with the hops
 *     that implies.
 *
 * Ownership (see value.h for values):
 *   - every function returning an ls_promise * gives the caller ONE
 *     reference; release it with ls_promise_unref() or pass it on;
 *   - ls_then / ls_catch / ls_finally CONSUME the reference to the promise
 *     they are called on and return a reference to the new one, so chains
 *     read like JS:
 *         ls_promise_unref(ls_then(ls_then(p, f, NULL, a), g, NULL, b));
 *     take ls_promise_ref(p) first to keep using p;
 *   - a pending promise stays alive while something can still settle it
 *     (a reaction's derived promise is held by its source, a sleep by its
 *     timer, ...). A pending promise nobody references is freed with its
 *     reactions, which then never run: what a garbage collector would do.
 *   - `arg` pointers are the caller's; the promise layer never frees them.
 *
 * Callbacks return the outcome: a value (owned) fulfils the derived
 * promise, ls_throw(reason) rejects it, a promise or thenable value is
 * adopted.
 *
 * Tracing (category "promise", vocab.h): created (arg = parent promise id),
 * resolved, rejected, handled late, unhandled instants with id = promise id;
 * each reaction is a microtask job, so the trace shows a flow from the
 * settling point (or the then on a settled promise) to the microtask slice
 * that runs it, labelled "then", "catch", "finally", "await", "adopt", ...
 */
#ifndef LOOPSCOPE_PROMISE_H
#define LOOPSCOPE_PROMISE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "loopscope/loop.h"
#include "loopscope/value.h"

typedef enum ls_promise_state {
  LS_PENDING,
  LS_FULFILLED,
  LS_REJECTED
} ls_promise_state;

/* Reaction callback: value is borrowed; return the outcome (owned). */
typedef ls_value (*ls_promise_cb)(ls_value value, void *arg);
/* new Promise(executor): runs synchronously with the new promise (borrowed;
 * ls_promise_ref it to settle it later). Returning ls_throw(x) rejects the
 * promise unless it was already resolved; any other return is dropped. */
typedef ls_value (*ls_executor_cb)(ls_promise *promise, void *arg);
/* finally(fn): gets no value; ls_throw(x) or a rejected promise replaces
 * the outcome, anything else passes the original outcome through. */
typedef ls_value (*ls_finally_cb)(void *arg);

/* ---- creating and settling ---- */
/* A pending promise for the caller to settle (a "deferred"). */
ls_promise *ls_promise_new(ls_loop *loop);
ls_promise *ls_promise_create(ls_loop *loop, ls_executor_cb executor, void *arg);
/* Promise.resolve(v) (a promise value is returned as is, a thenable is
 * adopted: its then is called from a microtask) and
 * Promise.reject(reason). Both consume their value. */
ls_promise *ls_promise_resolved(ls_loop *loop, ls_value v);
ls_promise *ls_promise_rejected(ls_loop *loop, ls_value reason);
/* The resolve / reject functions of a promise: only the first call of
 * either counts (later ones drop their value). Resolving with a promise
 * value adopts its eventual state; resolving a promise with itself rejects
 * it with a "chaining cycle" error. Both consume their value. */
void ls_resolve(ls_promise *p, ls_value v);
void ls_reject(ls_promise *p, ls_value reason);

/* ---- reactions ---- */
/* p.then(on_fulfilled, on_rejected); a NULL callback passes the outcome
 * through. Consumes the reference to p. */
ls_promise *ls_then(ls_promise *p, ls_promise_cb on_fulfilled,
                    ls_promise_cb on_rejected, void *arg);
ls_promise *ls_catch(ls_promise *p, ls_promise_cb on_rejected, void *arg);
ls_promise *ls_finally(ls_promise *p, ls_finally_cb fn, void *arg);

/* ---- references and inspection ---- */
ls_promise *ls_promise_ref(ls_promise *p);
void ls_promise_unref(ls_promise *p);
ls_promise_state ls_promise_state_of(const ls_promise *p);
/* The value or reason (borrowed); undefined while pending. */
ls_value ls_promise_result(const ls_promise *p);
/* Never 0; drawn from the loop's async ids. */
uint64_t ls_promise_id(const ls_promise *p);
ls_loop *ls_promise_loop(const ls_promise *p);
/* Whether a reaction was ever attached (the unhandled-rejection check). */
bool ls_promise_handled(const ls_promise *p);

/* ---- combinators (items: promise values or plain values, all consumed;
 * a plain value counts as an already fulfilled promise) ---- */
/* Fulfils with an array in input order; rejects with the first rejection.
 * all of nothing is already fulfilled with []. */
ls_promise *ls_promise_all(ls_loop *loop, ls_value *items, size_t n);
/* Fulfils with an array of ls_settled outcomes; never rejects. */
ls_promise *ls_promise_all_settled(ls_loop *loop, ls_value *items, size_t n);
/* Settles like the first item to settle; race of nothing stays pending. */
ls_promise *ls_promise_race(ls_loop *loop, ls_value *items, size_t n);
/* Fulfils with the first fulfilment; when every item rejects, rejects with
 * an AggregateError ("All promises were rejected") whose errors are the
 * reasons in input order (any of nothing rejects at once). */
ls_promise *ls_promise_any(ls_loop *loop, ls_value *items, size_t n);

/* ---- unhandled rejections (Node's --unhandled-rejections) ----
 * A promise rejected with no handler is checked after the microtask queue
 * drains (the loop's after-microtasks hook); if a handler was attached in
 * the meantime nothing happens. Otherwise, by mode:
 *   THROW  (default) the unhandled hook runs; if there is none, or it
 *          returns false, the reason goes to stderr and the process ends
 *          the way an uncaught error ends Node: exit code 1, queued timers,
 *          immediates, ticks and microtasks never run (ls_loop_fail).
 *   STRICT the reason goes to stderr and the process ends as above, hook or
 *          not.
 *   WARN   the hook runs and a warning always goes to stderr.
 *   NONE   the hook runs, nothing is printed.
 * A handler attached to an already reported promise runs the handled hook
 * (Node's 'rejectionHandled') after the next drain, or prints a warning
 * when there is no handled hook. The environment variable
 * LOOPSCOPE_UNHANDLED_REJECTIONS=throw|strict|warn|none sets the initial
 * mode of each loop. */
typedef enum ls_rejection_mode {
  LS_REJECTIONS_THROW,
  LS_REJECTIONS_STRICT,
  LS_REJECTIONS_WARN,
  LS_REJECTIONS_NONE
} ls_rejection_mode;

/* reason is borrowed; return true when the rejection was dealt with. */
typedef bool (*ls_unhandled_cb)(ls_promise *p, ls_value reason, void *arg);
typedef void (*ls_handled_cb)(ls_promise *p, void *arg);

void ls_promise_set_rejection_mode(ls_loop *loop, ls_rejection_mode mode);
ls_rejection_mode ls_promise_rejection_mode(ls_loop *loop);
/* Parses "throw", "strict", "warn", "none"; -1 on anything else. */
int ls_rejection_mode_parse(const char *s, ls_rejection_mode *mode);
/* process.on('unhandledRejection') / ('rejectionHandled'); NULL removes. */
void ls_promise_on_unhandled(ls_loop *loop, ls_unhandled_cb cb, void *arg);
void ls_promise_on_handled(ls_loop *loop, ls_handled_cb cb, void *arg);

/* ---- promisified runtime calls ---- */
/* setTimeout as a promise (timers/promises setTimeout): fulfils with
 * undefined after ms (Node's delay coercion applies). */
ls_promise *ls_sleep(ls_loop *loop, double ms);
/* setImmediate as a promise (timers/promises setImmediate): fulfils with
 * undefined in the next check phase. */
ls_promise *ls_immediate_promise(ls_loop *loop);
/* fs.promises.readFile(path): fulfils with a string value holding the file's
 * bytes (ls_str_len gives the length, the bytes may contain NULs); rejects
 * with an error value whose code is the runtime's error code and whose
 * message reads like Node's ("ENOENT: no such file or directory, open
 * 'path'"). */
ls_promise *ls_read_file(ls_loop *loop, const char *path);
/* fs.promises.stat(path): fulfils with a pointer value to a struct stat
 * (ls_ptr; freed with the value); rejects like ls_read_file ("..., stat
 * 'path'"). */
ls_promise *ls_stat(ls_loop *loop, const char *path);

/* util.promisify for the runtime's callback shape. start() begins a
 * callback-style operation and returns 0, or a negative error code if it
 * could not start (the promise then rejects with that code). The operation's
 * callback settles the promise with ls_promisify_done(). start gets a
 * borrowed promise; the operation holds that reference until done. */
typedef int (*ls_promisify_start)(ls_loop *loop, ls_promise *p, void *arg);
ls_promise *ls_promisify(ls_loop *loop, ls_promisify_start start, void *arg);
/* Settles a promisified operation: result < 0 rejects with an error value
 * for that code ("<what>: <message>"), otherwise fulfils with value
 * (consumed; dropped on rejection). Releases the operation's reference. */
void ls_promisify_done(ls_promise *p, ssize_t result, const char *what, ls_value value);

#endif
