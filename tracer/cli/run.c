/* loopscope run: the bundled example programs (runtime/examples), found
 * next to this binary in the build tree: build/tracer/cli/loopscope ->
 * build/runtime/examples/. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "cmd.h"

static void help(void) {
  printf(
      "usage: loopscope run [-o TRACE] EXAMPLE [ARGS]\n"
      "       loopscope run --list\n"
      "\n"
      "Runs one of the example programs built with the runtime (one per\n"
      "idea of async programming: timers, promises, streams, ...).\n"
      "\n"
      "  -l, --list          list the examples\n"
      "  -o, --output TRACE  record it (like 'loopscope record -o TRACE')\n"
      "  -h, --help          this help\n");
}

static int examples_dir(char *buf, size_t len) {
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n < 0)
    return ls_cli_fail("run", "/proc/self/exe: %s", strerror(errno));
  self[n] = 0;
  /* BUILD/tracer/cli/loopscope -> BUILD */
  char *build = dirname(dirname(dirname(self)));
  snprintf(buf, len, "%s/runtime/examples", build);
  struct stat st;
  if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode))
    return ls_cli_fail("run",
                       "%s: no examples there (run loopscope from its build "
                       "tree, after building the runtime)",
                       buf);
  return 0;
}

static bool is_example(const char *dir, const char *name) {
  char path[PATH_MAX + 256];
  struct stat st;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  return name[0] != '.' && stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
         (st.st_mode & S_IXUSR);
}

static int by_name(const struct dirent **a, const struct dirent **b) {
  return strcmp((*a)->d_name, (*b)->d_name);
}

static int list(const char *dir) {
  struct dirent **ents;
  int n = scandir(dir, &ents, NULL, by_name);
  if (n < 0)
    return ls_cli_fail("run", "%s: %s", dir, strerror(errno));
  for (int i = 0; i < n; i++) {
    if (is_example(dir, ents[i]->d_name))
      printf("%s\n", ents[i]->d_name);
    free(ents[i]);
  }
  free(ents);
  return 0;
}

int ls_cmd_run(int argc, char **argv) {
  static const struct option longopts[] = {
      {"list", no_argument, NULL, 'l'},
      {"output", required_argument, NULL, 'o'},
      {"help", no_argument, NULL, 'h'},
      {0}};
  const char *trace = NULL;
  bool want_list = false;
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "+lo:h", longopts, NULL)) != -1) {
    switch (c) {
    case 'l':
      want_list = true;
      break;
    case 'o':
      trace = optarg;
      break;
    case 'h':
      help();
      return 0;
    default:
      return ls_cli_usage("run", "unknown option");
    }
  }
  if (!want_list && optind >= argc)
    return ls_cli_usage("run", "expected an EXAMPLE (see --list)");
  char dir[PATH_MAX];
  if (examples_dir(dir, sizeof dir))
    return 1;
  if (want_list)
    return list(dir);
  const char *name = argv[optind];
  if (strchr(name, '/') || !is_example(dir, name))
    return ls_cli_fail("run", "no example '%s' in %s (see --list)", name, dir);
  char path[PATH_MAX + 256];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  argv[optind] = path;
  if (trace)
    return ls_cli_record_program("run", trace, 0, argv + optind);
  execv(path, argv + optind);
  return ls_cli_fail("run", "cannot run %s: %s", path, strerror(errno));
}
