/* loopscope record: run a program on the runtime with tracing on.
 *
 * The runtime starts recording at load time when LOOPSCOPE_TRACE names a
 * file (tracer/record/include/loopscope/trace.h), so recording is just an
 * environment for the child; afterwards we check that the file reads. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "cmd.h"

static void help(void) {
  printf(
      "usage: loopscope record [-o FILE] [--flight SECONDS] -- PROGRAM [ARGS]\n"
      "       loopscope record --ebpf [-o FILE] [--level LEVEL] ... -- PROGRAM [ARGS]\n"
      "\n"
      "Runs PROGRAM, a program built on the loopscope runtime, with tracing\n"
      "on (LOOPSCOPE_TRACE=FILE), waits for it and exits with its status.\n"
      "Then checks the trace and prints events, bytes and lost events.\n"
      "\n"
      "  -o, --output FILE   trace file (default: loopscope.fxt)\n"
      "  -F, --flight SECS   flight recorder: keep only the last SECS seconds,\n"
      "                      written at exit or on SIGUSR2\n"
      "      --ebpf          trace with eBPF probes instead (any program,\n"
      "                      node included; needs root or CAP_SYS_ADMIN);\n"
      "                      its options (--level, --threshold-ms,\n"
      "                      --duration): 'loopscope record --ebpf --help'\n"
      "  -h, --help          this help\n");
}

static int summarise(const char *cmd, const char *out) {
  ls_reader *r;
  char err[1024];
  if (ls_reader_open(&r, out, err, sizeof err) != 0)
    return ls_cli_fail(cmd, "%s", err);
  ls_record rec;
  uint64_t events = 0, lost = 0;
  int status;
  while ((status = ls_reader_next(r, &rec)) == LS_FMT_OK) {
    if (rec.kind == LS_REC_EVENT)
      events++;
    else if (rec.kind == LS_REC_LOST)
      lost += rec.count;
  }
  int rc = ls_cli_finish_trace(cmd, out, r, status);
  fprintf(stderr, "loopscope %s: %s: %llu events, %llu bytes, %llu lost\n",
          cmd, out, (unsigned long long)events,
          (unsigned long long)ls_reader_size(r), (unsigned long long)lost);
  ls_reader_close(r);
  return rc;
}

int ls_cli_record_program(const char *cmd, const char *out, double flight_s,
                          char **argv) {
  struct stat st;
  /* A stale file would pass the check below when the program does not
   * trace at all (not built on the runtime). */
  if (stat(out, &st) == 0 && S_ISREG(st.st_mode) && unlink(out) != 0)
    return ls_cli_fail(cmd, "%s: cannot replace: %s", out, strerror(errno));

  /* Like system(): the terminal's ^C goes to the program; we stay to
   * summarise what it recorded. */
  struct sigaction ign = {.sa_handler = SIG_IGN}, old_int, old_quit;
  sigaction(SIGINT, &ign, &old_int);
  sigaction(SIGQUIT, &ign, &old_quit);
  pid_t pid = fork();
  if (pid < 0) {
    int e = errno;
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGQUIT, &old_quit, NULL);
    return ls_cli_fail(cmd, "fork: %s", strerror(e));
  }
  if (pid == 0) {
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGQUIT, &old_quit, NULL);
    setenv("LOOPSCOPE_TRACE", out, 1);
    if (flight_s > 0) {
      char window[32];
      snprintf(window, sizeof window, "%g", flight_s);
      setenv("LOOPSCOPE_TRACE_MODE", "flight", 1);
      setenv("LOOPSCOPE_TRACE_WINDOW", window, 1);
    }
    execvp(argv[0], argv);
    fprintf(stderr, "loopscope %s: cannot run %s: %s\n", cmd, argv[0],
            strerror(errno));
    _exit(127);
  }
  int wstatus;
  while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR)
    ;
  sigaction(SIGINT, &old_int, NULL);
  sigaction(SIGQUIT, &old_quit, NULL);
  int code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus)
                                : 128 + WTERMSIG(wstatus);
  if (WIFEXITED(wstatus) && code == 127 && stat(out, &st) != 0)
    return code; /* could not exec: already said why */
  if (WIFSIGNALED(wstatus))
    fprintf(stderr, "loopscope %s: %s killed by signal %d\n", cmd, argv[0],
            WTERMSIG(wstatus));
  if (stat(out, &st) != 0) {
    ls_cli_fail(cmd,
                "%s was not written: is %s built on the loopscope runtime? "
                "(for other programs, node included, use --ebpf or "
                "'loopscope attach')",
                out, argv[0]);
    return code ? code : 1;
  }
  int rc = summarise(cmd, out);
  return code ? code : rc;
}

int ls_cmd_record(int argc, char **argv) {
  const char *out = "loopscope.fxt", *flight_arg = NULL, *ebpf_only = NULL;
  bool ebpf = false, want_help = false;
  int c;
  optind = 1;
  /* One pass over every option of both modes: --ebpf may come anywhere
   * among them, and hands them all to attach.c, which parses them again. */
  while ((c = getopt_long(argc, argv, LS_CLI_TRACE_SHORTOPTS,
                          ls_cli_trace_longopts, NULL)) != -1) {
    switch (c) {
    case 'o':
      out = optarg;
      break;
    case 'F':
      flight_arg = optarg;
      break;
    case 'e':
      ebpf = true;
      break;
    case 'd':
    case 'l':
    case 't':
      ebpf_only = c == 'd' ? "--duration" : c == 'l' ? "--level" : "--threshold-ms";
      break;
    case 'p':
      return ls_cli_usage("record", "-p is for 'loopscope attach'");
    case 'h':
      want_help = true;
      break;
    default:
      return ls_cli_usage("record", "unknown option");
    }
  }
  if (ebpf)
    return ls_cmd_record_ebpf(argc, argv);
  if (want_help) {
    help();
    return 0;
  }
  if (ebpf_only)
    return ls_cli_usage("record", "%s is an eBPF option: add --ebpf",
                        ebpf_only);
  double flight = 0;
  if (flight_arg) {
    char *end;
    flight = strtod(flight_arg, &end);
    if (*end || !(flight > 0 && flight < 1e6))
      return ls_cli_usage("record", "bad --flight '%s' (seconds > 0)",
                          flight_arg);
  }
  if (optind >= argc)
    return ls_cli_usage("record", "expected a PROGRAM to run");
  return ls_cli_record_program("record", out, flight, argv + optind);
}
