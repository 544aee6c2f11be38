/* One recording session: the file, the writer thread and its clock.
 * record.c starts and stops sessions; drain.c is the writer thread. */
#ifndef LS_RECORD_SESSION_H
#define LS_RECORD_SESSION_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "clock.h"
#include "loopscope/format.h"
#include "ring.h"
#include "signals.h"

typedef struct ls__session {
  int fd;
  ls_writer *w;
  int wake_fd;        /* read end of the process's wake pipe */
  int ack_fd;         /* answers LS__WAKE_CRASH */
  _Atomic bool stop;  /* set before LS__WAKE_STOP, which a full pipe drops */
  pthread_t thread;
  ls__clock clock;
  bool flight;
  uint64_t window_ns;
  uint64_t pid;
  uint32_t gen;
  int error;          /* first error from the writer; reported by stop */
} ls__session;

/* The registry of rings, newest first. Producers add under the lock; only
 * the writer thread walks it (without the lock) and removes (with it). */
extern ls__ring *_Atomic ls__rings;
extern pthread_mutex_t ls__rings_lock;

void *ls__writer_main(void *session);

#endif
