/* The wake pipe and the signals the recorder answers.
 *
 * Signal handlers only write a byte to the wake pipe, which the writer
 * thread polls (async-signal-safe): SIGUSR2 asks the flight recorder for its
 * window; a crash signal (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT) asks for
 * a last drain or dump, and its handler waits up to LS__CRASH_WAIT_MS for
 * the writer's answer on the ack pipe before the signal takes its default
 * course. Crash handlers are only installed over the default disposition,
 * so a program's (or a sanitizer's) own handlers stay in charge. */
#ifndef LS_RECORD_SIGNALS_H
#define LS_RECORD_SIGNALS_H

#include <stdatomic.h>
#include <stdbool.h>

/* Bytes written to the wake pipe. */
#define LS__WAKE_DUMP 'd'  /* SIGUSR2: write the flight recorder's window */
#define LS__WAKE_CRASH 'c' /* write everything now, then ack */
#define LS__WAKE_STOP 'q'

#define LS__CRASH_WAIT_MS 2000

/* Creates the pipes, once per process; they are never closed, so a signal
 * racing with a stop cannot write into a reused descriptor. */
int ls__signals_init(void);
/* For a new session: forgets stale wake-ups and acks, installs handlers. */
void ls__signals_install(bool flight);
void ls__signals_restore(void);

void ls__wake(char c);
int ls__wake_fd(void); /* read end, polled by the writer thread */
int ls__ack_fd(void);  /* write end, one byte per LS__WAKE_CRASH handled */

/* The writer thread's tid: a crash on that thread cannot wait for it. */
extern _Atomic int ls__writer_tid;

#endif
