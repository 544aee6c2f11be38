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

/* Bytes written to the wake pipe. */
#define LS__WAKE_DUMP 'd' /* SIGUSR2: write the flight recorder's window */
#define LS__WAKE_STOP 'q'

#define LS__SCRATCH_SLOTS 4096 /* flight mode: slots copied per step */

typedef struct ls__session {
  int fd;
  ls_writer *w;
  int wake_fd;        /* read end of the process's wake pipe */
  pthread_t thread;
  ls__clock clock;
  bool flight;
  uint64_t window_ns;
  uint64_t pid;
  uint32_t gen;
  int error;          /* first error from the writer; reported by stop */
  ls__slot *scratch;  /* flight mode: slots copied out of a ring */
} ls__session;

/* The registry of rings, newest first. Producers add under the lock; only
 * the writer thread walks it (without the lock) and removes (with it). */
extern ls__ring *_Atomic ls__rings;
extern pthread_mutex_t ls__rings_lock;

void *ls__writer_main(void *session);

#endif
