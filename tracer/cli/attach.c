/* loopscope attach -p PID / loopscope record --ebpf -- PROGRAM: trace an
 * event loop from outside with eBPF (tracer/bpf). */
#define _GNU_SOURCE /* getopt_long, pidfd */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cmd.h"
#include "loopscope/bpf.h"

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig) { stop_signal = sig; }

typedef struct attach_opts {
  const char *cmd;
  const char *out;
  pid_t pid;
  double duration_s;
  ls_bpf_level level;
  uint64_t threshold_ns;
} attach_opts;

static void help_attach(void) {
  printf("usage: loopscope attach -p PID [-o FILE] [--duration S]\n"
         "                        [--level phases|callbacks|full] [--threshold-ms N]\n"
         "\n"
         "Traces the event loop of a running process with eBPF, without changing\n"
         "or restarting it: node (uprobes on libuv's and node's functions) or a\n"
         "program on the loopscope runtime (its USDT probes). Stops on Ctrl-C,\n"
         "SIGTERM, after --duration, or when the process exits; the trace file is\n"
         "complete in every case. Needs root (or CAP_SYS_ADMIN) and kernel BTF.\n"
         "\n"
         "  -p, --pid PID          the process to trace\n"
         "  -o, --output FILE      trace file (default loopscope-PID.fxt)\n"
         "  -d, --duration S       stop after S seconds (default: until stopped)\n"
         "  -l, --level LEVEL      phases: iterations, phases, poll timeout and\n"
         "                           events, timer lateness, blocked-loop marks\n"
         "                         callbacks (default): + I/O callbacks, JS entries,\n"
         "                           close callbacks, microtask checkpoints\n"
         "                         full: + thread-pool work, stream write queues,\n"
         "                           timer starts\n"
         "  -t, --threshold-ms N   blocked-loop mark above N ms (default 50)\n"
         "  -h, --help             this text\n");
}

static void help_record(void) {
  printf("usage: loopscope record --ebpf [-o FILE] [--level LEVEL]\n"
         "                        [--threshold-ms N] [--duration S] -- PROGRAM [ARGS...]\n"
         "\n"
         "Starts PROGRAM (e.g. node app.js, or a script whose #! names node) with\n"
         "eBPF probes attached before its first instruction and traces its event\n"
         "loop until it exits. The program runs unchanged: same output, same exit\n"
         "status (returned by loopscope). Options go in any order before\n"
         "PROGRAM.\n"
         "\n"
         "  -o, --output FILE      trace file (default loopscope.fxt)\n"
         "  -l, --level LEVEL      phases, callbacks (default) or full: see\n"
         "                         'loopscope attach --help'\n"
         "  -t, --threshold-ms N   blocked-loop mark above N ms (default 50)\n"
         "  -d, --duration S       stop tracing after S seconds; the program runs on\n"
         "                         untraced and loopscope waits for it\n"
         "  -h, --help             this text\n"
         "\n"
         "Ctrl-C reaches the program too; SIGTERM to loopscope is passed on to it.\n"
         "Either way the trace is complete once loopscope exits.\n");
}

/* Returns -1 to go on, else an exit code (help printed, or bad usage). */
static int parse(int argc, char **argv, attach_opts *o, bool record) {
  int c;
  char *end;
  optind = 1;
  while ((c = getopt_long(argc, argv, LS_CLI_TRACE_SHORTOPTS,
                          ls_cli_trace_longopts, NULL)) != -1) {
    switch (c) {
    case 'p': {
      long v = strtol(optarg, &end, 10);
      if (record || *end || v <= 0 || v > INT32_MAX)
        return ls_cli_usage(o->cmd, record ? "-p is for 'loopscope attach'"
                                           : "bad pid '%s'", optarg);
      o->pid = (pid_t)v;
      break;
    }
    case 'o': o->out = optarg; break;
    case 'd':
      o->duration_s = strtod(optarg, &end);
      if (*end || !(o->duration_s > 0))
        return ls_cli_usage(o->cmd, "bad duration '%s' (seconds > 0)", optarg);
      break;
    case 'l':
      if (!strcmp(optarg, "phases")) o->level = LS_BPF_PHASES;
      else if (!strcmp(optarg, "callbacks")) o->level = LS_BPF_CALLBACKS;
      else if (!strcmp(optarg, "full")) o->level = LS_BPF_FULL;
      else return ls_cli_usage(o->cmd, "bad level '%s' (phases, callbacks or full)", optarg);
      break;
    case 't': {
      double ms = strtod(optarg, &end);
      if (*end || !(ms > 0))
        return ls_cli_usage(o->cmd, "bad threshold '%s' (milliseconds > 0)", optarg);
      o->threshold_ns = (uint64_t)(ms * 1e6);
      break;
    }
    case 'e': break; /* `record --ebpf`: how we got here */
    case 'F':
      return ls_cli_usage(o->cmd, "--flight is for recording a program on the "
                                  "runtime, not with eBPF");
    case 'h':
      record ? help_record() : help_attach();
      return 0;
    default:
      return ls_cli_usage(o->cmd, "unknown option");
    }
  }
  return -1;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int open_output(const attach_opts *o, int *fd, ls_writer **w) {
  *fd = open(o->out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (*fd < 0)
    return ls_cli_fail(o->cmd, "%s: %s", o->out, strerror(errno));
  int rc = ls_writer_open(w, *fd, 1000000000, "ebpf");
  if (rc < 0) {
    close(*fd);
    return ls_cli_fail(o->cmd, "%s: cannot start the trace (error %d)", o->out, rc);
  }
  return 0;
}

/* Could not start tracing: no trace file is left behind. */
static int abandon_output(const attach_opts *o, ls_writer *w, int fd,
                          const char *err) {
  ls_writer_close(w);
  close(fd);
  unlink(o->out);
  return ls_cli_fail(o->cmd, "%s", err);
}

static void catch_signals(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal; /* no SA_RESTART: poll returns at once */
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
}

/* Drains until a signal, the deadline, or the target's end. child > 0: our
 * own child (when it ends it is reaped here: *reaped, *status); else pidfd. */
static int trace_loop(const attach_opts *o, ls_bpf *b, ls_writer *w,
                      pid_t child, int pidfd, int *status, bool *reaped) {
  double deadline = o->duration_s > 0 ? now_s() + o->duration_s : 0;
  bool tty = isatty(2);
  double last_progress = 0;
  for (;;) {
    int rc = ls_bpf_poll(b, 100);
    if (rc < 0)
      return ls_cli_fail(o->cmd, "reading the BPF ring buffer: %s", strerror(-rc));
    ls_writer_flush(w); /* what is in the file stays readable if we die */
    if (stop_signal)
      return 0;
    if (deadline && now_s() >= deadline)
      return 0;
    if (child > 0) {
      if (waitpid(child, status, WNOHANG) == child) {
        *reaped = true;
        return 0;
      }
    } else if (pidfd >= 0) {
      struct pollfd p = {.fd = pidfd, .events = POLLIN};
      if (poll(&p, 1, 0) == 1)
        return 0;
    } else if (kill(o->pid, 0) < 0 && errno == ESRCH) {
      return 0;
    }
    if (tty && now_s() - last_progress > 0.5) {
      ls_bpf_stats st;
      ls_bpf_get_stats(b, &st);
      fprintf(stderr, "\rloopscope %s: %llu events, %llu lost  ", o->cmd,
              (unsigned long long)st.events, (unsigned long long)st.lost);
      last_progress = now_s();
    }
  }
}

static int finish(const attach_opts *o, ls_bpf *b, ls_writer *w, int fd) {
  ls_bpf_stats st;
  int rc = ls_bpf_close(b, &st);
  int wrc = ls_writer_close(w);
  if (close(fd) < 0 && !wrc)
    wrc = -errno;
  if (isatty(2))
    fputs("\r\033[K", stderr);
  if (rc < 0 || wrc < 0)
    return ls_cli_fail(o->cmd, "%s: writing the trace failed (error %d)", o->out,
                       rc < 0 ? rc : wrc);
  /* the hits are what tracing cost the target: about one trap each */
  fprintf(stderr, "loopscope %s: wrote %s (%llu events from %llu probe hits on "
          "%u probes", o->cmd, o->out, (unsigned long long)st.events,
          (unsigned long long)st.records, st.probes);
  if (st.lost)
    fprintf(stderr, ", %llu LOST: ring buffer full", (unsigned long long)st.lost);
  fprintf(stderr, ")\n");
  return 0;
}

static void describe(const attach_opts *o, const ls_bpf *b) {
  static const char *const levels[] = {"phases", "callbacks", "full"};
  if (ls_bpf_get_mode(b) == LS_BPF_MODE_USDT)
    fprintf(stderr, "loopscope %s: tracing pid %d through the USDT probes in %s\n",
            o->cmd, (int)o->pid, ls_bpf_get_target(b));
  else
    fprintf(stderr, "loopscope %s: tracing pid %d, libuv in %s, level %s\n",
            o->cmd, (int)o->pid, ls_bpf_get_target(b), levels[o->level]);
}

static void log_msg(void *ctx, const char *msg) {
  fprintf(stderr, "loopscope %s: %s\n", (const char *)ctx, msg);
}

int ls_cmd_attach(int argc, char **argv) {
  attach_opts o = {.cmd = "attach", .level = LS_BPF_CALLBACKS};
  char out[64], err[1024];
  int rc = parse(argc, argv, &o, false);
  if (rc >= 0)
    return rc;
  if (optind < argc)
    return ls_cli_usage(o.cmd, "unexpected argument '%s'", argv[optind]);
  if (!o.pid)
    return ls_cli_usage(o.cmd, "which process? (-p PID)");
  if (!o.out) {
    snprintf(out, sizeof(out), "loopscope-%d.fxt", (int)o.pid);
    o.out = out;
  }
  if (ls_bpf_check_system(err, sizeof(err)) < 0)
    return ls_cli_fail(o.cmd, "%s", err);
  if (kill(o.pid, 0) < 0 && errno == ESRCH)
    return ls_cli_fail(o.cmd, "no such process: %d", (int)o.pid);
  /* Learns of the target's exit without polling /proc. */
  int pidfd = (int)syscall(SYS_pidfd_open, o.pid, 0);
  int fd;
  ls_writer *w;
  if ((rc = open_output(&o, &fd, &w)))
    return rc;
  ls_bpf_opts bo = {.pid = o.pid, .level = o.level, .threshold_ns = o.threshold_ns,
                    .log = log_msg, .log_ctx = (void *)o.cmd};
  ls_bpf *b;
  if (ls_bpf_open(&b, &bo, w, err, sizeof(err)) < 0) {
    if (pidfd >= 0)
      close(pidfd);
    return abandon_output(&o, w, fd, err);
  }
  catch_signals();
  o.pid = ls_bpf_get_pid(b);
  describe(&o, b);
  if (isatty(2) && !(o.duration_s > 0))
    fprintf(stderr, "loopscope attach: Ctrl-C to stop\n");
  int status;
  bool reaped = false;
  rc = trace_loop(&o, b, w, 0, pidfd, &status, &reaped);
  if (pidfd >= 0)
    close(pidfd);
  int frc = finish(&o, b, w, fd);
  return rc ? rc : frc;
}

int ls_cmd_record_ebpf(int argc, char **argv) {
  attach_opts o = {.cmd = "record", .out = "loopscope.fxt", .level = LS_BPF_CALLBACKS};
  char err[1024];
  int rc = parse(argc, argv, &o, true);
  if (rc >= 0)
    return rc;
  if (optind >= argc)
    return ls_cli_usage(o.cmd, "which program? (record --ebpf -- PROGRAM ARGS)");
  if (ls_bpf_check_system(err, sizeof(err)) < 0)
    return ls_cli_fail(o.cmd, "%s", err);
  int fd;
  ls_writer *w;
  if ((rc = open_output(&o, &fd, &w)))
    return rc;
  ls_bpf_child child;
  if (ls_bpf_spawn(&child, argv + optind, err, sizeof(err)) < 0)
    return abandon_output(&o, w, fd, err);
  o.pid = child.pid;
  ls_bpf_opts bo = {.pid = child.pid, .exe = child.exe, .level = o.level,
                    .threshold_ns = o.threshold_ns, .log = log_msg,
                    .log_ctx = (void *)o.cmd};
  ls_bpf *b;
  if (ls_bpf_open(&b, &bo, w, err, sizeof(err)) < 0) {
    ls_bpf_spawn_abort(&child);
    return abandon_output(&o, w, fd, err);
  }
  /* Ctrl-C reaches the program too (same process group); we keep tracing
   * until it is gone. SIGTERM to us alone is passed on to it. */
  catch_signals();
  if (isatty(2))
    describe(&o, b);
  if (ls_bpf_spawn_go(&child, err, sizeof(err)) < 0) {
    ls_bpf_close(b, NULL);
    return abandon_output(&o, w, fd, err);
  }
  int status = 0;
  bool reaped = false;
  rc = trace_loop(&o, b, w, child.pid, -1, &status, &reaped);
  if (!rc && stop_signal && !reaped) {
    /* Stopped by a signal: pass it on and trace the program's end, for a
     * while (it may ignore the signal). */
    kill(child.pid, stop_signal);
    stop_signal = 0;
    o.duration_s = 5;
    rc = trace_loop(&o, b, w, child.pid, -1, &status, &reaped);
  }
  int frc = finish(&o, b, w, fd);
  /* --duration ran out: the program goes on untraced; wait for it. */
  if (!reaped)
    waitpid(child.pid, &status, 0);
  if (rc || frc)
    return rc ? rc : frc;
  if (WIFSIGNALED(status))
    return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}
