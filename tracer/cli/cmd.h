/* The loopscope subcommands: one file each (tracer/cli/<name>.c), uftrace
 * style. Each returns the process exit code: 0 success, 1 runtime failure,
 * 2 bad usage, and prints its own --help. */
#ifndef LOOPSCOPE_CLI_CMD_H
#define LOOPSCOPE_CLI_CMD_H

int ls_cmd_record(int argc, char **argv);
int ls_cmd_attach(int argc, char **argv);  /* tracer/cli/attach.c (eBPF) */
int ls_cmd_view(int argc, char **argv);    /* tracer/cli/view.c: runs loopscope-view */
int ls_cmd_export(int argc, char **argv);
int ls_cmd_import(int argc, char **argv);
int ls_cmd_dump(int argc, char **argv);
int ls_cmd_report(int argc, char **argv);
int ls_cmd_run(int argc, char **argv);

/* `loopscope record --ebpf -o FILE -- PROGRAM ARGS` is handled by attach.c. */
int ls_cmd_record_ebpf(int argc, char **argv);

#endif
