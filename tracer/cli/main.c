/* loopscope: dispatches to one subcommand per file (cmd.h), perf style. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cmd.h"

#if !defined(LS_HAVE_BPF)
/* Without the eBPF part, attach and record --ebpf explain why they cannot
 * run instead of vanishing from the command line. */
int ls_cmd_attach(int argc, char **argv) {
  (void)argc, (void)argv;
  return ls_cli_fail("attach",
                     "loopscope was built without eBPF support (LS_BPF=OFF)");
}

int ls_cmd_record_ebpf(int argc, char **argv) {
  (void)argc, (void)argv;
  return ls_cli_fail("record",
                     "loopscope was built without eBPF support (LS_BPF=OFF)");
}
#endif

#if !defined(LS_HAVE_VIEW)
int ls_cmd_view(int argc, char **argv) {
  (void)argc, (void)argv;
  return ls_cli_fail("view", "loopscope was built without the viewer "
                             "(tracer/cli/view.c missing); export the trace "
                             "with 'loopscope export' and open it in Perfetto");
}
#endif

typedef struct ls__command {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *summary;
} ls__command;

static const ls__command commands[] = {
    {"record", ls_cmd_record, "run a program on the runtime and trace it"},
    {"attach", ls_cmd_attach, "trace a running process with eBPF"},
    {"view", ls_cmd_view, "open a trace in the timeline viewer"},
    {"report", ls_cmd_report, "phases, callbacks, timer lateness, utilisation"},
    {"dump", ls_cmd_dump, "print a trace, one line per event"},
    {"export", ls_cmd_export, "convert a trace to Chrome JSON (Perfetto)"},
    {"import", ls_cmd_import, "convert Chrome/Perfetto/node JSON to a trace"},
    {"run", ls_cmd_run, "run a bundled example program"},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *out) {
  fprintf(out,
          "usage: loopscope COMMAND [ARGS]\n"
          "\n"
          "loopscope shows what an event loop is doing: record a program on\n"
          "the bundled runtime (or attach to node with eBPF), then view,\n"
          "report on or export the trace.\n"
          "\n"
          "commands:\n");
  for (size_t i = 0; i < NCOMMANDS; i++)
    fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
  fprintf(out,
          "\n"
          "'loopscope help COMMAND' or 'loopscope COMMAND --help' for more.\n"
          "Exit status: 0 success, 1 failure, 2 bad usage.\n");
}

static const ls__command *find(const char *name) {
  for (size_t i = 0; i < NCOMMANDS; i++)
    if (strcmp(commands[i].name, name) == 0)
      return &commands[i];
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  const char *name = argv[1];
  if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
    usage(stdout);
    return 0;
  }
  if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
    printf("loopscope %s\n", LS_CLI_VERSION);
    return 0;
  }
  if (strcmp(name, "help") == 0) {
    if (argc < 3) {
      usage(stdout);
      return 0;
    }
    const ls__command *c = find(argv[2]);
    if (!c)
      return ls_cli_usage(NULL, "no command '%s'", argv[2]);
    char *help_argv[] = {argv[2], "--help", NULL};
    return c->run(2, help_argv);
  }
  const ls__command *c = find(name);
  if (!c) {
    fprintf(stderr, "loopscope: no command '%s'\n\n", name);
    usage(stderr);
    return 2;
  }
  return c->run(argc - 1, argv + 1);
}
